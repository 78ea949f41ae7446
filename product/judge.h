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

/* Everything best-of-n needs from one pass of the image tower: the tower
 * chosen by the prompt's language, the normalised image embedding (emb,
 * *dim of max values), CLIPScore against prompt, and the aesthetic score
 * (NaN without a head, or when the Chinese tower judged). */
t2i_status t2i_scorer_judge(t2i_scorer *s, const t2i_image *img, const char *prompt, float *emb, int max, int *dim,
                            float *clip_score, float *aesthetic);

#endif /* T2I_JUDGE_H */
