/*
 * single_file.c — recognising a single-file checkpoint, inferring its
 * diffusers configs from tensor names and shapes, reading its tensors under
 * diffusers names, and loading it as a model (single_file.h).
 *
 * The inferred configs are diffusers config.json objects, parsed by the same
 * validating parsers as a folder's files (graph/model_config.h), so a
 * checkpoint and its converted folder run the same graphs.
 */
#include "runtime/single_file.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/error.h"
#include "base/json_util.h"
#include "graph/build.h"
#include "runtime/text_encoder.h"

#define UNET_P "model.diffusion_model."
#define VAE_P "first_stage_model."
#define MAX_NAME 512

/* ---- pickles ----------------------------------------------------------------- */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

#define PICKLE_ADVICE                                                                                        \
    "t2i reads only .safetensors, because loading a pickle can run arbitrary code. Convert it once, in a " \
    "Python environment with torch and safetensors, without executing its code: "                          \
    "python -c \"import torch, safetensors.torch as st; sd = torch.load('%s', map_location='cpu', "         \
    "weights_only=True); sd = sd.get('state_dict', sd); st.save_file({k: v.contiguous() for k, v in "       \
    "sd.items() if isinstance(v, torch.Tensor)}, 'model.safetensors')\" (weights_only=True refuses code)"

t2i_status t2i_ckpt_refuse_pickle(const char *path)
{
    static const char *const ext[] = {".ckpt", ".pt", ".pth", ".bin"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (ends_with(path, ext[i]))
            return t2i_fail(T2I_ERR_UNSUPPORTED, "%s: a PyTorch pickle (%s): " PICKLE_ADVICE, path, ext[i], path);
    return T2I_OK;
}

/* A file that is not safetensors: say so when it looks like a torch pickle
 * (a zip archive, or pickle protocol 2+). */
static t2i_status open_checked(const char *path, t2i_st_file **f)
{
    t2i_status st = t2i_st_open(path, f);
    if (st != T2I_ERR_FORMAT) return st;
    unsigned char head[4] = {0};
    FILE *fp = fopen(path, "rb");
    size_t n = fp ? fread(head, 1, 4, fp) : 0;
    if (fp) fclose(fp);
    if ((n == 4 && memcmp(head, "PK\x03\x04", 4) == 0) || (n >= 1 && head[0] == 0x80))
        return t2i_fail(T2I_ERR_UNSUPPORTED, "%s: a PyTorch pickle, not safetensors: " PICKLE_ADVICE, path, path);
    return st;
}

/* ---- tensor lookup -------------------------------------------------------------- */

static const t2i_st_tensor *tfind(const t2i_st_file *f, const char *fmt, ...) T2I_PRINTF(2, 3);
static const t2i_st_tensor *tfind(const t2i_st_file *f, const char *fmt, ...)
{
    char name[MAX_NAME];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    return t2i_st_find(f, name);
}

/* A tensor the inference needs: missing or of another rank -> an error
 * naming it. */
static t2i_status need(const char *path, const t2i_st_file *f, int ndim, const t2i_st_tensor **out,
                       const char *fmt, ...) T2I_PRINTF(5, 6);
static t2i_status need(const char *path, const t2i_st_file *f, int ndim, const t2i_st_tensor **out,
                       const char *fmt, ...)
{
    char name[MAX_NAME];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    *out = t2i_st_find(f, name);
    if (!*out) return t2i_fail(T2I_ERR_FORMAT, "%s: tensor '%s' is missing (a block of the model is absent)", path, name);
    if ((*out)->ndim != ndim)
        return t2i_fail(T2I_ERR_FORMAT, "%s: tensor '%s' has %d dimensions, expected %d", path, name, (*out)->ndim, ndim);
    return T2I_OK;
}

/* The largest N such that "<prefix><N><suffix>" names a tensor (N counted
 * from 0 without gaps), i.e. how many there are. */
static int count_seq(const t2i_st_file *f, const char *prefix, const char *suffix)
{
    int n = 0;
    while (n < 1000 && tfind(f, "%s%d%s", prefix, n, suffix)) n++;
    return n;
}

static cJSON *int_array(const int *v, int n)
{
    return cJSON_CreateIntArray(v, n);
}

static cJSON *str_array(const char *a, const char *b, const bool *use_b, int n, bool reverse)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        int k = reverse ? n - 1 - i : i;
        cJSON_AddItemToArray(arr, cJSON_CreateString(use_b[k] ? b : a));
    }
    return arr;
}

/* ---- recognising the model --------------------------------------------------- */

static t2i_status detect(t2i_ckpt *c)
{
    const t2i_st_file *f = c->f;
    if (!t2i_st_find(f, UNET_P "input_blocks.0.0.weight")) {
        int any = 0;
        for (int i = 0; i < t2i_st_count(f) && !any; i++) any = strncmp(t2i_st_get(f, i)->name, UNET_P, strlen(UNET_P)) == 0;
        if (any)
            return t2i_fail(T2I_ERR_FORMAT, "%s: tensor '" UNET_P "input_blocks.0.0.weight' is missing (UNet conv_in)",
                            c->path);
        const char *first = t2i_st_count(f) ? t2i_st_get(f, 0)->name : "(none)";
        return t2i_fail(T2I_ERR_FORMAT,
                        "%s: unknown naming: no tensor '" UNET_P "input_blocks.0.0.weight' (first tensor: '%.80s'); "
                        "t2i reads SD 1.x / 2.x / XL single files in the original (LDM / A1111) naming, "
                        "and diffusers-named weights as a diffusers folder", c->path, first);
    }
    t2i_ckpt_layout *l = &c->layout;
    if (t2i_st_find(f, "conditioner.embedders.1.model.token_embedding.weight")) {
        c->kind = T2I_CKPT_SDXL;
        l->text_prefix = "conditioner.embedders.0.transformer.";
        l->text_naming = T2I_CKPT_TEXT_HF;
        l->text2_prefix = "conditioner.embedders.1.model.";
        l->text2_naming = T2I_CKPT_TEXT_OPENCLIP;
        if (!t2i_st_find(f, "conditioner.embedders.0.transformer.text_model.embeddings.token_embedding.weight"))
            return t2i_fail(T2I_ERR_UNSUPPORTED, "%s: tensor 'conditioner.embedders.0.transformer.text_model.embeddings."
                            "token_embedding.weight' is missing: an SDXL refiner (one OpenCLIP encoder) is not "
                            "supported", c->path);
        return T2I_OK;
    }
    if (t2i_st_find(f, "cond_stage_model.model.token_embedding.weight")) {
        c->kind = T2I_CKPT_SD2;
        l->text_prefix = "cond_stage_model.model.";
        l->text_naming = T2I_CKPT_TEXT_OPENCLIP;
        return T2I_OK;
    }
    if (t2i_st_find(f, "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight")) {
        c->kind = T2I_CKPT_SD1;
    } else if (t2i_st_find(f, "cond_stage_model.transformer.embeddings.token_embedding.weight")) {
        c->kind = T2I_CKPT_SD1;
        c->text_strip = true;
    } else {
        return t2i_fail(T2I_ERR_FORMAT, "%s: no text encoder: tensor 'cond_stage_model.transformer.text_model."
                        "embeddings.token_embedding.weight' (SD 1.x) or 'cond_stage_model.model.token_embedding."
                        "weight' (SD 2.x) is missing", c->path);
    }
    l->text_prefix = "cond_stage_model.transformer.";
    l->text_naming = T2I_CKPT_TEXT_HF;
    return T2I_OK;
}

/* ---- UNet ------------------------------------------------------------------------ */

static t2i_status infer_unet(t2i_ckpt *c)
{
    const t2i_st_file *f = c->f;
    const char *path = c->path;
    const t2i_st_tensor *t;
    T2I_TRY(need(path, f, 4, &t, UNET_P "input_blocks.0.0.weight"));
    int in_ch = (int)t->shape[1];
    /* blocks: input_blocks.N (N = 0 is conv_in); the first ".0.op" is the
     * first downsampler, at index L + 1 */
    int max_in = 0, first_op = 0;
    for (int i = 0; i < t2i_st_count(f); i++) {
        const char *name = t2i_st_get(f, i)->name;
        int k, n = -1;
        if (sscanf(name, UNET_P "input_blocks.%d.%n", &k, &n) != 1 || n < 0) continue;
        if (k > max_in) max_in = k;
        if (strcmp(name + n, "0.op.weight") == 0 && (!first_op || k < first_op)) first_op = k;
    }
    int L = first_op ? first_op - 1 : max_in, N = max_in + 1;
    if (L < 1 || N % (L + 1) || N / (L + 1) > T2I_MAX_BLOCKS || N / (L + 1) > T2I_CKPT_MAX_BLOCKS)
        return t2i_fail(T2I_ERR_FORMAT, "%s: " UNET_P "input_blocks.0..%d do not form whole down blocks "
                        "(downsampler at %d)", path, max_in, first_op);
    int nb = N / (L + 1), ch[T2I_MAX_BLOCKS], heads[T2I_MAX_BLOCKS], tl[T2I_MAX_BLOCKS];
    bool down_cross[T2I_MAX_BLOCKS], up_cross[T2I_MAX_BLOCKS], linear = false;
    int ctx = 0;
    for (int b = 0; b < nb; b++) {
        int i = 1 + b * (L + 1);
        T2I_TRY(need(path, f, 4, &t, UNET_P "input_blocks.%d.0.in_layers.2.weight", i));
        ch[b] = (int)t->shape[0];
        const t2i_st_tensor *p = tfind(f, UNET_P "input_blocks.%d.1.proj_in.weight", i);
        down_cross[b] = p != NULL;
        char pre[MAX_NAME];
        snprintf(pre, sizeof pre, UNET_P "input_blocks.%d.1.transformer_blocks.", i);
        tl[b] = p ? count_seq(f, pre, ".attn1.to_q.weight") : 1;
        if (p) linear = p->ndim == 2;
        const t2i_st_tensor *k = tfind(f, "%s0.attn2.to_k.weight", pre);
        if (k && !ctx) ctx = (int)k->shape[1];
        up_cross[b] = tfind(f, UNET_P "output_blocks.%d.1.proj_in.weight", b * (L + 1)) != NULL;
        heads[b] = c->kind == T2I_CKPT_SD1 ? 8 : ch[b] / 64 > 0 ? ch[b] / 64 : 1;   /* SD 1.x: 8 heads; else 64-wide */
        c->layout.unet_up_cross[b] = up_cross[b];
    }
    if (!ctx) {
        const t2i_st_tensor *k = tfind(f, UNET_P "middle_block.1.transformer_blocks.0.attn2.to_k.weight");
        if (!k) return t2i_fail(T2I_ERR_FORMAT, "%s: tensor '" UNET_P "middle_block.1.transformer_blocks.0.attn2.to_k.weight'"
                                " is missing (no cross-attention found)", path);
        ctx = (int)k->shape[1];
    }
    T2I_TRY(need(path, f, 4, &t, UNET_P "out.2.weight"));
    int out_ch = (int)t->shape[0];
    c->layout.unet_layers_per_block = L;
    c->layout.unet_blocks = nb;

    cJSON *j = c->unet = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "_class_name", "UNet2DConditionModel");
    cJSON_AddNumberToObject(j, "in_channels", in_ch);
    cJSON_AddNumberToObject(j, "out_channels", out_ch);
    cJSON_AddNumberToObject(j, "sample_size", 64);   /* 512 px: SD 1.x (no size is stored) */
    cJSON_AddNumberToObject(j, "layers_per_block", L);
    cJSON_AddItemToObject(j, "block_out_channels", int_array(ch, nb));
    cJSON_AddItemToObject(j, "down_block_types", str_array("DownBlock2D", "CrossAttnDownBlock2D", down_cross, nb, false));
    cJSON_AddItemToObject(j, "up_block_types", str_array("UpBlock2D", "CrossAttnUpBlock2D", up_cross, nb, false));
    cJSON_AddItemToObject(j, "attention_head_dim", int_array(heads, nb));
    cJSON_AddItemToObject(j, "transformer_layers_per_block", int_array(tl, nb));
    cJSON_AddNumberToObject(j, "cross_attention_dim", ctx);
    cJSON_AddBoolToObject(j, "use_linear_projection", linear);
    cJSON_AddNumberToObject(j, "norm_num_groups", 32);
    cJSON_AddBoolToObject(j, "flip_sin_to_cos", true);
    cJSON_AddNumberToObject(j, "freq_shift", 0);
    return T2I_OK;
}

/* ---- VAE -------------------------------------------------------------------------- */

static t2i_status infer_vae(t2i_ckpt *c, const t2i_st_file *f, const char *path, const char *P)
{
    const t2i_st_tensor *t;
    T2I_TRY(need(path, f, 4, &t, "%sencoder.conv_in.weight", P));
    int in_ch = (int)t->shape[1];
    char pre[MAX_NAME];
    snprintf(pre, sizeof pre, "%sencoder.down.", P);
    int nb = count_seq(f, pre, ".block.0.conv1.weight");
    if (nb < 1 || nb > T2I_MAX_BLOCKS)
        return t2i_fail(T2I_ERR_FORMAT, "%s: tensor '%sencoder.down.0.block.0.conv1.weight' is missing", path, P);
    int ch[T2I_MAX_BLOCKS];
    bool none[T2I_MAX_BLOCKS] = {false};
    for (int b = 0; b < nb; b++) {
        T2I_TRY(need(path, f, 4, &t, "%sencoder.down.%d.block.0.conv1.weight", P, b));
        ch[b] = (int)t->shape[0];
    }
    snprintf(pre, sizeof pre, "%sencoder.down.0.block.", P);
    int L = count_seq(f, pre, ".conv1.weight");
    T2I_TRY(need(path, f, 4, &t, "%spost_quant_conv.weight", P));
    int latent = (int)t->shape[0];
    T2I_TRY(need(path, f, 4, &t, "%sdecoder.conv_out.weight", P));
    int out_ch = (int)t->shape[0];
    bool attn = tfind(f, "%sencoder.mid.attn_1.q.weight", P) != NULL;
    c->layout.vae_blocks = nb;

    cJSON_Delete(c->vae);
    cJSON *j = c->vae = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "_class_name", "AutoencoderKL");
    cJSON_AddNumberToObject(j, "in_channels", in_ch);
    cJSON_AddNumberToObject(j, "out_channels", out_ch);
    cJSON_AddNumberToObject(j, "latent_channels", latent);
    cJSON_AddItemToObject(j, "block_out_channels", int_array(ch, nb));
    cJSON_AddItemToObject(j, "down_block_types", str_array("DownEncoderBlock2D", "", none, nb, false));
    cJSON_AddItemToObject(j, "up_block_types", str_array("UpDecoderBlock2D", "", none, nb, false));
    cJSON_AddNumberToObject(j, "layers_per_block", L);
    cJSON_AddNumberToObject(j, "norm_num_groups", 32);
    cJSON_AddNumberToObject(j, "sample_size", 512);
    cJSON_AddNumberToObject(j, "scaling_factor", 0.18215);
    cJSON_AddBoolToObject(j, "mid_block_add_attention", attn);
    return T2I_OK;
}

/* ---- text encoder (transformers CLIP names) -------------------------------------- */

static t2i_status infer_text_hf(t2i_ckpt *c)
{
    const t2i_st_file *f = c->f;
    char P[128];
    snprintf(P, sizeof P, "%s%s", c->layout.text_prefix, c->text_strip ? "" : "text_model.");
    const t2i_st_tensor *t;
    T2I_TRY(need(c->path, f, 2, &t, "%sembeddings.token_embedding.weight", P));
    int vocab = (int)t->shape[0], hidden = (int)t->shape[1];
    T2I_TRY(need(c->path, f, 2, &t, "%sembeddings.position_embedding.weight", P));
    int positions = (int)t->shape[0];
    char pre[MAX_NAME];
    snprintf(pre, sizeof pre, "%sencoder.layers.", P);
    int layers = count_seq(f, pre, ".mlp.fc1.weight");
    T2I_TRY(need(c->path, f, 2, &t, "%sencoder.layers.0.mlp.fc1.weight", P));
    int inter = (int)t->shape[0];
    cJSON *j = c->text = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "architectures", cJSON_CreateStringArray((const char *[]){"CLIPTextModel"}, 1));
    cJSON_AddStringToObject(j, "model_type", "clip_text_model");
    cJSON_AddNumberToObject(j, "vocab_size", vocab);
    cJSON_AddNumberToObject(j, "hidden_size", hidden);
    cJSON_AddNumberToObject(j, "intermediate_size", inter);
    cJSON_AddNumberToObject(j, "num_hidden_layers", layers);
    cJSON_AddNumberToObject(j, "num_attention_heads", hidden / 64 > 0 ? hidden / 64 : 1);   /* 64-wide heads */
    cJSON_AddNumberToObject(j, "max_position_embeddings", positions);
    cJSON_AddStringToObject(j, "hidden_act", "quick_gelu");
    cJSON_AddNumberToObject(j, "layer_norm_eps", 1e-5);
    cJSON_AddNumberToObject(j, "projection_dim", hidden);
    cJSON_AddNumberToObject(j, "eos_token_id", 2);   /* openai/clip-vit-large-patch14: pooled at argmax(ids) */
    return T2I_OK;
}

/* ---- text encoder (OpenCLIP names, SD 2.x) ---------------------------------------- */

/* SD 2.x conditions on the PENULTIMATE layer of OpenCLIP ViT-H (the original
 * FrozenOpenCLIPEmbedder, layer="penultimate"): diffusers' text encoder has
 * one layer fewer than the checkpoint's resblocks and ignores the last one. */
static t2i_status infer_text_openclip(t2i_ckpt *c, const char *P, bool sdxl, cJSON **out)
{
    const t2i_st_file *f = c->f;
    const t2i_st_tensor *t;
    T2I_TRY(need(c->path, f, 2, &t, "%stoken_embedding.weight", P));
    int vocab = (int)t->shape[0], hidden = (int)t->shape[1];
    T2I_TRY(need(c->path, f, 2, &t, "%spositional_embedding", P));
    int positions = (int)t->shape[0];
    char pre[MAX_NAME];
    snprintf(pre, sizeof pre, "%stransformer.resblocks.", P);
    int blocks = count_seq(f, pre, ".mlp.c_fc.weight");
    if (blocks < 2)
        return t2i_fail(T2I_ERR_FORMAT, "%s: tensor '%s1.mlp.c_fc.weight' is missing (SD 2.x needs at least two "
                        "text encoder blocks: it uses the penultimate one)", c->path, pre);
    T2I_TRY(need(c->path, f, 2, &t, "%s0.mlp.c_fc.weight", pre));
    int inter = (int)t->shape[0];
    const t2i_st_tensor *proj = tfind(f, "%stext_projection", P);
    if (sdxl) T2I_TRY(need(c->path, f, 2, &proj, "%stext_projection", P));
    cJSON *j = *out = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "architectures", cJSON_CreateStringArray(
        (const char *[]){sdxl ? "CLIPTextModelWithProjection" : "CLIPTextModel"}, 1));
    cJSON_AddStringToObject(j, "model_type", "clip_text_model");
    cJSON_AddNumberToObject(j, "vocab_size", vocab);
    cJSON_AddNumberToObject(j, "hidden_size", hidden);
    cJSON_AddNumberToObject(j, "intermediate_size", inter);
    /* SDXL's pipeline takes the penultimate hidden state itself: all layers */
    cJSON_AddNumberToObject(j, "num_hidden_layers", sdxl ? blocks : blocks - 1);
    cJSON_AddNumberToObject(j, "num_attention_heads", hidden / 64 > 0 ? hidden / 64 : 1);
    cJSON_AddNumberToObject(j, "max_position_embeddings", positions);
    cJSON_AddStringToObject(j, "hidden_act", "gelu");
    cJSON_AddNumberToObject(j, "layer_norm_eps", 1e-5);
    cJSON_AddNumberToObject(j, "projection_dim", proj && proj->ndim == 2 ? (int)proj->shape[1] : hidden);
    cJSON_AddNumberToObject(j, "eos_token_id", 2);
    return T2I_OK;
}

/* ---- scheduler -------------------------------------------------------------------- */

/* A1111 / the original configs: parameterization: "v" in the model's yaml. */
static int yaml_says_v(const char *path)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml, "%s", path);
    char *dot = strrchr(yaml, '.');
    if (!dot || strchr(dot, '/')) return -1;
    snprintf(dot, sizeof yaml - (size_t)(dot - yaml), ".yaml");
    FILE *fp = fopen(yaml, "rb");
    if (!fp) return -1;
    char line[1024];
    int v = 0;
    while (fgets(line, sizeof line, fp)) {
        char *p = strstr(line, "parameterization:");
        if (!p) continue;
        p += strlen("parameterization:");
        while (*p == ' ' || *p == '"' || *p == '\'') p++;
        v = *p == 'v' && (p[1] == '"' || p[1] == '\'' || p[1] == '\n' || p[1] == '\r' || p[1] == ' ' || !p[1]);
    }
    fclose(fp);
    return v;
}

static void infer_scheduler(t2i_ckpt *c, int pred)
{
    /* SD 1.5's scheduler_config.json; the samplers are chosen per run */
    cJSON *j = c->sched = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "_class_name", "PNDMScheduler");
    cJSON_AddNumberToObject(j, "beta_start", 0.00085);
    cJSON_AddNumberToObject(j, "beta_end", 0.012);
    cJSON_AddStringToObject(j, "beta_schedule", "scaled_linear");
    cJSON_AddBoolToObject(j, "clip_sample", false);
    cJSON_AddNumberToObject(j, "num_train_timesteps", 1000);
    cJSON_AddBoolToObject(j, "set_alpha_to_one", false);
    cJSON_AddBoolToObject(j, "skip_prk_steps", true);
    cJSON_AddNumberToObject(j, "steps_offset", 1);
    int v = pred == T2I_PREDICT_V ? 1 : pred == T2I_PREDICT_EPSILON ? 0 : yaml_says_v(c->path);
    if (v < 0) v = c->kind == T2I_CKPT_SD2;   /* diffusers' rule: SD 2.x defaults to 768-v */
    cJSON_AddStringToObject(j, "prediction_type", v ? "v_prediction" : "epsilon");
    if (c->kind == T2I_CKPT_SDXL) cJSON_AddStringToObject(j, "timestep_spacing", "leading");   /* SDXL's config */
    /* no size is stored: 512 px, 768 px for SD 2.x v-prediction (768-v), 1024 px for SDXL */
    int size = c->kind == T2I_CKPT_SDXL ? 128 : v && c->kind == T2I_CKPT_SD2 ? 96 : 64;
    cJSON_ReplaceItemInObject(c->unet, "sample_size", cJSON_CreateNumber(size));
}

/* SDXL: the second text encoder, the "text_time" added embedding (pooled
 * width + 6 size values of addition_time_embed_dim each) and the VAE's
 * scaling factor 0.13025. */
static t2i_status infer_sdxl(t2i_ckpt *c)
{
    T2I_TRY(infer_text_openclip(c, c->layout.text2_prefix, true, &c->text2));
    const t2i_st_tensor *t;
    T2I_TRY(need(c->path, c->f, 2, &t, UNET_P "label_emb.0.0.weight"));
    int in = (int)t->shape[1];
    int pooled = (int)cJSON_GetObjectItem(c->text2, "projection_dim")->valuedouble;
    if (in <= pooled || (in - pooled) % 6)
        return t2i_fail(T2I_ERR_FORMAT, "%s: tensor '" UNET_P "label_emb.0.0.weight' takes %d inputs, not the pooled "
                        "width %d + 6 time embeddings", c->path, in, pooled);
    cJSON_AddStringToObject(c->unet, "addition_embed_type", "text_time");
    cJSON_AddNumberToObject(c->unet, "addition_time_embed_dim", (in - pooled) / 6);
    cJSON_AddNumberToObject(c->unet, "projection_class_embeddings_input_dim", in);
    cJSON_ReplaceItemInObject(c->vae, "scaling_factor", cJSON_CreateNumber(0.13025));
    return T2I_OK;
}

/* ---- open / close ---------------------------------------------------------------- */

t2i_status t2i_ckpt_open(const char *path, const char *vae_path, int pred, t2i_ckpt *c)
{
    memset(c, 0, sizeof *c);
    c->path = path;
    T2I_TRY(t2i_ckpt_refuse_pickle(path));
    if (vae_path) T2I_TRY(t2i_ckpt_refuse_pickle(vae_path));
    t2i_status st = open_checked(path, &c->f);
    if (st == T2I_OK) st = detect(c);
    if (st == T2I_OK) st = infer_unet(c);
    if (st == T2I_OK) st = infer_vae(c, c->f, path, VAE_P);
    if (st == T2I_OK && vae_path) {
        st = open_checked(vae_path, &c->vae_f);
        if (st == T2I_OK) {
            c->vae_prefix = t2i_st_find(c->vae_f, VAE_P "encoder.conv_in.weight") ? VAE_P : "";
            if (!t2i_st_find(c->vae_f, VAE_P "encoder.conv_in.weight") && !t2i_st_find(c->vae_f, "encoder.conv_in.weight"))
                st = t2i_fail(T2I_ERR_FORMAT, "%s: not a VAE in the original naming: tensor 'encoder.conv_in.weight' "
                              "is missing", vae_path);
        }
        if (st == T2I_OK) st = infer_vae(c, c->vae_f, vae_path, c->vae_prefix);
    }
    if (st == T2I_OK)
        st = c->kind == T2I_CKPT_SD2 ? infer_text_openclip(c, c->layout.text_prefix, false, &c->text) : infer_text_hf(c);
    if (st == T2I_OK && c->kind == T2I_CKPT_SDXL) st = infer_sdxl(c);
    if (st == T2I_OK) infer_scheduler(c, pred);
    if (st != T2I_OK) t2i_ckpt_close(c);
    return st;
}

void t2i_ckpt_close(t2i_ckpt *c)
{
    t2i_st_close(c->f);
    t2i_st_close(c->vae_f);
    cJSON_Delete(c->unet);
    cJSON_Delete(c->vae);
    cJSON_Delete(c->text);
    cJSON_Delete(c->text2);
    cJSON_Delete(c->sched);
    memset(c, 0, sizeof *c);
}

/* ---- reading tensors under diffusers names ------------------------------------------ */

static void shape_str(int ndim, const int64_t *ne, char *buf, size_t n)
{
    size_t len = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < ndim && len < n; i++) len += (size_t)snprintf(buf + len, n - len, "%s%lld", i ? "," : "", (long long)ne[i]);
    if (len < n) snprintf(buf + len, n - len, "]");
}

static int shape_fits(const t2i_st_tensor *s, const t2i_ckpt_src *src, int ndim, const int64_t *ne)
{
    if (src->xform == T2I_CKPT_TRANSPOSE)
        return ndim == 2 && s->ndim == 2 && s->shape[0] == ne[1] && s->shape[1] == ne[0];
    int nd = s->ndim;
    while (nd > ndim && s->shape[nd - 1] == 1) nd--;   /* 1×1 convolutions for linear layers */
    if (nd != ndim) return 0;
    for (int i = 0; i < nd; i++)
        if (s->shape[i] != (i == 0 && src->xform == T2I_CKPT_ROWS ? 3 * ne[0] : ne[i])) return 0;
    return 1;
}

t2i_status t2i_ckpt_find(const t2i_ckpt *c, t2i_ckpt_part part, const char *name, int ndim, const int64_t *ne,
                         const t2i_st_tensor **t, t2i_ckpt_src *src)
{
    if (!t2i_ckpt_original_name(&c->layout, part, name, src))
        return t2i_fail(T2I_ERR_INTERNAL, "%s: no original name for '%s'", c->path, name);
    const t2i_st_file *f = c->f;
    const char *file = c->path;
    char lookup[MAX_NAME];
    snprintf(lookup, sizeof lookup, "%s", src->name);
    if (part == T2I_CKPT_VAE && c->vae_f) {
        f = c->vae_f;
        file = "the separate VAE";
        snprintf(lookup, sizeof lookup, "%s%s", c->vae_prefix, src->name + strlen(VAE_P));
    } else if (part == T2I_CKPT_TEXT && c->text_strip) {
        const char *p = c->layout.text_prefix;
        if (strncmp(src->name + strlen(p), "text_model.", 11) == 0)
            snprintf(lookup, sizeof lookup, "%s%s", p, src->name + strlen(p) + 11);
    }
    *t = t2i_st_find(f, lookup);
    char want[96], got[96];
    shape_str(ndim, ne, want, sizeof want);
    if (!*t)
        return t2i_fail(T2I_ERR_FORMAT, "%s: tensor '%s' (diffusers '%s', shape %s) is missing", file, lookup, name, want);
    if (!shape_fits(*t, src, ndim, ne)) {
        shape_str((*t)->ndim, (*t)->shape, got, sizeof got);
        return t2i_fail(T2I_ERR_FORMAT, "%s: tensor '%s' has shape %s, the inferred architecture needs %s%s", file, lookup,
                        got, want, src->xform == T2I_CKPT_ROWS ? " (one third of its rows)" : "");
    }
    return T2I_OK;
}

void t2i_ckpt_extract(const t2i_st_tensor *t, const t2i_ckpt_src *src, int ndim, const int64_t *ne, void *out)
{
    size_t es = t2i_dtype_size(t->dtype), n = 1;
    for (int i = 0; i < ndim; i++) n *= (size_t)ne[i];
    const unsigned char *in = t->data;
    if (src->xform == T2I_CKPT_SAME) {
        memcpy(out, in, n * es);
    } else if (src->xform == T2I_CKPT_ROWS) {
        memcpy(out, in + (size_t)src->index * n * es, n * es);
    } else {   /* out [R, C] = transpose of in [C, R] */
        size_t R = (size_t)ne[0], C = (size_t)ne[1];
        for (size_t r = 0; r < R; r++)
            for (size_t k = 0; k < C; k++) memcpy((unsigned char *)out + (r * C + k) * es, in + (k * R + r) * es, es);
    }
}

/* ---- loading as a model ---------------------------------------------------------- */

typedef struct fill_ctx { const t2i_ckpt *c; t2i_ckpt_part part; void *tmp; } fill_ctx;

static t2i_status fill_weight(void *user, const t2i_tensor *tt, float *dst)
{
    fill_ctx *fc = user;
    const t2i_st_tensor *t;
    t2i_ckpt_src src;
    T2I_TRY(t2i_ckpt_find(fc->c, fc->part, tt->name, tt->ndim, tt->ne, &t, &src));
    size_t n = (size_t)t2i_tensor_numel(tt);
    void *tmp = malloc(n * t2i_dtype_size(t->dtype) + 1);
    if (!tmp) return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", fc->c->path);
    t2i_ckpt_extract(t, &src, tt->ndim, tt->ne, tmp);
    t2i_convert_to_f32(t->dtype, tmp, dst, n);
    free(tmp);
    return T2I_OK;
}

/* Check every weight g declares, then upload them; g is destroyed. */
static t2i_status load_part(t2i_model *m, const t2i_ckpt *c, t2i_ckpt_part part, const char *component, t2i_graph *g,
                            t2i_weights **w)
{
    t2i_status st = T2I_OK;
    for (int i = 0; i < g->n_tensors && st == T2I_OK; i++) {
        const t2i_tensor *tt = &g->tensors[i];
        const t2i_st_tensor *t;
        t2i_ckpt_src src;
        if (tt->kind == T2I_TENSOR_WEIGHT) st = t2i_ckpt_find(c, part, tt->name, tt->ndim, tt->ne, &t, &src);
    }
    fill_ctx fc = {c, part, NULL};
    if (st == T2I_OK) st = t2i_weights_create_filled(m->eng->be, g, component, fill_weight, &fc, w);
    t2i_graph_destroy(g);
    return st;
}

t2i_status t2i_ckpt_text_config(const cJSON *j, const char *what, t2i_clip_text_config *o)
{
    t2i_jctx c = {what, T2I_OK};
    t2i_clip_text_config_parse(&c, j, o);
    return c.status;
}

const char *t2i_ckpt_tokenizer_dir(const t2i_model_options *o)
{
    if (o && o->tokenizer_dir) return o->tokenizer_dir;
    const char *env = getenv("T2I_CLIP_TOKENIZER");
    if (env && *env) return env;
    return T2I_SOURCE_DIR "/models/default/tokenizer";
}

t2i_status t2i_single_file_load(t2i_engine *e, const char *path, const t2i_model_options *o, t2i_model **out)
{
    *out = NULL;
    t2i_ckpt c;
    T2I_TRY(t2i_ckpt_open(path, o ? o->vae_path : NULL, o ? (int)o->prediction : 0, &c));
    t2i_model *m = calloc(1, sizeof *m);
    t2i_status st = m ? T2I_OK : t2i_fail(T2I_ERR_NOMEM, "model: out of memory");
    if (st == T2I_OK) {
        m->eng = e;
        m->dir = strdup(path);
        const char *base = strrchr(path, '/');
        m->name = strdup(base ? base + 1 : path);
        if (!m->dir || !m->name) st = t2i_fail(T2I_ERR_NOMEM, "model: out of memory");
        else if (ends_with(m->name, ".safetensors")) m->name[strlen(m->name) - 12] = '\0';
    }
    char what[4200];
    snprintf(what, sizeof what, "%s (inferred unet config)", path);
    if (st == T2I_OK) st = t2i_unet_config_parse(c.unet, what, &m->unet_cfg);
    snprintf(what, sizeof what, "%s (inferred vae config)", o && o->vae_path ? o->vae_path : path);
    if (st == T2I_OK) st = t2i_vae_config_parse(c.vae, what, &m->vae_cfg);
    snprintf(what, sizeof what, "%s (inferred text_encoder config)", path);
    if (st == T2I_OK) st = t2i_ckpt_text_config(c.text, what, &m->text_cfg);
    if (st == T2I_OK) st = t2i_sched_config_parse(c.sched, &m->sched_cfg);
    /* the UNet takes the latents alone, or with the image latents (instruct-pix2pix, 2·L), or with the mask
     * and the masked image's latents (inpainting, 2·L + 1), as a diffusers folder does (model.c) */
    const int L = m->vae_cfg.latent_channels, in = m->unet_cfg.in_channels;
    if (st == T2I_OK && m->unet_cfg.out_channels != L)
        st = t2i_fail(T2I_ERR_FORMAT, "%s: vae latent_channels %d differs from unet out_channels %d", path, L,
                      m->unet_cfg.out_channels);
    if (st == T2I_OK && in != L && in != 2 * L && in != 2 * L + 1)
        st = t2i_fail(T2I_ERR_FORMAT, "%s: tensor '" UNET_P "input_blocks.0.0.weight' takes %d channels, none of %d "
                      "(latents), %d (instruct-pix2pix), %d (inpainting) for the VAE's %d latent channels", path, in,
                      L, 2 * L, 2 * L + 1, L);
    const char *tokdir = t2i_ckpt_tokenizer_dir(o);
    m->text_kind = c.kind == T2I_CKPT_SDXL ? T2I_TEXT_SDXL : T2I_TEXT_CLIP;
    m->force_zeros_for_empty_prompt = c.kind == T2I_CKPT_SDXL;   /* SDXL's model_index.json */
    if (st == T2I_OK) st = t2i_clip_tokenizer_load(tokdir, &m->tok);
    if (st == T2I_OK && c.kind == T2I_CKPT_SDXL) {
        snprintf(what, sizeof what, "%s (inferred text_encoder_2 config)", path);
        st = t2i_ckpt_text_config(c.text2, what, &m->text2_cfg);
        /* tokenizer_2: the same vocabulary, padded with "!" (OpenCLIP) */
        if (st == T2I_OK) st = t2i_clip_tokenizer_load(tokdir, &m->tok2);
        if (st == T2I_OK) st = t2i_clip_set_pad(m->tok2, "!");
        if (st == T2I_OK && m->unet_cfg.projection_class_embeddings_input_dim !=
                                m->text2_cfg.projection_dim + 6 * m->unet_cfg.addition_time_embed_dim)
            st = t2i_fail(T2I_ERR_FORMAT, "%s: the UNet's added embedding does not fit the pooled text width", path);
    }
    /* OpenCLIP pads with id 0 ("!"), as SD 2.x's tokenizer_config.json says */
    if (st == T2I_OK && c.kind == T2I_CKPT_SD2) st = t2i_clip_set_pad(m->tok, "!");
    if (st == T2I_OK && t2i_clip_vocab_size(m->tok) > m->text_cfg.vocab_size)
        st = t2i_fail(T2I_ERR_FORMAT, "%s: the tokenizer in %s has %d tokens but the checkpoint's token embedding "
                      "has %d rows: pass the tokenizer that goes with the checkpoint", path, tokdir,
                      t2i_clip_vocab_size(m->tok), m->text_cfg.vocab_size);
    if (st == T2I_OK && t2i_clip_max_length(m->tok) > m->text_cfg.max_positions)
        st = t2i_fail(T2I_ERR_FORMAT, "%s: tokenizer model_max_length %d exceeds the text encoder's %d positions", path,
                      t2i_clip_max_length(m->tok), m->text_cfg.max_positions);
    t2i_graph *g = NULL;
    if (st == T2I_OK) st = t2i_text_build(m, 0, 1, 1, &g);
    if (st == T2I_OK) st = load_part(m, &c, T2I_CKPT_TEXT, "text_encoder", g, &m->text_w);
    g = NULL;
    if (st == T2I_OK && c.kind == T2I_CKPT_SDXL) {
        st = t2i_text_build(m, 1, 1, 1, &g);
        if (st == T2I_OK) st = load_part(m, &c, T2I_CKPT_TEXT2, "text_encoder_2", g, &m->text2_w);
        g = NULL;
    }
    int lat = st == T2I_OK ? 1 << (m->unet_cfg.n_blocks - 1) : 1;
    if (st == T2I_OK) st = t2i_build_unet(&m->unet_cfg, 1, lat, lat, 1, &g);
    if (st == T2I_OK) st = load_part(m, &c, T2I_CKPT_UNET, "unet", g, &m->unet_w);
    if (st == T2I_OK) {
        t2i_graph *dec = NULL, *enc = NULL;
        int fct = t2i_vae_scale(&m->vae_cfg);
        st = t2i_build_vae_decoder(&m->vae_cfg, 1, 1, 1, &dec);
        if (st == T2I_OK) st = t2i_build_vae_encoder(&m->vae_cfg, 1, fct, fct, &enc);
        if (st == T2I_OK) st = t2i_graph_merge_weights(dec, enc);
        t2i_graph_destroy(enc);
        if (st == T2I_OK) st = load_part(m, &c, T2I_CKPT_VAE, "vae", dec, &m->vae_w);
        else t2i_graph_destroy(dec);
        m->has_vae_encoder = st == T2I_OK;   /* every encoder weight was required above */
    }
    t2i_ckpt_close(&c);
    if (st != T2I_OK) {
        t2i_model_destroy(m);
        return st;
    }
    *out = m;
    return T2I_OK;
}
