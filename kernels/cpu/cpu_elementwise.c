/*
 * cpu_elementwise.c — ACT, ADD, MUL, SCALE_ADD, GEGLU, TIMESTEP on FP32.
 *
 * ACT      y = act(x), any shape.
 * ADD/MUL  c = a ⊕ b with numpy broadcasting of b against a aligned at the
 *          last dim (b may have fewer dims; size-1 dims broadcast). The
 *          broadcast is classified once per call:
 *            - b's non-1 dims form one contiguous run of a's dims → every
 *              output row is either "a row op the vector b" (run at the end:
 *              same shape, per-row bias [C] against [B,L,C]) or "a row op one
 *              scalar of b" (run not at the end: per-channel [C,1,1] or
 *              [1,C,1,1] against [N,C,H,W]);
 *            - anything else (b = [C,1,W]) goes through a generic strided loop.
 * SCALE_ADD c = alpha·a + b, same shapes (ESRGAN residual scaling).
 * GEGLU    x[...,2D] -> x[...,:D] * gelu_erf(x[...,D:]) (diffusers GEGLU:
 *          hidden, gate = proj(x).chunk(2, dim=-1); hidden * gelu(gate)).
 * TIMESTEP t[B] -> [B,dim], diffusers get_timestep_embedding with scale 1
 *          and max_period 10000, rounded to float32 at the same steps as
 *          torch does (see timestep_row).
 *
 * Work is split into contiguous chunks of rows/elements for the pool; tensors
 * under ~32K elements run on the caller alone.
 */
#include <math.h>
#include <string.h>
#include "kernels/cpu/cpu_kernels.h"
#include "base/error.h"

#define GRAIN 32768

/* ---- ACT ----------------------------------------------------------------- */

typedef struct act_ctx { const float *x; float *y; int64_t n, chunk; t2i_act act; } act_ctx;

static void act_task(void *vctx, int64_t i, int tid)
{
    (void)tid;
    const act_ctx *c = vctx;
    int64_t b = i * c->chunk, e = b + c->chunk < c->n ? b + c->chunk : c->n;
    const float *x = c->x;
    float *y = c->y;
    switch (c->act) {   /* the switch outside the loop lets each loop vectorise */
    case T2I_ACT_NONE:
        if (x != y) memcpy(y + b, x + b, (size_t)(e - b) * sizeof *y);
        break;
    case T2I_ACT_SILU:
        for (int64_t j = b; j < e; j++) y[j] = cpu_act1(x[j], T2I_ACT_SILU);
        break;
    case T2I_ACT_GELU:
        for (int64_t j = b; j < e; j++) y[j] = cpu_act1(x[j], T2I_ACT_GELU);
        break;
    case T2I_ACT_GELU_TANH:
        for (int64_t j = b; j < e; j++) y[j] = cpu_act1(x[j], T2I_ACT_GELU_TANH);
        break;
    case T2I_ACT_QUICK_GELU:
        for (int64_t j = b; j < e; j++) y[j] = cpu_act1(x[j], T2I_ACT_QUICK_GELU);
        break;
    case T2I_ACT_LEAKY_RELU:
        for (int64_t j = b; j < e; j++) y[j] = cpu_act1(x[j], T2I_ACT_LEAKY_RELU);
        break;
    }
}

/* Serial in-place activation, used inside other kernels' epilogue tasks. */
void cpu_act_inplace(float *y, int64_t n, t2i_act act)
{
    if (act == T2I_ACT_NONE) return;
    act_ctx c = {y, y, n, n, act};
    act_task(&c, 0, 0);
}

t2i_status cpu_op_act(t2i_backend *be, const t2i_op_args *a)
{
    int64_t n = t2i_tensor_numel(a->out);
    int64_t chunks = cpu_chunks(n, GRAIN, cpu_threads_of(be));
    act_ctx c = {a->in_data[0], a->out_data, n, (n + chunks - 1) / chunks, a->node->attr.act.act};
    cpu_parallel_for(cpu_pool_of(be), chunks, act_task, &c);
    return T2I_OK;
}

/* ---- ADD / MUL ----------------------------------------------------------- */

typedef enum bkind { B_VECTOR, B_SCALAR_PER_ROW, B_GENERIC } bkind;

typedef struct binary_ctx {
    const float *a, *b;
    float *c;
    bool mul;
    bkind kind;
    int64_t rows, row_len, mid;      /* B_VECTOR / B_SCALAR_PER_ROW */
    int64_t rows_per_chunk;
    /* B_GENERIC: a's shape padded to 4 dims and b's strides in that space */
    int64_t ne[4], bstride[4];
    int64_t n, chunk;
} binary_ctx;

static void binary_task(void *vctx, int64_t i, int tid)
{
    (void)tid;
    const binary_ctx *c = vctx;
    if (c->kind == B_GENERIC) {
        int64_t b = i * c->chunk, e = b + c->chunk < c->n ? b + c->chunk : c->n;
        for (int64_t j = b; j < e; j++) {
            int64_t r = j, off = 0;
            for (int d = 3; d >= 0; d--) {
                off += (r % c->ne[d]) * c->bstride[d];
                r /= c->ne[d];
            }
            c->c[j] = c->mul ? c->a[j] * c->b[off] : c->a[j] + c->b[off];
        }
        return;
    }
    int64_t r0 = i * c->rows_per_chunk, r1 = r0 + c->rows_per_chunk < c->rows ? r0 + c->rows_per_chunk : c->rows;
    int64_t L = c->row_len;
    for (int64_t r = r0; r < r1; r++) {
        const float *x = c->a + r * L;
        float *y = c->c + r * L;
        if (c->kind == B_VECTOR) {
            const float *v = c->b;
            if (c->mul) for (int64_t j = 0; j < L; j++) y[j] = x[j] * v[j];
            else        for (int64_t j = 0; j < L; j++) y[j] = x[j] + v[j];
        } else {
            float s = c->b[r % c->mid];
            if (c->mul) for (int64_t j = 0; j < L; j++) y[j] = x[j] * s;
            else        for (int64_t j = 0; j < L; j++) y[j] = x[j] + s;
        }
    }
}

static t2i_status binary(t2i_backend *be, const t2i_op_args *a, bool mul)
{
    const t2i_tensor *ta = a->in[0], *tb = a->in[1];
    int nd = ta->ndim, off = ta->ndim - tb->ndim;
    /* b's dims aligned to a's: bd[d] = 1 for the missing leading ones. */
    int64_t bd[T2I_MAX_DIMS];
    int lo = -1, hi = -1;
    for (int d = 0; d < nd; d++) {
        bd[d] = d < off ? 1 : tb->ne[d - off];
        if (bd[d] != 1) {
            if (lo < 0) lo = d;
            hi = d;
        }
    }
    bool contiguous_run = true;
    for (int d = lo; lo >= 0 && d <= hi; d++)
        if (bd[d] != ta->ne[d]) contiguous_run = false;

    binary_ctx c = {.a = a->in_data[0], .b = a->in_data[1], .c = a->out_data, .mul = mul};
    int64_t n = t2i_tensor_numel(ta);
    int threads = cpu_threads_of(be);
    if (contiguous_run) {
        int64_t mid = 1, inner = 1;
        for (int d = lo; lo >= 0 && d <= hi; d++) mid *= ta->ne[d];
        for (int d = (lo >= 0 ? hi + 1 : nd); d < nd; d++) inner *= ta->ne[d];
        if (lo < 0) inner = n;  /* b is a single scalar */
        if (inner == 1 || (lo >= 0 && hi == nd - 1)) {
            c.kind = B_VECTOR;
            c.row_len = mid;
        } else {
            c.kind = B_SCALAR_PER_ROW;
            c.row_len = inner;
        }
        c.mid = mid;
        c.rows = n / c.row_len;
        int64_t chunks = cpu_chunks(n, GRAIN, threads);
        if (chunks > c.rows) chunks = c.rows;
        c.rows_per_chunk = (c.rows + chunks - 1) / chunks;
        chunks = (c.rows + c.rows_per_chunk - 1) / c.rows_per_chunk;
        cpu_parallel_for(cpu_pool_of(be), chunks, binary_task, &c);
        return T2I_OK;
    }
    c.kind = B_GENERIC;
    int64_t stride = 1;
    for (int d = 3; d >= 0; d--) {
        int sd = d - (4 - nd);   /* the dim of a this padded dim stands for */
        c.ne[d] = sd >= 0 ? ta->ne[sd] : 1;
        int64_t bdim = sd >= 0 ? bd[sd] : 1;
        c.bstride[d] = bdim == 1 ? 0 : stride;
        stride *= bdim;
    }
    c.n = n;
    int64_t chunks = cpu_chunks(n, GRAIN, threads);
    c.chunk = (n + chunks - 1) / chunks;
    cpu_parallel_for(cpu_pool_of(be), chunks, binary_task, &c);
    return T2I_OK;
}

t2i_status cpu_op_add(t2i_backend *be, const t2i_op_args *a) { return binary(be, a, false); }
t2i_status cpu_op_mul(t2i_backend *be, const t2i_op_args *a) { return binary(be, a, true); }

/* ---- SCALE_ADD ------------------------------------------------------------- */

typedef struct scale_add_ctx { const float *a, *b; float *c; float alpha; int64_t n, chunk; } scale_add_ctx;

static void scale_add_task(void *vctx, int64_t i, int tid)
{
    (void)tid;
    const scale_add_ctx *c = vctx;
    int64_t b = i * c->chunk, e = b + c->chunk < c->n ? b + c->chunk : c->n;
    for (int64_t j = b; j < e; j++) c->c[j] = c->a[j] * c->alpha + c->b[j];
}

t2i_status cpu_op_scale_add(t2i_backend *be, const t2i_op_args *a)
{
    int64_t n = t2i_tensor_numel(a->out);
    int64_t chunks = cpu_chunks(n, GRAIN, cpu_threads_of(be));
    scale_add_ctx c = {a->in_data[0], a->in_data[1], a->out_data, a->node->attr.scale.alpha, n,
                       (n + chunks - 1) / chunks};
    cpu_parallel_for(cpu_pool_of(be), chunks, scale_add_task, &c);
    return T2I_OK;
}

/* ---- GEGLU --------------------------------------------------------------- */

typedef struct geglu_ctx { const float *x; float *y; int64_t rows, d, rows_per_chunk; } geglu_ctx;

static void geglu_task(void *vctx, int64_t i, int tid)
{
    (void)tid;
    const geglu_ctx *c = vctx;
    int64_t r0 = i * c->rows_per_chunk, r1 = r0 + c->rows_per_chunk < c->rows ? r0 + c->rows_per_chunk : c->rows;
    int64_t D = c->d;
    for (int64_t r = r0; r < r1; r++) {
        const float *h = c->x + r * 2 * D, *g = h + D;
        float *y = c->y + r * D;
        for (int64_t j = 0; j < D; j++) y[j] = h[j] * cpu_act1(g[j], T2I_ACT_GELU);
    }
}

t2i_status cpu_op_geglu(t2i_backend *be, const t2i_op_args *a)
{
    int64_t d = a->out->ne[a->out->ndim - 1];
    int64_t rows = t2i_tensor_numel(a->out) / d;
    int64_t chunks = cpu_chunks(rows * d, GRAIN, cpu_threads_of(be));
    if (chunks > rows) chunks = rows;
    geglu_ctx c = {a->in_data[0], a->out_data, rows, d, (rows + chunks - 1) / chunks};
    cpu_parallel_for(cpu_pool_of(be), (rows + c.rows_per_chunk - 1) / c.rows_per_chunk, geglu_task, &c);
    return T2I_OK;
}

/* ---- TIMESTEP ------------------------------------------------------------ */

/* diffusers, in float32 tensors:
 *   exponent = -math.log(10000) * arange(half) / (half - shift)
 *   emb = t[:, None] * exp(exponent)[None, :];  cat([sin, cos]) (flip: [cos, sin])
 * Python floats meet float32 tensors as float32 scalars, and every tensor op
 * rounds to float32, so each step is rounded here the same way; exp, sin and
 * cos are evaluated in double and rounded once (torch's float32 versions are
 * within 1 ulp of that). */
static void timestep_row(float t, const t2i_attr_timestep *at, float *y)
{
    int half = at->dim / 2;
    const float neg_log = (float)-9.210340371976184;          /* -ln(10000) */
    const float denom = (float)((double)half - (double)at->freq_shift);
    for (int i = 0; i < half; i++) {
        float e = (neg_log * (float)i) / denom;
        float freq = (float)exp((double)e);
        float arg = t * freq;
        float s = (float)sin((double)arg), co = (float)cos((double)arg);
        y[i] = at->flip_sin_to_cos ? co : s;
        y[half + i] = at->flip_sin_to_cos ? s : co;
    }
    if (at->dim % 2) y[at->dim - 1] = 0.0f;
}

t2i_status cpu_op_timestep(t2i_backend *be, const t2i_op_args *a)
{
    (void)be;
    const t2i_attr_timestep *at = &a->node->attr.timestep;
    const float *t = a->in_data[0];
    float *y = a->out_data;
    for (int64_t b = 0; b < a->in[0]->ne[0]; b++) timestep_row(t[b], at, y + b * at->dim);
    return T2I_OK;
}
