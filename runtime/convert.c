/*
 * convert.c — t2i_convert: a single-file checkpoint to a diffusers folder and
 * back (t2i.h).
 *
 * The tensors written are exactly those t2i's graphs declare for the model
 * (what diffusers' state dicts hold); others in a checkpoint (EMA copies,
 * training state) are dropped. Values keep their stored dtype, byte for
 * byte; only names and the 1×1-convolution shape of the VAE attention
 * weights change. File -> folder -> file therefore gives back the same
 * tensors under the same names.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "base/json_util.h"
#include "graph/build.h"
#include "runtime/single_file.h"

static t2i_status make_dir(const char *path)
{
    if (mkdir(path, 0755) != 0) return t2i_fail(T2I_ERR_IO, "%s: cannot create folder: %s", path, strerror(errno));
    return T2I_OK;
}

static t2i_status write_text(const char *dir, const char *rel, const char *text)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "wb");
    if (!f) return t2i_fail(T2I_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    int ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    ok = fclose(f) == 0 && ok;
    return ok ? T2I_OK : t2i_fail(T2I_ERR_IO, "%s: write failed", path);
}

static t2i_status write_json(const char *dir, const char *rel, const cJSON *j)
{
    char *text = cJSON_Print(j);
    if (!text) return t2i_fail(T2I_ERR_NOMEM, "out of memory");
    t2i_status st = write_text(dir, rel, text);
    cJSON_free(text);
    return st;
}

static t2i_status copy_file(const char *from, const char *to, int optional)
{
    FILE *in = fopen(from, "rb");
    if (!in) return optional ? T2I_OK : t2i_fail(T2I_ERR_IO, "%s: cannot open", from);
    FILE *out = fopen(to, "wb");
    if (!out) {
        fclose(in);
        return t2i_fail(T2I_ERR_IO, "%s: cannot write: %s", to, strerror(errno));
    }
    char buf[1 << 16];
    size_t n;
    int ok = 1;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) ok = ok && fwrite(buf, 1, n, out) == n;
    ok = !ferror(in) && ok;
    fclose(in);
    ok = fclose(out) == 0 && ok;
    return ok ? T2I_OK : t2i_fail(T2I_ERR_IO, "%s: copy failed", to);
}

/* The graphs whose weights make up each part (text, text2, unet, vae);
 * tc[0] and tc[1] are the two text encoders' configs. */
static t2i_status part_graph(int part, const t2i_clip_text_config *tc, const t2i_unet_config *uc,
                             const t2i_vae_config *vc, t2i_graph **g)
{
    *g = NULL;
    if (part == T2I_CKPT_TEXT) return t2i_build_clip_text(&tc[0], 1, 1, g);
    if (part == T2I_CKPT_TEXT2) {   /* CLIPTextModelWithProjection: text_projection too */
        t2i_clip_outputs o = {.pooled = true};
        return t2i_build_clip_text_ex(&tc[1], 1, 1, &o, g);
    }
    if (part == T2I_CKPT_UNET) {
        int lat = 1 << (uc->n_blocks - 1);
        return t2i_build_unet(uc, 1, lat, lat, 1, g);
    }
    t2i_graph *enc = NULL;
    int f = t2i_vae_scale(vc);
    t2i_status st = t2i_build_vae_decoder(vc, 1, 1, 1, g);
    if (st == T2I_OK) st = t2i_build_vae_encoder(vc, 1, f, f, &enc);
    if (st == T2I_OK) st = t2i_graph_merge_weights(*g, enc);
    t2i_graph_destroy(enc);
    if (st != T2I_OK) {
        t2i_graph_destroy(*g);
        *g = NULL;
    }
    return st;
}

/* The parts of a model; SDXL's text_encoder_2 is the last (n_parts(sdxl)). */
static const struct { int part; const char *dir, *file; } parts[] = {
    {T2I_CKPT_TEXT, "text_encoder", "model.safetensors"},
    {T2I_CKPT_UNET, "unet", "diffusion_pytorch_model.safetensors"},
    {T2I_CKPT_VAE, "vae", "diffusion_pytorch_model.safetensors"},
    {T2I_CKPT_TEXT2, "text_encoder_2", "model.safetensors"},
};

static size_t n_parts(bool sdxl) { return sdxl ? 4 : 3; }

/* ---- single file -> folder ---------------------------------------------------- */

static t2i_status write_part(const t2i_ckpt *c, int part, t2i_graph *g, const char *path)
{
    t2i_st_writer *w = NULL;
    T2I_TRY(t2i_st_writer_create(&w));
    t2i_status st = T2I_OK;
    void *buf = NULL;
    for (int i = 0; i < g->n_tensors && st == T2I_OK; i++) {
        const t2i_tensor *tt = &g->tensors[i];
        if (tt->kind != T2I_TENSOR_WEIGHT) continue;
        const t2i_st_tensor *t;
        t2i_ckpt_src src;
        st = t2i_ckpt_find(c, (t2i_ckpt_part)part, tt->name, tt->ndim, tt->ne, &t, &src);
        if (st != T2I_OK) break;
        free(buf);
        buf = malloc((size_t)t2i_tensor_numel(tt) * t2i_dtype_size(t->dtype) + 1);
        if (!buf) { st = t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", path); break; }
        t2i_ckpt_extract(t, &src, tt->ndim, tt->ne, buf);
        st = t2i_st_writer_add(w, tt->name, t->dtype, tt->ndim, tt->ne, buf);
    }
    free(buf);
    if (st == T2I_OK) st = t2i_st_writer_save(w, path);
    t2i_st_writer_destroy(w);
    return st;
}

static void add_component(cJSON *j, const char *name, const char *lib, const char *cls)
{
    cJSON_AddItemToObject(j, name, cJSON_CreateStringArray((const char *[]){lib, cls}, 2));
}

static cJSON *model_index(bool sdxl)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "_class_name", sdxl ? "StableDiffusionXLPipeline" : "StableDiffusionPipeline");
    add_component(j, "scheduler", "diffusers", "PNDMScheduler");
    add_component(j, "text_encoder", "transformers", "CLIPTextModel");
    add_component(j, "tokenizer", "transformers", "CLIPTokenizer");
    add_component(j, "unet", "diffusers", "UNet2DConditionModel");
    add_component(j, "vae", "diffusers", "AutoencoderKL");
    if (sdxl) {
        add_component(j, "text_encoder_2", "transformers", "CLIPTextModelWithProjection");
        add_component(j, "tokenizer_2", "transformers", "CLIPTokenizer");
        cJSON_AddBoolToObject(j, "force_zeros_for_empty_prompt", true);
        return j;
    }
    cJSON *none = cJSON_CreateArray();
    cJSON_AddItemToArray(none, cJSON_CreateNull());
    cJSON_AddItemToArray(none, cJSON_CreateNull());
    cJSON_AddItemToObject(j, "safety_checker", none);
    cJSON_AddBoolToObject(j, "requires_safety_checker", false);
    return j;
}

/* A tokenizer folder `rel` of out: the files of tokdir (those present);
 * pad_bang: OpenCLIP's padding with "!" (id 0) in tokenizer_config.json. */
static t2i_status write_tokenizer(const char *out, const char *rel, const char *tokdir, bool pad_bang)
{
    static const char *const tok_files[] = {"vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json",
                                            "special_tokens_map.json"};
    char path[4200], from[4200];
    t2i_status st = T2I_OK;
    for (size_t i = 0; i < 5 && st == T2I_OK; i++) {
        snprintf(from, sizeof from, "%s/%s", tokdir, tok_files[i]);
        snprintf(path, sizeof path, "%s/%s/%s", out, rel, tok_files[i]);
        st = copy_file(from, path, 1);
    }
    if (st != T2I_OK || !pad_bang) return st;
    cJSON *tcfg = NULL;
    snprintf(path, sizeof path, "%s/%s/tokenizer_config.json", out, rel);
    FILE *probe = fopen(path, "rb");
    if (probe) fclose(probe), st = t2i_json_load(path, &tcfg);
    else tcfg = cJSON_CreateObject();
    if (st == T2I_OK) {
        cJSON_DeleteItemFromObjectCaseSensitive(tcfg, "pad_token");
        cJSON_AddStringToObject(tcfg, "pad_token", "!");
        snprintf(path, sizeof path, "%s/tokenizer_config.json", rel);
        st = write_json(out, path, tcfg);
    }
    cJSON_Delete(tcfg);
    return st;
}

static t2i_status file_to_folder(const char *in, const char *out, const t2i_model_options *o)
{
    t2i_ckpt c;
    T2I_TRY(t2i_ckpt_open(in, o ? o->vae_path : NULL, o ? (int)o->prediction : 0, &c));
    const bool sdxl = c.kind == T2I_CKPT_SDXL;
    t2i_clip_text_config tc[2];
    t2i_unet_config uc;
    t2i_vae_config vc;
    t2i_status st = t2i_ckpt_text_config(c.text, in, &tc[0]);
    if (st == T2I_OK && sdxl) st = t2i_ckpt_text_config(c.text2, in, &tc[1]);
    if (st == T2I_OK) st = t2i_unet_config_parse(c.unet, in, &uc);
    if (st == T2I_OK) st = t2i_vae_config_parse(c.vae, in, &vc);
    if (st == T2I_OK) st = make_dir(out);
    static const char *const dirs[] = {"text_encoder", "unet", "vae", "scheduler", "tokenizer", "text_encoder_2",
                                       "tokenizer_2"};
    char path[4200];
    for (size_t i = 0; i < (sdxl ? 7u : 5u) && st == T2I_OK; i++) {
        snprintf(path, sizeof path, "%s/%s", out, dirs[i]);
        st = make_dir(path);
    }
    if (st == T2I_OK) st = write_json(out, "text_encoder/config.json", c.text);
    if (st == T2I_OK && sdxl) st = write_json(out, "text_encoder_2/config.json", c.text2);
    if (st == T2I_OK) st = write_json(out, "unet/config.json", c.unet);
    if (st == T2I_OK) st = write_json(out, "vae/config.json", c.vae);
    if (st == T2I_OK) st = write_json(out, "scheduler/scheduler_config.json", c.sched);
    if (st == T2I_OK) {
        cJSON *idx = model_index(sdxl);
        st = write_json(out, "model_index.json", idx);
        cJSON_Delete(idx);
    }
    const char *tokdir = t2i_ckpt_tokenizer_dir(o);
    /* OpenCLIP pads with "!" (id 0): SD 2.x's tokenizer, SDXL's tokenizer_2 */
    if (st == T2I_OK) st = write_tokenizer(out, "tokenizer", tokdir, c.kind == T2I_CKPT_SD2);
    if (st == T2I_OK && sdxl) st = write_tokenizer(out, "tokenizer_2", tokdir, true);
    for (size_t i = 0; i < n_parts(sdxl) && st == T2I_OK; i++) {
        t2i_graph *g = NULL;
        st = part_graph(parts[i].part, tc, &uc, &vc, &g);
        snprintf(path, sizeof path, "%s/%s/%s", out, parts[i].dir, parts[i].file);
        if (st == T2I_OK) st = write_part(&c, parts[i].part, g, path);
        t2i_graph_destroy(g);
    }
    t2i_ckpt_close(&c);
    return st;
}

/* ---- folder -> single file ------------------------------------------------------ */

/* A folder tensor by its graph name (transformers files may omit "text_model."). */
static const t2i_st_tensor *folder_find(const t2i_st_set *set, const char *name)
{
    const t2i_st_tensor *t = t2i_st_set_find(set, name);
    if (!t && strncmp(name, "text_model.", 11) == 0) t = t2i_st_set_find(set, name + 11);
    return t;
}

/* Graph tensor tt of `part`, read from the folder's set, written under its
 * original name: as is, as 1×1 convolutions (VAE attention), q/k/v stacked
 * into OpenCLIP's in_proj (written once, at q), or transposed (OpenCLIP's
 * text_projection). */
static t2i_status add_original(t2i_st_writer *w, const t2i_st_set *set, const char *path, const t2i_ckpt_layout *l,
                               int part, const t2i_tensor *tt)
{
    const t2i_st_tensor *t = folder_find(set, tt->name);
    t2i_ckpt_src src;
    if (!t) return t2i_fail(T2I_ERR_FORMAT, "%s: tensor '%s' is missing", path, tt->name);
    if (!t2i_ckpt_original_name(l, (t2i_ckpt_part)part, tt->name, &src))
        return t2i_fail(T2I_ERR_INTERNAL, "%s: no original name for '%s'", path, tt->name);
    int64_t shape[T2I_ST_MAX_DIMS];
    int nd = t->ndim;
    memcpy(shape, t->shape, sizeof shape);
    if (src.xform == T2I_CKPT_SAME) {
        /* the original stores the VAE attention projections as 1×1 convolutions */
        if (strstr(src.name, ".mid.attn_1.") && nd == 2 && !strstr(src.name, ".norm.")) shape[2] = shape[3] = 1, nd = 4;
        return t2i_st_writer_add(w, src.name, t->dtype, nd, shape, t->data);
    }
    if (src.xform == T2I_CKPT_ROWS && src.index > 0) return T2I_OK;   /* written with q */
    size_t es = t2i_dtype_size(t->dtype), n = t->nbytes;
    unsigned char *buf = malloc(src.xform == T2I_CKPT_ROWS ? 3 * n : n + 1);
    if (!buf) return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", path);
    t2i_status st = T2I_OK;
    if (src.xform == T2I_CKPT_ROWS) {   /* q_proj, k_proj, v_proj -> in_proj rows 0..3C */
        static const char *const qkv[3] = {"q_proj", "k_proj", "v_proj"};
        char name[256];
        for (int k = 0; k < 3 && st == T2I_OK; k++) {
            snprintf(name, sizeof name, "%s", tt->name);
            char *at = strstr(name, "q_proj");
            if (at) memcpy(at, qkv[k], 6);
            const t2i_st_tensor *r = folder_find(set, name);
            if (!r || r->dtype != t->dtype || r->nbytes != n)
                st = t2i_fail(T2I_ERR_FORMAT, "%s: tensor '%s' is missing or differs from '%s' in shape or dtype",
                              path, name, tt->name);
            else memcpy(buf + (size_t)k * n, r->data, n);
        }
        shape[0] *= 3;
    } else {   /* [R, C] -> [C, R] */
        size_t R = (size_t)t->shape[0], C = nd == 2 ? (size_t)t->shape[1] : 0;
        if (nd != 2) st = t2i_fail(T2I_ERR_FORMAT, "%s: tensor '%s' is not 2-D", path, tt->name);
        for (size_t r = 0; r < R && st == T2I_OK; r++)
            for (size_t k = 0; k < C; k++)
                memcpy(buf + (k * R + r) * es, (const unsigned char *)t->data + (r * C + k) * es, es);
        shape[0] = (int64_t)C, shape[1] = (int64_t)R;
    }
    if (st == T2I_OK) st = t2i_st_writer_add(w, src.name, t->dtype, nd, shape, buf);
    free(buf);
    return st;
}

static t2i_status folder_to_file(const char *in, const char *out)
{
    char path[4200];
    cJSON *idx = NULL;
    snprintf(path, sizeof path, "%s/model_index.json", in);
    T2I_TRY(t2i_json_load(path, &idx));
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(idx, "_class_name");
    const cJSON *te = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(idx, "text_encoder"), 1);
    const bool sdxl = cJSON_IsString(cls) && strcmp(cls->valuestring, "StableDiffusionXLPipeline") == 0;
    int ok = cJSON_IsString(cls) && (sdxl || strcmp(cls->valuestring, "StableDiffusionPipeline") == 0) &&
             cJSON_IsString(te) && strcmp(te->valuestring, "CLIPTextModel") == 0;
    cJSON_Delete(idx);
    if (!ok)
        return t2i_fail(T2I_ERR_UNSUPPORTED, "%s: only SD 1.x and SDXL folders (StableDiffusionPipeline or "
                        "StableDiffusionXLPipeline with a CLIPTextModel) can be written as a single file", path);
    t2i_clip_text_config tc[2];
    t2i_unet_config uc;
    t2i_vae_config vc;
    snprintf(path, sizeof path, "%s/text_encoder/config.json", in);
    T2I_TRY(t2i_clip_text_config_load(path, &tc[0]));
    if (tc[0].act != T2I_ACT_QUICK_GELU)
        return t2i_fail(T2I_ERR_UNSUPPORTED, "%s: an OpenCLIP-style text encoder (hidden_act gelu, SD 2.x): only SD 1.x "
                        "and SDXL folders can be written as a single file", path);
    if (sdxl) {
        snprintf(path, sizeof path, "%s/text_encoder_2/config.json", in);
        T2I_TRY(t2i_clip_text_config_load(path, &tc[1]));
    }
    snprintf(path, sizeof path, "%s/unet/config.json", in);
    T2I_TRY(t2i_unet_config_load(path, &uc));
    snprintf(path, sizeof path, "%s/vae/config.json", in);
    T2I_TRY(t2i_vae_config_load(path, &vc));
    t2i_ckpt_layout l;
    memset(&l, 0, sizeof l);
    l.unet_layers_per_block = uc.layers_per_block;
    l.unet_blocks = uc.n_blocks;
    for (int b = 0; b < uc.n_blocks && b < T2I_CKPT_MAX_BLOCKS; b++) l.unet_up_cross[b] = uc.up_cross[b];
    l.vae_blocks = vc.n_blocks;
    l.text_prefix = sdxl ? "conditioner.embedders.0.transformer." : "cond_stage_model.transformer.";
    l.text_naming = T2I_CKPT_TEXT_HF;
    l.text2_prefix = "conditioner.embedders.1.model.";
    l.text2_naming = T2I_CKPT_TEXT_OPENCLIP;

    t2i_st_writer *w = NULL;
    T2I_TRY(t2i_st_writer_create(&w));
    t2i_status st = T2I_OK;
    for (size_t i = 0; i < n_parts(sdxl) && st == T2I_OK; i++) {
        t2i_graph *g = NULL;
        t2i_st_set *set = NULL;
        snprintf(path, sizeof path, "%s/%s", in, parts[i].dir);
        st = part_graph(parts[i].part, tc, &uc, &vc, &g);
        if (st == T2I_OK) st = t2i_st_set_open_preferred(path, &set, NULL);
        for (int k = 0; st == T2I_OK && k < g->n_tensors; k++)
            if (g->tensors[k].kind == T2I_TENSOR_WEIGHT) st = add_original(w, set, path, &l, parts[i].part, &g->tensors[k]);
        t2i_st_set_destroy(set);
        t2i_graph_destroy(g);
    }
    if (st == T2I_OK) st = t2i_st_writer_set_metadata(w, "format", "pt");
    if (st == T2I_OK) st = t2i_st_writer_save(w, out);
    t2i_st_writer_destroy(w);
    return st;
}

t2i_status t2i_convert(const char *in, const char *out, const t2i_model_options *o)
{
    if (!in || !out) return t2i_fail(T2I_ERR_INVALID_ARG, "convert: input and output are required");
    struct stat sb;
    if (stat(out, &sb) == 0) return t2i_fail(T2I_ERR_INVALID_ARG, "%s: already exists (convert never overwrites)", out);
    if (stat(in, &sb) != 0) return t2i_fail(T2I_ERR_IO, "%s: cannot open: %s", in, strerror(errno));
    if (S_ISREG(sb.st_mode)) return file_to_folder(in, out, o);
    T2I_TRY(t2i_ckpt_refuse_pickle(out));
    if (o && o->vae_path) return t2i_fail(T2I_ERR_UNSUPPORTED, "convert: a separate VAE applies to single files only");
    return folder_to_file(in, out);
}
