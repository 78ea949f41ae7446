/*
 * cpu_conv.c — CONV2D: y = act(conv(x, w) + bias) + residual.
 *
 * Layouts (NCHW, as PyTorch): x[N,C,H,W], w[O,C,kh,kw], bias[O]?,
 * residual[N,O,Ho,Wo]?, y[N,O,Ho,Wo] with
 *   Ho = (H + pad_top + pad_bottom - kh) / stride + 1  (same for Wo),
 * zero padding on each of the four sides separately (the VAE encoder's
 * downsampling conv pads (0,1,0,1) with stride 2).
 *
 * Per image the convolution is one GEMM: y_n[O, Ho·Wo] = w[O, C·kh·kw] ·
 * col[C·kh·kw, Ho·Wo], where col is the im2col unfolding of x_n. A 1×1,
 * stride-1, unpadded conv needs no unfolding (col is x_n itself). Otherwise
 * col is built in the workspace for a band of output rows at a time, so the
 * workspace stays bounded: a band holds as many rows as fit in
 * CPU_CONV_COL_BYTES (16 MiB), at least one. For SD1.5 at 512² the largest
 * UNet conv (320→320 3×3 on 64×64: C·kh·kw = 2880, Ho·Wo = 4096) would need
 * 47 MB unbanded; banded it uses 22 rows → 2880 × 1408 × 4 B = 16.2 MB.
 * The VAE decoder's 3×3 convs at 512² (up to 512 channels) would need 2.4–4.8 GB
 * unbanded; banded they use ≤ 16 MiB (3 and 1 rows of 512).
 *
 * An INT8 weight (kernels/quant.h, the int8w rung) is dequantised a tile of
 * output channels at a time (cpu_q8_dequant_tile) into the workspace after
 * the im2col band, and each tile is one sgemm into its rows of y.
 *
 * Threads: im2col of a band is split over the pool (by rows of col); the
 * GEMM runs on the calling thread with OpenBLAS's threads; the epilogue (bias,
 * activation, residual) runs over the pool by (image, channel) plane.
 */
#include <cblas.h>
#include <string.h>
#include "kernels/cpu/cpu_kernels.h"
#include "base/error.h"

static bool conv_needs_col(const t2i_tensor *w, const t2i_attr_conv2d *c)
{
    int s = c->stride > 0 ? c->stride : 1;
    return !(w->ne[2] == 1 && w->ne[3] == 1 && s == 1 && c->pad_top == 0 && c->pad_left == 0 &&
             c->pad_bottom == 0 && c->pad_right == 0);
}

int64_t cpu_conv_tile_rows(int64_t ckk, int64_t ho, int64_t wo)
{
    int64_t row_bytes = ckk * wo * (int64_t)sizeof(float);
    int64_t rows = (int64_t)CPU_CONV_COL_BYTES / row_bytes;
    if (rows < 1) rows = 1;
    return rows < ho ? rows : ho;
}

size_t cpu_conv_workspace(const t2i_tensor *x, const t2i_tensor *w, const t2i_tensor *y, const t2i_attr_conv2d *c)
{
    (void)x;
    size_t q8 = cpu_q8_workspace(w);   /* the dequantised tile, after the im2col band */
    if (!conv_needs_col(w, c)) return q8;
    int64_t ckk = w->ne[1] * w->ne[2] * w->ne[3];
    return (size_t)(ckk * cpu_conv_tile_rows(ckk, y->ne[2], y->ne[3]) * y->ne[3]) * sizeof(float) + q8;
}

/* ---- im2col of one band of output rows ------------------------------------ */

typedef struct col_ctx {
    const float *x;          /* one image [C,H,W] */
    float *col;              /* [C·kh·kw, (r1-r0)·Wo] */
    int64_t H, W, kh, kw, wo, r0, r1, ckk, rows_per_chunk;
    int s, pt, pl;
} col_ctx;

static void im2col_task(void *vctx, int64_t t, int tid)
{
    (void)tid;
    const col_ctx *c = vctx;
    int64_t q0 = t * c->rows_per_chunk, q1 = q0 + c->rows_per_chunk < c->ckk ? q0 + c->rows_per_chunk : c->ckk;
    int64_t cols = (c->r1 - c->r0) * c->wo;
    for (int64_t q = q0; q < q1; q++) {
        int64_t ch = q / (c->kh * c->kw), ki = (q / c->kw) % c->kh, kj = q % c->kw;
        const float *xc = c->x + ch * c->H * c->W;
        float *dst = c->col + q * cols;
        /* output columns ox whose input column ix = ox·s - pl + kj is inside */
        int64_t ox_lo = 0, ox_hi = c->wo;   /* [ox_lo, ox_hi) */
        while (ox_lo < c->wo && ox_lo * c->s - c->pl + kj < 0) ox_lo++;
        while (ox_hi > ox_lo && (ox_hi - 1) * c->s - c->pl + kj >= c->W) ox_hi--;
        for (int64_t oy = c->r0; oy < c->r1; oy++, dst += c->wo) {
            int64_t iy = oy * c->s - c->pt + ki;
            if (iy < 0 || iy >= c->H || ox_lo >= ox_hi) {
                memset(dst, 0, (size_t)c->wo * sizeof *dst);
                continue;
            }
            int64_t base = iy * c->W - c->pl + kj;   /* x index of ox = 0 (may be < 0) */
            for (int64_t ox = 0; ox < ox_lo; ox++) dst[ox] = 0.0f;
            if (c->s == 1) {
                memcpy(dst + ox_lo, xc + base + ox_lo, (size_t)(ox_hi - ox_lo) * sizeof *dst);
            } else {
                for (int64_t ox = ox_lo; ox < ox_hi; ox++) dst[ox] = xc[base + ox * c->s];
            }
            for (int64_t ox = ox_hi; ox < c->wo; ox++) dst[ox] = 0.0f;
        }
    }
}

/* ---- epilogue over (image, output channel) planes -------------------------- */

typedef struct epi_ctx {
    float *y;
    const float *bias, *res;
    int64_t o, plane;
    t2i_act act;
} epi_ctx;

static void epilogue_task(void *vctx, int64_t p, int tid)
{
    (void)tid;
    const epi_ctx *c = vctx;
    float *y = c->y + p * c->plane;
    if (c->bias) {
        float b = c->bias[p % c->o];
        for (int64_t j = 0; j < c->plane; j++) y[j] += b;
    }
    cpu_act_inplace(y, c->plane, c->act);
    if (c->res) {
        const float *r = c->res + p * c->plane;
        for (int64_t j = 0; j < c->plane; j++) y[j] += r[j];
    }
}

t2i_status cpu_op_conv2d(t2i_backend *be, const t2i_op_args *a)
{
    const t2i_tensor *x = a->in[0], *w = a->in[1], *yt = a->out;
    const t2i_attr_conv2d *at = &a->node->attr.conv2d;
    int64_t N = x->ne[0], C = x->ne[1], H = x->ne[2], W = x->ne[3];
    int64_t O = w->ne[0], kh = w->ne[2], kw = w->ne[3];
    int64_t Ho = yt->ne[2], Wo = yt->ne[3], ckk = C * kh * kw;
    const float *xd = a->in_data[0], *wd = a->in_data[1];
    float *yd = a->out_data;
    int threads = cpu_threads_of(be);

    const bool q8 = w->dtype == T2I_I8;
    const int64_t otile = q8 ? cpu_q8_tile_rows(O, ckk) : O;
    if (!conv_needs_col(w, at)) {
        float *tile = a->workspace;
        for (int64_t o0 = 0; o0 < O; o0 += otile) {
            int64_t o1 = o0 + otile < O ? o0 + otile : O;
            const float *wt = wd + o0 * C;
            if (q8) {
                T2I_ASSERT((size_t)(otile * C) * sizeof(float) <= a->workspace_bytes);
                cpu_q8_dequant_tile(be, a->in_data[1], O, C, o0, o1, tile);
                wt = tile;
            }
            for (int64_t n = 0; n < N; n++)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(o1 - o0), (int)(H * W), (int)C, 1.0f,
                            wt, (int)C, xd + n * C * H * W, (int)(H * W), 0.0f, yd + (n * O + o0) * Ho * Wo,
                            (int)(Ho * Wo));
        }
    } else {
        int64_t band = cpu_conv_tile_rows(ckk, Ho, Wo);
        size_t col_bytes = (size_t)(ckk * band * Wo) * sizeof(float);
        T2I_ASSERT(col_bytes + (q8 ? (size_t)(otile * ckk) * sizeof(float) : 0) <= a->workspace_bytes);
        float *tile = (float *)((char *)a->workspace + col_bytes);
        col_ctx c = {.H = H, .W = W, .kh = kh, .kw = kw, .wo = Wo, .ckk = ckk, .col = a->workspace,
                     .s = at->stride > 0 ? at->stride : 1, .pt = at->pad_top, .pl = at->pad_left};
        for (int64_t n = 0; n < N; n++) {
            c.x = xd + n * C * H * W;
            for (c.r0 = 0; c.r0 < Ho; c.r0 += band) {
                c.r1 = c.r0 + band < Ho ? c.r0 + band : Ho;
                int64_t cols = (c.r1 - c.r0) * Wo;
                int64_t chunks = cpu_chunks(ckk * cols, 32768, threads);
                if (chunks > ckk) chunks = ckk;
                c.rows_per_chunk = (ckk + chunks - 1) / chunks;
                cpu_parallel_for(cpu_pool_of(be), (ckk + c.rows_per_chunk - 1) / c.rows_per_chunk, im2col_task, &c);
                for (int64_t o0 = 0; o0 < O; o0 += otile) {
                    int64_t o1 = o0 + otile < O ? o0 + otile : O;
                    const float *wt = wd + o0 * ckk;
                    if (q8) {
                        cpu_q8_dequant_tile(be, a->in_data[1], O, ckk, o0, o1, tile);
                        wt = tile;
                    }
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(o1 - o0), (int)cols, (int)ckk,
                                1.0f, wt, (int)ckk, c.col, (int)cols, 0.0f,
                                yd + (n * O + o0) * Ho * Wo + c.r0 * Wo, (int)(Ho * Wo));
                }
            }
        }
    }
    epi_ctx e = {yd, a->in_data[2], a->in_data[3], O, Ho * Wo, at->act};
    if (e.bias || e.res || e.act != T2I_ACT_NONE) cpu_parallel_for(cpu_pool_of(be), N * O, epilogue_task, &e);
    return T2I_OK;
}
