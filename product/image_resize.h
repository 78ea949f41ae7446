/*
 * image_resize.h — resampling of 8-bit images, equal to Pillow's
 * Image.resize (the filter convolution with support scaled by the
 * downscale factor, fixed-point coefficients of 22 fractional bits, a
 * horizontal pass then a vertical pass, each rounded and clipped to 8 bits).
 * CLIPImageProcessor (bicubic) and the A1111 web UI (Lanczos) resize through
 * Pillow, so pixels come out identical to theirs.
 *
 * Layout: row-major, interleaved channels (1..4), no padding between rows.
 */
#ifndef T2I_IMAGE_RESIZE_H
#define T2I_IMAGE_RESIZE_H

#include <stdint.h>
#include "t2i.h"

/* Pillow's filter numbers (Image.Resampling). */
typedef enum t2i_resample {
    T2I_RESAMPLE_NEAREST = 0,
    T2I_RESAMPLE_LANCZOS = 1,
    T2I_RESAMPLE_BILINEAR = 2,
    T2I_RESAMPLE_BICUBIC = 3,
} t2i_resample;

/* Resize src (sw × sh × channels) to dst (dw × dh × channels). Errors:
 * T2I_ERR_INVALID_ARG (a size < 1 or > 65536, channels outside 1..4, an
 * unknown filter), T2I_ERR_NOMEM. */
t2i_status t2i_image_resize(const uint8_t *src, int sw, int sh, int channels, uint8_t *dst, int dw, int dh,
                            t2i_resample filter);

/* The same from the source region box = {x0, y0, x1, y1} (Pillow's box
 * argument; NULL = the whole image); a box outside the image is
 * T2I_ERR_INVALID_ARG. */
t2i_status t2i_image_resize_box(const uint8_t *src, int sw, int sh, int channels, uint8_t *dst, int dw, int dh,
                                t2i_resample filter, const float box[4]);

#endif /* T2I_IMAGE_RESIZE_H */
