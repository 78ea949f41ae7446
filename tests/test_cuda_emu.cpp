/*
 * test_cuda_emu.cpp — every custom CUDA kernel, compiled for the host
 * emulation (kernels/cuda/cuda_compat.cuh), against its CPU twin.
 *
 * The cases are the CI-sized ones of tests/op_cases.c (shared with
 * test_cpu_ops and test_cuda_backend; LINEAR and CONV2D, cuBLASLt/cuDNN glue
 * on a GPU, are left to test_cuda_backend), run in FP16 and in BF16, plus
 * the ones that need values of their own (timesteps, a bad token id).
 * Each case builds a one-node graph as tests/test_cpu_ops.c does, draws FP32
 * inputs from a seeded LCG and rounds them to the storage type (FP16, or
 * BF16 for the BF16 cases), so that both backends see the same values. The
 * CPU backend's kernel runs on the rounded values in FP32; the CUDA op
 * (cuda_op_<name>, the exported entry point of the .cu file, called with a
 * host-emulated backend) runs on 16-bit storage. Checks, in order:
 *   1. the CUDA output has no NaN/Inf (it is pre-filled with NaN, so an
 *      element the kernel forgot to write fails here);
 *   2. NMSE = Σ(out-ref)² / Σref² ≤ bound.
 *
 * Bound rule: a 16-bit float store rounds with relative error ≤ u
 * (u = 2^-11 for FP16, 2^-8 for BF16), so one rounding of the output gives
 * NMSE ≤ u²; each further rounding on the data path (attention's P in the
 * storage type) adds at most another u² in NMSE. With a factor 4 for the
 * FP32 arithmetic-order differences and libm-vs-device function error:
 *     NMSE ≤ 4·u²·depth,  depth = number of 16-bit roundings on the path
 * (1 for elementwise ops and norms, 2 for attention). Data-movement ops
 * copy 16-bit values: they must be exact (NMSE = 0).
 *
 * Then whole stages of tiny-sd1 and tiny-sd2 (text encoder, one UNet step, VAE decode)
 * run through plans on an emulated CUDA backend (see test_stages below)
 * against diffusers' FP32 references: NMSE ≤ 4·u²·(nodes in the plan);
 * the UNet plans also go through the executor's record/replay protocol
 * (CUDA Graphs on a GPU) with a host recorder: a replay after new inputs
 * must equal the eager run bit for bit.
 *
 * Prints the measured NMSE of every case; runs in a few seconds.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <initializer_list>
#include <vector>
#include "kernels/cuda/cuda_kernels.h"   /* and, as C, graph/graph.h, kernels/backend.h, base/error.h */
extern "C" {
#include "graph/build.h"
#include "base/dtype.h"
#include "graph/model_config.h"
#include "runtime/plan.h"
#include "formats/safetensors.h"
#include "runtime/weights.h"
}
#include "tests/op_cases.h"

#define MAXT 8

/* The emulated CUDA kernel of an op (ops.def impl column): LIBRARY ops
 * (LINEAR, CONV2D) are cuBLASLt / cuDNN glue, GPU only (test_cuda_backend.c). */
#define T2I_EMU_FN_KERNEL(fn) fn
#define T2I_EMU_FN_LIBRARY(fn) NULL
#define T2I_EMU_FN_VIEW(fn) NULL
static const t2i_kernel_fn emu_kernels[T2I_OP_COUNT] = {
#define T2I_OP(id, name, min_in, max_in, attr, impl) T2I_EMU_FN_##impl(cuda_op_##name),
#include "graph/ops.def"
};

static int n_fail, n_pass;
static uint64_t lcg_state = 0x9E3779B97F4A7C15ull;
static t2i_backend *cpu;
static cuda_backend emu;
static int emu_err;

static float frand(void)   /* uniform in [-1, 1) */
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((lcg_state >> 40) * (1.0 / 8388608.0)) - 1.0f;
}

static float round16(float f, t2i_dtype dt)
{
    return dt == T2I_BF16 ? __bfloat162float(__float2bfloat16_rn(f)) : __half2float(__float2half_rn(f));
}
static uint16_t bits16(float f, t2i_dtype dt)
{
    return dt == T2I_BF16 ? __bfloat16_as_ushort(__float2bfloat16_rn(f)) : __half_as_ushort(__float2half_rn(f));
}
static float from16(uint16_t b, t2i_dtype dt)
{
    if (dt == T2I_BF16) {
        __nv_bfloat16 h;
        h.__x = b;
        return __bfloat162float(h);
    }
    return __half2float(__ushort_as_half(b));
}

/* ---- one case ----------------------------------------------------------------- */
typedef struct tcase {
    t2i_graph *g;
    t2i_dtype dt;                  /* storage type on the emulated CUDA side */
    float *f32[MAXT];              /* by tensor id: rounded FP32 data (I32 for ids) */
    uint16_t *h16[MAXT];           /* by tensor id: the same in 16-bit storage */
    char name[160];
} tcase;

static void tc_begin(tcase *c, t2i_dtype dt, const char *fmt, ...) T2I_PRINTF(3, 4);
static void tc_begin(tcase *c, t2i_dtype dt, const char *fmt, ...)
{
    memset(c, 0, sizeof *c);
    c->g = t2i_graph_create();
    c->dt = dt;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->name, sizeof c->name, fmt, ap);
    va_end(ap);
}

static void tc_end(tcase *c)
{
    for (int i = 0; i < MAXT; i++) free(c->f32[i]), free(c->h16[i]);
    t2i_graph_destroy(c->g);
}

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
    c->f32[t] = (float *)malloc((size_t)n * sizeof(float));
    c->h16[t] = (uint16_t *)malloc((size_t)n * sizeof(uint16_t));
    for (int64_t i = 0; i < n; i++) {
        float v = offset + scale * frand();
        c->h16[t][i] = bits16(v, c->dt);
        c->f32[t][i] = round16(v, c->dt);
    }
    return t;
}
/* A shape written inline: NE(2, 3, 5) */
struct shp {
    int nd;
    int64_t ne[4];
    shp(std::initializer_list<int64_t> l) : nd((int)l.size()), ne{1, 1, 1, 1}
    {
        int i = 0;
        for (int64_t v : l) ne[i++] = v;
    }
};
#define NE(...) shp{__VA_ARGS__}
static int tc_input(tcase *c, shp s, float scale, float offset) { return tc_input(c, s.nd, s.ne, scale, offset); }
#define IN(c, ...) tc_input(c, NE(__VA_ARGS__), 1.0f, 0.0f)

/* An I32 input (token ids); the same buffer serves both backends. */
static int tc_ids(tcase *c, int nd, const int64_t *ne, const int32_t *ids)
{
    int t = t2i_graph_input(c->g, "ids", T2I_I32, nd, ne);
    int64_t n = t2i_tensor_numel(&c->g->tensors[t]);
    c->f32[t] = (float *)malloc((size_t)n * 4);
    memcpy(c->f32[t], ids, (size_t)n * 4);
    return t;
}
static int tc_ids(tcase *c, shp s, const int32_t *ids) { return tc_ids(c, s.nd, s.ne, ids); }

static const void *cuda_data(const tcase *c, int t)
{
    if (c->g->tensors[t].f32_storage) return c->f32[t];
    return c->h16[t] ? (const void *)c->h16[t] : (const void *)c->f32[t];
}

/* Run op on both backends and compare; depth as in the rule above
 * (0: must be exact). Returns the NMSE. */
static double tc_run(tcase *c, t2i_op op, const int *in, int n_in, const t2i_op_attrs *at, int depth,
                     t2i_status want = T2I_OK)
{
    int out = t2i_graph_op(c->g, op, c->name, in, n_in, at);
    if (out < 0) {
        fprintf(stderr, "%s: graph op failed: %s\n", c->name, t2i_last_error());
        exit(1);
    }
    const t2i_node *node = &c->g->nodes[c->g->n_nodes - 1];
    t2i_op_args a, b;
    memset(&a, 0, sizeof a);
    a.node = node;
    for (int i = 0; i < node->n_in; i++)
        if (node->in[i] >= 0) a.in[i] = &c->g->tensors[node->in[i]];
    a.out = &c->g->tensors[out];
    b = a;
    int64_t n = t2i_tensor_numel(a.out);

    /* CPU twin on the rounded FP32 values */
    float *ref = (float *)malloc((size_t)n * sizeof(float));
    for (int i = 0; i < node->n_in; i++)
        if (node->in[i] >= 0) a.in_data[i] = c->f32[node->in[i]];
    a.out_data = ref;
    a.workspace_bytes = cpu->vt->workspace_size(cpu, c->g, node);
    void *ws = NULL;
    if (cpu->vt->alloc(cpu, a.workspace_bytes, &ws) != T2I_OK) exit(1);
    a.workspace = ws;
    t2i_status s_cpu = cpu->kernels[op](cpu, &a);
    cpu->vt->free(cpu, ws);

    /* the CUDA kernel under emulation, on 16-bit storage */
    uint16_t *got16 = (uint16_t *)malloc((size_t)n * sizeof(uint16_t));
    for (int64_t i = 0; i < n; i++) got16[i] = 0x7e00;   /* NaN in FP16 and BF16 */
    for (int i = 0; i < node->n_in; i++)
        if (node->in[i] >= 0) b.in_data[i] = cuda_data(c, node->in[i]);
    b.out_data = got16;
    emu.base.act_dtype = emu.base.weight_dtype = c->dt;
    emu_err = 0;
    t2i_status s_cuda = emu_kernels[op](&emu.base, &b);
    if (s_cuda == T2I_OK && emu_err == CUDA_ERR_EMBEDDING_ID) s_cuda = T2I_ERR_INVALID_ARG;

    double nmse = 0;
    if (want != T2I_OK) {
        bool ok = s_cuda == want && s_cpu == want;
        printf("%-58s %s\n", c->name, ok ? "rejected as expected" : "NOT REJECTED");
        ok ? n_pass++ : n_fail++;
    } else if (s_cpu != T2I_OK || s_cuda != T2I_OK) {
        printf("%-58s FAIL: cpu %s, cuda %s: %s\n", c->name, t2i_status_name(s_cpu), t2i_status_name(s_cuda),
               t2i_last_error());
        n_fail++;
    } else {
        int64_t bad = 0;
        double num = 0, den = 0;
        for (int64_t i = 0; i < n; i++) {
            float g = from16(got16[i], c->dt);
            if (!isfinite(g)) bad++;
            double d = (double)g - ref[i];
            num += d * d;
            den += (double)ref[i] * ref[i];
        }
        nmse = den > 0 ? num / den : num;
        double u = c->dt == T2I_BF16 ? 1.0 / 256 : 1.0 / 2048;
        double bound = 4 * u * u * depth;
        bool ok = bad == 0 && nmse <= bound;
        printf("%-58s %s NMSE %.3e (bound %.2e)%s\n", c->name, c->dt == T2I_BF16 ? "bf16" : "fp16", nmse, bound,
               bad ? " NON-FINITE" : "");
        if (!ok) printf("    FAIL: %lld non-finite, NMSE %.3e > %.3e\n", (long long)bad, nmse, bound);
        ok ? n_pass++ : n_fail++;
    }
    free(ref);
    free(got16);
    return nmse;
}

/* ---- the cases ---------------------------------------------------------------- */
/* The shared cases of tests/op_cases.c (CI-sized) that have an emulated
 * kernel (ops.def impl KERNEL), in storage type dt. */
static void test_shared_cases(t2i_dtype dt)
{
    for (int i = 0; i < t2i_n_op_cases; i++) {
        const t2i_op_case *oc = &t2i_op_cases[i];
        if (oc->sd_size || !emu_kernels[oc->op]) continue;
        tcase c;
        tc_begin(&c, dt, "%s", oc->name);
        int in[T2I_MAX_INPUTS];
        for (int j = 0; j < oc->n_in; j++) {
            const t2i_case_in *ci = &oc->in[j];
            if (oc->ids && j == 0) {
                int64_t n = 1;
                for (int d = 0; d < ci->nd; d++) n *= ci->ne[d];
                std::vector<int32_t> ids((size_t)n);
                for (int64_t k = 0; k < n; k++) ids[(size_t)k] = (int32_t)((k * 7919) % oc->in[1].ne[0]);
                in[j] = tc_ids(&c, ci->nd, ci->ne, ids.data());
            } else {
                in[j] = tc_input(&c, ci->nd, ci->ne, ci->scale > 0 ? ci->scale : 1.0f, ci->offset);
            }
        }
        tc_run(&c, oc->op, in, oc->n_in, &oc->at, oc->depth);
        tc_end(&c);
    }
}

static void test_timestep(void)
{
    int dims[] = {32, 33, 320};
    for (int flip = 0; flip < 2; flip++)
        for (int di = 0; di < 3; di++) {
            tcase c;
            tc_begin(&c, T2I_F16, "timestep dim %d flip %d shift %d", dims[di], flip, flip ? 0 : 1);
            int64_t ne = 4;
            int t = t2i_graph_input(c.g, "t", T2I_F32, 1, &ne);
            /* FP32 storage: fractional timesteps (Euler linspace, Karras)
             * that FP16 could not hold reach the kernel unrounded */
            float ts[4] = {999.0f, 1.0f, 617.3f, 0.0f};
            c.f32[t] = (float *)malloc(sizeof ts);
            c.h16[t] = (uint16_t *)malloc(4 * sizeof(uint16_t));
            for (int i = 0; i < 4; i++) c.f32[t][i] = ts[i], c.h16[t][i] = bits16(ts[i], T2I_F16);
            t2i_op_attrs at;
            memset(&at, 0, sizeof at);
            at.timestep.dim = dims[di];
            at.timestep.flip_sin_to_cos = flip;
            at.timestep.freq_shift = flip ? 0.0f : 1.0f;
            tc_run(&c, T2I_OP_TIMESTEP, &t, 1, &at, 1);
            tc_end(&c);
        }
}

/* EMBEDDING with an id outside the table: both backends reject it. */
static void test_embedding_rejects(void)
{
    tcase c;
    tc_begin(&c, T2I_F16, "embedding id 11 outside table[11,16]");
    int32_t bad[3] = {0, 11, 2};
    int in[2];
    in[0] = tc_ids(&c, NE(1, 3), bad);
    in[1] = IN(&c, 11, 16);
    tc_run(&c, T2I_OP_EMBEDDING, in, 2, NULL, 0, T2I_ERR_INVALID_ARG);
    tc_end(&c);
}

/* The LINEAR/CONV2D epilogue has no op of its own: reference in double. */
static void test_epilogue(void)
{
    struct { int64_t n, inner, ch; t2i_act act; bool bias, res; const char *what; } cs[] = {
        {2 * 6 * 9, 9, 6, T2I_ACT_SILU, true, true, "conv [2,6,3,3] bias silu residual"},
        {5 * 12, 1, 12, T2I_ACT_GELU, true, false, "linear [5,12] bias gelu"},
        {5 * 12, 1, 12, T2I_ACT_NONE, false, true, "linear [5,12] residual"},
    };
    for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++) {
        int64_t n = cs[k].n;
        uint16_t *y = (uint16_t *)malloc(n * 2), *b = (uint16_t *)malloc(cs[k].ch * 2), *r = (uint16_t *)malloc(n * 2);
        double *ref = (double *)malloc(n * sizeof(double));
        for (int64_t i = 0; i < cs[k].ch; i++) b[i] = bits16(frand(), T2I_F16);
        for (int64_t i = 0; i < n; i++) {
            y[i] = bits16(2 * frand(), T2I_F16);
            r[i] = bits16(frand(), T2I_F16);
            double v = from16(y[i], T2I_F16) + (cs[k].bias ? from16(b[(i / cs[k].inner) % cs[k].ch], T2I_F16) : 0);
            switch (cs[k].act) {
            case T2I_ACT_SILU: v = v / (1 + exp(-v)); break;
            case T2I_ACT_GELU: v = 0.5 * v * (1 + erf(v / sqrt(2.0))); break;
            default: break;
            }
            ref[i] = v + (cs[k].res ? from16(r[i], T2I_F16) : 0);
        }
        emu.base.act_dtype = T2I_F16;
        t2i_status s = cuda_epilogue(&emu.base, y, cs[k].bias ? b : NULL, cs[k].res ? r : NULL, n, cs[k].inner,
                                     cs[k].ch, cs[k].act);
        double num = 0, den = 0;
        int bad = 0;
        for (int64_t i = 0; i < n; i++) {
            double g = from16(y[i], T2I_F16);
            bad += !isfinite(g);
            num += (g - ref[i]) * (g - ref[i]);
            den += ref[i] * ref[i];
        }
        double nmse = num / den, bound = 4.0 / (2048.0 * 2048.0);
        bool ok = s == T2I_OK && !bad && nmse <= bound;
        printf("%-58s fp16 NMSE %.3e (bound %.2e)%s\n", cs[k].what, nmse, bound, ok ? "" : " FAIL");
        ok ? n_pass++ : n_fail++;
        free(y), free(b), free(r), free(ref);
    }
}

/* cuda_pad2d (CONV2D's asymmetric padding) against plain loops: exact. */
static void test_pad2d(void)
{
    const int64_t P = 3, H = 5, W = 4;
    const int pt = 0, pl = 1, pb = 1, pr = 2;
    const int64_t Hp = H + pt + pb, Wp = W + pl + pr;
    uint16_t x[P * H * W], y[P * Hp * Wp];
    for (int64_t i = 0; i < P * H * W; i++) x[i] = bits16(frand(), T2I_F16);
    for (int64_t i = 0; i < P * Hp * Wp; i++) y[i] = 0x7e00;
    emu.base.act_dtype = T2I_F16;
    t2i_status s = cuda_pad2d(&emu.base, x, y, P, H, W, pt, pl, pb, pr);
    int bad = 0;
    for (int64_t p = 0; p < P; p++)
        for (int64_t i = 0; i < Hp; i++)
            for (int64_t j = 0; j < Wp; j++) {
                int64_t si = i - pt, sj = j - pl;
                uint16_t want = si >= 0 && si < H && sj >= 0 && sj < W ? x[(p * H + si) * W + sj] : 0;
                bad += y[(p * Hp + i) * Wp + j] != want;
            }
    printf("%-58s %s\n", "pad2d [3,5,4] by (0,1,1,2)", s == T2I_OK && !bad ? "exact" : "FAIL");
    s == T2I_OK && !bad ? n_pass++ : n_fail++;
}

/* The emulation itself: warp votes and shuffles, with exact answers. */
static __global__ void votes_kernel(int *out)
{
    int lane = (int)threadIdx.x % 32;
    unsigned ballot = __ballot_sync(0xffffffffu, lane % 3 == 0);
    int all = __all_sync(0xffffffffu, lane < 32), any = __any_sync(0xffffffffu, lane == 31);
    int down = __shfl_down_sync(0xffffffffu, lane, 5), bcast = __shfl_sync(0xffffffffu, lane * 2, 7);
    int x = __shfl_xor_sync(0xffffffffu, lane, 9);
    int sum = lane;
    for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
    __shared__ int counter;
    if (threadIdx.x == 0) counter = 0;
    __syncthreads();
    atomicAdd(&counter, 1);
    __syncthreads();
    int *o = out + threadIdx.x * 8;
    o[0] = (int)ballot, o[1] = all, o[2] = any, o[3] = down, o[4] = bcast, o[5] = x, o[6] = sum, o[7] = counter;
}

static void test_emulation(void)
{
    int out[64 * 8];
    CUDA_LAUNCH(votes_kernel, 1, 64, (cudaStream_t)0, out);
    unsigned want_ballot = 0;
    for (int i = 0; i < 32; i++) want_ballot |= (unsigned)(i % 3 == 0) << i;
    int bad = 0;
    for (int t = 0; t < 64; t++) {
        int lane = t % 32, *o = out + t * 8;
        bad += (unsigned)o[0] != want_ballot || o[1] != 1 || o[2] != 1 || o[3] != (lane + 5 < 32 ? lane + 5 : lane) ||
               o[4] != 14 || o[5] != (lane ^ 9) || o[6] != 496 || o[7] != 64;
    }
    printf("%-58s %s\n", "emulation: ballot/all/any/shfl/atomics/syncthreads", bad ? "FAIL" : "exact");
    bad ? n_fail++ : n_pass++;
}

/* ---- whole stages on an emulated CUDA backend ----------------------------------
 * A backend whose kernel table is the CUDA one — the emulated custom kernels
 * — with host memory, and with LINEAR and CONV2D (cuBLASLt / cuDNN on a GPU)
 * stood in for by the CPU kernels on FP16-rounded operands: the library's
 * FP32-accumulated product, rounded to FP16, then cuda_epilogue, as gemm.cu
 * and conv.cu do. The tiny-sd1 stages then run end to end through plans —
 * FP32↔FP16 conversion at the plan's edges, FP16 weights, every custom kernel
 * on real graphs — against diffusers' FP32 references, under the stage rule
 * of test_cuda_backend.c: NMSE ≤ 4·u²·(nodes in the plan). */
static const t2i_graph *stage_graph;

static t2i_status emu_alloc(t2i_backend *be, size_t bytes, void **ptr)
{
    (void)be;
    *ptr = aligned_alloc(256, (bytes + 255) / 256 * 256 + 256);
    return *ptr ? T2I_OK : t2i_fail(T2I_ERR_NOMEM, "emulated backend: out of memory");
}
static void emu_free(t2i_backend *be, void *ptr) { (void)be, free(ptr); }
static t2i_status emu_copy(t2i_backend *be, void *dst, const void *src, size_t bytes)
{
    (void)be;
    if (bytes) memcpy(dst, src, bytes);
    return T2I_OK;
}
static size_t emu_workspace(t2i_backend *be, const t2i_graph *g, const t2i_node *n)
{
    (void)be;
    return n->op == T2I_OP_CONV2D || n->op == T2I_OP_LINEAR ? cpu->vt->workspace_size(cpu, g, n) : 0;
}
static t2i_status emu_sync(t2i_backend *be)
{
    (void)be;
    if (emu_err) {
        emu_err = 0;
        return t2i_fail(T2I_ERR_INVALID_ARG, "embedding: a token id is outside the embedding table");
    }
    return T2I_OK;
}

static float *to_f32(const t2i_tensor *t, const void *h16)
{
    int64_t n = t2i_tensor_numel(t);
    float *f = (float *)malloc((size_t)n * sizeof(float) + 4);
    for (int64_t i = 0; i < n; i++) f[i] = t2i_f16_to_f32(((const uint16_t *)h16)[i]);
    return f;
}

/* LINEAR / CONV2D: the library stand-in (see above). */
static t2i_status emu_lib_op(t2i_backend *be, const t2i_op_args *a)
{
    t2i_node nd = *a->node;
    t2i_act act;
    if (nd.op == T2I_OP_LINEAR) act = nd.attr.linear.act, nd.attr.linear.act = T2I_ACT_NONE;
    else act = nd.attr.conv2d.act, nd.attr.conv2d.act = T2I_ACT_NONE;
    t2i_op_args c = *a;
    c.node = &nd;
    c.in[2] = c.in[3] = NULL;
    c.in_data[2] = c.in_data[3] = NULL;
    float *x = to_f32(a->in[0], a->in_data[0]), *w = to_f32(a->in[1], a->in_data[1]);
    int64_t n = t2i_tensor_numel(a->out);
    float *y = (float *)malloc((size_t)n * sizeof(float) + 4);
    c.in_data[0] = x, c.in_data[1] = w, c.out_data = y;
    t2i_status st = cpu->kernels[nd.op](cpu, &c);
    for (int64_t i = 0; i < n; i++) ((uint16_t *)a->out_data)[i] = t2i_f32_to_f16(y[i]);
    free(x), free(w), free(y);
    if (st != T2I_OK) return st;
    int64_t inner = 1, ch = a->out->ne[a->out->ndim - 1];
    if (nd.op == T2I_OP_CONV2D) inner = a->out->ne[2] * a->out->ne[3], ch = a->out->ne[1];
    return cuda_epilogue(be, a->out_data, a->in_data[2], a->in_data[3], n, inner, ch, act);
}

/* The executor's record/replay protocol (CUDA Graphs on a GPU), emulated
 * on the host: the second run of a plan records its node calls (kernel,
 * args), later runs replay them. It checks runtime/plan.c's side of the
 * protocol — a replayed run skips the node loop and reads the inputs set
 * since, a destroyed plan's recording is forgotten — with the same policy as
 * cuda_backend.cu (first run eager, second recorded). */
struct rec_call {
    t2i_kernel_fn fn;
    t2i_op_args a;
};
static struct {
    std::vector<rec_call> calls;
    const void *key;
    const void *run_key;  /* the plan `runs` counts the runs of */
    int state;          /* 0 none, 1 recording, 2 recorded */
    int runs, replays, forgets;
} rec;
static t2i_kernel_fn emu_table[T2I_OP_COUNT], emu_impl[T2I_OP_COUNT];

static t2i_status emu_node(t2i_backend *be, const t2i_op_args *a)
{
    t2i_kernel_fn fn = emu_impl[a->node->op];
    if (rec.state == 1) rec.calls.push_back({fn, *a});
    return fn(be, a);
}
static t2i_status emu_run_begin(t2i_backend *be, const void *key, bool *replayed)
{
    *replayed = false;
    if (rec.state == 2 && rec.key == key) {
        for (const rec_call &c : rec.calls) T2I_TRY(c.fn(be, &c.a));
        rec.replays++;
        *replayed = true;
        return T2I_OK;
    }
    if (key != rec.run_key) rec.run_key = key, rec.runs = 0;
    if (rec.state == 0 && rec.runs++ == 1) {
        rec.state = 1, rec.key = key;
        rec.calls.clear();
    }
    return T2I_OK;
}
static t2i_status emu_run_end(t2i_backend *be, const void *key, t2i_status st)
{
    (void)be;
    if (rec.state == 1 && rec.key == key) rec.state = st == T2I_OK ? 2 : 0;
    return st;
}
static void emu_forget(t2i_backend *be, const void *key)
{
    (void)be;
    if (rec.run_key == key) rec.run_key = NULL;   /* a new plan may get the same address */
    if (rec.key == key && rec.state) rec.state = 0, rec.key = NULL, rec.forgets++;
}

static const t2i_backend_vtable emu_vtable = {
    "cuda-emulated", NULL, emu_alloc, emu_free, emu_copy, emu_copy, emu_workspace, emu_sync,
    emu_run_begin, emu_run_end, emu_forget,
};

static t2i_plan *stage_plan(t2i_graph *g, const char *dir, const char *part, t2i_weights **w)
{
    char path[512];
    t2i_st_set *set = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, part);
    t2i_plan *p = NULL;
    t2i_status st = t2i_st_set_open_dir(path, &set);
    if (st == T2I_OK)
        st = t2i_weights_load(&emu.base, set, g, part, strcmp(part, "text_encoder") ? NULL : "text_model.", w);
    t2i_st_set_destroy(set);
    if (st == T2I_OK) st = t2i_plan_create(g, &emu.base, *w, &p);
    else t2i_graph_destroy(g);
    if (st != T2I_OK) {
        printf("%-58s FAIL: %s\n", part, t2i_last_error());
        n_fail++;
        return NULL;
    }
    stage_graph = p->g;
    return p;
}

static void stage_check(const char *what, const t2i_plan *p, const float *got, const float *want, size_t n)
{
    double num = 0, den = 0;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        bad += !isfinite(got[i]);
        double d = (double)got[i] - want[i];
        num += d * d;
        den += (double)want[i] * want[i];
    }
    double e = num / den, bound = 4.0 / (2048.0 * 2048.0) * p->g->n_nodes;
    bool ok = !bad && e <= bound;
    printf("%-58s fp16 NMSE %.3e (bound %.2e, %d nodes)%s\n", what, e, bound, p->g->n_nodes, ok ? "" : " FAIL");
    ok ? n_pass++ : n_fail++;
}

static float *ref_tensor(t2i_st_file *f, const char *name, size_t *n)
{
    const t2i_st_tensor *t = t2i_st_find(f, name);
    if (!t) return NULL;
    *n = (size_t)t2i_st_numel(t);
    float *buf = (float *)malloc(*n * sizeof(float) + 4);
    t2i_st_read_f32(t, buf);
    return buf;
}

/* "stage: tiny-sd1 unet step" from the fixture folder and the stage */
static const char *label(const char *dir, const char *what)
{
    static char buf[128];
    const char *base = strrchr(dir, '/');
    snprintf(buf, sizeof buf, "stage: %s %s", base ? base + 1 : dir, what);
    return buf;
}

static void test_stages(const char *dir)
{
    for (int i = 0; i < T2I_OP_COUNT; i++) emu_impl[i] = emu_kernels[i];
    emu_impl[T2I_OP_LINEAR] = emu_lib_op;
    emu_impl[T2I_OP_CONV2D] = emu_lib_op;
    for (int i = 0; i < T2I_OP_COUNT; i++) emu_table[i] = emu_impl[i] ? emu_node : NULL;
    rec.state = 0, rec.runs = 0, rec.key = rec.run_key = NULL;
    cuda_backend saved = emu;
    emu.base.vt = &emu_vtable;
    emu.base.kernels = emu_table;
    emu.base.act_dtype = emu.base.weight_dtype = T2I_F16;
    char path[512], rp[512];
    t2i_st_file *ref = NULL;

    t2i_clip_text_config tc;
    snprintf(path, sizeof path, "%s/text_encoder/config.json", dir);
    snprintf(rp, sizeof rp, "%s/ref/text.safetensors", dir);
    t2i_graph *g = NULL;
    t2i_weights *w = NULL;
    if (t2i_clip_text_config_load(path, &tc) == T2I_OK && t2i_st_open(rp, &ref) == T2I_OK &&
        t2i_build_clip_text(&tc, 2, 77, &g) == T2I_OK) {
        t2i_plan *p = stage_plan(g, dir, "text_encoder", &w);
        const t2i_st_tensor *ids = t2i_st_find(ref, "ids");
        size_t n = 0;
        float *want = ref_tensor(ref, "hidden", &n), *got = (float *)malloc(n * sizeof(float) + 4);
        if (p && ids && want && t2i_plan_set_input(p, "ids", ids->data, ids->nbytes) == T2I_OK &&
            t2i_plan_run(p) == T2I_OK && t2i_plan_get_output(p, "hidden", got, n * sizeof(float)) == T2I_OK)
            stage_check(label(dir, "text encoder"), p, got, want, n);
        else if (p)
            printf("text encoder stage FAIL: %s\n", t2i_last_error()), n_fail++;
        free(want), free(got);
        t2i_plan_destroy(p);
    } else {
        printf("text encoder stage setup FAIL: %s\n", t2i_last_error()), n_fail++;
    }
    t2i_weights_destroy(w), w = NULL;
    t2i_st_close(ref), ref = NULL;

    t2i_unet_config uc;
    snprintf(path, sizeof path, "%s/unet/config.json", dir);
    snprintf(rp, sizeof rp, "%s/ref/unet.safetensors", dir);
    g = NULL;
    if (t2i_unet_config_load(path, &uc) == T2I_OK && t2i_st_open(rp, &ref) == T2I_OK &&
        t2i_build_unet(&uc, 2, 8, 8, 77, &g) == T2I_OK) {
        t2i_plan *p = stage_plan(g, dir, "unet", &w);
        size_t ns = 0, nt = 0, nc = 0, no = 0;
        float *sample = ref_tensor(ref, "sample", &ns), *t = ref_tensor(ref, "timestep", &nt);
        float *ctx = ref_tensor(ref, "encoder_hidden_states", &nc), *want = ref_tensor(ref, "out", &no);
        float *got = (float *)malloc(no * sizeof(float) + 4);
        float ts[2] = {t ? t[0] : 0, t ? t[0] : 0};
        if (p && sample && t && ctx && want && t2i_plan_set_input(p, "sample", sample, ns * sizeof(float)) == T2I_OK &&
            t2i_plan_set_input(p, "timestep", ts, sizeof ts) == T2I_OK &&
            t2i_plan_set_input(p, "context", ctx, nc * sizeof(float)) == T2I_OK && t2i_plan_run(p) == T2I_OK &&
            t2i_plan_get_output(p, "out", got, no * sizeof(float)) == T2I_OK)
            stage_check(label(dir, "unet step"), p, got, want, no);
        else if (p)
            printf("unet stage FAIL: %s\n", t2i_last_error()), n_fail++;
        if (p && sample && got) {
            /* run 2 (recorded) on another sample, run 3 (replayed) on the
             * first one again: run 3 must equal run 1 bit for bit */
            float *other = (float *)malloc(ns * sizeof(float) + 4), *got3 = (float *)malloc(no * sizeof(float) + 4);
            for (size_t i = 0; i < ns; i++) other[i] = 0.5f * sample[i];
            int replays = rec.replays;
            bool ok = t2i_plan_set_input(p, "sample", other, ns * sizeof(float)) == T2I_OK &&
                      t2i_plan_run(p) == T2I_OK && t2i_plan_set_input(p, "sample", sample, ns * sizeof(float)) == T2I_OK &&
                      t2i_plan_run(p) == T2I_OK && t2i_plan_get_output(p, "out", got3, no * sizeof(float)) == T2I_OK;
            ok = ok && rec.replays == replays + 1 && memcmp(got3, got, no * sizeof(float)) == 0;
            printf("%-58s %s\n", "  recorded run, then replay with new inputs = eager run", ok ? "exact" : "FAIL");
            ok ? n_pass++ : n_fail++;
            free(other), free(got3);
        }
        free(sample), free(t), free(ctx), free(want), free(got);
        int forgets = rec.forgets;
        t2i_plan_destroy(p);
        if (p) {
            bool ok = rec.forgets == forgets + 1;
            printf("%-58s %s\n", "  destroyed plan's recording forgotten", ok ? "yes" : "FAIL");
            ok ? n_pass++ : n_fail++;
        }
    } else {
        printf("unet stage setup FAIL: %s\n", t2i_last_error()), n_fail++;
    }
    t2i_weights_destroy(w), w = NULL;
    t2i_st_close(ref), ref = NULL;

    t2i_vae_config vc;
    snprintf(path, sizeof path, "%s/vae/config.json", dir);
    snprintf(rp, sizeof rp, "%s/ref/vae_decode.safetensors", dir);
    g = NULL;
    if (t2i_vae_config_load(path, &vc) == T2I_OK && t2i_st_open(rp, &ref) == T2I_OK &&
        t2i_build_vae_decoder(&vc, 1, 64 / t2i_vae_scale(&vc), 64 / t2i_vae_scale(&vc), &g) == T2I_OK) {
        t2i_plan *p = stage_plan(g, dir, "vae", &w);
        size_t ni = 0, no = 0;
        float *in = ref_tensor(ref, "latents", &ni), *want = ref_tensor(ref, "image", &no);
        float *got = (float *)malloc(no * sizeof(float) + 4);
        if (p && in && want && t2i_plan_set_input(p, "latents", in, ni * sizeof(float)) == T2I_OK &&
            t2i_plan_run(p) == T2I_OK && t2i_plan_get_output(p, "image", got, no * sizeof(float)) == T2I_OK)
            stage_check(label(dir, "vae decode"), p, got, want, no);
        else if (p)
            printf("vae stage FAIL: %s\n", t2i_last_error()), n_fail++;
        free(in), free(want), free(got);
        t2i_plan_destroy(p);
    } else {
        printf("vae stage setup FAIL: %s\n", t2i_last_error()), n_fail++;
    }
    t2i_weights_destroy(w);
    t2i_st_close(ref);
    emu = saved;
}

int main(void)
{
    if (t2i_cpu_backend_create(1, &cpu) != T2I_OK) {
        fprintf(stderr, "cpu backend: %s\n", t2i_last_error());
        return 1;
    }
    memset(&emu, 0, sizeof emu);
    emu.err_flag = &emu_err;
    emu.err_host = &emu_err;
    emu.base.kind = T2I_BACKEND_CUDA;

    test_emulation();
    test_shared_cases(T2I_F16);
    test_timestep();
    test_embedding_rejects();
    test_epilogue();
    test_pad2d();
    /* BF16 storage: the same kernels instantiated for __nv_bfloat16 */
    test_shared_cases(T2I_BF16);
    test_stages("tests/fixtures/tiny-sd1");
    test_stages("tests/fixtures/tiny-sd2");

    t2i_backend_destroy(cpu);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
