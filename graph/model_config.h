/*
 * model_config.h — the architecture of each model part, read from its
 * diffusers/transformers config.json. Builders (graph/build_*.c) read only
 * these structs; nothing is hard-coded per checkpoint.
 *
 * Parsers reject, naming the key, any value whose behaviour the builders do
 * not implement (e.g. a class_embed_type, an unknown block type, an
 * activation other than the supported ones). Keys the engine does not know
 * at all are ignored: diffusers adds keys with neutral defaults over time.
 */
#ifndef T2I_MODEL_CONFIG_H
#define T2I_MODEL_CONFIG_H

#include <stdbool.h>
#include "graph/op_attrs.h"
#include "t2i.h"

/* The largest block counts the parsers accept; the builders size their
 * fixed arrays (the UNet's skip stack) by them and refuse configs beyond. */
#define T2I_MAX_BLOCKS 6
#define T2I_MAX_LAYERS_PER_BLOCK 16

typedef struct t2i_clip_text_config {
    int vocab_size, hidden_size, intermediate_size, layers, heads, max_positions;
    t2i_act act;             /* hidden_act: quick_gelu, gelu */
    float layer_norm_eps;
    bool with_projection;    /* CLIPTextModelWithProjection: text_projection [projection_dim, hidden] */
    int projection_dim;
    int eos_token_id;        /* 2 = legacy: the pooled token is at argmax(ids) */
} t2i_clip_text_config;

/* transformers CLIPVisionModelWithProjection (CLIPModel's vision_config;
 * ChineseCLIP's image tower is the same). */
typedef struct t2i_clip_vision_config {
    int hidden_size, intermediate_size, layers, heads;
    int image_size, patch_size, num_channels;   /* image_size a multiple of patch_size */
    t2i_act act;
    float layer_norm_eps;
    int projection_dim;
} t2i_clip_vision_config;

/* transformers BertModel (absolute positions, post-norm encoder). */
typedef struct t2i_bert_config {
    int vocab_size, hidden_size, intermediate_size, layers, heads, max_positions, type_vocab_size;
    t2i_act act;             /* hidden_act: gelu, gelu_new / gelu_pytorch_tanh */
    float layer_norm_eps;
} t2i_bert_config;

typedef struct t2i_unet_config {
    int in_channels, out_channels, sample_size;
    int n_blocks;
    int block_out_channels[T2I_MAX_BLOCKS];
    bool down_cross[T2I_MAX_BLOCKS];   /* CrossAttnDownBlock2D vs DownBlock2D */
    bool up_cross[T2I_MAX_BLOCKS];     /* CrossAttnUpBlock2D vs UpBlock2D, in up order */
    int layers_per_block;
    int heads[T2I_MAX_BLOCKS];         /* attention heads per down block */
    int transformer_layers[T2I_MAX_BLOCKS];
    int cross_attention_dim;
    bool use_linear_projection, upcast_attention, flip_sin_to_cos;
    float freq_shift;
    int norm_num_groups;
    float norm_eps;
    /* addition_embed_type "text_time" (SDXL): temb += add_embedding(concat(
     * text_embeds, add_time_proj(time_ids))), time_ids 6 values per image */
    bool add_text_time;
    int addition_time_embed_dim;
    int projection_class_embeddings_input_dim;   /* pooled dim + 6 · addition_time_embed_dim */
    /* num_class_embeds (class_embed_type null): temb += class_embedding[class_labels]
     * (the SD x4 upscaler's noise level); 0 = none */
    int num_class_embeds;
    /* only_cross_attention per down block (up blocks mirror it): attn1 of
     * the transformer blocks attends to the text context too */
    bool only_cross[T2I_MAX_BLOCKS];
} t2i_unet_config;

typedef struct t2i_vae_config {
    int in_channels, out_channels, latent_channels, sample_size;
    int n_blocks;
    int block_out_channels[T2I_MAX_BLOCKS];
    int layers_per_block;
    int norm_num_groups;
    bool mid_block_add_attention;
    float scaling_factor;
} t2i_vae_config;

t2i_status t2i_clip_text_config_load(const char *path, t2i_clip_text_config *out);
/* The same from an object inside a config (a CLIPModel's text_config);
 * errors go to c (sticky). model_type: the accepted value(s) as JSON text. */
struct t2i_jctx;
struct cJSON;
void t2i_clip_text_config_parse(struct t2i_jctx *c, const struct cJSON *j, t2i_clip_text_config *out);
void t2i_bert_config_parse(struct t2i_jctx *c, const struct cJSON *j, const char *model_type, t2i_bert_config *out);

/* A transformers CLIPModel or ChineseCLIPModel config.json: both towers. */
typedef struct t2i_clip_model_config {
    bool chinese;                   /* ChineseCLIPModel: BERT text tower, CLS pooling */
    t2i_clip_text_config text;      /* CLIPModel */
    t2i_bert_config bert;           /* ChineseCLIPModel */
    t2i_clip_vision_config vision;
    int projection_dim;             /* both projections end here */
} t2i_clip_model_config;
t2i_status t2i_clip_model_config_load(const char *path, t2i_clip_model_config *out);
t2i_status t2i_bert_config_load(const char *path, t2i_bert_config *out);
t2i_status t2i_unet_config_load(const char *path, t2i_unet_config *out);
t2i_status t2i_vae_config_load(const char *path, t2i_vae_config *out);
/* The same from a parsed config.json object; `path` names it in messages. */
t2i_status t2i_unet_config_parse(const struct cJSON *j, const char *path, t2i_unet_config *out);
t2i_status t2i_vae_config_parse(const struct cJSON *j, const char *path, t2i_vae_config *out);


/* The VAE's spatial factor: 2^(n_blocks-1). */
int t2i_vae_scale(const t2i_vae_config *c);

#endif
