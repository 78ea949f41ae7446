/*
 * test_vae_tiled.c — the tiled VAE (runtime/vae_tiled.h) against the
 * whole-image VAE, the memory figures of tiling, and its bad input.
 *
 * Seam figures come from the embedded default model's trained VAE (factor
 * 8, no mid-block attention, GroupNorm 16): a 256×192 picture of shapes
 * (the kind of scene it was trained on) is encoded whole; its latents are
 * decoded whole and in 128-pixel tiles overlapping by 64, and the picture is
 * encoded in tiles. Every GroupNorm gets the whole image's statistics
 * (runtime/vae_tiled.h), so what differs is the convolutions' reach across
 * tile borders: a little everywhere, most at the seams (the overlap bands,
 * where two or four tiles are blended). The bounds below are
 * the figures measured on this fixture (printed by the test) rounded up to
 * the next 1-2-5 step: a change to the blending or the tiling that makes
 * the seams worse fails the test. In 8-bit levels: 1 level = 2/255 in the
 * [-1, 1] image.
 *
 * Exact checks: a tile at least the image's size gives bit-for-bit the
 * whole-image decode; the automatic tile under a memory cap gives exactly
 * what that tile given by hand gives; the planner's arena for a tiled
 * decode is the same at 1024², 2048² and 4096² (SD's VAE config), while
 * the whole image's grows with the pixel count.
 */
#include <math.h>
#include "graph/build.h"
#include "runtime/vae_tiled.h"
#include "stage_util.h"

#define MODEL "models/default"
#define W_IMG 256
#define H_IMG 192
#define TILE 128
#define OVERLAP 64
/* measured (see the printed figures), rounded up to 1-2-5 */
#define DEC_AWAY_BOUND 0.02    /* image units, pixels covered by one tile only (measured 0.0176) */
#define DEC_SEAM_BOUND 0.1     /* image units, the overlap bands (measured 0.0766) */
#define DEC_MEAN_BOUND 0.005   /* mean |error| over the whole image (measured 0.00236) */
#define ENC_REL_BOUND 0.05     /* latent mean, max|err| / max|ref| (measured 0.0304) */

static void picture(float *img)
{
    const size_t px = (size_t)W_IMG * H_IMG;
    for (int y = 0; y < H_IMG; y++)
        for (int x = 0; x < W_IMG; x++) {
            float r = 0.2f, g = 0.3f, b = 0.8f;   /* blue background */
            float dx = x - 80.0f, dy = y - 90.0f;
            if (dx * dx + dy * dy < 45.0f * 45.0f) r = 0.9f, g = 0.1f, b = 0.1f;   /* red circle */
            if (x > 150 && x < 230 && y > 40 && y < 120) r = 0.95f, g = 0.85f, b = 0.1f;   /* yellow square */
            float v[3] = {r, g, b};
            for (int c = 0; c < 3; c++) img[c * px + (size_t)y * W_IMG + x] = 2.0f * v[c] - 1.0f;
        }
}

/* Whether pixel coordinate v lies in an overlap band of an axis of n
 * pixels tiled by TILE with OVERLAP (tile starts as vae_tiled.c). */
static int in_band(int v, int n)
{
    const int s = TILE - OVERLAP;
    int starts[64], k = 0;
    if (n <= TILE) return 0;
    for (int i = 0;; i++) {
        starts[k++] = i * s < n - TILE ? i * s : n - TILE;
        if (i * s >= n - TILE) break;
    }
    int cover = 0;
    for (int i = 0; i < k; i++) cover += v >= starts[i] && v < starts[i] + TILE;
    return cover > 1;
}

static void check_tiles(t2i_model *m)
{
    const int f = t2i_vae_scale(&m->vae_cfg), h = H_IMG / f, w = W_IMG / f, L = m->vae_cfg.latent_channels;
    const size_t px = (size_t)W_IMG * H_IMG, nl = (size_t)L * h * w;
    float *img = malloc(3 * px * sizeof *img), *mean = malloc(nl * sizeof *mean), *mean_t = malloc(nl * sizeof *mean);
    float *dec = malloc(3 * px * sizeof *dec), *dec_t = malloc(3 * px * sizeof *dec), *dec_1 = malloc(3 * px * sizeof *dec);
    picture(img);
    CHECK_OK(t2i_vae_encode_tiled(m, img, H_IMG, W_IMG, 0, 0, mean, NULL));
    CHECK_OK(t2i_vae_decode_tiled(m, mean, h, w, 0, 0, dec));
    CHECK_OK(t2i_vae_decode_tiled(m, mean, h, w, TILE, OVERLAP, dec_t));
    double away = 0, seam = 0, sum = 0;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < H_IMG; y++)
            for (int x = 0; x < W_IMG; x++) {
                size_t i = c * px + (size_t)y * W_IMG + x;
                double e = fabs(dec_t[i] - dec[i]);
                sum += e;
                if (in_band(x, W_IMG) || in_band(y, H_IMG)) seam = e > seam ? e : seam;
                else away = e > away ? e : away;
            }
    double mean_err = sum / (3.0 * px);
    printf("  decode %dx%d, tiles %d overlap %d: max|err| away from seams %.4f (%.2f levels, bound %g), "
           "on seams %.4f (%.2f levels, bound %g), mean %.5f (bound %g)\n",
           W_IMG, H_IMG, TILE, OVERLAP, away, away * 127.5, DEC_AWAY_BOUND, seam, seam * 127.5, DEC_SEAM_BOUND,
           mean_err, DEC_MEAN_BOUND);
    CHECK(away > 0 && away <= DEC_AWAY_BOUND, "tiled decode away from seams differs by %g", away);
    CHECK(seam <= DEC_SEAM_BOUND, "tiled decode on the seams differs by %g", seam);
    CHECK(mean_err <= DEC_MEAN_BOUND, "tiled decode mean error %g", mean_err);

    /* A tile covering the image is the whole-image decode, bit for bit. */
    CHECK_OK(t2i_vae_decode_tiled(m, mean, h, w, W_IMG, OVERLAP, dec_1));
    CHECK(memcmp(dec_1, dec, 3 * px * sizeof *dec) == 0, "one tile differs from the whole image");

    CHECK_OK(t2i_vae_encode_tiled(m, img, H_IMG, W_IMG, TILE, OVERLAP, mean_t, NULL));
    cmp_result r = compare_f32(mean_t, mean, nl);
    printf("  encode tiles %d overlap %d: latent mean max|err| %.4f, max|ref| %.3f, rel %.4f (bound %g)\n", TILE,
           OVERLAP, r.max_abs, r.max_ref, r.max_abs / r.max_ref, ENC_REL_BOUND);
    CHECK(r.nonfinite == 0 && r.max_abs <= ENC_REL_BOUND * r.max_ref, "tiled encode differs by %g", r.max_abs);
    free(img), free(mean), free(mean_t), free(dec), free(dec_t), free(dec_1);
}

/* Through the public API: p.vae_tile and p.max_memory. */
static void check_params(t2i_model *m)
{
    t2i_txt2img_params p;
    t2i_txt2img_params_init(&p);
    p.prompt = "a red circle on the left on a blue background";
    p.steps = 1;
    p.seed = 9;
    p.width = W_IMG;
    p.height = H_IMG;
    p.vae_tile_overlap = OVERLAP;
    t2i_image *a = NULL, *b = NULL, *c = NULL;
    int na = 0, nb = 0, nc = 0;
    p.vae_tile = TILE;
    CHECK_OK(t2i_txt2img(m, &p, &a, &na));
    /* the cap: just under the whole image's decoder arena, above TILE's */
    const size_t whole = t2i_vae_decoder_peak_bytes(&m->vae_cfg, H_IMG, W_IMG, 0, 4);
    const size_t tiled = t2i_vae_decoder_peak_bytes(&m->vae_cfg, H_IMG, W_IMG, TILE, 4);
    const size_t below = t2i_vae_decoder_peak_bytes(&m->vae_cfg, H_IMG, W_IMG, TILE + 64, 4);
    printf("  default model decoder arena at %dx%d: whole %zu bytes, tile %d %zu, tile %d %zu\n", W_IMG, H_IMG, whole,
           TILE, tiled, TILE + 64, below);
    CHECK(tiled < below && below < whole, "arena grows with the tile: %zu %zu %zu", tiled, below, whole);
    CHECK(t2i_vae_auto_tile(&m->vae_cfg, H_IMG, W_IMG, OVERLAP, 0, below - 1, 4) == TILE, "auto tile under the cap");
    CHECK(t2i_vae_auto_tile(&m->vae_cfg, H_IMG, W_IMG, OVERLAP, 0, whole, 4) == 0, "no tile when the whole fits");
    p.vae_tile = 0;
    p.max_memory = below - 1;
    CHECK_OK(t2i_txt2img(m, &p, &b, &nb));
    CHECK(na == 1 && nb == 1 && memcmp(a[0].pixels, b[0].pixels, (size_t)W_IMG * H_IMG * 3) == 0,
          "the capped run is not the %d-pixel tiled run", TILE);
    p.max_memory = 0;
    CHECK_OK(t2i_txt2img(m, &p, &c, &nc));
    size_t diff = 0;
    for (size_t i = 0; nc == 1 && na == 1 && i < (size_t)W_IMG * H_IMG * 3; i++) diff += a[0].pixels[i] != c[0].pixels[i];
    printf("  txt2img %dx%d: %zu of %d channel values differ between tiled and whole decode\n", W_IMG, H_IMG, diff,
           W_IMG * H_IMG * 3);
    CHECK(diff > 0, "tiling changed nothing: was it used?");
    t2i_images_free(a, na), t2i_images_free(b, nb), t2i_images_free(c, nc);

    /* bad input, named */
    struct { int tile, overlap; size_t cap; t2i_status want; const char *needle; } bad[] = {
        {32, 64, 0, T2I_ERR_INVALID_ARG, "must exceed the tile overlap"},
        {64, 64, 0, T2I_ERR_INVALID_ARG, "must exceed the tile overlap"},
        {100, 32, 0, T2I_ERR_INVALID_ARG, "vae tile size 100"},
        {128, 12, 0, T2I_ERR_INVALID_ARG, "vae tile overlap 12"},
        {-8, 0, 0, T2I_ERR_INVALID_ARG, "vae tile size -8"},
        {0, 32, 1000, T2I_ERR_NOMEM, "memory cap of 1000 bytes"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t2i_image *x = NULL;
        int nx = 0;
        p.vae_tile = bad[i].tile;
        p.vae_tile_overlap = bad[i].overlap;
        p.max_memory = bad[i].cap;
        t2i_status st = t2i_txt2img(m, &p, &x, &nx);
        CHECK(st == bad[i].want && strstr(t2i_last_error(), bad[i].needle), "tile %d overlap %d cap %zu: %s '%s'",
              bad[i].tile, bad[i].overlap, bad[i].cap, t2i_status_name(st), t2i_last_error());
        t2i_images_free(x, nx);
    }
}

/* SD's VAE (perf/configs/sd15): the planned arena of a decode, whole and in
 * 512-pixel tiles. */
static void check_peaks(void)
{
    t2i_vae_config c;
    CHECK_OK(t2i_vae_config_load("perf/configs/sd15/vae/config.json", &c));
    size_t whole[3], tiled[3];
    const int sizes[3] = {1024, 2048, 4096};
    for (int i = 0; i < 3; i++) {
        whole[i] = t2i_vae_decoder_peak_bytes(&c, sizes[i], sizes[i], 0, 2);
        tiled[i] = t2i_vae_decoder_peak_bytes(&c, sizes[i], sizes[i], 512, 2);
        printf("  SD VAE decode %d^2 (FP16 activations): arena whole %.1f MiB, 512 tiles %.1f MiB\n", sizes[i],
               whole[i] / 1048576.0, tiled[i] / 1048576.0);
    }
    CHECK(tiled[0] > 0 && tiled[0] == tiled[1] && tiled[1] == tiled[2], "tiled arena grows: %zu %zu %zu", tiled[0],
          tiled[1], tiled[2]);
    CHECK(whole[1] > 3 * whole[0] && whole[2] > 3 * whole[1], "whole-image arena: %zu %zu %zu", whole[0], whole[1],
          whole[2]);
    CHECK(t2i_vae_encoder_peak_bytes(&c, 2048, 2048, 512, 2) == t2i_vae_encoder_peak_bytes(&c, 4096, 4096, 512, 2),
          "tiled encoder arena grows");
}

int main(void)
{
    check_peaks();
    t2i_engine *e = NULL;
    t2i_model *m = NULL;
    CHECK_OK(t2i_engine_create(NULL, &e));
    if (e) CHECK_OK(t2i_model_load(e, MODEL, &m));
    if (m) {
        check_tiles(m);
        check_params(m);
    }
    t2i_model_destroy(m);
    t2i_engine_destroy(e);
    return test_finish();
}
