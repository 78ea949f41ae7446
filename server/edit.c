/*
 * edit.c — uploaded images and the A1111 editing fields (see edit.h).
 */
#include "server/edit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server/b64.h"
#include "server/image_probe.h"
#include "server/uploads.h"

/* The engine's own decode limits (t2i_image_decode_memory), checked here
 * from the header so that the error names the request's field. */
#define MAX_IMAGE_SIDE 16384L
#define MAX_IMAGE_PIXELS (1L << 28)

gen_edit *gen_edit_new(void)
{
    gen_edit *ed = calloc(1, sizeof *ed);
    if (!ed) return NULL;
    t2i_img2img_params d;
    t2i_img2img_params_init(&d);
    ed->strength = d.strength;
    ed->resize_mode = d.resize_mode;
    ed->mask_blur = d.mask_blur;
    ed->fill = d.inpainting_fill;
    ed->full_res_padding = d.inpaint_full_res_padding;
    ed->image_cfg = d.image_guidance_scale;
    return ed;
}

int edit_decode_bytes(const char *field, const unsigned char *buf, size_t n, t2i_image *out, api_error *e)
{
    memset(out, 0, sizeof *out);
    long w, h;
    if (image_probe(buf, n, &w, &h) == IMAGE_UNKNOWN)
        return api_error_set(e, 400, field, "not a PNG or JPEG image (or its header is truncated)"), -1;
    if (w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE || w * h > MAX_IMAGE_PIXELS)
        return api_error_set(e, 400, field, "declared size %ldx%ld exceeds %ld per side or %ld pixels", w, h,
                             MAX_IMAGE_SIDE, MAX_IMAGE_PIXELS), -1;
    size_t bytes = (size_t)w * (size_t)h * 4;   /* the RGBA8 result */
    int admit = uploads_enter(bytes);
    if (admit == 413)
        return api_error_set(e, 413, field, "a %ldx%ld image decodes to more than %zu bytes (--max-decode-bytes)", w,
                             h, g_cfg.max_decode_bytes), -1;
    if (admit) return api_error_set(e, 429, field, "the server is decoding other uploads; retry later"), -1;
    t2i_status s = t2i_image_decode_memory(buf, n, out);
    uploads_leave(bytes);
    if (s == T2I_ERR_NOMEM) return api_error_set(e, 503, field, "out of memory"), -1;
    if (s != T2I_OK) return api_error_set(e, 400, field, "not a valid image (%s)", t2i_last_error()), -1;
    return 0;
}

int edit_decode_b64(const char *field, const char *b64, t2i_image *out, api_error *e)
{
    unsigned char *bytes = NULL;
    size_t n = 0;
    const char *why = NULL;
    memset(out, 0, sizeof *out);
    if (b64_decode(b64, &bytes, &n, &why)) return api_error_set(e, 400, field, "invalid base64: %s", why), -1;
    int rc = edit_decode_bytes(field, bytes, n, out, e);
    free(bytes);
    return rc;
}

/* A1111 sends some switches as booleans, the web UI as 0/1. */
static int get_flag(const cJSON *o, const char *name, int *out, api_error *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (v && cJSON_IsNumber(v)) {
        long long x;
        if (params_get_int(o, name, 0, 1, 0, &x, e)) return -1;
        *out = (int)x;
        return 0;
    }
    return params_get_bool(o, name, *out, out, e);
}

int edit_check_size(gen_params *p, const char *field, api_error *e)
{
    const gen_edit *ed = p->edit;
    int mult = queue_size_multiple() > 0 ? queue_size_multiple() : 8;
    long long w = p->width ? p->width : ed->init.width / mult * mult;
    long long h = p->height ? p->height : ed->init.height / mult * mult;
    if (!p->width || !p->height) {
        if (w < mult || h < mult)
            return api_error_set(e, 400, field, "the image is %dx%d, smaller than the model's size multiple %d; "
                                 "give width and height", ed->init.width, ed->init.height, mult), -1;
        if (w > g_cfg.max_side || h > g_cfg.max_side)
            return api_error_set(e, 400, field, "the image is %dx%d, more than --max-side %d; give width and "
                                 "height (it is resized to them)", ed->init.width, ed->init.height, g_cfg.max_side), -1;
    }
    return params_check_cost(w, h, p->steps, (long long)p->batch_size * p->n_iter, e);
}

int edit_from_a1111(const cJSON *o, gen_params *p, api_error *e)
{
    gen_edit *ed = p->edit = gen_edit_new();
    if (!ed) return api_error_set(e, 503, "init_images", "out of memory"), -1;
    const cJSON *imgs = cJSON_GetObjectItemCaseSensitive(o, "init_images");
    if (!cJSON_IsArray(imgs) || cJSON_GetArraySize(imgs) == 0) {
        api_error_set(e, 400, "init_images", "required: an array with one base64 PNG or JPEG");
        goto fail;
    }
    if (cJSON_GetArraySize(imgs) > 1) {
        api_error_set(e, 400, "init_images", "one image per request (got %d)", cJSON_GetArraySize(imgs));
        goto fail;
    }
    const cJSON *first = cJSON_GetArrayItem(imgs, 0);
    if (!cJSON_IsString(first)) {
        api_error_set(e, 400, "init_images[0]", "must be a base64 string");
        goto fail;
    }
    double strength, icfg;
    long long resize, blur, fill, pad;
    int full_res = 1, invert = 0;   /* A1111 processing.py: inpaint_full_res = True */
    const char *mask_b64;
    if (params_get_number(o, "denoising_strength", 0, 1, ed->strength, &strength, e) ||
        params_get_int(o, "resize_mode", 0, 3, 0, &resize, e) ||
        params_get_int(o, "mask_blur", 0, 64, ed->mask_blur, &blur, e) ||
        params_get_int(o, "inpainting_fill", 0, 3, T2I_FILL_FILL, &fill, e) ||
        get_flag(o, "inpaint_full_res", &full_res, e) ||
        params_get_int(o, "inpaint_full_res_padding", 0, 256, 0, &pad, e) ||
        get_flag(o, "inpainting_mask_invert", &invert, e) ||
        params_get_number(o, "image_cfg_scale", 0, 30, ed->image_cfg, &icfg, e) ||
        params_get_string(o, "mask", g_cfg.max_body, NULL, &mask_b64, e))
        goto fail;
    if (resize == 3) {
        api_error_set(e, 400, "resize_mode", "3 (just resize, latent upscale) is not implemented; use 0, 1 or 2");
        goto fail;
    }
    ed->strength = strength;
    ed->resize_mode = (t2i_resize_mode)resize;
    ed->mask_blur = (int)blur;
    ed->fill = (t2i_inpaint_fill)fill;
    ed->full_res = full_res;
    ed->full_res_padding = (int)pad;
    ed->invert = invert;
    ed->image_cfg = (float)icfg;
    if (edit_decode_b64("init_images[0]", first->valuestring, &ed->init, e)) goto fail;
    if (mask_b64 && *mask_b64) {
        if (edit_decode_b64("mask", mask_b64, &ed->mask, e)) goto fail;
        if (ed->mask.width != ed->init.width || ed->mask.height != ed->init.height) {
            api_error_set(e, 400, "mask", "is %dx%d, the init image %dx%d: they must be the same size",
                          ed->mask.width, ed->mask.height, ed->init.width, ed->init.height);
            goto fail;
        }
    }
    if (edit_check_size(p, "init_images[0]", e)) goto fail;
    return 0;
fail:
    gen_edit_free(p->edit);
    p->edit = NULL;
    return -1;
}

static cJSON *describe(const t2i_image *img)
{
    char s[64];
    snprintf(s, sizeof s, "<image %dx%d>", img->width, img->height);
    return cJSON_CreateString(s);
}

char *edit_request_summary(const cJSON *o, const gen_edit *ed)
{
    cJSON *c = o ? cJSON_Duplicate(o, 1) : cJSON_CreateObject();
    if (!c) return NULL;
    cJSON_DeleteItemFromObjectCaseSensitive(c, "init_images");
    cJSON_DeleteItemFromObjectCaseSensitive(c, "mask");
    cJSON_DeleteItemFromObjectCaseSensitive(c, "image");
    cJSON *a = cJSON_AddArrayToObject(c, "init_images");
    if (a) cJSON_AddItemToArray(a, describe(&ed->init));
    if (ed->mask.pixels) cJSON_AddItemToObject(c, "mask", describe(&ed->mask));
    char *s = cJSON_PrintUnformatted(c);
    cJSON_Delete(c);
    return s;
}
