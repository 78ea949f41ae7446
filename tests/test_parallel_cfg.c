/*
 * test_parallel_cfg.c — CFG parallelism on CPU ranks (threads, one engine
 * and one copy of the weights per rank; docs/multi_gpu.md):
 *
 *  1. one pair of ranks (rank 0 the negative prompt's UNet pass, rank 1 the
 *     prompt's, noise predictions all-gathered each evaluation) on tiny-sd1
 *     (Euler a, batch 2: the per-image generators are stepped on both ranks)
 *     and tiny-sdxl (Euler, with a negative prompt: pooled embeddings and
 *     time ids per half), each with 2 images and with 1. Rule: with >= 2
 *     images per rank the pair's final latents equal one device's bit for
 *     bit — the guidance and scheduler arithmetic is the same code on the
 *     same inputs and the CPU backend's UNet gives an image the same bits
 *     at batch 2 and 4; with 1 image per rank the UNet runs at batch 1
 *     where one device runs it at batch 2, which the CPU backend sums in
 *     another order (measured: 1.2e-6 and 1.4e-6 of max|ref| after 10
 *     steps), so the bound is 1e-5 of max|ref| (FP32 summation order, 7x
 *     the measured figure, 100x below the 1e-3 whole-run rule). Both
 *     ranks of a pair hold identical latents (always exact: they step the
 *     same gathered predictions). Against diffusers (where the fixture has
 *     the run) the pair meets test_pipeline's 1e-3 of max|ref|.
 *  2. through the public API, batch 4 on tiny-sd1 over 2 ranks (one pair)
 *     and 4 ranks (2 CFG × 2 data), the decode shared by each pair (image b
 *     on rank b % 2, broadcast): the images equal t2i_txt2img's, pixels
 *     and infotext, bit for bit; bytes exchanged per evaluation exactly
 *     ranks × (images per pair) × 4·h·w floats.
 *  2b. Heun (the exchange mid-step), a prompt-editing schedule and
 *     guidance 1 (nothing split, nothing exchanged), batch 2 per rank:
 *     pixels bit-exact, bytes per evaluation exact;
 *  3. faults: a rank that stops answering (its progress callback sleeps
 *     10× the timeout) makes its partner fail with T2I_ERR_PEER naming it
 *     within the timeout plus one step (2 s slack for loaded machines),
 *     well before the stuck rank wakes; a rank that fails (cancels) makes
 *     its partner fail at once through the abort, not after the 30 s
 *     timeout, and the call names the failing rank. Leaks are the ASan
 *     build's to find (tools/test.sh).
 */
#include <pthread.h>
#include <time.h>
#include "kernels/comm.h"
#include "product/txt2img.h"
#include "stage_util.h"

#define SD1 "tests/fixtures/tiny-sd1"
#define SDXL "tests/fixtures/tiny-sdxl"
#define LATENT_REL_BOUND 1e-3
#define BATCH1_REL_BOUND 1e-5
enum { R = 4 };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct rank_run {
    t2i_model *m;
    t2i_txt2img_params p;
    char stages[96];
    t2i_pipeline_ranks rk;
    t2i_image *imgs;
    int n;
    t2i_status st;
} rank_run;

static void *rank_main(void *arg)
{
    rank_run *r = arg;
    r->st = t2i_txt2img_ranked(r->m, &r->p, &r->rk, &r->imgs, &r->n);
    if (r->st != T2I_OK) fprintf(stderr, "  rank %d: %s\n", t2i_comm_rank(r->rk.comm), t2i_last_error());
    return NULL;
}

static float *stage_latents(const char *path, size_t *n)
{
    t2i_st_file *f = NULL;
    *n = 0;
    CHECK_OK(t2i_st_open(path, &f));
    if (!f) return NULL;
    float *x = ref_f32(f, "latents", n);
    t2i_st_close(f);
    return x;
}

/* 1: one pair against one device and against diffusers' reference `ref_name`. */
static void check_pair(t2i_model *const *m, const char *dir, const char *ref_name, t2i_sampler s, int batch)
{
    char path[256], tag[32];
    snprintf(path, sizeof path, "%s/ref/%s.safetensors", dir, ref_name);
    t2i_st_file *ref = NULL;
    CHECK_OK(t2i_st_open(path, &ref));
    if (!ref) return;
    rank_run one = {.m = m[0]}, pair[2] = {{.m = m[0]}, {.m = m[1]}};
    stages_path(one.stages, sizeof one.stages, "cfg_one");
    ref_params(&one.p, t2i_st_metadata(ref, "prompt"), t2i_st_metadata(ref, "negative_prompt"), s, one.stages);
    one.p.batch_size = batch;
    CHECK_OK(t2i_txt2img(m[0], &one.p, &one.imgs, &one.n));

    t2i_cpu_comm_group *g = NULL;
    CHECK_OK(t2i_cpu_comm_group_create(2, 30000, &g));
    pthread_t th[2];
    for (int k = 0; k < 2 && g; k++) {
        pair[k].p = one.p;
        snprintf(tag, sizeof tag, "cfg_rank%d", k);
        stages_path(pair[k].stages, sizeof pair[k].stages, tag);
        pair[k].p.stages_path = pair[k].stages;
        pair[k].rk.comm = t2i_cpu_comm_rank(g, k);
        CHECK(pthread_create(&th[k], NULL, rank_main, &pair[k]) == 0, "thread");
    }
    t2i_cpu_comm_group_release(g);
    for (int k = 0; k < 2 && g; k++) pthread_join(th[k], NULL);
    for (int k = 0; k < 2; k++) CHECK(pair[k].st == T2I_OK && pair[k].n == batch, "rank %d: %d images", k, pair[k].n);

    size_t n1 = 0, n0 = 0, nr = 0, nref = 0;
    float *x1 = stage_latents(one.stages, &n1), *x0 = pair[0].st == T2I_OK ? stage_latents(pair[0].stages, &n0) : NULL;
    float *xr = pair[1].st == T2I_OK ? stage_latents(pair[1].stages, &nr) : NULL;
    const t2i_st_tensor *rt = t2i_st_find(ref, "latents");
    const int ref_batch = rt && rt->ndim == 4 ? (int)rt->shape[0] : 0;
    float *want = ref_batch == batch ? ref_f32(ref, "latents", &nref) : NULL;
    if (x1 && x0 && xr && n1 == n0 && n1 == nr && n1 > 0) {
        size_t differ = 0, between = 0;
        for (size_t i = 0; i < n1; i++) differ += x0[i] != x1[i], between += x0[i] != xr[i];
        cmp_result c = compare_f32(x0, x1, n1);
        printf("  %s %s batch %d, 2 CFG ranks vs 1 device: %zu of %zu latents differ (max|err| %.3g, rel %.3g); "
               "ranks differ in %zu\n", dir, ref_name, batch, differ, n1, c.max_abs, c.rel, between);
        if (batch >= 2) {
            CHECK(differ == 0, "%s: CFG-parallel latents are not bit-exact (%zu differ)", ref_name, differ);
            for (int b = 0; b < batch && pair[0].n == batch && one.n == batch; b++)
                CHECK(memcmp(pair[0].imgs[b].pixels, one.imgs[b].pixels, (size_t)64 * 64 * 3) == 0,
                      "%s: image %d differs", ref_name, b);
        } else {
            CHECK(c.nonfinite == 0 && c.rel <= BATCH1_REL_BOUND, "%s: rel %.3g vs one device", ref_name, c.rel);
        }
        CHECK(between == 0, "%s: the two ranks hold different latents (%zu differ)", ref_name, between);
    } else {
        CHECK(0, "%s: latents missing or of different sizes (%zu, %zu, %zu)", ref_name, n1, n0, nr);
    }
    char what[128];
    snprintf(what, sizeof what, "%s CFG-parallel latents vs diffusers", ref_name);
    if (ref_batch == batch) CHECK_CLOSE_SIZED(what, x0, n0, want, nref, LATENT_REL_BOUND);
    free(x1), free(x0), free(xr), free(want);
    t2i_images_free(one.imgs, one.n);
    unlink(one.stages);
    for (int k = 0; k < 2; k++) {
        t2i_images_free(pair[k].imgs, pair[k].n);
        t2i_comm_destroy(pair[k].rk.comm);
        unlink(pair[k].stages);
    }
    t2i_st_close(ref);
}

static void batch_params(t2i_txt2img_params *p)
{
    t2i_txt2img_params_init(p);
    p->prompt = "a red circle on a blue background";
    p->negative_prompt = "blurry";
    p->steps = 6;
    p->seed = 1234;
    p->batch_size = 4;
    p->sampler = T2I_SAMPLER_EULER_A;
}

/* 2: the public API, 2 and 4 ranks. */
static void check_public(t2i_model *const *m)
{
    t2i_txt2img_params p;
    batch_params(&p);
    t2i_image *ref = NULL;
    int nref = 0;
    CHECK_OK(t2i_txt2img(m[0], &p, &ref, &nref));
    for (int ranks = 2; ranks <= 4; ranks += 2) {
        t2i_parallel_options o;
        t2i_parallel_options_init(&o);
        o.mode = T2I_PARALLEL_CFG;
        t2i_image *got = NULL;
        int n = 0;
        CHECK_OK(t2i_txt2img_parallel_ex(m, ranks, &p, &o, &got, &n));
        CHECK(n == nref && n == 4, "%d ranks: %d images", ranks, n);
        size_t differ = 0;
        for (int i = 0; i < n && i < nref; i++) {
            CHECK(got[i].seed == ref[i].seed, "%d ranks: image %d seed %llu", ranks, i,
                  (unsigned long long)got[i].seed);
            for (size_t k = 0; k < (size_t)64 * 64 * 3; k++) differ += got[i].pixels[k] != ref[i].pixels[k];
            CHECK(got[i].infotext && ref[i].infotext && !strcmp(got[i].infotext, ref[i].infotext),
                  "%d ranks: image %d infotext", ranks, i);
        }
        /* each rank receives its partner's B/pairs images × 4 × 8 × 8 floats */
        const double want = (double)ranks * (4 / (ranks / 2)) * 4 * 8 * 8 * sizeof(float);
        printf("  batch 4, CFG parallel over %d CPU ranks: %zu pixel values differ; %.0f bytes exchanged per "
               "evaluation\n", ranks, differ, o.bytes_per_eval);
        CHECK(differ == 0, "%d ranks: %zu pixel values differ", ranks, differ);
        CHECK(o.bytes_per_eval == want, "%d ranks: %.0f bytes per evaluation, expected %.0f", ranks,
              o.bytes_per_eval, want);
        t2i_images_free(got, n);
    }
    t2i_images_free(ref, nref);

    /* usage errors */
    t2i_parallel_options o;
    t2i_parallel_options_init(&o);
    t2i_image *got = NULL;
    int n = 0;
    o.mode = T2I_PARALLEL_CFG;
    CHECK(t2i_txt2img_parallel_ex(m, 3, &p, &o, &got, &n) == T2I_ERR_INVALID_ARG && strstr(t2i_last_error(), "pairs"),
          "3 CFG ranks: %s", t2i_last_error());
    o.timeout_ms = 0;
    CHECK(t2i_txt2img_parallel_ex(m, 2, &p, &o, &got, &n) == T2I_ERR_INVALID_ARG && strstr(t2i_last_error(), "timeout"),
          "timeout 0: %s", t2i_last_error());
    o.timeout_ms = 1000;
    o.mode = T2I_PARALLEL_PATCH;
    CHECK(t2i_txt2img_parallel_ex(m, 2, &p, &o, &got, &n) == T2I_ERR_UNSUPPORTED && !got, "patch: %s",
          t2i_last_error());
    o.mode = (t2i_parallel_mode)7;
    CHECK(t2i_txt2img_parallel_ex(m, 2, &p, &o, &got, &n) == T2I_ERR_INVALID_ARG, "mode 7: %s", t2i_last_error());
    o.mode = T2I_PARALLEL_CFG;
    p.steps = 0;   /* both ranks fail validation themselves */
    CHECK(t2i_txt2img_parallel_ex(m, 2, &p, &o, &got, &n) == T2I_ERR_INVALID_ARG && strstr(t2i_last_error(), "rank 0"),
          "steps 0: %s", t2i_last_error());
}

/* 2b: what else the loop does, each bit-exact against one device at batch
 * 2 per rank: Heun (two evaluations per step, the exchange mid-step), a
 * prompt-editing schedule (the context changes at step 3 on both ranks),
 * and guidance 1 (nothing to split: both ranks run the whole pass and
 * exchange nothing). */
static void check_variants(t2i_model *const *m)
{
    struct {
        const char *what, *prompt;
        t2i_sampler s;
        float cfg;
    } cases[] = {
        {"Heun", "a red circle on a blue background", T2I_SAMPLER_HEUN, 7.5f},
        {"prompt editing", "[a red circle:a blue square:0.5] on a green background", T2I_SAMPLER_EULER_A, 7.5f},
        {"guidance 1", "a red circle on a blue background", T2I_SAMPLER_EULER, 1.0f},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        t2i_txt2img_params p;
        batch_params(&p);
        p.batch_size = 2;
        p.prompt = cases[c].prompt;
        p.sampler = cases[c].s;
        p.guidance_scale = cases[c].cfg;
        t2i_image *ref = NULL, *got = NULL;
        int nref = 0, n = 0;
        CHECK_OK(t2i_txt2img(m[0], &p, &ref, &nref));
        t2i_parallel_options o;
        t2i_parallel_options_init(&o);
        o.mode = T2I_PARALLEL_CFG;
        CHECK_OK(t2i_txt2img_parallel_ex(m, 2, &p, &o, &got, &n));
        size_t differ = 0;
        for (int i = 0; i < n && i < nref; i++)
            for (size_t k = 0; k < (size_t)64 * 64 * 3; k++) differ += got[i].pixels[k] != ref[i].pixels[k];
        const double want = cases[c].cfg > 1 ? 2.0 * 2 * 4 * 8 * 8 * sizeof(float) : 0;
        printf("  %s, batch 2 on 2 CFG ranks: %zu pixel values differ, %.0f bytes per evaluation\n", cases[c].what,
               differ, o.bytes_per_eval);
        CHECK(n == 2 && nref == 2 && differ == 0, "%s: %d images, %zu values differ", cases[c].what, n, differ);
        CHECK(o.bytes_per_eval == want, "%s: %.0f bytes per evaluation, expected %.0f", cases[c].what,
              o.bytes_per_eval, want);
        t2i_images_free(ref, nref);
        t2i_images_free(got, n);
    }
}

/* 3: faults. */
typedef struct fault {
    int rank, at_step, cancel;
    double sleep_s, stuck_at;
} fault;

static int faulty_progress(void *user, int rank, int step, int steps)
{
    fault *f = user;
    (void)steps;
    if (rank != f->rank || step != f->at_step) return 0;
    f->stuck_at = now_s();
    if (f->cancel) return 1;
    struct timespec nap = {(time_t)f->sleep_s, (long)((f->sleep_s - (time_t)f->sleep_s) * 1e9)};
    nanosleep(&nap, NULL);
    return 0;
}

static void check_faults(t2i_model *const *m)
{
    t2i_txt2img_params p;
    batch_params(&p);
    p.batch_size = 1;
    for (int cancel = 0; cancel <= 1; cancel++) {
        t2i_parallel_options o;
        t2i_parallel_options_init(&o);
        double secs[R] = {0};
        fault f = {1, 2, cancel, 0, 0};
        o.mode = T2I_PARALLEL_CFG;
        o.timeout_ms = cancel ? 30000 : 300;
        f.sleep_s = 10 * o.timeout_ms / 1000.0;
        o.rank_progress = faulty_progress;
        o.rank_progress_user = &f;
        o.rank_seconds = secs;
        t2i_image *got = NULL;
        int n = 0;
        const double t0 = now_s();
        t2i_status st = t2i_txt2img_parallel_ex(m, 2, &p, &o, &got, &n);
        const double partner_after = t0 + secs[0] - f.stuck_at;   /* rank 0's return after rank 1 stopped */
        printf("  rank 1 %s at step 2: %s after %.2f s (rank 0 returned %.2f s after): %s\n",
               cancel ? "fails" : "stops answering", t2i_status_name(st), now_s() - t0, partner_after,
               t2i_last_error());
        CHECK(!got && n == 0, "images came back from a failed run");
        if (cancel) {
            CHECK(st == T2I_ERR_CANCELLED && o.failed_rank == 1 && strstr(t2i_last_error(), "rank 1"),
                  "a failing rank: %s, failed rank %d", t2i_last_error(), o.failed_rank);
            CHECK(partner_after < 5.0, "the partner waited %.2f s for a rank that had failed", partner_after);
        } else {
            CHECK(st == T2I_ERR_PEER && strstr(t2i_last_error(), "timed out") &&
                      strstr(t2i_last_error(), "waiting for rank 1"),
                  "a silent rank: %s", t2i_last_error());
            CHECK(f.stuck_at > 0 && partner_after < o.timeout_ms / 1000.0 + 2.0,
                  "the partner returned %.2f s after its peer went silent (timeout %d ms)", partner_after,
                  o.timeout_ms);
        }
    }
}

int main(void)
{
    if (chdir(T2I_SOURCE_DIR) != 0) return 1;
    t2i_engine *eng[R] = {0};
    t2i_model *sd1[R] = {0}, *xl[2] = {0};
    t2i_engine_options o;
    t2i_engine_options_init(&o);
    o.threads = 1;
    for (int r = 0; r < R; r++) {
        CHECK_OK(t2i_engine_create(&o, &eng[r]));
        if (eng[r]) CHECK_OK(t2i_model_load(eng[r], SD1, &sd1[r]));
        if (eng[r] && r < 2) CHECK_OK(t2i_model_load(eng[r], SDXL, &xl[r]));
        if (!sd1[r] || (r < 2 && !xl[r])) return test_finish();
    }
    check_pair(sd1, SD1, "sampler_euler_a_batch2", T2I_SAMPLER_EULER_A, 2);
    check_pair(sd1, SD1, "sampler_euler", T2I_SAMPLER_EULER, 1);
    check_pair(xl, SDXL, "sampler_euler_neg", T2I_SAMPLER_EULER, 1);
    check_pair(xl, SDXL, "sampler_euler_neg", T2I_SAMPLER_EULER, 2);
    check_public(sd1);
    check_variants(sd1);
    check_faults(sd1);
    for (int r = 0; r < R; r++) {
        t2i_model_destroy(sd1[r]);
        if (r < 2) t2i_model_destroy(xl[r]);
        t2i_engine_destroy(eng[r]);
    }
    return test_finish();
}
