/*
 * test_cuda_standin_e2e.c — the whole CUDA backend on the host stand-ins of
 * the CUDA runtime, cuBLASLt and cuDNN (tests/cuda_standin, label `emu`):
 * cuda_backend.cu, gemm.cu, conv.cu and every kernel, as shipped, against
 * the CPU backend.
 *
 *   1. Stages of tiny-sd1, tiny-sd2, the SDXL fixture (both text encoders)
 *      and the default model (models/default): text encoders, one UNet step
 *      (residual adds folded, as the pipeline plans them), VAE decoder and
 *      encoder, each through plans on both backends with the same inputs.
 *      The CUDA plan runs three times: eager, captured into a CUDA Graph and
 *      launched, replayed after new inputs. Checked per run: no device
 *      allocation, no memcheck finding (guard zones after every kernel,
 *      copy and library call; library operands inside their allocation and
 *      written), the graph recorded on run 2 and replayed on run 3; after
 *      the plans are destroyed every allocation they made is freed.
 *   2. txt2img through the public pipeline (tiny-sd1 at 64², the default
 *      model at 128², 4 Euler steps with CFG) on an engine with that
 *      backend, against the CPU engine: final latents and image.
 *   3. The same glue deliberately broken at the API boundary (standin.h
 *      faults: a wrong leading dimension, no workspace, an allocation while
 *      capturing) and a plan input never written: each must make the check
 *      fail.
 *
 * Tolerance (the rule of test_cuda_backend and the emulated stage tests):
 * u = 2^-11; every node's output is one more FP16 rounding, so a plan of n
 * nodes is within NMSE ≤ 4·u²·n of the FP32 CPU backend on the same inputs.
 * Run 2 (captured) must equal run 1 bit for bit: the same kernels on the
 * same data, and the stand-ins are deterministic.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "graph/build.h"
#include "graph/model_config.h"
#include "base/dtype.h"
#include "tests/stage_util.h"
#include "standin.h"

#define U16 (1.0 / 2048.0)

static t2i_backend *cpu, *dev;
static uint64_t lcg = 0x9E3779B97F4A7C15ull;
static bool quiet;   /* negative tests: report detection, not failures */

static float frand(void)
{
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((lcg >> 40) * (1.0 / 8388608.0)) - 1.0f;
}

static double nmse(const float *got, const float *ref, size_t n, size_t *nonfinite)
{
    double num = 0, den = 0;
    *nonfinite = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(got[i])) (*nonfinite)++;
        double d = (double)got[i] - ref[i];
        num += d * d;
        den += (double)ref[i] * ref[i];
    }
    return den > 0 ? num / den : num;
}

/* What a stage is: a part of a model folder and a builder of its graph. */
typedef struct stage {
    const char *dir, *part, *prefix, *label;
    int kind;   /* 0 text, 1 text with penultimate, 2 text_2 with pooled, 3 unet, 4 vae decoder, 5 vae encoder */
    int lat;    /* UNet latent side */
} stage;

static t2i_graph *build(const stage *s)
{
    char path[512];
    t2i_graph *g = NULL;
    if (s->kind <= 2) {
        t2i_clip_text_config c;
        snprintf(path, sizeof path, "%s/%s/config.json", s->dir, s->part);
        if (t2i_clip_text_config_load(path, &c) != T2I_OK) return NULL;
        t2i_clip_outputs o = {.penultimate = s->kind >= 1, .pooled = s->kind == 2};
        t2i_build_clip_text_ex(&c, 2, 77, &o, &g);
    } else if (s->kind == 3) {
        t2i_unet_config c;
        snprintf(path, sizeof path, "%s/unet/config.json", s->dir);
        if (t2i_unet_config_load(path, &c) != T2I_OK) return NULL;
        t2i_build_unet(&c, 2, s->lat, s->lat, 77, &g);
    } else {
        t2i_vae_config c;
        snprintf(path, sizeof path, "%s/vae/config.json", s->dir);
        if (t2i_vae_config_load(path, &c) != T2I_OK) return NULL;
        int f = t2i_vae_scale(&c);
        if (s->kind == 4) t2i_build_vae_decoder(&c, 1, 64 / f, 64 / f, &g);
        else t2i_build_vae_encoder(&c, 1, 64, 64, &g);
    }
    return g;
}

static void set_one(t2i_plan *p, const char *name, const void *v, size_t bytes)
{
    t2i_status st = t2i_plan_set_input(p, name, v, bytes);
    if (!quiet) CHECK(st == T2I_OK, "set input %s: %s", name, st ? t2i_last_error() : "ok");
}

/* Fill every input of p (same values for the same seed): token ids and pool
 * positions from [0, 77), a fractional timestep, the rest uniform [-1, 1]
 * rounded to FP16 so both backends see the same numbers. */
static void set_inputs(t2i_plan *p, uint64_t seed)
{
    lcg = seed;
    for (int i = 0; i < p->g->n_tensors; i++) {
        const t2i_tensor *t = &p->g->tensors[i];
        if (t->kind != T2I_TENSOR_INPUT || !t->name || t->dead) continue;
        size_t n = (size_t)t2i_tensor_numel(t);
        if (t->dtype == T2I_I32) {
            int32_t *v = malloc(n * 4 + 4);
            for (size_t j = 0; j < n; j++) v[j] = (int32_t)((j * 7919 + seed) % 77);
            set_one(p, t->name, v, n * 4);
            free(v);
        } else {
            float *v = malloc(n * 4 + 4);
            for (size_t j = 0; j < n; j++)
                v[j] = strcmp(t->name, "timestep") ? t2i_f16_to_f32(t2i_f32_to_f16(frand())) : 617.3f;
            set_one(p, t->name, v, n * 4);
            free(v);
        }
    }
}

/* The outputs of p, concatenated (malloc'd), and their count. */
static float *get_outputs(const t2i_plan *p, size_t *n_out)
{
    size_t n = 0;
    for (int i = 0; i < p->g->n_tensors; i++)
        if (p->g->tensors[i].is_output && p->g->tensors[i].name) n += (size_t)t2i_tensor_numel(&p->g->tensors[i]);
    float *out = malloc(n * 4 + 4);
    size_t at = 0;
    for (int i = 0; i < p->g->n_tensors; i++) {
        const t2i_tensor *t = &p->g->tensors[i];
        if (!t->is_output || !t->name) continue;
        size_t k = (size_t)t2i_tensor_numel(t);
        if (t2i_plan_get_output(p, t->name, out + at, k * 4) != T2I_OK) memset(out + at, 0xff, k * 4);
        at += k;
    }
    *n_out = n;
    return out;
}

static t2i_plan *compile_quiet(t2i_backend *be, const stage *s, t2i_weights **w)
{
    t2i_graph *g = build(s);
    if (!g) return NULL;
    char path[512];
    t2i_st_set *set = NULL;
    snprintf(path, sizeof path, "%s/%s", s->dir, s->part);
    if (t2i_st_set_open_dir(path, &set) != T2I_OK) {
        t2i_graph_destroy(g);
        return NULL;
    }
    t2i_status st = t2i_weights_load(be, set, g, s->part, s->prefix, w);
    t2i_st_set_destroy(set);
    if (st != T2I_OK) {
        t2i_graph_destroy(g);
        return NULL;
    }
    int nf = 0;
    if (t2i_fuse_residual_adds(g, &nf) != T2I_OK) {
        t2i_graph_destroy(g);
        return NULL;
    }
    t2i_plan *p = NULL;
    if (t2i_plan_create(g, be, *w, &p) != T2I_OK) return NULL;
    return p;
}

#define EXPECT(cond, ...)                                        \
    do {                                                         \
        if (!(cond)) {                                           \
            failed = true;                                       \
            if (!quiet) CHECK(cond, __VA_ARGS__);                \
        } else if (!quiet) CHECK(cond, __VA_ARGS__);             \
    } while (0)

/* Runs stage s on both backends (CUDA three times); returns true when every
 * check held. */
static bool run_stage(const stage *s)
{
    bool failed = false;
    standin_stats s0, s1;
    standin_get_stats(&s0);
    t2i_weights *wc = NULL, *wg = NULL;
    t2i_plan *pc = compile_quiet(cpu, s, &wc), *pg = compile_quiet(dev, s, &wg);
    EXPECT(pc && pg, "%s: plans: %s", s->label, t2i_last_error());
    if (pc && pg) {
        double bound = 4 * U16 * U16 * pg->g->n_nodes;
        float *ref[2] = {NULL, NULL}, *got[3] = {NULL, NULL, NULL};
        size_t n = 0, bad = 0;
        for (int r = 0; r < 2; r++) {
            set_inputs(pc, 1000 + (uint64_t)r);
            EXPECT(t2i_plan_run(pc) == T2I_OK, "%s: cpu run: %s", s->label, t2i_last_error());
            ref[r] = get_outputs(pc, &n);
        }
        for (int r = 0; r < 3; r++) {
            standin_stats a, b;
            set_inputs(pg, 1000 + (uint64_t)(r == 2));
            standin_get_stats(&a);
            t2i_status st = t2i_plan_run(pg);
            standin_get_stats(&b);
            EXPECT(st == T2I_OK, "%s: cuda run %d: %s", s->label, r + 1, st ? t2i_last_error() : "ok");
            EXPECT(b.mallocs == a.mallocs, "%s: run %d allocated %lld times", s->label, r + 1,
                   (long long)(b.mallocs - a.mallocs));
            EXPECT(b.violations == 0, "%s: run %d memcheck: %s", s->label, r + 1, standin_first_violation());
            if (r == 1) EXPECT(b.captures == a.captures + 1 && b.recorded_nodes > a.recorded_nodes,
                               "%s: run 2 recorded a graph (%lld nodes)", s->label,
                               (long long)(b.recorded_nodes - a.recorded_nodes));
            if (r >= 1) EXPECT(b.graph_launches == a.graph_launches + 1, "%s: run %d launched the graph", s->label, r + 1);
            if (r == 2) EXPECT(b.launches > a.launches && b.recorded_nodes == a.recorded_nodes,
                               "%s: run 3 replayed %lld kernels without recording", s->label,
                               (long long)(b.launches - a.launches));
            got[r] = get_outputs(pg, &n);
        }
        for (int r = 0; r < 3; r++) {
            const float *want = ref[r == 2];
            double e = nmse(got[r], want, n, &bad);
            if (!quiet)
                printf("  %-34s run %d (%s) NMSE %.3e (bound %.2e, %d nodes)\n", s->label, r + 1,
                       r == 0 ? "eager" : r == 1 ? "captured" : "replayed, new inputs", e, bound, pg->g->n_nodes);
            EXPECT(bad == 0, "%s run %d: %zu non-finite outputs", s->label, r + 1, bad);
            EXPECT(e <= bound, "%s run %d: NMSE %.3e > %.3e", s->label, r + 1, e, bound);
        }
        EXPECT(memcmp(got[0], got[1], n * 4) == 0, "%s: the captured run equals the eager run bit for bit", s->label);
        free(ref[0]), free(ref[1]), free(got[0]), free(got[1]), free(got[2]);
    }
    t2i_plan_destroy(pc), t2i_plan_destroy(pg);
    t2i_weights_destroy(wc), t2i_weights_destroy(wg);
    standin_get_stats(&s1);
    EXPECT(s1.live_allocs == s0.live_allocs && s1.live_bytes == s0.live_bytes,
           "%s: every allocation of the plan and weights freed (%lld left)", s->label,
           (long long)(s1.live_allocs - s0.live_allocs));
    EXPECT(s1.nvtx_depth == 0, "%s: NVTX ranges balanced", s->label);
    return !failed;
}

/* A broken variant must fail some check. */
static void expect_caught(const char *what, standin_fault f, const stage *s)
{
    quiet = true;
    standin_set_fault(f);
    bool ok = run_stage(s);
    standin_set_fault(STANDIN_FAULT_NONE);
    const char *v = standin_first_violation();
    printf("  broken glue, %-28s %s: %s\n", what, ok ? "NOT caught" : "caught", *v ? v : t2i_last_error());
    standin_clear_violations();
    quiet = false;
    CHECK(!ok, "%s must make the end-to-end check fail", what);
}

/* A plan input never written: the poison fill must surface. */
static void expect_uninitialized_caught(const stage *s)
{
    t2i_weights *w = NULL;
    t2i_plan *p = compile_quiet(dev, s, &w);
    CHECK(p != NULL, "plan: %s", t2i_last_error());
    if (p) {
        t2i_status st = t2i_plan_run(p);   /* no inputs set */
        standin_stats a;
        standin_get_stats(&a);
        size_t n = 0, bad = 0;
        float *out = get_outputs(p, &n);
        for (size_t i = 0; i < n; i++) bad += !isfinite(out[i]);
        free(out);
        printf("  never-written input: run %s, %lld memcheck findings (%s), %zu non-finite outputs\n",
               t2i_status_name(st), (long long)a.violations, standin_first_violation(), bad);
        CHECK(st != T2I_OK || a.violations > 0 || bad > 0, "a read of never-written device memory is caught");
    }
    standin_clear_violations();
    t2i_plan_destroy(p);
    t2i_weights_destroy(w);
}

/* txt2img through the public pipeline on an engine whose backend is the
 * CUDA backend on the stand-ins, against the CPU engine: `steps` Euler steps,
 * CFG 7.5, so the UNet plan runs eager, captured, then replayed. The dumped
 * final latents and decoded image by the same depth rule over the path:
 * NMSE ≤ 4·u²·(text + steps·UNet + VAE nodes), node counts as measured by
 * the stage runs (passed in). */
static void run_txt2img(const char *dir, int size, int steps, int nodes)
{
    struct t2i_engine ec = {cpu}, eg = {dev};
    t2i_model *mc = NULL, *mg = NULL;
    CHECK_OK(t2i_model_load(&ec, dir, &mc));
    CHECK_OK(t2i_model_load(&eg, dir, &mg));
    if (!mc || !mg) {
        t2i_model_destroy(mc), t2i_model_destroy(mg);
        return;
    }
    char path[2][128];
    t2i_st_file *got[2] = {NULL, NULL};
    standin_stats a, b;
    for (int k = 0; k < 2; k++) {
        t2i_txt2img_params p;
        snprintf(path[k], sizeof path[k], "/tmp/t2i_standin_e2e_%d_%d.safetensors", k, (int)getpid());
        ref_params(&p, "a red circle on a blue background", "", T2I_SAMPLER_EULER, path[k]);
        p.steps = steps;
        p.width = p.height = size;
        t2i_image *imgs = NULL;
        int n = 0;
        if (k) standin_get_stats(&a);
        got[k] = run_ref_txt2img(k ? mg : mc, &p, &imgs, &n);
        if (k) standin_get_stats(&b);
        t2i_images_free(imgs, n);
    }
    CHECK(b.violations == 0, "%s txt2img: memcheck: %s", dir, standin_first_violation());
    CHECK(b.captures > a.captures && b.graph_launches - a.graph_launches >= steps - 1,
          "%s txt2img: the UNet plan recorded and replayed (%lld captures, %lld graph launches)", dir,
          (long long)(b.captures - a.captures), (long long)(b.graph_launches - a.graph_launches));
    double bound = 4 * U16 * U16 * nodes;
    const char *names[] = {"latents", "image"};
    for (int i = 0; i < 2 && got[0] && got[1]; i++) {
        size_t n0 = 0, n1 = 0, bad = 0;
        float *want = ref_f32(got[0], names[i], &n0), *have = ref_f32(got[1], names[i], &n1);
        if (want && have && n0 == n1) {
            double e = nmse(have, want, n0, &bad);
            printf("  %-34s %-7s NMSE %.3e (bound %.2e, %d nodes on the path)\n", dir, names[i], e, bound, nodes);
            CHECK(bad == 0 && e <= bound, "%s txt2img %s: NMSE %.3e > %.3e or %zu non-finite", dir, names[i], e,
                  bound, bad);
        }
        free(want), free(have);
    }
    for (int k = 0; k < 2; k++) {
        t2i_st_close(got[k]);
        unlink(path[k]);
    }
    t2i_model_destroy(mc), t2i_model_destroy(mg);
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    standin_stats s0;
    standin_get_stats(&s0);
    CHECK_OK(t2i_cpu_backend_create(0, &cpu));
    CHECK_OK(t2i_cuda_backend_create(0, T2I_F16, &dev));
    if (!cpu || !dev) return test_finish();
    const stage stages[] = {
        {"tests/fixtures/tiny-sd1", "text_encoder", "text_model.", "tiny-sd1 text encoder", 0, 0},
        {"tests/fixtures/tiny-sd1", "unet", NULL, "tiny-sd1 unet", 3, 8},
        {"tests/fixtures/tiny-sd1", "vae", NULL, "tiny-sd1 vae decoder", 4, 0},
        {"tests/fixtures/tiny-sd1", "vae", NULL, "tiny-sd1 vae encoder", 5, 0},
        {"tests/fixtures/tiny-sd2", "text_encoder", "text_model.", "tiny-sd2 text encoder", 1, 0},
        {"tests/fixtures/tiny-sd2", "unet", NULL, "tiny-sd2 unet", 3, 8},
        {"tests/fixtures/tiny-sd2", "vae", NULL, "tiny-sd2 vae decoder", 4, 0},
        {"tests/fixtures/tiny-sdxl", "text_encoder", "text_model.", "tiny-sdxl text encoder", 1, 0},
        {"tests/fixtures/tiny-sdxl", "text_encoder_2", "text_model.", "tiny-sdxl text encoder 2", 2, 0},
        {"tests/fixtures/tiny-sdxl", "unet", NULL, "tiny-sdxl unet (text_time)", 3, 8},
        {"tests/fixtures/tiny-sdxl", "vae", NULL, "tiny-sdxl vae decoder", 4, 0},
        {"models/default", "text_encoder", "text_model.", "default text encoder", 0, 0},
        {"models/default", "unet", NULL, "default unet (16x16 latents)", 3, 16},
        {"models/default", "vae", NULL, "default vae decoder", 4, 0},
    };
    printf("stages, CUDA backend on the stand-ins (FP16) vs CPU backend:\n");
    for (size_t i = 0; i < sizeof stages / sizeof *stages; i++)
        if (!only || strstr(stages[i].label, only)) run_stage(&stages[i]);

    if (!only || strcmp(only, "txt2img") == 0) {
        printf("txt2img through the pipeline, CUDA backend on the stand-ins vs CPU backend:\n");
        run_txt2img("tests/fixtures/tiny-sd1", 64, 4, 21 + 4 * 244 + 60);
        run_txt2img("models/default", 128, 4, 21 + 4 * 260 + 52);
    }

    printf("negative tests (tiny-sd1 unet):\n");
    expect_caught("wrong leading dimension", STANDIN_FAULT_LD, &stages[1]);
    expect_caught("no workspace", STANDIN_FAULT_NO_WORKSPACE, &stages[1]);
    expect_caught("allocation during capture", STANDIN_FAULT_ALLOC_IN_CAPTURE, &stages[1]);
    expect_uninitialized_caught(&stages[1]);

    t2i_backend_destroy(dev);
    t2i_backend_destroy(cpu);
    standin_stats s1;
    standin_get_stats(&s1);
    CHECK(s1.live_allocs == s0.live_allocs, "every device allocation freed at destroy (%lld left)",
          (long long)(s1.live_allocs - s0.live_allocs));
    printf("stand-in totals: %lld kernels, %lld cuBLASLt matmuls, %lld cuDNN convolutions, %lld graph launches, "
           "peak %.1f MiB\n", (long long)s1.launches, (long long)s1.lt_matmuls, (long long)s1.dnn_convs,
           (long long)s1.graph_launches, s1.peak_bytes / 1048576.0);
    return test_finish();
}
