/*
 * model.c — engine creation and loading a diffusers-layout model folder.
 *
 * model_index.json names the pipeline class and its components; each
 * component folder has a config.json (architecture) and safetensors weights.
 * Weights are uploaded once per component: the set of tensors is taken from
 * a graph built at the smallest valid size, which has the same weights as
 * every other size.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "graph/build.h"
#include "graph/fuse.h"
#include "base/error.h"
#include "base/json_util.h"
#include "runtime/embeddings.h"
#include "runtime/lora.h"
#include "runtime/model.h"
#include "runtime/single_file.h"
#include "runtime/text_encoder.h"

void t2i_engine_options_init(t2i_engine_options *o)
{
    memset(o, 0, sizeof *o);
    o->backend = T2I_BACKEND_CPU;
}

t2i_status t2i_engine_create(const t2i_engine_options *opts, t2i_engine **out)
{
    t2i_engine_options d;
    if (!opts) {
        t2i_engine_options_init(&d);
        opts = &d;
    }
    *out = NULL;
    if (opts->threads < 0) return t2i_fail(T2I_ERR_INVALID_ARG, "engine: threads must be >= 0");
    if (opts->backend != T2I_BACKEND_CPU && opts->backend != T2I_BACKEND_CUDA)
        return t2i_fail(T2I_ERR_INVALID_ARG, "engine: unknown backend %d", (int)opts->backend);
#ifndef T2I_HAVE_CUDA
    if (opts->backend == T2I_BACKEND_CUDA)
        return t2i_fail(T2I_ERR_UNSUPPORTED, "engine: this build has no CUDA backend");
#endif
    T2I_TRY(t2i_precision_check(opts->backend, opts->precision));
    t2i_engine *e = calloc(1, sizeof *e);
    if (!e) return t2i_fail(T2I_ERR_NOMEM, "engine: out of memory");
    t2i_status st;
#ifdef T2I_HAVE_CUDA
    if (opts->backend == T2I_BACKEND_CUDA)
        st = t2i_cuda_backend_create(opts->device, opts->precision == T2I_PRECISION_BF16 ? T2I_BF16 : T2I_F16, &e->be);
    else
#endif
        st = t2i_cpu_backend_create(opts->threads, &e->be);
    if (st == T2I_OK) e->be->int8_weights = opts->precision == T2I_PRECISION_INT8W;
    if (st != T2I_OK) {
        free(e);
        return st;
    }
    *out = e;
    return T2I_OK;
}

void t2i_engine_destroy(t2i_engine *e)
{
    if (!e) return;
    t2i_backend_destroy(e->be);
    free(e);
}

char *t2i_path_join(const char *dir, const char *rel)
{
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, rel);
    return p;
}

/* model_index.json: the pipeline class and the class of each component
 * (the text parts, which decide m->text_kind: runtime/text_encoder.c). */
static t2i_status check_index(t2i_model *m)
{
    char *path = t2i_path_join(m->dir, "model_index.json");
    if (!path) return t2i_fail(T2I_ERR_NOMEM, "out of memory");
    cJSON *j;
    t2i_status st = t2i_json_load(path, &j);
    if (st != T2I_OK) {
        free(path);
        return st;
    }
    t2i_jctx c = {path, T2I_OK};
    static const char *const pipelines[] = {"StableDiffusionPipeline", "StableDiffusionXLPipeline",
                                            "StableDiffusionUpscalePipeline", NULL};
    m->upscale_x4 = t2i_jenum(&c, j, "_class_name", pipelines, 0) == 2;
    if (m->upscale_x4) m->max_noise_level = t2i_jint(&c, j, "max_noise_level", 350, 0, 1 << 20);
    if (c.status == T2I_OK) t2i_text_detect(&c, j, m);
    static const struct { const char *key, *cls; } parts[] = {
        {"unet", "UNet2DConditionModel"},  {"vae", "AutoencoderKL"},
    };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0] && c.status == T2I_OK; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, parts[i].key);
        const cJSON *cls = cJSON_IsArray(v) ? cJSON_GetArrayItem(v, 1) : NULL;
        if (!cJSON_IsString(cls)) {
            t2i_jerror(&c, T2I_ERR_FORMAT, parts[i].key, "missing or not a [library, class] pair");
        } else if (strcmp(cls->valuestring, parts[i].cls)) {
            char why[160];
            snprintf(why, sizeof why, "unsupported class \"%.60s\" (expected %s)", cls->valuestring, parts[i].cls);
            t2i_jerror(&c, T2I_ERR_UNSUPPORTED, parts[i].key, why);
        }
    }
    cJSON_Delete(j);
    free(path);
    return c.status;
}

t2i_status t2i_model_load_weights(t2i_model *m, const char *part, const char *prefix, t2i_graph *g,
                                  t2i_weights **w)
{
    char *dir = t2i_path_join(m->dir, part);
    t2i_st_set *set = NULL;
    t2i_status st = dir ? t2i_st_set_open_preferred(dir, &set, NULL) : t2i_fail(T2I_ERR_NOMEM, "out of memory");
    if (st == T2I_OK) st = t2i_weights_load(m->eng->be, set, g, part, prefix, w);
    t2i_st_set_destroy(set);
    t2i_graph_destroy(g);
    free(dir);
    return st;
}

/* Whether vae/ holds the encoder's weights (its first convolution). */
static int vae_has_encoder(t2i_model *m)
{
    char *dir = t2i_path_join(m->dir, "vae");
    t2i_st_set *set = NULL;
    int has = dir && t2i_st_set_open_dir(dir, &set) == T2I_OK && t2i_st_set_find(set, "encoder.conv_in.weight");
    t2i_st_set_destroy(set);
    free(dir);
    return has;
}

/* st = parse(<model folder>/rel, cfg). A macro rather than a function
 * taking a parser pointer: each parser has its own config type, and calling
 * one through a pointer cast to a (const char *, void *) type is undefined
 * behaviour. */
#define LOAD_CONFIG(st, m, rel, cfg, parse)                                  \
    do {                                                                     \
        char *path_ = t2i_path_join((m)->dir, rel);                          \
        (st) = path_ ? parse(path_, cfg) : t2i_fail(T2I_ERR_NOMEM, "out of memory"); \
        free(path_);                                                         \
    } while (0)

static t2i_status load_folder(t2i_engine *e, const char *dir, t2i_model **out);

void t2i_model_options_init(t2i_model_options *o)
{
    memset(o, 0, sizeof *o);
}

t2i_status t2i_model_load_ex(t2i_engine *e, const char *path, const t2i_model_options *o, t2i_model **out)
{
    *out = NULL;
    if (!e || !path || !*path) return t2i_fail(T2I_ERR_INVALID_ARG, "model: engine and path are required");
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) return t2i_single_file_load(e, path, o, out);
    T2I_TRY(t2i_ckpt_refuse_pickle(path));
    if (o && o->vae_path)
        return t2i_fail(T2I_ERR_UNSUPPORTED, "%s: a separate VAE (%s) is supported with single-file checkpoints only",
                        path, o->vae_path);
    return load_folder(e, path, out);
}

t2i_status t2i_model_load(t2i_engine *e, const char *path, t2i_model **out)
{
    return t2i_model_load_ex(e, path, NULL, out);
}

static t2i_status load_folder(t2i_engine *e, const char *dir, t2i_model **out)
{
    *out = NULL;
    if (!e || !dir || !*dir) return t2i_fail(T2I_ERR_INVALID_ARG, "model: engine and folder are required");
    t2i_model *m = calloc(1, sizeof *m);
    if (!m) return t2i_fail(T2I_ERR_NOMEM, "model: out of memory");
    m->eng = e;
    m->dir = strdup(dir);
    size_t len = m->dir ? strlen(m->dir) : 0;
    while (len > 1 && m->dir[len - 1] == '/') m->dir[--len] = '\0';
    const char *base = m->dir ? strrchr(m->dir, '/') : NULL;
    m->name = strdup(base ? base + 1 : dir);
    t2i_status st = m->dir && m->name ? T2I_OK : t2i_fail(T2I_ERR_NOMEM, "model: out of memory");
    t2i_graph *g = NULL;

    if (st == T2I_OK) st = check_index(m);
    if (st == T2I_OK) LOAD_CONFIG(st, m, "unet/config.json", &m->unet_cfg, t2i_unet_config_load);
    if (st == T2I_OK) LOAD_CONFIG(st, m, "vae/config.json", &m->vae_cfg, t2i_vae_config_load);
    if (st == T2I_OK) LOAD_CONFIG(st, m, "scheduler/scheduler_config.json", &m->sched_cfg, t2i_sched_config_load);
    /* The UNet predicts latents; its input is the latents alone, or with the
     * image latents (InstructPix2Pix, 2·L), or with mask and masked-image
     * latents (inpainting, 2·L + 1). */
    if (st == T2I_OK && m->upscale_x4) {   /* [latents, low-resolution RGB], the noise level as class label */
        LOAD_CONFIG(st, m, "low_res_scheduler/scheduler_config.json", &m->low_res_sched_cfg, t2i_sched_config_load);
        const int L = m->vae_cfg.latent_channels, in = m->unet_cfg.in_channels;
        if (st == T2I_OK && (in != L + 3 || m->unet_cfg.out_channels != L || !m->unet_cfg.num_class_embeds))
            st = t2i_fail(T2I_ERR_FORMAT,
                          "%s: an upscale pipeline needs unet in_channels %d (latents + RGB), out_channels %d and "
                          "num_class_embeds (has %d, %d, %d)",
                          m->dir, L + 3, L, in, m->unet_cfg.out_channels, m->unet_cfg.num_class_embeds);
        if (st == T2I_OK && m->max_noise_level >= m->unet_cfg.num_class_embeds)
            st = t2i_fail(T2I_ERR_FORMAT, "%s: max_noise_level %d needs more than num_class_embeds %d", m->dir,
                          m->max_noise_level, m->unet_cfg.num_class_embeds);
    } else if (st == T2I_OK) {
        const int L = m->vae_cfg.latent_channels, in = m->unet_cfg.in_channels;
        if (m->unet_cfg.num_class_embeds)
            st = t2i_fail(T2I_ERR_UNSUPPORTED, "%s: unet num_class_embeds is used by the upscale pipeline only",
                          m->dir);
        else if (m->unet_cfg.out_channels != L)
            st = t2i_fail(T2I_ERR_FORMAT, "%s: vae latent_channels %d differs from unet out_channels %d", m->dir, L,
                          m->unet_cfg.out_channels);
        else if (in != L && in != 2 * L && in != 2 * L + 1)
            st = t2i_fail(T2I_ERR_FORMAT,
                          "%s: unet in_channels %d is none of %d (latents), %d (instruct edit), %d (inpainting) "
                          "for vae latent_channels %d",
                          m->dir, in, L, 2 * L, 2 * L + 1, L);
    }
    if (st == T2I_OK) st = t2i_text_load(m);   /* tokenizer(s), text encoder(s), checked against the UNet */
    int lat = st == T2I_OK ? 1 << (m->unet_cfg.n_blocks - 1) : 1;   /* n_blocks is 0 after a failed config */
    if (st == T2I_OK) st = t2i_build_unet(&m->unet_cfg, 1, lat, lat, 1, &g);
    if (st == T2I_OK) st = t2i_model_load_weights(m, "unet", NULL, g, &m->unet_w);
    if (st == T2I_OK) {
        /* One store for both halves of the VAE: the decoder's graph plus the
         * encoder's weights, merged by building both into one graph. */
        t2i_graph *dec = NULL, *enc = NULL;
        int f = t2i_vae_scale(&m->vae_cfg);
        st = t2i_build_vae_decoder(&m->vae_cfg, 1, 1, 1, &dec);
        /* A decoder-only VAE (no encoder.* tensors) still draws; editing
         * then refuses init images (has_vae_encoder = 0). */
        m->has_vae_encoder = st == T2I_OK && vae_has_encoder(m);
        if (st == T2I_OK && m->has_vae_encoder) st = t2i_build_vae_encoder(&m->vae_cfg, 1, f, f, &enc);
        if (st == T2I_OK && enc) st = t2i_graph_merge_weights(dec, enc);
        t2i_graph_destroy(enc);
        if (st == T2I_OK) st = t2i_model_load_weights(m, "vae", NULL, dec, &m->vae_w);
        else t2i_graph_destroy(dec);
    }
    if (st != T2I_OK) {
        t2i_model_destroy(m);
        return st;
    }
    *out = m;
    return T2I_OK;
}

static void slot_clear(t2i_plan_slot *s)
{
    t2i_plan_destroy(s->plan);
    memset(s, 0, sizeof *s);
}

void t2i_model_destroy(t2i_model *m)
{
    if (!m) return;
    t2i_lora_state_free(m);
    t2i_embeddings_free(m);
    slot_clear(&m->text);
    slot_clear(&m->unet);
    slot_clear(&m->vae_dec);
    slot_clear(&m->vae_enc);
    t2i_weights_destroy(m->text_w);
    t2i_weights_destroy(m->unet_w);
    t2i_weights_destroy(m->vae_w);
    t2i_clip_tokenizer_destroy(m->tok);
    t2i_text_free(m);
    free(m->dir);
    free(m->name);
    free(m);
}

int t2i_model_size_multiple(const t2i_model *m)
{
    return t2i_vae_scale(&m->vae_cfg) << (m->unet_cfg.n_blocks - 1);
}

int t2i_model_default_size(const t2i_model *m)
{
    return m->unet_cfg.sample_size * t2i_vae_scale(&m->vae_cfg);
}

void t2i_model_latent_shape(const t2i_model *m, int width, int height, int *channels, int *h, int *w)
{
    int f = t2i_vae_scale(&m->vae_cfg), size = t2i_model_default_size(m);
    *channels = m->vae_cfg.latent_channels;
    *h = (height ? height : size) / f;
    *w = (width ? width : size) / f;
}

/* Return the slot's plan if it matches, else build a new one with `build`. */
static t2i_status slot_get(t2i_model *m, t2i_plan_slot *s, int batch, int h, int w, int ctx, const t2i_weights *wts,
                           t2i_status (*build)(t2i_model *, int, int, int, int, t2i_graph **), t2i_plan **out)
{
    if (s->plan && s->batch == batch && s->h == h && s->w == w && s->ctx == ctx) {
        *out = s->plan;
        return T2I_OK;
    }
    slot_clear(s);
    t2i_graph *g = NULL;
    T2I_TRY(build(m, batch, h, w, ctx, &g));
    t2i_status st = t2i_graph_optimize(g);
    if (st != T2I_OK) {
        t2i_graph_destroy(g);
        return st;
    }
    T2I_TRY(t2i_plan_create(g, m->eng->be, wts, &s->plan));
    s->batch = batch;
    s->h = h;
    s->w = w;
    s->ctx = ctx;
    *out = s->plan;
    return T2I_OK;
}

static t2i_status build_text(t2i_model *m, int b, int h, int w, int ctx, t2i_graph **g)
{
    (void)h, (void)ctx;
    return t2i_text_build(m, 0, b, w, g);
}
static t2i_status build_text2(t2i_model *m, int b, int h, int w, int ctx, t2i_graph **g)
{
    (void)h, (void)ctx;
    return t2i_text_build(m, 1, b, w, g);
}
static t2i_status build_unet(t2i_model *m, int b, int h, int w, int ctx, t2i_graph **g)
{
    return t2i_build_unet(&m->unet_cfg, b, h, w, ctx, g);
}
static t2i_status build_dec(t2i_model *m, int b, int h, int w, int ctx, t2i_graph **g)
{
    (void)ctx;
    return t2i_build_vae_decoder(&m->vae_cfg, b, h, w, g);
}
static t2i_status build_enc(t2i_model *m, int b, int h, int w, int ctx, t2i_graph **g)
{
    (void)ctx;
    return t2i_build_vae_encoder(&m->vae_cfg, b, h, w, g);
}

t2i_status t2i_model_text_plan(t2i_model *m, int batch, int seq_len, t2i_plan **out)
{
    return slot_get(m, &m->text, batch, 1, seq_len, m->clip_skip, m->text_w, build_text, out);
}
t2i_status t2i_model_text2_plan(t2i_model *m, int batch, int seq_len, t2i_plan **out)
{
    if (m->text_kind != T2I_TEXT_SDXL) return t2i_fail(T2I_ERR_INVALID_ARG, "%s has no text_encoder_2", m->dir);
    return slot_get(m, &m->text2, batch, 1, seq_len, m->clip_skip, m->text2_w, build_text2, out);
}
t2i_status t2i_model_unet_plan(t2i_model *m, int batch, int h, int w, t2i_plan **out)
{
    return t2i_model_unet_plan_ctx(m, batch, h, w, t2i_text_len(m), out);
}
t2i_status t2i_model_unet_plan_ctx(t2i_model *m, int batch, int h, int w, int ctx_len, t2i_plan **out)
{
    if (ctx_len < 1) return t2i_fail(T2I_ERR_INVALID_ARG, "unet plan: context length %d < 1", ctx_len);
    return slot_get(m, &m->unet, batch, h, w, ctx_len, m->unet_w, build_unet, out);
}
t2i_status t2i_model_vae_decoder_plan(t2i_model *m, int batch, int h, int w, t2i_plan **out)
{
    return slot_get(m, &m->vae_dec, batch, h, w, 0, m->vae_w, build_dec, out);
}
t2i_status t2i_model_vae_encoder_plan(t2i_model *m, int batch, int h, int w, t2i_plan **out)
{
    if (!m->has_vae_encoder)
        return t2i_fail(T2I_ERR_UNSUPPORTED, "%s: the VAE has no encoder weights", m->dir);
    return slot_get(m, &m->vae_enc, batch, h, w, 0, m->vae_w, build_enc, out);
}
