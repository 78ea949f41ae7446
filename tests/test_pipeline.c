/*
 * test_pipeline.c — whole txt2img runs against diffusers' pipeline: for both
 * tiny models and every sampler, 10 steps, CFG 7.5, 64×64, seed 1234, the
 * final latents and the decoded image are compared with the reference run
 * (tests/fixtures/<model>/ref/sampler_<id>.safetensors; the references of
 * the samplers added later, written by scripts/fixtures/fixtures_samplers.py,
 * hold the latents only — the decoder is the same for all; two of them
 * with a schedule type: Heun + Karras, LMS + exponential). The seeded noise
 * must reproduce the pipeline's torch.Generator draw; the batch-2 Euler a run
 * checks per-image seeds (image i ↔ seed + i).
 *
 * Tolerance rule: the stage tests bound one UNet call at ~1e-6 relative; a
 * 10-step sampler run with CFG 7.5 amplifies that per step by at most
 * (1 + g·|∂eps/∂x|) — we allow 1e-3 of max|ref| on the final latents, 1e-3
 * absolute on the [0,1] image (a quarter of one 8-bit level), and compare the
 * seeded initial noise at 1e-6 absolute (torch's vectorised Box–Muller may
 * round differently in the last bit).
 */
#include "product/infotext.h"
#include "stage_util.h"

#define LATENT_REL_BOUND 1e-3
#define IMAGE_ABS_BOUND 1e-3
#define NOISE_ABS_BOUND 1e-6

static const struct {
    t2i_sampler s;
    const char *id;
    t2i_schedule schedule;
} samplers[] = {
    {T2I_SAMPLER_EULER, "euler", 0},       {T2I_SAMPLER_EULER_A, "euler_a", 0},
    {T2I_SAMPLER_DDIM, "ddim", 0},         {T2I_SAMPLER_DPMPP_2M, "dpmpp_2m", 0},
    {T2I_SAMPLER_DPMPP_2M_KARRAS, "dpmpp_2m_karras", 0},
    {T2I_SAMPLER_HEUN, "heun", 0},         {T2I_SAMPLER_DPM2, "dpm2", 0},
    {T2I_SAMPLER_DPM2_A, "dpm2_a", 0},     {T2I_SAMPLER_LMS, "lms", 0},
    {T2I_SAMPLER_DDPM, "ddpm", 0},         {T2I_SAMPLER_LCM, "lcm", 0},
    {T2I_SAMPLER_UNIPC, "unipc", 0},       {T2I_SAMPLER_DPMPP_2S, "dpmpp_2s", 0},
    {T2I_SAMPLER_DPMPP_2S_A, "dpmpp_2s_a", 0},
    {T2I_SAMPLER_HEUN, "heun_karras", T2I_SCHEDULE_KARRAS},
    {T2I_SAMPLER_LMS, "lms_exponential", T2I_SCHEDULE_EXPONENTIAL},
};

static void run_case(t2i_model *m, const char *dir, t2i_sampler s, const char *id, t2i_schedule schedule, int batch)
{
    char path[512], what[128], stages[64];
    snprintf(path, sizeof path, "%s/ref/sampler_%s%s.safetensors", dir, id, batch > 1 ? "_batch2" : "");
    t2i_st_file *ref = NULL;
    CHECK_OK(t2i_st_open(path, &ref));
    if (!ref) return;
    stages_path(stages, sizeof stages, "stages");

    t2i_txt2img_params p;
    ref_params(&p, t2i_st_metadata(ref, "prompt"), t2i_st_metadata(ref, "negative_prompt"), s, stages);
    p.batch_size = batch;
    p.schedule = schedule;
    CHECK(p.prompt != NULL, "%s: no prompt in metadata", path);

    t2i_image *imgs;
    int n;
    t2i_st_file *got = run_ref_txt2img(m, &p, &imgs, &n);
    if (got) {
        size_t ng = 0, ni = 0;
        float *want_noise = ref_f32(ref, "init_noise", &ni);
        float *noise = ref_f32(got, "init_noise", &ng);
        cmp_result c = compare_f32(noise, want_noise, ni);
        printf("  %-7s %-16s seeded noise max|err| %.3g\n", dir + 15, id, c.max_abs);
        CHECK(ng == ni && c.max_abs <= NOISE_ABS_BOUND, "%s: seeded noise differs by %.3g", id, c.max_abs);
        free(want_noise), free(noise);
        snprintf(what, sizeof what, "%s %s%s latents", dir + 15, id, batch > 1 ? " batch2" : "");
        check_ref_tensor(ref, "latents", got, "latents", what, LATENT_REL_BOUND);
        if (batch == 1 && t2i_st_find(ref, "image")) check_ref_image(ref, got, "  decoded image", id, IMAGE_ABS_BOUND);
        t2i_st_close(got);
    }
    if (n > 0) {
        /* The infotext carries the parameters in A1111's format. */
        t2i_infotext it;
        CHECK_OK(t2i_infotext_parse(imgs[0].infotext, &it));
        CHECK(it.steps == 10 && it.has_seed && it.seed == 1234 && it.width == 64 && it.sampler &&
                  strcmp(it.sampler, t2i_sampler_name(s)) == 0,
              "infotext: %s", imgs[0].infotext);
        CHECK(!schedule == !strstr(imgs[0].infotext, schedule == T2I_SCHEDULE_KARRAS ? "Schedule type: Karras"
                                                                                     : "Schedule type: Exponential"),
              "infotext schedule type: %s", imgs[0].infotext);
        t2i_infotext_free(&it);
    }
    t2i_images_free(imgs, n);
    t2i_st_close(ref);
    unlink(stages);
}

int main(void)
{
    t2i_engine *e = NULL;
    CHECK_OK(t2i_engine_create(NULL, &e));
    const char *dirs[] = {"tests/fixtures/tiny-sd1", "tests/fixtures/tiny-sd2"};
    for (int d = 0; d < 2 && e; d++) {
        t2i_model *m = NULL;
        CHECK_OK(t2i_model_load(e, dirs[d], &m));
        if (!m) continue;
        CHECK(t2i_model_default_size(m) == 64, "default size %d", t2i_model_default_size(m));
        for (size_t i = 0; i < sizeof samplers / sizeof samplers[0]; i++)
            run_case(m, dirs[d], samplers[i].s, samplers[i].id, samplers[i].schedule, 1);
        run_case(m, dirs[d], T2I_SAMPLER_EULER_A, "euler_a", 0, 2);

        /* a schedule type the sampler has no sigmas for */
        t2i_txt2img_params p;
        t2i_image *imgs;
        int n;
        ref_params(&p, "x", "", T2I_SAMPLER_DDIM, NULL);
        p.schedule = T2I_SCHEDULE_KARRAS;
        CHECK(t2i_txt2img(m, &p, &imgs, &n) == T2I_ERR_INVALID_ARG && strstr(t2i_last_error(), "Karras") &&
                  strstr(t2i_last_error(), "DDIM"),
              "DDIM + Karras: %s", t2i_last_error());
        t2i_model_destroy(m);
    }
    t2i_engine_destroy(e);
    return test_finish();
}
