/* cpu_quant.c — per-output-channel INT8 weights (the format is in kernels/quant.h). */
#include <math.h>
#include "kernels/quant.h"
#include "kernels/cpu/cpu_kernels.h"

void t2i_q8_quantize_rows(const float *w, int64_t n, int64_t k, void *dst)
{
    int8_t *q = dst;
    float *scale = (float *)((char *)dst + t2i_q8_scales_offset((size_t)(n * k)));
    for (int64_t r = 0; r < n; r++) {
        const float *row = w + r * k;
        float amax = 0.0f;
        for (int64_t j = 0; j < k; j++) amax = fmaxf(amax, fabsf(row[j]));
        float s = amax > 0.0f ? amax / 127.0f : 1.0f;
        scale[r] = s;
        for (int64_t j = 0; j < k; j++) {
            float v = roundf(row[j] / s);
            q[r * k + j] = (int8_t)(v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v);
        }
    }
}

void t2i_q8_dequantize_rows(const void *q8, int64_t n, int64_t k, int64_t r0, int64_t r1, float *out)
{
    const int8_t *q = q8;
    const float *scale = (const float *)((const char *)q8 + t2i_q8_scales_offset((size_t)(n * k)));
    for (int64_t r = r0; r < r1; r++) {
        const int8_t *src = q + r * k;
        float s = scale[r], *dst = out + (r - r0) * k;
        for (int64_t j = 0; j < k; j++) dst[j] = (float)src[j] * s;
    }
}

/* ---- the CPU kernels' dequantised tiles (cpu_kernels.h) ------------------ */

int64_t cpu_q8_tile_rows(int64_t n, int64_t k)
{
    int64_t rows = (int64_t)(CPU_Q8_TILE_BYTES / ((size_t)k * sizeof(float)));
    if (rows < 1) rows = 1;
    return rows < n ? rows : n;
}

size_t cpu_q8_workspace(const t2i_tensor *w)
{
    if (w->dtype != T2I_I8) return 0;
    int64_t n = w->ne[0], k = t2i_tensor_numel(w) / n;
    return (size_t)(cpu_q8_tile_rows(n, k) * k) * sizeof(float);
}

typedef struct dq_ctx {
    const void *q8;
    float *out;
    int64_t n, k, r0, r1, rows_per_chunk;
} dq_ctx;

static void dequant_task(void *vctx, int64_t i, int tid)
{
    (void)tid;
    const dq_ctx *c = vctx;
    int64_t a = c->r0 + i * c->rows_per_chunk, b = a + c->rows_per_chunk < c->r1 ? a + c->rows_per_chunk : c->r1;
    t2i_q8_dequantize_rows(c->q8, c->n, c->k, a, b, c->out + (a - c->r0) * c->k);
}

void cpu_q8_dequant_tile(t2i_backend *be, const void *q8, int64_t n, int64_t k, int64_t r0, int64_t r1,
                         float *out)
{
    int64_t rows = r1 - r0, chunks = cpu_chunks(rows * k, 65536, cpu_threads_of(be));
    if (chunks > rows) chunks = rows;
    dq_ctx c = {q8, out, n, k, r0, r1, (rows + chunks - 1) / chunks};
    cpu_parallel_for(cpu_pool_of(be), (rows + c.rows_per_chunk - 1) / c.rows_per_chunk, dequant_task, &c);
}
