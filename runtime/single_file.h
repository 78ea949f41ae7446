/*
 * single_file.h — single-file Stable Diffusion checkpoints (one .safetensors
 * in the original LDM / A1111 naming): what kind of model a file holds, the
 * diffusers configs inferred from its tensor names and shapes, and reading
 * its tensors under the diffusers names the graphs declare
 * (formats/ckpt_names.h holds the naming). docs/formats.md states every
 * inference rule and what cannot be inferred.
 */
#ifndef T2I_SINGLE_FILE_H
#define T2I_SINGLE_FILE_H

#include <cjson/cJSON.h>
#include "formats/ckpt_names.h"
#include "formats/safetensors.h"
#include "runtime/model.h"

typedef enum t2i_ckpt_kind { T2I_CKPT_SD1 = 1, T2I_CKPT_SD2, T2I_CKPT_SDXL } t2i_ckpt_kind;

typedef struct t2i_ckpt {
    const char *path;
    t2i_st_file *f;                 /* the checkpoint */
    t2i_st_file *vae_f;             /* a separate VAE file, or NULL */
    const char *vae_prefix;         /* its prefix: "first_stage_model." or "" */
    t2i_ckpt_kind kind;
    bool text_strip;                /* HF CLIP names without "text_model." (old transformers) */
    t2i_ckpt_layout layout;
    /* diffusers configs (config.json / scheduler_config.json contents) */
    cJSON *unet, *vae, *text, *text2, *sched;
} t2i_ckpt;

/* Refuse pickles by file name (.ckpt .pt .pth .bin) with how to convert them
 * safely; T2I_OK for anything else. */
t2i_status t2i_ckpt_refuse_pickle(const char *path);

/* Open `path` (and the optional separate VAE), recognise the model and infer
 * its configs. pred overrides the prediction type (else "<stem>.yaml"
 * beside the file, else the SD 2.x rule). Errors name the file and the
 * tensor looked for. t2i_ckpt_close releases everything (accepts a zeroed
 * struct). */
t2i_status t2i_ckpt_open(const char *path, const char *vae_path, int pred, t2i_ckpt *c);
void t2i_ckpt_close(t2i_ckpt *c);

/* The original tensor holding diffusers tensor `name` of `part`, checked
 * against the shape the graph declares (ndim / ne); the transform to apply
 * in *src. Errors name the tensor. */
t2i_status t2i_ckpt_find(const t2i_ckpt *c, t2i_ckpt_part part, const char *name, int ndim, const int64_t *ne,
                         const t2i_st_tensor **t, t2i_ckpt_src *src);

/* The values of diffusers tensor (ndim, ne) from original tensor t via src,
 * in t's dtype, into out (room for numel(ne) elements of that dtype). */
void t2i_ckpt_extract(const t2i_st_tensor *t, const t2i_ckpt_src *src, int ndim, const int64_t *ne, void *out);

/* Load a checkpoint as a model (t2i_model_load_ex's single-file branch). */
t2i_status t2i_single_file_load(t2i_engine *e, const char *path, const t2i_model_options *o, t2i_model **out);

/* An inferred CLIP text config object parsed (`what` names it). */
t2i_status t2i_ckpt_text_config(const cJSON *j, const char *what, t2i_clip_text_config *o);

/* The CLIP tokenizer folder to use: o->tokenizer_dir, else
 * $T2I_CLIP_TOKENIZER, else the project's models/default/tokenizer. */
const char *t2i_ckpt_tokenizer_dir(const t2i_model_options *o);

#endif
