/*
 * ckpt_names.h — the tensor names of single-file Stable Diffusion
 * checkpoints (the original CompVis / Stability "LDM" naming that A1111,
 * ComfyUI and civitai files use) in terms of the diffusers / transformers
 * names t2i's graphs declare. This is the ONE place that knows that naming.
 *
 * One checkpoint holds every component under its own prefix:
 *
 *   component        SD 1.x                          SD 2.x                     SDXL
 *   unet             model.diffusion_model.          (same)                     (same)
 *   vae              first_stage_model.              (same)                     (same)
 *   text_encoder     cond_stage_model.transformer.   cond_stage_model.model.    conditioner.embedders.0.transformer.
 *                    (transformers names)            (OpenCLIP names)           (transformers names)
 *   text_encoder_2   -                               -                          conditioner.embedders.1.model. (OpenCLIP)
 *
 * The mapping is the inverse of diffusers' own loader
 * (diffusers/loaders/single_file_utils.py: convert_ldm_unet_checkpoint,
 * convert_ldm_vae_checkpoint, convert_ldm_clip_checkpoint,
 * convert_open_clip_checkpoint), written as tables of renames:
 *
 *  - UNet: blocks are flattened. Down block b, layer l (L layers per block)
 *    is input_blocks.{1 + b(L+1) + l} with the resnet at ".0" and the
 *    transformer at ".1"; its downsampler is input_blocks.{(b+1)(L+1)}.0.op.
 *    Up block b, layer l (L+1 layers) is output_blocks.{b(L+1) + l}; its
 *    upsampler sits in the block's last layer, at ".2.conv" after a
 *    transformer, else at ".1.conv". mid_block is middle_block.{0,1,2}.
 *    Resnets rename norm1/conv1/norm2/conv2/time_emb_proj/conv_shortcut to
 *    in_layers.0/in_layers.2/out_layers.0/out_layers.3/emb_layers.1/
 *    skip_connection; transformer internals keep their names.
 *  - VAE: down_blocks.i.resnets.j -> down.i.block.j; decoder up blocks are
 *    numbered in reverse (up_blocks.i -> up.{n-1-i}); mid_block.resnets.k ->
 *    mid.block_{k+1}; the mid attention's group_norm/to_q/to_k/to_v/to_out.0
 *    -> norm/q/k/v/proj_out, stored as 1×1 convolutions [C, C, 1, 1].
 *  - OpenCLIP: resblocks.n.{ln_1, ln_2, attn.out_proj, mlp.c_fc, mlp.c_proj};
 *    q/k/v are the three row blocks of attn.in_proj_weight/bias; the
 *    projection is text_projection transposed.
 */
#ifndef T2I_CKPT_NAMES_H
#define T2I_CKPT_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include "t2i.h"

#define T2I_CKPT_MAX_BLOCKS 8

typedef enum t2i_ckpt_part {
    T2I_CKPT_UNET = 0,
    T2I_CKPT_VAE,
    T2I_CKPT_TEXT,      /* the (first) text encoder */
    T2I_CKPT_TEXT2,     /* SDXL's second one */
} t2i_ckpt_part;

typedef enum t2i_ckpt_text_naming {
    T2I_CKPT_TEXT_HF = 0,    /* transformers names under a prefix */
    T2I_CKPT_TEXT_OPENCLIP,  /* OpenCLIP names (SD 2.x, SDXL's second encoder) */
} t2i_ckpt_text_naming;

/* What the flattened names depend on. */
typedef struct t2i_ckpt_layout {
    int unet_layers_per_block;                 /* diffusers layers_per_block */
    int unet_blocks;
    bool unet_up_cross[T2I_CKPT_MAX_BLOCKS];   /* up block b has transformers */
    int vae_blocks;
    const char *text_prefix, *text2_prefix;    /* e.g. "cond_stage_model.transformer." */
    t2i_ckpt_text_naming text_naming, text2_naming;
} t2i_ckpt_layout;

/* How a diffusers tensor is read from its original tensor. */
typedef enum t2i_ckpt_xform {
    T2I_CKPT_SAME = 0,     /* same values (a 1×1 conv shape [C,C,1,1] for [C,C] is fine) */
    T2I_CKPT_ROWS,         /* row block `index` of 3 (q/k/v of in_proj), along dim 0 */
    T2I_CKPT_TRANSPOSE,    /* the 2-D transpose (OpenCLIP text_projection) */
} t2i_ckpt_xform;

typedef struct t2i_ckpt_src {
    char name[256];        /* the original tensor name */
    t2i_ckpt_xform xform;
    int index;             /* T2I_CKPT_ROWS: 0 = q, 1 = k, 2 = v */
} t2i_ckpt_src;

/* The original tensor holding diffusers tensor `name` of `part`. Returns 0
 * when the diffusers name has no counterpart in the tables (a name t2i's
 * graphs never declare); 1 otherwise. */
int t2i_ckpt_original_name(const t2i_ckpt_layout *l, t2i_ckpt_part part, const char *name, t2i_ckpt_src *out);

/* The prefix of each part in the layout ("model.diffusion_model.", ...). */
const char *t2i_ckpt_prefix(const t2i_ckpt_layout *l, t2i_ckpt_part part);

#endif
