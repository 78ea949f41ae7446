/*
 * cpu_layout.c — ops that move data without arithmetic: EMBEDDING, UPSAMPLE,
 * PIXEL_UNSHUFFLE, CONCAT, TO_TOKENS, FROM_TOKENS, SLICE.
 *
 * EMBEDDING   ids[B,L] (I32), table[V,C] -> [B,L,C]: row gather. The one
 *             kernel that validates data: an id outside [0,V) is
 *             T2I_ERR_INVALID_ARG naming the id and its position.
 * UPSAMPLE    [N,C,H,W] -> [N,C,2H,2W], nearest: y[2i+a][2j+b] = x[i][j].
 * PIXEL_UNSHUFFLE [N,C,H,W] -> [N,C·r²,H/r,W/r]: each input plane becomes r²
 *             consecutive output planes, so a plane is one task.
 * CONCAT      along any axis: viewed as [outer, ne[axis]·inner] for each
 *             input, the output row is a's row followed by b's.
 * TO_TOKENS   [N,C,H,W] -> [N,HW,C]: a per-image transpose of [C,HW],
 *             done in 32×32 tiles so both sides stay in cache.
 * FROM_TOKENS [N,HW,C] -> [N,C,HW]: the inverse transpose.
 * SLICE       x[..., start:start+len, ...] along `axis`: [outer, len·inner]
 *             rows copied from [outer, ne[axis]·inner].
 *
 * The pool takes (image, channel) planes or outer rows; small tensors run on
 * the caller.
 */
#include <string.h>
#include "kernels/cpu/cpu_kernels.h"
#include "base/error.h"

#define GRAIN 32768

/* ---- EMBEDDING ------------------------------------------------------------ */

t2i_status cpu_op_embedding(t2i_backend *be, const t2i_op_args *a)
{
    (void)be;
    const int32_t *ids = a->in_data[0];
    const float *table = a->in_data[1];
    float *y = a->out_data;
    int64_t n = t2i_tensor_numel(a->in[0]);
    int64_t V = a->in[1]->ne[0], C = a->in[1]->ne[1];
    for (int64_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || id >= V)
            return t2i_fail(T2I_ERR_INVALID_ARG, "%s (embedding): id %d at position %lld is outside the table of %lld rows",
                            a->node->name ? a->node->name : "?", (int)id, (long long)i, (long long)V);
        memcpy(y + i * C, table + (int64_t)id * C, (size_t)C * sizeof *y);
    }
    return T2I_OK;
}

/* ---- UPSAMPLE ------------------------------------------------------------- */

typedef struct plane_ctx { const float *x; float *y; int64_t h, w, c; } plane_ctx;

static void upsample_task(void *vctx, int64_t p, int tid)
{
    (void)tid;
    const plane_ctx *c = vctx;
    int64_t H = c->h, W = c->w;
    const float *x = c->x + p * H * W;
    float *y = c->y + p * 4 * H * W;
    for (int64_t i = 0; i < H; i++) {
        float *r0 = y + (2 * i) * 2 * W;
        for (int64_t j = 0; j < W; j++) r0[2 * j] = r0[2 * j + 1] = x[i * W + j];
        memcpy(r0 + 2 * W, r0, (size_t)(2 * W) * sizeof *y);
    }
}

t2i_status cpu_op_upsample(t2i_backend *be, const t2i_op_args *a)
{
    const t2i_tensor *x = a->in[0];
    plane_ctx c = {a->in_data[0], a->out_data, x->ne[2], x->ne[3], 0};
    cpu_parallel_for(cpu_pool_of(be), x->ne[0] * x->ne[1], upsample_task, &c);
    return T2I_OK;
}

/* ---- PIXEL_UNSHUFFLE: y[n][c·r²+i·r+j][h][w] = x[n][c][h·r+i][w·r+j] --------- */

typedef struct unshuffle_ctx { const float *x; float *y; int64_t h, w; int r; } unshuffle_ctx;

static void unshuffle_task(void *vctx, int64_t p, int tid)   /* p: one input plane (n, c) */
{
    (void)tid;
    const unshuffle_ctx *c = vctx;
    int r = c->r;
    int64_t H = c->h, W = c->w, Ho = H / r, Wo = W / r;
    const float *x = c->x + p * H * W;
    float *y = c->y + p * H * W;     /* the r² output planes of this input plane */
    for (int i = 0; i < r; i++)
        for (int j = 0; j < r; j++) {
            float *yp = y + (int64_t)(i * r + j) * Ho * Wo;
            for (int64_t h = 0; h < Ho; h++)
                for (int64_t w = 0; w < Wo; w++) yp[h * Wo + w] = x[(h * r + i) * W + w * r + j];
        }
}

t2i_status cpu_op_pixel_unshuffle(t2i_backend *be, const t2i_op_args *a)
{
    const t2i_tensor *x = a->in[0];
    unshuffle_ctx c = {a->in_data[0], a->out_data, x->ne[2], x->ne[3], a->node->attr.factor.r};
    cpu_parallel_for(cpu_pool_of(be), x->ne[0] * x->ne[1], unshuffle_task, &c);
    return T2I_OK;
}

/* ---- TO_TOKENS / FROM_TOKENS: per-image transposes ----------------------- */

/* y[j][i] = x[i][j] for x [rows, cols], tiled. */
static void transpose(const float *x, float *y, int64_t rows, int64_t cols)
{
    enum { T = 32 };
    for (int64_t i0 = 0; i0 < rows; i0 += T)
        for (int64_t j0 = 0; j0 < cols; j0 += T) {
            int64_t i1 = i0 + T < rows ? i0 + T : rows, j1 = j0 + T < cols ? j0 + T : cols;
            for (int64_t i = i0; i < i1; i++)
                for (int64_t j = j0; j < j1; j++) y[j * rows + i] = x[i * cols + j];
        }
}

/* Task p transposes one band of 32 rows of image p / bands. */
typedef struct tr_ctx { const float *x; float *y; int64_t rows, cols, bands; } tr_ctx;

static void transpose_task(void *vctx, int64_t p, int tid)
{
    (void)tid;
    const tr_ctx *c = vctx;
    int64_t img = p / c->bands, band = p % c->bands;
    int64_t r0 = band * 32, r1 = r0 + 32 < c->rows ? r0 + 32 : c->rows;
    const float *x = c->x + img * c->rows * c->cols;
    float *y = c->y + img * c->rows * c->cols;
    /* rows r0..r1 of x land in columns r0..r1 of y (row stride c->rows) */
    for (int64_t j0 = 0; j0 < c->cols; j0 += 32) {
        int64_t j1 = j0 + 32 < c->cols ? j0 + 32 : c->cols;
        for (int64_t i = r0; i < r1; i++)
            for (int64_t j = j0; j < j1; j++) y[j * c->rows + i] = x[i * c->cols + j];
    }
}

static void batched_transpose(t2i_backend *be, const float *x, float *y, int64_t n, int64_t rows, int64_t cols)
{
    if (n * rows * cols < GRAIN) {
        for (int64_t i = 0; i < n; i++) transpose(x + i * rows * cols, y + i * rows * cols, rows, cols);
        return;
    }
    tr_ctx c = {x, y, rows, cols, (rows + 31) / 32};
    cpu_parallel_for(cpu_pool_of(be), n * c.bands, transpose_task, &c);
}

t2i_status cpu_op_to_tokens(t2i_backend *be, const t2i_op_args *a)
{
    const t2i_tensor *x = a->in[0];
    batched_transpose(be, a->in_data[0], a->out_data, x->ne[0], x->ne[1], x->ne[2] * x->ne[3]);
    return T2I_OK;
}

t2i_status cpu_op_from_tokens(t2i_backend *be, const t2i_op_args *a)
{
    const t2i_tensor *x = a->in[0];
    batched_transpose(be, a->in_data[0], a->out_data, x->ne[0], x->ne[1], x->ne[2]);
    return T2I_OK;
}

/* ---- CONCAT / SLICE: strided row copies ----------------------------------- */

/* For each of `outer` rows: copy `len` floats from src + r*src_stride + src_off
 * to dst + r*dst_stride + dst_off. */
typedef struct copy_ctx {
    const float *src;
    float *dst;
    int64_t outer, len, src_stride, src_off, dst_stride, dst_off, rows_per_chunk;
} copy_ctx;

static void copy_task(void *vctx, int64_t i, int tid)
{
    (void)tid;
    const copy_ctx *c = vctx;
    int64_t r0 = i * c->rows_per_chunk, r1 = r0 + c->rows_per_chunk < c->outer ? r0 + c->rows_per_chunk : c->outer;
    for (int64_t r = r0; r < r1; r++)
        memcpy(c->dst + r * c->dst_stride + c->dst_off, c->src + r * c->src_stride + c->src_off,
               (size_t)c->len * sizeof(float));
}

static void strided_copy(t2i_backend *be, copy_ctx c)
{
    int64_t chunks = cpu_chunks(c.outer * c.len, GRAIN, cpu_threads_of(be));
    if (chunks > c.outer) chunks = c.outer;
    c.rows_per_chunk = (c.outer + chunks - 1) / chunks;
    cpu_parallel_for(cpu_pool_of(be), (c.outer + c.rows_per_chunk - 1) / c.rows_per_chunk, copy_task, &c);
}

static void outer_inner(const t2i_tensor *t, int axis, int64_t *outer, int64_t *inner)
{
    *outer = 1;
    *inner = 1;
    for (int d = 0; d < axis; d++) *outer *= t->ne[d];
    for (int d = axis + 1; d < t->ndim; d++) *inner *= t->ne[d];
}

t2i_status cpu_op_concat(t2i_backend *be, const t2i_op_args *a)
{
    int ax = a->node->attr.axis.axis;
    int64_t outer, inner;
    outer_inner(a->out, ax, &outer, &inner);
    int64_t la = a->in[0]->ne[ax] * inner, lb = a->in[1]->ne[ax] * inner, lo = la + lb;
    strided_copy(be, (copy_ctx){a->in_data[0], a->out_data, outer, la, la, 0, lo, 0, 0});
    strided_copy(be, (copy_ctx){a->in_data[1], a->out_data, outer, lb, lb, 0, lo, la, 0});
    return T2I_OK;
}

t2i_status cpu_op_slice(t2i_backend *be, const t2i_op_args *a)
{
    const t2i_attr_slice *s = &a->node->attr.slice;
    int64_t outer, inner;
    outer_inner(a->in[0], s->axis, &outer, &inner);
    int64_t src_row = a->in[0]->ne[s->axis] * inner, len = (int64_t)s->len * inner;
    strided_copy(be, (copy_ctx){a->in_data[0], a->out_data, outer, len, src_row, (int64_t)s->start * inner, len, 0, 0});
    return T2I_OK;
}
