/*
 * test_single_file.c — single-file checkpoints in the original (LDM / A1111)
 * naming (tests/fixtures/formats/tiny-sd15*.safetensors, written by
 * scripts/fixtures/fixtures_single_file.py and read back by diffusers'
 * from_single_file there):
 *
 *  - the checkpoint (UNet F16, VAE BF16, text encoder F32: a mixed file), its
 *    architecture inferred from tensor names and shapes, runs equal to
 *    diffusers' from_single_file pipeline: 10-step DPM++ 2M, CFG 7.5, seed
 *    1234, 64×64, within test_pipeline.c's rule (latents 1e-3 · max|ref|,
 *    image 1e-3 absolute);
 *  - with a separate VAE file (no "first_stage_model." prefix): the latents
 *    are unchanged and the image is diffusers' image with that VAE;
 *  - `t2i_convert` to a diffusers folder gives a folder whose run is
 *    IDENTICAL (bit for bit) to the single file's, and converting that folder
 *    back gives the checkpoint's tensors byte for byte under the same names;
 *  - SDXL (base): the same against StableDiffusionXLPipeline.from_single_file,
 *    and the same convert checks both ways (OpenCLIP's in_proj split into
 *    q/k/v and stacked back, text_projection transposed and back);
 *  - the old text-encoder naming (no "text_model.") gives the same
 *    embeddings; a "<name>.yaml" beside an SD 2.x file decides v-prediction;
 *  - t2i_model_list finds a diffusers folder and a single file side by side
 *    and leaves out a VAE file, other safetensors, pickles, plain folders;
 *  - bad input: a .ckpt pickle, a pickle renamed .safetensors, unknown
 *    naming, a missing block, a tensor of the wrong shape, a tokenizer larger
 *    than the checkpoint's vocabulary — each a clear error naming the file and
 *    the tensor.
 */
#include <sys/stat.h>
#include "formats/safetensors.h"
#include "stage_util.h"

#define LATENT_REL_BOUND 1e-3
#define IMAGE_ABS_BOUND 1e-3

static const char *CKPT = "tests/fixtures/formats/tiny-sd15.safetensors";
static const char *VAE = "tests/fixtures/formats/tiny-sd15-vae.safetensors";
static const char *REF = "tests/fixtures/formats/tiny-sd15-ref.safetensors";
static const char *TOK = "tests/fixtures/tiny-sd1/tokenizer";

static t2i_status load(t2i_engine *e, const char *path, const char *vae, const char *tok, t2i_model **m)
{
    t2i_model_options o;
    t2i_model_options_init(&o);
    o.vae_path = vae;
    o.tokenizer_dir = tok;
    return t2i_model_load_ex(e, path, &o, m);
}

/* A reference run of m; returns the stages file (caller closes, unlinks). */
static t2i_st_file *run(t2i_model *m, const char *tag, char *stages, size_t cap)
{
    snprintf(stages, cap, "/tmp/t2i_test_sf_%s_%d.safetensors", tag, (int)getpid());
    t2i_txt2img_params p;
    ref_params(&p, "a red circle on a blue background, high quality", "", T2I_SAMPLER_DPMPP_2M, stages);
    t2i_image *imgs;
    int n;
    t2i_st_file *got = run_ref_txt2img(m, &p, &imgs, &n);
    t2i_images_free(imgs, n);
    return got;
}

static void check_against_diffusers(t2i_engine *e, const t2i_st_file *ref)
{
    CHECK(strcmp(t2i_st_metadata(ref, "prompt"), "a red circle on a blue background, high quality") == 0,
          "reference prompt changed");
    for (int with_vae = 0; with_vae < 2; with_vae++) {
        t2i_model *m = NULL;
        CHECK_OK(load(e, CKPT, with_vae ? VAE : NULL, TOK, &m));
        if (!m) continue;
        char stages[96];
        t2i_st_file *got = run(m, with_vae ? "vae" : "plain", stages, sizeof stages);
        if (got) {
            check_ref_tensor(ref, "ref_latents", got, "latents", with_vae ? "single file + --vae latents" :
                             "single file latents", LATENT_REL_BOUND);
            size_t nw, ng;
            float *want = ref_f32(ref, with_vae ? "vae_ref_image" : "ref_image", &nw), *x = ref_f32(got, "image", &ng);
            cmp_result c = compare_f32(x, want, nw);
            printf("  %-40s max|err| %.3g (bound %.1g absolute)\n", with_vae ? "single file + --vae image" :
                   "single file image", c.max_abs, IMAGE_ABS_BOUND);
            CHECK(nw == ng && c.max_abs <= IMAGE_ABS_BOUND, "image differs by %.3g", c.max_abs);
            free(want), free(x);
            t2i_st_close(got);
        }
        unlink(stages);
        t2i_model_destroy(m);
    }
}

/* SD 2.x: OpenCLIP text encoder (q/k/v split from in_proj, the penultimate
 * layer), 64-wide heads, linear projections, v-prediction by the SD 2.x rule,
 * "!" padding — against diffusers' from_single_file run. */
static void check_sd2(t2i_engine *e)
{
    const char *ckpt = "tests/fixtures/formats/tiny-sd2v.safetensors";
    t2i_st_file *ref = NULL;
    t2i_model *m = NULL;
    CHECK_OK(t2i_st_open("tests/fixtures/formats/tiny-sd2v-ref.safetensors", &ref));
    CHECK_OK(load(e, ckpt, NULL, TOK, &m));
    if (m && ref) {
        CHECK(t2i_model_default_size(m) == 768, "SD 2.x v default size %d, want 768", t2i_model_default_size(m));
        char stages[96];
        t2i_st_file *got = run(m, "sd2", stages, sizeof stages);
        if (got) {
            check_ref_tensor(ref, "ref_latents", got, "latents", "SD 2.x single file latents", LATENT_REL_BOUND);
            size_t nw, ng;
            float *want = ref_f32(ref, "ref_image", &nw), *x = ref_f32(got, "image", &ng);
            cmp_result c = compare_f32(x, want, nw);
            printf("  %-40s max|err| %.3g (bound %.1g absolute)\n", "SD 2.x single file image", c.max_abs, IMAGE_ABS_BOUND);
            CHECK(nw == ng && c.max_abs <= IMAGE_ABS_BOUND, "SD 2.x image differs by %.3g", c.max_abs);
            free(want), free(x);
            t2i_st_close(got);
        }
        unlink(stages);
    }
    t2i_model_destroy(m);
    m = NULL;
    /* --prediction epsilon overrides the rule: another run, other latents */
    t2i_model_options o;
    t2i_model_options_init(&o);
    o.tokenizer_dir = TOK;
    o.prediction = T2I_PREDICT_EPSILON;
    CHECK_OK(t2i_model_load_ex(e, ckpt, &o, &m));
    if (m) CHECK(t2i_model_default_size(m) == 512, "SD 2.x epsilon default size %d", t2i_model_default_size(m));
    t2i_model_destroy(m);
    /* converted to a folder it runs identically; an SD 2.x folder is not written back */
    char dir[96], back[128], cmd[300];
    snprintf(dir, sizeof dir, "/tmp/t2i_sf_sd2_%d", (int)getpid());
    snprintf(back, sizeof back, "%s.safetensors", dir);
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", dir, back);
    CHECK(system(cmd) == 0, "%s", cmd);
    o.prediction = T2I_PREDICT_AUTO;
    CHECK_OK(t2i_convert(ckpt, dir, &o));
    t2i_model *a = NULL, *b = NULL;
    CHECK_OK(load(e, ckpt, NULL, TOK, &a));
    CHECK_OK(t2i_model_load(e, dir, &b));
    if (a && b) {
        char sa[96], sb[96];
        t2i_st_file *ga = run(a, "sd2a", sa, sizeof sa), *gb = run(b, "sd2b", sb, sizeof sb);
        size_t na = 0, nb = 0;
        float *xa = ga ? ref_f32(ga, "image", &na) : NULL, *xb = gb ? ref_f32(gb, "image", &nb) : NULL;
        cmp_result c = compare_f32(xb, xa, na);
        printf("  SD 2.x converted folder vs single file: image max|err| %.3g (bound 0: identical)\n", c.max_abs);
        CHECK(na == nb && na > 0 && c.max_abs == 0, "SD 2.x folder differs from the single file by %.3g", c.max_abs);
        free(xa), free(xb);
        t2i_st_close(ga), t2i_st_close(gb);
        unlink(sa), unlink(sb);
    }
    t2i_model_destroy(a);
    t2i_model_destroy(b);
    t2i_status st = t2i_convert(dir, back, NULL);
    CHECK(st == T2I_ERR_UNSUPPORTED && strstr(t2i_last_error(), "only SD 1.x"), "SD 2.x folder -> file: %s",
          t2i_last_error());
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", dir, back);
    CHECK(system(cmd) == 0, "%s", cmd);
    t2i_st_close(ref);
}

static void check_convert(t2i_engine *e, const char *ckpt, const char *tag);

/* SDXL: two text encoders (CLIP-L names under conditioner.embedders.0, OpenCLIP
 * under conditioner.embedders.1 with its transposed text_projection), the
 * text_time added embedding, VAE scaling 0.13025, "!" padding for tokenizer_2
 * — against diffusers' StableDiffusionXLPipeline.from_single_file run (with
 * negative_prompt None there: force_zeros_for_empty_prompt, which is what
 * t2i does for an empty negative prompt). */
static void check_sdxl(t2i_engine *e)
{
    const char *ckpt = "tests/fixtures/formats/tiny-sdxl.safetensors";
    t2i_st_file *ref = NULL;
    t2i_model *m = NULL;
    CHECK_OK(t2i_st_open("tests/fixtures/formats/tiny-sdxl-ref.safetensors", &ref));
    CHECK_OK(load(e, ckpt, NULL, TOK, &m));
    if (m && ref) {
        CHECK(t2i_model_default_size(m) == 1024, "SDXL default size %d, want 1024", t2i_model_default_size(m));
        char stages[96];
        t2i_st_file *got = run(m, "sdxl", stages, sizeof stages);
        if (got) {
            check_ref_tensor(ref, "ref_latents", got, "latents", "SDXL single file latents", LATENT_REL_BOUND);
            size_t nw, ng;
            float *want = ref_f32(ref, "ref_image", &nw), *x = ref_f32(got, "image", &ng);
            cmp_result c = compare_f32(x, want, nw);
            printf("  %-40s max|err| %.3g (bound %.1g absolute)\n", "SDXL single file image", c.max_abs, IMAGE_ABS_BOUND);
            CHECK(nw == ng && c.max_abs <= IMAGE_ABS_BOUND, "SDXL image differs by %.3g", c.max_abs);
            free(want), free(x);
            t2i_st_close(got);
        }
        unlink(stages);
    }
    t2i_model_destroy(m);
    t2i_st_close(ref);
    check_convert(e, ckpt, "SDXL");
}

/* ---- t2i_convert ------------------------------------------------------------------ */

/* ckpt -> folder (which runs identically) -> file (the same tensors). */
static void check_convert(t2i_engine *e, const char *ckpt, const char *tag)
{
    char dir[96], back[128], cmd[300];
    snprintf(dir, sizeof dir, "/tmp/t2i_sf_conv_%s_%d", tag, (int)getpid());
    snprintf(back, sizeof back, "%s.back.safetensors", dir);
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", dir, back);
    CHECK(system(cmd) == 0, "%s", cmd);
    t2i_model_options o;
    t2i_model_options_init(&o);
    o.tokenizer_dir = TOK;
    CHECK_OK(t2i_convert(ckpt, dir, &o));
    CHECK(t2i_convert(ckpt, dir, &o) == T2I_ERR_INVALID_ARG && strstr(t2i_last_error(), "already exists"),
          "convert overwrote an existing folder");

    /* the folder runs exactly as the single file */
    t2i_model *a = NULL, *b = NULL;
    CHECK_OK(load(e, ckpt, NULL, TOK, &a));
    CHECK_OK(t2i_model_load(e, dir, &b));
    if (a && b) {
        char sa[96], sb[96];
        t2i_st_file *ga = run(a, "conv_a", sa, sizeof sa), *gb = run(b, "conv_b", sb, sizeof sb);
        static const char *const keys[] = {"text_embeddings", "latents", "image"};
        for (int k = 0; ga && gb && k < 3; k++) {
            size_t na, nb;
            float *xa = ref_f32(ga, keys[k], &na), *xb = ref_f32(gb, keys[k], &nb);
            cmp_result c = compare_f32(xb, xa, na);
            printf("  %s converted folder vs single file: %-16s max|err| %.3g (bound 0: identical)\n", tag, keys[k], c.max_abs);
            CHECK(na == nb && na > 0 && c.max_abs == 0, "%s: folder differs from the single file by %.3g", keys[k], c.max_abs);
            free(xa), free(xb);
        }
        t2i_st_close(ga), t2i_st_close(gb);
        unlink(sa), unlink(sb);
    }
    t2i_model_destroy(a);
    t2i_model_destroy(b);

    /* and back: the same tensors, byte for byte, under the same names */
    CHECK_OK(t2i_convert(dir, back, NULL));
    t2i_st_file *f0 = NULL, *f1 = NULL;
    CHECK_OK(t2i_st_open(ckpt, &f0));
    CHECK_OK(t2i_st_open(back, &f1));
    if (f0 && f1) {
        int same = 0;
        CHECK(t2i_st_count(f0) == t2i_st_count(f1), "round trip: %d tensors, the checkpoint has %d", t2i_st_count(f1),
              t2i_st_count(f0));
        for (int i = 0; i < t2i_st_count(f0); i++) {
            const t2i_st_tensor *x = t2i_st_get(f0, i), *y = t2i_st_find(f1, x->name);
            int eq = y && y->dtype == x->dtype && y->ndim == x->ndim && y->nbytes == x->nbytes &&
                     memcmp(y->shape, x->shape, sizeof x->shape[0] * (size_t)x->ndim) == 0 &&
                     memcmp(y->data, x->data, x->nbytes) == 0;
            CHECK(eq, "round trip: tensor '%s' %s", x->name, y ? "differs" : "is missing");
            same += eq;
        }
        printf("  %s single file -> folder -> single file: %d/%d tensors identical (names, dtypes, shapes, bytes)\n",
               tag, same, t2i_st_count(f0));
    }
    t2i_st_close(f0), t2i_st_close(f1);
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", dir, back);
    CHECK(system(cmd) == 0, "%s", cmd);
}

/* Older checkpoints name the SD 1.x text encoder without "text_model."
 * (transformers < 4.20 state dicts): same model, same output. */
static void write_renamed(const char *out, const char *from, const char *to)
{
    t2i_st_file *f = NULL;
    t2i_st_writer *w = NULL;
    CHECK_OK(t2i_st_open(CKPT, &f));
    CHECK_OK(t2i_st_writer_create(&w));
    size_t nf = strlen(from);
    for (int i = 0; f && w && i < t2i_st_count(f); i++) {
        const t2i_st_tensor *t = t2i_st_get(f, i);
        char name[512];
        if (strncmp(t->name, from, nf) == 0) snprintf(name, sizeof name, "%s%s", to, t->name + nf);
        else snprintf(name, sizeof name, "%s", t->name);
        CHECK_OK(t2i_st_writer_add(w, name, t->dtype, t->ndim, t->shape, t->data));
    }
    if (w) CHECK_OK(t2i_st_writer_save(w, out));
    t2i_st_writer_destroy(w);
    t2i_st_close(f);
}

static void check_variants(t2i_engine *e)
{
    char path[128], yaml[128], stages[96];
    snprintf(path, sizeof path, "/tmp/t2i_sf_old_%d.safetensors", (int)getpid());
    write_renamed(path, "cond_stage_model.transformer.text_model.", "cond_stage_model.transformer.");
    t2i_model *a = NULL, *b = NULL;
    CHECK_OK(load(e, CKPT, NULL, TOK, &a));
    CHECK_OK(load(e, path, NULL, TOK, &b));
    if (a && b) {
        t2i_st_file *ga = run(a, "old_a", stages, sizeof stages);
        size_t na = 0, nb = 0;
        float *xa = ga ? ref_f32(ga, "text_embeddings", &na) : NULL;
        t2i_st_close(ga);
        unlink(stages);
        t2i_st_file *gb = run(b, "old_b", stages, sizeof stages);
        float *xb = gb ? ref_f32(gb, "text_embeddings", &nb) : NULL;
        t2i_st_close(gb);
        unlink(stages);
        cmp_result c = compare_f32(xb, xa, na);
        printf("  text encoder named without text_model.: embeddings max|err| %.3g (bound 0)\n", c.max_abs);
        CHECK(na == nb && na > 0 && c.max_abs == 0, "old text naming differs by %.3g", c.max_abs);
        free(xa), free(xb);
    }
    t2i_model_destroy(a);
    t2i_model_destroy(b);
    unlink(path);

    /* A1111's yaml beside the file decides the prediction type (SD 2.x): size 768 for v, 512 for eps */
    static const struct { const char *yaml; int size; } cases[] = {
        {"model:\n  params:\n    parameterization: \"v\"\n", 768},
        {"model:\n  params:\n    linear_start: 0.00085\n", 512},
    };
    char cwd[512];
    CHECK(getcwd(cwd, sizeof cwd) != NULL, "getcwd");
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "/tmp/t2i_sf_yaml_%d.safetensors", (int)getpid());
        snprintf(yaml, sizeof yaml, "/tmp/t2i_sf_yaml_%d.yaml", (int)getpid());
        unlink(path);
        char target[700];
        snprintf(target, sizeof target, "%s/tests/fixtures/formats/tiny-sd2v.safetensors", cwd);
        CHECK(symlink(target, path) == 0, "symlink %s", path);
        FILE *fy = fopen(yaml, "w");
        if (fy) fputs(cases[i].yaml, fy), fclose(fy);
        t2i_model *m = NULL;
        CHECK_OK(load(e, path, NULL, TOK, &m));
        if (m) CHECK(t2i_model_default_size(m) == cases[i].size, "yaml case %d: size %d, want %d", i,
                     t2i_model_default_size(m), cases[i].size);
        t2i_model_destroy(m);
        unlink(path);
        unlink(yaml);
    }
}

/* ---- t2i_model_list ------------------------------------------------------------ */

static void check_list(void)
{
    char dir[96], cmd[4096], cwd[512];
    snprintf(dir, sizeof dir, "/tmp/t2i_sf_list_%d", (int)getpid());
    CHECK(getcwd(cwd, sizeof cwd) != NULL, "getcwd");
    snprintf(cmd, sizeof cmd,
             "rm -rf %s && mkdir -p %s/not-a-model && cd %s && ln -s %s/tests/fixtures/tiny-sd1 tiny-sd1 && "
             "ln -s %s/%s tiny-sd15.safetensors && ln -s %s/%s vae.safetensors && "
             "ln -s %s/tests/fixtures/formats/py_f32.safetensors other.safetensors && printf 'PK' > old.ckpt",
             dir, dir, dir, cwd, cwd, CKPT, cwd, VAE, cwd);
    CHECK(system(cmd) == 0, "%s", cmd);
    t2i_model_entry *list = NULL;
    int n = 0;
    CHECK_OK(t2i_model_list(dir, &list, &n));
    CHECK(n == 2, "listed %d models, want 2 (a folder and a single file)", n);
    if (n == 2) {
        CHECK(strcmp(list[0].name, "tiny-sd1") == 0 && list[0].kind == T2I_MODEL_FOLDER && list[0].bytes > 1000000,
              "entry 0: %s kind %d bytes %lld", list[0].name, (int)list[0].kind, (long long)list[0].bytes);
        CHECK(strcmp(list[1].name, "tiny-sd15") == 0 && list[1].kind == T2I_MODEL_SINGLE_FILE &&
                  strstr(list[1].path, "tiny-sd15.safetensors") && list[1].bytes > 1000000,
              "entry 1: %s kind %d", list[1].name, (int)list[1].kind);
        for (int i = 0; i < n; i++)
            printf("  t2i_model_list: %-10s %-11s %lld bytes\n", list[i].name,
                   list[i].kind == T2I_MODEL_FOLDER ? "folder" : "single file", (long long)list[i].bytes);
    }
    t2i_model_list_free(list, n);
    CHECK(t2i_model_list("/nonexistent/t2i", &list, &n) == T2I_ERR_IO && n == 0 && !list, "missing folder listed");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "%s", cmd);
}

/* ---- bad input ----------------------------------------------------------------- */

/* A copy of the checkpoint with tensor `drop` left out, or (when reshape)
 * replaced by a 1-D tensor of the same name. */
static void write_edited(const char *out, const char *drop, int reshape)
{
    t2i_st_file *f = NULL;
    t2i_st_writer *w = NULL;
    CHECK_OK(t2i_st_open(CKPT, &f));
    CHECK_OK(t2i_st_writer_create(&w));
    for (int i = 0; f && w && i < t2i_st_count(f); i++) {
        const t2i_st_tensor *t = t2i_st_get(f, i);
        if (strcmp(t->name, drop) == 0) {
            if (!reshape) continue;
            int64_t n = (int64_t)(t->nbytes / t2i_dtype_size(t->dtype));
            CHECK_OK(t2i_st_writer_add(w, t->name, t->dtype, 1, &n, t->data));
            continue;
        }
        CHECK_OK(t2i_st_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->data));
    }
    if (w) CHECK_OK(t2i_st_writer_save(w, out));
    t2i_st_writer_destroy(w);
    t2i_st_close(f);
}

static void expect_error(t2i_engine *e, const char *label, const char *path, const char *tok, t2i_status want,
                         const char *frag1, const char *frag2)
{
    t2i_model *m = NULL;
    t2i_status st = load(e, path, NULL, tok, &m);
    printf("  bad input: %-28s -> %s: %.300s\n", label, t2i_status_name(st), st ? t2i_last_error() : "");
    CHECK(st == want && !m, "%s: got %s", label, t2i_status_name(st));
    CHECK(st && strstr(t2i_last_error(), frag1), "%s: message lacks '%s'", label, frag1);
    if (frag2) CHECK(st && strstr(t2i_last_error(), frag2), "%s: message lacks '%s'", label, frag2);
    t2i_model_destroy(m);
}

static void check_bad_input(t2i_engine *e)
{
    char path[128], cmd[400];
    snprintf(path, sizeof path, "/tmp/t2i_sf_bad_%d.ckpt", (int)getpid());
    snprintf(cmd, sizeof cmd, "printf 'PK\\003\\004fake' > %s", path);
    CHECK(system(cmd) == 0, "%s", cmd);
    expect_error(e, ".ckpt pickle", path, TOK, T2I_ERR_UNSUPPORTED, "PyTorch pickle", "weights_only=True");
    unlink(path);
    snprintf(path, sizeof path, "/tmp/t2i_sf_bad_%d.safetensors", (int)getpid());
    snprintf(cmd, sizeof cmd, "printf 'PK\\003\\004fake-zip-archive' > %s", path);
    CHECK(system(cmd) == 0, "%s", cmd);
    expect_error(e, "pickle named .safetensors", path, TOK, T2I_ERR_UNSUPPORTED, "PyTorch pickle", NULL);
    expect_error(e, "unknown naming", "tests/fixtures/formats/py_f32.safetensors", TOK, T2I_ERR_FORMAT,
                 "unknown naming", "model.diffusion_model.input_blocks.0.0.weight");
    write_edited(path, "model.diffusion_model.input_blocks.1.0.in_layers.2.weight", 0);
    expect_error(e, "missing UNet block", path, TOK, T2I_ERR_FORMAT,
                 "model.diffusion_model.input_blocks.1.0.in_layers.2.weight", "missing");
    write_edited(path, "model.diffusion_model.output_blocks.3.1.transformer_blocks.0.attn2.to_v.weight", 0);
    expect_error(e, "missing attention tensor", path, TOK, T2I_ERR_FORMAT,
                 "model.diffusion_model.output_blocks.3.1.transformer_blocks.0.attn2.to_v.weight",
                 "up_blocks.1.attentions.1.transformer_blocks.0.attn2.to_v.weight");
    write_edited(path, "first_stage_model.decoder.up.0.block.1.conv2.weight", 1);
    expect_error(e, "VAE tensor of wrong shape", path, TOK, T2I_ERR_FORMAT,
                 "first_stage_model.decoder.up.0.block.1.conv2.weight", "has shape");
    unlink(path);
    /* without a tokenizer the project's real CLIP vocabulary (49408) is used: too large for this file */
    expect_error(e, "tokenizer larger than vocab", CKPT, NULL, T2I_ERR_FORMAT, "49408 tokens", "2514 rows");
}

int main(void)
{
    t2i_engine *e = NULL;
    CHECK_OK(t2i_engine_create(NULL, &e));
    t2i_st_file *ref = NULL;
    CHECK_OK(t2i_st_open(REF, &ref));
    if (e && ref) {
        check_against_diffusers(e, ref);
        check_convert(e, CKPT, "SD 1.x");
        check_sd2(e);
        check_sdxl(e);
        check_variants(e);
        check_list();
        check_bad_input(e);
    }
    t2i_st_close(ref);
    t2i_engine_destroy(e);
    return test_finish();
}
