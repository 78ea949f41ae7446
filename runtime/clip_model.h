/*
 * clip_model.h — a transformers CLIPModel or ChineseCLIPModel folder in the
 * engine: both towers as graphs on the engine's backend, for judging images
 * (product/judge.c).
 *
 * Folder (as transformers' save_pretrained writes it): config.json
 * (model_type clip / chinese_clip), model.safetensors (or a sharded set),
 * the tokenizer (vocab.json + merges.txt for CLIP, vocab.txt for
 * ChineseCLIP's BERT WordPiece; in the folder or in its tokenizer/, which
 * may be a link to a model's tokenizer) and preprocessor_config.json (the
 * CLIPImageProcessor settings; transformers' defaults when absent).
 *
 *   image_embeds = visual_projection(post_layernorm(ViT(pixels))[CLS])
 *   text_embeds  = CLIP: text_projection(final_layer_norm(h)[EOS])
 *                  ChineseCLIP: text_projection(BERT(ids)[CLS])
 *
 * Text is encoded without padding (BOS/CLS, the ids truncated to the
 * model's position count, EOS/SEP): for CLIP's causal tower padding changes
 * nothing before the EOS row, and for BERT it is what an attention mask over
 * padding gives, so the embeddings equal transformers' for padded batches.
 */
#ifndef T2I_CLIP_MODEL_H
#define T2I_CLIP_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include "graph/model_config.h"
#include "t2i.h"

/* CLIPImageProcessor settings (preprocessor_config.json). */
typedef struct t2i_clip_preprocess {
    bool do_convert_rgb, do_resize, do_center_crop, do_rescale, do_normalize;
    int shortest_edge;          /* size.shortest_edge (or size.height == size.width) */
    int crop_height, crop_width;
    int resample;               /* PIL filter number: 0 nearest, 2 bilinear, 3 bicubic, 1 lanczos */
    double rescale_factor;      /* 1/255 */
    float mean[3], std[3];
} t2i_clip_preprocess;

typedef struct t2i_clip_model t2i_clip_model;

/* Load a folder. Errors name the file and key or tensor (a projection whose
 * size differs from projection_dim is a shape error naming the tensor). */
t2i_status t2i_clip_model_load(t2i_engine *e, const char *dir, t2i_clip_model **out);
void t2i_clip_model_destroy(t2i_clip_model *m);   /* accepts NULL */

const t2i_clip_model_config *t2i_clip_model_config_of(const t2i_clip_model *m);
const t2i_clip_preprocess *t2i_clip_model_preprocess(const t2i_clip_model *m);
int t2i_clip_model_dim(const t2i_clip_model *m);   /* projection_dim */

/* pixels: [batch, 3, S, S] preprocessed (S = vision image_size); out:
 * [batch, dim] (not normalised). */
t2i_status t2i_clip_model_image_embeds(t2i_clip_model *m, const float *pixels, int batch, float *out);

/* The token ids a text is encoded with (malloc'd, *n of them; free()). */
t2i_status t2i_clip_model_tokenize(const t2i_clip_model *m, const char *text, int32_t **ids, int *n);
/* out: [dim] (not normalised) for ids[0..n) as t2i_clip_model_tokenize gives them. */
t2i_status t2i_clip_model_text_embeds_ids(t2i_clip_model *m, const int32_t *ids, int n, float *out);
t2i_status t2i_clip_model_text_embeds(t2i_clip_model *m, const char *text, float *out);

#endif /* T2I_CLIP_MODEL_H */
