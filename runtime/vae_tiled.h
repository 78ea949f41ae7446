/*
 * vae_tiled.h — the VAE in overlapping tiles, so that its activation memory
 * is bounded by the tile, not the image (docs/upscaling.md, "Tiled VAE").
 *
 * A tile is run through the ordinary decoder (encoder) plan compiled at the
 * tile's size, with every GroupNorm given the whole image's statistics
 * (global statistics pass: one pass over the tiles per GroupNorm gathers
 * Σx and Σx² of that norm's input over the pixels each tile owns — the
 * overlaps split at their middle — with the earlier norms already applied
 * with their whole-image figures; a last pass produces the output).
 * Neighbouring tiles overlap by `overlap` pixels: the outer quarter of the
 * overlap at a tile's inner edge is dropped (its receptive field reaches
 * the tile's zero padding) and the middle half blended with linear ramps
 * (weights w_x·w_y, normalised by their sum). What remains different from
 * the whole-image VAE: the convolutions' reach past the dropped margin and
 * attention (SD's mid block) within a tile only; measured in
 * tests/test_vae_tiled.c and docs/upscaling.md. Cost: (GroupNorms + 1)
 * runs over the tiles.
 *
 * Sizes: tile and overlap in image pixels, multiples of the VAE factor f,
 * tile > overlap >= 0. An image no larger than the tile in a direction is
 * one tile in that direction; the last tile of a row or column is moved
 * back to end at the image's edge (one plan serves all tiles).
 */
#ifndef T2I_VAE_TILED_H
#define T2I_VAE_TILED_H

#include <stddef.h>
#include "graph/model_config.h"
#include "runtime/model.h"

/* T2I_ERR_INVALID_ARG naming the option unless f | overlap, overlap >= 0
 * and, for tile != 0 (0 = no tiling), f | tile and tile > overlap. */
t2i_status t2i_vae_tiling_check(const t2i_vae_config *c, int tile, int overlap);

/* Decode latents [L][h][w] (already divided by scaling_factor) into image
 * [3][h·f][w·f] in tiles. Errors: those of t2i_vae_tiling_check, NOMEM,
 * the backend's. */
t2i_status t2i_vae_decode_tiled(t2i_model *m, const float *latents, int h, int w, int tile, int overlap, float *image);

/* Encode image [3][H][W] (multiples of f) into the latent mean and
 * log-variance [L][H/f][W/f] (logvar may be NULL) in tiles. */
t2i_status t2i_vae_encode_tiled(t2i_model *m, const float *image, int H, int W, int tile, int overlap, float *mean,
                                float *logvar);

/* The activation arena (bytes, the planner's peak; act_size bytes per
 * activation element: 4 CPU, 2 CUDA) of the decoder plan a decode of an
 * H × W image uses: the whole image (tile 0) or one tile. Host-side output
 * buffers (3·H·W floats plus two 1-D weight rows) are not included. 0 after
 * an error (message set). */
size_t t2i_vae_decoder_peak_bytes(const t2i_vae_config *c, int H, int W, int tile, size_t act_size);
size_t t2i_vae_encoder_peak_bytes(const t2i_vae_config *c, int H, int W, int tile, size_t act_size);

/* The tile for a cap of max_bytes on the decoder's (encode: encoder's)
 * arena: 0 when the whole image fits, else the largest multiple of 64
 * pixels above `overlap` whose plan fits; -1 with T2I_ERR_NOMEM set when
 * none does. */
int t2i_vae_auto_tile(const t2i_vae_config *c, int H, int W, int overlap, int encode, size_t max_bytes,
                      size_t act_size);

#endif
