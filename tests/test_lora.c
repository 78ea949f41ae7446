/*
 * test_lora.c — LoRA merging and textual-inversion embeddings on tiny-sd1
 * against diffusers (tests/fixtures/lora, scripts/fixtures/fixtures_lora.py):
 * 4-step seeded Euler runs, CFG 7.5, 64×64, with
 *   - no LoRA, the PEFT LoRA (params.loras), both at 0.8 / 0.5 (as
 *     <lora:…> tags in the prompt and negative prompt), the kohya LoRA
 *     alone (UNet LoCon convolutions, text encoder);
 *   - back to no LoRA: the latents equal the first run's bit for bit (the
 *     originals are restored exactly);
 *   - embeddings by file name: A1111 emb_params in the prompt, diffusers'
 *     {"<token>": …} in the negative prompt;
 * and bad input: shapes that do not fit, an SDXL LoRA on an SD 1 model, an
 * embedding of the wrong width, tags without a folder, a missing file.
 *
 * Tolerance rule: test_pipeline's (latents ≤ 1e-3 · max|ref|, image ≤ 1e-3
 * absolute): merging W + s·up@down in FP32 differs from diffusers' unfused
 * W x + s·B(A x) by rounding only, far below a UNet call's 1e-6 relative.
 */
#include <math.h>
#include <sys/stat.h>
#include "product/lora_tags.h"
#include "runtime/conditioning.h"
#include "runtime/embeddings.h"
#include "runtime/lora.h"
#include "graph/build.h"
#include "stage_util.h"

#define LATENT_REL_BOUND 1e-3
#define IMAGE_ABS_BOUND 1e-3
#define FIX "tests/fixtures/lora"

/* Run p (stage dump on) and compare with ref_<tag>; returns the latents
 * (malloc'd, NULL after a failure). */
static float *run_vs_ref(t2i_model *m, t2i_txt2img_params *p, const char *tag, size_t *n_lat)
{
    char path[256], stages[64], what[64];
    snprintf(path, sizeof path, FIX "/ref_%s.safetensors", tag);
    t2i_st_file *ref = NULL;
    CHECK_OK(t2i_st_open(path, &ref));
    if (!ref) return NULL;
    stages_path(stages, sizeof stages, tag);
    p->stages_path = stages;
    t2i_image *imgs;
    int n;
    t2i_st_file *got = run_ref_txt2img(m, p, &imgs, &n);
    float *lat = NULL;
    if (got) {
        snprintf(what, sizeof what, "lora %-6s latents", tag);
        check_ref_tensor(ref, "latents", got, "latents", what, LATENT_REL_BOUND);
        check_ref_image(ref, got, "  decoded image", tag, IMAGE_ABS_BOUND);
        lat = ref_f32(got, "latents", n_lat);
        t2i_st_close(got);
    }
    t2i_images_free(imgs, n);
    t2i_st_close(ref);
    unlink(stages);
    return lat;
}

static void params(t2i_txt2img_params *p, const char *prompt, const char *negative)
{
    ref_params(p, prompt, negative, T2I_SAMPLER_EULER, NULL);
    p->steps = 4;
}

static void expect_fail(t2i_model *m, const t2i_txt2img_params *p, t2i_status want, const char *frag, const char *what)
{
    t2i_image *imgs = NULL;
    int n = 0;
    t2i_status st = t2i_txt2img(m, p, &imgs, &n);
    printf("  %-28s -> %s: %s\n", what, t2i_status_name(st), t2i_last_error());
    CHECK(st == want, "%s: got %s, want %s", what, t2i_status_name(st), t2i_status_name(want));
    CHECK(strstr(t2i_last_error(), frag) != NULL, "%s: message lacks '%s'", what, frag);
    t2i_images_free(imgs, n);
}

#define PROMPT "a red circle on a blue background, high quality"

/* The tag parser: text left, files and weights taken (A1111's rule). */
static void tag_cases(void)
{
    static const struct {
        const char *in, *out;
        int n;
        const char *path0;
        float w0, w1;
    } ok[] = {
        {"a cat <lora:x:0.8>, red", "a cat , red", 1, "D/x.safetensors", 0.8f, 0},
        {"<lora:a><lora:b:-0.5>z", "z", 2, "D/a.safetensors", 1.0f, -0.5f},
        {"<lora:x.safetensors: 0.5 >", "", 1, "D/x.safetensors", 0.5f, 0},
        {"<lora:>", "<lora:>", 0, NULL, 0, 0},
        {"a <lora:x", "a <lora:x", 0, NULL, 0, 0},
        {"<hypernet:x:1> (cat:1.2)", "<hypernet:x:1> (cat:1.2)", 0, NULL, 0, 0},
        {"", "", 0, NULL, 0, 0},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        t2i_lora_list l = {0};
        char *out = NULL;
        CHECK_OK(t2i_lora_tags_extract(ok[i].in, "D", "prompt", &out, &l));
        CHECK(out && strcmp(out, ok[i].out) == 0, "tags \"%s\": text \"%s\"", ok[i].in, out ? out : "(null)");
        CHECK(l.n == ok[i].n, "tags \"%s\": %d LoRAs", ok[i].in, l.n);
        if (l.n > 0) CHECK(strcmp(l.v[0].path, ok[i].path0) == 0 && l.v[0].weight == ok[i].w0, "tags \"%s\": %s %g",
                           ok[i].in, l.v[0].path, l.v[0].weight);
        if (l.n > 1) CHECK(l.v[1].weight == ok[i].w1, "tags \"%s\": second weight %g", ok[i].in, l.v[1].weight);
        free(out);
        t2i_lora_list_free(&l);
    }
    static const struct { const char *in; t2i_status want; const char *frag; } bad[] = {
        {"<lora:x:1:0.5>", T2I_ERR_UNSUPPORTED, "separate UNet weight"},
        {"<lora:x:nan>", T2I_ERR_INVALID_ARG, "not a number"},
        {"<lora:x:1e999>", T2I_ERR_INVALID_ARG, "not a number"},
        {"<lora:/etc/x>", T2I_ERR_INVALID_ARG, "not a LoRA name"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t2i_lora_list l = {0};
        char *out = NULL;
        t2i_status st = t2i_lora_tags_extract(bad[i].in, "D", "prompt", &out, &l);
        CHECK(st == bad[i].want && !out && strstr(t2i_last_error(), bad[i].frag), "tags \"%s\": %s %s", bad[i].in,
              t2i_status_name(st), t2i_last_error());
        free(out);
        t2i_lora_list_free(&l);
    }
}

/* A1111's chunking with an embedding: 74 tokens then myemb (3 vectors)
 * — it does not fit in the first chunk's 75 and moves whole to the next;
 * its ids are vocab_size + row. */
static void chunk_cases(t2i_model *m)
{
    char prompt[400] = "";
    for (int i = 0; i < 74; i++) strcat(prompt, "a ");
    strcat(prompt, "(myemb:1.5)");
    CHECK_OK(t2i_embeddings_prepare(m, FIX, prompt, NULL));
    t2i_conditioning c;
    t2i_status st = t2i_conditioning_build(m, prompt, NULL, 1, &c);
    CHECK(st == T2I_OK, "conditioning: %s", t2i_last_error());
    if (st != T2I_OK) return;
    const int32_t V = m->text_cfg.vocab_size, eos = t2i_clip_eos(m->tok), bos = t2i_clip_bos(m->tok);
    const int32_t *k0 = c.ids, *k1 = c.ids + 77;
    CHECK(c.n_chunks == 2, "chunks %d", c.n_chunks);
    CHECK(k0[74] != eos && k0[75] == eos && k1[0] == bos, "chunk 0 ends at 75: %d %d", k0[74], k0[75]);
    CHECK(k1[1] == V && k1[2] == V + 1 && k1[3] == V + 2 && k1[4] == eos, "chunk 1: %d %d %d %d", k1[1], k1[2],
          k1[3], k1[4]);
    t2i_conditioning_free(&c);
    CHECK_OK(t2i_embeddings_prepare(m, NULL, NULL, NULL));
}

/* The 16-bit path (the CUDA backend stores FP16 weights): a host backend
 * with FP16 weight storage holds tiny-sd1's UNet; a LoRA on one linear and
 * one LoCon convolution must give f16(f32(W) + scale · up @ down) within one
 * FP16 rounding (the GEMM's summation order may move the FP32 sum by an
 * ulp), and removing it must give the original bytes exactly. */
static t2i_status fb_alloc(t2i_backend *be, size_t n, void **p)
{
    (void)be;
    *p = malloc(n);
    return *p ? T2I_OK : T2I_ERR_NOMEM;
}
static void fb_free(t2i_backend *be, void *p) { (void)be, free(p); }
static t2i_status fb_copy(t2i_backend *be, void *d, const void *s, size_t n)
{
    (void)be;
    memcpy(d, s, n);
    return T2I_OK;
}

static void f16_cases(void)
{
    static const t2i_backend_vtable vt = {.name = "host-f16", .alloc = fb_alloc, .free = fb_free,
                                          .upload = fb_copy, .download = fb_copy};
    t2i_backend be = {.vt = &vt, .weight_dtype = T2I_F16, .act_dtype = T2I_F16};
    t2i_engine eng = {&be};
    t2i_model *m = calloc(1, sizeof *m);
    t2i_st_set *set = NULL;
    t2i_graph *g = NULL;
    m->eng = &eng;
    CHECK_OK(t2i_unet_config_load("tests/fixtures/tiny-sd1/unet/config.json", &m->unet_cfg));
    CHECK_OK(t2i_st_set_open_dir("tests/fixtures/tiny-sd1/unet", &set));
    CHECK_OK(t2i_build_unet(&m->unet_cfg, 1, 2, 2, 1, &g));
    if (set && g) CHECK_OK(t2i_weights_load(&be, set, g, "unet", NULL, &m->unet_w));
    t2i_graph_destroy(g);
    t2i_st_set_destroy(set);
    if (!m->unet_w) {
        t2i_model_destroy(m);
        return;
    }
    static const struct { const char *kohya, *name; int64_t ne[4]; int nd; } layer[2] = {
        {"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q",
         "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight", {32, 32}, 2},
        {"lora_unet_down_blocks_0_resnets_0_conv1", "down_blocks.0.resnets.0.conv1.weight", {32, 32, 3, 3}, 4},
    };
    const int r = 3;
    const float alpha = 1.5f, weight = 0.7f;
    static float down[2][3 * 288], up[2][32 * 3];
    uint32_t x = 12345;
    t2i_st_writer *wr = NULL;
    CHECK_OK(t2i_st_writer_create(&wr));
    for (int l = 0; l < 2 && wr; l++) {
        const int64_t K = layer[l].nd == 4 ? 288 : 32;
        for (int i = 0; i < r * K; i++) down[l][i] = (float)((x = x * 1664525u + 1013904223u) >> 8) / (1 << 24) - 0.5f;
        for (int i = 0; i < 32 * r; i++) up[l][i] = (float)((x = x * 1664525u + 1013904223u) >> 8) / (1 << 24) - 0.5f;
        char nm[128];
        snprintf(nm, sizeof nm, "%s.lora_down.weight", layer[l].kohya);
        CHECK_OK(t2i_st_writer_add(wr, nm, T2I_F32, layer[l].nd,
                                   layer[l].nd == 4 ? (int64_t[]){r, 32, 3, 3} : (int64_t[]){r, 32}, down[l]));
        snprintf(nm, sizeof nm, "%s.lora_up.weight", layer[l].kohya);
        CHECK_OK(t2i_st_writer_add(wr, nm, T2I_F32, layer[l].nd,
                                   layer[l].nd == 4 ? (int64_t[]){32, r, 1, 1} : (int64_t[]){32, r}, up[l]));
        snprintf(nm, sizeof nm, "%s.alpha", layer[l].kohya);
        CHECK_OK(t2i_st_writer_add(wr, nm, T2I_F32, 0, NULL, &alpha));
    }
    char path[64];
    snprintf(path, sizeof path, "/tmp/t2i_lora_f16_%d.safetensors", (int)getpid());
    if (wr) CHECK_OK(t2i_st_writer_save(wr, path));
    t2i_st_writer_destroy(wr);

    uint16_t *orig[2] = {NULL, NULL};
    const uint16_t *dev[2];
    for (int l = 0; l < 2; l++) {
        t2i_tensor key = {.ndim = layer[l].nd, .dtype = T2I_F16, .name = (char *)layer[l].name};
        memcpy(key.ne, layer[l].ne, sizeof layer[l].ne);
        dev[l] = t2i_weights_find(m->unet_w, &key);
        CHECK(dev[l] != NULL, "no weight %s", layer[l].name);
        size_t n = (size_t)t2i_tensor_numel(&key);
        orig[l] = malloc(n * sizeof **orig);
        if (dev[l]) memcpy(orig[l], dev[l], n * sizeof **orig);
    }
    t2i_lora lo = {path, weight};
    CHECK_OK(t2i_model_set_loras(m, &lo, 1));
    double worst = 0;
    for (int l = 0; l < 2 && dev[0] && dev[1]; l++) {
        const int64_t K = layer[l].nd == 4 ? 288 : 32;
        for (int o = 0; o < 32; o++)
            for (int64_t k = 0; k < K; k++) {
                float acc = 0;
                for (int j = 0; j < r; j++) acc += up[l][o * r + j] * down[l][j * K + k];
                const float want = t2i_f16_to_f32(t2i_f32_to_f16(t2i_f16_to_f32(orig[l][o * K + k]) +
                                                                 weight * alpha / r * acc));
                const float got = t2i_f16_to_f32(dev[l][o * K + k]);
                const double ulp = fmax(fabs(want), 6.1e-5) / 1024;   /* one FP16 step at |want| */
                if (fabs(got - want) / ulp > worst) worst = fabs(got - want) / ulp;
            }
    }
    printf("  FP16 storage: merged weights within %.2f FP16 steps of f16(W + s·up@down)\n", worst);
    CHECK(worst <= 1.0, "FP16 merge off by %.2f steps", worst);
    CHECK_OK(t2i_model_set_loras(m, NULL, 0));
    for (int l = 0; l < 2 && dev[l]; l++)
        CHECK(memcmp(orig[l], dev[l], (size_t)32 * (layer[l].nd == 4 ? 288 : 32) * 2) == 0,
              "%s: not restored bit for bit", layer[l].name);
    free(orig[0]), free(orig[1]);
    unlink(path);
    t2i_model_destroy(m);
}

/* A file of tensors name_i (F32 zeros of the given shape; dtype I32 when
 * the name starts with '#', which is dropped) and one metadata pair. */
typedef struct tdesc { const char *name; int ndim; int64_t shape[4]; } tdesc;
static void write_file(const char *path, const tdesc *t, int n, const char *mkey, const char *mval)
{
    t2i_st_writer *w = NULL;
    CHECK_OK(t2i_st_writer_create(&w));
    static float zeros[4096];
    for (int i = 0; w && i < n; i++) {
        const int i32 = t[i].name[0] == '#';
        CHECK_OK(t2i_st_writer_add(w, t[i].name + i32, i32 ? T2I_I32 : T2I_F32, t[i].ndim, t[i].shape, zeros));
    }
    if (w && mkey) CHECK_OK(t2i_st_writer_set_metadata(w, mkey, mval));
    if (w) CHECK_OK(t2i_st_writer_save(w, path));
    t2i_st_writer_destroy(w);
}

/* Broken LoRA files and embeddings: each a clear error naming the tensor or
 * key; a failing set leaves the set before it in place. */
static void bad_files(t2i_model *m)
{
    char path[96], dir[64];
    snprintf(dir, sizeof dir, "/tmp/t2i_lora_bad_%d", (int)getpid());
    snprintf(path, sizeof path, "%s/x.safetensors", dir);
    CHECK(mkdir(dir, 0700) == 0, "mkdir %s", dir);
#define Q "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q"
    static const struct {
        tdesc t[3];
        int n;
        const char *mkey, *mval;
        t2i_status want;
        const char *frag;
    } cases[] = {
        {{{"lora_unet_x.hada_w1_a", 2, {2, 32}}}, 1, NULL, NULL, T2I_ERR_UNSUPPORTED, "'lora_unet_x.hada_w1_a'"},
        {{{Q ".lora_down.weight", 2, {2, 32}}}, 1, NULL, NULL, T2I_ERR_FORMAT, "'" Q ".lora_up.weight'"},
        {{{"lora_unet_no_such_layer.lora_down.weight", 2, {2, 32}}, {"lora_unet_no_such_layer.lora_up.weight", 2, {32, 2}}},
         2, NULL, NULL, T2I_ERR_INVALID_ARG, "'lora_unet_no_such_layer.lora_down.weight' names no weight"},
        {{{Q ".lora_down.weight", 2, {2, 32}}, {Q ".lora_up.weight", 2, {32, 2}}, {Q ".alpha", 1, {2}}},
         3, NULL, NULL, T2I_ERR_FORMAT, "'" Q ".alpha' must hold one number"},
        {{{"#" Q ".lora_down.weight", 2, {2, 32}}, {Q ".lora_up.weight", 2, {32, 2}}}, 2, NULL, NULL, T2I_ERR_FORMAT,
         "has dtype I32"},
        {{{Q ".lora_down.weight", 2, {3, 32}}, {Q ".lora_up.weight", 2, {32, 2}}}, 2, NULL, NULL, T2I_ERR_INVALID_ARG,
         "'" Q ".lora_up.weight' [32,2] does not fit"},
        {{{"unet.conv_in.lora_A.weight", 2, {2, 36}}, {"unet.conv_in.lora_B.weight", 2, {32, 2}}}, 2,
         "lora_adapter_metadata", "{\"unet.lora_alpha\": 4", T2I_ERR_FORMAT, "lora_adapter_metadata is not a JSON"},
        {{{"unet.conv_in.lora_A.weight", 2, {2, 36}}, {"unet.conv_in.lora_B.weight", 2, {32, 2}}}, 2,
         "lora_adapter_metadata", "{\"unet.r\": 2, \"unet.lora_alpha\": 4, \"unet.rank_pattern\": {\"conv_in\": 8}}",
         T2I_ERR_UNSUPPORTED, "'unet.rank_pattern'"},
    };
    t2i_lora peft = {FIX "/peft.safetensors", 1.0f}, bad = {path, 1.0f};
    CHECK_OK(t2i_model_set_loras(m, &peft, 1));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(path, cases[i].t, cases[i].n, cases[i].mkey, cases[i].mval);
        t2i_status st = t2i_model_set_loras(m, &bad, 1);
        printf("  bad lora %zu -> %s: %s\n", i, t2i_status_name(st), t2i_last_error());
        CHECK(st == cases[i].want, "bad lora %zu: got %s", i, t2i_status_name(st));
        CHECK(strstr(t2i_last_error(), cases[i].frag) != NULL, "bad lora %zu: message lacks \"%s\"", i, cases[i].frag);
    }
    /* the PEFT set is still merged: a run asking for it equals diffusers' */
    t2i_txt2img_params p;
    size_t n = 0;
    params(&p, PROMPT, "blurry");
    p.loras = &peft;
    p.n_loras = 1;
    free(run_vs_ref(m, &p, "peft", &n));

    static const struct { tdesc t[2]; int n; t2i_status want; const char *frag; } embs[] = {
        {{{"emb_params", 3, {1, 2, 32}}}, 1, T2I_ERR_FORMAT, "'emb_params' must be [C] or [n, C]"},
        {{{"a", 2, {2, 32}}, {"b", 2, {2, 32}}}, 2, T2I_ERR_FORMAT, "no tensor 'emb_params' and not a single tensor"},
        {{{"emb_params", 2, {76, 32}}}, 1, T2I_ERR_FORMAT, "1 <= n <= 75"},
        {{{"clip_l", 2, {1, 32}}, {"clip_g", 2, {1, 48}}}, 2, T2I_ERR_INVALID_ARG, "an SDXL embedding (clip_l/clip_g)"},
    };
    for (size_t i = 0; i < sizeof embs / sizeof embs[0]; i++) {
        write_file(path, embs[i].t, embs[i].n, NULL, NULL);
        params(&p, "a red x", "");
        p.embedding_dir = dir;
        char what[32];
        snprintf(what, sizeof what, "bad embedding %zu", i);
        expect_fail(m, &p, embs[i].want, embs[i].frag, what);
    }
    unlink(path);
    rmdir(dir);
}

/* SDXL: a PEFT LoRA on the UNet and both text encoders and a kohya LoRA in
 * the original LDM naming with lora_te1_/lora_te2_ (whole runs), and
 * an A1111 clip_l/clip_g embedding: the context of both prompts against
 * diffusers' encode_prompt at test_stages' text encoder rule (2e-4 ·
 * max|ref|; the pooled output is left out: diffusers pools text_encoder_2
 * at the embedding's added tokens, t2i as A1111 at the EOS). */
#define CONTEXT_REL_BOUND 2e-4
static void sdxl_cases(t2i_model *m)
{
    t2i_txt2img_params p;
    size_t n = 0;
    t2i_lora xl = {FIX "/xl_peft.safetensors", 0.7f};
    params(&p, PROMPT, "blurry");
    p.loras = &xl;
    p.n_loras = 1;
    free(run_vs_ref(m, &p, "xl_lora", &n));
    /* kohya in the LDM naming (input_blocks_…), lora_te1_ and lora_te2_ */
    t2i_lora xk = {FIX "/xl_kohya.safetensors", 1.0f};
    p.loras = &xk;
    free(run_vs_ref(m, &p, "xl_kohya", &n));

    char stages[64];
    stages_path(stages, sizeof stages, "xl_emb");
    t2i_st_file *ref = NULL;
    CHECK_OK(t2i_st_open(FIX "/ref_xl_emb.safetensors", &ref));
    params(&p, t2i_st_metadata(ref, "prompt"), t2i_st_metadata(ref, "negative_prompt"));
    p.steps = 1;
    p.embedding_dir = FIX;
    p.stages_path = stages;
    t2i_image *imgs;
    int k;
    t2i_st_file *got = ref ? run_ref_txt2img(m, &p, &imgs, &k) : NULL;
    if (got) {
        check_ref_tensor(ref, "text_embeddings", got, "text_embeddings", "sdxl embedding context", CONTEXT_REL_BOUND);
        t2i_st_close(got);
        t2i_images_free(imgs, k);
    }
    t2i_st_close(ref);
    unlink(stages);

    params(&p, "a photo of myemb", "");
    p.embedding_dir = FIX;
    expect_fail(m, &p, T2I_ERR_INVALID_ARG, "SDXL needs tensors 'clip_l' and 'clip_g'", "SD embedding on SDXL");
}

int main(void)
{
    t2i_engine *e = NULL;
    t2i_model *m = NULL;
    CHECK_OK(t2i_engine_create(NULL, &e));
    if (e) CHECK_OK(t2i_model_load(e, "tests/fixtures/tiny-sd1", &m));
    if (!m) return test_finish();
    t2i_txt2img_params p;
    size_t n0 = 0, n1 = 0;
    tag_cases();
    f16_cases();
    chunk_cases(m);

    params(&p, PROMPT, "blurry");
    float *base = run_vs_ref(m, &p, "none", &n0);

    t2i_lora peft = {FIX "/peft.safetensors", 1.0f}, kohya = {FIX "/kohya.safetensors", 1.0f};
    params(&p, PROMPT, "blurry");
    p.loras = &peft;
    p.n_loras = 1;
    free(run_vs_ref(m, &p, "peft", &n1));

    /* tags: removed from both prompts, looked up in lora_dir */
    params(&p, PROMPT "<lora:peft:0.8>", "blurry<lora:kohya:0.5>");
    p.lora_dir = FIX;
    free(run_vs_ref(m, &p, "both", &n1));

    params(&p, PROMPT, "blurry");
    p.loras = &kohya;
    p.n_loras = 1;
    free(run_vs_ref(m, &p, "kohya", &n1));

    /* back to the loaded weights, exactly */
    params(&p, PROMPT, "blurry");
    float *again = run_vs_ref(m, &p, "none", &n1);
    CHECK(base && again && n0 == n1 && memcmp(base, again, n0 * sizeof *base) == 0,
          "latents after removing the LoRAs differ from the first run");
    printf("  no LoRA after three sets: latents %s the first run's\n",
           base && again && memcmp(base, again, n0 * sizeof *base) == 0 ? "bit-identical to" : "DIFFERENT from");
    free(base);
    free(again);

    /* textual inversion: A1111 emb_params in the prompt, diffusers' format
     * in the negative prompt, by file name */
    params(&p, "a photo of myemb, red circle", "negemb blurry");
    p.embedding_dir = FIX;
    free(run_vs_ref(m, &p, "emb", &n1));

    /* bad input */
    params(&p, "a bad_width circle", "");
    p.embedding_dir = FIX;
    expect_fail(m, &p, T2I_ERR_INVALID_ARG, "'emb_params' is 48 wide", "embedding width");
    /* the same file named only inside another word: not used, no error */
    params(&p, "a xbad_widthy circle", "");
    p.embedding_dir = FIX;
    p.steps = 1;
    t2i_image *imgs = NULL;
    int k = 0;
    CHECK_OK(t2i_txt2img(m, &p, &imgs, &k));
    t2i_images_free(imgs, k);

    t2i_lora bad = {FIX "/bad_shape.safetensors", 1.0f};
    params(&p, PROMPT, "");
    p.loras = &bad;
    p.n_loras = 1;
    expect_fail(m, &p, T2I_ERR_INVALID_ARG,
                "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_up.weight", "shape misfit");
    bad.path = FIX "/bad_sdxl.safetensors";
    expect_fail(m, &p, T2I_ERR_INVALID_ARG, "lora_te1_text_model_encoder_layers_0_self_attn_q_proj", "SDXL LoRA");
    CHECK(strstr(t2i_last_error(), "SDXL") != NULL, "the message should say SDXL");
    bad.path = FIX "/missing.safetensors";
    expect_fail(m, &p, T2I_ERR_IO, "missing.safetensors", "missing file");
    params(&p, PROMPT "<lora:peft:0.8>", "");
    expect_fail(m, &p, T2I_ERR_INVALID_ARG, "<lora:peft> but no LoRA folder", "tag without a folder");
    p.lora_dir = FIX;
    p.prompt = PROMPT "<lora:peft:x>";
    expect_fail(m, &p, T2I_ERR_INVALID_ARG, "<lora:peft:x>", "bad tag weight");
    p.prompt = PROMPT "<lora:../peft>";
    expect_fail(m, &p, T2I_ERR_INVALID_ARG, "not a LoRA name", "name with ..");

    bad_files(m);
    t2i_model_destroy(m);
    m = NULL;
    if (e) CHECK_OK(t2i_model_load(e, "tests/fixtures/tiny-sdxl", &m));
    if (m) sdxl_cases(m);
    t2i_model_destroy(m);
    t2i_engine_destroy(e);
    return test_finish();
}
