/*
 * latent_resize.c — torch.nn.functional.interpolate (align_corners=False,
 * size given) on float32 planes, for the latent modes of hires fix
 * (latent_resize.h). Each family follows the index and weight arithmetic of
 * ATen's CPU kernels in float, as torch does for float32 tensors:
 *
 *   scale = in / out                                  (area_pixel_compute_scale)
 *   nearest        src = min(floor(dst·scale), in-1)
 *   nearest-exact  src = min(floor((dst+0.5)·scale), in-1)
 *   bilinear       x = max(scale·(dst+0.5) - 0.5, 0); x0 = ⌊x⌋, x1 = min(x0+1, in-1)
 *   bicubic        x = scale·(dst+0.5) - 0.5; taps ⌊x⌋-1..⌊x⌋+2 clamped to the
 *                  border, Keys' cubic with A = -0.75
 *   antialias      per output i: centre c = scale·(i+0.5), support
 *                  s = (taps/2)·max(scale, 1), inputs j in
 *                  [trunc(c-s+0.5), trunc(c+s+0.5)) ∩ [0, in), weight
 *                  f((j-c+0.5)/max(scale,1)) normalised to sum 1; f the
 *                  triangle (bilinear) or the cubic with a = -0.5 (bicubic);
 *                  the width pass first, then the height pass.
 */
#include "runtime/latent_resize.h"

#include <math.h>
#include <stdlib.h>
#include "base/error.h"

static t2i_status check_sizes(const char *what, const float *src, int planes, int h, int w, const float *dst,
                              int oh, int ow)
{
    if (!src || !dst || planes <= 0 || h <= 0 || w <= 0 || oh <= 0 || ow <= 0 || oh > 65536 || ow > 65536 ||
        h > 65536 || w > 65536)
        return t2i_fail(T2I_ERR_INVALID_ARG, "%s: bad sizes (%d planes, %dx%d -> %dx%d)", what, planes, h, w, oh, ow);
    return T2I_OK;
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

t2i_status t2i_resize_nearest(const float *src, int planes, int h, int w, float *dst, int oh, int ow, int exact)
{
    T2I_TRY(check_sizes("resize nearest", src, planes, h, w, dst, oh, ow));
    int *xs = malloc((size_t)ow * sizeof *xs), *ys = malloc((size_t)oh * sizeof *ys);
    if (!xs || !ys) {
        free(xs);
        free(ys);
        return t2i_fail(T2I_ERR_NOMEM, "resize nearest: out of memory");
    }
    float sx = (float)w / (float)ow, sy = (float)h / (float)oh, off = exact ? 0.5f : 0.0f;
    for (int x = 0; x < ow; x++) xs[x] = clampi((int)floorf(((float)x + off) * sx), 0, w - 1);
    for (int y = 0; y < oh; y++) ys[y] = clampi((int)floorf(((float)y + off) * sy), 0, h - 1);
    for (int p = 0; p < planes; p++) {
        const float *in = src + (size_t)p * h * w;
        float *out = dst + (size_t)p * oh * ow;
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) out[(size_t)y * ow + x] = in[(size_t)ys[y] * w + xs[x]];
    }
    free(xs);
    free(ys);
    return T2I_OK;
}

/* Keys' cubic convolution (ATen cubic_convolution1/2), A = -0.75. */
static float cubic1(float x, float a)
{
    return ((a + 2.0f) * x - (a + 3.0f)) * x * x + 1.0f;
}

static float cubic2(float x, float a)
{
    return ((a * x - 5.0f * a) * x + 8.0f * a) * x - 4.0f * a;
}

/* One axis of the non-antialiased kernels: for each output the first tap and
 * its weights (2 or 4), taps given as clamped input indices. */
typedef struct taps4 { int idx[4]; float wt[4]; } taps4;

static void axis_taps(taps4 *t, int in, int out, int cubic)
{
    float scale = (float)in / (float)out;
    for (int o = 0; o < out; o++) {
        float real = scale * ((float)o + 0.5f) - 0.5f;
        if (!cubic) {
            if (real < 0.0f) real = 0.0f;
            int i0 = (int)real;
            float l1 = real - (float)i0;
            t[o].idx[0] = i0;
            t[o].idx[1] = i0 + (i0 < in - 1 ? 1 : 0);
            t[o].wt[0] = 1.0f - l1;
            t[o].wt[1] = l1;
        } else {
            int i0 = (int)floorf(real);
            float f = real - (float)i0;
            t[o].wt[0] = cubic2(f + 1.0f, -0.75f);
            t[o].wt[1] = cubic1(f, -0.75f);
            t[o].wt[2] = cubic1(1.0f - f, -0.75f);
            t[o].wt[3] = cubic2(2.0f - f, -0.75f);
            for (int k = 0; k < 4; k++) t[o].idx[k] = clampi(i0 - 1 + k, 0, in - 1);
        }
    }
}

t2i_status t2i_resize_interp(const float *src, int planes, int h, int w, float *dst, int oh, int ow, int cubic)
{
    T2I_TRY(check_sizes(cubic ? "resize bicubic" : "resize bilinear", src, planes, h, w, dst, oh, ow));
    taps4 *tx = malloc((size_t)ow * sizeof *tx), *ty = malloc((size_t)oh * sizeof *ty);
    if (!tx || !ty) {
        free(tx);
        free(ty);
        return t2i_fail(T2I_ERR_NOMEM, "resize: out of memory");
    }
    axis_taps(tx, w, ow, cubic);
    axis_taps(ty, h, oh, cubic);
    int n = cubic ? 4 : 2;
    for (int p = 0; p < planes; p++) {
        const float *in = src + (size_t)p * h * w;
        float *out = dst + (size_t)p * oh * ow;
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                float acc = 0.0f;
                for (int j = 0; j < n; j++) {
                    const float *row = in + (size_t)ty[y].idx[j] * w;
                    float r = 0.0f;
                    for (int i = 0; i < n; i++) r += tx[x].wt[i] * row[tx[x].idx[i]];
                    acc += ty[y].wt[j] * r;
                }
                out[(size_t)y * ow + x] = acc;
            }
    }
    free(tx);
    free(ty);
    return T2I_OK;
}

static float aa_filter(float x, int cubic)
{
    if (x < 0.0f) x = -x;
    if (!cubic) return x < 1.0f ? 1.0f - x : 0.0f;
    const float a = -0.5f;
    if (x < 1.0f) return ((a + 2.0f) * x - (a + 3.0f)) * x * x + 1.0f;
    if (x < 2.0f) return (((x - 5.0f) * x + 8.0f) * x - 4.0f) * a;
    return 0.0f;
}

/* The antialiased weights of one axis: for output o, inputs first[o] ..
 * first[o]+count[o]-1 with weights wt[o*span ..]. */
typedef struct aa_axis { int span; int *first, *count; float *wt; } aa_axis;

static void aa_axis_free(aa_axis *a)
{
    free(a->first);
    free(a->count);
    free(a->wt);
}

static t2i_status aa_axis_make(aa_axis *a, int in, int out, int cubic)
{
    float scale = (float)in / (float)out;
    float support = (cubic ? 2.0f : 1.0f) * (scale >= 1.0f ? scale : 1.0f);
    float invscale = scale >= 1.0f ? 1.0f / scale : 1.0f;
    a->span = (int)ceilf(support) * 2 + 1;
    a->first = malloc((size_t)out * sizeof *a->first);
    a->count = malloc((size_t)out * sizeof *a->count);
    a->wt = malloc((size_t)out * a->span * sizeof *a->wt);
    if (!a->first || !a->count || !a->wt)   /* the caller frees what was allocated */
        return t2i_fail(T2I_ERR_NOMEM, "resize antialias: out of memory");
    for (int o = 0; o < out; o++) {
        float center = scale * ((float)o + 0.5f);
        long lo = (long)(center - support + 0.5f), hi = (long)(center + support + 0.5f);
        if (lo < 0) lo = 0;
        if (hi > in) hi = in;
        int cnt = (int)(hi - lo);
        if (cnt > a->span) cnt = a->span;
        float *wt = a->wt + (size_t)o * a->span, total = 0.0f;
        for (int j = 0; j < cnt; j++) {
            wt[j] = aa_filter(((float)j + (float)lo - center + 0.5f) * invscale, cubic);
            total += wt[j];
        }
        if (total != 0.0f)
            for (int j = 0; j < cnt; j++) wt[j] /= total;
        a->first[o] = (int)lo;
        a->count[o] = cnt;
    }
    return T2I_OK;
}

t2i_status t2i_resize_aa(const float *src, int planes, int h, int w, float *dst, int oh, int ow, int cubic)
{
    T2I_TRY(check_sizes("resize antialias", src, planes, h, w, dst, oh, ow));
    aa_axis ax = {0}, ay = {0};
    float *tmp = malloc((size_t)h * ow * sizeof *tmp);
    t2i_status st = tmp ? T2I_OK : t2i_fail(T2I_ERR_NOMEM, "resize antialias: out of memory");
    if (st == T2I_OK) st = aa_axis_make(&ax, w, ow, cubic);
    if (st == T2I_OK) st = aa_axis_make(&ay, h, oh, cubic);
    for (int p = 0; st == T2I_OK && p < planes; p++) {
        const float *in = src + (size_t)p * h * w;
        float *out = dst + (size_t)p * oh * ow;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < ow; x++) {
                const float *wt = ax.wt + (size_t)x * ax.span, *row = in + (size_t)y * w + ax.first[x];
                float acc = 0.0f;
                for (int j = 0; j < ax.count[x]; j++) acc += wt[j] * row[j];
                tmp[(size_t)y * ow + x] = acc;
            }
        for (int y = 0; y < oh; y++) {
            const float *wt = ay.wt + (size_t)y * ay.span;
            for (int x = 0; x < ow; x++) {
                float acc = 0.0f;
                for (int j = 0; j < ay.count[y]; j++) acc += wt[j] * tmp[(size_t)(ay.first[y] + j) * ow + x];
                out[(size_t)y * ow + x] = acc;
            }
        }
    }
    aa_axis_free(&ax);
    aa_axis_free(&ay);
    free(tmp);
    return st;
}
