/*
 * model.h — the engine and model objects behind the public handles.
 *
 * A model holds its configs, tokenizer and weights (each component uploaded
 * once to the engine's backend) and a small cache of compiled plans: one per
 * component for the most recent (batch, size). A new size or batch compiles
 * a new plan (graph build + memory planning, milliseconds) and reuses the
 * weights; nothing is recompiled between runs of the same shape.
 */
#ifndef T2I_MODEL_H
#define T2I_MODEL_H

#include "kernels/backend.h"
#include "graph/model_config.h"
#include "runtime/plan.h"
#include "runtime/scheduler.h"
#include "runtime/weights.h"
#include "tokenizer/clip_bpe.h"
#include "tokenizer/wordpiece.h"

struct t2i_engine {
    t2i_backend *be;
};

typedef struct t2i_plan_slot {
    t2i_plan *plan;
    int batch, h, w;
    int ctx;          /* UNet: context length (77 per prompt chunk); else 0 */
} t2i_plan_slot;

/* The text side of a model folder (runtime/text_encoder.h). */
typedef enum t2i_text_kind {
    T2I_TEXT_CLIP = 0,    /* CLIPTokenizer + CLIPTextModel */
    T2I_TEXT_BERT,        /* BertTokenizer + BertModel (Taiyi) */
    T2I_TEXT_SDXL,        /* two CLIP encoders, pooled output, time ids */
} t2i_text_kind;

struct t2i_model {
    t2i_engine *eng;
    char *dir;
    char *name;                   /* folder name, for infotexts */
    t2i_text_kind text_kind;
    t2i_clip_tokenizer *tok;      /* CLIP, SDXL */
    t2i_clip_text_config text_cfg;
    t2i_wordpiece *wp;            /* BERT */
    t2i_bert_config bert_cfg;
    t2i_clip_tokenizer *tok2;     /* SDXL tokenizer_2 / text_encoder_2 */
    t2i_clip_text_config text2_cfg;
    t2i_weights *text2_w;
    t2i_plan_slot text2;
    bool force_zeros_for_empty_prompt;   /* SDXL: an empty negative prompt is zeros */
    t2i_unet_config unet_cfg;
    t2i_vae_config vae_cfg;
    t2i_sched_config sched_cfg;
    /* StableDiffusionUpscalePipeline: the UNet takes [latents, noised
     * low-resolution image] and the noise level as its class label */
    bool upscale_x4;
    t2i_sched_config low_res_sched_cfg;   /* low_res_scheduler/ (DDPM) */
    int max_noise_level;                  /* model_index.json, 350 */
    t2i_weights *text_w, *unet_w, *vae_w;   /* vae_w holds encoder and decoder */
    int has_vae_encoder;                    /* vae/ has encoder.* weights */
    t2i_plan_slot text, unet, vae_dec, vae_enc;
    int clip_skip;                /* A1111 clip skip of the text plans (0, 1: none); set per run */
    struct t2i_lora_state *lora;         /* LoRAs merged into the weights (runtime/lora.h) */
    struct t2i_embeddings *emb;          /* textual inversion of the current run (runtime/embeddings.h) */
};

/* T2I_OK if `backend` offers precision p, else T2I_ERR_UNSUPPORTED naming
 * what it offers (runtime/precision.c). */
t2i_status t2i_precision_check(t2i_backend_kind backend, t2i_precision p);

/* dir + "/" + rel, malloc'd (the caller frees it); NULL when out of memory. */
char *t2i_path_join(const char *dir, const char *rel);

/* Upload the weights of component folder `part` (its single or sharded
 * safetensors, formats/safetensors.h) that graph g declares, each name with
 * `prefix` (may be NULL) in front in the files, into *w (runtime/weights.h).
 * g is consumed (destroyed) whatever the outcome. Errors name the folder
 * and tensor. */
t2i_status t2i_model_load_weights(t2i_model *m, const char *part, const char *prefix, t2i_graph *g,
                                  t2i_weights **w);

/* The plan for a component at (batch, h, w), compiled on first use. h and w
 * are latent sizes for the UNet and VAE decoder, pixel sizes for the VAE
 * encoder, and (1, seq_len) for the text encoder. */
t2i_status t2i_model_text_plan(t2i_model *m, int batch, int seq_len, t2i_plan **out);
t2i_status t2i_model_text2_plan(t2i_model *m, int batch, int seq_len, t2i_plan **out);   /* SDXL */
t2i_status t2i_model_unet_plan(t2i_model *m, int batch, int h, int w, t2i_plan **out);
/* The UNet plan for a context of ctx_len tokens (77·k for a prompt of k
 * chunks, runtime/conditioning.h); t2i_model_unet_plan uses the tokenizer's
 * model_max_length (77). */
t2i_status t2i_model_unet_plan_ctx(t2i_model *m, int batch, int h, int w, int ctx_len, t2i_plan **out);
t2i_status t2i_model_vae_decoder_plan(t2i_model *m, int batch, int h, int w, t2i_plan **out);
t2i_status t2i_model_vae_encoder_plan(t2i_model *m, int batch, int h, int w, t2i_plan **out);

#endif
