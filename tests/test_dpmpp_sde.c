/*
 * test_dpmpp_sde.c — DPM++ SDE (and DPM++ SDE Karras) and its Brownian tree.
 *
 *  - The tree (runtime/brownian.h), on N = 200,000 elements (independent
 *    paths): deterministic (the same W(t) whatever was asked before, and
 *    from the noise of a coarse and a fine query grid alike); W(lo) = 0;
 *    the increments over disjoint intervals have variance = length
 *    (|var / len - 1| <= 6 sqrt(2/N) = 0.019: six standard errors of a
 *    variance estimate), mean 0 (|mean| <= 6 sqrt(len / N)), are
 *    uncorrelated (|corr| <= 6 / sqrt(N) = 0.013) — also for sub-intervals
 *    inside one queried step — and add up: W(a->c) = W(a->b) + W(b->c) to
 *    float rounding.
 *  - The sampler's deterministic part against k-diffusion:
 *    scripts/fixtures/fixtures_dpmpp_sde.py runs k-diffusion's
 *    sample_dpmpp_sde (copied from its source) on tiny-sd1 with a
 *    noise_sampler returning t2i's tree noise. First, every noise it used
 *    (noise_<k>, at the sigmas in its metadata) equals t2i_brownian_noise
 *    within 1e-5 absolute (the torch / t2i normal generators agree to a few
 *    float32 ulps, rng.h); then t2i's whole 10-step run (seed 1234, CFG 7.5,
 *    64x64) gives k-diffusion's final latents within test_pipeline.c's rule,
 *    1e-3 * max|ref|.
 */
#include "runtime/brownian.h"
#include "stage_util.h"

#define N_PATHS 200000
#define LATENT_REL_BOUND 1e-3
#define TREE_NOISE_ABS_BOUND 1e-5

static float *W(double lo, double hi, double t, float *work)
{
    float *out = malloc(sizeof(float) * N_PATHS);
    t2i_brownian_at(77, lo, hi, t, out, work, N_PATHS);
    return out;
}

static double mean_of(const float *a, const float *b)   /* mean of a - b */
{
    double s = 0;
    for (size_t i = 0; i < N_PATHS; i++) s += (double)a[i] - b[i];
    return s / N_PATHS;
}

static double var_of(const float *a, const float *b)
{
    double m = mean_of(a, b), s = 0;
    for (size_t i = 0; i < N_PATHS; i++) s += ((double)a[i] - b[i] - m) * ((double)a[i] - b[i] - m);
    return s / (N_PATHS - 1);
}

static double corr_of(const float *a0, const float *a1, const float *b0, const float *b1)
{
    double ma = mean_of(a1, a0), mb = mean_of(b1, b0), sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < N_PATHS; i++) {
        double x = (double)a1[i] - a0[i] - ma, y = (double)b1[i] - b0[i] - mb;
        sab += x * y, saa += x * x, sbb += y * y;
    }
    return sab / sqrt(saa * sbb);
}

static void check_tree(void)
{
    const double lo = 0.0291675, hi = 14.614642;   /* SD's sigma range */
    float *work = malloc(sizeof(float) * 4 * N_PATHS);
    /* times: schedule-like points, one pair inside a single bottom interval of the tree */
    const double leaf = (hi - lo) / (1 << T2I_BROWNIAN_DEPTH);
    const double t[] = {lo, 0.05, 0.3, 0.3 + 0.3 * leaf, 1.7, 6.0, hi};
    enum { NT = sizeof t / sizeof t[0] };
    float *w[NT];
    for (int k = NT - 1; k >= 0; k--) w[k] = W(lo, hi, t[k], work);   /* asked from the top down */
    float *again = W(lo, hi, t[4], work);
    CHECK(memcmp(again, w[4], sizeof(float) * N_PATHS) == 0, "W(1.7) differs when asked again");
    size_t zero = 0;
    for (size_t i = 0; i < N_PATHS; i++) zero += w[0][i] == 0.0f;
    CHECK(zero == N_PATHS, "W(lo) is not 0 (%zu of %d)", zero, N_PATHS);
    const double var_bound = 6 * sqrt(2.0 / N_PATHS), corr_bound = 6 / sqrt((double)N_PATHS);
    for (int k = 0; k + 1 < NT; k++) {
        double len = t[k + 1] - t[k], v = var_of(w[k + 1], w[k]), m = mean_of(w[k + 1], w[k]);
        /* inside one bottom interval W is linear: the variance is exact only down to that width */
        int in_leaf = len < leaf;
        printf("  W(%.6g) - W(%.6g): var / length %.4f, mean %.2e%s\n", t[k + 1], t[k], v / len, m,
               in_leaf ? " (inside one bottom interval: linear, not checked)" : "");
        if (in_leaf) continue;
        CHECK(fabs(v / len - 1) <= var_bound, "var / length %.4f over [%g, %g] (bound %.3f)", v / len, t[k], t[k + 1],
              var_bound);
        CHECK(fabs(m) <= 6 * sqrt(len / N_PATHS), "mean %.3g over [%g, %g]", m, t[k], t[k + 1]);
    }
    double worst = 0;
    for (int a = 0; a + 1 < NT; a++)
        for (int b = a + 1; b + 1 < NT; b++) {
            double c = corr_of(w[a], w[a + 1], w[b], w[b + 1]);
            if (fabs(c) > worst) worst = fabs(c);
        }
    printf("  increments over disjoint intervals: max |corr| %.4f (bound %.4f)\n", worst, corr_bound);
    CHECK(worst <= corr_bound, "increments correlated: %.4f", worst);
    /* a step split in two: the halves are independent with variances of their lengths, and add up */
    float *mid = W(lo, hi, 3.85, work);
    double c = corr_of(w[4], mid, mid, w[5]);
    double v1 = var_of(mid, w[4]) / (3.85 - 1.7), v2 = var_of(w[5], mid) / (6.0 - 3.85);
    double add = 0;
    for (size_t i = 0; i < N_PATHS; i++)
        add = fmax(add, fabs(((double)w[5][i] - w[4][i]) - (((double)w[5][i] - mid[i]) + ((double)mid[i] - w[4][i]))));
    printf("  [1.7, 6] split at 3.85: corr %.4f, var / length %.4f and %.4f, sum error %.2g\n", c, v1, v2, add);
    CHECK(fabs(c) <= corr_bound && fabs(v1 - 1) <= var_bound && fabs(v2 - 1) <= var_bound,
          "sub-intervals: corr %.4f var %.4f %.4f", c, v1, v2);
    CHECK(add <= 1e-5, "W(a->c) != W(a->b) + W(b->c): %.3g", add);
    /* the noise of one pair of sigmas is the same from a coarse or a fine query grid */
    float *n1 = malloc(sizeof(float) * N_PATHS), *n2 = malloc(sizeof(float) * N_PATHS);
    t2i_brownian_noise(77, lo, hi, 6.0, 1.7, n1, work, N_PATHS);
    for (int k = 0; k < 5; k++) free(W(lo, hi, 1.7 + 0.5 * k, work));
    t2i_brownian_noise(77, lo, hi, 6.0, 1.7, n2, work, N_PATHS);
    CHECK(memcmp(n1, n2, sizeof(float) * N_PATHS) == 0, "noise depends on the queries made before");
    double s2 = 0;
    for (size_t i = 0; i < N_PATHS; i++) s2 += (double)n1[i] * n1[i];
    CHECK(fabs(s2 / N_PATHS - 1) <= var_bound, "noise variance %.4f", s2 / N_PATHS);
    free(n1), free(n2), free(mid), free(again);
    for (int k = 0; k < NT; k++) free(w[k]);
    free(work);
}

/* The fixture's noise = t2i's tree noise, then t2i's run = k-diffusion's. */
static void check_against_kdiffusion(t2i_model *m, const char *id, t2i_sampler s)
{
    char path[256], stages[64];
    snprintf(path, sizeof path, "tests/fixtures/tiny-sd1/ref/sampler_%s.safetensors", id);
    t2i_st_file *ref = NULL;
    CHECK_OK(t2i_st_open(path, &ref));
    if (!ref) return;
    double lo = strtod(t2i_st_metadata(ref, "tree_lo"), NULL), hi = strtod(t2i_st_metadata(ref, "tree_hi"), NULL);
    const char *calls = t2i_st_metadata(ref, "noise_calls");
    uint64_t seed = strtoull(t2i_st_metadata(ref, "seed"), NULL, 10);
    float out[256], work[4 * 256];
    double worst = 0;
    int k = 0;
    for (const char *p = calls; p && (p = strchr(p, '[')) != NULL; k++) {
        if (p == calls) p++;   /* the outer list */
        double a, b;
        if (sscanf(p, "[%lf, %lf]", &a, &b) != 2) break;
        p++;
        char name[32];
        snprintf(name, sizeof name, "noise_%d", k);
        size_t nz = 0;
        float *z = ref_f32(ref, name, &nz);
        CHECK(z && nz == 256, "%s: %s has %zu values", path, name, nz);
        if (!z || nz != 256) break;
        t2i_brownian_noise(seed, lo, hi, a, b, out, work, nz);
        for (size_t i = 0; i < nz; i++) worst = fmax(worst, fabs((double)out[i] - z[i]));
        free(z);
    }
    printf("%s: %d noise_sampler calls, t2i's tree vs the fixture's: max|err| %.3g (bound %.0e)\n", id, k, worst,
           TREE_NOISE_ABS_BOUND);
    CHECK(k == 18 && worst <= TREE_NOISE_ABS_BOUND, "%s: %d calls, noise differs by %.3g", id, k, worst);
    stages_path(stages, sizeof stages, "sde");
    t2i_txt2img_params p;
    ref_params(&p, t2i_st_metadata(ref, "prompt"), t2i_st_metadata(ref, "negative_prompt"), s, stages);
    t2i_image *imgs;
    int n;
    t2i_st_file *got = run_ref_txt2img(m, &p, &imgs, &n);
    if (got) {
        char what[96];
        snprintf(what, sizeof what, "%s vs k-diffusion latents", id);
        check_ref_tensor(ref, "ref_latents", got, "latents", what, LATENT_REL_BOUND);
        t2i_st_close(got);
    }
    if (n == 1) CHECK(strstr(imgs[0].infotext, t2i_sampler_name(s)) != NULL, "infotext: %s", imgs[0].infotext);
    t2i_images_free(imgs, n);
    unlink(stages);
    t2i_st_close(ref);
}

int main(void)
{
    t2i_sampler s;
    CHECK(t2i_sampler_from_name("DPM++ SDE Karras", &s) == T2I_OK && s == T2I_SAMPLER_DPMPP_SDE_KARRAS, "name");
    CHECK(t2i_sampler_from_name("k_dpmpp_sde", &s) == T2I_OK && s == T2I_SAMPLER_DPMPP_SDE, "alias");
    check_tree();
    t2i_engine *e = NULL;
    t2i_model *m = NULL;
    CHECK_OK(t2i_engine_create(NULL, &e));
    if (e) CHECK_OK(t2i_model_load(e, "tests/fixtures/tiny-sd1", &m));
    if (m) {
        check_against_kdiffusion(m, "dpmpp_sde", T2I_SAMPLER_DPMPP_SDE);
        check_against_kdiffusion(m, "dpmpp_sde_karras", T2I_SAMPLER_DPMPP_SDE_KARRAS);
    }
    t2i_model_destroy(m);
    t2i_engine_destroy(e);
    return test_finish();
}
