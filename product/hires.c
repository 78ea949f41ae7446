/*
 * hires.c — hires fix (t2i_txt2img_hires, t2i.h) as the A1111 web UI runs
 * it with a pixel-space upscaler (modules/processing.py
 * StableDiffusionProcessingTxt2Img.sample_hr_pass):
 *
 *   1. txt2img at the base size;
 *   2. per image: decode (done by txt2img), upscale with the upscaler (at
 *      most its own factor, then Lanczos to the exact target), or Lanczos
 *      alone;
 *   3. img2img at the target size from that image, with the second-pass
 *      steps, the denoising strength and hr_prompt; image i keeps seed i.
 *
 * The target is base × scale, or hr_resize_x/y, rounded down to the model's
 * size multiple (A1111 rounds to 8; models here need their own multiple).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/error.h"
#include "product/image_ops.h"

void t2i_hires_params_init(t2i_hires_params *h)
{
    memset(h, 0, sizeof *h);
    h->scale = 2.0f;
    h->denoising_strength = 0.7f;
}

/* The target size of hires fix for a base w×h (A1111 init: hr_resize_x/y
 * with one of them 0 keeps the aspect ratio). */
static void hires_target(const t2i_hires_params *h, int w, int hh, int mult, int *tw, int *th)
{
    if (h->resize_x > 0 && h->resize_y > 0) {
        *tw = h->resize_x;
        *th = h->resize_y;
    } else if (h->resize_x > 0) {
        *tw = h->resize_x;
        *th = (int)lround((double)h->resize_x * hh / w);
    } else if (h->resize_y > 0) {
        *th = h->resize_y;
        *tw = (int)lround((double)h->resize_y * w / hh);
    } else {
        *tw = (int)lround(w * (double)h->scale);
        *th = (int)lround(hh * (double)h->scale);
    }
    *tw -= *tw % mult;
    *th -= *th % mult;
}

/* "..., Hires upscale: 2, Hires steps: 10, Hires upscaler: X" after the infotext. */
static void add_infotext(t2i_image *img, const t2i_hires_params *h, int steps)
{
    if (!img->infotext) return;
    char extra[160];
    snprintf(extra, sizeof extra, ", Hires upscale: %g, Hires steps: %d, Hires upscaler: %s", (double)h->scale, steps,
             h->upscaler ? "ESRGAN" : "Lanczos");
    size_t n = strlen(img->infotext);
    char *t = realloc(img->infotext, n + strlen(extra) + 1);
    if (!t) return;   /* the infotext stays without the hires keys */
    memcpy(t + n, extra, strlen(extra) + 1);
    img->infotext = t;
}

t2i_status t2i_txt2img_hires(t2i_model *m, const t2i_txt2img_params *p, const t2i_hires_params *h,
                             t2i_image **images, int *count)
{
    *images = NULL;
    *count = 0;
    if (!m || !p || !h) return t2i_fail(T2I_ERR_INVALID_ARG, "t2i_txt2img_hires: no model or parameters");
    if (!(h->scale >= 1.0f && h->scale <= 8.0f) && h->resize_x <= 0 && h->resize_y <= 0)
        return t2i_fail(T2I_ERR_INVALID_ARG, "hires: scale %g outside 1..8", (double)h->scale);
    if (!(h->denoising_strength >= 0.0f && h->denoising_strength <= 1.0f))
        return t2i_fail(T2I_ERR_INVALID_ARG, "hires: denoising_strength %g outside 0..1", (double)h->denoising_strength);
    if (h->steps < 0 || h->steps > 1000 || h->resize_x < 0 || h->resize_y < 0 || h->resize_x > 8192 ||
        h->resize_y > 8192)
        return t2i_fail(T2I_ERR_INVALID_ARG, "hires: steps %d or resize %dx%d out of range", h->steps, h->resize_x,
                        h->resize_y);
    t2i_image *base = NULL;
    int n = 0;
    T2I_TRY(t2i_txt2img(m, p, &base, &n));
    int w = base[0].width, hh = base[0].height, tw, th;
    hires_target(h, w, hh, t2i_model_size_multiple(m), &tw, &th);
    int limit = h->max_side > 0 && h->max_side < 8192 ? h->max_side : 8192;
    t2i_status st = T2I_OK;
    if (tw > limit || th > limit)
        st = t2i_fail(T2I_ERR_INVALID_ARG, "hires: target %dx%d is beyond the largest side allowed (%d)", tw, th,
                      limit);
    else if (tw < w || th < hh)
        st = t2i_fail(T2I_ERR_INVALID_ARG, "hires: target %dx%d is smaller than the first pass's %dx%d", tw, th, w,
                      hh);
    t2i_image *out = st == T2I_OK ? calloc((size_t)n, sizeof *out) : NULL;
    if (st == T2I_OK && !out) st = t2i_fail(T2I_ERR_NOMEM, "out of memory");
    int steps = h->steps ? h->steps : p->steps;
    for (int i = 0; st == T2I_OK && i < n; i++) {
        t2i_image up = {0}, sized = {0};
        const t2i_image *src = &base[i];
        if (h->upscaler) {
            int s = t2i_upscaler_scale(h->upscaler);
            double need = fmax((double)tw / w, (double)th / hh);
            t2i_upscale_params up_p;
            t2i_upscale_params_init(&up_p);
            up_p.scale = (float)(need < s ? (need < 1 ? 1 : need) : s);
            up_p.tile = 192;
            up_p.tile_pad = 16;
            st = t2i_upscale_image(h->upscaler, src, &up_p, &up);
            src = &up;
        }
        if (st == T2I_OK && (src->width != tw || src->height != th)) {
            st = t2i_img_resize(src, tw, th, NULL, &sized);
            src = &sized;
        }
        t2i_img2img_params ip;
        t2i_img2img_params_init(&ip);
        ip.base = *p;
        ip.base.seed = base[i].seed;
        ip.base.batch_size = 1;
        ip.base.width = tw;
        ip.base.height = th;
        ip.base.steps = steps;
        ip.base.init_noise = NULL;
        ip.base.stages_path = NULL;
        if (h->prompt) ip.base.prompt = h->prompt;
        if (h->negative_prompt) ip.base.negative_prompt = h->negative_prompt;
        ip.init_image = src;
        ip.strength = h->denoising_strength;
        t2i_image *one = NULL;
        int k = 0;
        if (st == T2I_OK) st = t2i_img2img(m, &ip, &one, &k);
        if (st == T2I_OK) {
            out[i] = one[0];
            add_infotext(&out[i], h, steps);
            free(one);   /* its image moved into out[i] */
        }
        t2i_image_clear(&up);
        t2i_image_clear(&sized);
    }
    t2i_images_free(base, n);
    if (st != T2I_OK) {
        t2i_images_free(out, n);
        return st;
    }
    *images = out;
    *count = n;
    return T2I_OK;
}
