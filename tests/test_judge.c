/*
 * test_judge.c — judging images against transformers, torchmetrics and
 * Pillow (references: scripts/fixtures/fixtures_clip.py → tests/fixtures/
 * judge/, tiny-clip/, tiny-cnclip/):
 *
 *  - Pillow's Image.resize (lanczos, bilinear, bicubic; up and down):
 *    identical bytes;
 *  - CLIPImageProcessor (PIL backend) on odd-sized images: the 8-bit
 *    resize is exact, so the only difference is FP32 rounding of the
 *    normalisation: |err| <= 1e-5 (one 8-bit level would be ≈ 0.015);
 *  - image and text embeddings of CLIPModel and ChineseCLIPModel: the FP32
 *    stage rule, max err <= 2e-4 · max|ref|; token ids exact;
 *  - CLIPScore = 100·max(cos, 0): |err| <= 0.1 (100 × the cosine error of
 *    two unit vectors each off by <= 2e-4 relative: 100·2·2·2e-4 = 0.08);
 *  - the aesthetic head: the stage rule on its output;
 *  - no-reference measures and the dHash on constructed images, exactly
 *    (values derived by hand beside each check);
 *  - bad input: a projection of the wrong size, a 1×1 image, a head of the
 *    wrong width, a missing Chinese model — errors that name the culprit.
 */
#include <unistd.h>
#include "product/image_resize.h"
#include "product/judge.h"
#include "runtime/aesthetic.h"
#include "runtime/clip_model.h"
#include "test_util.h"

#define FIX "tests/fixtures/"

static t2i_image image_from(const t2i_st_file *ref, const char *name)
{
    t2i_image im = {0};
    const t2i_st_tensor *t = t2i_st_find(ref, name);
    CHECK(t && t->ndim == 3 && t->shape[2] == 3 && t->dtype == T2I_U8, "%s: uint8 [H,W,3] expected", name);
    if (!t || t->ndim != 3 || t->dtype != T2I_U8) return im;
    im.width = (int)t->shape[1];
    im.height = (int)t->shape[0];
    im.channels = 3;
    im.pixels = malloc(t->nbytes);
    memcpy(im.pixels, t->data, t->nbytes);
    return im;
}

static void test_resize(const t2i_st_file *ref)
{
    static const struct { const char *name; int src; t2i_resample f; } cases[] = {
        {"rs_lanczos", 0, T2I_RESAMPLE_LANCZOS},
        {"rs_bilinear", 1, T2I_RESAMPLE_BILINEAR},
        {"rs_bicubic_up", 0, T2I_RESAMPLE_BICUBIC},
        {"rs_lanczos_w", 2, T2I_RESAMPLE_LANCZOS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char src_name[16];
        snprintf(src_name, sizeof src_name, "img_%d", cases[i].src);
        t2i_image src = image_from(ref, src_name);
        const t2i_st_tensor *t = t2i_st_find(ref, cases[i].name);
        CHECK(t != NULL, "reference %s missing", cases[i].name);
        if (!t || !src.pixels) continue;
        int w = (int)t->shape[1], h = (int)t->shape[0];
        uint8_t *out = malloc((size_t)w * h * 3);
        CHECK_OK(t2i_image_resize(src.pixels, src.width, src.height, 3, out, w, h, cases[i].f));
        size_t diff = 0;
        for (size_t k = 0; k < (size_t)w * h * 3; k++) diff += out[k] != ((const uint8_t *)t->data)[k];
        printf("  %-14s %dx%d -> %dx%d: %zu of %d bytes differ from Pillow\n", cases[i].name, src.width, src.height,
               w, h, diff, w * h * 3);
        CHECK(diff == 0, "%s: %zu bytes differ from Pillow", cases[i].name, diff);
        free(out);
        free(src.pixels);
    }
    uint8_t px[4] = {0};
    CHECK(t2i_image_resize(px, 1, 1, 3, px, 0, 1, T2I_RESAMPLE_BICUBIC) == T2I_ERR_INVALID_ARG, "size 0 accepted");
    CHECK(t2i_image_resize(px, 1, 1, 5, px, 1, 1, T2I_RESAMPLE_BICUBIC) == T2I_ERR_INVALID_ARG, "5 channels accepted");
}

static void test_preprocess(t2i_clip_model *m, const t2i_st_file *ref)
{
    const t2i_clip_preprocess openai = {true, true, true, true, true, 224, 224, 224, 3, 1.0 / 255,
                                        {0.48145466f, 0.4578275f, 0.40821073f},
                                        {0.26862954f, 0.26130258f, 0.27577711f}};
    for (int i = 0; i < 4; i++) {
        const int big = i == 3, k = big ? 2 : i, S = big ? 224 : 32;
        char name[16], pre[16];
        snprintf(name, sizeof name, "img_%d", k);
        snprintf(pre, sizeof pre, big ? "pre224_%d" : "pre_%d", k);
        t2i_image im = image_from(ref, name);
        size_t n = 0;
        float *want = ref_f32(ref, pre, &n);
        float *got = malloc((size_t)3 * S * S * sizeof *got);
        if (!im.pixels || !want) continue;
        CHECK(n == (size_t)3 * S * S, "%s: %zu values, expected %d", pre, n, 3 * S * S);
        if (n == (size_t)3 * S * S) {
            CHECK_OK(t2i_clip_preprocess_image(big ? &openai : t2i_clip_model_preprocess(m), &im, S, got));
            cmp_result r = compare_f32(got, want, n);
            printf("  preprocess %dx%d -> %d²: max|err| %.3g (bound 1e-5)\n", im.width, im.height, S, r.max_abs);
            CHECK(r.nonfinite == 0 && r.max_abs <= 1e-5, "%s: max|err| %.3g", pre, r.max_abs);
        }
        free(got);
        free(want);
        free(im.pixels);
    }
}

/* Embeddings, token ids and CLIPScore of one model against its references
 * (prefix "" for CLIP, "cn_" for ChineseCLIP). */
static void test_model(t2i_clip_model *m, t2i_scorer *sc, const t2i_st_file *ref, const char *pfx,
                       const char *const *prompts, t2i_text_lang lang)
{
    const int d = t2i_clip_model_dim(m), S = t2i_clip_model_config_of(m)->vision.image_size;
    char name[64];
    size_t n0 = 0, n1 = 0, ne = 0;
    float *p0 = ref_f32(ref, "pre_0", &n0), *p1 = ref_f32(ref, "pre_1", &n1);
    snprintf(name, sizeof name, "%simage_embeds", pfx);
    float *want = ref_f32(ref, name, &ne);
    if (!p0 || !p1 || !want) return;
    CHECK(n0 == (size_t)3 * S * S && n1 == n0 && ne == (size_t)2 * d, "%s: sizes %zu %zu %zu", name, n0, n1, ne);
    if (n0 == (size_t)3 * S * S && n1 == n0 && ne == (size_t)2 * d) {
        float *px = malloc(2 * n0 * sizeof *px), *got = malloc(ne * sizeof *got);
        memcpy(px, p0, n0 * sizeof *px);
        memcpy(px + n0, p1, n0 * sizeof *px);
        CHECK_OK(t2i_clip_model_image_embeds(m, px, 2, got));
        CHECK_CLOSE(name, got, want, ne, 2e-4);
        free(px);
        free(got);
    }
    free(p0);
    free(p1);
    free(want);

    snprintf(name, sizeof name, "%stext_embeds", pfx);
    want = ref_f32(ref, name, &ne);
    if (!want) return;
    CHECK(ne == (size_t)3 * d, "%s: %zu values", name, ne);
    float *got = calloc((size_t)3 * d, sizeof *got);
    for (int k = 0; k < 3 && ne == (size_t)3 * d; k++) {
        int32_t *ids = NULL;
        int n = 0;
        CHECK_OK(t2i_clip_model_tokenize(m, prompts[k], &ids, &n));
        snprintf(name, sizeof name, "%stext_ids_%d", pfx, k);
        const t2i_st_tensor *t = t2i_st_find(ref, name);
        int same = t && t2i_st_numel(t) == n && memcmp(t->data, ids, (size_t)n * sizeof *ids) == 0;
        CHECK(same, "%s: token ids differ from transformers' for '%s'", name, prompts[k]);
        CHECK_OK(t2i_clip_model_text_embeds_ids(m, ids, n, got + (size_t)k * d));
        free(ids);
    }
    snprintf(name, sizeof name, "%stext_embeds", pfx);
    if (ne == (size_t)3 * d) CHECK_CLOSE(name, got, want, ne, 2e-4);
    free(got);
    free(want);

    /* CLIPScore through the public API, from the raw images. */
    snprintf(name, sizeof name, "%sclip_score", pfx);
    float *scores = ref_f32(ref, name, &ne);
    if (!scores || ne != 6) {
        CHECK(ne == 6, "%s: %zu values", name, ne);
        free(scores);
        return;
    }
    double worst = 0;
    for (int i = 0; i < 2; i++) {
        snprintf(name, sizeof name, "img_%d", i);
        t2i_image im = image_from(ref, name);
        for (int k = 0; k < 3 && im.pixels; k++) {
            float s = -1;
            CHECK_OK(t2i_clip_score(sc, &im, prompts[k], lang, &s));
            double e = fabs(s - scores[i * 3 + k]);
            if (e > worst || e != e) worst = e;
        }
        free(im.pixels);
    }
    printf("  %sCLIPScore (6 pairs, %s): max|err| %.3g (bound 0.1)\n", pfx,
           lang == T2I_LANG_AUTO ? "language detected" : "language given", worst);
    CHECK(worst <= 0.1, "%sCLIPScore: max|err| %.3g", pfx, worst);
    free(scores);
}

static void test_aesthetic(t2i_engine *e, t2i_scorer *sc, const t2i_st_file *ref)
{
    t2i_aesthetic *a = NULL;
    CHECK_OK(t2i_aesthetic_load(e, FIX "judge/aesthetic.safetensors", &a));
    size_t n = 0, no = 0;
    float *in = ref_f32(ref, "aesthetic_in", &n), *want = ref_f32(ref, "aesthetic", &no);
    if (a && in && want && no == 2 && n == (size_t)2 * t2i_aesthetic_dim(a)) {
        float got[2];
        CHECK_OK(t2i_aesthetic_run(a, in, 2, got));
        CHECK_CLOSE("aesthetic head", got, want, 2, 2e-4);
        t2i_image im = image_from(ref, "img_0");
        float s = 0;
        CHECK_OK(t2i_aesthetic_score(sc, &im, &s));
        printf("  aesthetic score of img_0 %.6f, reference %.6f\n", s, want[0]);
        CHECK(fabs(s - want[0]) <= 2e-4 * (fabs(want[0]) + fabs(want[1])) + 1e-5, "aesthetic score %g vs %g", s,
              want[0]);
        free(im.pixels);
    } else {
        CHECK(0, "aesthetic references: %zu inputs, %zu outputs", n, no);
    }
    free(in);
    free(want);
    t2i_aesthetic_destroy(a);
}

/* A copy of tiny-clip whose config says another projection size. */
static void test_bad_input(t2i_engine *e, t2i_scorer *sc)
{
    char dir[] = "/tmp/t2i_judge_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp " FIX "tiny-clip/* %s/ && sed -i 's/\"projection_dim\": 24/\"projection_dim\": 16/' %s/config.json",
             dir, dir);
    CHECK(system(cmd) == 0, "%s", cmd);
    t2i_clip_model *m = NULL;
    t2i_status st = t2i_clip_model_load(e, dir, &m);
    printf("  projection 16 vs weights of 24: %s\n", t2i_last_error());
    CHECK(st != T2I_OK && strstr(t2i_last_error(), "projection"), "mismatched projection: %s", t2i_last_error());
    t2i_clip_model_destroy(m);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "%s", cmd);

    uint8_t px[3] = {1, 2, 3};
    t2i_image tiny = {1, 1, 3, px, 0, NULL};
    float s;
    st = t2i_clip_score(sc, &tiny, "a cat", T2I_LANG_EN, &s);
    printf("  1x1 image: %s\n", t2i_last_error());
    CHECK(st == T2I_ERR_INVALID_ARG && strstr(t2i_last_error(), "1x1"), "1x1 image: %s", t2i_last_error());

    t2i_scorer *only_zh = NULL;
    CHECK_OK(t2i_scorer_load(e, NULL, FIX "tiny-cnclip", NULL, &only_zh));
    st = only_zh ? t2i_clip_score(only_zh, &tiny, "a cat", T2I_LANG_EN, &s) : T2I_ERR_INVALID_ARG;
    CHECK(st == T2I_ERR_INVALID_ARG && strstr(t2i_last_error(), "English"), "no English model: %s", t2i_last_error());
    t2i_scorer_destroy(only_zh);

    /* A head for 16-wide embeddings beside a 24-wide CLIP model. */
    const char *head16 = "/tmp/t2i_judge_head16.safetensors";
    t2i_st_writer *wr = NULL;
    CHECK_OK(t2i_st_writer_create(&wr));
    static const int widths[] = {16, 1024, 128, 64, 16, 1}, index[] = {0, 2, 4, 6, 7};
    float *zeros = calloc(1024 * 128, sizeof *zeros);
    for (int i = 0; i < 5 && wr; i++) {
        char name[32];
        snprintf(name, sizeof name, "layers.%d.weight", index[i]);
        CHECK_OK(t2i_st_writer_add(wr, name, T2I_F32, 2, (int64_t[]){widths[i + 1], widths[i]}, zeros));
        snprintf(name, sizeof name, "layers.%d.bias", index[i]);
        CHECK_OK(t2i_st_writer_add(wr, name, T2I_F32, 1, (int64_t[]){widths[i + 1]}, zeros));
    }
    if (wr) CHECK_OK(t2i_st_writer_save(wr, head16));
    t2i_st_writer_destroy(wr);
    free(zeros);
    t2i_scorer *bad = NULL;
    st = t2i_scorer_load(e, FIX "tiny-clip", NULL, head16, &bad);
    printf("  16-wide head, 24-wide CLIP: %s\n", t2i_last_error());
    CHECK(st == T2I_ERR_FORMAT && strstr(t2i_last_error(), "16-wide"), "head width: %s", t2i_last_error());
    t2i_scorer_destroy(bad);
    unlink(head16);
    st = t2i_scorer_load(e, NULL, NULL, FIX "judge/aesthetic.safetensors", &bad);
    CHECK(st == T2I_ERR_INVALID_ARG, "an aesthetic head without a CLIP model was accepted");
    st = t2i_aesthetic_load(e, FIX "tiny-clip/model.safetensors", &(t2i_aesthetic *){NULL});
    CHECK(st == T2I_ERR_FORMAT && strstr(t2i_last_error(), "layers.0.weight"), "not a head: %s", t2i_last_error());
}

static t2i_image make_image(int w, int h, void (*px)(int x, int y, uint8_t *rgb))
{
    t2i_image im = {w, h, 3, malloc((size_t)w * h * 3), 0, NULL};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) px(x, y, im.pixels + ((size_t)y * w + x) * 3);
    return im;
}
static void px_grey100(int x, int y, uint8_t *p) { (void)x, (void)y, p[0] = p[1] = p[2] = 100; }
static void px_checker(int x, int y, uint8_t *p) { p[0] = p[1] = p[2] = (x + y) % 2 ? 255 : 0; }
static void px_red(int x, int y, uint8_t *p) { (void)x, (void)y, p[0] = 255, p[1] = p[2] = 0; }
static void px_red_blue(int x, int y, uint8_t *p) { (void)y, p[0] = x < 8 ? 255 : 0, p[1] = 0, p[2] = x < 8 ? 0 : 255; }
static void px_ramp(int x, int y, uint8_t *p) { (void)y, p[0] = p[1] = p[2] = (uint8_t)(x * 4); }
static void px_ramp_down(int x, int y, uint8_t *p) { (void)y, p[0] = p[1] = p[2] = (uint8_t)(255 - x * 4); }

static void test_measures(void)
{
    t2i_image_quality q;
    t2i_image im = make_image(20, 12, px_grey100);
    CHECK_OK(t2i_image_quality_measure(&im, &q));
    /* flat grey 100: no Laplacian, no colour, no contrast; exposure 100/255 */
    CHECK(q.sharpness == 0 && q.colourfulness == 0 && q.contrast == 0 && fabsf(q.exposure - 100.0f / 255) < 1e-6f,
          "flat grey: %g %g %g %g", q.sharpness, q.colourfulness, q.contrast, q.exposure);
    free(im.pixels);
    im = make_image(16, 16, px_checker);
    CHECK_OK(t2i_image_quality_measure(&im, &q));
    /* 1-pixel checkerboard: every interior Laplacian is ±1020, mean 0 →
     * variance 1020² exactly; grey 0/255 half each → contrast 0.5, exposure 0.5 */
    CHECK(q.sharpness == 1020.0f * 1020.0f && fabsf(q.contrast - 0.5f) < 1e-6f && fabsf(q.exposure - 0.5f) < 1e-6f,
          "checkerboard: sharpness %g contrast %g exposure %g", q.sharpness, q.contrast, q.exposure);
    free(im.pixels);
    im = make_image(16, 8, px_red);
    CHECK_OK(t2i_image_quality_measure(&im, &q));
    /* pure red: rg = 255, yb = 127.5, no spread → M = 0.3·√(255² + 127.5²) */
    CHECK(fabs(q.colourfulness - 0.3 * sqrt(255.0 * 255 + 127.5 * 127.5)) < 1e-4, "red: %g", q.colourfulness);
    free(im.pixels);
    im = make_image(16, 8, px_red_blue);
    CHECK_OK(t2i_image_quality_measure(&im, &q));
    /* half red, half blue: rg ∈ {255, 0}, yb ∈ {127.5, −255} → σ_rg = 127.5,
     * σ_yb = 191.25, μ_rg = 127.5, μ_yb = −63.75 */
    double want = sqrt(127.5 * 127.5 + 191.25 * 191.25) + 0.3 * sqrt(127.5 * 127.5 + 63.75 * 63.75);
    CHECK(fabs(q.colourfulness - want) < 1e-3, "red|blue: %g, want %g", q.colourfulness, want);
    free(im.pixels);

    /* dHash: a left-to-right ramp is brighter to the right everywhere → all
     * 64 bits; the mirrored ramp → none; they differ in 64 bits. */
    t2i_image up = make_image(64, 40, px_ramp), down = make_image(64, 40, px_ramp_down);
    uint64_t hu = 0, hd = 1;
    CHECK_OK(t2i_image_dhash(&up, &hu));
    CHECK_OK(t2i_image_dhash(&down, &hd));
    CHECK(hu == UINT64_MAX && hd == 0 && t2i_hash_distance(hu, hd) == 64, "dhash ramps: %016llx %016llx",
          (unsigned long long)hu, (unsigned long long)hd);
    free(up.pixels);
    free(down.pixels);
    t2i_image bad = {4, 4, 1, (uint8_t[16]){0}, 0, NULL};
    CHECK(t2i_image_quality_measure(&bad, &q) == T2I_ERR_INVALID_ARG, "a 1-channel image was measured");
}

/* best-of-n on the default model with the tiny scorer: the mechanics
 * (order, duplicates, scores in the infotext, reproducibility), since the
 * tiny CLIP's judgement itself is random. */
static void test_best_of(t2i_engine *e, t2i_scorer *sc)
{
    t2i_model *m = NULL;
    CHECK_OK(t2i_model_load(e, "models/default", &m));
    if (!m) return;
    t2i_txt2img_params p;
    t2i_txt2img_params_init(&p);
    p.prompt = "a red circle on a blue background";
    p.steps = 4;
    p.seed = 7;
    p.batch_size = 2;
    p.sampler = T2I_SAMPLER_EULER;
    t2i_image *a = NULL, *b = NULL;
    t2i_image_scores *sa = NULL, *sb = NULL;
    int na = 0, nb = 0;
    /* One prompt draws near-identical scenes with this model, so ranking is
     * checked with duplicate removal off, and removal on its own below. */
    t2i_rank_options all;
    t2i_rank_options_init(&all);
    all.dup_hash_bits = -1;
    all.dup_cosine = 2;
    CHECK_OK(t2i_best_of(m, sc, &p, 5, 3, &all, &a, &sa, &na));
    CHECK_OK(t2i_best_of(m, sc, &p, 5, 3, &all, &b, &sb, &nb));
    CHECK(na == 3 && nb == 3, "best-of without duplicate removal kept %d then %d of 3", na, nb);
    for (int i = 0; i < na && i < nb; i++) {
        CHECK(a[i].seed == b[i].seed && sa[i].score == sb[i].score, "best-of is not reproducible at %d", i);
        CHECK(a[i].seed >= 7 && a[i].seed < 12, "seed %llu outside the candidates", (unsigned long long)a[i].seed);
        CHECK(i == 0 || sa[i - 1].score >= sa[i].score, "not sorted at %d", i);
        CHECK(a[i].infotext && strstr(a[i].infotext, "Rank score: "), "no scores in the infotext");
        float cs = -1;
        char *resolved = NULL, *neg = NULL;
        CHECK_OK(t2i_prompt_resolve(m, &p, &resolved, &neg));
        CHECK_OK(t2i_clip_score(sc, &a[i], resolved, T2I_LANG_AUTO, &cs));
        CHECK(cs == sa[i].clip_score, "stored CLIPScore %g, recomputed %g", sa[i].clip_score, cs);
        t2i_free(resolved);
        t2i_free(neg);
    }
    t2i_image *d = NULL;
    t2i_image_scores *sd = NULL;
    int nd = 0;
    CHECK_OK(t2i_best_of(m, sc, &p, 5, 3, NULL, &d, &sd, &nd));
    CHECK(nd >= 1 && nd <= 3 && d[0].seed == a[0].seed, "with duplicate removal: %d kept, best seed %llu vs %llu", nd,
          nd ? (unsigned long long)d[0].seed : 0ull, (unsigned long long)a[0].seed);
    for (int i = 0; i < nd; i++)
        for (int j = 0; j < i; j++)
            CHECK(t2i_hash_distance(sd[i].dhash, sd[j].dhash) > T2I_DUP_HASH_BITS, "kept near-duplicates %d, %d", i, j);
    printf("  with duplicate removal: kept %d of 5\n", nd);
    t2i_images_free(d, nd);
    t2i_free(sd);
    printf("  best of 5, keep 3: kept %d, seeds", na);
    for (int i = 0; i < na; i++) printf(" %llu (%.4f)", (unsigned long long)a[i].seed, sa[i].score);
    printf("\n");
    t2i_image *c = NULL;
    t2i_image_scores *sc2 = NULL;
    int nc = 0;
    CHECK(t2i_best_of(m, sc, &p, 3, 4, NULL, &c, &sc2, &nc) == T2I_ERR_INVALID_ARG && !c && !nc, "keep > n accepted");
    t2i_images_free(a, na);
    t2i_images_free(b, nb);
    t2i_free(sa);
    t2i_free(sb);
    t2i_model_destroy(m);
}

int main(void)
{
    if (chdir(T2I_SOURCE_DIR) != 0) return 1;
    t2i_st_file *ref = NULL;
    CHECK_OK(t2i_st_open(FIX "judge/ref.safetensors", &ref));
    t2i_engine *e = NULL;
    CHECK_OK(t2i_engine_create(NULL, &e));
    t2i_clip_model *en = NULL, *zh = NULL;
    CHECK_OK(t2i_clip_model_load(e, FIX "tiny-clip", &en));
    CHECK_OK(t2i_clip_model_load(e, FIX "tiny-cnclip", &zh));
    t2i_scorer *sc = NULL;
    CHECK_OK(t2i_scorer_load(e, FIX "tiny-clip", FIX "tiny-cnclip", FIX "judge/aesthetic.safetensors", &sc));
    if (!ref || !e || !en || !zh || !sc) return test_finish();

    static const char *const en_prompts[] = {"a red circle on a blue background", "a green star",
                                             "a photo of a cat, (sharp:1.2)"};
    static const char *const zh_prompts[] = {"蓝色背景上的红色圆形", "一颗绿色的星星", "一只猫的照片"};
    printf("Pillow resize\n");
    test_resize(ref);
    printf("CLIPImageProcessor\n");
    test_preprocess(en, ref);
    printf("CLIPModel\n");
    test_model(en, sc, ref, "", en_prompts, T2I_LANG_EN);
    printf("ChineseCLIPModel\n");
    test_model(zh, sc, ref, "cn_", zh_prompts, T2I_LANG_AUTO);
    printf("aesthetic head\n");
    test_aesthetic(e, sc, ref);
    printf("best-of-n\n");
    test_best_of(e, sc);
    printf("measures\n");
    test_measures();
    printf("bad input\n");
    test_bad_input(e, sc);

    t2i_scorer_destroy(sc);
    t2i_clip_model_destroy(en);
    t2i_clip_model_destroy(zh);
    t2i_engine_destroy(e);
    t2i_st_close(ref);
    return test_finish();
}
