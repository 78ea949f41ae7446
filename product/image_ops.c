/*
 * image_ops.c — resizing (through product/image_resize.c), pasting, mask
 * blur and crop boxes for the editing modes (see image_ops.h for what each
 * reproduces).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/error.h"
#include "product/image_ops.h"
#include "product/image_resize.h"

/* Pillow's Image.resize (product/image_resize.c) into a new image. */
static t2i_status resize_with(t2i_resample f, const t2i_image *in, int w, int h, const float *box, t2i_image *out)
{
    memset(out, 0, sizeof *out);
    if (w < 1 || h < 1 || w > 16384 || h > 16384)
        return t2i_fail(T2I_ERR_INVALID_ARG, "resize: size %dx%d out of range", w, h);
    out->pixels = malloc((size_t)w * h * (in->channels > 0 ? in->channels : 1));
    if (!out->pixels) return t2i_fail(T2I_ERR_NOMEM, "resize: out of memory");
    out->width = w, out->height = h, out->channels = in->channels;
    t2i_status st = t2i_image_resize_box(in->pixels, in->width, in->height, in->channels, out->pixels, w, h, f, box);
    if (st != T2I_OK) t2i_image_clear(out);
    return st;
}

t2i_status t2i_img_resize(const t2i_image *in, int w, int h, const float *box, t2i_image *out)
{
    return resize_with(T2I_RESAMPLE_LANCZOS, in, w, h, box, out);
}

void t2i_img_paste(t2i_image *dst, const t2i_image *src, int x, int y)
{
    const int C = dst->channels;
    for (int sy = 0; sy < src->height; sy++) {
        int dy = y + sy;
        if (dy < 0 || dy >= dst->height) continue;
        for (int sx = 0; sx < src->width; sx++) {
            int dx = x + sx;
            if (dx < 0 || dx >= dst->width) continue;
            memcpy(dst->pixels + ((size_t)dy * dst->width + dx) * C, src->pixels + ((size_t)sy * src->width + sx) * C,
                   (size_t)C);
        }
    }
}

static t2i_status new_image(t2i_image *im, int w, int h, int c)
{
    memset(im, 0, sizeof *im);
    im->pixels = calloc((size_t)w * h, (size_t)c);
    if (!im->pixels) return t2i_fail(T2I_ERR_NOMEM, "resize: out of memory");
    im->width = w, im->height = h, im->channels = c;
    return T2I_OK;
}

/* Resize part of `r` (box) to fw × fh and paste it at (px, py) in res; A1111
 * leaves these resizes at Pillow's default filter, bicubic. */
static t2i_status fill_band(t2i_image *res, const t2i_image *r, int fw, int fh, const float box[4], int px, int py)
{
    t2i_image band;
    T2I_TRY(resize_with(T2I_RESAMPLE_BICUBIC, r, fw, fh, box, &band));
    t2i_img_paste(res, &band, px, py);
    t2i_image_clear(&band);
    return T2I_OK;
}

t2i_status t2i_img_resize_mode(const t2i_image *im, int mode, int width, int height, t2i_image *out)
{
    memset(out, 0, sizeof *out);
    if (mode < 0 || mode > 2) return t2i_fail(T2I_ERR_INVALID_ARG, "resize_mode %d outside 0..2", mode);
    if (mode == 0) return t2i_img_resize(im, width, height, NULL, out);
    double ratio = (double)width / height, src_ratio = (double)im->width / im->height;
    int src_w, src_h;
    if (mode == 1) {
        src_w = ratio > src_ratio ? width : im->width * height / im->height;
        src_h = ratio <= src_ratio ? height : im->height * width / im->width;
    } else {
        src_w = ratio < src_ratio ? width : im->width * height / im->height;
        src_h = ratio >= src_ratio ? height : im->height * width / im->width;
    }
    if (src_w < 1) src_w = 1;
    if (src_h < 1) src_h = 1;
    t2i_image r;
    T2I_TRY(t2i_img_resize(im, src_w, src_h, NULL, &r));
    t2i_status st = new_image(out, width, height, im->channels);
    if (st == T2I_OK) t2i_img_paste(out, &r, width / 2 - src_w / 2, height / 2 - src_h / 2);
    if (st == T2I_OK && mode == 2) {
        if (ratio < src_ratio) {
            int fh = height / 2 - src_h / 2;
            if (fh > 0) {
                st = fill_band(out, &r, width, fh, (float[]){0, 0, (float)width, 0}, 0, 0);
                if (st == T2I_OK)
                    st = fill_band(out, &r, width, fh, (float[]){0, (float)r.height, (float)width, (float)r.height}, 0,
                                   fh + src_h);
            }
        } else if (ratio > src_ratio) {
            int fw = width / 2 - src_w / 2;
            if (fw > 0) {
                st = fill_band(out, &r, fw, height, (float[]){0, 0, 0, (float)height}, 0, 0);
                if (st == T2I_OK)
                    st = fill_band(out, &r, fw, height, (float[]){(float)r.width, 0, (float)r.width, (float)height},
                                   fw + src_w, 0);
            }
        }
    }
    t2i_image_clear(&r);
    if (st != T2I_OK) t2i_image_clear(out);
    return st;
}

static int reflect101(int i, int n)
{
    if (n == 1) return 0;
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
    return i;
}

t2i_status t2i_mask_blur(uint8_t *mask, int W, int H, int r)
{
    if (r <= 0) return T2I_OK;
    if (r > 1000) return t2i_fail(T2I_ERR_INVALID_ARG, "mask_blur %d outside 0..1000", r);
    const int ks = 2 * (int)(2.5 * r + 0.5) + 1, half = ks / 2;
    double *k = malloc(sizeof *k * ks), sum = 0;
    uint8_t *tmp = malloc((size_t)W * H);
    if (!k || !tmp) {
        free(k), free(tmp);
        return t2i_fail(T2I_ERR_NOMEM, "mask blur: out of memory");
    }
    for (int i = 0; i < ks; i++) sum += k[i] = exp(-(double)(i - half) * (i - half) / (2.0 * r * r));
    for (int i = 0; i < ks; i++) k[i] /= sum;
    for (int pass = 0; pass < 2; pass++) {
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                double v = 0;
                for (int i = 0; i < ks; i++) {
                    int sx = pass ? x : reflect101(x + i - half, W), sy = pass ? reflect101(y + i - half, H) : y;
                    v += k[i] * mask[(size_t)sy * W + sx];
                }
                int q = (int)lrint(v);
                tmp[(size_t)y * W + x] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
            }
        memcpy(mask, tmp, (size_t)W * H);
    }
    free(k), free(tmp);
    return T2I_OK;
}

int t2i_mask_crop_region(const uint8_t *mask, int W, int H, int pad, int box[4])
{
    int x1 = W, y1 = H, x2 = -1, y2 = -1;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            if (mask[(size_t)y * W + x]) {
                if (x < x1) x1 = x;
                if (x > x2) x2 = x;
                if (y < y1) y1 = y;
                if (y > y2) y2 = y;
            }
    if (x2 < 0) return 0;
    box[0] = x1 - pad > 0 ? x1 - pad : 0;
    box[1] = y1 - pad > 0 ? y1 - pad : 0;
    box[2] = x2 + 1 + pad < W ? x2 + 1 + pad : W;
    box[3] = y2 + 1 + pad < H ? y2 + 1 + pad : H;
    return 1;
}

static int floordiv2(int v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }

/* One axis of expand_crop_region: grow [a, b) by diff inside 0..size. */
static void grow(int *a, int *b, int diff, int size)
{
    *a -= floordiv2(diff);
    *b += diff - floordiv2(diff);
    if (*b >= size) {
        int d = *b - size;
        *b -= d;
        *a -= d;
    }
    if (*a < 0) {
        *b -= *a;
        *a = 0;
    }
    if (*b >= size) *b = size;
}

void t2i_expand_crop_region(int box[4], int pw, int ph, int iw, int ih)
{
    double ratio_crop = (double)(box[2] - box[0]) / (box[3] - box[1]), ratio_proc = (double)pw / ph;
    if (ratio_crop > ratio_proc) {
        double desired = (box[2] - box[0]) / ratio_proc;
        grow(&box[1], &box[3], (int)(desired - (box[3] - box[1])), ih);
    } else {
        double desired = (box[3] - box[1]) * ratio_proc;
        grow(&box[0], &box[2], (int)(desired - (box[2] - box[0])), iw);
    }
}
