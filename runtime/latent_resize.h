/*
 * latent_resize.h — torch.nn.functional.interpolate on float32 planes, the
 * latent upscale modes of A1111's hires fix (modules/shared_items /
 * processing.py latent_upscale_modes): "Latent" (bilinear), "Latent
 * (antialiased)", "Latent (bicubic)", "Latent (bicubic antialiased)",
 * "Latent (nearest)", "Latent (nearest-exact)". align_corners is False and
 * the size is given (no scale_factor), as A1111 calls it.
 *
 * Layout: `planes` contiguous planes of h×w floats (NCHW with N·C planes) in,
 * the same planes of oh×ow out. The caller owns both buffers; src and dst
 * must not overlap. Bad sizes return T2I_ERR_INVALID_ARG.
 */
#ifndef T2I_RUNTIME_LATENT_RESIZE_H
#define T2I_RUNTIME_LATENT_RESIZE_H

#include "t2i.h"

/* Nearest neighbour: mode "nearest" (exact = 0: src = floor(dst·in/out)) or
 * "nearest-exact" (exact = 1: src = floor((dst + 0.5)·in/out)). */
t2i_status t2i_resize_nearest(const float *src, int planes, int h, int w, float *dst, int oh, int ow, int exact);

/* "bilinear" (cubic = 0) or "bicubic" (cubic = 1, A = -0.75, border
 * replicated), antialias=False: torch's upsample_bilinear2d/bicubic2d. */
t2i_status t2i_resize_interp(const float *src, int planes, int h, int w, float *dst, int oh, int ow, int cubic);

/* antialias=True: torch's _upsample_bilinear2d_aa / _upsample_bicubic2d_aa
 * (PIL-style separable filter, triangle or cubic with a = -0.5, support
 * widened by the scale when shrinking, weights normalised; width first). */
t2i_status t2i_resize_aa(const float *src, int planes, int h, int w, float *dst, int oh, int ow, int cubic);

#endif
