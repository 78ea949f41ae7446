/*
 * txt2img.h — what the product's generation entry points share
 * (product/txt2img.c, product/img2img.c).
 */
#ifndef T2I_PRODUCT_TXT2IMG_H
#define T2I_PRODUCT_TXT2IMG_H

#include "t2i.h"
#include "runtime/pipeline.h"

/* The A1111 infotext of one image: the txt2img fields, then `extra`
 * (n_extra pairs). NULL when out of memory. */
char *t2i_make_infotext(const t2i_model *m, const t2i_txt2img_params *p, const char *prompt, const char *negative,
                        uint64_t seed, int W, int H, const t2i_infotext_kv *extra, int n_extra);

/* t2i_txt2img on one rank of a CFG-parallel pair (runtime/pipeline.h:
 * t2i_pipeline_run_ranked); ranks NULL = t2i_txt2img. A failure before the
 * pipeline starts (prompt, LoRA) aborts the communicator too. */
t2i_status t2i_txt2img_ranked(t2i_model *m, const t2i_txt2img_params *p, t2i_pipeline_ranks *ranks,
                              t2i_image **images, int *count);

#endif /* T2I_PRODUCT_TXT2IMG_H */
