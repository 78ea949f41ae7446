/*
 * img2img.c — the public t2i_img2img: the A1111 web UI's img2img/inpainting
 * request (modules/processing.py, StableDiffusionProcessingImg2Img) on top of
 * the engine's edit run (runtime/pipeline.h), which follows diffusers.
 *
 *   init image ─ flatten on white ─ outpaint canvas (optional)
 *   mask ─ binary (alpha or luma > 128) ─ invert ─ blur (mask_blur)
 *     only masked:  box = crop region(mask, padding) grown to W:H;
 *                   mask, image = crop(box) resized "resize and fill" to W×H
 *     else:         mask, image = resize_image(resize_mode, ·, W, H)
 *   overlay = the image with alpha 255 − mask_for_overlay (mask·2 clipped,
 *             or the blurred mask when only masked)
 *   fill "fill": masked pixels smeared in from around (A1111 masking.fill,
 *             approximated with box-blur passes); "latent noise"/"nothing"
 *             in the engine
 *   engine: image → [-1, 1] (v/255·2 − 1 in float32, as diffusers'
 *           VaeImageProcessor), mask → v/255 (binarised at 0.5 there)
 *   each result: pasted back into the box (resize "crop and resize") when
 *           only masked, then the overlay composited on top, so pixels the
 *           blurred mask leaves at 0 are exactly the init image's.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/error.h"
#include "product/image_ops.h"
#include "product/txt2img.h"
#include "runtime/model.h"
#include "runtime/pipeline.h"

void t2i_img2img_params_init(t2i_img2img_params *p)
{
    memset(p, 0, sizeof *p);
    t2i_txt2img_params_init(&p->base);
    p->strength = 0.75f;
    p->resize_mode = T2I_RESIZE_JUST;
    p->mask_blur = 4;
    p->inpainting_fill = T2I_FILL_ORIGINAL;
    p->inpaint_full_res_padding = 32;
    p->image_guidance_scale = 1.5f;
}

/* Everything one call allocates. */
typedef struct edit_run {
    t2i_image rgb, canvas_mask, mask, work, work_mask, overlay_mask, unfilled;
    float *img_f, *mask_f;
    char *prompt, *negative;
} edit_run;

static void edit_free(edit_run *r)
{
    t2i_image_clear(&r->rgb);
    t2i_image_clear(&r->canvas_mask);
    t2i_image_clear(&r->mask);
    t2i_image_clear(&r->work);
    t2i_image_clear(&r->work_mask);
    t2i_image_clear(&r->overlay_mask);
    t2i_image_clear(&r->unfilled);
    free(r->img_f);
    free(r->mask_f);
    free(r->prompt);
    free(r->negative);
}

static t2i_status alloc_image(t2i_image *im, int w, int h, int c)
{
    memset(im, 0, sizeof *im);
    im->pixels = calloc((size_t)w * h, (size_t)c);
    if (!im->pixels) return t2i_fail(T2I_ERR_NOMEM, "img2img: out of memory for %dx%d", w, h);
    im->width = w, im->height = h, im->channels = c;
    return T2I_OK;
}

/* images.flatten: RGBA over white; grey replicated. */
static t2i_status to_rgb(const t2i_image *in, t2i_image *out)
{
    T2I_TRY(alloc_image(out, in->width, in->height, 3));
    const size_t n = (size_t)in->width * in->height;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++) {
            unsigned v = in->pixels[i * in->channels + (in->channels >= 3 ? c : 0)];
            if (in->channels == 4) {
                unsigned a = in->pixels[i * 4 + 3];
                v = (v * a + 255 * (255 - a) + 127) / 255;
            }
            out->pixels[i * 3 + c] = (uint8_t)v;
        }
    return T2I_OK;
}

/* A1111 create_binary_mask (round = True): alpha when the image has a
 * non-opaque pixel, else PIL's "L" luma; > 128 → 255. */
static t2i_status binary_mask(const t2i_image *in, t2i_image *out)
{
    T2I_TRY(alloc_image(out, in->width, in->height, 1));
    const size_t n = (size_t)in->width * in->height;
    int use_alpha = 0;
    for (size_t i = 0; in->channels == 4 && i < n && !use_alpha; i++) use_alpha = in->pixels[i * 4 + 3] != 255;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = in->pixels + i * in->channels;
        unsigned v;
        if (use_alpha) v = p[3];
        else if (in->channels >= 3) v = (p[0] * 19595u + p[1] * 38470u + p[2] * 7471u + 0x8000u) >> 16;
        else v = p[0];
        out->pixels[i] = v > 128 ? 255 : 0;
    }
    return T2I_OK;
}

/* Three box blurs of about sigma `r` along x then y, on premultiplied RGBA
 * floats in place (w × h × 4). */
static void box_blur(float *px, float *tmp, int w, int h, int r)
{
    int rad = (int)(sqrt(4.0 * r * r + 1.0) / 2.0);
    if (rad < 1) return;
    for (int pass = 0; pass < 3; pass++)
        for (int axis = 0; axis < 2; axis++) {
            const int len = axis ? h : w, lines = axis ? w : h;
            for (int l = 0; l < lines; l++) {
                for (int c = 0; c < 4; c++) {
                    double sum = 0;
                    int cnt = 0;
                    for (int i = -rad; i <= rad; i++)
                        if (i >= 0 && i < len) sum += px[((axis ? (size_t)i * w + l : (size_t)l * w + i)) * 4 + c], cnt++;
                    for (int i = 0; i < len; i++) {
                        tmp[i] = (float)(sum / cnt);
                        int out = i - rad, in = i + rad + 1;
                        if (out >= 0) sum -= px[((axis ? (size_t)out * w + l : (size_t)l * w + out)) * 4 + c], cnt--;
                        if (in < len) sum += px[((axis ? (size_t)in * w + l : (size_t)l * w + in)) * 4 + c], cnt++;
                    }
                    for (int i = 0; i < len; i++) px[((axis ? (size_t)i * w + l : (size_t)l * w + i)) * 4 + c] = tmp[i];
                }
            }
        }
}

/* A1111 masking.fill: the unmasked colours, blurred at radii 256 … 0 and
 * composited over each other, then under the unmasked pixels. */
static t2i_status fill_masked(t2i_image *img, const t2i_image *mask)
{
    const int w = img->width, h = img->height;
    const size_t n = (size_t)w * h;
    float *src = malloc(n * 4 * sizeof *src), *cur = malloc(n * 4 * sizeof *cur);
    float *acc = calloc(n * 4, sizeof *acc), *tmp = malloc((size_t)(w > h ? w : h) * sizeof *tmp);
    if (!src || !cur || !acc || !tmp) {
        free(src), free(cur), free(acc), free(tmp);
        return t2i_fail(T2I_ERR_NOMEM, "inpainting fill: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        float a = (255 - mask->pixels[i]) / 255.0f;
        for (int c = 0; c < 3; c++) src[i * 4 + c] = img->pixels[i * 3 + c] * a;
        src[i * 4 + 3] = a;
    }
    static const int radii[][2] = {{256, 1}, {64, 1}, {16, 2}, {4, 4}, {2, 2}, {0, 1}};
    for (int k = 0; k < 6; k++) {
        memcpy(cur, src, n * 4 * sizeof *cur);
        box_blur(cur, tmp, w, h, radii[k][0]);
        for (int rep = 0; rep < radii[k][1]; rep++)
            for (size_t i = 0; i < n; i++) {   /* premultiplied "over" */
                float a = cur[i * 4 + 3];
                for (int c = 0; c < 4; c++) acc[i * 4 + c] = cur[i * 4 + c] + acc[i * 4 + c] * (1 - a);
            }
    }
    for (size_t i = 0; i < n; i++) {
        float a = acc[i * 4 + 3];
        for (int c = 0; c < 3; c++) {
            float v = a > 0 ? acc[i * 4 + c] / a : 0;
            img->pixels[i * 3 + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lrintf(v));
        }
    }
    free(src), free(cur), free(acc), free(tmp);
    return T2I_OK;
}

/* The outpainting canvas: the image grown by pad = {l, t, r, b}, new pixels
 * the nearest edge pixel; the mask marks the new area. */
static t2i_status outpaint_canvas(const t2i_image *in, const int pad[4], t2i_image *out, t2i_image *mask)
{
    const int W = in->width + pad[0] + pad[2], H = in->height + pad[1] + pad[3];
    T2I_TRY(alloc_image(out, W, H, 3));
    T2I_TRY(alloc_image(mask, W, H, 1));
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int sx = x - pad[0], sy = y - pad[1];
            int inside = sx >= 0 && sy >= 0 && sx < in->width && sy < in->height;
            sx = sx < 0 ? 0 : sx >= in->width ? in->width - 1 : sx;
            sy = sy < 0 ? 0 : sy >= in->height ? in->height - 1 : sy;
            memcpy(out->pixels + ((size_t)y * W + x) * 3, in->pixels + ((size_t)sy * in->width + sx) * 3, 3);
            mask->pixels[(size_t)y * W + x] = inside ? 0 : 255;
        }
    return T2I_OK;
}

/* PIL alpha_composite of (rgb, alpha) over the opaque dst, in place. */
static void composite(uint8_t *dst, const uint8_t *rgb, unsigned a)
{
    for (int c = 0; c < 3; c++) dst[c] = (uint8_t)((rgb[c] * a + dst[c] * (255 - a) + 127) / 255);
}

static t2i_status validate(const t2i_model *m, const t2i_img2img_params *p)
{
    const t2i_image *im = p->init_image;
    if (!im || !im->pixels || im->width < 1 || im->height < 1 ||
        (im->channels != 1 && im->channels != 3 && im->channels != 4))
        return t2i_fail(T2I_ERR_INVALID_ARG, "init_image: an RGB, RGBA or grey image is required");
    if (!isfinite(p->strength) || p->strength < 0 || p->strength > 1)
        return t2i_fail(T2I_ERR_INVALID_ARG, "denoising strength %g outside [0, 1]", p->strength);
    if ((unsigned)p->resize_mode > T2I_RESIZE_FILL)
        return t2i_fail(T2I_ERR_INVALID_ARG, "resize_mode %d outside 0..2", (int)p->resize_mode);
    if ((unsigned)p->inpainting_fill > T2I_FILL_LATENT_NOTHING)
        return t2i_fail(T2I_ERR_INVALID_ARG, "inpainting_fill %d outside 0..3", (int)p->inpainting_fill);
    if (p->mask_blur < 0 || p->mask_blur > 64) return t2i_fail(T2I_ERR_INVALID_ARG, "mask_blur %d outside 0..64", p->mask_blur);
    if (p->inpaint_full_res_padding < 0 || p->inpaint_full_res_padding > 1024)
        return t2i_fail(T2I_ERR_INVALID_ARG, "inpaint_full_res_padding %d outside 0..1024", p->inpaint_full_res_padding);
    int any_pad = 0;
    for (int i = 0; i < 4; i++) {
        if (p->outpaint[i] < 0 || p->outpaint[i] > 2048)
            return t2i_fail(T2I_ERR_INVALID_ARG, "outpaint %d pixels outside 0..2048", p->outpaint[i]);
        any_pad |= p->outpaint[i] > 0;
    }
    if (any_pad && p->mask) return t2i_fail(T2I_ERR_INVALID_ARG, "outpaint: cannot be combined with a mask");
    if (m->unet_cfg.in_channels == 2 * m->vae_cfg.latent_channels && (p->mask || any_pad))
        return t2i_fail(T2I_ERR_INVALID_ARG, "%s: an instruct-edit model takes no mask (nor outpainting)", m->name);
    if (p->mask) {
        const t2i_image *mk = p->mask;
        if (!mk->pixels || (mk->channels != 1 && mk->channels != 3 && mk->channels != 4))
            return t2i_fail(T2I_ERR_INVALID_ARG, "mask: an RGB, RGBA or grey image is required");
        if (mk->width != im->width || mk->height != im->height)
            return t2i_fail(T2I_ERR_INVALID_ARG, "mask: size %dx%d differs from the init image's %dx%d", mk->width,
                            mk->height, im->width, im->height);
    }
    if (!m->has_vae_encoder)
        return t2i_fail(T2I_ERR_UNSUPPORTED, "%s: the VAE has no encoder weights, so it cannot take an init image",
                        m->name);
    return T2I_OK;
}

t2i_status t2i_img2img(t2i_model *m, const t2i_img2img_params *p, t2i_image **images, int *count)
{
    *images = NULL;
    *count = 0;
    if (!m || !p) return t2i_fail(T2I_ERR_INVALID_ARG, "img2img: model and parameters are required");
    T2I_TRY(validate(m, p));
    edit_run r;
    memset(&r, 0, sizeof r);
    t2i_image *out = NULL;
    int n = 0;
    t2i_status st = to_rgb(p->init_image, &r.rgb);
    const int outpaint = p->outpaint[0] || p->outpaint[1] || p->outpaint[2] || p->outpaint[3];
    if (st == T2I_OK && outpaint) {
        t2i_image canvas;
        st = outpaint_canvas(&r.rgb, p->outpaint, &canvas, &r.mask);
        t2i_image_clear(&r.rgb);
        r.rgb = canvas;
    } else if (st == T2I_OK && p->mask) {
        st = binary_mask(p->mask, &r.mask);
    }
    const int has_mask = r.mask.pixels != NULL;
    const int IW = r.rgb.width, IH = r.rgb.height;
    if (st == T2I_OK && has_mask) {
        size_t on = 0, px = (size_t)IW * IH;
        for (size_t i = 0; i < px; i++) {
            if (p->mask_invert) r.mask.pixels[i] = (uint8_t)(255 - r.mask.pixels[i]);
            on += r.mask.pixels[i] != 0;
        }
        if (on == 0) st = t2i_fail(T2I_ERR_INVALID_ARG, "mask: marks nothing to repaint (all pixels unmarked)");
        else if (on == px && !outpaint)
            st = t2i_fail(T2I_ERR_INVALID_ARG, "mask: marks the whole image; use img2img without a mask");
        if (st == T2I_OK) st = t2i_mask_blur(r.mask.pixels, IW, IH, p->mask_blur);
    }
    /* The working size: given, or the image's rounded down to the multiple. */
    t2i_txt2img_params base = p->base;
    const int mult = t2i_vae_scale(&m->vae_cfg) << (m->unet_cfg.n_blocks - 1);
    const int W = base.width ? base.width : IW / mult * mult, H = base.height ? base.height : IH / mult * mult;
    base.width = W, base.height = H;
    int box[4] = {0, 0, 0, 0}, crop = 0;
    if (st == T2I_OK && (W < mult || H < mult))
        st = t2i_fail(T2I_ERR_INVALID_ARG, "init_image: %dx%d is smaller than %d pixels", IW, IH, mult);
    if (st == T2I_OK && has_mask && p->inpaint_full_res) {
        crop = t2i_mask_crop_region(r.mask.pixels, IW, IH, p->inpaint_full_res_padding, box);
        if (crop) {
            t2i_expand_crop_region(box, W, H, IW, IH);
            st = alloc_image(&r.overlay_mask, IW, IH, 1);
            if (st == T2I_OK) memcpy(r.overlay_mask.pixels, r.mask.pixels, (size_t)IW * IH);
            const float fb[4] = {(float)box[0], (float)box[1], (float)box[2], (float)box[3]};
            t2i_image cm, ci;
            /* mask.crop(box) then resize_image(2, ...): crop by resizing the
             * box 1:1, which Pillow's box resize does exactly */
            if (st == T2I_OK) st = t2i_img_resize(&r.mask, box[2] - box[0], box[3] - box[1], fb, &cm);
            if (st == T2I_OK) {
                st = t2i_img_resize_mode(&cm, T2I_RESIZE_FILL, W, H, &r.work_mask);
                t2i_image_clear(&cm);
            }
            if (st == T2I_OK) st = t2i_img_resize(&r.rgb, box[2] - box[0], box[3] - box[1], fb, &ci);
            if (st == T2I_OK) {
                st = t2i_img_resize_mode(&ci, T2I_RESIZE_FILL, W, H, &r.work);
                t2i_image_clear(&ci);
            }
        }
    }
    if (st == T2I_OK && !crop) {
        st = t2i_img_resize_mode(&r.rgb, p->resize_mode, W, H, &r.work);
        if (st == T2I_OK && has_mask) st = t2i_img_resize_mode(&r.mask, p->resize_mode, W, H, &r.work_mask);
        if (st == T2I_OK && has_mask) {   /* mask_for_overlay = clip(mask · 2) */
            st = alloc_image(&r.overlay_mask, W, H, 1);
            for (size_t i = 0; st == T2I_OK && i < (size_t)W * H; i++) {
                int v = r.work_mask.pixels[i] * 2;
                r.overlay_mask.pixels[i] = (uint8_t)(v > 255 ? 255 : v);
            }
        }
    }
    /* The overlay's base: the init image at the size the results have. */
    const t2i_image *base_img = crop ? &r.rgb : &r.work;
    if (st == T2I_OK && has_mask && p->inpainting_fill == T2I_FILL_FILL) {
        if (!crop) {   /* the overlay keeps the pixels before the fill */
            st = alloc_image(&r.unfilled, W, H, 3);
            if (st == T2I_OK) memcpy(r.unfilled.pixels, r.work.pixels, (size_t)W * H * 3);
            base_img = &r.unfilled;
        }
        if (st == T2I_OK) st = fill_masked(&r.work, &r.work_mask);
    }
    if (st == T2I_OK) {
        const size_t px = (size_t)W * H;
        r.img_f = malloc(px * 3 * sizeof *r.img_f);
        r.mask_f = has_mask ? malloc(px * sizeof *r.mask_f) : NULL;
        if (!r.img_f || (has_mask && !r.mask_f)) st = t2i_fail(T2I_ERR_NOMEM, "img2img: out of memory");
        for (size_t i = 0; st == T2I_OK && i < px; i++) {
            for (int c = 0; c < 3; c++) r.img_f[c * px + i] = 2.0f * (r.work.pixels[i * 3 + c] / 255.0f) - 1.0f;
            if (has_mask) r.mask_f[i] = r.work_mask.pixels[i] / 255.0f;
        }
    }
    if (st == T2I_OK) st = t2i_prompt_resolve(m, &base, &r.prompt, &r.negative);
    if (st == T2I_OK) {
        t2i_pipeline_edit e = {.image = r.img_f,
                               .mask = m->unet_cfg.in_channels == 2 * m->vae_cfg.latent_channels ? NULL : r.mask_f,
                               .strength = p->strength,
                               .image_guidance = p->image_guidance_scale,
                               .latent_fill = has_mask && p->inpainting_fill >= T2I_FILL_LATENT_NOISE
                                                  ? (int)p->inpainting_fill
                                                  : 0};
        st = t2i_pipeline_run(m, &base, r.prompt, r.negative, &e, &out, &n);
    }
    /* Paste back and overlay. */
    for (int i = 0; st == T2I_OK && has_mask && i < n; i++) {
        t2i_image full;
        st = alloc_image(&full, base_img->width, base_img->height, 3);
        if (st != T2I_OK) break;
        memcpy(full.pixels, base_img->pixels, (size_t)full.width * full.height * 3);
        if (crop) {
            t2i_image piece;
            st = t2i_img_resize_mode(&out[i], T2I_RESIZE_CROP, box[2] - box[0], box[3] - box[1], &piece);
            if (st == T2I_OK) t2i_img_paste(&full, &piece, box[0], box[1]);
            t2i_image_clear(&piece);
        } else {
            memcpy(full.pixels, out[i].pixels, (size_t)W * H * 3);
        }
        for (size_t j = 0; st == T2I_OK && j < (size_t)full.width * full.height; j++)
            composite(full.pixels + j * 3, base_img->pixels + j * 3, 255u - r.overlay_mask.pixels[j]);
        free(out[i].pixels);
        out[i].pixels = full.pixels;
        out[i].width = full.width;
        out[i].height = full.height;
    }
    /* Infotext: the txt2img fields plus A1111's editing ones. */
    char strength[32], blur[32], icfg[32];
    snprintf(strength, sizeof strength, "%g", p->strength);
    snprintf(blur, sizeof blur, "%d", p->mask_blur);
    snprintf(icfg, sizeof icfg, "%g", p->image_guidance_scale);
    t2i_infotext_kv kv[3] = {{"Denoising strength", strength}};
    int nkv = 1;
    if (has_mask) kv[nkv++] = (t2i_infotext_kv){"Mask blur", blur};
    if (m->unet_cfg.in_channels == 2 * m->vae_cfg.latent_channels) kv[nkv++] = (t2i_infotext_kv){"Image CFG scale", icfg};
    for (int i = 0; st == T2I_OK && i < n; i++) {
        out[i].infotext = t2i_make_infotext(m, &base, r.prompt, r.negative, out[i].seed, out[i].width,
                                            out[i].height, kv, nkv);
        if (!out[i].infotext) st = t2i_fail(T2I_ERR_NOMEM, "img2img: out of memory for the infotext");
    }
    edit_free(&r);
    if (st != T2I_OK) {
        t2i_images_free(out, n);
        return st;
    }
    *images = out;
    *count = n;
    return T2I_OK;
}
