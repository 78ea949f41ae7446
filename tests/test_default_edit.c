/*
 * test_default_edit.c — the embedded default model (models/default) edits
 * too: into a drawn scene (a flat background with a disc in the centre) a
 * masked centre square is inpainted with "a <colour> <shape> in the centre
 * on a <background> background" (English or Chinese), strength 1, mask blur
 * 4, DPM++ 2M, 20 steps, through t2i_img2img; each result is judged by
 * tests/shape_checker.h.
 *
 * Asserted over the 24 cases (12 English, 12 Chinese, fixed seeds): every
 * image generated; every pixel outside the blurred mask identical to the
 * input; background and object colour as asked in >= 90% of cases; and
 * the shape right in at least as many cases as the model's own txt2img
 * draws with the same prompts, seeds, sampler and steps (editing must not
 * cost shape accuracy).
 * The shape against the 90% is printed, not asserted: 21/24
 * (87.5%) at the time of writing, three stars drawn as circles. That is
 * the model, not the editing: the same 24 prompts and seeds through
 * txt2img give 20/24 (83%; two stars as triangles, a star and a square as
 * circles), all misses on stars but one; the case set is a quarter stars,
 * the model's weakest shape (inpainting: 3 of 6 stars, 18 of 18 others).
 * Mask blur 0, 50 steps, Euler, CFG 12, strength 0.9 with "latent noise"
 * fill all draw the same faint star-as-circle in the first case, and "only
 * masked" (padding 8) and Euler a did no better over the set. It is left
 * visible here rather than hidden behind a lower bound.
 * T2I_TEST_OUT=dir keeps the inputs and results.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "product/image_ops.h"
#include "shape_checker.h"
#include "test_util.h"

enum { S = 128, M0 = 24, M1 = 104 };   /* image size; mask square [M0, M1) */

typedef struct de_case {
    const char *prompt, *colour, *shape, *background, *old;   /* old: the disc's colour */
    uint64_t seed;
} de_case;

static const de_case cases[] = {
    {"a yellow star in the centre on a black background", "yellow", "star", "black", "red", 400},
    {"a white square in the centre on a green background", "white", "square", "green", "blue", 401},
    {"a blue triangle in the centre on a yellow background", "blue", "triangle", "yellow", "red", 402},
    {"a black ring in the centre on a white background", "black", "ring", "white", "green", 403},
    {"a green circle in the centre on a purple background", "green", "circle", "purple", "yellow", 404},
    {"an orange star in the centre on a blue background", "orange", "star", "blue", "white", 405},
    {"a purple square in the centre on a yellow background", "purple", "square", "yellow", "blue", 406},
    {"a red ring in the centre on a white background", "red", "ring", "white", "black", 407},
    {"a white triangle in the centre on a black background", "white", "triangle", "black", "green", 408},
    {"a green square in the centre on a red background", "green", "square", "red", "yellow", 409},
    {"a blue circle in the centre on an orange background", "blue", "circle", "orange", "purple", 410},
    {"a black star in the centre on a yellow background", "black", "star", "yellow", "red", 411},
    {"黑色背景，中间一个黄色星形", "yellow", "star", "black", "red", 500},
    {"绿色背景，中间一个白色正方形", "white", "square", "green", "blue", 501},
    {"黄色背景，中间一个蓝色三角形", "blue", "triangle", "yellow", "red", 502},
    {"白色背景，中间一个黑色圆环", "black", "ring", "white", "green", 503},
    {"紫色背景，中间一个绿色圆形", "green", "circle", "purple", "yellow", 504},
    {"蓝色背景，中间一个橙色星形", "orange", "star", "blue", "white", 505},
    {"黄色背景，中间一个紫色正方形", "purple", "square", "yellow", "blue", 506},
    {"白色背景，中间一个红色圆环", "red", "ring", "white", "black", 507},
    {"黑色背景，中间一个白色三角形", "white", "triangle", "black", "green", 508},
    {"红色背景，中间一个绿色正方形", "green", "square", "red", "yellow", 509},
    {"橙色背景，中间一个蓝色圆形", "blue", "circle", "orange", "purple", 510},
    {"黄色背景，中间一个黑色星形", "black", "star", "yellow", "red", 511},
};

int main(void)
{
    t2i_engine *eng = NULL;
    t2i_model *m = NULL;
    CHECK_OK(t2i_engine_create(NULL, &eng));
    if (eng) CHECK_OK(t2i_model_load(eng, "models/default", &m));
    if (!m) {
        t2i_engine_destroy(eng);
        return test_finish();
    }
    const char *outdir = getenv("T2I_TEST_OUT");
    const int ncase = (int)(sizeof cases / sizeof cases[0]);
    uint8_t *img = malloc(S * S * 3), *mask = malloc(S * S), *blurred = malloc(S * S);
    int made = 0, ok[3] = {0, 0, 0}, txt_ok = 0;
    size_t changed_outside = 0;
    for (int i = 0; i < ncase; i++) {
        const de_case *c = &cases[i];
        const uint8_t *bg = sc_palette[sc_index(sc_colour_names, SC_NCOLOURS, c->background)];
        const uint8_t *fg = sc_palette[sc_index(sc_colour_names, SC_NCOLOURS, c->old)];
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                int in_disc = (x - 64) * (x - 64) + (y - 64) * (y - 64) < 26 * 26;
                memcpy(img + (y * S + x) * 3, in_disc ? fg : bg, 3);
                mask[y * S + x] = x >= M0 && x < M1 && y >= M0 && y < M1 ? 255 : 0;
            }
        memcpy(blurred, mask, S * S);
        CHECK_OK(t2i_mask_blur(blurred, S, S, 4));
        t2i_image init = {.width = S, .height = S, .channels = 3, .pixels = img};
        t2i_image mk = {.width = S, .height = S, .channels = 1, .pixels = mask};
        t2i_img2img_params p;
        t2i_img2img_params_init(&p);
        p.base.prompt = c->prompt;
        p.base.seed = c->seed;
        p.base.steps = 20;
        p.base.sampler = T2I_SAMPLER_DPMPP_2M;
        p.init_image = &init;
        p.mask = &mk;
        p.strength = 1.0f;
        t2i_image *out = NULL;
        int n = 0;
        t2i_status s = t2i_img2img(m, &p, &out, &n);
        CHECK(s == T2I_OK && n == 1, "'%s': %s", c->prompt, t2i_last_error());
        if (s != T2I_OK || n != 1) continue;
        made++;
        for (int j = 0; j < S * S; j++)
            if (blurred[j] == 0) changed_outside += memcmp(out[0].pixels + j * 3, img + j * 3, 3) != 0;
        if (outdir) {
            char path[512];
            snprintf(path, sizeof path, "%s/edit_%02d_in.png", outdir, i);
            t2i_image_write_png(&init, path);
            snprintf(path, sizeof path, "%s/edit_%02d_out.png", outdir, i);
            t2i_image_write_png(&out[0], path);
        }
        sc_result r;
        sc_analyse(out[0].pixels, S, S, &r);
        int want[3] = {sc_index(sc_colour_names, SC_NCOLOURS, c->background),
                       sc_index(sc_colour_names, SC_NCOLOURS, c->colour),
                       sc_index(sc_shape_names, SC_NSHAPES, c->shape)};
        int got[3] = {r.background, r.colour, r.shape};
        int all = 1;
        for (int k = 0; k < 3; k++) ok[k] += got[k] == want[k], all &= got[k] == want[k];
        t2i_images_free(out, n);
        /* the reference: the same prompt and seed drawn from noise */
        int txt_shape = -1;
        if (t2i_txt2img(m, &p.base, &out, &n) == T2I_OK && n == 1) {
            sc_result tr;
            sc_analyse(out[0].pixels, S, S, &tr);
            txt_shape = tr.shape;
            txt_ok += tr.shape == want[2];
            t2i_images_free(out, n);
        }
        printf("  %s %-52s %s %s %s (txt2img: %s)\n", all ? "ok  " : "MISS", c->prompt,
               r.background >= 0 ? sc_colour_names[r.background] : "-",
               r.colour >= 0 ? sc_colour_names[r.colour] : "-", r.shape >= 0 ? sc_shape_names[r.shape] : "-",
               txt_shape >= 0 ? sc_shape_names[txt_shape] : "-");
    }
    printf("%d cases: background %d, colour %d, shape %d right; %zu pixels outside the blurred mask changed\n", ncase,
           ok[0], ok[1], ok[2], changed_outside);
    CHECK(made == ncase, "%d of %d images", made, ncase);
    CHECK(changed_outside == 0, "%zu pixels outside the mask changed", changed_outside);
    for (int k = 0; k < 2; k++)
        CHECK(ok[k] >= 0.9 * ncase, "%s right on %d/%d (< 90%%)", k == 0 ? "background" : "colour", ok[k], ncase);
    printf("shape right on %d/%d (%.1f%%; not asserted, see the header); txt2img with the same prompts and "
           "seeds: %d/%d\n", ok[2], ncase, 100.0 * ok[2] / ncase, txt_ok, ncase);
    CHECK(ok[2] >= txt_ok, "inpainting drew the shape right %d times, txt2img %d: editing lost shape accuracy", ok[2],
          txt_ok);
    free(img), free(mask), free(blurred);
    t2i_model_destroy(m);
    t2i_engine_destroy(eng);
    return test_finish();
}
