/*
 * text_encoder.h — the text side of a model, per folder layout:
 *
 *   CLIP  StableDiffusionPipeline: CLIPTokenizer + CLIPTextModel (SD 1.x/2.x);
 *         context = last_hidden_state [L, C]
 *   BERT  StableDiffusionPipeline with BertTokenizer + BertModel (Taiyi's
 *         Chinese models); context = last_hidden_state [L, C], L = the
 *         tokenizer's model_max_length (512 for Taiyi), no attention mask
 *   SDXL  StableDiffusionXLPipeline: tokenizer + CLIPTextModel (ViT-L) and
 *         tokenizer_2 (pad "!") + CLIPTextModelWithProjection (bigG);
 *         context = concat(hidden_states[-2] of both) [L, C1 + C2],
 *         pooled = text_encoder_2's text_projection at the EOS [P]
 *
 * The model loader (runtime/model.c) asks t2i_text_detect which layout
 * model_index.json declares and t2i_text_load for the tokenizers, configs and
 * weights; the conditioning code (runtime/conditioning.c) encodes one padded
 * id sequence at a time with t2i_text_encode_ids.
 */
#ifndef T2I_TEXT_ENCODER_H
#define T2I_TEXT_ENCODER_H

#include <stdbool.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "base/json_util.h"
#include "runtime/model.h"

/* The text parts of model_index.json (already parsed as j): sets m->text_kind
 * and m->force_zeros_for_empty_prompt; errors name the key. */
void t2i_text_detect(t2i_jctx *c, const cJSON *j, t2i_model *m);

/* Load tokenizer(s), text encoder config(s) and weights for m->text_kind. */
t2i_status t2i_text_load(t2i_model *m);
void t2i_text_free(t2i_model *m);

/* Build the graph of text encoder `which` (0 or 1 = text_encoder_2) for
 * [batch, seq_len] ids, with the outputs the layout uses ("hidden" for CLIP
 * and BERT; "penultimate", and "pooled" for text_encoder_2, for SDXL), for
 * the model's current clip skip (m->clip_skip; BERT has none). */
t2i_status t2i_text_build(const t2i_model *m, int which, int batch, int seq_len, t2i_graph **out);

/* The same with the input "token_embeds" [batch, seq_len, C] in place of
 * "ids" (CLIP encoders; runtime/embeddings.c). */
t2i_status t2i_text_build_embeds(const t2i_model *m, int which, int batch, int seq_len, t2i_graph **out);

int t2i_text_len(const t2i_model *m);          /* L: the tokenizer's model_max_length */
int t2i_text_context_dim(const t2i_model *m);  /* C of the UNet context */
int t2i_text_pooled_dim(const t2i_model *m);   /* P (SDXL), else 0 */
/* Channel ranges of the context that come from different encoders (for
 * per-encoder emphasis): writes up to 2 widths, returns the count. */
int t2i_text_context_parts(const t2i_model *m, int widths[2]);

/* Tokenize `text` padded to L as the layout's diffusers pipeline does
 * (tokenizer 1's ids for SDXL). ids has room for t2i_text_len(m) ids. */
t2i_status t2i_text_encode_padded(const t2i_model *m, const char *text, int32_t *ids);

/* Encode one padded sequence ids[L] (tokenizer 1's ids; for SDXL the ids of
 * tokenizer_2 are derived by replacing the padding after the EOS with its pad
 * token) into ctx [L, C] and, for SDXL, pooled [P] (may be NULL). */
t2i_status t2i_text_encode_ids(t2i_model *m, const int32_t *ids, float *ctx, float *pooled);

/* SDXL's add_time_ids for an H×W image without cropping:
 * (original_size, crops_coords_top_left, target_size) = (H, W, 0, 0, H, W). */
void t2i_text_time_ids(int H, int W, float out[6]);

#endif
