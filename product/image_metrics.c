/*
 * image_metrics.c — cheap no-reference measures of an RGB image and a
 * perceptual hash, computed on every image the engine judges.
 *
 * Grey level: Pillow's convert("L"), Y = (19595·R + 38470·G + 7471·B +
 * 2^15) >> 16 (ITU-R 601 weights 0.299/0.587/0.114 in 16-bit fixed point).
 *
 *   sharpness      variance of the 4-neighbour Laplacian
 *                  (Y[x−1]+Y[x+1]+Y[y−1]+Y[y+1] − 4·Y) over the pixels that
 *                  have all four neighbours; 0 for a flat image, up to
 *                  1020² for a 1-pixel checkerboard; blurry photos score
 *                  below about 100
 *   colourfulness  Hasler & Süsstrunk (2003): rg = R − G,
 *                  yb = (R + G)/2 − B, M = √(σ_rg² + σ_yb²) +
 *                  0.3·√(μ_rg² + μ_yb²); 0 for grey images, about 33
 *                  "moderately", 59 "quite", 82 "highly" and 109
 *                  "extremely" colourful in their scale
 *   exposure       mean Y / 255, in [0, 1] (0.5 = mid-grey on average)
 *   contrast       RMS contrast, standard deviation of Y / 255, in [0, 0.5]
 *   dHash          64 bits: Y resized to 9×8 with Lanczos (the resampler
 *                  of product/image_resize.c), bit 8·y + x set when
 *                  pixel (x+1, y) is brighter than (x, y); near-duplicates
 *                  differ in few bits (t2i_hash_distance)
 *
 * Sums are accumulated in double; no allocation but the grey plane.
 */
#include <math.h>
#include <stdlib.h>
#include "base/error.h"
#include "product/image_resize.h"

static t2i_status grey_plane(const t2i_image *img, uint8_t **out)
{
    if (!img || !img->pixels || img->channels != 3 || img->width < 1 || img->height < 1)
        return t2i_fail(T2I_ERR_INVALID_ARG, "image measures: an RGB image is required");
    const size_t n = (size_t)img->width * img->height;
    uint8_t *y = malloc(n);
    if (!y) return t2i_fail(T2I_ERR_NOMEM, "image measures: out of memory");
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = img->pixels + 3 * i;
        y[i] = (uint8_t)((19595u * p[0] + 38470u * p[1] + 7471u * p[2] + 0x8000u) >> 16);
    }
    *out = y;
    return T2I_OK;
}

static double variance(double sum, double sq, double n)
{
    double m = sum / n, v = sq / n - m * m;
    return v > 0 ? v : 0;
}

t2i_status t2i_image_quality_measure(const t2i_image *img, t2i_image_quality *q)
{
    uint8_t *y = NULL;
    T2I_TRY(grey_plane(img, &y));
    const int W = img->width, H = img->height;
    const double n = (double)W * H;
    double ys = 0, yq = 0, rg = 0, rg2 = 0, yb = 0, yb2 = 0;
    for (size_t i = 0; i < (size_t)W * H; i++) {
        const uint8_t *p = img->pixels + 3 * i;
        const double a = (double)p[0] - p[1], b = 0.5 * ((double)p[0] + p[1]) - p[2];
        rg += a, rg2 += a * a, yb += b, yb2 += b * b;
        ys += y[i], yq += (double)y[i] * y[i];
    }
    double ls = 0, lq = 0, ln = 0;
    for (int r = 1; r + 1 < H; r++)
        for (int c = 1; c + 1 < W; c++) {
            const uint8_t *p = y + (size_t)r * W + c;
            const double l = (double)p[-1] + p[1] + p[-W] + p[W] - 4.0 * p[0];
            ls += l, lq += l * l, ln += 1;
        }
    free(y);
    q->sharpness = ln > 0 ? (float)variance(ls, lq, ln) : 0.0f;
    q->colourfulness = (float)(sqrt(variance(rg, rg2, n) + variance(yb, yb2, n)) +
                               0.3 * sqrt((rg / n) * (rg / n) + (yb / n) * (yb / n)));
    q->exposure = (float)(ys / n / 255.0);
    q->contrast = (float)(sqrt(variance(ys, yq, n)) / 255.0);
    return T2I_OK;
}

t2i_status t2i_image_dhash(const t2i_image *img, uint64_t *hash)
{
    uint8_t *y = NULL, small[9 * 8];
    T2I_TRY(grey_plane(img, &y));
    t2i_status st = t2i_image_resize(y, img->width, img->height, 1, small, 9, 8, T2I_RESAMPLE_LANCZOS);
    free(y);
    if (st != T2I_OK) return st;
    uint64_t h = 0;
    for (int r = 0; r < 8; r++)
        for (int c = 0; c < 8; c++)
            if (small[r * 9 + c + 1] > small[r * 9 + c]) h |= (uint64_t)1 << (8 * r + c);
    *hash = h;
    return T2I_OK;
}

int t2i_hash_distance(uint64_t a, uint64_t b)
{
    return __builtin_popcountll(a ^ b);
}
