/* model_config.c — config.json → architecture structs, rejecting what the
 * builders do not implement. Defaults are those of the diffusers /
 * transformers constructors. */
#include <string.h>
#include "base/error.h"
#include "base/json_util.h"
#include "graph/model_config.h"

static t2i_status finish(t2i_jctx *c, cJSON *j)
{
    cJSON_Delete(j);
    return c->status;
}

void t2i_clip_text_config_parse(t2i_jctx *c, const cJSON *j, t2i_clip_text_config *o)
{
    memset(o, 0, sizeof *o);
    const char *arch[4];
    int na = cJSON_GetObjectItem(j, "architectures") ? t2i_jstr_list(c, j, "architectures", arch, 4) : 0;
    for (int i = 0; i < na; i++)
        if (strcmp(arch[i], "CLIPTextModel") && strcmp(arch[i], "CLIPTextModelWithProjection"))
            t2i_jerror(c, T2I_ERR_UNSUPPORTED, "architectures", "only CLIPTextModel is supported here");
        else o->with_projection = strcmp(arch[i], "CLIPTextModelWithProjection") == 0;
    o->vocab_size = t2i_jint(c, j, "vocab_size", 49408, 1, 1 << 22);
    o->hidden_size = t2i_jint(c, j, "hidden_size", 512, 1, 1 << 16);
    o->intermediate_size = t2i_jint(c, j, "intermediate_size", 2048, 1, 1 << 18);
    o->layers = t2i_jint(c, j, "num_hidden_layers", 12, 1, 256);
    o->heads = t2i_jint(c, j, "num_attention_heads", 8, 1, 1024);
    o->max_positions = t2i_jint(c, j, "max_position_embeddings", 77, 1, 1 << 16);
    static const char *const acts[] = {"quick_gelu", "gelu", NULL};
    o->act = t2i_jenum(c, j, "hidden_act", acts, 0) == 0 ? T2I_ACT_QUICK_GELU : T2I_ACT_GELU;
    o->layer_norm_eps = (float)t2i_jnum(c, j, "layer_norm_eps", 1e-5);
    o->projection_dim = t2i_jint(c, j, "projection_dim", 512, 1, 1 << 16);
    o->eos_token_id = t2i_jint(c, j, "eos_token_id", 2, 0, 1 << 22);
    if (c->status == T2I_OK && o->hidden_size % o->heads)
        t2i_jerror(c, T2I_ERR_FORMAT, "num_attention_heads", "does not divide hidden_size");
}

t2i_status t2i_clip_text_config_load(const char *path, t2i_clip_text_config *o)
{
    cJSON *j;
    T2I_TRY(t2i_json_load(path, &j));
    t2i_jctx c = {path, T2I_OK};
    t2i_clip_text_config_parse(&c, j, o);
    return finish(&c, j);
}

void t2i_bert_config_parse(t2i_jctx *c, const cJSON *j, const char *model_type, t2i_bert_config *o)
{
    memset(o, 0, sizeof *o);
    const char *arch[4];
    int na = cJSON_GetObjectItem(j, "architectures") ? t2i_jstr_list(c, j, "architectures", arch, 4) : 0;
    for (int i = 0; i < na; i++)
        if (strcmp(arch[i], "BertModel"))
            t2i_jerror(c, T2I_ERR_UNSUPPORTED, "architectures", "only BertModel is supported here");
    t2i_jexpect(c, j, "model_type", model_type);
    o->vocab_size = t2i_jint(c, j, "vocab_size", 30522, 1, 1 << 22);
    o->hidden_size = t2i_jint(c, j, "hidden_size", 768, 1, 1 << 16);
    o->intermediate_size = t2i_jint(c, j, "intermediate_size", 3072, 1, 1 << 18);
    o->layers = t2i_jint(c, j, "num_hidden_layers", 12, 1, 256);
    o->heads = t2i_jint(c, j, "num_attention_heads", 12, 1, 1024);
    o->max_positions = t2i_jint(c, j, "max_position_embeddings", 512, 1, 1 << 16);
    o->type_vocab_size = t2i_jint(c, j, "type_vocab_size", 2, 1, 1 << 16);
    static const char *const acts[] = {"gelu", "gelu_new", "gelu_pytorch_tanh", NULL};
    o->act = t2i_jenum(c, j, "hidden_act", acts, 0) == 0 ? T2I_ACT_GELU : T2I_ACT_GELU_TANH;
    o->layer_norm_eps = (float)t2i_jnum(c, j, "layer_norm_eps", 1e-12);
    t2i_jexpect(c, j, "position_embedding_type", "\"absolute\"");
    t2i_jexpect(c, j, "is_decoder", "false");
    t2i_jexpect(c, j, "add_cross_attention", "false");
    if (c->status == T2I_OK && o->hidden_size % o->heads)
        t2i_jerror(c, T2I_ERR_FORMAT, "num_attention_heads", "does not divide hidden_size");
}

t2i_status t2i_bert_config_load(const char *path, t2i_bert_config *o)
{
    cJSON *j;
    T2I_TRY(t2i_json_load(path, &j));
    t2i_jctx c = {path, T2I_OK};
    t2i_bert_config_parse(&c, j, "\"bert\"", o);
    return finish(&c, j);
}

/* A block type list: returns the count, sets cross[i] for the cross-attention
 * variant. */
static int block_types(t2i_jctx *c, const cJSON *j, const char *key, const char *plain,
                       const char *cross_name, bool *cross)
{
    const char *types[T2I_MAX_BLOCKS];
    int n = t2i_jstr_list(c, j, key, types, T2I_MAX_BLOCKS);
    for (int i = 0; i < n; i++) {
        if (cross_name && strcmp(types[i], cross_name) == 0) cross[i] = true;
        else if (strcmp(types[i], plain) == 0) cross[i] = false;
        else {
            char why[160];
            snprintf(why, sizeof why, "unsupported block type \"%.60s\"", types[i]);
            t2i_jerror(c, T2I_ERR_UNSUPPORTED, key, why);
            return -1;
        }
    }
    return n;
}

/* only_cross_attention: false, true, or one flag per down block (diffusers
 * mirrors the list for the up blocks; the mid block never takes it). */
static void only_cross_attention(t2i_jctx *c, const cJSON *j, t2i_unet_config *o)
{
    const cJSON *v = cJSON_GetObjectItem(j, "only_cross_attention");
    if (c->status != T2I_OK || !v || cJSON_IsNull(v)) return;
    if (cJSON_IsBool(v)) {
        for (int i = 0; i < o->n_blocks; i++) o->only_cross[i] = cJSON_IsTrue(v);
        return;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != o->n_blocks) {
        t2i_jerror(c, T2I_ERR_FORMAT, "only_cross_attention", "must be a boolean or one boolean per down block");
        return;
    }
    for (int i = 0; i < o->n_blocks; i++) {
        const cJSON *b = cJSON_GetArrayItem(v, i);
        if (!cJSON_IsBool(b)) {
            t2i_jerror(c, T2I_ERR_FORMAT, "only_cross_attention", "must be a boolean or one boolean per down block");
            return;
        }
        o->only_cross[i] = cJSON_IsTrue(b);
    }
}

t2i_status t2i_unet_config_load(const char *path, t2i_unet_config *o)
{
    cJSON *j;
    T2I_TRY(t2i_json_load(path, &j));
    t2i_status st = t2i_unet_config_parse(j, path, o);
    cJSON_Delete(j);
    return st;
}

t2i_status t2i_unet_config_parse(const cJSON *j, const char *path, t2i_unet_config *o)
{
    t2i_jctx c = {path, T2I_OK};
    memset(o, 0, sizeof *o);
    o->in_channels = t2i_jint(&c, j, "in_channels", 4, 1, 64);
    o->out_channels = t2i_jint(&c, j, "out_channels", 4, 1, 64);
    o->sample_size = t2i_jint(&c, j, "sample_size", 64, 1, 1 << 14);
    int nd = block_types(&c, j, "down_block_types", "DownBlock2D", "CrossAttnDownBlock2D", o->down_cross);
    int nu = block_types(&c, j, "up_block_types", "UpBlock2D", "CrossAttnUpBlock2D", o->up_cross);
    if (c.status == T2I_OK && nd != nu)
        t2i_jerror(&c, T2I_ERR_FORMAT, "up_block_types", "must have as many entries as down_block_types");
    o->n_blocks = nd > 0 ? nd : 0;
    const cJSON *boc = cJSON_GetObjectItem(j, "block_out_channels");
    if (c.status == T2I_OK && (!cJSON_IsArray(boc) || cJSON_GetArraySize(boc) != o->n_blocks))
        t2i_jerror(&c, T2I_ERR_FORMAT, "block_out_channels", "must list one width per block");
    t2i_jint_per_block(&c, j, "block_out_channels", o->block_out_channels, o->n_blocks, 320);
    o->layers_per_block = t2i_jint(&c, j, "layers_per_block", 2, 1, T2I_MAX_LAYERS_PER_BLOCK);
    /* diffusers: num_attention_heads = num_attention_heads or attention_head_dim
     * (the historical naming: SD's "attention_head_dim" counts heads). */
    const char *heads_key = cJSON_GetObjectItem(j, "num_attention_heads") &&
                                    !cJSON_IsNull(cJSON_GetObjectItem(j, "num_attention_heads"))
                                ? "num_attention_heads" : "attention_head_dim";
    t2i_jint_per_block(&c, j, heads_key, o->heads, o->n_blocks, 8);
    t2i_jint_per_block(&c, j, "transformer_layers_per_block", o->transformer_layers, o->n_blocks, 1);
    o->cross_attention_dim = t2i_jint(&c, j, "cross_attention_dim", 1280, 1, 1 << 16);
    o->use_linear_projection = t2i_jbool(&c, j, "use_linear_projection", false);
    o->upcast_attention = t2i_jbool(&c, j, "upcast_attention", false);
    o->flip_sin_to_cos = t2i_jbool(&c, j, "flip_sin_to_cos", true);
    o->freq_shift = (float)t2i_jnum(&c, j, "freq_shift", 0);
    o->norm_num_groups = t2i_jint(&c, j, "norm_num_groups", 32, 1, 1 << 16);
    o->norm_eps = (float)t2i_jnum(&c, j, "norm_eps", 1e-5);
    /* Features the builder does not implement must keep their neutral default. */
    t2i_jexpect(&c, j, "mid_block_type", "\"UNetMidBlock2DCrossAttn\"");
    t2i_jexpect(&c, j, "center_input_sample", "false");
    only_cross_attention(&c, j, o);
    t2i_jexpect(&c, j, "dual_cross_attention", "false");
    t2i_jexpect(&c, j, "class_embed_type", "null");
    static const char *const add_types[] = {"text_time", NULL};   /* absent or null: none */
    o->add_text_time = t2i_jenum(&c, j, "addition_embed_type", add_types, -1) == 0;
    if (o->add_text_time) {
        o->addition_time_embed_dim = t2i_jint(&c, j, "addition_time_embed_dim", 0, 2, 1 << 16);
        o->projection_class_embeddings_input_dim =
            t2i_jint(&c, j, "projection_class_embeddings_input_dim", 0, 1, 1 << 20);
        if (c.status == T2I_OK && (o->addition_time_embed_dim < 2 || o->addition_time_embed_dim % 2 ||
                                   o->projection_class_embeddings_input_dim <= 6 * o->addition_time_embed_dim))
            t2i_jerror(&c, T2I_ERR_FORMAT, "projection_class_embeddings_input_dim",
                       "must be the pooled text width + 6 · addition_time_embed_dim (even)");
    }
    const cJSON *nce = cJSON_GetObjectItem(j, "num_class_embeds");
    if (nce && !cJSON_IsNull(nce)) o->num_class_embeds = t2i_jint(&c, j, "num_class_embeds", 0, 1, 1 << 20);
    t2i_jexpect(&c, j, "class_embeddings_concat", "false");
    t2i_jexpect(&c, j, "encoder_hid_dim", "null");
    t2i_jexpect(&c, j, "time_cond_proj_dim", "null");
    t2i_jexpect(&c, j, "time_embedding_type", "\"positional\"");
    t2i_jexpect(&c, j, "time_embedding_dim", "null");
    t2i_jexpect(&c, j, "time_embedding_act_fn", "null");
    t2i_jexpect(&c, j, "timestep_post_act", "null");
    t2i_jexpect(&c, j, "act_fn", "\"silu\"");
    t2i_jexpect(&c, j, "resnet_time_scale_shift", "\"default\"");
    t2i_jexpect(&c, j, "resnet_skip_time_act", "false");
    t2i_jexpect(&c, j, "resnet_out_scale_factor", "1");
    t2i_jexpect(&c, j, "mid_block_scale_factor", "1");
    t2i_jexpect(&c, j, "downsample_padding", "1");
    t2i_jexpect(&c, j, "conv_in_kernel", "3");
    t2i_jexpect(&c, j, "conv_out_kernel", "3");
    t2i_jexpect(&c, j, "attention_type", "\"default\"");
    t2i_jexpect(&c, j, "cross_attention_norm", "null");
    t2i_jexpect(&c, j, "reverse_transformer_layers_per_block", "null");
    t2i_jexpect(&c, j, "mid_block_only_cross_attention", "null|false");
    for (int i = 0; c.status == T2I_OK && i < o->n_blocks; i++) {
        if (o->block_out_channels[i] % o->norm_num_groups)
            t2i_jerror(&c, T2I_ERR_FORMAT, "norm_num_groups", "does not divide every block_out_channels entry");
        else if (o->block_out_channels[i] % o->heads[i])
            t2i_jerror(&c, T2I_ERR_FORMAT, heads_key, "does not divide the block's channels");
    }
    return c.status;
}

t2i_status t2i_vae_config_load(const char *path, t2i_vae_config *o)
{
    cJSON *j;
    T2I_TRY(t2i_json_load(path, &j));
    t2i_status st = t2i_vae_config_parse(j, path, o);
    cJSON_Delete(j);
    return st;
}

t2i_status t2i_vae_config_parse(const cJSON *j, const char *path, t2i_vae_config *o)
{
    t2i_jctx c = {path, T2I_OK};
    memset(o, 0, sizeof *o);
    bool dummy[T2I_MAX_BLOCKS];
    o->in_channels = t2i_jint(&c, j, "in_channels", 3, 1, 16);
    o->out_channels = t2i_jint(&c, j, "out_channels", 3, 1, 16);
    o->latent_channels = t2i_jint(&c, j, "latent_channels", 4, 1, 64);
    o->sample_size = t2i_jint(&c, j, "sample_size", 512, 1, 1 << 16);
    int nd = block_types(&c, j, "down_block_types", "DownEncoderBlock2D", NULL, dummy);
    int nu = block_types(&c, j, "up_block_types", "UpDecoderBlock2D", NULL, dummy);
    if (c.status == T2I_OK && nd != nu)
        t2i_jerror(&c, T2I_ERR_FORMAT, "up_block_types", "must have as many entries as down_block_types");
    o->n_blocks = nd > 0 ? nd : 0;
    const cJSON *boc = cJSON_GetObjectItem(j, "block_out_channels");
    if (c.status == T2I_OK && (!cJSON_IsArray(boc) || cJSON_GetArraySize(boc) != o->n_blocks))
        t2i_jerror(&c, T2I_ERR_FORMAT, "block_out_channels", "must list one width per block");
    t2i_jint_per_block(&c, j, "block_out_channels", o->block_out_channels, o->n_blocks, 64);
    o->layers_per_block = t2i_jint(&c, j, "layers_per_block", 1, 1, T2I_MAX_LAYERS_PER_BLOCK);
    o->norm_num_groups = t2i_jint(&c, j, "norm_num_groups", 32, 1, 1 << 16);
    o->mid_block_add_attention = t2i_jbool(&c, j, "mid_block_add_attention", true);
    o->scaling_factor = (float)t2i_jnum(&c, j, "scaling_factor", 0.18215);
    t2i_jexpect(&c, j, "act_fn", "\"silu\"");
    t2i_jexpect(&c, j, "shift_factor", "null|0");
    t2i_jexpect(&c, j, "latents_mean", "null");
    t2i_jexpect(&c, j, "latents_std", "null");
    t2i_jexpect(&c, j, "use_quant_conv", "true");
    t2i_jexpect(&c, j, "use_post_quant_conv", "true");
    for (int i = 0; c.status == T2I_OK && i < o->n_blocks; i++)
        if (o->block_out_channels[i] % o->norm_num_groups)
            t2i_jerror(&c, T2I_ERR_FORMAT, "norm_num_groups", "does not divide every block_out_channels entry");
    return c.status;
}

int t2i_vae_scale(const t2i_vae_config *c) { return 1 << (c->n_blocks - 1); }
