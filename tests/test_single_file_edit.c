/*
 * test_single_file_edit.c — single-file checkpoints of the editing models
 * (tests/fixtures/formats/tiny-sd15-inpaint, tiny-sd15-pix2pix and
 * tiny-sdxl-inpaint .safetensors, written by
 * scripts/fixtures/fixtures_single_file_edit.py, which checks there that
 * diffusers' <Pipeline>.from_single_file gives back exactly the weights of
 * the model saved as a diffusers folder):
 *
 *  - the kind is recognised from the UNet's conv_in (input_blocks.0.0:
 *    9 input channels = inpainting, 8 = instruct-pix2pix) and the file runs
 *    equal to diffusers' from_single_file pipeline (StableDiffusionInpaint,
 *    StableDiffusionInstructPix2Pix, StableDiffusionXLInpaint): seed 1234,
 *    10 steps, CFG 7.5, 64×64, tests/fixtures/edit/init.png and mask.png,
 *    with test_edit.c's rule (latents 1e-3 · max|ref|: one UNet call agrees
 *    to ~1e-6 relative and 10 guided steps amplify it; decoded image 2e-3
 *    absolute: 1e-3 plus the FP16 rounding of the stored reference);
 *  - `t2i_convert` of each file gives a diffusers folder whose run is
 *    IDENTICAL (bit for bit) to the single file's: the same model loaded
 *    either way;
 *  - bad input: a conv_in whose channels fit no kind.
 */
#include <sys/stat.h>
#include "formats/safetensors.h"
#include "stage_util.h"

#define LATENT_REL_BOUND 1e-3
#define IMAGE_ABS_BOUND 2e-3

static const char *TOK = "tests/fixtures/tiny-sd1/tokenizer";
static t2i_image init_img, mask_img;

static t2i_status load(t2i_engine *e, const char *path, t2i_model **m)
{
    t2i_model_options o;
    t2i_model_options_init(&o);
    o.tokenizer_dir = TOK;
    return t2i_model_load_ex(e, path, &o, m);
}

/* The reference's edit on m; returns the stages file (caller closes it and
 * unlinks `stages`). */
static t2i_st_file *edit(t2i_model *m, const t2i_st_file *ref, const char *tag, char *stages, size_t cap)
{
    snprintf(stages, cap, "/tmp/t2i_test_sfe_%s_%d.safetensors", tag, (int)getpid());
    t2i_img2img_params p;
    t2i_img2img_params_init(&p);
    ref_params(&p.base, t2i_st_metadata(ref, "prompt"), "", T2I_SAMPLER_EULER_A, stages);
    CHECK_OK(t2i_sampler_from_name(t2i_st_metadata(ref, "sampler"), &p.base.sampler));
    p.init_image = &init_img;
    p.mask_blur = 0;
    if (t2i_st_metadata(ref, "strength")) p.strength = strtof(t2i_st_metadata(ref, "strength"), NULL);
    if (t2i_st_metadata(ref, "image_guidance"))
        p.image_guidance_scale = strtof(t2i_st_metadata(ref, "image_guidance"), NULL);
    if (strcmp(t2i_st_metadata(ref, "mode"), "inpaint") == 0) p.mask = &mask_img;
    t2i_image *imgs = NULL;
    int n = 0;
    CHECK_OK(t2i_img2img(m, &p, &imgs, &n));
    t2i_images_free(imgs, n);
    t2i_st_file *got = NULL;
    if (n == 1) CHECK_OK(t2i_st_open(stages, &got));
    return got;
}

static void check_file(t2i_engine *e, const char *name, int in_channels)
{
    char ckpt[256], refp[256], dir[96], cmd[200];
    snprintf(ckpt, sizeof ckpt, "tests/fixtures/formats/%s.safetensors", name);
    snprintf(refp, sizeof refp, "tests/fixtures/formats/%s-ref.safetensors", name);
    t2i_st_file *ref = NULL;
    t2i_model *m = NULL;
    CHECK_OK(t2i_st_open(refp, &ref));
    CHECK_OK(load(e, ckpt, &m));
    if (!ref || !m) goto done;
    printf("%s (UNet in_channels %d)\n", name, in_channels);
    char stages[96], stages2[96];
    t2i_st_file *got = edit(m, ref, "file", stages, sizeof stages);
    if (got) {
        char what[128];
        snprintf(what, sizeof what, "%s latents", name);
        check_ref_tensor(ref, "latents", got, "latents", what, LATENT_REL_BOUND);
        size_t nw, ng;
        float *want = ref_f32(ref, "image", &nw), *x = ref_f32(got, "image", &ng);
        cmp_result c = compare_f32(x, want, nw);
        printf("  %-40s max|err| %.3g (bound %.1g absolute)\n", "image vs diffusers", c.max_abs, IMAGE_ABS_BOUND);
        CHECK(nw == ng && c.max_abs <= IMAGE_ABS_BOUND, "%s image differs by %.3g", name, c.max_abs);
        free(want), free(x);
    }
    /* the same model as a diffusers folder: identical */
    snprintf(dir, sizeof dir, "/tmp/t2i_sfe_%s_%d", name, (int)getpid());
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "%s", cmd);
    t2i_model_options o;
    t2i_model_options_init(&o);
    o.tokenizer_dir = TOK;
    CHECK_OK(t2i_convert(ckpt, dir, &o));
    t2i_model *f = NULL;
    CHECK_OK(t2i_model_load(e, dir, &f));
    t2i_st_file *got2 = f && got ? edit(f, ref, "folder", stages2, sizeof stages2) : NULL;
    if (got2) {
        size_t na, nb;
        float *xa = ref_f32(got, "latents", &na), *xb = ref_f32(got2, "latents", &nb);
        cmp_result c = compare_f32(xb, xa, na);
        printf("  %-40s max|err| %.3g (bound 0: identical)\n", "converted folder vs file, latents", c.max_abs);
        CHECK(na == nb && na > 0 && c.max_abs == 0, "%s: folder differs from the file by %.3g", name, c.max_abs);
        free(xa), free(xb);
        t2i_st_close(got2);
        unlink(stages2);
    }
    t2i_model_destroy(f);
    CHECK(system(cmd) == 0, "%s", cmd);
    t2i_st_close(got);
    unlink(stages);
done:
    t2i_model_destroy(m);
    t2i_st_close(ref);
}

/* A conv_in of 6 input channels is none of 4, 8, 9: an error naming the tensor. */
static void check_bad_channels(t2i_engine *e)
{
    t2i_st_file *f = NULL;
    t2i_st_writer *w = NULL;
    const char *src = "tests/fixtures/formats/tiny-sd15-inpaint.safetensors";
    char out[96];
    snprintf(out, sizeof out, "/tmp/t2i_sfe_bad_%d.safetensors", (int)getpid());
    CHECK_OK(t2i_st_open(src, &f));
    CHECK_OK(t2i_st_writer_create(&w));
    for (int i = 0; f && w && i < t2i_st_count(f); i++) {
        const t2i_st_tensor *t = t2i_st_get(f, i);
        int64_t shape[8];
        memcpy(shape, t->shape, sizeof(int64_t) * (size_t)t->ndim);
        if (strcmp(t->name, "model.diffusion_model.input_blocks.0.0.weight") == 0) shape[1] = 6;   /* fewer bytes */
        CHECK_OK(t2i_st_writer_add(w, t->name, t->dtype, t->ndim, shape, t->data));
    }
    if (w) CHECK_OK(t2i_st_writer_save(w, out));
    t2i_st_writer_destroy(w);
    t2i_st_close(f);
    t2i_model *m = NULL;
    t2i_status st = load(e, out, &m);
    CHECK(st == T2I_ERR_FORMAT && strstr(t2i_last_error(), "input_blocks.0.0.weight' takes 6 channels"),
          "6-channel conv_in: %s '%s'", t2i_status_name(st), t2i_last_error());
    t2i_model_destroy(m);
    unlink(out);
}

int main(void)
{
    CHECK_OK(t2i_image_read("tests/fixtures/edit/init.png", &init_img));
    CHECK_OK(t2i_image_read("tests/fixtures/edit/mask.png", &mask_img));
    t2i_engine *e = NULL;
    CHECK_OK(t2i_engine_create(NULL, &e));
    if (e && init_img.pixels && mask_img.pixels) {
        check_file(e, "tiny-sd15-inpaint", 9);
        check_file(e, "tiny-sd15-pix2pix", 8);
        check_file(e, "tiny-sdxl-inpaint", 9);
        check_bad_channels(e);
    }
    t2i_engine_destroy(e);
    t2i_image_clear(&init_img);
    t2i_image_clear(&mask_img);
    return test_finish();
}
