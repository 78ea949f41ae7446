/*
 * test_stages.c — each model part, run on the CPU backend, against the
 * diffusers/transformers reference computed in FP32 from the same weights
 * (tests/fixtures/<model>/ref, written by scripts/fixtures/make_fixtures.py).
 *
 * Tolerance rule: both sides compute in FP32 with different summation
 * orders. Each output element is a chain of ~L dot products of length up to
 * K (K ≤ 1200 here, L ≤ 60 layers), so the expected relative deviation is
 * about eps32·sqrt(K)·L ≈ 1.2e-7 · 35 · 60 ≈ 2.5e-4 at worst; we require
 * max|err| ≤ 2e-4 · max|ref| for every stage. The measured figures are
 * printed beside each check.
 */
#include "graph/build.h"
#include "graph/model_config.h"
#include "stage_util.h"

#define STAGE_REL_BOUND 2e-4

static t2i_backend *be;
static int fuse; /* run each stage unfused and with residual adds folded */

/* Build → load weights → plan; NULL (with a FAIL) on error. */
static t2i_plan *compile(t2i_graph *g, const char *dir, const char *part, t2i_weights **w)
{
    const char *prefix = strcmp(part, "text_encoder") ? NULL : "text_model.";
    int n_fused = 0;
    t2i_plan *p = compile_part(be, g, dir, part, prefix, fuse, &n_fused, w);
    if (fuse && n_fused) printf("  (%s: %d residual adds folded into epilogues)\n", part, n_fused);
    return p;
}

static t2i_st_file *open_ref(const char *dir, const char *name)
{
    char path[512];
    t2i_st_file *f = NULL;
    snprintf(path, sizeof path, "%s/ref/%s", dir, name);
    CHECK_OK(t2i_st_open(path, &f));
    return f;
}

static void check_text(const char *dir)
{
    char path[512];
    t2i_clip_text_config c;
    snprintf(path, sizeof path, "%s/text_encoder/config.json", dir);
    CHECK_OK(t2i_clip_text_config_load(path, &c));
    t2i_st_file *ref = open_ref(dir, "text.safetensors");
    t2i_graph *g = NULL;
    CHECK_OK(t2i_build_clip_text(&c, 2, 77, &g));
    t2i_weights *w = NULL;
    t2i_plan *p = g && ref ? compile(g, dir, "text_encoder", &w) : NULL;
    if (p) {
        const t2i_st_tensor *ids = t2i_st_find(ref, "ids");
        int32_t idbuf[2 * 77];
        CHECK(ids && ids->dtype == T2I_I32 && ids->nbytes == sizeof idbuf, "ids reference");
        if (ids) memcpy(idbuf, ids->data, sizeof idbuf);
        CHECK_OK(t2i_plan_set_input(p, "ids", idbuf, sizeof idbuf));
        CHECK_OK(t2i_plan_run(p));
        check_plan_output(p, ref, "hidden", "hidden", "text encoder last_hidden_state", STAGE_REL_BOUND);
    }
    t2i_plan_destroy(p);
    t2i_weights_destroy(w);
    t2i_st_close(ref);
}

static void check_unet(const char *dir)
{
    char path[512];
    t2i_unet_config c;
    snprintf(path, sizeof path, "%s/unet/config.json", dir);
    CHECK_OK(t2i_unet_config_load(path, &c));
    t2i_st_file *ref = open_ref(dir, "unet.safetensors");
    t2i_graph *g = NULL;
    CHECK_OK(t2i_build_unet(&c, 2, 8, 8, 77, &g));
    t2i_weights *w = NULL;
    t2i_plan *p = g && ref ? compile(g, dir, "unet", &w) : NULL;
    if (p) {
        set_unet_ref_inputs(p, ref);
        CHECK_OK(t2i_plan_run(p));
        check_plan_output(p, ref, "out", "out", "unet noise prediction", STAGE_REL_BOUND);
    }
    t2i_plan_destroy(p);
    t2i_weights_destroy(w);
    t2i_st_close(ref);
}

static void check_vae(const char *dir, int decode)
{
    char path[512];
    t2i_vae_config c;
    snprintf(path, sizeof path, "%s/vae/config.json", dir);
    CHECK_OK(t2i_vae_config_load(path, &c));
    t2i_st_file *ref = open_ref(dir, decode ? "vae_decode.safetensors" : "vae_encode.safetensors");
    t2i_graph *g = NULL;
    int f = t2i_vae_scale(&c);
    if (decode) CHECK_OK(t2i_build_vae_decoder(&c, 1, 64 / f, 64 / f, &g));
    else CHECK_OK(t2i_build_vae_encoder(&c, 1, 64, 64, &g));
    t2i_weights *w = NULL;
    t2i_plan *p = g && ref ? compile(g, dir, "vae", &w) : NULL;
    if (p) {
        const char *in_name = decode ? "latents" : "image", *out_name = decode ? "image" : "mean";
        set_ref_input(p, ref, in_name, in_name);
        CHECK_OK(t2i_plan_run(p));
        check_plan_output(p, ref, out_name, out_name, decode ? "vae decode" : "vae encode (mean)", STAGE_REL_BOUND);
    }
    t2i_plan_destroy(p);
    t2i_weights_destroy(w);
    t2i_st_close(ref);
}

int main(void)
{
    CHECK_OK(t2i_cpu_backend_create(0, &be));
    if (!be) return test_finish();
    const char *models[] = {"tests/fixtures/tiny-sd1", "tests/fixtures/tiny-sd2"};
    for (int k = 0; k < 4; k++) {
        int m = k / 2;
        fuse = k % 2;
        printf("%s%s\n", models[m], fuse ? " (fused)" : "");
        check_text(models[m]);
        check_unet(models[m]);
        check_vae(models[m], 1);
        check_vae(models[m], 0);
    }
    t2i_backend_destroy(be);
    return test_finish();
}
