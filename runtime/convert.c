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

/* The graphs whose weights make up each part (text, unet, vae). */
static t2i_status part_graph(int part, const t2i_clip_text_config *tc, const t2i_unet_config *uc,
                             const t2i_vae_config *vc, t2i_graph **g)
{
    *g = NULL;
    if (part == T2I_CKPT_TEXT) return t2i_build_clip_text(tc, 1, 1, g);
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

static const struct { int part; const char *dir, *file; } parts[] = {
    {T2I_CKPT_TEXT, "text_encoder", "model.safetensors"},
    {T2I_CKPT_UNET, "unet", "diffusion_pytorch_model.safetensors"},
    {T2I_CKPT_VAE, "vae", "diffusion_pytorch_model.safetensors"},
};

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

static cJSON *model_index(void)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "_class_name", "StableDiffusionPipeline");
    static const char *const comp[][3] = {
        {"scheduler", "diffusers", "PNDMScheduler"},      {"text_encoder", "transformers", "CLIPTextModel"},
        {"tokenizer", "transformers", "CLIPTokenizer"},    {"unet", "diffusers", "UNet2DConditionModel"},
        {"vae", "diffusers", "AutoencoderKL"},
    };
    for (size_t i = 0; i < sizeof comp / sizeof comp[0]; i++)
        cJSON_AddItemToObject(j, comp[i][0], cJSON_CreateStringArray((const char *[]){comp[i][1], comp[i][2]}, 2));
    cJSON *none = cJSON_CreateArray();
    cJSON_AddItemToArray(none, cJSON_CreateNull());
    cJSON_AddItemToArray(none, cJSON_CreateNull());
    cJSON_AddItemToObject(j, "safety_checker", none);
    cJSON_AddBoolToObject(j, "requires_safety_checker", false);
    return j;
}

static t2i_status file_to_folder(const char *in, const char *out, const t2i_model_options *o)
{
    t2i_ckpt c;
    T2I_TRY(t2i_ckpt_open(in, o ? o->vae_path : NULL, o ? (int)o->prediction : 0, &c));
    t2i_clip_text_config tc;
    t2i_unet_config uc;
    t2i_vae_config vc;
    if (c.kind == T2I_CKPT_SDXL) {
        t2i_ckpt_close(&c);
        return t2i_fail(T2I_ERR_UNSUPPORTED, "%s: converting SDXL single files is not supported yet (they load)", in);
    }
    t2i_status st = t2i_ckpt_text_config(c.text, in, &tc);
    if (st == T2I_OK) st = t2i_unet_config_parse(c.unet, in, &uc);
    if (st == T2I_OK) st = t2i_vae_config_parse(c.vae, in, &vc);
    if (st == T2I_OK) st = make_dir(out);
    static const char *const dirs[] = {"text_encoder", "unet", "vae", "scheduler", "tokenizer"};
    char path[4200];
    for (size_t i = 0; i < 5 && st == T2I_OK; i++) {
        snprintf(path, sizeof path, "%s/%s", out, dirs[i]);
        st = make_dir(path);
    }
    if (st == T2I_OK) st = write_json(out, "text_encoder/config.json", c.text);
    if (st == T2I_OK) st = write_json(out, "unet/config.json", c.unet);
    if (st == T2I_OK) st = write_json(out, "vae/config.json", c.vae);
    if (st == T2I_OK) st = write_json(out, "scheduler/scheduler_config.json", c.sched);
    if (st == T2I_OK) {
        cJSON *idx = model_index();
        st = write_json(out, "model_index.json", idx);
        cJSON_Delete(idx);
    }
    const char *tokdir = t2i_ckpt_tokenizer_dir(o);
    static const char *const tok_files[] = {"vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json",
                                            "special_tokens_map.json"};
    for (size_t i = 0; i < 5 && st == T2I_OK; i++) {
        char from[4200];
        snprintf(from, sizeof from, "%s/%s", tokdir, tok_files[i]);
        snprintf(path, sizeof path, "%s/tokenizer/%s", out, tok_files[i]);
        st = copy_file(from, path, 1);
    }
    if (st == T2I_OK && c.kind == T2I_CKPT_SD2) {   /* OpenCLIP pads with "!" (id 0) */
        cJSON *tcfg = NULL;
        snprintf(path, sizeof path, "%s/tokenizer/tokenizer_config.json", out);
        FILE *probe = fopen(path, "rb");
        if (probe) fclose(probe), st = t2i_json_load(path, &tcfg);
        else tcfg = cJSON_CreateObject();
        if (st == T2I_OK) {
            cJSON_DeleteItemFromObjectCaseSensitive(tcfg, "pad_token");
            cJSON_AddStringToObject(tcfg, "pad_token", "!");
            st = write_json(out, "tokenizer/tokenizer_config.json", tcfg);
        }
        cJSON_Delete(tcfg);
    }
    for (size_t i = 0; i < 3 && st == T2I_OK; i++) {
        t2i_graph *g = NULL;
        st = part_graph(parts[i].part, &tc, &uc, &vc, &g);
        snprintf(path, sizeof path, "%s/%s/%s", out, parts[i].dir, parts[i].file);
        if (st == T2I_OK) st = write_part(&c, parts[i].part, g, path);
        t2i_graph_destroy(g);
    }
    t2i_ckpt_close(&c);
    return st;
}

/* ---- folder -> single file ------------------------------------------------------ */

static t2i_status folder_to_file(const char *in, const char *out)
{
    char path[4200];
    cJSON *idx = NULL;
    snprintf(path, sizeof path, "%s/model_index.json", in);
    T2I_TRY(t2i_json_load(path, &idx));
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(idx, "_class_name");
    const cJSON *te = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(idx, "text_encoder"), 1);
    int ok = cJSON_IsString(cls) && strcmp(cls->valuestring, "StableDiffusionPipeline") == 0 && cJSON_IsString(te) &&
             strcmp(te->valuestring, "CLIPTextModel") == 0;
    cJSON_Delete(idx);
    if (!ok)
        return t2i_fail(T2I_ERR_UNSUPPORTED, "%s: only SD 1.x folders (StableDiffusionPipeline with a CLIPTextModel) "
                        "can be written as a single file", path);
    t2i_clip_text_config tc;
    t2i_unet_config uc;
    t2i_vae_config vc;
    snprintf(path, sizeof path, "%s/text_encoder/config.json", in);
    T2I_TRY(t2i_clip_text_config_load(path, &tc));
    if (tc.act != T2I_ACT_QUICK_GELU)
        return t2i_fail(T2I_ERR_UNSUPPORTED, "%s: an OpenCLIP-style text encoder (hidden_act gelu, SD 2.x): only SD 1.x "
                        "folders can be written as a single file", path);
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
    l.text_prefix = "cond_stage_model.transformer.";
    l.text_naming = T2I_CKPT_TEXT_HF;

    t2i_st_writer *w = NULL;
    T2I_TRY(t2i_st_writer_create(&w));
    t2i_status st = T2I_OK;
    for (size_t i = 0; i < 3 && st == T2I_OK; i++) {
        t2i_graph *g = NULL;
        t2i_st_set *set = NULL;
        snprintf(path, sizeof path, "%s/%s", in, parts[i].dir);
        st = part_graph(parts[i].part, &tc, &uc, &vc, &g);
        if (st == T2I_OK) st = t2i_st_set_open_preferred(path, &set, NULL);
        for (int k = 0; st == T2I_OK && k < g->n_tensors; k++) {
            const t2i_tensor *tt = &g->tensors[k];
            if (tt->kind != T2I_TENSOR_WEIGHT) continue;
            const t2i_st_tensor *t = t2i_st_set_find(set, tt->name);
            if (!t && strncmp(tt->name, "text_model.", 11) == 0) t = t2i_st_set_find(set, tt->name + 11);
            t2i_ckpt_src src;
            if (!t) {
                st = t2i_fail(T2I_ERR_FORMAT, "%s: tensor '%s' is missing", path, tt->name);
            } else if (!t2i_ckpt_original_name(&l, (t2i_ckpt_part)parts[i].part, tt->name, &src)) {
                st = t2i_fail(T2I_ERR_INTERNAL, "%s: no original name for '%s'", path, tt->name);
            } else {
                int64_t shape[T2I_ST_MAX_DIMS];
                int nd = t->ndim;
                memcpy(shape, t->shape, sizeof shape);
                /* the original stores the VAE attention projections as 1×1 convolutions */
                if (strstr(src.name, ".mid.attn_1.") && nd == 2 && !strstr(src.name, ".norm."))
                    shape[2] = shape[3] = 1, nd = 4;
                st = t2i_st_writer_add(w, src.name, t->dtype, nd, shape, t->data);
            }
        }
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
