/*
 * judge.h — internals of product/judge.c that tests check on their own.
 * The judging API itself is public (include/t2i.h, "judging images").
 */
#ifndef T2I_JUDGE_H
#define T2I_JUDGE_H

#include "runtime/clip_model.h"
#include "t2i.h"

/* CLIPImageProcessor (PIL backend) on one RGB image: out [3, size, size];
 * an error when the processor's crop is not size × size. */
t2i_status t2i_clip_preprocess_image(const t2i_clip_preprocess *p, const t2i_image *img, int size, float *out);

#endif /* T2I_JUDGE_H */
