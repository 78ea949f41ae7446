/*
 * image_ops.h — 8-bit image operations the editing modes need, each the
 * operation the A1111 web UI performs with PIL or OpenCV:
 *
 *   t2i_img_resize       PIL Image.resize(size, LANCZOS, box): the separable
 *                        filter of Pillow's Resample.c (support 3, widened
 *                        by the scale when shrinking, coefficients in 22-bit
 *                        fixed point, horizontal pass first, rows rounded
 *                        and clipped to 8 bits between the passes) — byte
 *                        for byte what Pillow gives for "L" and "RGB".
 *   t2i_img_resize_mode  A1111 images.resize_image: 0 just resize, 1 crop
 *                        and resize, 2 resize and fill (Lanczos, as A1111
 *                        with no img2img upscaler configured; the edge bands
 *                        of "resize and fill" bicubic, Pillow's default,
 *                        as A1111 leaves them).
 *   t2i_img_paste        PIL Image.paste(src, (x, y)), clipped.
 *   t2i_mask_blur        A1111's mask blur: cv2.GaussianBlur along x with
 *                        a (2·int(2.5·r + 0.5) + 1)-tap kernel of sigma r,
 *                        then along y; reflect-101 borders. The kernel is
 *                        computed in double and each pass rounded to 8 bits
 *                        (OpenCV's fixed-point path may differ by one level).
 *   t2i_mask_crop_region, t2i_expand_crop_region
 *                        A1111 masking.get_crop_region (bounding box of the
 *                        non-zero mask pixels plus padding, clipped) and
 *                        expand_crop_region (grown to the processing aspect
 *                        ratio, kept inside the image).
 *
 * Images are t2i_image with channels 1 (grey), 3 (RGB) or 4 (RGBA; resized
 * channel by channel, i.e. not premultiplied — callers resize RGB and masks).
 */
#ifndef T2I_IMAGE_OPS_H
#define T2I_IMAGE_OPS_H

#include "t2i.h"

/* Resize to w × h with Lanczos; box = {x0, y0, x1, y1} source region (NULL =
 * the whole image). out is allocated (t2i_image_clear). */
t2i_status t2i_img_resize(const t2i_image *in, int w, int h, const float *box, t2i_image *out);

/* A1111 resize_image(mode, in, w, h); the result has in's channels. */
t2i_status t2i_img_resize_mode(const t2i_image *in, int mode, int w, int h, t2i_image *out);

/* Paste src into dst at (x, y) (may be negative); channel counts must match. */
void t2i_img_paste(t2i_image *dst, const t2i_image *src, int x, int y);

/* Blur a one-channel W × H mask in place with radius (sigma) r > 0. */
t2i_status t2i_mask_blur(uint8_t *mask, int W, int H, int r);

/* Bounding box {x1, y1, x2, y2} (x2, y2 exclusive) of the non-zero pixels,
 * grown by pad and clipped to the image; returns 0 (box untouched) when the
 * mask is all zero. */
int t2i_mask_crop_region(const uint8_t *mask, int W, int H, int pad, int box[4]);

/* Grow box to the aspect ratio pw:ph inside an iw × ih image. */
void t2i_expand_crop_region(int box[4], int pw, int ph, int iw, int ih);

/* Decode PNG or JPEG bytes into RGBA8 (channels = 4); `name` for messages. */
t2i_status t2i_image_decode_named(const char *name, const void *buf, size_t n, t2i_image *img);

#endif /* T2I_IMAGE_OPS_H */
