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

int main(void)
{
    if (chdir(T2I_SOURCE_DIR) != 0) return 1;
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
        for (int v = 0; v < VARIANTS; v++) {
            t2i_image var;
            CHECK(variant(&img, v, &var), "scene %d variant %d", s, v);
            CHECK_OK(t2i_image_dhash(&var, &hv[s][v]));
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
    return test_finish();
}
