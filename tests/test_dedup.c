/*
 * test_dedup.c — how well the dHash tells near-duplicates from different
 * images, measured on the 40 shape scenes of tests/fixtures/shapes (renders
 * of the data set the default model learnt; flat colours, one object: the
 * hardest case for a gradient hash, since most of the image is flat).
 *
 * Positives, per scene: a PNG re-encode (lossless: distance 0 expected), a
 * re-encode with noise (σ ≈ 3 levels, a lossy re-encode's error), a crop of
 * 4 % per side resized back with Lanczos, a brightness shift (+16) and a
 * colour shift (red +24). Negatives: every pair of different scenes.
 *
 * For each threshold T (a pair is a duplicate when the hashes differ in
 * <= T bits) it prints precision and recall, and checks the threshold the
 * library uses, T2I_DUP_HASH_BITS: precision >= 0.95 and recall >= 0.9 on
 * this set (the figures are in docs/judging.md).
 *
 * The same for the CLIP image-embedding cosine (a pair is a duplicate when
 * cos >= C) with the embedded scorer (models/default/scorer; that part is
 * skipped where it is not shipped), and for the rule best-of applies
 * (hash within T2I_DUP_HASH_BITS or cos >= T2I_DUP_COSINE): checked
 * precision >= 0.95 and recall >= 0.9 at T2I_DUP_COSINE, and the combined
 * rule no worse in precision than 0.95.
 */
#include <unistd.h>
#include "product/image_resize.h"
#include "test_util.h"

enum { SCENES = 40, VARIANTS = 5 };

static uint32_t rng_state = 12345;
static double uniform(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (rng_state >> 8) / 16777216.0;
}

static uint8_t clamp8(double v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lrint(v)); }

/* Variant v of img into out (same size). */
static int variant(const t2i_image *img, int v, t2i_image *out)
{
    const int W = img->width, H = img->height;
    const size_t n = (size_t)W * H * 3;
    *out = (t2i_image){W, H, 3, malloc(n), 0, NULL};
    if (v == 0) {   /* PNG encode + decode */
        void *png = NULL;
        size_t sz = 0;
        free(out->pixels);
        if (t2i_png_encode_memory(img, &png, &sz) != T2I_OK) return 0;
        int ok = t2i_png_decode_memory(png, sz, out) == T2I_OK;
        free(png);
        return ok;
    }
    if (v == 2) {   /* crop 4 % per side, resize back */
        const int cx = W / 25, cy = H / 25, cw = W - 2 * cx, ch = H - 2 * cy;
        uint8_t *crop = malloc((size_t)cw * ch * 3);
        for (int y = 0; y < ch; y++) memcpy(crop + (size_t)y * cw * 3, img->pixels + ((size_t)(y + cy) * W + cx) * 3, (size_t)cw * 3);
        int ok = t2i_image_resize(crop, cw, ch, 3, out->pixels, W, H, T2I_RESAMPLE_LANCZOS) == T2I_OK;
        free(crop);
        return ok;
    }
    for (size_t i = 0; i < n; i++) {
        double p = img->pixels[i];
        if (v == 1) p += (uniform() + uniform() + uniform() - 1.5) * 6;   /* σ = 3 */
        if (v == 3) p += 16;
        if (v == 4 && i % 3 == 0) p += 24;
        out->pixels[i] = clamp8(p);
    }
    return 1;
}

enum { DIM_MAX = 1024 };
static float emb[SCENES][DIM_MAX], embv[SCENES][VARIANTS][DIM_MAX];

static float cosine(const float *a, const float *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)a[i] * b[i];
    return (float)s;   /* the embeddings are L2-normalised */
}

int main(void)
{
    if (chdir(T2I_SOURCE_DIR) != 0) return 1;
    t2i_engine *eng = NULL;
    t2i_scorer *sc = NULL;
    int dim = 0;
    if (access("models/default/scorer/config.json", R_OK) == 0) {
        CHECK_OK(t2i_engine_create(NULL, &eng));
        CHECK_OK(t2i_scorer_load(eng, "models/default/scorer", NULL, NULL, &sc));
    } else {
        printf("models/default/scorer is not shipped: the CLIP cosine part is skipped\n");
    }
    uint64_t h[SCENES], hv[SCENES][VARIANTS];
    int loaded = 0;
    for (int s = 0; s < SCENES; s++) {
        char path[64];
        snprintf(path, sizeof path, "tests/fixtures/shapes/s%02d.png", s);
        t2i_image img = {0};
        if (t2i_png_read(path, &img) != T2I_OK) {
            CHECK(0, "%s: %s", path, t2i_last_error());
            continue;
        }
        loaded++;
        CHECK_OK(t2i_image_dhash(&img, &h[s]));
        if (sc) CHECK_OK(t2i_scorer_image_embedding(sc, &img, T2I_LANG_EN, emb[s], DIM_MAX, &dim));
        for (int v = 0; v < VARIANTS; v++) {
            t2i_image var;
            CHECK(variant(&img, v, &var), "scene %d variant %d", s, v);
            CHECK_OK(t2i_image_dhash(&var, &hv[s][v]));
            if (sc) CHECK_OK(t2i_scorer_image_embedding(sc, &var, T2I_LANG_EN, embv[s][v], DIM_MAX, &dim));
            free(var.pixels);
            free(var.infotext);
        }
        t2i_image_clear(&img);
    }
    if (loaded != SCENES) return test_finish();

    printf("   T  precision  recall   (positives %d, negative pairs %d)\n", SCENES * VARIANTS,
           SCENES * (SCENES - 1) / 2);
    double p_at = 0, r_at = 0;
    for (int T = 0; T <= 16; T++) {
        int tp = 0, fp = 0;
        for (int s = 0; s < SCENES; s++)
            for (int v = 0; v < VARIANTS; v++) tp += t2i_hash_distance(h[s], hv[s][v]) <= T;
        for (int a = 0; a < SCENES; a++)
            for (int b = a + 1; b < SCENES; b++) fp += t2i_hash_distance(h[a], h[b]) <= T;
        const double prec = tp + fp ? (double)tp / (tp + fp) : 1, rec = (double)tp / (SCENES * VARIANTS);
        printf("  %2d  %9.3f  %6.3f%s\n", T, prec, rec, T == T2I_DUP_HASH_BITS ? "   <- T2I_DUP_HASH_BITS" : "");
        if (T == T2I_DUP_HASH_BITS) p_at = prec, r_at = rec;
    }
    CHECK(p_at >= 0.95 && r_at >= 0.9, "at T2I_DUP_HASH_BITS = %d: precision %.3f recall %.3f", T2I_DUP_HASH_BITS, p_at,
          r_at);
    if (sc) {
        static const float cs[] = {0.80f, 0.90f, 0.95f, 0.97f, 0.98f, 0.99f, 0.995f, 0.999f};
        printf("\n   cos >=  precision  recall   (embedded scorer, %d-wide embedding)\n", dim);
        p_at = r_at = 0;
        for (size_t k = 0; k < sizeof cs / sizeof *cs; k++) {
            int tp = 0, fp = 0;
            for (int s = 0; s < SCENES; s++)
                for (int v = 0; v < VARIANTS; v++) tp += cosine(emb[s], embv[s][v], dim) >= cs[k];
            for (int a = 0; a < SCENES; a++)
                for (int b = a + 1; b < SCENES; b++) fp += cosine(emb[a], emb[b], dim) >= cs[k];
            const double prec = tp + fp ? (double)tp / (tp + fp) : 1, rec = (double)tp / (SCENES * VARIANTS);
            printf("  %7.3f  %9.3f  %6.3f%s\n", cs[k], prec, rec, cs[k] == T2I_DUP_COSINE ? "   <- T2I_DUP_COSINE" : "");
            if (cs[k] == T2I_DUP_COSINE) p_at = prec, r_at = rec;
        }
        CHECK(p_at >= 0.95 && r_at >= 0.9, "at T2I_DUP_COSINE = %.3f: precision %.3f recall %.3f", T2I_DUP_COSINE,
              p_at, r_at);
        /* best-of's rule: either test says duplicate */
        int tp = 0, fp = 0;
        for (int s = 0; s < SCENES; s++)
            for (int v = 0; v < VARIANTS; v++)
                tp += t2i_hash_distance(h[s], hv[s][v]) <= T2I_DUP_HASH_BITS ||
                      cosine(emb[s], embv[s][v], dim) >= T2I_DUP_COSINE;
        for (int a = 0; a < SCENES; a++)
            for (int b = a + 1; b < SCENES; b++)
                fp += t2i_hash_distance(h[a], h[b]) <= T2I_DUP_HASH_BITS || cosine(emb[a], emb[b], dim) >= T2I_DUP_COSINE;
        const double prec = tp + fp ? (double)tp / (tp + fp) : 1, rec = (double)tp / (SCENES * VARIANTS);
        printf("  hash <= %d or cos >= %.3f: precision %.3f recall %.3f\n", T2I_DUP_HASH_BITS, T2I_DUP_COSINE, prec, rec);
        CHECK(prec >= 0.95, "combined rule: precision %.3f", prec);
        t2i_scorer_destroy(sc);
        t2i_engine_destroy(eng);
    }
    return test_finish();
}
