/*
 * aesthetic.h — the LAION improved aesthetic predictor head on the engine:
 * an MLP (graph/build.h t2i_build_aesthetic_head) over the L2-normalised
 * CLIP ViT-L/14 image embedding, loaded from a .safetensors with the
 * published state-dict names (scripts/fixtures/convert_aesthetic.py converts
 * the published .pth). Its input width is read from layers.0.weight, so it
 * must equal the image embedding width of the CLIP model it is used with.
 */
#ifndef T2I_AESTHETIC_H
#define T2I_AESTHETIC_H

#include "t2i.h"

typedef struct t2i_aesthetic t2i_aesthetic;

t2i_status t2i_aesthetic_load(t2i_engine *e, const char *path, t2i_aesthetic **out);
void t2i_aesthetic_destroy(t2i_aesthetic *a);   /* accepts NULL */
int t2i_aesthetic_dim(const t2i_aesthetic *a);  /* input width */
/* scores[b] = head(embeds[b]) for normalised embeds [batch, dim]. */
t2i_status t2i_aesthetic_run(t2i_aesthetic *a, const float *embeds, int batch, float *scores);

#endif /* T2I_AESTHETIC_H */
