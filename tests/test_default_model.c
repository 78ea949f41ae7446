/*
 * test_default_model.c — the embedded default model (models/default, trained by
 * scripts/train/train_default_model.py on scripts/train/make_dataset.py's shapes) really draws
 * what it is asked: 44 prompts × fixed seeds through the public C API, each
 * image judged by the plain image analysis of tests/shape_checker.h.
 *
 *   en      16 English prompts ("a red circle on the left on a blue background")
 *   zh      the same 16 scenes in Chinese ("蓝色背景，左边一个红色圆形")
 *   unseen  12 prompts (English and Chinese) whose colour+shape pair never
 *           occurs in the training data (HELD_OUT_PAIRS in make_dataset.py)
 *
 * Asserted over all 44 images: every image generated; the background colour,
 * the object's colour and its shape agree with the prompt in >= 90% of cases,
 * its position in >= 80%; the table per group is printed. The cases are
 * eval_cases() of scripts/train/make_dataset.py (the diffusers check,
 * scripts/train/default_model_diffusers_check.py, runs the same list).
 * Per precision rung (docs/precision.md): FP32, then int8w on the same
 * seeds, each with its table; a rung is gated against FP32 (colour, shape
 * and position within 3 points; every image >= 30 dB PSNR from FP32's) and
 * prints its mean/min PSNR and max pixel difference. T2I_TEST_RUNGS=fp32
 * runs FP32 only.
 * Set T2I_TEST_OUT=dir to keep the images, T2I_TEST_MODEL=dir to judge another
 * model folder, T2I_TEST_THREADS=n to cap the CPU threads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "shape_checker.h"
#include "test_util.h"

/* The settings the README uses. */
#define DM_SAMPLER T2I_SAMPLER_DPMPP_2M
#define DM_STEPS 20
#define DM_CFG 7.5f


typedef struct dm_case {
    const char *group, *prompt, *colour, *shape, *background, *position;
    uint64_t seed;
} dm_case;

static const dm_case cases[] = {
    {"en", "a red circle on the left on a blue background", "red", "circle", "blue", "left", 100},
    {"en", "a yellow star in the centre on a black background", "yellow", "star", "black", "centre", 101},
    {"en", "a white square on the right on a green background", "white", "square", "green", "right", 102},
    {"en", "a blue triangle at the top on a yellow background", "blue", "triangle", "yellow", "top", 103},
    {"en", "a black ring at the bottom on a white background", "black", "ring", "white", "bottom", 104},
    {"en", "a green circle in the centre on a purple background", "green", "circle", "purple", "centre", 105},
    {"en", "an orange star on the left on a blue background", "orange", "star", "blue", "left", 106},
    {"en", "a purple square on the right on a yellow background", "purple", "square", "yellow", "right", 107},
    {"en", "a red ring in the centre on a white background", "red", "ring", "white", "centre", 108},
    {"en", "a white triangle at the bottom on a black background", "white", "triangle", "black", "bottom", 109},
    {"en", "a green square at the top on a red background", "green", "square", "red", "top", 110},
    {"en", "a blue circle in the centre on an orange background", "blue", "circle", "orange", "centre", 111},
    {"en", "a yellow ring on the left on a purple background", "yellow", "ring", "purple", "left", 112},
    {"en", "a black star on the right on a yellow background", "black", "star", "yellow", "right", 113},
    {"en", "an orange circle at the bottom on a green background", "orange", "circle", "green", "bottom", 114},
    {"en", "a purple triangle in the centre on a white background", "purple", "triangle", "white", "centre", 115},
    {"zh", "蓝色背景，左边一个红色圆形", "red", "circle", "blue", "left", 200},
    {"zh", "黑色背景，中间一个黄色星形", "yellow", "star", "black", "centre", 201},
    {"zh", "绿色背景，右边一个白色正方形", "white", "square", "green", "right", 202},
    {"zh", "黄色背景，上边一个蓝色三角形", "blue", "triangle", "yellow", "top", 203},
    {"zh", "白色背景，下边一个黑色圆环", "black", "ring", "white", "bottom", 204},
    {"zh", "紫色背景，中间一个绿色圆形", "green", "circle", "purple", "centre", 205},
    {"zh", "蓝色背景，左边一个橙色星形", "orange", "star", "blue", "left", 206},
    {"zh", "黄色背景，右边一个紫色正方形", "purple", "square", "yellow", "right", 207},
    {"zh", "白色背景，中间一个红色圆环", "red", "ring", "white", "centre", 208},
    {"zh", "黑色背景，下边一个白色三角形", "white", "triangle", "black", "bottom", 209},
    {"zh", "红色背景，上边一个绿色正方形", "green", "square", "red", "top", 210},
    {"zh", "橙色背景，中间一个蓝色圆形", "blue", "circle", "orange", "centre", 211},
    {"zh", "紫色背景，左边一个黄色圆环", "yellow", "ring", "purple", "left", 212},
    {"zh", "黄色背景，右边一个黑色星形", "black", "star", "yellow", "right", 213},
    {"zh", "绿色背景，下边一个橙色圆形", "orange", "circle", "green", "bottom", 214},
    {"zh", "白色背景，中间一个紫色三角形", "purple", "triangle", "white", "centre", 215},
    {"unseen", "a green star in the centre on a white background", "green", "star", "white", "centre", 300},
    {"unseen", "黄色背景，左边一个紫色圆形", "purple", "circle", "yellow", "left", 301},
    {"unseen", "a yellow triangle on the right on a blue background", "yellow", "triangle", "blue", "right", 302},
    {"unseen", "白色背景，上边一个蓝色圆环", "blue", "ring", "white", "top", 303},
    {"unseen", "an orange square at the bottom on a black background", "orange", "square", "black", "bottom", 304},
    {"unseen", "绿色背景，中间一个红色三角形", "red", "triangle", "green", "centre", 305},
    {"unseen", "a green star on the left on a black background", "green", "star", "black", "left", 306},
    {"unseen", "白色背景，右边一个紫色圆形", "purple", "circle", "white", "right", 307},
    {"unseen", "a yellow triangle in the centre on a purple background", "yellow", "triangle", "purple", "centre", 308},
    {"unseen", "黄色背景，下边一个蓝色圆环", "blue", "ring", "yellow", "bottom", 309},
    {"unseen", "an orange square at the top on a blue background", "orange", "square", "blue", "top", 310},
    {"unseen", "白色背景，左边一个红色三角形", "red", "triangle", "white", "left", 311},
};

static const char *const groups[] = {"en", "zh", "unseen"};
enum { NG = 3, NATTR = 4 }; /* background, colour, shape, position */

/* One rung: the 44 images, the table, the absolute checks. tok[] gets the
 * totals per attribute; px[i] holds image i's pixels (kept when *px[i] is
 * NULL: the FP32 rung; otherwise compared with them: PSNR and max diff). */
static void run_rung(t2i_precision prec, int tok[NATTR], uint8_t **px)
{
    t2i_engine *eng = NULL;
    t2i_model *m = NULL;
    t2i_engine_options eo;
    t2i_engine_options_init(&eo);
    eo.precision = prec;
    const char *threads = getenv("T2I_TEST_THREADS");
    if (threads) eo.threads = atoi(threads);
    printf("\n== precision %s ==\n", t2i_precision_name(prec));
    CHECK_OK(t2i_engine_create(&eo, &eng));
    if (!eng) return;
    const char *dir = getenv("T2I_TEST_MODEL");
    if (!dir) dir = "models/default";
    t2i_status s = t2i_model_load(eng, dir, &m);
    CHECK(s == T2I_OK, "t2i_model_load(%s) -> %s: %s", dir, t2i_status_name(s), t2i_last_error());
    if (!m) {
        t2i_engine_destroy(eng);
        return;
    }
    double psnr_min = INFINITY, psnr_sum = 0;
    int max_diff = 0, compared = 0;
    const char *outdir = getenv("T2I_TEST_OUT");
    int ncase = (int)(sizeof cases / sizeof cases[0]);
    int n[NG] = {0}, ok[NG][NATTR] = {{0}};
    double t0 = (double)clock() / CLOCKS_PER_SEC;
    struct timespec w0, w1;
    clock_gettime(CLOCK_MONOTONIC, &w0);
    for (int i = 0; i < ncase; i++) {
        const dm_case *c = &cases[i];
        t2i_txt2img_params p;
        t2i_txt2img_params_init(&p);
        p.prompt = c->prompt;
        p.seed = c->seed;
        p.steps = DM_STEPS;
        p.guidance_scale = DM_CFG;
        p.sampler = DM_SAMPLER;
        t2i_image *img = NULL;
        int cnt = 0;
        s = t2i_txt2img(m, &p, &img, &cnt);
        CHECK(s == T2I_OK && cnt == 1, "'%s': %s: %s", c->prompt, t2i_status_name(s), t2i_last_error());
        if (s != T2I_OK || cnt != 1) continue;
        if (outdir) {
            char path[512];
            snprintf(path, sizeof path, "%s/%02d_%s.png", outdir, i, c->group);
            t2i_image_write_png(&img[0], path);
        }
        size_t npx = (size_t)img[0].width * img[0].height * img[0].channels;
        if (!px[i]) {
            px[i] = malloc(npx);
            if (px[i]) memcpy(px[i], img[0].pixels, npx);
        } else {
            double se = 0;
            for (size_t j = 0; j < npx; j++) {
                int d = abs((int)img[0].pixels[j] - (int)px[i][j]);
                se += (double)d * d;
                if (d > max_diff) max_diff = d;
            }
            double psnr = se > 0 ? 10 * log10(255.0 * 255.0 * (double)npx / se) : 99.0;
            psnr_min = fmin(psnr_min, psnr);
            psnr_sum += psnr;
            compared++;
        }
        sc_result r;
        sc_analyse(img[0].pixels, img[0].width, img[0].height, &r);
        int want[NATTR] = {sc_index(sc_colour_names, SC_NCOLOURS, c->background),
                           sc_index(sc_colour_names, SC_NCOLOURS, c->colour),
                           sc_index(sc_shape_names, SC_NSHAPES, c->shape),
                           sc_index(sc_pos_names, SC_NPOS, c->position)};
        int got[NATTR] = {r.background, r.colour, r.shape, r.position};
        int g = 0;
        while (g < NG - 1 && strcmp(groups[g], c->group) != 0) g++;
        n[g]++;
        int all = 1;
        for (int k = 0; k < NATTR; k++) {
            ok[g][k] += got[k] == want[k];
            all &= got[k] == want[k];
        }
        printf("  %s %-58s %s%s %s %s %s (fill %.2f solidity %.2f hole %d)\n", all ? "ok  " : "MISS", c->prompt,
               "", r.background >= 0 ? sc_colour_names[r.background] : "-",
               r.colour >= 0 ? sc_colour_names[r.colour] : "-", r.shape >= 0 ? sc_shape_names[r.shape] : "-",
               r.position >= 0 ? sc_pos_names[r.position] : "-", r.fill, r.solidity, r.hole);
        t2i_images_free(img, cnt);
    }
    clock_gettime(CLOCK_MONOTONIC, &w1);
    double wall = (double)(w1.tv_sec - w0.tv_sec) + 1e-9 * (double)(w1.tv_nsec - w0.tv_nsec);
    printf("\n%d images (%s, %d steps, CFG %.1f) in %.1f s wall, %.1f s CPU: %.2f s per image\n", ncase,
           t2i_sampler_name(DM_SAMPLER), DM_STEPS, (double)DM_CFG, wall,
           (double)clock() / CLOCKS_PER_SEC - t0, wall / ncase);
    printf("%-8s %4s %11s %8s %8s %9s\n", "group", "n", "background", "colour", "shape", "position");
    int tn = 0;
    for (int k = 0; k < NATTR; k++) tok[k] = 0;
    for (int g = 0; g < NG; g++) {
        printf("%-8s %4d", groups[g], n[g]);
        for (int k = 0; k < NATTR; k++) {
            printf(" %*.0f%%", k == 0 ? 10 : k == 3 ? 8 : 7, n[g] ? 100.0 * ok[g][k] / n[g] : 0.0);
            tok[k] += ok[g][k];
        }
        printf("\n");
        tn += n[g];
    }
    printf("%-8s %4d", "all", tn);
    for (int k = 0; k < NATTR; k++) printf(" %*.0f%%", k == 0 ? 10 : k == 3 ? 8 : 7, tn ? 100.0 * tok[k] / tn : 0.0);
    printf("\n");
    if (compared)
        printf("vs fp32 (same seeds): PSNR mean %.1f dB, min %.1f dB; max pixel difference %d of 255 (%d images)\n",
               psnr_sum / compared, psnr_min, max_diff, compared);
    /* The gate of a non-FP32 rung, beside its fixed-seed images: every image
     * within 30 dB PSNR of FP32's (visually the same picture). */
    CHECK(!compared || psnr_min >= 30.0, "%s: an image is %.1f dB from fp32's (< 30 dB)", t2i_precision_name(prec),
          psnr_min);
    CHECK(tn == ncase, "%d of %d images generated", tn, ncase);
    CHECK(tok[0] >= 0.9 * ncase, "background colour right on %d/%d (< 90%%)", tok[0], ncase);
    CHECK(tok[1] >= 0.9 * ncase, "colour right on %d/%d (< 90%%)", tok[1], ncase);
    CHECK(tok[2] >= 0.9 * ncase, "shape right on %d/%d (< 90%%)", tok[2], ncase);
    CHECK(tok[3] >= 0.8 * ncase, "position right on %d/%d (< 80%%)", tok[3], ncase);
    t2i_model_destroy(m);
    t2i_engine_destroy(eng);
}

int main(void)
{
    enum { NCASE = (int)(sizeof cases / sizeof cases[0]) };
    static uint8_t *px[NCASE];
    int ref[NATTR], got[NATTR];
    static const char *const attr[NATTR] = {"background", "colour", "shape", "position"};
    run_rung(T2I_PRECISION_FP32, ref, px);
    /* The CPU's other rungs (T2I_TEST_RUNGS=fp32 skips them). Gate: colour,
     * shape and position within 3 points of FP32's figures (README, issue
     * 16); a rung failing it must not be offered as a default. */
    const char *only = getenv("T2I_TEST_RUNGS");
    if (!only || strstr(only, "int8w")) {
        run_rung(T2I_PRECISION_INT8W, got, px);
        for (int k = 1; k < NATTR; k++) {
            double drop = 100.0 * (ref[k] - got[k]) / NCASE;
            printf("int8w %-10s %5.1f%% vs fp32 %5.1f%% (%+.1f points)\n", attr[k], 100.0 * got[k] / NCASE,
                   100.0 * ref[k] / NCASE, -drop);
            CHECK(drop <= 3.0, "int8w: %s %.1f points below fp32", attr[k], drop);
        }
    }
    for (int i = 0; i < NCASE; i++) free(px[i]);
    return test_finish();
}
