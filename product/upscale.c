/*
 * upscale.c — the public upscaler API (t2i.h): 8-bit images in and out of
 * the RRDBNet runner (runtime/upscaler.h), and the final resize to a scale
 * other than the model's.
 *
 * Pixels go in as x/255 and come back as round(clamp(y,0,1)·255), as
 * Real-ESRGAN's inference script converts them. A model with a bicubic
 * residual (the embedded one) gets Pillow's bicubic upscale of the input
 * added to its output before the clamp. A target smaller than the
 * model's output is reached with Pillow's Lanczos resize (A1111 does the
 * same after its upscaler pass).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "base/error.h"
#include "product/image_resize.h"
#include "runtime/upscaler.h"

struct t2i_upscaler { t2i_rrdb *net; };

t2i_status t2i_upscaler_load(t2i_engine *e, const char *path, t2i_upscaler **out)
{
    *out = NULL;
    if (!e || !path) return t2i_fail(T2I_ERR_INVALID_ARG, "t2i_upscaler_load: no engine or path");
    struct stat sb;
    char *file = NULL;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        size_t n = strlen(path) + sizeof "/model.safetensors";
        if (!(file = malloc(n))) return t2i_fail(T2I_ERR_NOMEM, "out of memory");
        snprintf(file, n, "%s/model.safetensors", path);
    }
    t2i_upscaler *u = calloc(1, sizeof *u);
    t2i_status st = u ? t2i_rrdb_load(e, file ? file : path, &u->net) : t2i_fail(T2I_ERR_NOMEM, "out of memory");
    free(file);
    if (st != T2I_OK) {
        free(u);
        return st;
    }
    *out = u;
    return T2I_OK;
}

void t2i_upscaler_free(t2i_upscaler *u)
{
    if (!u) return;
    t2i_rrdb_destroy(u->net);
    free(u);
}

int t2i_upscaler_scale(const t2i_upscaler *u) { return t2i_rrdb_config(u->net)->scale; }

void t2i_upscale_params_init(t2i_upscale_params *p)
{
    memset(p, 0, sizeof *p);
    p->tile_pad = 10;
}

t2i_status t2i_upscale_image(t2i_upscaler *u, const t2i_image *in, const t2i_upscale_params *p, t2i_image *out)
{
    memset(out, 0, sizeof *out);
    t2i_upscale_params def;
    if (!p) {
        t2i_upscale_params_init(&def);
        p = &def;
    }
    if (!u || !in || !in->pixels || in->width < 1 || in->height < 1 || (in->channels != 3 && in->channels != 4))
        return t2i_fail(T2I_ERR_INVALID_ARG, "t2i_upscale_image: no upscaler, or not an RGB/RGBA image");
    int s = t2i_upscaler_scale(u), w = in->width, h = in->height, C = in->channels;
    float scale = p->scale == 0 ? (float)s : p->scale;
    if (!(scale >= 1.0f && scale <= (float)s))
        return t2i_fail(T2I_ERR_INVALID_ARG, "upscale: scale %g not supported by a x%d model (1 to %d)",
                        (double)scale, s, s);
    int tw = (int)lroundf(w * scale), th = (int)lroundf(h * scale);
    int limit = p->max_side > 0 && p->max_side < 16384 ? p->max_side : 16384;
    if (tw > limit || th > limit)
        return t2i_fail(T2I_ERR_INVALID_ARG, "upscale: target %dx%d is beyond the largest side allowed (%d)", tw, th,
                        limit);
    /* a x2 model needs even sizes: pad the input by replicating its last row / column */
    int pw = s == 2 ? (w + 1) & ~1 : w, ph = s == 2 ? (h + 1) & ~1 : h;
    int tile = p->tile, pad = p->tile_pad;
    if (tile < 0 || pad < 0)
        return t2i_fail(T2I_ERR_INVALID_ARG, "upscale: tile %d, tile pad %d (both must be >= 0)", tile, pad);
    if (s == 2) {
        tile = (tile + 1) & ~1;
        pad = (pad + 1) & ~1;
    }
    size_t n_in = (size_t)3 * pw * ph, n_out = n_in * s * s;
    float *x = malloc(n_in * sizeof *x), *y = malloc(n_out * sizeof *y);
    uint8_t *big = malloc(n_out), *fin = NULL;
    float *base = NULL;
    t2i_status st = T2I_OK;
    if (!x || !y || !big) {
        st = t2i_fail(T2I_ERR_NOMEM, "upscale: out of memory for %dx%d", pw * s, ph * s);
        goto done;
    }
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < ph; i++)
            for (int j = 0; j < pw; j++) {
                int si = i < h ? i : h - 1, sj = j < w ? j : w - 1;
                x[((size_t)c * ph + i) * pw + j] = in->pixels[((size_t)si * w + sj) * C + c] / 255.0f;
            }
    if (t2i_rrdb_residual_bicubic(u->net)) {   /* base = Pillow's bicubic of the (padded) input */
        uint8_t *src = malloc(n_in), *bic = malloc(n_out);
        base = malloc(n_out * sizeof *base);
        if (!src || !bic || !base) st = t2i_fail(T2I_ERR_NOMEM, "upscale: out of memory");
        for (size_t i = 0; st == T2I_OK && i < (size_t)pw * ph; i++)
            for (int c = 0; c < 3; c++) src[i * 3 + c] = (uint8_t)lrintf(x[(size_t)c * pw * ph + i] * 255.0f);
        if (st == T2I_OK) st = t2i_image_resize(src, pw, ph, 3, bic, pw * s, ph * s, T2I_RESAMPLE_BICUBIC);
        for (size_t i = 0; st == T2I_OK && i < (size_t)pw * s * ph * s; i++)
            for (int c = 0; c < 3; c++) base[(size_t)c * pw * s * ph * s + i] = bic[i * 3 + c] / 255.0f;
        free(src);
        free(bic);
        if (st != T2I_OK) goto done;
    }
    st = t2i_rrdb_run(u->net, x, ph, pw, tile, pad, base, y);
    if (st != T2I_OK) goto done;
    int W = pw * s, H = ph * s, ow = w * s, oh = h * s;   /* the padding's output is dropped */
    for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
            for (int c = 0; c < 3; c++)
                big[((size_t)i * ow + j) * 3 + c] = (uint8_t)lrintf(y[((size_t)c * H + i) * W + j] * 255.0f);
    if (tw != ow || th != oh) {
        if (!(fin = malloc((size_t)tw * th * 3))) {
            st = t2i_fail(T2I_ERR_NOMEM, "upscale: out of memory for %dx%d", tw, th);
            goto done;
        }
        st = t2i_image_resize(big, ow, oh, 3, fin, tw, th, T2I_RESAMPLE_LANCZOS);
        if (st != T2I_OK) goto done;
        free(big);
        big = fin;
        fin = NULL;
    }
    if (in->infotext && !(out->infotext = strdup(in->infotext))) {
        st = t2i_fail(T2I_ERR_NOMEM, "out of memory");
        goto done;
    }
    out->width = tw;
    out->height = th;
    out->channels = 3;
    out->seed = in->seed;
    out->pixels = big;
    big = NULL;
done:
    free(base);
    free(x);
    free(y);
    free(big);
    free(fin);
    return st;
}
