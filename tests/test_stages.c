/*
 * test_stages.c — each model part, run on the CPU backend, against the
 * diffusers/transformers reference computed in FP32 from the same weights
 * (tests/fixtures/<model>/ref, written by tools/make_fixtures.py).
 *
 * Tolerance rule: both sides compute in FP32 with different summation
 * orders. Each output element is a chain of ~L dot products of length up to
 * K (K ≤ 1200 here, L ≤ 60 layers), so the expected relative deviation is
 * about eps32·sqrt(K)·L ≈ 1.2e-7 · 35 · 60 ≈ 2.5e-4 at worst; we require
 * max|err| ≤ 2e-4 · max|ref| for every stage. The measured figures are
 * printed beside each check.
 */
#include "graph/build.h"
#include "graph/fuse.h"
#include "runtime/backend.h"
#include "runtime/model_config.h"
#include "runtime/plan.h"
#include "runtime/weights.h"
#include "test_util.h"

#define STAGE_REL_BOUND 2e-4

static t2i_backend *be;
static int fuse; /* run each stage unfused and with residual adds folded */

/* Build → load weights → plan; NULL (with a FAIL) on error. */
static t2i_plan *compile(t2i_graph *g, const char *dir, const char *part, t2i_weights **w)
{
    char path[512];
    t2i_st_set *set = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, part);
    CHECK_OK(t2i_st_set_open_dir(path, &set));
    if (!set) {
        t2i_graph_destroy(g);
        return NULL;
    }
    t2i_status st = t2i_weights_load(be, set, g, part, strcmp(part, "text_encoder") ? NULL : "text_model.", w);
    CHECK(st == T2I_OK, "%s weights: %s", part, t2i_last_error());
    t2i_st_set_destroy(set);
    t2i_plan *p = NULL;
    int n_fused = 0;
    if (st == T2I_OK && fuse) {
        CHECK_OK(t2i_fuse_residual_adds(g, &n_fused));
        printf("  (%s: %d residual adds folded into epilogues)\n", part, n_fused);
        CHECK(n_fused > 0, "%s: fusion found nothing to fold", part);
    }
    if (st == T2I_OK) CHECK_OK(t2i_plan_create(g, be, *w, &p));
    else t2i_graph_destroy(g);
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
        size_t n = 0;
        float *want = ref_f32(ref, "hidden", &n);
        float *got = malloc(n * sizeof *got);
        CHECK_OK(t2i_plan_set_input(p, "ids", idbuf, sizeof idbuf));
        CHECK_OK(t2i_plan_run(p));
        CHECK_OK(t2i_plan_get_output(p, "hidden", got, n * sizeof *got));
        CHECK_CLOSE("text encoder last_hidden_state", got, want, n, STAGE_REL_BOUND);
        free(want);
        free(got);
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
        size_t ns = 0, nt = 0, nc = 0, no = 0;
        float *sample = ref_f32(ref, "sample", &ns);
        float *t = ref_f32(ref, "timestep", &nt);
        float *ctx = ref_f32(ref, "encoder_hidden_states", &nc);
        float *want = ref_f32(ref, "out", &no);
        float *got = malloc(no * sizeof *got);
        float ts[2] = {t[0], t[0]};
        CHECK_OK(t2i_plan_set_input(p, "sample", sample, ns * sizeof(float)));
        CHECK_OK(t2i_plan_set_input(p, "timestep", ts, sizeof ts));
        CHECK_OK(t2i_plan_set_input(p, "context", ctx, nc * sizeof(float)));
        CHECK_OK(t2i_plan_run(p));
        CHECK_OK(t2i_plan_get_output(p, "out", got, no * sizeof *got));
        CHECK_CLOSE("unet noise prediction", got, want, no, STAGE_REL_BOUND);
        free(sample), free(t), free(ctx), free(want), free(got);
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
        size_t ni = 0, no = 0;
        float *in = ref_f32(ref, in_name, &ni);
        float *want = ref_f32(ref, out_name, &no);
        float *got = malloc(no * sizeof *got);
        CHECK_OK(t2i_plan_set_input(p, in_name, in, ni * sizeof(float)));
        CHECK_OK(t2i_plan_run(p));
        CHECK_OK(t2i_plan_get_output(p, out_name, got, no * sizeof *got));
        CHECK_CLOSE(decode ? "vae decode" : "vae encode (mean)", got, want, no, STAGE_REL_BOUND);
        free(in), free(want), free(got);
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
