/*
 * image_ops.c — resampling, pasting, mask blur and crop boxes for the editing
 * modes (see image_ops.h for what each reproduces).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/error.h"
#include "product/image_ops.h"

#define PRECISION_BITS (32 - 8 - 2)

static double sinc(double x)
{
    if (x == 0.0) return 1.0;
    x *= M_PI;
    return sin(x) / x;
}
static double lanczos(double x) { return -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0; }

/* Pillow's bicubic_filter (a = -0.5), support 2: Image.resize's default. */
static double bicubic(double x)
{
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

typedef struct filter {
    double (*fn)(double);
    double support;
} filter;
static const filter LANCZOS = {lanczos, 3.0}, BICUBIC = {bicubic, 2.0};

/* Pillow's precompute_coeffs + normalize_coeffs_8bpc: per output pixel the
 * first source index and count (bounds) and ksize fixed-point weights. */
static int coeffs(const filter *f, int in_size, float in0, float in1, int out_size, int **bounds_out,
                  int32_t **kk_out)
{
    double scale = (double)(in1 - in0) / out_size, filterscale = scale < 1.0 ? 1.0 : scale;
    double support = f->support * filterscale;
    int ksize = (int)ceil(support) * 2 + 1;
    double *k = malloc(sizeof *k * ksize);
    int32_t *kk = malloc(sizeof *kk * (size_t)out_size * ksize);
    int *bounds = malloc(sizeof *bounds * 2 * (size_t)out_size);
    if (!k || !kk || !bounds) {
        free(k), free(kk), free(bounds);
        return 0;
    }
    for (int xx = 0; xx < out_size; xx++) {
        double center = in0 + (xx + 0.5) * scale, ww = 0.0, ss = 1.0 / filterscale;
        int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
        if (xmin < 0) xmin = 0;
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        int x;
        for (x = 0; x < xmax; x++) {
            double w = f->fn((x + xmin - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        for (x = 0; x < xmax; x++)
            if (ww != 0.0) k[x] /= ww;
        for (; x < ksize; x++) k[x] = 0;
        for (x = 0; x < ksize; x++)
            kk[(size_t)xx * ksize + x] = k[x] < 0 ? (int32_t)(-0.5 + k[x] * (1 << PRECISION_BITS))
                                                   : (int32_t)(0.5 + k[x] * (1 << PRECISION_BITS));
        bounds[xx * 2] = xmin;
        bounds[xx * 2 + 1] = xmax;
    }
    free(k);
    *bounds_out = bounds;
    *kk_out = kk;
    return ksize;
}

static uint8_t clip8(int32_t v)
{
    if (v >= (1 << PRECISION_BITS << 8)) return 255;
    if (v <= 0) return 0;
    return (uint8_t)(v >> PRECISION_BITS);
}

static t2i_status resize_with(const filter *f, const t2i_image *in, int w, int h, const float *box, t2i_image *out)
{
    memset(out, 0, sizeof *out);
    const int C = in->channels, IW = in->width, IH = in->height;
    if (w < 1 || h < 1 || w > 16384 || h > 16384 || C < 1 || C > 4)
        return t2i_fail(T2I_ERR_INVALID_ARG, "resize: size %dx%d or %d channels out of range", w, h, C);
    float b[4] = {0, 0, (float)IW, (float)IH};
    if (box) memcpy(b, box, sizeof b);
    if (b[0] < 0 || b[1] < 0 || b[2] > IW || b[3] > IH || b[2] < b[0] || b[3] < b[1])
        return t2i_fail(T2I_ERR_INVALID_ARG, "resize: box outside the %dx%d image", IW, IH);
    out->pixels = malloc((size_t)w * h * C);
    if (!out->pixels) return t2i_fail(T2I_ERR_NOMEM, "resize: out of memory");
    out->width = w, out->height = h, out->channels = C;
    int need_h = w != IW || b[0] != 0 || b[2] != w, need_v = h != IH || b[1] != 0 || b[3] != h;
    if (!need_h && !need_v) {
        memcpy(out->pixels, in->pixels, (size_t)w * h * C);
        return T2I_OK;
    }
    int *bh = NULL, *bv = NULL;
    int32_t *kh = NULL, *kv = NULL;
    uint8_t *tmp = NULL;
    int ksh = coeffs(f, IW, b[0], b[2], w, &bh, &kh), ksv = coeffs(f, IH, b[1], b[3], h, &bv, &kv);
    t2i_status st = T2I_OK;
    if (!ksh || !ksv) {
        st = t2i_fail(T2I_ERR_NOMEM, "resize: out of memory");
        goto done;
    }
    const uint8_t *src = in->pixels;
    int src_w = IW;
    if (need_h) {
        int first = bv[0], last = bv[h * 2 - 2] + bv[h * 2 - 1], rows = last - first;
        for (int i = 0; i < h; i++) bv[i * 2] -= first;
        tmp = malloc((size_t)w * (rows > 0 ? rows : 1) * C);
        if (!tmp) {
            st = t2i_fail(T2I_ERR_NOMEM, "resize: out of memory");
            goto done;
        }
        for (int y = 0; y < rows; y++) {
            const uint8_t *row = in->pixels + (size_t)(y + first) * IW * C;
            for (int xx = 0; xx < w; xx++) {
                const int xmin = bh[xx * 2], xmax = bh[xx * 2 + 1];
                const int32_t *k = kh + (size_t)xx * ksh;
                for (int c = 0; c < C; c++) {
                    int32_t ss = 1 << (PRECISION_BITS - 1);
                    for (int x = 0; x < xmax; x++) ss += row[(size_t)(x + xmin) * C + c] * k[x];
                    tmp[((size_t)y * w + xx) * C + c] = clip8(ss);
                }
            }
        }
        src = tmp;
        src_w = w;
        if (!need_v) {
            memcpy(out->pixels, tmp, (size_t)w * h * C);
            goto done;
        }
    }
    for (int yy = 0; yy < h; yy++) {
        const int ymin = bv[yy * 2], ymax = bv[yy * 2 + 1];
        const int32_t *k = kv + (size_t)yy * ksv;
        for (int xx = 0; xx < w; xx++)
            for (int c = 0; c < C; c++) {
                int32_t ss = 1 << (PRECISION_BITS - 1);
                for (int y = 0; y < ymax; y++) ss += src[((size_t)(y + ymin) * src_w + xx) * C + c] * k[y];
                out->pixels[((size_t)yy * w + xx) * C + c] = clip8(ss);
            }
    }
done:
    free(bh), free(bv), free(kh), free(kv), free(tmp);
    if (st != T2I_OK) t2i_image_clear(out);
    return st;
}

t2i_status t2i_img_resize(const t2i_image *in, int w, int h, const float *box, t2i_image *out)
{
    return resize_with(&LANCZOS, in, w, h, box, out);
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
    T2I_TRY(resize_with(&BICUBIC, r, fw, fh, box, &band));
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
