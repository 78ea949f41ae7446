/*
 * test_clip_skip.c — A1111's "Clip skip" (t2i_txt2img_params.clip_skip)
 * against transformers: for tiny-sd1, tiny-sd2 and tiny-sdxl, a 1-step run
 * with clip_skip 2 dumps its text embeddings (negative and prompt rows),
 * compared with ref/text_clip_skip2.safetensors (written by
 * scripts/fixtures/fixtures_clip_skip.py: final_layer_norm(hidden_states[-2])
 * for SD 1.x/2.x, hidden_states[-3] of both encoders for SDXL; its empty
 * negative prompt is zeros as in diffusers, so the prompt row only). Also: the
 * run with clip skip 1 gives different embeddings (the option reaches the
 * encoder), the infotext says "Clip skip: 2", and an out-of-range value is
 * an error naming clip_skip.
 *
 * Tolerance: the stage bound of test_stages/test_sdxl, 2e-4 of max|ref|
 * (one FP32 text encoder pass).
 */
#include "stage_util.h"

#define STAGE_REL_BOUND 2e-4

static void run_model(t2i_engine *e, const char *dir)
{
    t2i_model *m = NULL;
    CHECK_OK(t2i_model_load(e, dir, &m));
    if (!m) return;
    char path[512], stages[64], what[128];
    snprintf(path, sizeof path, "%s/ref/text_clip_skip2.safetensors", dir);
    t2i_st_file *ref = NULL;
    CHECK_OK(t2i_st_open(path, &ref));
    if (!ref) {
        t2i_model_destroy(m);
        return;
    }
    stages_path(stages, sizeof stages, "clip_skip");
    t2i_txt2img_params p;
    ref_params(&p, t2i_st_metadata(ref, "prompt"), t2i_st_metadata(ref, "negative_prompt"), T2I_SAMPLER_EULER,
               stages);
    p.steps = 1;
    p.clip_skip = 2;
    t2i_image *imgs;
    int n;
    t2i_st_file *got = run_ref_txt2img(m, &p, &imgs, &n);
    if (got) {
        /* rows: negative, prompt; SDXL's empty negative prompt is zeros
         * (force_zeros_for_empty_prompt), so there the prompt row alone */
        size_t nw = 0, ng = 0;
        float *want = ref_f32(ref, "text_embeddings", &nw), *x = ref_f32(got, "text_embeddings", &ng);
        int sdxl = strstr(dir, "sdxl") != NULL;
        size_t row = nw / 2, from = sdxl ? row : 0;
        snprintf(what, sizeof what, "%s clip skip 2 text_embeddings%s", dir + 15, sdxl ? " (prompt)" : "");
        CHECK(nw == ng && nw > 0, "%s: %zu embeddings, reference %zu", dir, ng, nw);
        if (nw == ng && nw > 0) CHECK_CLOSE(what, x + from, want + from, nw - from, STAGE_REL_BOUND);
        free(want), free(x);
        t2i_st_close(got);
    }
    CHECK(n == 1 && strstr(imgs[0].infotext, "Clip skip: 2"), "infotext: %s", n ? imgs[0].infotext : "(none)");
    t2i_images_free(imgs, n);

    /* clip skip 1 (the default) must give something else */
    p.clip_skip = 1;
    got = run_ref_txt2img(m, &p, &imgs, &n);
    if (got) {
        size_t nw = 0, ng = 0;
        float *want = ref_f32(ref, "text_embeddings", &nw), *x = ref_f32(got, "text_embeddings", &ng);
        cmp_result c = compare_f32(x, want, nw < ng ? nw : ng);
        CHECK(c.max_abs > 1e-2 * c.max_ref, "%s: clip skip 1 gives the clip skip 2 embeddings", dir);
        CHECK(!strstr(imgs[0].infotext, "Clip skip"), "infotext: %s", imgs[0].infotext);
        free(want), free(x);
        t2i_st_close(got);
    }
    t2i_images_free(imgs, n);

    p.clip_skip = 1000;
    CHECK(t2i_txt2img(m, &p, &imgs, &n) == T2I_ERR_INVALID_ARG && strstr(t2i_last_error(), "clip_skip"),
          "clip_skip 1000: %s", t2i_last_error());
    p.clip_skip = -1;
    CHECK(t2i_txt2img(m, &p, &imgs, &n) == T2I_ERR_INVALID_ARG && strstr(t2i_last_error(), "clip_skip"),
          "clip_skip -1: %s", t2i_last_error());
    t2i_st_close(ref);
    unlink(stages);
    t2i_model_destroy(m);
}

int main(void)
{
    t2i_engine *e = NULL;
    CHECK_OK(t2i_engine_create(NULL, &e));
    const char *dirs[] = {"tests/fixtures/tiny-sd1", "tests/fixtures/tiny-sd2", "tests/fixtures/tiny-sdxl"};
    for (int d = 0; d < 3 && e; d++) run_model(e, dirs[d]);
    t2i_engine_destroy(e);
    return test_finish();
}
