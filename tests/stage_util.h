/*
 * stage_util.h — helpers of the tests that check model parts and whole runs
 * against the diffusers/transformers references under tests/fixtures/
 * (test_stages, test_sdxl, test_taiyi, test_pipeline, test_conditioning):
 *
 *  - compile_part: a part's graph + its weights from the fixture folder ->
 *    a plan (optionally with residual adds folded);
 *  - set_ref_input / check_plan_output: feed a reference tensor to a plan,
 *    compare a plan output with a reference tensor;
 *  - ref_params / run_ref_txt2img / check_ref_tensor / check_ref_image /
 *    check_ref_run_latents: the fixtures' reference txt2img run (10 steps,
 *    CFG 7.5, seed 1234, 64×64) with stage dumps, and comparisons of what
 *    it dumped;
 *  - expect_bad: a broken copy of a model folder must fail to load with a
 *    message naming the culprit.
 *
 * Bounds stay with the callers (each test states its rule). Static
 * functions: each tests/test_*.c is its own program.
 */
#ifndef T2I_STAGE_UTIL_H
#define T2I_STAGE_UTIL_H

#include <unistd.h>
#include "graph/fuse.h"
#include "kernels/backend.h"
#include "runtime/model.h"
#include "runtime/plan.h"
#include "runtime/weights.h"
#include "test_util.h"

/* Load the weights graph g declares from dir/part (names with `prefix` in
 * front in the files; may be NULL) onto be, fold residual adds when `fuse`
 * (checking that some were found; *n_fused gets the count when non-NULL),
 * and plan. Returns the plan, or NULL after a FAIL; g is consumed. */
static inline t2i_plan *compile_part(t2i_backend *be, t2i_graph *g, const char *dir, const char *part,
                                     const char *prefix, int fuse, int *n_fused, t2i_weights **w)
{
    char path[512];
    t2i_st_set *set = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, part);
    CHECK_OK(t2i_st_set_open_dir(path, &set));
    t2i_status st = set ? t2i_weights_load(be, set, g, part, prefix, w) : T2I_ERR_IO;
    CHECK(st == T2I_OK, "%s weights: %s", part, t2i_last_error());
    t2i_st_set_destroy(set);
    t2i_plan *p = NULL;
    if (st == T2I_OK && fuse) {
        int n = 0;
        CHECK_OK(t2i_fuse_residual_adds(g, &n));
        CHECK(n > 0, "%s: fusion found nothing to fold", part);
        if (n_fused) *n_fused = n;
    }
    if (st == T2I_OK) CHECK_OK(t2i_plan_create(g, be, *w, &p));
    else t2i_graph_destroy(g);
    return p;
}

/* Plan input `as` := reference tensor `name` (read as FP32). */
static inline void set_ref_input(t2i_plan *p, const t2i_st_file *ref, const char *name, const char *as)
{
    size_t n = 0;
    float *v = ref_f32(ref, name, &n);
    CHECK_OK(t2i_plan_set_input(p, as, v, n * sizeof *v));
    free(v);
}

/* The inputs of the UNet reference call (ref/unet.safetensors, batch 2):
 * sample, encoder_hidden_states as context, the one timestep for both rows. */
static inline void set_unet_ref_inputs(t2i_plan *p, const t2i_st_file *ref)
{
    set_ref_input(p, ref, "sample", "sample");
    set_ref_input(p, ref, "encoder_hidden_states", "context");
    float *t = ref_f32(ref, "timestep", NULL), ts[2] = {t ? t[0] : 0, t ? t[0] : 0};
    free(t);
    CHECK_OK(t2i_plan_set_input(p, "timestep", ts, sizeof ts));
}

/* Plan output `out` (of a run already done) against reference tensor
 * ref_name: CHECK_CLOSE with `bound`, figures printed under `what`. */
static inline void check_plan_output(t2i_plan *p, const t2i_st_file *ref, const char *out, const char *ref_name,
                                     const char *what, double bound)
{
    size_t n = 0;
    float *want = ref_f32(ref, ref_name, &n), *got = want ? malloc(n * sizeof *got + 1) : NULL;
    if (got) {
        t2i_status st = t2i_plan_get_output(p, out, got, n * sizeof *got);
        CHECK(st == T2I_OK, "%s: output %s: %s", what, out, t2i_last_error());
        if (st != T2I_OK) free(got), got = NULL;
    }
    CHECK_CLOSE(what, got, want, n, bound);
    free(want);
    free(got);
}

/* The fixtures' reference run: 10 steps, CFG 7.5, seed 1234, 64×64, batch
 * 1, `sampler`, stage tensors dumped to `stages`. */
static inline void ref_params(t2i_txt2img_params *p, const char *prompt, const char *negative,
                              t2i_sampler sampler, const char *stages)
{
    t2i_txt2img_params_init(p);
    p->prompt = prompt;
    p->negative_prompt = negative;
    p->steps = 10;
    p->guidance_scale = 7.5f;
    p->seed = 1234;
    p->width = p->height = 64;
    p->sampler = sampler;
    p->stages_path = stages;
}

/* "/tmp/t2i_test_<tag>_<pid>.safetensors": where a test's run dumps its stages. */
static inline void stages_path(char *out, size_t size, const char *tag)
{
    snprintf(out, size, "/tmp/t2i_test_%s_%d.safetensors", tag, (int)getpid());
}

/* Run p; when it gives p->batch_size images, open its stages file. Returns
 * that file (NULL after a FAIL) and the images in *imgs / *n (the caller
 * frees them, closes the file and unlinks p->stages_path). */
static inline t2i_st_file *run_ref_txt2img(t2i_model *m, const t2i_txt2img_params *p, t2i_image **imgs, int *n)
{
    *imgs = NULL;
    *n = 0;
    CHECK_OK(t2i_txt2img(m, p, imgs, n));
    t2i_st_file *got = NULL;
    if (*n == p->batch_size) CHECK_OK(t2i_st_open(p->stages_path, &got));
    return got;
}

/* Tensor got_name of the stages file against ref_name of the reference,
 * with `bound` relative to max|ref|; a missing tensor or a size mismatch
 * fails. */
static inline void check_ref_tensor(const t2i_st_file *ref, const char *ref_name, const t2i_st_file *got,
                                    const char *got_name, const char *what, double bound)
{
    size_t nw, ng;
    float *want = ref_f32(ref, ref_name, &nw), *x = ref_f32(got, got_name, &ng);
    CHECK_CLOSE_SIZED(what, x, ng, want, nw, bound);
    free(want), free(x);
}

/* Tensor `name` of the stages file against the reference's within `bound`
 * absolute (compared only when both exist with the same size, else a
 * failure); `label` heads the printed line, `what` names the run in a
 * failure. */
static inline void check_ref_abs(const t2i_st_file *ref, const t2i_st_file *got, const char *name,
                                 const char *label, const char *what, double bound)
{
    size_t nw, ng;
    float *want = ref_f32(ref, name, &nw), *x = ref_f32(got, name, &ng);
    int comparable = want && x && nw == ng && nw > 0;
    CHECK(comparable, "%s %s: %zu values, the reference has %zu", what, name, ng, nw);
    if (comparable) {
        cmp_result c = compare_f32(x, want, nw);
        printf("  %-40s max|err| %.3g (bound %.1g absolute)\n", label, c.max_abs, bound);
        CHECK(c.nonfinite == 0 && c.max_abs <= bound, "%s %s differs by %.3g", what, name, c.max_abs);
    }
    free(want), free(x);
}

/* The decoded image of the stages file against the reference's, within
 * `bound` absolute. */
static inline void check_ref_image(const t2i_st_file *ref, const t2i_st_file *got, const char *label,
                                   const char *what, double bound)
{
    check_ref_abs(ref, got, "image", label, what, bound);
}

/* A reference Euler run of (prompt, negative) whose final latents must
 * match reference tensor `key` within `bound` of max|ref|; `tag` names its
 * stages file. */
static inline void check_ref_run_latents(t2i_model *m, const char *prompt, const char *negative, const char *tag,
                                         const t2i_st_file *ref, const char *key, const char *what, double bound)
{
    char stages[64];
    stages_path(stages, sizeof stages, tag);
    t2i_txt2img_params p;
    ref_params(&p, prompt, negative, T2I_SAMPLER_EULER, stages);
    t2i_image *imgs;
    int n;
    t2i_st_file *got = run_ref_txt2img(m, &p, &imgs, &n);
    if (got) {
        check_ref_tensor(ref, key, got, "latents", what, bound);
        t2i_st_close(got);
    }
    t2i_images_free(imgs, n);
    unlink(stages);
}

/* A broken copy of the fixture folder must give a clear error naming the
 * culprit: `edit` is a shell command run inside the copy. */
static inline void expect_bad(const char *src, const char *edit, t2i_status want, const char *frag)
{
    char dir[64], cmd[1024];
    snprintf(dir, sizeof dir, "/tmp/t2i_bad_%d", (int)getpid());
    snprintf(cmd, sizeof cmd, "rm -rf %s && cp -r %s %s && cd %s && %s", dir, src, dir, dir, edit);
    CHECK(system(cmd) == 0, "%s", cmd);
    t2i_engine *e = NULL;
    t2i_model *m = NULL;
    CHECK_OK(t2i_engine_create(NULL, &e));
    t2i_status st = e ? t2i_model_load(e, dir, &m) : T2I_ERR_INTERNAL;
    printf("  %-60.60s -> %s: %s\n", edit, t2i_status_name(st), t2i_last_error());
    CHECK(st == want && !m, "%s: got %s", edit, t2i_status_name(st));
    CHECK(strstr(t2i_last_error(), frag) != NULL, "%s: message lacks '%s'", edit, frag);
    t2i_model_destroy(m);
    t2i_engine_destroy(e);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "%s", cmd);
}

#endif
