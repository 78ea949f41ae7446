/*
 * text_encoder.c — loading and running the text side of a model for each of
 * the layouts in text_encoder.h.
 *
 * SDXL: both tokenizers share CLIP's vocabulary and differ in their pad
 * token ("<|endoftext|>" and "!"), so tokenizer_2's ids are tokenizer 1's
 * with the padding after the EOS replaced — the prompt is tokenized once and
 * the chunking of runtime/conditioning.c holds for both encoders. The two
 * encoders' penultimate hidden states are interleaved row by row into the
 * context [L, C1 + C2] (torch.concat(dim=-1)); the pooled output is
 * text_encoder_2's text_projection at its EOS, at the position transformers
 * picks (t2i_clip_pool_position).
 */
#include "runtime/text_encoder.h"

#include <stdlib.h>
#include <string.h>

#include "graph/build.h"
#include "base/error.h"
#include "runtime/embeddings.h"

/* [library, class] of key, or NULL with an error. */
static const char *part_class(t2i_jctx *c, const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    const cJSON *cls = cJSON_IsArray(v) ? cJSON_GetArrayItem(v, 1) : NULL;
    if (!cJSON_IsString(cls)) {
        t2i_jerror(c, T2I_ERR_FORMAT, key, "missing or not a [library, class] pair");
        return NULL;
    }
    return cls->valuestring;
}

static void expect_class(t2i_jctx *c, const cJSON *j, const char *key, const char *const *ok)
{
    const char *cls = part_class(c, j, key);
    if (!cls || c->status != T2I_OK) return;
    for (int i = 0; ok[i]; i++)
        if (strcmp(cls, ok[i]) == 0) return;
    char why[160];
    snprintf(why, sizeof why, "unsupported class \"%.60s\" (expected %s)", cls, ok[0]);
    t2i_jerror(c, T2I_ERR_UNSUPPORTED, key, why);
}

void t2i_text_detect(t2i_jctx *c, const cJSON *j, t2i_model *m)
{
    static const char *const clip_tok[] = {"CLIPTokenizer", "CLIPTokenizerFast", NULL};
    static const char *const clip_te[] = {"CLIPTextModel", "CLIPTextModelWithProjection", NULL};
    static const char *const clip_te2[] = {"CLIPTextModelWithProjection", NULL};
    static const char *const bert_tok[] = {"BertTokenizer", "BertTokenizerFast", NULL};
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "_class_name");
    m->text_kind = T2I_TEXT_CLIP;
    if (cJSON_IsString(name) && strcmp(name->valuestring, "StableDiffusionXLPipeline") == 0) {
        m->text_kind = T2I_TEXT_SDXL;
        m->force_zeros_for_empty_prompt = t2i_jbool(c, j, "force_zeros_for_empty_prompt", true);
        expect_class(c, j, "text_encoder", clip_te);
        expect_class(c, j, "tokenizer", clip_tok);
        expect_class(c, j, "text_encoder_2", clip_te2);
        expect_class(c, j, "tokenizer_2", clip_tok);
        return;
    }
    const char *te = part_class(c, j, "text_encoder");
    if (te && strcmp(te, "BertModel") == 0) {
        m->text_kind = T2I_TEXT_BERT;
        expect_class(c, j, "tokenizer", bert_tok);
        return;
    }
    expect_class(c, j, "text_encoder", clip_te);
    expect_class(c, j, "tokenizer", clip_tok);
}

/* ---- loading --------------------------------------------------------------- */

/* A CLIP tokenizer + text encoder pair: folders tok_part and te_part. */
static t2i_status load_clip(t2i_model *m, const char *tok_part, const char *te_part, t2i_clip_tokenizer **tok,
                            t2i_clip_text_config *cfg, t2i_weights **w, int which)
{
    char *path = t2i_path_join(m->dir, te_part), *cpath = path ? t2i_path_join(path, "config.json") : NULL;
    char *tokdir = t2i_path_join(m->dir, tok_part);
    t2i_status st = cpath && tokdir ? t2i_clip_text_config_load(cpath, cfg) : t2i_fail(T2I_ERR_NOMEM, "out of memory");
    if (st == T2I_OK) st = t2i_clip_tokenizer_load(tokdir, tok);
    if (st == T2I_OK && t2i_clip_max_length(*tok) > cfg->max_positions)
        st = t2i_fail(T2I_ERR_FORMAT, "%s: tokenizer model_max_length %d exceeds the text encoder's %d positions",
                      tokdir, t2i_clip_max_length(*tok), cfg->max_positions);
    if (st == T2I_OK && which == 1 && !cfg->with_projection)
        st = t2i_fail(T2I_ERR_UNSUPPORTED, "%s: SDXL's text_encoder_2 must be CLIPTextModelWithProjection", cpath);
    t2i_graph *g = NULL;
    if (st == T2I_OK) st = t2i_text_build(m, which, 1, 1, &g);
    if (st == T2I_OK) st = t2i_model_load_weights(m, te_part, "text_model.", g, w);
    free(path);
    free(cpath);
    free(tokdir);
    return st;
}

/* The UNet (config already loaded) must take what the text side gives. (A
 * cross_attention_dim that is not the context width shows up as a weight
 * shape error naming the tensor when the UNet's weights load.) */
static t2i_status check_unet(const t2i_model *m)
{
    const t2i_unet_config *u = &m->unet_cfg;
    if (u->add_text_time != (m->text_kind == T2I_TEXT_SDXL))
        return t2i_fail(T2I_ERR_UNSUPPORTED, "%s: unet addition_embed_type \"text_time\" %s", m->dir,
                        u->add_text_time ? "needs StableDiffusionXLPipeline's two text encoders"
                                         : "is required by StableDiffusionXLPipeline");
    if (u->add_text_time && u->projection_class_embeddings_input_dim != t2i_text_pooled_dim(m) + 6 * u->addition_time_embed_dim)
        return t2i_fail(T2I_ERR_FORMAT, "%s: unet projection_class_embeddings_input_dim %d is not projection_dim %d"
                        " + 6 x addition_time_embed_dim %d", m->dir, u->projection_class_embeddings_input_dim,
                        t2i_text_pooled_dim(m), u->addition_time_embed_dim);
    return T2I_OK;
}

static t2i_status load_text(t2i_model *m)
{
    if (m->text_kind != T2I_TEXT_BERT) {
        T2I_TRY(load_clip(m, "tokenizer", "text_encoder", &m->tok, &m->text_cfg, &m->text_w, 0));
        if (m->text_kind != T2I_TEXT_SDXL) return T2I_OK;
        T2I_TRY(load_clip(m, "tokenizer_2", "text_encoder_2", &m->tok2, &m->text2_cfg, &m->text2_w, 1));
        if (t2i_clip_max_length(m->tok2) != t2i_clip_max_length(m->tok) ||
            t2i_clip_vocab_size(m->tok2) != t2i_clip_vocab_size(m->tok) || t2i_clip_eos(m->tok2) != t2i_clip_eos(m->tok))
            return t2i_fail(T2I_ERR_UNSUPPORTED, "%s: tokenizer_2 must share tokenizer's vocabulary, EOS and length",
                            m->dir);
        return T2I_OK;
    }
    char *cpath = t2i_path_join(m->dir, "text_encoder/config.json"), *tokdir = t2i_path_join(m->dir, "tokenizer");
    t2i_status st = cpath && tokdir ? t2i_bert_config_load(cpath, &m->bert_cfg) : t2i_fail(T2I_ERR_NOMEM, "out of memory");
    if (st == T2I_OK) st = t2i_wordpiece_load(tokdir, &m->wp);
    if (st == T2I_OK && t2i_wordpiece_max_length(m->wp) == 0)
        st = t2i_fail(T2I_ERR_FORMAT, "%s: tokenizer_config.json has no model_max_length to pad prompts to", tokdir);
    if (st == T2I_OK && t2i_wordpiece_max_length(m->wp) > m->bert_cfg.max_positions)
        st = t2i_fail(T2I_ERR_FORMAT, "%s: tokenizer model_max_length %d exceeds the text encoder's %d positions",
                      tokdir, t2i_wordpiece_max_length(m->wp), m->bert_cfg.max_positions);
    if (st == T2I_OK && t2i_wordpiece_vocab_size(m->wp) > m->bert_cfg.vocab_size)
        st = t2i_fail(T2I_ERR_FORMAT, "%s: vocab.txt has %d tokens, the text encoder's vocab_size is %d", tokdir,
                      t2i_wordpiece_vocab_size(m->wp), m->bert_cfg.vocab_size);
    t2i_graph *g = NULL;
    if (st == T2I_OK) st = t2i_text_build(m, 0, 1, 1, &g);
    if (st == T2I_OK) st = t2i_model_load_weights(m, "text_encoder", NULL, g, &m->text_w);
    free(cpath);
    free(tokdir);
    return st;
}

t2i_status t2i_text_load(t2i_model *m)
{
    T2I_TRY(load_text(m));
    return check_unet(m);
}

void t2i_text_free(t2i_model *m)
{
    t2i_plan_destroy(m->text2.plan);
    memset(&m->text2, 0, sizeof m->text2);
    t2i_weights_destroy(m->text2_w);
    t2i_clip_tokenizer_destroy(m->tok2);
    t2i_wordpiece_destroy(m->wp);
    m->text2_w = NULL;
    m->tok2 = NULL;
    m->wp = NULL;
}

/* ---- graphs and sizes --------------------------------------------------------- */

t2i_status t2i_text_build(const t2i_model *m, int which, int batch, int seq_len, t2i_graph **out)
{
    const int skip = m->clip_skip > 1 ? m->clip_skip - 1 : 0;
    switch (m->text_kind) {
    case T2I_TEXT_BERT:
        return t2i_build_bert_text(&m->bert_cfg, batch, seq_len, out);
    case T2I_TEXT_SDXL: {
        t2i_clip_outputs o = {.penultimate = true, .pooled = which == 1, .skip = skip};
        return t2i_build_clip_text_ex(which ? &m->text2_cfg : &m->text_cfg, batch, seq_len, &o, out);
    }
    default: {
        t2i_clip_outputs o = {.skip = skip};
        return t2i_build_clip_text_ex(&m->text_cfg, batch, seq_len, &o, out);
    }
    }
}

t2i_status t2i_text_build_embeds(const t2i_model *m, int which, int batch, int seq_len, t2i_graph **out)
{
    if (m->text_kind == T2I_TEXT_BERT)
        return t2i_fail(T2I_ERR_UNSUPPORTED, "textual-inversion embeddings need a CLIP text encoder");
    t2i_clip_outputs o = {.penultimate = m->text_kind == T2I_TEXT_SDXL, .pooled = which == 1, .token_embeds = true,
                          .skip = m->clip_skip > 1 ? m->clip_skip - 1 : 0};
    return t2i_build_clip_text_ex(which ? &m->text2_cfg : &m->text_cfg, batch, seq_len, &o, out);
}

int t2i_text_len(const t2i_model *m)
{
    return m->text_kind == T2I_TEXT_BERT ? t2i_wordpiece_max_length(m->wp) : t2i_clip_max_length(m->tok);
}

int t2i_text_context_dim(const t2i_model *m)
{
    switch (m->text_kind) {
    case T2I_TEXT_BERT: return m->bert_cfg.hidden_size;
    case T2I_TEXT_SDXL: return m->text_cfg.hidden_size + m->text2_cfg.hidden_size;
    default: return m->text_cfg.hidden_size;
    }
}

int t2i_text_pooled_dim(const t2i_model *m)
{
    return m->text_kind == T2I_TEXT_SDXL ? m->text2_cfg.projection_dim : 0;
}

int t2i_text_context_parts(const t2i_model *m, int widths[2])
{
    if (m->text_kind == T2I_TEXT_SDXL) {
        widths[0] = m->text_cfg.hidden_size;
        widths[1] = m->text2_cfg.hidden_size;
        return 2;
    }
    widths[0] = t2i_text_context_dim(m);
    return 1;
}

t2i_status t2i_text_encode_padded(const t2i_model *m, const char *text, int32_t *ids)
{
    if (m->text_kind == T2I_TEXT_BERT) return t2i_wordpiece_encode_padded(m->wp, text, ids, t2i_text_len(m));
    return t2i_clip_encode_padded(m->tok, text, ids, t2i_text_len(m));
}

/* ---- encoding ------------------------------------------------------------------ */

/* The [1, L] plan of encoder `which` with its token input set from ids:
 * the plain plan, or where ids hold textual-inversion rows the one that takes
 * token embeddings (runtime/embeddings.h). The caller runs it. */
static t2i_status text_plan_for(t2i_model *m, int which, const int32_t *ids, int L, t2i_plan **p)
{
    if (t2i_embeddings_in(m, ids, L)) return t2i_embeddings_plan(m, which, ids, L, p);
    T2I_TRY(which ? t2i_model_text2_plan(m, 1, L, p) : t2i_model_text_plan(m, 1, L, p));
    return t2i_plan_set_input(*p, "ids", ids, (size_t)L * sizeof *ids);
}

t2i_status t2i_text_encode_ids(t2i_model *m, const int32_t *ids, float *ctx, float *pooled)
{
    const int L = t2i_text_len(m);
    t2i_plan *p;
    if (m->text_kind != T2I_TEXT_SDXL) {
        T2I_TRY(text_plan_for(m, 0, ids, L, &p));
        T2I_TRY(t2i_plan_run(p));
        return t2i_plan_get_output(p, "hidden", ctx, (size_t)L * t2i_text_context_dim(m) * sizeof(float));
    }
    const int C1 = m->text_cfg.hidden_size, C2 = m->text2_cfg.hidden_size, C = C1 + C2;
    float *h = malloc((size_t)L * (C1 > C2 ? C1 : C2) * sizeof *h);
    int32_t *ids2 = malloc((size_t)L * sizeof *ids2);
    if (!h || !ids2) {
        free(h);
        free(ids2);
        return t2i_fail(T2I_ERR_NOMEM, "text encoder: out of memory");
    }
    /* tokenizer_2's ids: the trailing run of EOS (tokenizer 1 pads with it)
     * keeps its first element, the rest becomes tokenizer_2's pad */
    const int32_t eos = t2i_clip_eos(m->tok), pad1 = t2i_clip_pad(m->tok), pad2 = t2i_clip_pad(m->tok2);
    memcpy(ids2, ids, (size_t)L * sizeof *ids2);
    int end = L;
    while (end > 1 && ids[end - 1] == pad1 && (pad1 != eos || ids[end - 2] == eos)) end--;
    for (int i = end; i < L; i++) ids2[i] = pad2;

    t2i_status st = text_plan_for(m, 0, ids, L, &p);
    if (st == T2I_OK) st = t2i_plan_run(p);
    if (st == T2I_OK) st = t2i_plan_get_output(p, "penultimate", h, (size_t)L * C1 * sizeof *h);
    for (int i = 0; st == T2I_OK && i < L; i++) memcpy(ctx + (size_t)i * C, h + (size_t)i * C1, C1 * sizeof *h);
    if (st == T2I_OK) st = text_plan_for(m, 1, ids2, L, &p);
    t2i_embeddings_mask(m, ids2, L);   /* for the pool position: as A1111's placeholders (token 0) */
    int32_t pool_index = t2i_clip_pool_position(&m->text2_cfg, ids2, L);
    if (st == T2I_OK) st = t2i_plan_set_input(p, "pool_index", &pool_index, sizeof pool_index);
    if (st == T2I_OK) st = t2i_plan_run(p);
    if (st == T2I_OK) st = t2i_plan_get_output(p, "penultimate", h, (size_t)L * C2 * sizeof *h);
    for (int i = 0; st == T2I_OK && i < L; i++)
        memcpy(ctx + (size_t)i * C + C1, h + (size_t)i * C2, C2 * sizeof *h);
    if (st == T2I_OK && pooled)
        st = t2i_plan_get_output(p, "pooled", pooled, (size_t)m->text2_cfg.projection_dim * sizeof *pooled);
    free(h);
    free(ids2);
    return st;
}

void t2i_text_time_ids(int H, int W, float out[6])
{
    out[0] = (float)H, out[1] = (float)W;   /* original_size */
    out[2] = 0, out[3] = 0;                 /* crops_coords_top_left */
    out[4] = (float)H, out[5] = (float)W;   /* target_size */
}
