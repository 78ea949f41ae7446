/*
 * image_resize.c — Pillow-equal resampling (see image_resize.h).
 *
 * For each output coordinate xx along an axis of scale s = in/out:
 *   centre = (xx + 0.5)·s, support = filter_support · max(s, 1)
 *   taps x in [round(centre − support), round(centre + support)) ∩ [0, in)
 *   w(x) = filter((x − centre + 0.5) / max(s, 1)), normalised to sum 1,
 *   then to fixed point: round-away(w · 2^22)
 *   out = clip8((2^21 + Σ src·w) >> 22)
 * Two passes, each rounded to 8 bits; Pillow 13's order: vertical first
 * when the height shrinks by more than twice what the width does, else
 * horizontal first over only the rows the vertical pass reads. An axis
 * whose size does not change is not resampled.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "base/error.h"
#include "product/image_resize.h"

#define PREC 22   /* Pillow's PRECISION_BITS: 32 − 8 − 2 */

static double bicubic(double x)
{
    const double a = -0.5;
    x = fabs(x);
    if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
    return 0;
}

static double bilinear(double x)
{
    x = fabs(x);
    return x < 1 ? 1 - x : 0;
}

static double sinc(double x)
{
    if (x == 0) return 1;
    x *= M_PI;
    return sin(x) / x;
}

static double lanczos(double x)
{
    return (x >= -3 && x < 3) ? sinc(x) * sinc(x / 3) : 0;
}

typedef struct taps {
    int ksize;
    int *first, *count;   /* per output coordinate */
    int32_t *k;           /* [out][ksize] fixed-point weights */
} taps;

static void taps_free(taps *t)
{
    free(t->first);
    free(t->count);
    free(t->k);
}

static t2i_status taps_make(int in, double in0, double in1, int out, double (*f)(double), double support, taps *t)
{
    memset(t, 0, sizeof *t);
    const double scale = (in1 - in0) / out, fs = scale < 1 ? 1 : scale, sup = support * fs;
    t->ksize = (int)ceil(sup) * 2 + 1;
    t->first = malloc((size_t)out * sizeof *t->first);
    t->count = malloc((size_t)out * sizeof *t->count);
    t->k = calloc((size_t)out * t->ksize, sizeof *t->k);
    double *w = malloc((size_t)t->ksize * sizeof *w);
    if (!t->first || !t->count || !t->k || !w) {
        free(w);
        taps_free(t);
        return t2i_fail(T2I_ERR_NOMEM, "resize: out of memory");
    }
    for (int xx = 0; xx < out; xx++) {
        const double centre = in0 + (xx + 0.5) * scale;
        int lo = (int)(centre - sup + 0.5), hi = (int)(centre + sup + 0.5);
        if (lo < 0) lo = 0;
        if (hi > in) hi = in;
        double sum = 0;
        for (int x = 0; x < hi - lo; x++) sum += w[x] = f((x + lo - centre + 0.5) / fs);
        for (int x = 0; x < hi - lo; x++) {
            double v = sum != 0 ? w[x] / sum : w[x];
            t->k[(size_t)xx * t->ksize + x] = (int32_t)(v < 0 ? -0.5 + v * (1 << PREC) : 0.5 + v * (1 << PREC));
        }
        t->first[xx] = lo;
        t->count[xx] = hi - lo;
    }
    free(w);
    return T2I_OK;
}

static inline uint8_t clip8(int32_t acc)
{
    int v = acc >> PREC;   /* arithmetic shift: floor, as Pillow's lookup table */
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* dst[y][xx] = Σ src[y + row0][first + x] · k, for rows [0, rows). */
static void pass_h(const uint8_t *src, int sw, int row0, int rows, int C, const taps *t, uint8_t *dst, int dw)
{
    for (int y = 0; y < rows; y++) {
        const uint8_t *s = src + (size_t)(y + row0) * sw * C;
        for (int xx = 0; xx < dw; xx++) {
            const int32_t *k = t->k + (size_t)xx * t->ksize;
            const uint8_t *p = s + (size_t)t->first[xx] * C;
            for (int c = 0; c < C; c++) {
                int32_t acc = 1 << (PREC - 1);
                for (int x = 0; x < t->count[xx]; x++) acc += p[x * C + c] * k[x];
                dst[((size_t)y * dw + xx) * C + c] = clip8(acc);
            }
        }
    }
}

/* dst[yy][x] = Σ src[first − row0 + y][x] · k. */
static void pass_v(const uint8_t *src, int w, int row0, int C, const taps *t, uint8_t *dst, int dh)
{
    const size_t stride = (size_t)w * C;
    for (int yy = 0; yy < dh; yy++) {
        const int32_t *k = t->k + (size_t)yy * t->ksize;
        const uint8_t *s = src + (size_t)(t->first[yy] - row0) * stride;
        for (size_t i = 0; i < stride; i++) {
            int32_t acc = 1 << (PREC - 1);
            for (int y = 0; y < t->count[yy]; y++) acc += s[(size_t)y * stride + i] * k[y];
            dst[(size_t)yy * stride + i] = clip8(acc);
        }
    }
}

t2i_status t2i_image_resize(const uint8_t *src, int sw, int sh, int C, uint8_t *dst, int dw, int dh,
                            t2i_resample filter)
{
    return t2i_image_resize_box(src, sw, sh, C, dst, dw, dh, filter, NULL);
}

t2i_status t2i_image_resize_box(const uint8_t *src, int sw, int sh, int C, uint8_t *dst, int dw, int dh,
                                t2i_resample filter, const float box[4])
{
    if (sw < 1 || sh < 1 || dw < 1 || dh < 1 || sw > 65536 || sh > 65536 || dw > 65536 || dh > 65536)
        return t2i_fail(T2I_ERR_INVALID_ARG, "resize: %dx%d -> %dx%d outside 1..65536", sw, sh, dw, dh);
    if (C < 1 || C > 4) return t2i_fail(T2I_ERR_INVALID_ARG, "resize: %d channels outside 1..4", C);
    const float b[4] = {box ? box[0] : 0, box ? box[1] : 0, box ? box[2] : (float)sw, box ? box[3] : (float)sh};
    if (b[0] < 0 || b[1] < 0 || b[2] > sw || b[3] > sh || b[2] < b[0] || b[3] < b[1])
        return t2i_fail(T2I_ERR_INVALID_ARG, "resize: box outside the %dx%d image", sw, sh);
    double (*f)(double);
    double support;
    switch (filter) {
    case T2I_RESAMPLE_BICUBIC: f = bicubic, support = 2; break;
    case T2I_RESAMPLE_BILINEAR: f = bilinear, support = 1; break;
    case T2I_RESAMPLE_LANCZOS: f = lanczos, support = 3; break;
    default: return t2i_fail(T2I_ERR_INVALID_ARG, "resize: filter %d is not supported", (int)filter);
    }
    /* Pillow resamples an axis when its size changes or the box does not
     * cover it exactly. */
    const int need_h = dw != sw || b[0] != 0 || b[2] != dw, need_v = dh != sh || b[1] != 0 || b[3] != dh;
    if (!need_h && !need_v) {
        memcpy(dst, src, (size_t)sw * sh * C);
        return T2I_OK;
    }
    /* Pillow 13: the vertical pass first when the height shrinks by more
     * than twice what the width does (Pillow <= 12: always horizontal
     * first; the two orders round differently). */
    const bool v_first = sh - dh > 0 && sh - dh > 2 * (sw - dw);
    taps tv, th;
    T2I_TRY(taps_make(sh, b[1], b[3], dh, f, support, &tv));
    t2i_status st = need_h ? taps_make(sw, b[0], b[2], dw, f, support, &th) : T2I_OK;
    if (st != T2I_OK) {
        taps_free(&tv);
        return st;
    }
    uint8_t *tmp = NULL;
    if (!need_h) {   /* dw == sw */
        pass_v(src, sw, 0, C, &tv, dst, dh);
    } else if (!need_v) {   /* dh == sh */
        pass_h(src, sw, 0, sh, C, &th, dst, dw);
    } else if (v_first) {   /* sw × dh intermediate */
        if ((tmp = malloc((size_t)sw * dh * C)) != NULL) {
            pass_v(src, sw, 0, C, &tv, tmp, dh);
            pass_h(tmp, sw, 0, dh, C, &th, dst, dw);
        }
    } else {   /* dw × (rows the vertical pass reads) intermediate */
        const int row0 = tv.first[0], row1 = tv.first[dh - 1] + tv.count[dh - 1];
        if ((tmp = malloc((size_t)(row1 - row0) * dw * C)) != NULL) {
            pass_h(src, sw, row0, row1 - row0, C, &th, tmp, dw);
            pass_v(tmp, dw, row0, C, &tv, dst, dh);
        }
    }
    if (need_h && need_v && !tmp) st = t2i_fail(T2I_ERR_NOMEM, "resize: out of memory");
    if (need_h) taps_free(&th);
    free(tmp);
    taps_free(&tv);
    return st;
}
