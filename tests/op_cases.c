/*
 * op_cases.c — the shared op cases and the references in double (see
 * op_cases.h for who runs them and the two tolerance rules).
 *
 * A new op in graph/ops.def needs a reference here, ref_<name> (the table
 * at the end is generated from ops.def, so a missing one fails to compile),
 * and at least one case that is not sd_size (test_cpu_ops fails otherwise).
 * The references are plain loops over logical, row-major shapes, written
 * from the op's definition in ops.def, not from a kernel.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/op_cases.h"

/* ---- references ------------------------------------------------------------------ */

#define IN_T(i) (&g->tensors[n->in[i]])
#define IN_F(i) ((const float *)in[i])
#define OUT_T (&g->tensors[n->out])

double t2i_act_ref(double x, t2i_act act)
{
    switch (act) {
    case T2I_ACT_NONE: return x;
    case T2I_ACT_SILU: return x / (1.0 + exp(-x));
    case T2I_ACT_GELU: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    case T2I_ACT_GELU_TANH: return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    case T2I_ACT_QUICK_GELU: return x / (1.0 + exp(-1.702 * x));
    case T2I_ACT_LEAKY_RELU: return x >= 0 ? x : 0.2 * x;
    }
    return x;
}

static void ref_embedding(const t2i_graph *g, const t2i_node *n, const void *const *in, double *out)
{
    const int32_t *ids = in[0];
    int64_t C = IN_T(1)->ne[1], L = t2i_tensor_numel(IN_T(0));
    for (int64_t i = 0; i < L; i++)
        for (int64_t j = 0; j < C; j++) out[i * C + j] = IN_F(1)[ids[i] * C + j];
}

/* act(x·wᵀ + bias) + residual */
static void ref_linear(const t2i_graph *g, const t2i_node *n, const void *const *in, double *out)
{
    const float *x = IN_F(0), *w = IN_F(1), *b = n->n_in > 2 ? IN_F(2) : NULL, *r = n->n_in > 3 ? IN_F(3) : NULL;
    int64_t K = IN_T(1)->ne[1], N = IN_T(1)->ne[0], M = t2i_tensor_numel(IN_T(0)) / K;
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double acc = b ? b[j] : 0.0;
            for (int64_t k = 0; k < K; k++) acc += (double)x[i * K + k] * w[j * K + k];
            out[i * N + j] = t2i_act_ref(acc, n->attr.linear.act) + (r ? r[i * N + j] : 0.0);
        }
}

static void ref_conv2d(const t2i_graph *g, const t2i_node *n, const void *const *in, double *out)
{
    const t2i_attr_conv2d *a = &n->attr.conv2d;
    const float *x = IN_F(0), *w = IN_F(1), *b = n->n_in > 2 ? IN_F(2) : NULL, *r = n->n_in > 3 ? IN_F(3) : NULL;
    int64_t N = IN_T(0)->ne[0], C = IN_T(0)->ne[1], H = IN_T(0)->ne[2], W = IN_T(0)->ne[3];
    int64_t O = IN_T(1)->ne[0], kh = IN_T(1)->ne[2], kw = IN_T(1)->ne[3], Ho = OUT_T->ne[2], Wo = OUT_T->ne[3];
    int s = a->stride > 0 ? a->stride : 1;
    for (int64_t b0 = 0; b0 < N; b0++)
        for (int64_t o = 0; o < O; o++)
            for (int64_t oy = 0; oy < Ho; oy++)
                for (int64_t ox = 0; ox < Wo; ox++) {
                    double acc = b ? b[o] : 0.0;
                    for (int64_t ch = 0; ch < C; ch++)
                        for (int64_t i = 0; i < kh; i++)
                            for (int64_t j = 0; j < kw; j++) {
                                int64_t iy = oy * s - a->pad_top + i, ix = ox * s - a->pad_left + j;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                acc += (double)x[((b0 * C + ch) * H + iy) * W + ix] * w[((o * C + ch) * kh + i) * kw + j];
                            }
                    int64_t idx = ((b0 * O + o) * Ho + oy) * Wo + ox;
                    out[idx] = t2i_act_ref(acc, a->act) + (r ? r[idx] : 0.0);
                }
}

/* (x - mean) / sqrt(var + eps) · gamma + beta over m values of stride 1;
 * the channel of value i is ch0 + i / per_ch. */
static void normalize(const float *x, int64_t m, int64_t per_ch, int64_t ch0, const float *gamma, const float *beta,
                      float eps, t2i_act act, double *out)
{
    double mean = 0, var = 0;
    for (int64_t i = 0; i < m; i++) mean += x[i];
    mean /= (double)m;
    for (int64_t i = 0; i < m; i++) var += (x[i] - mean) * (x[i] - mean);
    var /= (double)m;
    for (int64_t i = 0; i < m; i++) {
        int64_t ch = ch0 + i / per_ch;
        out[i] = t2i_act_ref((x[i] - mean) / sqrt(var + eps) * gamma[ch] + beta[ch], act);
    }
}

static void ref_groupnorm(const t2i_graph *g, const t2i_node *n, const void *const *in, double *out)
{
    const t2i_tensor *x = IN_T(0);
    int64_t C = x->ne[1], S = 1;
    for (int d = 2; d < x->ndim; d++) S *= x->ne[d];
    int groups = n->attr.norm.groups;
    int64_t cpg = C / groups;
    for (int64_t b = 0; b < x->ne[0]; b++)
        for (int gr = 0; gr < groups; gr++) {
            int64_t off = (b * C + gr * cpg) * S;
            normalize(IN_F(0) + off, cpg * S, S, gr * cpg, IN_F(1), IN_F(2), n->attr.norm.eps, n->attr.norm.act,
                      out + off);
        }
}

static void ref_layernorm(const t2i_graph *g, const t2i_node *n, const void *const *in, double *out)
{
    int64_t C = IN_T(0)->ne[IN_T(0)->ndim - 1], rows = t2i_tensor_numel(IN_T(0)) / C;
    for (int64_t r = 0; r < rows; r++)
        normalize(IN_F(0) + r * C, C, 1, 0, IN_F(1), IN_F(2), n->attr.norm.eps, T2I_ACT_NONE, out + r * C);
}

static void ref_act(const t2i_graph *g, const t2i_node *n, const void *const *in, double *out)
{
    int64_t N = t2i_tensor_numel(OUT_T);
    for (int64_t i = 0; i < N; i++) out[i] = t2i_act_ref(IN_F(0)[i], n->attr.act.act);
}

/* a (op) b with b broadcast to a's shape, aligned at the last dim */
static void binary(const t2i_graph *g, const t2i_node *n, const void *const *in, double *out, bool mul)
{
    const t2i_tensor *a = IN_T(0), *b = IN_T(1);
    int64_t N = t2i_tensor_numel(a);
    for (int64_t i = 0; i < N; i++) {
        /* unravel i in a's shape, re-ravel in b's with broadcast dims at 0 */
        int64_t r = i, bi = 0, bstride = 1;
        for (int d = a->ndim - 1; d >= 0; d--) {
            int64_t idx = r % a->ne[d];
            r /= a->ne[d];
            int db = d - (a->ndim - b->ndim);
            if (db >= 0) {
                if (b->ne[db] != 1) bi += idx * bstride;
                bstride *= b->ne[db];
            }
        }
        double x = IN_F(0)[i], y = IN_F(1)[bi];
        out[i] = mul ? x * y : x + y;
    }
}
static void ref_add(const t2i_graph *g, const t2i_node *n, const void *const *in, double *out)
{
    binary(g, n, in, out, false);
}
static void ref_mul(const t2i_graph *g, const t2i_node *n, const void *const *in, double *out)
{
    binary(g, n, in, out, true);
}

static void ref_geglu(const t2i_graph *g, const t2i_node *n, const void *const *in, double *out)
{
    int64_t D = OUT_T->ne[OUT_T->ndim - 1], rows = t2i_tensor_numel(OUT_T) / D;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < D; j++) {
            const float *row = IN_F(0) + r * 2 * D;
            out[r * D + j] = row[j] * t2i_act_ref(row[D + j], T2I_ACT_GELU);
        }
}

/* softmax(scale·q·kᵀ [+ causal mask]) · v per head */
static void ref_attention(const t2i_graph *g, const t2i_node *n, const void *const *in, double *out)
{
    const t2i_attr_attention *a = &n->attr.attention;
    int64_t B = IN_T(0)->ne[0], Nq = IN_T(0)->ne[1], Nk = IN_T(1)->ne[1], H = a->heads;
    int64_t Dh = IN_T(0)->ne[2] / H, Dv = IN_T(2)->ne[2] / H;
    const float *q = IN_F(0), *k = IN_F(1), *v = IN_F(2);
    double *p = malloc((size_t)Nk * sizeof *p);
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t i = 0; i < Nq; i++) {
                double m = -INFINITY, sum = 0;
                for (int64_t j = 0; j < Nk; j++) {
                    double s = 0;
                    for (int64_t d = 0; d < Dh; d++)
                        s += (double)q[(b * Nq + i) * H * Dh + h * Dh + d] * k[(b * Nk + j) * H * Dh + h * Dh + d];
                    p[j] = a->causal && j > i ? -INFINITY : s * a->scale;
                    if (p[j] > m) m = p[j];
                }
                for (int64_t j = 0; j < Nk; j++) sum += p[j] = exp(p[j] - m);
                for (int64_t e = 0; e < Dv; e++) {
                    double acc = 0;
                    for (int64_t j = 0; j < Nk; j++) acc += p[j] * v[(b * Nk + j) * H * Dv + h * Dv + e];
                    out[(b * Nq + i) * H * Dv + h * Dv + e] = acc / sum;
                }
            }
    free(p);
}

/* diffusers get_timestep_embedding with torch's float32 steps (arange·(-ln
 * 1e4), /(half - shift), exp, t·freq, each rounded to float), trig in
 * double; an odd dim gets a zero last column. */
static void ref_timestep(const t2i_graph *g, const t2i_node *n, const void *const *in, double *out)
{
    const t2i_attr_timestep *a = &n->attr.timestep;
    int64_t B = IN_T(0)->ne[0];
    int dim = a->dim, half = dim / 2;
    for (int64_t b = 0; b < B; b++) {
        for (int i = 0; i < half; i++) {
            float e = ((float)-log(10000.0) * (float)i) / (float)(half - a->freq_shift);
            float arg = IN_F(0)[b] * (float)exp((double)e);
            double s = sin((double)arg), co = cos((double)arg);
            out[b * dim + i] = a->flip_sin_to_cos ? co : s;
            out[b * dim + half + i] = a->flip_sin_to_cos ? s : co;
        }
        if (dim % 2) out[b * dim + dim - 1] = 0.0;
    }
}

static void ref_upsample(const t2i_graph *g, const t2i_node *n, const void *const *in, double *out)
{
    int64_t P = IN_T(0)->ne[0] * IN_T(0)->ne[1], H = IN_T(0)->ne[2], W = IN_T(0)->ne[3];
    for (int64_t p = 0; p < P; p++)
        for (int64_t i = 0; i < 2 * H; i++)
            for (int64_t j = 0; j < 2 * W; j++) out[(p * 2 * H + i) * 2 * W + j] = IN_F(0)[(p * H + i / 2) * W + j / 2];
}

static void ref_pixel_unshuffle(const t2i_graph *g, const t2i_node *n, const void *const *in, double *out)
{
    int r = n->attr.factor.r;
    int64_t N = IN_T(0)->ne[0], C = IN_T(0)->ne[1], H = IN_T(0)->ne[2], W = IN_T(0)->ne[3];
    for (int64_t b = 0; b < N; b++)
        for (int64_t c = 0; c < C; c++)
            for (int i = 0; i < r; i++)
                for (int j = 0; j < r; j++)
                    for (int64_t h = 0; h < H / r; h++)
                        for (int64_t w = 0; w < W / r; w++)
                            out[(((b * C + c) * r * r + i * r + j) * (H / r) + h) * (W / r) + w] =
                                IN_F(0)[((b * C + c) * H + h * r + i) * W + w * r + j];
}

static void ref_scale_add(const t2i_graph *g, const t2i_node *n, const void *const *in, double *out)
{
    int64_t N = t2i_tensor_numel(OUT_T);
    for (int64_t i = 0; i < N; i++) out[i] = (double)n->attr.scale.alpha * IN_F(0)[i] + IN_F(1)[i];
}

static void ref_concat(const t2i_graph *g, const t2i_node *n, const void *const *in, double *out)
{
    const t2i_tensor *a = IN_T(0);
    int axis = n->attr.axis.axis;
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++) outer *= a->ne[d];
    for (int d = axis + 1; d < a->ndim; d++) inner *= a->ne[d];
    int64_t na = a->ne[axis], nb = IN_T(1)->ne[axis], no = na + nb;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < no; k++)
            for (int64_t i = 0; i < inner; i++)
                out[(o * no + k) * inner + i] = k < na ? IN_F(0)[(o * na + k) * inner + i]
                                                       : IN_F(1)[(o * nb + k - na) * inner + i];
}

/* x[N,C,P] <-> y[N,P,C]: to_tokens reads x, from_tokens writes x */
static void transpose_tokens(const float *src, double *dst, int64_t N, int64_t C, int64_t P, bool to_tokens)
{
    for (int64_t b = 0; b < N; b++)
        for (int64_t ch = 0; ch < C; ch++)
            for (int64_t p = 0; p < P; p++) {
                int64_t nchw = (b * C + ch) * P + p, tok = (b * P + p) * C + ch;
                if (to_tokens) dst[tok] = src[nchw];
                else dst[nchw] = src[tok];
            }
}
static void ref_to_tokens(const t2i_graph *g, const t2i_node *n, const void *const *in, double *out)
{
    const t2i_tensor *x = IN_T(0);
    transpose_tokens(IN_F(0), out, x->ne[0], x->ne[1], x->ne[2] * x->ne[3], true);
}
static void ref_from_tokens(const t2i_graph *g, const t2i_node *n, const void *const *in, double *out)
{
    const t2i_tensor *x = IN_T(0);
    transpose_tokens(IN_F(0), out, x->ne[0], x->ne[2], x->ne[1], false);
}

static void ref_slice(const t2i_graph *g, const t2i_node *n, const void *const *in, double *out)
{
    const t2i_tensor *x = IN_T(0);
    const t2i_attr_slice *s = &n->attr.slice;
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < s->axis; d++) outer *= x->ne[d];
    for (int d = s->axis + 1; d < x->ndim; d++) inner *= x->ne[d];
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < s->len; k++)
            for (int64_t i = 0; i < inner; i++)
                out[(o * s->len + k) * inner + i] = IN_F(0)[(o * x->ne[s->axis] + s->start + k) * inner + i];
}

static void ref_reshape(const t2i_graph *g, const t2i_node *n, const void *const *in, double *out)
{
    int64_t N = t2i_tensor_numel(OUT_T);
    for (int64_t i = 0; i < N; i++) out[i] = IN_F(0)[i];
}

const t2i_op_ref_fn t2i_op_refs[T2I_OP_COUNT] = {
#define T2I_OP(id, name, min_in, max_in, attr, impl) [T2I_OP_##id] = ref_##name,
#include "graph/ops.def"
};

t2i_graph *t2i_op_case_graph(const t2i_op_case *c)
{
    t2i_graph *g = t2i_graph_create();
    if (!g) return NULL;
    int in[T2I_MAX_INPUTS];
    for (int i = 0; i < c->n_in; i++) {
        char nm[8];
        snprintf(nm, sizeof nm, "in%d", i);
        in[i] = t2i_graph_input(g, nm, c->ids && i == 0 ? T2I_I32 : T2I_F32, c->in[i].nd, c->in[i].ne);
    }
    int out = t2i_graph_op(g, c->op, c->name, in, c->n_in, &c->at);
    if (out >= 0) t2i_graph_output(g, out, "out");
    if (g->status != T2I_OK) {
        t2i_graph_destroy(g);
        return NULL;
    }
    return g;
}

/* ---- the cases ---------------------------------------------------------------------- */

/* one input of shape (...) with values in ±scale */
#define X(...) {(int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), {__VA_ARGS__}, 0, 0}
#define XS(scale, offset, ...) {(int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), {__VA_ARGS__}, scale, offset}

const t2i_op_case t2i_op_cases[] = {
    /* ---- CI-sized: every test runs these ---- */
    /* LINEAR, CONV2D: every optional input, a fused activation */
    {"linear [2,5,16]x[12,16]", T2I_OP_LINEAR, 2, {X(2, 5, 16), X(12, 16)}, .cpu_terms = 16, .depth = 2},
    {"linear +bias gelu +residual [2,5,16]x[12,16]", T2I_OP_LINEAR, 4, {X(2, 5, 16), X(12, 16), X(12), X(2, 5, 12)},
     .at.linear = {T2I_ACT_GELU}, .cpu_terms = 16, .depth = 2},
    {"conv 3x3 p1 +bias [2,3,7,7]->5", T2I_OP_CONV2D, 3, {X(2, 3, 7, 7), X(5, 3, 3, 3), X(5)},
     .at.conv2d = {1, 1, 1, 1, 1, T2I_ACT_NONE}, .cpu_terms = 27, .depth = 2},
    {"conv 3x3 p1 +bias leaky_relu [1,6,5,6]->4", T2I_OP_CONV2D, 3, {X(1, 6, 5, 6), X(4, 6, 3, 3), X(4)},
     .at.conv2d = {1, 1, 1, 1, 1, T2I_ACT_LEAKY_RELU}, .cpu_terms = 54, .depth = 2},
    {"conv 3x3 s2 pad(0,0,1,1) silu +residual [1,4,9,7]->3", T2I_OP_CONV2D, 4,
     {X(1, 4, 9, 7), X(3, 4, 3, 3), X(3), X(1, 3, 4, 3)}, .at.conv2d = {2, 0, 0, 1, 1, T2I_ACT_SILU},
     .cpu_terms = 36, .depth = 2},
    /* ACT: every activation over both tails */
    {"act none [2,3,5,7]", T2I_OP_ACT, 1, {XS(4, 0, 2, 3, 5, 7)}, .at.act = {T2I_ACT_NONE}, .cpu_terms = 1, .depth = 1},
    {"act silu [2,3,5,7]", T2I_OP_ACT, 1, {XS(4, 0, 2, 3, 5, 7)}, .at.act = {T2I_ACT_SILU}, .cpu_terms = 1, .depth = 1},
    {"act gelu [2,3,5,7]", T2I_OP_ACT, 1, {XS(4, 0, 2, 3, 5, 7)}, .at.act = {T2I_ACT_GELU}, .cpu_terms = 1, .depth = 1},
    {"act gelu_tanh [2,3,5,7]", T2I_OP_ACT, 1, {XS(4, 0, 2, 3, 5, 7)}, .at.act = {T2I_ACT_GELU_TANH}, .cpu_terms = 1,
     .depth = 1},
    {"act quick_gelu [2,3,5,7]", T2I_OP_ACT, 1, {XS(4, 0, 2, 3, 5, 7)}, .at.act = {T2I_ACT_QUICK_GELU},
     .cpu_terms = 1, .depth = 1},
    /* ADD / MUL: every broadcasting pattern the builders use, and generic ones */
    {"act leaky_relu [2,3,5,7]", T2I_OP_ACT, 1, {XS(4, 0, 2, 3, 5, 7)}, .at.act = {T2I_ACT_LEAKY_RELU},
     .cpu_terms = 1, .depth = 1},
    {"scale_add 0.2 [2,4,3,5]", T2I_OP_SCALE_ADD, 2, {X(2, 4, 3, 5), X(2, 4, 3, 5)}, .at.scale = {0.2f},
     .cpu_terms = 2, .depth = 1},
    {"add [2,4,3,5] by [5]", T2I_OP_ADD, 2, {X(2, 4, 3, 5), X(5)}, .cpu_terms = 1, .depth = 1},
    {"add [2,4,3,5] by [4,1,1]", T2I_OP_ADD, 2, {X(2, 4, 3, 5), X(4, 1, 1)}, .cpu_terms = 1, .depth = 1},
    {"add [2,4,3,5] by [1,4,1,1]", T2I_OP_ADD, 2, {X(2, 4, 3, 5), X(1, 4, 1, 1)}, .cpu_terms = 1, .depth = 1},
    {"add [2,4,3,5] by [2,4,3,5]", T2I_OP_ADD, 2, {X(2, 4, 3, 5), X(2, 4, 3, 5)}, .cpu_terms = 1, .depth = 1},
    {"add [2,4,3,5] by [4,1,5]", T2I_OP_ADD, 2, {X(2, 4, 3, 5), X(4, 1, 5)}, .cpu_terms = 1, .depth = 1},
    {"add [2,4,3,5] by [1]", T2I_OP_ADD, 2, {X(2, 4, 3, 5), X(1)}, .cpu_terms = 1, .depth = 1},
    {"add [2,4,3,5] by [3,5]", T2I_OP_ADD, 2, {X(2, 4, 3, 5), X(3, 5)}, .cpu_terms = 1, .depth = 1},
    {"mul [2,4,3,5] by [5]", T2I_OP_MUL, 2, {X(2, 4, 3, 5), X(5)}, .cpu_terms = 1, .depth = 1},
    {"mul [2,4,3,5] by [4,1,1]", T2I_OP_MUL, 2, {X(2, 4, 3, 5), X(4, 1, 1)}, .cpu_terms = 1, .depth = 1},
    {"mul [2,4,3,5] by [1,4,1,1]", T2I_OP_MUL, 2, {X(2, 4, 3, 5), X(1, 4, 1, 1)}, .cpu_terms = 1, .depth = 1},
    {"mul [2,4,3,5] by [2,4,3,5]", T2I_OP_MUL, 2, {X(2, 4, 3, 5), X(2, 4, 3, 5)}, .cpu_terms = 1, .depth = 1},
    {"mul [2,4,3,5] by [4,1,5]", T2I_OP_MUL, 2, {X(2, 4, 3, 5), X(4, 1, 5)}, .cpu_terms = 1, .depth = 1},
    {"mul [2,4,3,5] by [1]", T2I_OP_MUL, 2, {X(2, 4, 3, 5), X(1)}, .cpu_terms = 1, .depth = 1},
    {"mul [2,4,3,5] by [3,5]", T2I_OP_MUL, 2, {X(2, 4, 3, 5), X(3, 5)}, .cpu_terms = 1, .depth = 1},
    {"geglu [2,3,48] -> [2,3,24]", T2I_OP_GEGLU, 1, {XS(3, 0, 2, 3, 48)}, .cpu_terms = 1, .depth = 1},
    /* norms; a large mean tests the two-pass statistics */
    {"groupnorm [2,8,5,6] g4 none offset 0", T2I_OP_GROUPNORM, 3, {X(2, 8, 5, 6), X(8), X(8)},
     .at.norm = {4, 1e-5f, T2I_ACT_NONE}, .cpu_terms = 60, .depth = 1},
    {"groupnorm [2,8,5,6] g4 silu offset 0", T2I_OP_GROUPNORM, 3, {X(2, 8, 5, 6), X(8), X(8)},
     .at.norm = {4, 1e-5f, T2I_ACT_SILU}, .cpu_terms = 60, .depth = 1},
    {"groupnorm [1,64,16,16] g32 silu offset 3", T2I_OP_GROUPNORM, 3, {XS(1, 3, 1, 64, 16, 16), X(64), X(64)},
     .at.norm = {32, 1e-5f, T2I_ACT_SILU}, .cpu_terms = 512, .depth = 1},
    {"layernorm [2,7,48]", T2I_OP_LAYERNORM, 3, {XS(1, 1, 2, 7, 48), X(48), X(48)}, .at.norm = {0, 1e-5f, T2I_ACT_NONE},
     .cpu_terms = 48, .depth = 1},
    {"layernorm [1,3,320]", T2I_OP_LAYERNORM, 3, {XS(1, 1, 1, 3, 320), X(320), X(320)},
     .at.norm = {0, 1e-5f, T2I_ACT_NONE}, .cpu_terms = 320, .depth = 1},
    /* ATTENTION: q, k in ±2 for a peaky softmax (tests the rescaling); K = max(D, Nk) */
    {"attention B1 H2 Nq 70 Nk 77 D 40", T2I_OP_ATTENTION, 3, {XS(2, 0, 1, 70, 80), XS(2, 0, 1, 77, 80), X(1, 77, 80)},
     .at.attention = {2, 0.15811388f, false}, .cpu_terms = 77, .depth = 2},   /* SD1.x cross, D 40 padded to 48 */
    {"attention B2 H1 Nq 77 Nk 77 D 64 causal", T2I_OP_ATTENTION, 3,
     {XS(2, 0, 2, 77, 64), XS(2, 0, 2, 77, 64), X(2, 77, 64)}, .at.attention = {1, 0.125f, true}, .cpu_terms = 77,
     .depth = 2},   /* CLIP text encoder */
    {"attention B1 H2 Nq 130 Nk 100 D 80", T2I_OP_ATTENTION, 3,
     {XS(2, 0, 1, 130, 160), XS(2, 0, 1, 100, 160), X(1, 100, 160)}, .at.attention = {2, 0.1118034f, false},
     .cpu_terms = 100, .depth = 2},   /* partial tiles on both sides */
    {"attention B1 H1 Nq 96 Nk 154 D 128", T2I_OP_ATTENTION, 3,
     {XS(2, 0, 1, 96, 128), XS(2, 0, 1, 154, 128), X(1, 154, 128)}, .at.attention = {1, 0.0883883f, false},
     .cpu_terms = 154, .depth = 2},   /* two prompt chunks */
    {"attention B1 H1 Nq 33 Nk 231 D 160", T2I_OP_ATTENTION, 3,
     {XS(2, 0, 1, 33, 160), XS(2, 0, 1, 231, 160), X(1, 231, 160)}, .at.attention = {1, 0.0790569f, false},
     .cpu_terms = 231, .depth = 2},   /* SD1.x mid block */
    {"attention B1 H2 Nq 256 Nk 256 D 64", T2I_OP_ATTENTION, 3,
     {XS(2, 0, 1, 256, 128), XS(2, 0, 1, 256, 128), X(1, 256, 128)}, .at.attention = {2, 0.125f, false},
     .cpu_terms = 256, .depth = 2},   /* self-attention over 16×16 latent tokens */
    {"attention B1 H1 Nq 100 Nk 100 D 40 causal", T2I_OP_ATTENTION, 3,
     {XS(2, 0, 1, 100, 40), XS(2, 0, 1, 100, 40), X(1, 100, 40)}, .at.attention = {1, 0.15811388f, true},
     .cpu_terms = 100, .depth = 2},   /* causal with a partial last block */
    {"attention B2 H3 Nq 50 Nk 60 D 36", T2I_OP_ATTENTION, 3,
     {XS(2, 0, 2, 50, 108), XS(2, 0, 2, 60, 108), X(2, 60, 108)}, .at.attention = {3, 0.16666667f, false},
     .cpu_terms = 60, .depth = 2},    /* head dim not a multiple of 8 */
    /* TIMESTEP over the whole schedule range */
    {"timestep dim 320 flip", T2I_OP_TIMESTEP, 1, {XS(999, 0, 4)}, .at.timestep = {320, true, 0.0f}, .cpu_terms = 1,
     .depth = 1},
    /* data movement: exact */
    {"embedding ids[2,5] table[11,16]", T2I_OP_EMBEDDING, 2, {X(2, 5), X(11, 16)}, .ids = true},
    {"upsample [2,3,4,5]", T2I_OP_UPSAMPLE, 1, {X(2, 3, 4, 5)}, .depth = 0},
    {"pixel_unshuffle r2 [2,3,6,8]", T2I_OP_PIXEL_UNSHUFFLE, 1, {X(2, 3, 6, 8)}, .at.factor = {2}, .depth = 0},
    {"pixel_unshuffle r3 [1,2,9,6]", T2I_OP_PIXEL_UNSHUFFLE, 1, {X(1, 2, 9, 6)}, .at.factor = {3}, .depth = 0},
    {"concat axis 1 [2,3,4,4]+[2,5,4,4]", T2I_OP_CONCAT, 2, {X(2, 3, 4, 4), X(2, 5, 4, 4)}, .at.axis = {1}},
    {"concat axis 2 [2,7,3]+[2,7,5]", T2I_OP_CONCAT, 2, {X(2, 7, 3), X(2, 7, 5)}, .at.axis = {2}},
    {"concat axis 0 [1,77,8]+[2,77,8]", T2I_OP_CONCAT, 2, {X(1, 77, 8), X(2, 77, 8)}, .at.axis = {0}},
    {"slice axis 2 [2,3,10,4] 3:9", T2I_OP_SLICE, 1, {X(2, 3, 10, 4)}, .at.slice = {2, 3, 6}},
    {"slice axis 1 [2,154,8] 77:154", T2I_OP_SLICE, 1, {X(2, 154, 8)}, .at.slice = {1, 77, 77}},
    {"to_tokens [2,6,5,7]", T2I_OP_TO_TOKENS, 1, {X(2, 6, 5, 7)}, .depth = 0},
    {"to_tokens [1,40,9,9]", T2I_OP_TO_TOKENS, 1, {X(1, 40, 9, 9)}, .depth = 0},
    {"to_tokens [2,33,8,8]", T2I_OP_TO_TOKENS, 1, {X(2, 33, 8, 8)}, .depth = 0},
    {"from_tokens [2,35,6] h 5 w 7", T2I_OP_FROM_TOKENS, 1, {X(2, 35, 6)}, .at.hw = {5, 7}},
    {"from_tokens [1,81,40] h 9 w 9", T2I_OP_FROM_TOKENS, 1, {X(1, 81, 40)}, .at.hw = {9, 9}},
    {"from_tokens [2,64,33] h 8 w 8", T2I_OP_FROM_TOKENS, 1, {X(2, 64, 33)}, .at.hw = {8, 8}},
    {"reshape [2,3,4,5] -> [6,20]", T2I_OP_RESHAPE, 1, {X(2, 3, 4, 5)}, .at.shape = {2, {6, 20}}},

    /* ---- SD-sized (SD1.5 shapes): test_cuda_backend only ---- */
    /* LINEAR: every epilogue path of gemm.cu */
    {"linear [2,4096,320]x[320,320]", T2I_OP_LINEAR, 2, {X(2, 4096, 320), X(320, 320)}, .depth = 2, .sd_size = true},
    {"linear +bias [2,77,768]x[320,768]", T2I_OP_LINEAR, 3, {X(2, 77, 768), X(320, 768), X(320)}, .depth = 2,
     .sd_size = true},
    {"linear +bias gelu_tanh [2,256,320]x[2560,320]", T2I_OP_LINEAR, 3, {X(2, 256, 320), X(2560, 320), X(2560)},
     .at.linear = {T2I_ACT_GELU_TANH}, .depth = 2, .sd_size = true},
    {"linear +bias silu [2,1280]x[1280,1280]", T2I_OP_LINEAR, 3, {X(2, 1280), X(1280, 1280), X(1280)},
     .at.linear = {T2I_ACT_SILU}, .depth = 2, .sd_size = true},
    {"linear +bias +residual [2,1024,640]x[640,640]", T2I_OP_LINEAR, 4,
     {X(2, 1024, 640), X(640, 640), X(640), X(2, 1024, 640)}, .depth = 2, .sd_size = true},
    {"linear +bias quick_gelu +residual [2,77,768]", T2I_OP_LINEAR, 4,
     {X(2, 77, 768), X(768, 768), X(768), X(2, 77, 768)}, .at.linear = {T2I_ACT_QUICK_GELU}, .depth = 2,
     .sd_size = true},
    /* CONV2D: 3×3 pad 1, stride-2 downsample, asymmetric VAE pad, 1×1 shortcut, fused epilogue */
    {"conv 3x3 p1 [2,320,64,64]x[320,320]", T2I_OP_CONV2D, 3, {X(2, 320, 64, 64), X(320, 320, 3, 3), X(320)},
     .at.conv2d = {1, 1, 1, 1, 1, T2I_ACT_NONE}, .depth = 2, .sd_size = true},
    {"conv 3x3 s2 p1 [2,320,64,64]", T2I_OP_CONV2D, 3, {X(2, 320, 64, 64), X(320, 320, 3, 3), X(320)},
     .at.conv2d = {2, 1, 1, 1, 1, T2I_ACT_NONE}, .depth = 2, .sd_size = true},
    {"conv 3x3 s2 pad(0,1,0,1) [1,128,64,64]", T2I_OP_CONV2D, 3, {X(1, 128, 64, 64), X(128, 128, 3, 3), X(128)},
     .at.conv2d = {2, 0, 0, 1, 1, T2I_ACT_NONE}, .depth = 2, .sd_size = true},
    {"conv 1x1 [2,640,32,32]x[1280,640]", T2I_OP_CONV2D, 3, {X(2, 640, 32, 32), X(1280, 640, 1, 1), X(1280)},
     .at.conv2d = {1, 0, 0, 0, 0, T2I_ACT_NONE}, .depth = 2, .sd_size = true},
    {"conv 3x3 +bias silu +residual [2,4,64,64]->320", T2I_OP_CONV2D, 4,
     {X(2, 4, 64, 64), X(320, 4, 3, 3), X(320), X(2, 320, 64, 64)}, .at.conv2d = {1, 1, 1, 1, 1, T2I_ACT_SILU},
     .depth = 2, .sd_size = true},
    /* norms */
    {"groupnorm silu [2,320,64,64] g32", T2I_OP_GROUPNORM, 3, {X(2, 320, 64, 64), X(320), X(320)},
     .at.norm = {32, 1e-5f, T2I_ACT_SILU}, .depth = 1, .sd_size = true},
    {"groupnorm [2,1280,8,8] g32", T2I_OP_GROUPNORM, 3, {X(2, 1280, 8, 8), X(1280), X(1280)},
     .at.norm = {32, 1e-6f, T2I_ACT_NONE}, .depth = 1, .sd_size = true},
    {"layernorm [2,4096,320]", T2I_OP_LAYERNORM, 3, {X(2, 4096, 320), X(320), X(320)},
     .at.norm = {0, 1e-5f, T2I_ACT_NONE}, .depth = 1, .sd_size = true},
    /* attention: self over 4096 tokens, cross with 77/154/231 keys, causal CLIP */
    {"attention self 4096 D40 H8", T2I_OP_ATTENTION, 3, {X(2, 4096, 320), X(2, 4096, 320), X(2, 4096, 320)},
     .at.attention = {8, 0.15811388f, false}, .depth = 2, .sd_size = true},
    {"attention cross 4096x77 D40 H8", T2I_OP_ATTENTION, 3, {X(2, 4096, 320), X(2, 77, 320), X(2, 77, 320)},
     .at.attention = {8, 0.15811388f, false}, .depth = 2, .sd_size = true},
    {"attention cross 1024x154 D80 H8", T2I_OP_ATTENTION, 3, {X(2, 1024, 640), X(2, 154, 640), X(2, 154, 640)},
     .at.attention = {8, 0.1118034f, false}, .depth = 2, .sd_size = true},
    {"attention cross 256x231 D160 H8", T2I_OP_ATTENTION, 3, {X(2, 256, 1280), X(2, 231, 1280), X(2, 231, 1280)},
     .at.attention = {8, 0.0790569f, false}, .depth = 2, .sd_size = true},
    {"attention self 1024 D64 H5", T2I_OP_ATTENTION, 3, {X(2, 1024, 320), X(2, 1024, 320), X(2, 1024, 320)},
     .at.attention = {5, 0.125f, false}, .depth = 2, .sd_size = true},
    {"attention self 256 D128 H2", T2I_OP_ATTENTION, 3, {X(1, 256, 256), X(1, 256, 256), X(1, 256, 256)},
     .at.attention = {2, 0.0883883f, false}, .depth = 2, .sd_size = true},
    {"attention causal 77 D64 H12", T2I_OP_ATTENTION, 3, {X(2, 77, 768), X(2, 77, 768), X(2, 77, 768)},
     .at.attention = {12, 0.125f, true}, .depth = 2, .sd_size = true},
    /* elementwise */
    {"act silu [2,1280]", T2I_OP_ACT, 1, {XS(4, 0, 2, 1280)}, .at.act = {T2I_ACT_SILU}, .depth = 1, .sd_size = true},
    {"act gelu [2,77,3072]", T2I_OP_ACT, 1, {XS(4, 0, 2, 77, 3072)}, .at.act = {T2I_ACT_GELU}, .depth = 1,
     .sd_size = true},
    {"add [2,320,64,64] + [2,320,1,1]", T2I_OP_ADD, 2, {X(2, 320, 64, 64), X(2, 320, 1, 1)}, .depth = 1,
     .sd_size = true},
    {"add [2,4096,320] + [320]", T2I_OP_ADD, 2, {X(2, 4096, 320), X(320)}, .depth = 1, .sd_size = true},
    {"mul [2,320,64,64] * same", T2I_OP_MUL, 2, {X(2, 320, 64, 64), X(2, 320, 64, 64)}, .depth = 1, .sd_size = true},
    {"geglu [2,4096,2560]", T2I_OP_GEGLU, 1, {XS(3, 0, 2, 4096, 2560)}, .depth = 1, .sd_size = true},
    /* layout (exact) */
    {"embedding ids[2,77] table[1000,768]", T2I_OP_EMBEDDING, 2, {X(2, 77), X(1000, 768)}, .ids = true,
     .sd_size = true},
    {"upsample [2,1280,16,16]", T2I_OP_UPSAMPLE, 1, {X(2, 1280, 16, 16)}, .sd_size = true},
    {"concat axis1 [2,640,32,32]+[2,320,32,32]", T2I_OP_CONCAT, 2, {X(2, 640, 32, 32), X(2, 320, 32, 32)},
     .at.axis = {1}, .sd_size = true},
    {"to_tokens [2,320,64,64]", T2I_OP_TO_TOKENS, 1, {X(2, 320, 64, 64)}, .sd_size = true},
    {"from_tokens [2,4096,320]", T2I_OP_FROM_TOKENS, 1, {X(2, 4096, 320)}, .at.hw = {64, 64}, .sd_size = true},
    {"slice axis1 [2,154,768] 77:154", T2I_OP_SLICE, 1, {X(2, 154, 768)}, .at.slice = {1, 77, 77}, .sd_size = true},
};
const int t2i_n_op_cases = (int)(sizeof t2i_op_cases / sizeof t2i_op_cases[0]);
