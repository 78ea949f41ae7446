/*
 * test_edit.c — the editing modes (t2i_img2img) against diffusers, and the
 * A1111 behaviour around them, on the tiny models:
 *
 *  - img2img, inpainting with the 4-channel tiny-sd1 and the 9-channel
 *    tiny-sd1-inpaint, InstructPix2Pix with tiny-sd1-pix2pix, img2img and
 *    inpainting with tiny-sd2 (v-prediction) and tiny-sdxl
 *    (StableDiffusionXL*Pipeline): batch 2,
 *    seeds 1234/1235, 10 steps, CFG 7.5, two strengths and several samplers
 *    (tests/fixtures/edit/<case>.safetensors, scripts/fixtures/fixtures_edit.py);
 *    and every other sampler (Heun, DPM2, DPM2 a, LMS, DDPM, LCM, UniPC,
 *    DPM++ 2S, 2S a, 2M Karras) beginning at step 4 or 3 of 10 in img2img,
 *    the two-evaluation ones and LMS, UniPC in 4-channel inpainting too
 *    (tests/fixtures/edit/samplers/, scripts/fixtures/fixtures_edit_samplers.py).
 *    Tolerance rule as test_pipeline.c: the final latents within 1e-3 of
 *    max|ref| (one UNet call agrees to ~1e-6 relative; 10 guided steps
 *    amplify it), the decoded [0,1] image within 2e-3 absolute (test_pipeline's
 *    1e-3 plus the FP16 rounding of the stored reference, 2.4e-4 at 0.5).
 *    mask_blur 0 and "original" fill make the A1111 request exactly
 *    diffusers' one; the overlay then must keep every unmasked pixel.
 *  - exact A1111 checks: unmasked pixels identical after a blurred-mask run,
 *    the crop box of a known mask, "only masked" leaves everything outside
 *    the box untouched, outpainting keeps the old pixels.
 *  - bad input: mask size, empty and full masks, strength outside [0, 1],
 *    mask for an instruct model, a VAE without encoder weights.
 */
#include <sys/stat.h>
#include "product/image_ops.h"
#include "product/infotext.h"
#include "stage_util.h"

#define LATENT_REL_BOUND 1e-3
#define IMAGE_ABS_BOUND 2e-3

static t2i_image init_img, mask_img;

static void base_params(t2i_img2img_params *p, const char *prompt, const char *stages)
{
    t2i_img2img_params_init(p);
    ref_params(&p->base, prompt, "", T2I_SAMPLER_EULER_A, stages);
    p->base.batch_size = 2;
    p->init_image = &init_img;
    p->mask_blur = 0;
}

static void run_case(t2i_model *m, const char *name)
{
    char path[512], stages[64];
    snprintf(path, sizeof path, "tests/fixtures/edit/%s.safetensors", name);
    t2i_st_file *ref = NULL;
    CHECK_OK(t2i_st_open(path, &ref));
    if (!ref) return;
    stages_path(stages, sizeof stages, "edit");
    const char *mode = t2i_st_metadata(ref, "mode"), *sid = t2i_st_metadata(ref, "sampler");
    t2i_img2img_params p;
    base_params(&p, t2i_st_metadata(ref, "prompt"), stages);
    CHECK_OK(t2i_sampler_from_name(sid, &p.base.sampler));
    if (t2i_st_metadata(ref, "strength")) p.strength = strtof(t2i_st_metadata(ref, "strength"), NULL);
    if (t2i_st_metadata(ref, "image_guidance"))
        p.image_guidance_scale = strtof(t2i_st_metadata(ref, "image_guidance"), NULL);
    if (strcmp(mode, "inpaint") == 0) p.mask = &mask_img;
    t2i_image *imgs = NULL;
    int n = 0;
    CHECK_OK(t2i_img2img(m, &p, &imgs, &n));
    t2i_st_file *got = NULL;
    if (n == 2) CHECK_OK(t2i_st_open(stages, &got));
    if (got) {
        char what[96];
        snprintf(what, sizeof what, "%s latents", name);
        check_ref_tensor(ref, "latents", got, "latents", what, LATENT_REL_BOUND);
        size_t nw, ng;
        float *want = ref_f32(ref, "image", &nw), *x = ref_f32(got, "image", &ng);
        if (nw == ng) {
            cmp_result c = compare_f32(x, want, nw);
            printf("  %-40s max|err| %.3g (bound %.1g)\n", "  decoded images", c.max_abs, IMAGE_ABS_BOUND);
            CHECK(c.max_abs <= IMAGE_ABS_BOUND, "%s image: %.3g", name, c.max_abs);
        }
        free(want), free(x);
        t2i_st_close(got);
    }
    if (n == 2 && p.mask) {   /* overlay: unmasked pixels exactly the init image's */
        size_t diff = 0;
        for (int b = 0; b < 2; b++)
            for (size_t i = 0; i < 64 * 64; i++)
                if (mask_img.pixels[i * 4] == 0)
                    for (int c = 0; c < 3; c++) diff += imgs[b].pixels[i * 3 + c] != init_img.pixels[i * 4 + c];
        CHECK(diff == 0, "%s: %zu unmasked channel values changed", name, diff);
    }
    if (n == 2) {
        t2i_infotext it;
        CHECK_OK(t2i_infotext_parse(imgs[1].infotext, &it));
        int found = 0;
        for (int i = 0; i < it.n_extra; i++) found |= strcmp(it.extra[i].key, "Denoising strength") == 0;
        CHECK(found && it.has_seed && it.seed == 1235, "%s infotext: %s", name, imgs[1].infotext);
        t2i_infotext_free(&it);
    }
    t2i_images_free(imgs, n);
    t2i_st_close(ref);
    unlink(stages);
}

static t2i_status try_edit(t2i_model *m, t2i_img2img_params *p)
{
    t2i_image *imgs = NULL;
    int n = 0;
    t2i_status st = t2i_img2img(m, p, &imgs, &n);
    t2i_images_free(imgs, n);
    return st;
}

#define EXPECT_ERR(m, p, code, needle)                                                                  \
    do {                                                                                                \
        t2i_status s_ = try_edit(m, p);                                                                 \
        CHECK(s_ == (code) && strstr(t2i_last_error(), needle), "%s: got %s '%s'", needle,              \
              t2i_status_name(s_), t2i_last_error());                                                   \
    } while (0)

static void a1111_checks(t2i_model *m)
{
    /* Crop box of the known mask (x 24..55, y 16..39), padding 4, grown to 1:1. */
    uint8_t *mk = malloc(64 * 64);
    for (int i = 0; i < 64 * 64; i++) mk[i] = mask_img.pixels[i * 4];
    int box[4];
    CHECK(t2i_mask_crop_region(mk, 64, 64, 4, box), "crop region of a non-empty mask");
    CHECK(box[0] == 20 && box[1] == 12 && box[2] == 60 && box[3] == 44, "crop box %d %d %d %d", box[0], box[1],
          box[2], box[3]);
    t2i_expand_crop_region(box, 64, 64, 64, 64);
    CHECK(box[0] == 20 && box[1] == 8 && box[2] == 60 && box[3] == 48, "expanded box %d %d %d %d", box[0], box[1],
          box[2], box[3]);

    /* Mask blur 4: pixels where the blurred mask is 0 come back unchanged. */
    t2i_img2img_params p;
    base_params(&p, "a red circle", NULL);
    p.base.batch_size = 1;
    p.base.steps = 4;
    p.mask = &mask_img;
    p.mask_blur = 4;
    t2i_image *imgs = NULL;
    int n = 0;
    CHECK_OK(t2i_img2img(m, &p, &imgs, &n));
    CHECK_OK(t2i_mask_blur(mk, 64, 64, 4));
    size_t diff = 0, kept = 0, changed = 0;
    for (size_t i = 0; n == 1 && i < 64 * 64; i++) {
        int same = memcmp(imgs[0].pixels + i * 3, init_img.pixels + i * 4, 3) == 0;
        if (mk[i] == 0) diff += !same, kept++;
        else if (mk[i] == 255) changed += !same;
    }
    printf("  mask blur 4: %zu pixels outside the blurred mask, %zu differ; %zu changed inside\n", kept, diff, changed);
    CHECK(kept > 1000 && diff == 0 && changed > 20, "blurred-mask overlay: %zu of %zu differ", diff, kept);
    t2i_images_free(imgs, n);

    /* Only masked: outside the crop box nothing changes, the size stays. */
    p.inpaint_full_res = 1;
    p.inpaint_full_res_padding = 4;
    p.mask_blur = 0;
    p.inpainting_fill = T2I_FILL_FILL;
    CHECK_OK(t2i_img2img(m, &p, &imgs, &n));
    diff = 0, changed = 0;
    for (int y = 0; n == 1 && y < 64; y++)
        for (int x = 0; x < 64; x++) {
            int same = memcmp(imgs[0].pixels + (y * 64 + x) * 3, init_img.pixels + (y * 64 + x) * 4, 3) == 0;
            if (mask_img.pixels[(y * 64 + x) * 4] == 0) diff += !same;
            else changed += !same;
        }
    CHECK(n == 1 && imgs[0].width == 64 && diff == 0 && changed > 100, "only masked: %zu unmasked differ, %zu changed",
          diff, changed);
    t2i_images_free(imgs, n);

    /* Outpainting 16 px left and top: the old pixels beyond the seam stay. */
    base_params(&p, "a red circle", NULL);
    p.base.batch_size = 1;
    p.base.steps = 4;
    p.strength = 1.0f;
    p.base.width = p.base.height = 0;   /* the grown canvas */
    p.outpaint[0] = 16, p.outpaint[1] = 16;
    CHECK_OK(t2i_img2img(m, &p, &imgs, &n));
    CHECK(n == 1 && imgs[0].width == 80 && imgs[0].height == 80, "outpaint size %dx%d", n ? imgs[0].width : 0,
          n ? imgs[0].height : 0);
    diff = 0;
    for (int y = 0; n == 1 && y < 64; y++)
        for (int x = 0; x < 64; x++)
            diff += memcmp(imgs[0].pixels + ((y + 16) * 80 + x + 16) * 3, init_img.pixels + (y * 64 + x) * 4, 3) != 0;
    CHECK(diff == 0, "outpaint (blur 0): %zu old pixels changed", diff);
    t2i_images_free(imgs, n);

    /* Bad input, each a clear error. */
    t2i_image small = {.width = 32, .height = 32, .channels = 4, .pixels = calloc(32 * 32, 4)};
    base_params(&p, "x", NULL);
    p.base.batch_size = 1;
    p.mask = &small;
    EXPECT_ERR(m, &p, T2I_ERR_INVALID_ARG, "differs from the init image");
    t2i_image blank = {.width = 64, .height = 64, .channels = 1, .pixels = calloc(64 * 64, 1)};
    p.mask = &blank;
    EXPECT_ERR(m, &p, T2I_ERR_INVALID_ARG, "marks nothing");
    memset(blank.pixels, 255, 64 * 64);
    EXPECT_ERR(m, &p, T2I_ERR_INVALID_ARG, "marks the whole image");
    p.mask = NULL;
    p.strength = -0.1f;
    EXPECT_ERR(m, &p, T2I_ERR_INVALID_ARG, "strength");
    p.strength = 1.5f;
    EXPECT_ERR(m, &p, T2I_ERR_INVALID_ARG, "strength");
    p.strength = 0.01f;   /* int(10 · 0.01) = 0 steps */
    EXPECT_ERR(m, &p, T2I_ERR_INVALID_ARG, "leaves no denoising step");
    free(small.pixels), free(blank.pixels), free(mk);
}

/* A copy of tiny-sd1 whose VAE has only the decoder's tensors. */
static void no_encoder(t2i_engine *e)
{
    char dir[128], cmd[512], path[256];
    snprintf(dir, sizeof dir, "/tmp/t2i_test_noenc_%d", (int)getpid());
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s/vae && cp tests/fixtures/tiny-sd1/vae/config.json %s/vae/",
             dir, dir, dir);
    CHECK(system(cmd) == 0, "%s", cmd);
    snprintf(cmd, sizeof cmd, "bash -c 'cp -r tests/fixtures/tiny-sd1/{model_index.json,scheduler,text_encoder,"
             "tokenizer,unet} %s/'", dir);
    CHECK(system(cmd) == 0, "%s", cmd);
    t2i_st_file *f = NULL;
    CHECK_OK(t2i_st_open("tests/fixtures/tiny-sd1/vae/diffusion_pytorch_model.safetensors", &f));
    t2i_st_writer *w = NULL;
    CHECK_OK(t2i_st_writer_create(&w));
    for (int i = 0; f && w && i < t2i_st_count(f); i++) {
        const t2i_st_tensor *t = t2i_st_get(f, i);
        if (strncmp(t->name, "encoder.", 8) == 0 || strncmp(t->name, "quant_conv.", 11) == 0) continue;
        CHECK_OK(t2i_st_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->data));
    }
    snprintf(path, sizeof path, "%s/vae/diffusion_pytorch_model.safetensors", dir);
    if (w) CHECK_OK(t2i_st_writer_save(w, path));
    t2i_st_writer_destroy(w);
    t2i_st_close(f);
    t2i_model *m = NULL;
    CHECK_OK(t2i_model_load(e, dir, &m));   /* drawing still works */
    if (m) {
        t2i_img2img_params p;
        base_params(&p, "x", NULL);
        p.base.batch_size = 1;
        EXPECT_ERR(m, &p, T2I_ERR_UNSUPPORTED, "no encoder weights");
        t2i_txt2img_params tp;
        ref_params(&tp, "x", NULL, T2I_SAMPLER_EULER, NULL);
        tp.steps = 2;
        t2i_image *imgs = NULL;
        int n = 0;
        CHECK_OK(t2i_txt2img(m, &tp, &imgs, &n));
        t2i_images_free(imgs, n);
    }
    t2i_model_destroy(m);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "%s", cmd);
}

int main(void)
{
    CHECK_OK(t2i_image_read("tests/fixtures/edit/init.png", &init_img));
    CHECK_OK(t2i_image_read("tests/fixtures/edit/mask.png", &mask_img));
    t2i_engine *e = NULL;
    CHECK_OK(t2i_engine_create(NULL, &e));
    static const struct { const char *dir; const char *cases[20]; } runs[] = {
        {"tests/fixtures/tiny-sd1",
         {"img2img_euler_a_50", "img2img_euler_a_80", "img2img_ddim_60", "img2img_dpmpp_2m_60", "img2img_euler_100",
          "inpaint4_euler_a_75"}},
        {"tests/fixtures/tiny-sd1", {"inpaint4_euler_a_100", "inpaint4_ddim_60"}},
        {"tests/fixtures/tiny-sd1-inpaint", {"inpaint9_euler_a_75", "inpaint9_euler_a_100", "inpaint9_dpmpp_2m_60"}},
        {"tests/fixtures/tiny-sd1-pix2pix", {"pix2pix_euler_a", "pix2pix_ddim"}},
        {"tests/fixtures/tiny-sd2", {"sd2_img2img_euler_a_70", "sd2_inpaint4_ddim_90"}},
        /* every other sampler beginning later (scripts/fixtures/fixtures_edit_samplers.py) */
        {"tests/fixtures/tiny-sd1",
         {"samplers/img2img_heun_60", "samplers/img2img_dpm2_60", "samplers/img2img_dpm2_a_60", "samplers/img2img_lms_60",
          "samplers/img2img_ddpm_60", "samplers/img2img_lcm_60", "samplers/img2img_unipc_60",
          "samplers/img2img_dpmpp_2s_60", "samplers/img2img_dpmpp_2s_a_60", "samplers/img2img_dpmpp_2m_karras_60",
          "samplers/img2img_lms_70", "samplers/img2img_dpmpp_2s_70", "samplers/img2img_dpmpp_2s_a_70",
          "samplers/img2img_unipc_70", "samplers/img2img_heun_70", "samplers/inpaint4_heun_75",
          "samplers/inpaint4_dpm2_a_75", "samplers/inpaint4_lms_75", "samplers/inpaint4_unipc_75"}},
        {"tests/fixtures/tiny-sdxl",
         {"sdxl_img2img_euler_a_60", "sdxl_img2img_dpmpp_2m_80", "sdxl_inpaint4_euler_a_75", "sdxl_inpaint4_euler_100"}},
    };
    for (size_t r = 0; e && init_img.pixels && r < sizeof runs / sizeof runs[0]; r++) {
        t2i_model *m = NULL;
        CHECK_OK(t2i_model_load(e, runs[r].dir, &m));
        for (int c = 0; m && c < 20 && runs[r].cases[c]; c++) run_case(m, runs[r].cases[c]);
        if (m && r == 0) a1111_checks(m);
        if (m && r == 3) {   /* an instruct model takes no mask */
            t2i_img2img_params p;
            base_params(&p, "x", NULL);
            p.mask = &mask_img;
            EXPECT_ERR(m, &p, T2I_ERR_INVALID_ARG, "takes no mask");
        }
        if (m && r == 2) {   /* an inpainting model needs a mask */
            t2i_img2img_params p;
            base_params(&p, "x", NULL);
            EXPECT_ERR(m, &p, T2I_ERR_INVALID_ARG, "needs a mask");
        }
        t2i_model_destroy(m);
    }
    if (e) no_encoder(e);
    t2i_engine_destroy(e);
    t2i_image_clear(&init_img);
    t2i_image_clear(&mask_img);
    return test_finish();
}
