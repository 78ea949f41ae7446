/*
 * t2i_bench.c — t2i-bench: speed and memory of txt2img on one backend.
 *
 *   t2i-bench [--preset sd15|sd21|sdxl|tiny|tiny2|tinyxl | --model DIR]
 *             [--backend cpu|cuda] [--precision NAME] [--device N] [--threads N]
 *             [--size N | --width W --height H] [--steps N] [--batch 1,4,8]
 *             [--cfg G] [--sampler NAME] [--seed N] [--warmup N] [--repeat N]
 *             [--mode full|unet] [--profile-steps N]
 *             [--devices N --mode data|cfg|patch --model DIR]   (bench_parallel.c)
 *             [--out-dir DIR | --no-json] [--tag TEXT] [--commit ID]
 *
 * Presets are full-size architectures (perf/configs/) with seeded random
 * weights (runtime/weights_random.c): the same FLOPs and bytes as the real
 * checkpoints, which cannot be downloaded here. --model DIR loads a real
 * diffusers folder instead (t2i_model_load).
 *
 * One measurement per batch size B, the work of t2i_txt2img (pipeline.c)
 * step for step, each stage timed on its own:
 *   text encoder  batch 1 × 77 tokens, once per prompt (2 with CFG);
 *                 fixed token ids (tokenising takes microseconds). SDXL:
 *                 both encoders (penultimate states side by side, pooled
 *                 projection), and an empty negative prompt is zeros
 *                 (force_zeros_for_empty_prompt), as in diffusers
 *   UNet step     batch B·2 with CFG (G > 1), else B: inputs uploaded, one
 *                 plan run, output downloaded (a synchronisation), CFG
 *                 combine and the sampler's step on the host
 *   VAE decode    batch 1, once per image, plus the conversion to 8 bits
 * after --warmup runs of each plan (first-touch page faults, CUDA graph
 * capture). Figures are medians over --repeat end-to-end runs (UNet step:
 * over all steps of all runs). it/s = steps / denoising-loop time;
 * images/s = B / end-to-end time.
 *
 * --mode unet measures only UNet steps (--repeat of them; no text encoder,
 * no VAE, no sampler): perf/cpu_vs_torch.py's figure.
 * --profile-steps N compiles, warms up once, then runs exactly N UNet steps
 * and exits (no JSON): a small fixed workload for Nsight Compute. Each step
 * is an NVTX range "unet_step" (text encoder: "text_encoder", VAE:
 * "vae_decode") when built with CUDA.
 *
 * FLOPs come from the compiled graphs (graph/flops.h: matrix products
 * only). Memory: the backend's bytes (weights + activation arenas +
 * workspaces of the three plans), and on the CPU the process's peak RSS.
 * On CUDA the UNet's achieved TFLOP/s is also given as a share of the GPU's
 * dense FP16 tensor-core peak (table below, or --peak-tflops).
 *
 * Output: a table on stdout, and one JSON line per measurement appended to
 * <out-dir>/<UTC date>-<host>.jsonl (default out-dir: perf/results of the
 * source tree). Exit status: 0 ok, 1 failure, 2 bad usage, 77 valid
 * request this build cannot serve (no CUDA backend, SDXL UNet, ...).
 *
 * This file measures (and holds main); options and setup are in
 * bench_setup.c, the table and JSON lines in bench_report.c (tools/bench.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"
#include "graph/build.h"
#include "graph/flops.h"
#include "graph/fuse.h"
#include "runtime/model.h"
#include "runtime/rng.h"
#include "runtime/text_encoder.h"

#if defined(T2I_HAVE_CUDA) && defined(__has_include)
#if __has_include(<nvtx3/nvToolsExt.h>)
#include <nvtx3/nvToolsExt.h>
#define RANGE_PUSH(name) nvtxRangePushA(name)
#define RANGE_POP() nvtxRangePop()
#endif
#endif
#ifndef RANGE_PUSH
#define RANGE_PUSH(name) ((void)0)
#define RANGE_POP() ((void)0)
#endif

/* ---- small helpers ------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    if (n <= 0) return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static long proc_status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, n) == 0) v = atol(line + n);
    if (f) fclose(f);
    return v;
}

/* ---- one measurement --------------------------------------------------------- */

typedef struct buffers {
    int32_t *ids, pool_index;
    float *ctx1, *ctx, *x, *x_in, *eps, *t, *dec;
    float *tmp1, *tmp2;          /* one encoder's [L, C1] / [L, C2] output */
    float *pooled1, *pooled;     /* SDXL: per prompt [P], per UNet row [P] */
    float *time_ids;             /* SDXL: [UNet batch, 6] */
    uint8_t *pixels;
    t2i_rng *rngs;
    t2i_rng **rng_ptrs;
} buffers;

static void buffers_free(buffers *m)
{
    free(m->ids);
    free(m->ctx1);
    free(m->ctx);
    free(m->tmp1);
    free(m->tmp2);
    free(m->pooled1);
    free(m->pooled);
    free(m->time_ids);
    free(m->x);
    free(m->x_in);
    free(m->eps);
    free(m->t);
    free(m->dec);
    free(m->pixels);
    free(m->rngs);
    free(m->rng_ptrs);
}

static t2i_status compile(t2i_backend *be, t2i_status built, t2i_graph *g, const t2i_weights *w, double *flops,
                          t2i_plan **out)
{
    if (built != T2I_OK) return built;
    t2i_status st = t2i_graph_optimize(g);
    if (st != T2I_OK) {
        t2i_graph_destroy(g);
        return st;
    }
    *flops = t2i_graph_flops(g);
    return t2i_plan_create(g, be, w, out);
}

static int count_nonfinite(const float *v, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) bad += !isfinite(v[i]);
    return bad;
}

/* The text encoder plans: one, or SDXL's two (t2 = text_encoder_2). */
typedef struct text_plans { t2i_plan *t1, *t2; } text_plans;

static t2i_status compile_text(bench *b, text_plans *tp, double *flops)
{
    t2i_backend *be = b->eng->be;
    const int L = b->c.ctx_len;
    t2i_graph *g = NULL;
    double f1 = 0, f2 = 0;
    t2i_status built;
    if (b->bert) {
        built = t2i_build_bert_text(&b->bert_cfg, 1, L, &g);
    } else {
        t2i_clip_outputs co = {.penultimate = b->c.has_text2 != 0};
        built = t2i_build_clip_text_ex(&b->c.text, 1, L, &co, &g);
    }
    T2I_TRY(compile(be, built, g, b->text_w, &f1, &tp->t1));
    if (b->c.has_text2) {
        t2i_clip_outputs co = {.penultimate = true, .pooled = true};
        built = t2i_build_clip_text_ex(&b->c.text2, 1, L, &co, &g);
        T2I_TRY(compile(be, built, g, b->text2_w, &f2, &tp->t2));
    }
    *flops = f1 + f2;
    return T2I_OK;
}

/* Prompts the text encoders run on: both with CFG, except SDXL's empty
 * negative prompt, which is zeros (force_zeros_for_empty_prompt). */
static int prompts_encoded(const bench *b, int n_cond)
{
    return n_cond == 2 && b->c.force_zeros ? 1 : n_cond;
}

/* Text encoder(s) for the n_cond prompts (negative first); fills m->ctx
 * (and for SDXL m->pooled) for the UNet batch [uncond × batch, cond × batch]. */
static t2i_status run_text(bench *b, const text_plans *tp, buffers *m, int n_cond, int batch)
{
    const int L = b->c.ctx_len, C = b->c.ctx_dim, P = b->c.pooled_dim;
    const int C1 = b->bert ? b->bert_cfg.hidden_size : b->c.text.hidden_size, C2 = C - C1;
    const size_t ctx_n = (size_t)L * C;
    const int first = n_cond - prompts_encoded(b, n_cond);
    if (first) {
        memset(m->ctx1, 0, ctx_n * sizeof(float));
        if (P) memset(m->pooled1, 0, (size_t)P * sizeof(float));
    }
    for (int k = first; k < n_cond; k++) {
        const int32_t *ids = m->ids + (size_t)k * L;
        T2I_TRY(t2i_plan_set_input(tp->t1, "ids", ids, (size_t)L * sizeof(int32_t)));
        T2I_TRY(t2i_plan_run(tp->t1));
        float *ctx = m->ctx1 + k * ctx_n;
        if (!tp->t2) {
            T2I_TRY(t2i_plan_get_output(tp->t1, "hidden", ctx, ctx_n * sizeof(float)));
            continue;
        }
        T2I_TRY(t2i_plan_get_output(tp->t1, "penultimate", m->tmp1, (size_t)L * C1 * sizeof(float)));
        m->pool_index = t2i_clip_pool_position(&b->c.text2, ids, L);
        T2I_TRY(t2i_plan_set_input(tp->t2, "ids", ids, (size_t)L * sizeof(int32_t)));
        T2I_TRY(t2i_plan_set_input(tp->t2, "pool_index", &m->pool_index, sizeof(int32_t)));
        T2I_TRY(t2i_plan_run(tp->t2));
        T2I_TRY(t2i_plan_get_output(tp->t2, "penultimate", m->tmp2, (size_t)L * C2 * sizeof(float)));
        T2I_TRY(t2i_plan_get_output(tp->t2, "pooled", m->pooled1 + (size_t)k * P, (size_t)P * sizeof(float)));
        for (int l = 0; l < L; l++) {
            memcpy(ctx + (size_t)l * C, m->tmp1 + (size_t)l * C1, (size_t)C1 * sizeof(float));
            memcpy(ctx + (size_t)l * C + C1, m->tmp2 + (size_t)l * C2, (size_t)C2 * sizeof(float));
        }
    }
    for (int k = 0; k < n_cond; k++)
        for (int i = 0; i < batch; i++) {
            memcpy(m->ctx + ((size_t)k * batch + i) * ctx_n, m->ctx1 + k * ctx_n, ctx_n * sizeof(float));
            if (P) memcpy(m->pooled + ((size_t)k * batch + i) * P, m->pooled1 + (size_t)k * P, (size_t)P * sizeof(float));
        }
    return T2I_OK;
}

/* The UNet's per-run conditioning: context, and for SDXL pooled + time ids. */
static t2i_status set_conditioning(bench *b, t2i_plan *up, buffers *m, int ub)
{
    T2I_TRY(t2i_plan_set_input(up, "context", m->ctx, (size_t)ub * b->c.ctx_len * b->c.ctx_dim * sizeof(float)));
    if (!b->c.unet.add_text_time) return T2I_OK;
    T2I_TRY(t2i_plan_set_input(up, "text_embeds", m->pooled, (size_t)ub * b->c.pooled_dim * sizeof(float)));
    return t2i_plan_set_input(up, "time_ids", m->time_ids, (size_t)ub * 6 * sizeof(float));
}

static t2i_status unet_step(t2i_plan *up, buffers *m, size_t n, int ub, float t)
{
    for (int i = 0; i < ub; i++) m->t[i] = t;
    T2I_TRY(t2i_plan_set_input(up, "sample", m->x_in, n * ub * sizeof(float)));
    T2I_TRY(t2i_plan_set_input(up, "timestep", m->t, (size_t)ub * sizeof(float)));
    T2I_TRY(t2i_plan_run(up));
    return t2i_plan_get_output(up, "out", m->eps, n * ub * sizeof(float));
}

static t2i_status vae_decode(bench *b, t2i_plan *dp, buffers *m, const float *latent, size_t n, size_t pix)
{
    const float inv_sf = 1.0f / b->c.vae.scaling_factor;
    for (size_t j = 0; j < n; j++) m->x_in[j] = latent[j] * inv_sf;
    T2I_TRY(t2i_plan_set_input(dp, "latents", m->x_in, n * sizeof(float)));
    T2I_TRY(t2i_plan_run(dp));
    T2I_TRY(t2i_plan_get_output(dp, "image", m->dec, pix * sizeof(float)));
    for (size_t j = 0; j < pix; j++) { /* as the pipeline: to 8 bits */
        float v = m->dec[j] / 2 + 0.5f;
        m->pixels[j] = (uint8_t)lrintf((v < 0 ? 0 : v > 1 ? 1 : v) * 255.0f);
    }
    return T2I_OK;
}

/* One end-to-end txt2img of `batch` images; adds its times to r. */
static t2i_status run_once(bench *b, const text_plans *tp, t2i_plan *up, t2i_plan *dp, buffers *m, int batch, int n_cond,
                           int lh, int lw, double *text_s, double *loop_s, double *vae_s, double *step_times,
                           int *n_step_times, t2i_sched **sched_out)
{
    const int ub = batch * n_cond, lc = b->c.unet.in_channels, f = t2i_vae_scale(&b->c.vae);
    const size_t n = (size_t)lc * lh * lw, pix = (size_t)3 * lh * f * lw * f;
    double t0 = bench_now_s();
    RANGE_PUSH("text_encoder");
    t2i_status st = run_text(b, tp, m, n_cond, batch);
    RANGE_POP();
    if (st == T2I_OK) st = set_conditioning(b, up, m, ub);
    double t1 = bench_now_s();
    *text_s = t1 - t0;

    t2i_sched *s = NULL;
    if (st == T2I_OK) st = t2i_sched_create(&b->c.sched, b->o.sampler, b->o.steps, &s);
    *sched_out = s;
    if (st == T2I_OK) st = t2i_sched_reserve(s, n, batch);
    for (int i = 0; st == T2I_OK && i < batch; i++) {
        t2i_rng_seed(&m->rngs[i], b->o.seed + (uint64_t)i);
        m->rng_ptrs[i] = &m->rngs[i];
        t2i_rng_randn(&m->rngs[i], m->x + i * n, n);
    }
    if (st != T2I_OK) return st;
    const float sigma0 = t2i_sched_init_noise_sigma(s);
    for (size_t j = 0; j < n * batch; j++) m->x[j] *= sigma0;
    const int evals = t2i_sched_num_evals(s);
    for (int i = 0; i < evals; i++) {
        double s0 = bench_now_s();
        RANGE_PUSH("unet_step");
        for (int k = 0; k < n_cond; k++) t2i_sched_scale_model_input(s, i, m->x, m->x_in + k * n * batch, n * batch);
        st = unet_step(up, m, n, ub, t2i_sched_timestep(s, i));
        RANGE_POP();
        step_times[(*n_step_times)++] = bench_now_s() - s0;
        if (st != T2I_OK) return st;
        if (n_cond == 2) {
            const float g = (float)b->o.cfg, *u = m->eps, *c = m->eps + n * batch;
            for (size_t j = 0; j < n * batch; j++) m->eps[j] = u[j] + g * (c[j] - u[j]);
        }
        T2I_TRY(t2i_sched_step(s, i, m->eps, m->x, n, batch, m->rng_ptrs));
    }
    double t2 = bench_now_s();
    *loop_s = t2 - t1;
    RANGE_PUSH("vae_decode");
    for (int i = 0; st == T2I_OK && i < batch; i++) st = vae_decode(b, dp, m, m->x + i * n, n, pix);
    RANGE_POP();
    *vae_s = bench_now_s() - t2;
    return st;
}

static t2i_status measure(bench *b, int batch, int lh, int lw, result *r)
{
    const opts *o = &b->o;
    t2i_backend *be = b->eng->be;
    const int n_cond = o->cfg > 1.0 ? 2 : 1, ub = batch * n_cond;
    const int L = b->c.ctx_len, C = b->c.ctx_dim, P = b->c.pooled_dim, lc = b->c.unet.in_channels;
    const int f = t2i_vae_scale(&b->c.vae);
    const size_t n = (size_t)lc * lh * lw, pix = (size_t)3 * lh * f * lw * f;
    const int full = !b->unet_only && !o->profile_steps;
    memset(r, 0, sizeof *r);
    r->batch = batch;
    r->unet_batch = ub;

    text_plans tp = {NULL, NULL};
    t2i_plan *up = NULL, *dp = NULL;
    t2i_sched *sched = NULL;
    buffers m;
    memset(&m, 0, sizeof m);
    int max_times = (o->repeat + 1) * (o->steps + 2) + o->profile_steps;
    m.ids = malloc((size_t)n_cond * L * sizeof *m.ids);
    m.ctx1 = malloc((size_t)n_cond * L * C * sizeof *m.ctx1);
    m.ctx = malloc((size_t)ub * L * C * sizeof *m.ctx);
    m.tmp1 = malloc((size_t)L * C * sizeof *m.tmp1);
    m.tmp2 = malloc((size_t)L * C * sizeof *m.tmp2);
    m.pooled1 = malloc(((size_t)n_cond * P + 1) * sizeof *m.pooled1);
    m.pooled = malloc(((size_t)ub * P + 1) * sizeof *m.pooled);
    m.time_ids = malloc((size_t)ub * 6 * sizeof *m.time_ids);
    m.x = malloc(n * batch * sizeof *m.x);
    m.x_in = malloc(n * ub * sizeof *m.x_in);
    m.eps = malloc(n * ub * sizeof *m.eps);
    m.t = malloc((size_t)ub * sizeof *m.t);
    m.dec = full ? malloc(pix * sizeof *m.dec) : NULL;
    m.pixels = full ? malloc(pix) : NULL;
    m.rngs = calloc((size_t)batch, sizeof *m.rngs);
    m.rng_ptrs = calloc((size_t)batch, sizeof *m.rng_ptrs);
    double *step_times = malloc((size_t)max_times * sizeof *step_times);
    double *e2e = calloc((size_t)o->repeat, sizeof *e2e), *text = calloc((size_t)o->repeat, sizeof *text);
    double *loop = calloc((size_t)o->repeat, sizeof *loop), *vae = calloc((size_t)o->repeat, sizeof *vae);
    t2i_status st = T2I_OK;
    if (!m.ids || !m.ctx1 || !m.ctx || !m.tmp1 || !m.tmp2 || !m.pooled1 || !m.pooled || !m.time_ids || !m.x || !m.x_in || !m.eps || !m.t || (full && (!m.dec || !m.pixels)) ||
        !m.rngs || !m.rng_ptrs || !step_times || !e2e || !text || !loop || !vae) {
        st = t2i_fail(T2I_ERR_NOMEM, "bench: out of host memory for batch %d", batch);
        goto done;
    }
    /* Fixed token ids: BOS, a 20-token prompt (none for the negative),
     * EOS, padding with EOS (CLIP's layout; CLIP's BOS/EOS are the last two
     * ids of its vocabulary). */
    const int vocab = b->bert ? b->bert_cfg.vocab_size : b->c.text.vocab_size;
    for (int k = 0; k < n_cond; k++)
        for (int i = 0; i < L; i++) {
            int id = i == 0 ? vocab - 2 : i <= 20 * k ? (i * 131 + 7) % (vocab - 2) : vocab - 1;
            m.ids[(size_t)k * L + i] = id;
        }
    for (int i = 0; i < ub; i++) t2i_text_time_ids(lh * f, lw * f, m.time_ids + 6 * i);

    /* Compile: graph build, memory plan, arena allocation. */
    double t0 = bench_now_s();
    t2i_graph *g = NULL;
    if (full) st = compile_text(b, &tp, &r->text_flops);
    if (st == T2I_OK) {
        t2i_status built = t2i_build_unet(&b->c.unet, ub, lh, lw, L, &g);
        st = compile(be, built, g, b->unet_w, &r->unet_flops, &up);
    }
    if (st == T2I_OK && full) {
        t2i_status built = t2i_build_vae_decoder(&b->c.vae, 1, lh, lw, &g);
        st = compile(be, built, g, b->vae_w, &r->vae_flops, &dp);
    }
    r->compile_s = bench_now_s() - t0;
    if (st != T2I_OK) goto done;
    r->weights_b = t2i_weights_bytes(b->unet_w);
    if (full) r->weights_b += t2i_weights_bytes(b->text_w) + t2i_weights_bytes(b->text2_w) + t2i_weights_bytes(b->vae_w);
    t2i_plan *plans[4] = {tp.t1, tp.t2, up, dp};
    for (int i = 0; i < 4; i++)
        if (plans[i]) {
            r->arena_b += plans[i]->mem.peak_bytes;
            r->workspace_b += plans[i]->workspace_bytes;
        }

    /* Inputs for the UNet-only modes: random conditioning and latents. */
    t2i_rng rng;
    t2i_rng_seed(&rng, o->seed);
    t2i_rng_randn(&rng, m.ctx, (size_t)ub * L * C);
    t2i_rng_randn(&rng, m.pooled, (size_t)ub * P);
    t2i_rng_randn(&rng, m.x_in, n * ub);
    st = set_conditioning(b, up, &m, ub);

    /* Warm-up: every plan once. */
    for (int w = 0; st == T2I_OK && w < o->warmup; w++) {
        if (full) st = run_text(b, &tp, &m, n_cond, batch);
        if (st == T2I_OK) st = unet_step(up, &m, n, ub, 500.0f);
        if (st == T2I_OK && full) st = vae_decode(b, dp, &m, m.x_in, n, pix);
    }
    if (st != T2I_OK) goto done;

    int n_times = 0;
    if (!full) {
        int count = o->profile_steps ? o->profile_steps : o->repeat;
        for (int i = 0; st == T2I_OK && i < count; i++) {
            double s0 = bench_now_s();
            RANGE_PUSH("unet_step");
            st = unet_step(up, &m, n, ub, 999.0f - (float)i);
            RANGE_POP();
            step_times[n_times++] = bench_now_s() - s0;
        }
        r->steps = count;
        r->nonfinite = count_nonfinite(m.eps, n * ub);
    } else {
        for (int rep = 0; st == T2I_OK && rep < o->repeat; rep++) {
            double s0 = bench_now_s();
            t2i_sched_destroy(sched);
            sched = NULL;
            st = run_once(b, &tp, up, dp, &m, batch, n_cond, lh, lw, &text[rep], &loop[rep], &vae[rep], step_times,
                          &n_times, &sched);
            e2e[rep] = bench_now_s() - s0;
        }
        r->steps = sched ? t2i_sched_num_steps(sched) : o->steps;
        r->nonfinite = count_nonfinite(m.x, n * batch) + count_nonfinite(m.eps, n * ub);
        r->text_s = median(text, o->repeat);
        r->loop_s = median(loop, o->repeat);
        r->vae_s = median(vae, o->repeat);
        r->e2e_s = median(e2e, o->repeat);
    }
    if (st != T2I_OK) goto done;
    r->unet_step_min_s = n_times ? step_times[0] : 0;
    for (int i = 0; i < n_times; i++)
        if (step_times[i] < r->unet_step_min_s) r->unet_step_min_s = step_times[i];
    r->unet_step_s = median(step_times, n_times);
    if (!full) r->loop_s = r->unet_step_s * r->steps;
    r->e2e_flops = prompts_encoded(b, n_cond) * r->text_flops + r->steps * r->unet_flops + batch * r->vae_flops;
    r->rss_peak_kb = proc_status_kb("VmHWM:");
done:
    t2i_sched_destroy(sched);
    t2i_plan_destroy(tp.t1);
    t2i_plan_destroy(tp.t2);
    t2i_plan_destroy(up);
    t2i_plan_destroy(dp);
    buffers_free(&m);
    free(step_times);
    free(e2e);
    free(text);
    free(loop);
    free(vae);
    return st;
}

int main(int argc, char **argv)
{
    bench b;
    memset(&b, 0, sizeof b);
    if (bench_parse_opts(argc, argv, &b.o)) {
        bench_usage(stderr);
        return 2;
    }
    if (b.o.devices) return bench_parallel(&b.o);
    b.unet_only = !strcmp(b.o.mode, "unet") || b.o.profile_steps > 0;
    int rc = bench_setup(&b);
    if (rc) {
        bench_teardown(&b);
        return rc;
    }
    int f = t2i_vae_scale(&b.c.vae);
    int W = b.o.width ? b.o.width : b.c.unet.sample_size * f, H = b.o.height ? b.o.height : W;
    int lw = 0, lh = 0;
    if (bench_latent_size(&b.c, W, H, &lw, &lh) != T2I_OK) {
        fprintf(stderr, "t2i-bench: %s\n", t2i_last_error());
        bench_teardown(&b);
        return 2;
    }
    bench_print_header(&b, W, H);
    for (int i = 0; i < b.o.n_batches && rc == 0; i++) {
        result r;
        t2i_status st = measure(&b, b.o.batches[i], lh, lw, &r);
        if (st != T2I_OK) {
            fprintf(stderr, "t2i-bench: batch %d: %s\n", b.o.batches[i], t2i_last_error());
            rc = bench_fail_rc(st);
            break;
        }
        if (b.o.profile_steps) {
            printf("profile: %d UNet steps at batch %d, median %.4f s, min %.4f s\n", r.steps, r.unet_batch,
                   r.unet_step_s, r.unet_step_min_s);
            continue;
        }
        bench_print_row(&b, &r);
        char path[1200];
        if (b.o.json && bench_append_json(&b, &r, W, H, path, sizeof path) == 0 && i == b.o.n_batches - 1)
            printf("results appended to %s\n", path);
        if (r.nonfinite) rc = 1;
    }
    bench_teardown(&b);
    return rc;
}
