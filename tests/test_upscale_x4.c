/*
 * test_upscale_x4.c — the Stable Diffusion x4 upscaler against diffusers'
 * StableDiffusionUpscalePipeline on tests/fixtures/tiny-x4 (the real
 * architecture, seeded random weights; scripts/fixtures/fixtures_upscale_x4.py):
 *
 *  - config: num_class_embeds and the per-block only_cross_attention list;
 *  - stages: one UNet call with class labels [20, 150] (in_channels 7,
 *    attn1 as cross-attention in the first blocks) and one decode of the
 *    factor-4 VAE, within STAGE_REL_BOUND of max|ref| (FP32 against FP32:
 *    the same rule as test_stages);
 *  - whole runs: a 24×16 input, batch 2 (seeds 1234, 1235, one generator
 *    per image), 10 steps, CFG 7.5, noise levels 20 and 150 with DDIM (the
 *    model's scheduler, v-prediction) and 20 with Euler a (the generators'
 *    streams continue after the noise draws). The noised input exactly as
 *    the low_res_scheduler makes it (1e-6 of max|ref|: float32 element-wise
 *    arithmetic in the same order), the final latents within 1e-3 of
 *    max|ref| and the decoded [0,1] images within 2e-3 absolute (the rule
 *    of test_pipeline / test_edit: one UNet call agrees to ~1e-6 relative,
 *    10 guided steps amplify it; the FP16-stored reference image adds
 *    2.4e-4);
 *  - bad input: noise level beyond max_noise_level, a size off the grid,
 *    no image, txt2img / img2img on the upscaler, t2i_upscale_x4 on an
 *    ordinary model, broken configs.
 */
#include <sys/stat.h>
#include "graph/build.h"
#include "product/infotext.h"
#include "stage_util.h"

#define DIR "tests/fixtures/tiny-x4"
#define STAGE_REL_BOUND 2e-4
#define NOISED_REL_BOUND 1e-6
#define LATENT_REL_BOUND 1e-3
#define IMAGE_ABS_BOUND 2e-3

static t2i_image low;

static void check_config(void)
{
    t2i_unet_config c;
    CHECK_OK(t2i_unet_config_load(DIR "/unet/config.json", &c));
    CHECK(c.in_channels == 7 && c.num_class_embeds == 1000, "in_channels %d, num_class_embeds %d", c.in_channels,
          c.num_class_embeds);
    CHECK(c.only_cross[0] && c.only_cross[1] && !c.only_cross[2], "only_cross_attention %d %d %d", c.only_cross[0],
          c.only_cross[1], c.only_cross[2]);
}

static void check_stages(void)
{
    t2i_backend *be = NULL;
    CHECK_OK(t2i_cpu_backend_create(0, &be));
    if (!be) return;
    t2i_unet_config uc;
    t2i_vae_config vc;
    CHECK_OK(t2i_unet_config_load(DIR "/unet/config.json", &uc));
    CHECK_OK(t2i_vae_config_load(DIR "/vae/config.json", &vc));
    t2i_st_file *ref = NULL;
    CHECK_OK(t2i_st_open("tests/fixtures/x4/unet.safetensors", &ref));
    t2i_graph *g = NULL;
    CHECK_OK(t2i_build_unet(&uc, 2, 16, 24, 77, &g));
    t2i_weights *w = NULL;
    t2i_plan *p = g && ref ? compile_part(be, g, DIR, "unet", NULL, 0, NULL, &w) : NULL;
    if (p) {
        set_unet_ref_inputs(p, ref);
        const t2i_st_tensor *cl = t2i_st_find(ref, "class_labels");
        int32_t li[2] = {0, 0};
        CHECK(cl && cl->dtype == T2I_I32 && cl->nbytes == sizeof li, "class_labels reference");
        if (cl && cl->nbytes == sizeof li) memcpy(li, cl->data, sizeof li);
        CHECK(li[0] == 20 && li[1] == 150, "class labels %d %d", li[0], li[1]);
        CHECK_OK(t2i_plan_set_input(p, "class_labels", li, sizeof li));
        CHECK_OK(t2i_plan_run(p));
        check_plan_output(p, ref, "out", "out", "x4 unet (class labels 20, 150)", STAGE_REL_BOUND);
    }
    t2i_plan_destroy(p);
    t2i_weights_destroy(w);
    t2i_st_close(ref);

    ref = NULL;
    w = NULL;
    CHECK_OK(t2i_st_open("tests/fixtures/x4/vae_decode.safetensors", &ref));
    g = NULL;
    CHECK_OK(t2i_build_vae_decoder(&vc, 1, 16, 24, &g));
    p = g && ref ? compile_part(be, g, DIR, "vae", NULL, 0, NULL, &w) : NULL;
    if (p) {
        set_ref_input(p, ref, "latents", "latents");
        CHECK_OK(t2i_plan_run(p));
        check_plan_output(p, ref, "image", "image", "x4 vae decode (factor 4)", STAGE_REL_BOUND);
    }
    t2i_plan_destroy(p);
    t2i_weights_destroy(w);
    t2i_st_close(ref);
    t2i_backend_destroy(be);
}

static void run_case(t2i_model *m, const char *name)
{
    char path[256], stages[64];
    snprintf(path, sizeof path, "tests/fixtures/x4/%s.safetensors", name);
    t2i_st_file *ref = NULL;
    CHECK_OK(t2i_st_open(path, &ref));
    if (!ref) return;
    stages_path(stages, sizeof stages, "x4");
    t2i_upscale_x4_params p;
    t2i_upscale_x4_params_init(&p);
    ref_params(&p.base, t2i_st_metadata(ref, "prompt"), "", T2I_SAMPLER_DDIM, stages);
    CHECK_OK(t2i_sampler_from_name(t2i_st_metadata(ref, "sampler"), &p.base.sampler));
    p.base.batch_size = 2;
    p.base.width = p.base.height = 0;
    p.image = &low;
    p.noise_level = atoi(t2i_st_metadata(ref, "noise_level"));
    t2i_image *imgs = NULL;
    int n = 0;
    CHECK_OK(t2i_upscale_x4(m, &p, &imgs, &n));
    CHECK(n == 2 && imgs[0].width == 96 && imgs[0].height == 64, "%d images of %dx%d", n, n ? imgs[0].width : 0,
          n ? imgs[0].height : 0);
    t2i_st_file *got = NULL;
    if (n == 2) CHECK_OK(t2i_st_open(stages, &got));
    if (got) {
        char what[96];
        printf(" %s\n", name);
        snprintf(what, sizeof what, "%s noised input", name);
        check_ref_tensor(ref, "noised_image", got, "noised_image", what, NOISED_REL_BOUND);
        snprintf(what, sizeof what, "%s latents", name);
        check_ref_tensor(ref, "latents", got, "latents", what, LATENT_REL_BOUND);
        check_ref_image(ref, got, "  decoded images", name, IMAGE_ABS_BOUND);
        t2i_st_close(got);
    }
    if (n == 2) {
        t2i_infotext it;
        CHECK_OK(t2i_infotext_parse(imgs[1].infotext, &it));
        int found = 0;
        for (int i = 0; i < it.n_extra; i++)
            found |= strcmp(it.extra[i].key, "Noise level") == 0 && atoi(it.extra[i].value) == p.noise_level;
        CHECK(found && it.has_seed && it.seed == 1235, "%s infotext: %s", name, imgs[1].infotext);
        t2i_infotext_free(&it);
    }
    t2i_images_free(imgs, n);
    t2i_st_close(ref);
    unlink(stages);
}

static t2i_status try_upscale(t2i_model *m, const t2i_upscale_x4_params *p)
{
    t2i_image *imgs = NULL;
    int n = 0;
    t2i_status st = t2i_upscale_x4(m, p, &imgs, &n);
    t2i_images_free(imgs, n);
    return st;
}

#define EXPECT_ERR(expr, code, needle)                                                                      \
    do {                                                                                                    \
        t2i_status s_ = (expr);                                                                             \
        CHECK(s_ == (code) && strstr(t2i_last_error(), needle), "%s: got %s '%s'", needle,                  \
              t2i_status_name(s_), t2i_last_error());                                                       \
    } while (0)

static void bad_input(t2i_engine *e, t2i_model *m)
{
    t2i_upscale_x4_params p;
    t2i_upscale_x4_params_init(&p);
    p.base.prompt = "a cat";
    p.base.steps = 2;
    p.image = &low;
    p.noise_level = 351;
    EXPECT_ERR(try_upscale(m, &p), T2I_ERR_INVALID_ARG, "max_noise_level");
    p.noise_level = -1;
    EXPECT_ERR(try_upscale(m, &p), T2I_ERR_INVALID_ARG, "noise level -1");
    p.noise_level = 20;
    t2i_image odd = low;
    odd.width = 20;   /* the grid is 4 pixels (UNet factor 4 at latent size) */
    odd.height = 15;
    EXPECT_ERR(try_upscale(m, &p), T2I_OK, "");   /* the good one first: nothing wrong */
    p.image = &odd;
    EXPECT_ERR(try_upscale(m, &p), T2I_ERR_INVALID_ARG, "multiples of 4");
    p.image = NULL;
    EXPECT_ERR(try_upscale(m, &p), T2I_ERR_INVALID_ARG, "image is required");

    t2i_image *imgs = NULL;
    int n = 0;
    t2i_txt2img_params tp;
    t2i_txt2img_params_init(&tp);
    tp.prompt = "a cat";
    tp.steps = 2;
    EXPECT_ERR(t2i_txt2img(m, &tp, &imgs, &n), T2I_ERR_INVALID_ARG, "t2i_upscale_x4");
    t2i_img2img_params ip;
    t2i_img2img_params_init(&ip);
    ip.base = tp;
    ip.init_image = &low;
    EXPECT_ERR(t2i_img2img(m, &ip, &imgs, &n), T2I_ERR_INVALID_ARG, "t2i_upscale_x4");
    CHECK(t2i_model_is_upscaler_x4(m), "the upscaler is recognised");

    t2i_model *sd = NULL;
    CHECK_OK(t2i_model_load(e, "tests/fixtures/tiny-sd2", &sd));
    CHECK(sd && !t2i_model_is_upscaler_x4(sd), "tiny-sd2 is not an upscaler");
    p.image = &low;
    if (sd) EXPECT_ERR(try_upscale(sd, &p), T2I_ERR_INVALID_ARG, "not an x4 upscaler");
    t2i_model_destroy(sd);

    expect_bad(DIR, "sed -i 's/\"in_channels\": 7/\"in_channels\": 8/' unet/config.json", T2I_ERR_FORMAT,
               "in_channels 7");
    expect_bad(DIR, "sed -i 's/\"max_noise_level\": 350/\"max_noise_level\": 1000/' model_index.json",
               T2I_ERR_FORMAT, "max_noise_level");
    expect_bad(DIR, "rm -r low_res_scheduler", T2I_ERR_IO, "low_res_scheduler");
    expect_bad(DIR, "sed -i 's/\"only_cross_attention\": \\[/\"only_cross_attention\": [true, /' unet/config.json",
               T2I_ERR_FORMAT, "only_cross_attention");
    expect_bad("tests/fixtures/tiny-sd2", "sed -i 's/\"num_class_embeds\": null/\"num_class_embeds\": 10/' unet/config.json",
               T2I_ERR_UNSUPPORTED, "num_class_embeds");
}

int main(void)
{
    check_config();
    check_stages();
    CHECK_OK(t2i_image_read("tests/fixtures/x4/low.png", &low));
    t2i_engine *e = NULL;
    t2i_model *m = NULL;
    CHECK_OK(t2i_engine_create(NULL, &e));
    if (e) CHECK_OK(t2i_model_load(e, DIR, &m));
    if (m && low.pixels) {
        run_case(m, "run_ddim_20");
        run_case(m, "run_ddim_150");
        run_case(m, "run_euler_a_20");
        bad_input(e, m);
    }
    t2i_model_destroy(m);
    t2i_engine_destroy(e);
    t2i_image_clear(&low);
    return test_finish();
}
