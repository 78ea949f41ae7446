/*
 * build_rrdbnet.h — RRDBNet, the ESRGAN / Real-ESRGAN generator, as a graph.
 *
 * Input "image" [B,3,H,W] (RGB in [0,1]) -> output "upscaled"
 * [B,3,H·scale,W·scale] (unclamped). Weight names are the published state
 * dict's (basicsr RRDBNet; RealESRGAN_x4plus.pth, RealESRGAN_x2plus.pth):
 * conv_first, body.N.rdbM.convK (M 1..3, K 1..5), conv_body, conv_up1,
 * conv_up2, conv_hr, conv_last, each with .weight and .bias.
 */
#ifndef T2I_BUILD_RRDBNET_H
#define T2I_BUILD_RRDBNET_H

#include "graph/graph.h"

typedef struct t2i_rrdbnet_config {
    int scale;          /* 4, or 2 (pixel_unshuffle(2) before conv_first) */
    int num_feat;       /* 64 in the published models */
    int num_block;      /* RRDB blocks in body: 23 (x4plus, x2plus) */
    int num_grow_ch;    /* 32 */
} t2i_rrdbnet_config;

/* The graph for a batch of h×w images (h, w multiples of 2 for scale 2).
 * Errors: a config outside 1..4096 features / 0..1000 blocks, scale not 2
 * or 4, an odd size for scale 2. */
t2i_status t2i_build_rrdbnet(const t2i_rrdbnet_config *c, int batch, int h, int w, t2i_graph **out);

#endif
