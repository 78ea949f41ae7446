/*
 * test_cpu_ops.c — every CPU kernel against a naive reference in double.
 *
 * Each case builds a one-node t2i_graph (inputs declared with
 * t2i_graph_input so shape inference runs as in a real build), fills the
 * inputs from a seeded LCG, runs the kernel from the backend's table with a
 * workspace of exactly workspace_size() bytes and an output pre-filled with
 * NaN (so an element the kernel forgot to write fails the NaN/Inf check), and
 * compares with the op's reference in double (plain loops, tests/op_cases.c).
 * The cases: the sweeps below, then every CI-sized case of the shared list
 * tests/op_cases.c; and first, the check that every op of graph/ops.def has
 * such a case.
 *
 * Tolerance rule (FP32 kernel vs double reference): an output that is a
 * K-term FP32 sum may be off by about eps32·sqrt(K) relative to its scale, so
 *     max |out - ref| ≤ 1e-5 · (1 + max |ref|) · sqrt(K)
 * with K = 1 for elementwise ops; data movement ops must be exact.
 *
 * The suite runs twice: with 1 thread and with 3 (more threads than the
 * machine's cores is fine and exercises the pool's dynamic scheduling).
 * `test_cpu_ops --bench` prints GFLOP/s of LINEAR, CONV2D and ATTENTION on
 * SD-like shapes instead.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "graph/graph.h"
#include "kernels/backend.h"
#include "base/error.h"
#include "runtime/plan.h"
#include "tests/op_cases.h"

#define MAXT 16

static int n_fail, n_checks;
static uint64_t lcg_state = 0x2545F4914F6CDD1Dull;

static float frand(void)   /* uniform in [-1, 1) */
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((lcg_state >> 40) * (1.0 / 8388608.0)) - 1.0f;
}

/* ---- one test case: a graph, its input data, and a run --------------------- */

typedef struct tcase {
    t2i_graph *g;
    t2i_backend *be;
    void *data[MAXT];          /* by tensor id: input data */
    float *out;                /* output of the last run */
    char name[160];
} tcase;

static void tc_begin(tcase *c, t2i_backend *be, const char *fmt, ...) T2I_PRINTF(3, 4);
static void tc_begin(tcase *c, t2i_backend *be, const char *fmt, ...)
{
    memset(c, 0, sizeof *c);
    c->g = t2i_graph_create();
    c->be = be;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->name, sizeof c->name, fmt, ap);
    va_end(ap);
}

static void tc_end(tcase *c)
{
    for (int i = 0; i < MAXT; i++) free(c->data[i]);
    free(c->out);
    t2i_graph_destroy(c->g);
}

/* A random F32 input uniform in [offset - scale, offset + scale). */
static int tc_input(tcase *c, int ndim, const int64_t *ne, float scale, float offset)
{
    char nm[16];
    snprintf(nm, sizeof nm, "in%d", c->g->n_tensors);
    int t = t2i_graph_input(c->g, nm, T2I_F32, ndim, ne);
    if (t < 0 || t >= MAXT) {
        fprintf(stderr, "%s: graph input failed: %s\n", c->name, t2i_last_error());
        exit(1);
    }
    int64_t n = t2i_tensor_numel(&c->g->tensors[t]);
    float *d = malloc((size_t)n * sizeof *d);
    for (int64_t i = 0; i < n; i++) d[i] = offset + scale * frand();
    c->data[t] = d;
    return t;
}
#define IN(c, ...) tc_input(c, (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]){__VA_ARGS__}, 1.0f, 0.0f)

static const float *D(const tcase *c, int t) { return t >= 0 ? c->data[t] : NULL; }
static const t2i_tensor *T(const tcase *c, int t) { return &c->g->tensors[t]; }

/* Run the last node; returns the kernel's status. c->out holds the result. */
static t2i_status tc_run(tcase *c, t2i_op op, const int *in, int n_in, const t2i_op_attrs *at)
{
    int out = t2i_graph_op(c->g, op, c->name, in, n_in, at);
    if (out < 0) {
        fprintf(stderr, "%s: graph op failed: %s\n", c->name, t2i_last_error());
        exit(1);
    }
    const t2i_node *node = &c->g->nodes[c->g->n_nodes - 1];
    t2i_op_args a;
    memset(&a, 0, sizeof a);
    a.node = node;
    for (int i = 0; i < node->n_in; i++)
        if (node->in[i] >= 0) {
            a.in[i] = &c->g->tensors[node->in[i]];
            a.in_data[i] = c->data[node->in[i]];
        }
    a.out = &c->g->tensors[out];
    int64_t n = t2i_tensor_numel(a.out);
    free(c->out);
    c->out = malloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++) c->out[i] = NAN;
    a.out_data = c->out;
    a.workspace_bytes = c->be->vt->workspace_size(c->be, c->g, node);
    void *ws = NULL;
    if (c->be->vt->alloc(c->be, a.workspace_bytes, &ws) != T2I_OK) exit(1);
    a.workspace = ws;
    t2i_kernel_fn fn = c->be->kernels[op];
    t2i_status s = fn(c->be, &a);
    c->be->vt->free(c->be, ws);
    return s;
}

static int64_t out_numel(const tcase *c) { return t2i_tensor_numel(&c->g->tensors[c->g->n_tensors - 1]); }

/* NaN/Inf check, then the tolerance rule above. */
static void check(tcase *c, const double *ref, double K)
{
    int64_t n = out_numel(c);
    double max_err = 0, max_ref = 0;
    int64_t bad = -1, worst = 0;
    n_checks++;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(c->out[i])) {
            bad = i;
            break;
        }
        double e = fabs(c->out[i] - ref[i]);
        if (e > max_err) max_err = e, worst = i;
        if (fabs(ref[i]) > max_ref) max_ref = fabs(ref[i]);
    }
    double tol = 1e-5 * (1.0 + max_ref) * sqrt(K);
    if (bad >= 0) {
        printf("FAIL %-58s non-finite output %g at %lld\n", c->name, c->out[bad], (long long)bad);
        n_fail++;
    } else if (max_err > tol) {
        printf("FAIL %-58s max|err| %.3g > tol %.3g (at %lld: %.7g vs %.7g)\n", c->name, max_err, tol,
               (long long)worst, c->out[worst], ref[worst]);
        n_fail++;
    } else if (getenv("T2I_TEST_VERBOSE")) {
        printf("ok   %-58s max|err| %.3g  tol %.3g\n", c->name, max_err, tol);
    }
}

static void check_exact(tcase *c, const double *ref) { check(c, ref, 0.0); }

static const char *act_names[] = {"none", "silu", "gelu", "gelu_tanh", "quick_gelu"};

static double *ref_alloc(const tcase *c) { return calloc((size_t)out_numel(c), sizeof(double)); }

/* The reference in double (tests/op_cases.c) of the last node run. */
static double *tc_ref(const tcase *c)
{
    const t2i_node *node = &c->g->nodes[c->g->n_nodes - 1];
    const void *in[T2I_MAX_INPUTS] = {0};
    for (int i = 0; i < node->n_in; i++)
        if (node->in[i] >= 0) in[i] = c->data[node->in[i]];
    double *ref = ref_alloc(c);
    t2i_op_refs[node->op](c->g, node, in, ref);
    return ref;
}

/* ---- LINEAR ------------------------------------------------------------------- */

static void test_linear(t2i_backend *be, int ndim, const int64_t *xne, int64_t N, bool bias, bool res, t2i_act act)
{
    tcase c;
    tc_begin(&c, be, "linear x%dd K=%lld N=%lld bias=%d res=%d act=%s", ndim, (long long)xne[ndim - 1],
             (long long)N, bias, res, act_names[act]);
    int64_t K = xne[ndim - 1];
    int x = tc_input(&c, ndim, xne, 1.0f, 0.0f);
    int w = IN(&c, N, K);
    int b = bias ? IN(&c, N) : -1;
    int64_t rne[4];
    memcpy(rne, xne, (size_t)ndim * sizeof *rne);
    rne[ndim - 1] = N;
    int r = res ? tc_input(&c, ndim, rne, 1.0f, 0.0f) : -1;
    t2i_op_attrs at = {.linear = {act}};
    t2i_status s = tc_run(&c, T2I_OP_LINEAR, (int[]){x, w, b, r}, 4, &at);
    if (s) { printf("FAIL %s: %s\n", c.name, t2i_last_error()); n_fail++; }
    double *ref = tc_ref(&c);
    check(&c, ref, (double)K);
    free(ref);
    tc_end(&c);
}

/* ---- CONV2D -------------------------------------------------------------------- */

static void test_conv(t2i_backend *be, int64_t N, int64_t C, int64_t H, int64_t W, int64_t O, int64_t kh, int64_t kw,
                      int stride, int pt, int pl, int pb, int pr, bool bias, bool res, t2i_act act)
{
    tcase c;
    tc_begin(&c, be, "conv2d %lldx%lldx%lldx%lld->%lld k%lldx%lld s%d pad(%d,%d,%d,%d) b=%d r=%d %s", (long long)N,
             (long long)C, (long long)H, (long long)W, (long long)O, (long long)kh, (long long)kw, stride, pt, pl,
             pb, pr, bias, res, act_names[act]);
    int x = IN(&c, N, C, H, W);
    int w = IN(&c, O, C, kh, kw);
    int b = bias ? IN(&c, O) : -1;
    int s = stride > 0 ? stride : 1;
    int64_t Ho = (H + pt + pb - kh) / s + 1, Wo = (W + pl + pr - kw) / s + 1;
    int r = res ? IN(&c, N, O, Ho, Wo) : -1;
    t2i_op_attrs at = {.conv2d = {stride, pt, pl, pb, pr, act}};
    t2i_status st = tc_run(&c, T2I_OP_CONV2D, (int[]){x, w, b, r}, 4, &at);
    if (st) { printf("FAIL %s: %s\n", c.name, t2i_last_error()); n_fail++; }
    double *ref = tc_ref(&c);
    check(&c, ref, (double)(C * kh * kw));
    free(ref);
    tc_end(&c);
}

/* ---- GROUPNORM / LAYERNORM ------------------------------------------------------- */

static void test_groupnorm(t2i_backend *be, int ndim, const int64_t *ne, int groups, float offset, t2i_act act)
{
    tcase c;
    tc_begin(&c, be, "groupnorm %lldd C=%lld groups=%d offset=%g %s", (long long)ndim, (long long)ne[1], groups,
             offset, act_names[act]);
    int x = tc_input(&c, ndim, ne, 1.0f, offset);
    int gm = IN(&c, ne[1]), bt = IN(&c, ne[1]);
    t2i_op_attrs at = {.norm = {groups, 1e-5f, act}};
    if (tc_run(&c, T2I_OP_GROUPNORM, (int[]){x, gm, bt}, 3, &at)) { printf("FAIL %s: %s\n", c.name, t2i_last_error()); n_fail++; }
    double *ref = tc_ref(&c);
    int64_t S = 1;
    for (int d = 2; d < ndim; d++) S *= ne[d];
    int64_t m = ne[1] / groups * S;
    /* normalisation amplifies the input's rounding by 1/std; K = group size */
    check(&c, ref, (double)m);
    free(ref);
    tc_end(&c);
}

static void test_layernorm(t2i_backend *be, int ndim, const int64_t *ne, float offset)
{
    tcase c;
    tc_begin(&c, be, "layernorm %dd C=%lld offset=%g", ndim, (long long)ne[ndim - 1], offset);
    int64_t C = ne[ndim - 1];
    int x = tc_input(&c, ndim, ne, 1.0f, offset);
    int gm = IN(&c, C), bt = IN(&c, C);
    t2i_op_attrs at = {.norm = {0, 1e-5f, T2I_ACT_NONE}};
    if (tc_run(&c, T2I_OP_LAYERNORM, (int[]){x, gm, bt}, 3, &at)) { printf("FAIL %s: %s\n", c.name, t2i_last_error()); n_fail++; }
    double *ref = tc_ref(&c);
    check(&c, ref, (double)C);
    free(ref);
    tc_end(&c);
}

/* ---- ACT / GEGLU ----------------------------------------------------------------- */

static void test_act(t2i_backend *be, t2i_act act, int64_t n)
{
    tcase c;
    tc_begin(&c, be, "act %s n=%lld", act_names[act], (long long)n);
    int x = tc_input(&c, 2, (int64_t[]){2, n / 2}, 6.0f, 0.0f);   /* [-6, 6): both tails */
    t2i_op_attrs at = {.act = {act}};
    if (tc_run(&c, T2I_OP_ACT, (int[]){x}, 1, &at)) n_fail++;
    double *ref = tc_ref(&c);
    check(&c, ref, 1.0);
    free(ref);
    tc_end(&c);
}

static void test_geglu(t2i_backend *be, int64_t B, int64_t L, int64_t Dh)
{
    tcase c;
    tc_begin(&c, be, "geglu [%lld,%lld,2x%lld]", (long long)B, (long long)L, (long long)Dh);
    int x = tc_input(&c, 3, (int64_t[]){B, L, 2 * Dh}, 4.0f, 0.0f);
    if (tc_run(&c, T2I_OP_GEGLU, (int[]){x}, 1, NULL)) n_fail++;
    double *ref = tc_ref(&c);
    check(&c, ref, 1.0);
    free(ref);
    tc_end(&c);
}

/* ---- ADD / MUL with broadcasting --------------------------------------------------- */

static void test_binary(t2i_backend *be, bool mul, int na, const int64_t *a_ne, int nb, const int64_t *b_ne)
{
    tcase c;
    char sa[64], sb[64];
    t2i_tensor ta = {.ndim = na}, tb = {.ndim = nb};
    memcpy(ta.ne, a_ne, (size_t)na * sizeof *a_ne);
    memcpy(tb.ne, b_ne, (size_t)nb * sizeof *b_ne);
    tc_begin(&c, be, "%s %s by %s", mul ? "mul" : "add", t2i_shape_str(&ta, sa, sizeof sa),
             t2i_shape_str(&tb, sb, sizeof sb));
    int a = tc_input(&c, na, a_ne, 1.0f, 0.0f), b = tc_input(&c, nb, b_ne, 1.0f, 0.0f);
    if (tc_run(&c, mul ? T2I_OP_MUL : T2I_OP_ADD, (int[]){a, b}, 2, NULL)) n_fail++;
    double *ref = tc_ref(&c);
    check(&c, ref, 1.0);
    free(ref);
    tc_end(&c);
}

/* ---- ATTENTION ----------------------------------------------------------------------- */

static void test_attention(t2i_backend *be, int64_t B, int64_t H, int64_t Nq, int64_t Nk, int64_t Dh, int64_t Dv,
                           bool causal)
{
    tcase c;
    tc_begin(&c, be, "attention B=%lld H=%lld Nq=%lld Nk=%lld D=%lld Dv=%lld causal=%d", (long long)B, (long long)H,
             (long long)Nq, (long long)Nk, (long long)Dh, (long long)Dv, causal);
    /* scale 3 so scores reach ±~15 and the max subtraction matters */
    int q = tc_input(&c, 3, (int64_t[]){B, Nq, H * Dh}, 3.0f, 0.0f);
    int k = tc_input(&c, 3, (int64_t[]){B, Nk, H * Dh}, 3.0f, 0.0f);
    int v = IN(&c, B, Nk, H * Dv);
    float scale = 1.0f / sqrtf((float)Dh);
    t2i_op_attrs at = {.attention = {(int)H, scale, causal}};
    if (tc_run(&c, T2I_OP_ATTENTION, (int[]){q, k, v}, 3, &at)) n_fail++;
    double *ref = tc_ref(&c);
    check(&c, ref, (double)(Dh > Nk ? Dh : Nk));
    free(ref);
    tc_end(&c);
}

/* ---- TIMESTEP ------------------------------------------------------------------------ */

static void test_timestep(t2i_backend *be, int dim, bool flip, float shift)
{
    tcase c;
    tc_begin(&c, be, "timestep dim=%d flip=%d shift=%g", dim, flip, shift);
    int t = IN(&c, 4);
    float *td = c.data[t];
    td[0] = 0.0f; td[1] = 1.0f; td[2] = 500.5f; td[3] = 999.0f;
    t2i_op_attrs at = {.timestep = {dim, flip, shift}};
    if (tc_run(&c, T2I_OP_TIMESTEP, (int[]){t}, 1, &at)) n_fail++;
    int half = dim / 2;
    /* (1) torch's float32 steps (arange·(-ln 1e4) then /(half-shift), exp,
     * t·freq, each rounded to float), trig in double: within 2 ulp of 1. */
    double *ref = ref_alloc(&c), *exact = ref_alloc(&c);
    for (int b = 0; b < 4; b++)
        for (int i = 0; i < half; i++) {
            float e = ((float)-log(10000.0) * (float)i) / (float)(half - shift);
            float arg = td[b] * (float)exp((double)e);
            double s = sin((double)arg), co = cos((double)arg);
            ref[b * dim + i] = flip ? co : s;
            ref[b * dim + half + i] = flip ? s : co;
            /* (2) the exact math in double */
            double ae = td[b] * exp(-log(10000.0) * i / (half - shift));
            exact[b * dim + i] = flip ? cos(ae) : sin(ae);
            exact[b * dim + half + i] = flip ? sin(ae) : cos(ae);
        }
    int64_t n = out_numel(&c);
    double max_err = 0;
    for (int64_t i = 0; i < n; i++) max_err = fmax(max_err, fabs(c.out[i] - ref[i]));
    n_checks++;
    if (!(max_err <= 2.4e-7)) {   /* 2 ulp at 1.0; NaN fails too */
        printf("FAIL %s: vs torch-float32 emulation max|err| %.3g > 2.4e-7\n", c.name, max_err);
        n_fail++;
    }
    /* float32 rounding of t·freq at t = 999 costs up to 999·2^-24 ≈ 6e-5 */
    max_err = 0;
    for (int64_t i = 0; i < n; i++) max_err = fmax(max_err, fabs(c.out[i] - exact[i]));
    n_checks++;
    if (!(max_err <= 1.5e-4)) {
        printf("FAIL %s: vs exact max|err| %.3g > 1.5e-4\n", c.name, max_err);
        n_fail++;
    }
    free(ref);
    free(exact);
    tc_end(&c);
}

/* ---- data movement ops: exact ---------------------------------------------------------- */

static void test_upsample(t2i_backend *be, int64_t N, int64_t C, int64_t H, int64_t W)
{
    tcase c;
    tc_begin(&c, be, "upsample [%lld,%lld,%lld,%lld]", (long long)N, (long long)C, (long long)H, (long long)W);
    int x = IN(&c, N, C, H, W);
    if (tc_run(&c, T2I_OP_UPSAMPLE, (int[]){x}, 1, NULL)) n_fail++;
    double *ref = tc_ref(&c);
    check_exact(&c, ref);
    free(ref);
    tc_end(&c);
}

static void test_concat(t2i_backend *be, int ndim, const int64_t *ne, int axis, int64_t nb_axis)
{
    tcase c;
    tc_begin(&c, be, "concat %dd axis=%d", ndim, axis);
    int64_t bne[4];
    memcpy(bne, ne, (size_t)ndim * sizeof *bne);
    bne[axis] = nb_axis;
    int a = tc_input(&c, ndim, ne, 1.0f, 0.0f), b = tc_input(&c, ndim, bne, 1.0f, 0.0f);
    t2i_op_attrs at = {.axis = {axis}};
    if (tc_run(&c, T2I_OP_CONCAT, (int[]){a, b}, 2, &at)) n_fail++;
    double *ref = tc_ref(&c);
    check_exact(&c, ref);
    free(ref);
    tc_end(&c);
}

static void test_tokens(t2i_backend *be, int64_t N, int64_t C, int64_t H, int64_t W)
{
    tcase c;
    tc_begin(&c, be, "to_tokens/from_tokens [%lld,%lld,%lld,%lld]", (long long)N, (long long)C, (long long)H, (long long)W);
    int x = IN(&c, N, C, H, W);
    if (tc_run(&c, T2I_OP_TO_TOKENS, (int[]){x}, 1, NULL)) n_fail++;
    double *ref = tc_ref(&c);
    check_exact(&c, ref);
    free(ref);
    /* FROM_TOKENS on the tokens must give x back */
    int tok = tc_input(&c, 3, (int64_t[]){N, H * W, C}, 1.0f, 0.0f);
    memcpy(c.data[tok], c.out, (size_t)(N * C * H * W) * sizeof(float));
    t2i_op_attrs at = {.hw = {(int)H, (int)W}};
    snprintf(c.name + strlen(c.name), sizeof c.name - strlen(c.name), " back");
    if (tc_run(&c, T2I_OP_FROM_TOKENS, (int[]){tok}, 1, &at)) n_fail++;
    ref = ref_alloc(&c);
    for (int64_t i = 0; i < N * C * H * W; i++) ref[i] = D(&c, x)[i];
    check_exact(&c, ref);
    free(ref);
    tc_end(&c);
}

static void test_slice(t2i_backend *be, int ndim, const int64_t *ne, int axis, int start, int len)
{
    tcase c;
    tc_begin(&c, be, "slice %dd axis=%d [%d:%d]", ndim, axis, start, start + len);
    int x = tc_input(&c, ndim, ne, 1.0f, 0.0f);
    t2i_op_attrs at = {.slice = {axis, start, len}};
    if (tc_run(&c, T2I_OP_SLICE, (int[]){x}, 1, &at)) n_fail++;
    double *ref = tc_ref(&c);
    check_exact(&c, ref);
    free(ref);
    tc_end(&c);
}

static void test_embedding(t2i_backend *be)
{
    tcase c;
    tc_begin(&c, be, "embedding [2,7] from [50,12]");
    int ids = t2i_graph_input(c.g, "ids", T2I_I32, 2, (int64_t[]){2, 7});
    int32_t *idd = malloc(14 * sizeof *idd);
    for (int i = 0; i < 14; i++) idd[i] = (i * 17 + 3) % 50;
    idd[13] = 49;
    c.data[ids] = idd;
    int tab = IN(&c, 50, 12);
    if (tc_run(&c, T2I_OP_EMBEDDING, (int[]){ids, tab}, 2, NULL)) n_fail++;
    double *ref = tc_ref(&c);
    check_exact(&c, ref);
    free(ref);
    /* an out-of-range id is an error naming it */
    for (int bad = 0; bad < 2; bad++) {
        idd[5] = bad ? -1 : 50;
        t2i_status s = tc_run(&c, T2I_OP_EMBEDDING, (int[]){ids, tab}, 2, NULL);
        char want[32];
        snprintf(want, sizeof want, "id %d", idd[5]);
        n_checks++;
        if (s != T2I_ERR_INVALID_ARG || !strstr(t2i_last_error(), want)) {
            printf("FAIL embedding with id %d: status %s, message '%s'\n", idd[5], t2i_status_name(s), t2i_last_error());
            n_fail++;
        }
    }
    tc_end(&c);
}

/* ---- the shared cases (tests/op_cases.c) -------------------------------------------- */

/* Every op of graph/ops.def has a case that CI runs (not SD-sized), so an op
 * added without one fails here. */
static void check_op_coverage(void)
{
    for (int op = 0; op < T2I_OP_COUNT; op++) {
        int n = 0;
        for (int i = 0; i < t2i_n_op_cases; i++) n += t2i_op_cases[i].op == (t2i_op)op && !t2i_op_cases[i].sd_size;
        n_checks++;
        if (n == 0) {
            printf("FAIL op %s has no case in tests/op_cases.c that CI runs\n", t2i_op_name(op));
            n_fail++;
        }
    }
}

/* A view has no kernel: run it through a plan, as the executor does. */
static void run_view_case(tcase *c, const t2i_op_case *oc)
{
    t2i_graph *g = t2i_op_case_graph(oc);
    t2i_plan *p = NULL;
    int64_t n = out_numel(c);
    t2i_status st = g ? t2i_plan_create(g, c->be, NULL, &p) : T2I_ERR_INVALID_ARG;
    for (int i = 0; i < oc->n_in && st == T2I_OK; i++) {
        char nm[8];
        snprintf(nm, sizeof nm, "in%d", i);
        st = t2i_plan_set_input(p, nm, c->data[i], (size_t)t2i_tensor_numel(T(c, i)) * sizeof(float));
    }
    if (st == T2I_OK) st = t2i_plan_run(p);
    free(c->out);
    c->out = malloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++) c->out[i] = NAN;
    if (st == T2I_OK) st = t2i_plan_get_output(p, "out", c->out, (size_t)n * sizeof(float));
    if (st != T2I_OK) {
        printf("FAIL %s: %s\n", c->name, t2i_last_error());
        n_fail++;
    }
    t2i_plan_destroy(p);
}

/* The CPU kernel (or, for a view, a plan) against the case's reference in
 * double, under the rule at the top of this file with K = cpu_terms. */
static void run_shared_case(t2i_backend *be, const t2i_op_case *oc)
{
    tcase c;
    tc_begin(&c, be, "%s", oc->name);
    int in[T2I_MAX_INPUTS];
    for (int i = 0; i < oc->n_in; i++) {
        const t2i_case_in *ci = &oc->in[i];
        if (oc->ids && i == 0) {
            in[i] = t2i_graph_input(c.g, "ids", T2I_I32, ci->nd, ci->ne);
            int64_t n = t2i_tensor_numel(T(&c, in[i]));
            int32_t *ids = malloc((size_t)n * sizeof *ids);
            for (int64_t j = 0; j < n; j++) ids[j] = (int32_t)((j * 7919) % oc->in[1].ne[0]);
            c.data[in[i]] = ids;
        } else {
            in[i] = tc_input(&c, ci->nd, ci->ne, ci->scale > 0 ? ci->scale : 1.0f, ci->offset);
        }
    }
    if (t2i_op_is_view(oc->op)) {
        int out = t2i_graph_op(c.g, oc->op, c.name, in, oc->n_in, &oc->at);
        n_checks++;
        if (out < 0 || be->kernels[oc->op]) {
            printf("FAIL %s: a view must pass shape inference and have no kernel\n", c.name);
            n_fail++;
            tc_end(&c);
            return;
        }
        run_view_case(&c, oc);
    } else if (tc_run(&c, oc->op, in, oc->n_in, &oc->at)) {
        printf("FAIL %s: %s\n", c.name, t2i_last_error());
        n_fail++;
    }
    double *ref = tc_ref(&c);
    check(&c, ref, oc->cpu_terms);
    free(ref);
    tc_end(&c);
}

/* ---- the suite ---------------------------------------------------------------------- */

static void run_suite(t2i_backend *be)
{
    /* LINEAR: every optional input and activation, 2-d and 3-d x */
    for (int act = 0; act <= T2I_ACT_QUICK_GELU; act++)
        test_linear(be, 3, (int64_t[]){2, 5, 7}, 3, act % 2 == 0, act % 3 == 0, act);
    test_linear(be, 2, (int64_t[]){9, 16}, 11, false, false, T2I_ACT_NONE);
    test_linear(be, 2, (int64_t[]){9, 16}, 11, true, true, T2I_ACT_NONE);
    test_linear(be, 3, (int64_t[]){2, 77, 96}, 130, true, true, T2I_ACT_GELU);

    /* CONV2D */
    test_conv(be, 2, 3, 7, 7, 5, 3, 3, 1, 1, 1, 1, 1, true, false, T2I_ACT_NONE);
    test_conv(be, 2, 4, 6, 9, 3, 3, 3, 1, 1, 1, 1, 1, true, true, T2I_ACT_SILU);
    test_conv(be, 1, 3, 8, 8, 4, 3, 3, 2, 0, 0, 1, 1, true, false, T2I_ACT_NONE);   /* VAE downsample */
    test_conv(be, 2, 3, 9, 7, 4, 3, 3, 2, 0, 0, 1, 1, false, true, T2I_ACT_NONE);   /* odd sizes */
    test_conv(be, 2, 6, 5, 7, 4, 1, 1, 1, 0, 0, 0, 0, true, true, T2I_ACT_NONE);    /* direct GEMM */
    test_conv(be, 1, 6, 5, 7, 4, 1, 1, 1, 0, 0, 0, 0, false, false, T2I_ACT_GELU);
    test_conv(be, 1, 5, 7, 7, 3, 1, 1, 2, 0, 0, 0, 0, true, false, T2I_ACT_NONE);   /* 1x1 stride 2 */
    test_conv(be, 2, 3, 10, 11, 2, 3, 2, 3, 2, 0, 1, 3, true, true, T2I_ACT_QUICK_GELU);
    test_conv(be, 1, 4, 5, 5, 2, 5, 5, 1, 4, 4, 4, 4, false, false, T2I_ACT_NONE); /* pad ≥ kernel-1 */
    test_conv(be, 1, 32, 16, 16, 48, 3, 3, 1, 1, 1, 1, 1, true, false, T2I_ACT_SILU);
    /* banded im2col: 64·9·1024·4 B = 2.4 MB per row → 7-row bands over 16 rows */
    test_conv(be, 1, 64, 16, 1024, 4, 3, 3, 1, 1, 1, 1, 1, true, true, T2I_ACT_NONE);

    /* GROUPNORM / LAYERNORM */
    test_groupnorm(be, 4, (int64_t[]){2, 6, 5, 3}, 3, 0.0f, T2I_ACT_NONE);
    test_groupnorm(be, 4, (int64_t[]){2, 6, 5, 3}, 2, 0.0f, T2I_ACT_SILU);
    test_groupnorm(be, 3, (int64_t[]){2, 8, 10}, 4, 0.0f, T2I_ACT_NONE);
    test_groupnorm(be, 4, (int64_t[]){1, 4, 7, 7}, 1, 1000.0f, T2I_ACT_NONE);      /* large mean */
    test_groupnorm(be, 4, (int64_t[]){2, 64, 16, 16}, 32, 0.5f, T2I_ACT_SILU);
    test_layernorm(be, 3, (int64_t[]){2, 5, 7}, 0.0f);
    test_layernorm(be, 3, (int64_t[]){2, 77, 64}, 300.0f);
    test_layernorm(be, 2, (int64_t[]){1000, 40}, 0.0f);

    /* ACT / GEGLU */
    for (int act = 0; act <= T2I_ACT_QUICK_GELU; act++) test_act(be, act, 1000);
    test_act(be, T2I_ACT_SILU, 100000);
    test_geglu(be, 2, 5, 6);
    test_geglu(be, 2, 77, 640);

    /* ADD / MUL: same shape, per-row, per-channel, scalar, generic, pool-sized */
    for (int mul = 0; mul < 2; mul++) {
        const int64_t a4[] = {2, 3, 5, 7};
        test_binary(be, mul, 4, a4, 4, a4);
        test_binary(be, mul, 4, a4, 1, (int64_t[]){7});
        test_binary(be, mul, 4, a4, 3, (int64_t[]){3, 1, 1});
        test_binary(be, mul, 4, a4, 4, (int64_t[]){1, 3, 1, 1});
        test_binary(be, mul, 4, a4, 4, (int64_t[]){2, 3, 1, 1});
        test_binary(be, mul, 4, a4, 2, (int64_t[]){5, 1});
        test_binary(be, mul, 4, a4, 1, (int64_t[]){1});
        test_binary(be, mul, 4, a4, 3, (int64_t[]){3, 1, 7});
        test_binary(be, mul, 4, a4, 4, (int64_t[]){2, 1, 5, 1});
        test_binary(be, mul, 3, (int64_t[]){2, 77, 320}, 3, (int64_t[]){2, 1, 320});
        test_binary(be, mul, 4, (int64_t[]){2, 320, 16, 16}, 3, (int64_t[]){320, 1, 1});
        test_binary(be, mul, 4, (int64_t[]){2, 320, 16, 16}, 4, (int64_t[]){2, 320, 16, 16});
    }

    /* ATTENTION */
    test_attention(be, 2, 2, 5, 7, 4, 3, false);     /* Nq ≠ Nk, Dv ≠ D */
    test_attention(be, 1, 3, 77, 77, 8, 8, true);    /* CLIP-like, two row blocks */
    test_attention(be, 2, 1, 70, 90, 8, 5, true);    /* causal with Nk > Nq */
    test_attention(be, 1, 2, 130, 200, 16, 8, false);
    test_attention(be, 2, 2, 64, 77, 40, 40, false); /* cross-attention shape */

    /* TIMESTEP: SD (flip, shift 0), other convention, odd dim */
    test_timestep(be, 320, true, 0.0f);
    test_timestep(be, 256, false, 1.0f);
    test_timestep(be, 7, true, 1.0f);

    /* data movement */
    test_upsample(be, 2, 3, 4, 5);
    test_upsample(be, 1, 1, 1, 1);
    for (int ax = 0; ax < 4; ax++) test_concat(be, 4, (int64_t[]){2, 3, 4, 5}, ax, 2);
    test_concat(be, 3, (int64_t[]){2, 77, 64}, 2, 32);
    test_tokens(be, 2, 3, 4, 5);
    test_tokens(be, 2, 320, 16, 16);
    test_tokens(be, 1, 37, 33, 35);
    for (int ax = 0; ax < 4; ax++) test_slice(be, 4, (int64_t[]){2, 6, 4, 5}, ax, 1, ax == 0 ? 1 : 2);
    test_slice(be, 3, (int64_t[]){2, 77, 64}, 2, 32, 32);
    test_embedding(be);

    for (int i = 0; i < t2i_n_op_cases; i++)
        if (!t2i_op_cases[i].sd_size) run_shared_case(be, &t2i_op_cases[i]);
}

/* ---- benchmark (not a test): `test_cpu_ops --bench` --------------------------------- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void bench_one(t2i_backend *be, const char *what, t2i_op op, int *in, int n_in, t2i_op_attrs *at, tcase *c,
                      double flop)
{
    tc_run(c, op, in, n_in, at);   /* warm-up */
    int reps = 0;
    double t0 = now(), t;
    do {
        c->g->n_nodes--;            /* re-run the same node */
        c->g->n_tensors--;
        tc_run(c, op, in, n_in, at);
        reps++;
    } while ((t = now() - t0) < 1.0);
    printf("%-48s %8.2f ms  %7.1f GFLOP/s\n", what, 1e3 * t / reps, flop * reps / t * 1e-9);
    (void)be;
}

static int bench(int threads)
{
    t2i_backend *be;
    if (t2i_cpu_backend_create(threads, &be)) return 1;
    printf("CPU backend, %d threads\n", threads);
    tcase c;
    tc_begin(&c, be, "bench_linear");
    int x = IN(&c, 1, 4096, 320), w = IN(&c, 320, 320), b = IN(&c, 320);
    bench_one(be, "linear 4096x320 . 320x320 + bias", T2I_OP_LINEAR, (int[]){x, w, b}, 3, NULL, &c,
              2.0 * 4096 * 320 * 320);
    tc_end(&c);
    tc_begin(&c, be, "bench_conv");
    x = IN(&c, 1, 320, 32, 32), w = IN(&c, 320, 320, 3, 3), b = IN(&c, 320);
    t2i_op_attrs at = {.conv2d = {1, 1, 1, 1, 1, T2I_ACT_NONE}};
    bench_one(be, "conv2d 320->320 3x3 on 32x32 + bias", T2I_OP_CONV2D, (int[]){x, w, b}, 3, &at, &c,
              2.0 * 320 * 320 * 9 * 32 * 32);
    tc_end(&c);
    tc_begin(&c, be, "bench_conv64");
    x = IN(&c, 1, 320, 64, 64), w = IN(&c, 320, 320, 3, 3), b = IN(&c, 320);
    bench_one(be, "conv2d 320->320 3x3 on 64x64 + bias (banded)", T2I_OP_CONV2D, (int[]){x, w, b}, 3, &at, &c,
              2.0 * 320 * 320 * 9 * 64 * 64);
    tc_end(&c);
    tc_begin(&c, be, "bench_attn");
    int q = IN(&c, 1, 4096, 320), k = IN(&c, 1, 4096, 320), v = IN(&c, 1, 4096, 320);
    t2i_op_attrs aa = {.attention = {8, 1.0f / sqrtf(40.0f), false}};
    bench_one(be, "attention 1x8 heads 4096x4096 D=40", T2I_OP_ATTENTION, (int[]){q, k, v}, 3, &aa, &c,
              4.0 * 8 * 4096.0 * 4096 * 40);
    tc_end(&c);
    t2i_backend_destroy(be);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--bench") == 0) return bench(argc > 2 ? atoi(argv[2]) : 0);
    check_op_coverage();
    const int thread_counts[] = {1, 3};
    for (int i = 0; i < 2; i++) {
        t2i_backend *be;
        if (t2i_cpu_backend_create(thread_counts[i], &be) != T2I_OK) {
            printf("FAIL backend create: %s\n", t2i_last_error());
            return 1;
        }
        /* the table names every op; only RESHAPE (a view) has no kernel */
        for (int op = 0; op < T2I_OP_COUNT; op++)
            if ((be->kernels[op] == NULL) != (op == T2I_OP_RESHAPE)) {
                printf("FAIL kernel table entry for %s\n", t2i_op_name(op));
                n_fail++;
            }
        int before = n_fail;
        run_suite(be);
        printf("%d threads: %s\n", thread_counts[i], n_fail == before ? "all passed" : "FAILURES");
        t2i_backend_destroy(be);
    }
    t2i_backend *be;
    n_checks++;
    if (t2i_cpu_backend_create(-1, &be) != T2I_ERR_INVALID_ARG) {
        printf("FAIL threads=-1 accepted\n");
        n_fail++;
    }
    printf("%d checks, %d failed\n", n_checks, n_fail);
    return n_fail ? 1 : 0;
}
