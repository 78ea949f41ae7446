/*
 * cpu_gemm.c — LINEAR: y = act(x·wᵀ + bias) + residual.
 *
 * Layouts (row-major, as torch.nn.Linear stores them):
 *   x[..., K]   viewed as M×K with M = product of all leading dims
 *   w[N, K]     so x·wᵀ is sgemm(NoTrans, Trans) with no copy of w
 *   bias[N]?, residual[..., N]? (same shape as y), y[..., N] viewed as M×N
 *
 * The GEMM runs on the calling thread through OpenBLAS, which uses its own
 * threads (the pool is idle meanwhile). The epilogue (bias, activation,
 * residual) is one pass over y in pool row chunks while OpenBLAS is idle, so
 * the two never compete for cores. No workspace, except for an INT8 weight
 * (kernels/quant.h: the int8w rung): its output channels are dequantised a
 * tile at a time into the workspace (cpu_q8_dequant_tile, over the pool)
 * and each tile is one sgemm into its columns of y.
 */
#include <cblas.h>
#include "kernels/cpu/cpu_kernels.h"
#include "base/error.h"

typedef struct epi_ctx {
    float *y;
    const float *bias, *res;
    int64_t rows, n, rows_per_chunk;
    t2i_act act;
} epi_ctx;

static void epilogue_task(void *vctx, int64_t i, int tid)
{
    (void)tid;
    const epi_ctx *c = vctx;
    int64_t r0 = i * c->rows_per_chunk, r1 = r0 + c->rows_per_chunk < c->rows ? r0 + c->rows_per_chunk : c->rows;
    int64_t N = c->n;
    for (int64_t r = r0; r < r1; r++) {
        float *y = c->y + r * N;
        if (c->bias)
            for (int64_t j = 0; j < N; j++) y[j] += c->bias[j];
        cpu_act_inplace(y, N, c->act);
        if (c->res) {
            const float *res = c->res + r * N;
            for (int64_t j = 0; j < N; j++) y[j] += res[j];
        }
    }
}

t2i_status cpu_op_linear(t2i_backend *be, const t2i_op_args *a)
{
    int64_t K = a->in[1]->ne[1], N = a->in[1]->ne[0];
    int64_t M = t2i_tensor_numel(a->in[0]) / K;
    float *y = a->out_data;
    if (a->in[1]->dtype == T2I_I8) {
        /* INT8 weight: a tile of output channels at a time back to FP32,
         * then y[:, n0:n1] = x · tileᵀ */
        int64_t tile = cpu_q8_tile_rows(N, K);
        T2I_ASSERT((size_t)(tile * K) * sizeof(float) <= a->workspace_bytes);
        for (int64_t n0 = 0; n0 < N; n0 += tile) {
            int64_t n1 = n0 + tile < N ? n0 + tile : N;
            cpu_q8_dequant_tile(be, a->in_data[1], N, K, n0, n1, a->workspace);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)(n1 - n0), (int)K, 1.0f,
                        a->in_data[0], (int)K, a->workspace, (int)K, 0.0f, y + n0, (int)N);
        }
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)N, (int)K, 1.0f, a->in_data[0], (int)K,
                    a->in_data[1], (int)K, 0.0f, y, (int)N);
    }
    epi_ctx c = {y, a->in_data[2], a->in_data[3], M, N, 0, a->node->attr.linear.act};
    if (!c.bias && !c.res && c.act == T2I_ACT_NONE) return T2I_OK;
    int64_t chunks = cpu_chunks(M * N, 16384, cpu_threads_of(be));
    if (chunks > M) chunks = M;
    c.rows_per_chunk = (M + chunks - 1) / chunks;
    cpu_parallel_for(cpu_pool_of(be), (M + c.rows_per_chunk - 1) / c.rows_per_chunk, epilogue_task, &c);
    return T2I_OK;
}
