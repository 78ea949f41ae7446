/*
 * build.h — graph builders: a config struct in, a graph out.
 *
 * Weight names are the diffusers / transformers state-dict keys, so a built
 * graph binds directly to the component's safetensors files. Each builder
 * returns T2I_OK and a graph, or an error naming the offending module.
 *
 * Inputs and outputs (FP32 unless noted):
 *   CLIP text encoder  in  "ids" I32 [B,L]        out "hidden" [B,L,C]
 *                      (last_hidden_state, after final_layer_norm)
 *                      optional (t2i_clip_outputs): "penultimate" [B,L,C];
 *                      in "pool_index" I32 [B,1] → "pooled" [B,P]
 *   CLIP image encoder in  "pixel_values" [B,3,S,S] (preprocessed),
 *                          "class_ids" I32 [B,1] (zeros)
 *                                                 out "image_embeds" [B,P]
 *   BERT text encoder  in  "ids" I32 [B,L]        out "hidden" [B,L,C]
 *                      (BertModel last_hidden_state, token type 0, no mask)
 *   UNet               in  "sample" [B,Cin,h,w], "timestep" [B],
 *                          "context" [B,L,Cx]     out "out" [B,Cout,h,w]
 *                      with addition_embed_type "text_time" (SDXL) also
 *                          "text_embeds" [B,P], "time_ids" [B,6]
 *                      with num_class_embeds (x4 upscaler) also
 *                          "class_labels" I32 [B,1] (the noise level)
 *   VAE decoder        in  "latents" [B,Cl,h,w]   out "image" [B,3,h·f,w·f]
 *                      (latents already divided by scaling_factor; image
 *                      in about [-1,1], unclamped)
 *   VAE encoder        in  "image" [B,3,H,W]      out "mean" [B,Cl,H/f,W/f]
 *                      (latent_dist.mean, unscaled), "logvar" (the same
 *                      shape, latent_dist's log-variance before its clamp)
 */
#ifndef T2I_BUILD_H
#define T2I_BUILD_H

#include "graph/graph.h"
#include "graph/model_config.h"

t2i_status t2i_build_clip_text(const t2i_clip_text_config *c, int batch, int seq_len, t2i_graph **out);

/* Extra CLIP outputs, for SDXL's text encoders, and the A1111 "clip skip". */
typedef struct t2i_clip_outputs {
    bool penultimate;   /* "penultimate": hidden_states[-2] (before the last layer, no final norm) */
    bool pooled;        /* "pooled": text_projection of the final-norm row at pool_index[b] = b·L + position */
    bool token_embeds;  /* input "token_embeds" F32 [B,L,C] (rows of the token embedding, or textual-
                         * inversion vectors) instead of "ids" and the token_embedding gather */
    /* Layers skipped at the end (A1111 clip_skip - 1; at most layers, or
     * layers - 1 with penultimate): without
     * pooled, the last `skip` layers are left out ("hidden" = final norm of
     * hidden_states[-1 - skip]); "penultimate" moves to hidden_states[-2 -
     * skip] (with pooled the whole encoder still runs for it). */
    int skip;
} t2i_clip_outputs;
/* o may be NULL (the plain form). A pooled output needs with_projection. */
t2i_status t2i_build_clip_text_ex(const t2i_clip_text_config *c, int batch, int seq_len, const t2i_clip_outputs *o,
                                  t2i_graph **out);
/* The position transformers pools at: the first eos_token_id, or with the
 * legacy eos_token_id == 2 the first maximum of ids (argmax). */
int t2i_clip_pool_position(const t2i_clip_text_config *c, const int32_t *ids, int seq_len);

/* CLIPVisionModelWithProjection (weights under "vision_model." and
 * "visual_projection."). */
t2i_status t2i_build_clip_vision(const t2i_clip_vision_config *c, int batch, t2i_graph **out);

/* The LAION improved aesthetic predictor's MLP, layer sizes as published:
 * in_dim → 1024 → 128 → 64 → 16 → 1, no activations (its dropouts are
 * identities at inference), weights "layers.{0,2,4,6,7}.{weight,bias}".
 * in "embeds" [B,in_dim] (L2-normalised CLIP image embeddings), out "score"
 * [B,1]. */
t2i_status t2i_build_aesthetic_head(int in_dim, int batch, t2i_graph **out);

t2i_status t2i_build_bert_text(const t2i_bert_config *c, int batch, int seq_len, t2i_graph **out);
/* The same under a scope ("text_model" for ChineseCLIP; NULL = none) and,
 * with projection_dim > 0, an output "text_embeds" [B,projection_dim] =
 * text_projection(hidden[:, 0]) (a top-level weight). */
t2i_status t2i_build_bert_text_ex(const t2i_bert_config *c, int batch, int seq_len, const char *scope,
                                  int projection_dim, t2i_graph **out);
t2i_status t2i_build_unet(const t2i_unet_config *c, int batch, int h, int w, int ctx_len, t2i_graph **out);
t2i_status t2i_build_vae_decoder(const t2i_vae_config *c, int batch, int h, int w, t2i_graph **out);
t2i_status t2i_build_vae_encoder(const t2i_vae_config *c, int batch, int h, int w, t2i_graph **out);
/* The same for one tile of the tiled VAE (runtime/vae_tiled.c), batch 1,
 * every GroupNorm k (in build order, eps and groups applied by the caller)
 * with external statistics:
 *   in  "gnK.mask" [1,H·W]  which of the tile's pixels at that layer count
 *       "gnK.a", "gnK.b" [C,1,1]  rstd and −mean·rstd of each channel's group
 *   out "gnK.sum", "gnK.sqsum" [C,1]  Σ mask·x and Σ mask·x² per channel
 *   y = act((x·a + b)·weight + bias)
 * so a caller can gather the whole image's statistics tile by tile. */
t2i_status t2i_build_vae_decoder_gn(const t2i_vae_config *c, int h, int w, t2i_graph **out);
t2i_status t2i_build_vae_encoder_gn(const t2i_vae_config *c, int h, int w, t2i_graph **out);

#endif
