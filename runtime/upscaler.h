/*
 * upscaler.h — an RRDBNet upscaler (ESRGAN / Real-ESRGAN, or the embedded
 * one): weights from one .safetensors with the published state-dict names,
 * architecture read from their shapes, and a tiled runner.
 *
 * Images here are planar FP32 RGB in [0,1], [3,H,W]; the output is clamped
 * to [0,1] as Real-ESRGAN does.
 */
#ifndef T2I_RUNTIME_UPSCALER_H
#define T2I_RUNTIME_UPSCALER_H

#include <stdbool.h>
#include "t2i.h"
#include "graph/build_rrdbnet.h"
#include "formats/safetensors.h"

typedef struct t2i_rrdb t2i_rrdb;

/* The architecture of an RRDBNet state dict: scale from conv_first's input
 * channels (3: ×4, 12: ×2), num_feat from its outputs, num_grow_ch from
 * body.0.rdb1.conv1, num_block from the highest body.N present. Errors
 * (T2I_ERR_FORMAT) name the missing or mis-shaped tensor. */
t2i_status t2i_rrdb_config_from_file(const t2i_st_file *f, t2i_rrdbnet_config *c);

/* Load `path` (a .safetensors file) onto the engine's backend. Every
 * weight's name and shape is checked; errors name the file and tensor. */
t2i_status t2i_rrdb_load(t2i_engine *e, const char *path, t2i_rrdb **out);
void t2i_rrdb_destroy(t2i_rrdb *r);    /* accepts NULL */
const t2i_rrdbnet_config *t2i_rrdb_config(const t2i_rrdb *r);

/* Upscale x[3,h,w] into y[3,h·s,w·s] (s = the model's scale).
 * tile = 0: one pass over the whole image. tile > 0: Real-ESRGAN's
 * tile/tile_pad scheme — the image is cut into tile×tile pieces; each runs
 * with `tile_pad` pixels of context on every side (a window of
 * tile + 2·tile_pad, shifted inward at the image borders so that every
 * window has the same size and one plan serves them all) and only the
 * piece's own part of the output is kept. Memory is bounded by the window.
 * base (NULL, or [3,h·s,w·s]) is added to the network's output before the
 * clamp: the bicubic upscale for a model with a bicubic residual.
 * Errors: tile < 0, tile_pad < 0, an odd tile or pad for a ×2 model. */
t2i_status t2i_rrdb_run(t2i_rrdb *r, const float *x, int h, int w, int tile, int tile_pad, const float *base,
                        float *y);

/* True for a model trained as a correction of the bicubic upscale (its
 * file's metadata "t2i.residual" is "bicubic", as the embedded upscaler's
 * is): the caller passes bicubic(x) as `base` to t2i_rrdb_run. */
bool t2i_rrdb_residual_bicubic(const t2i_rrdb *r);

#endif
