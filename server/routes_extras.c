/*
 * routes_extras.c — A1111's /sdapi/v1/extra-single-image and
 * /sdapi/v1/extra-batch-images: uploaded images upscaled by a --upscaler
 * on a device worker, through the queue like any job (progress, interrupt,
 * deadline, records).
 *
 * Fields: image (single) or imageList [{data, name}] (batch; at most
 * --max-images), upscaler_1 (a GET /sdapi/v1/upscalers name; "None" returns
 * the image as given), resize_mode 0 (upscaling_resize, 1..the model's
 * factor) or 1 (upscaling_resize_w × upscaling_resize_h: scaled to cover,
 * centre-cropped; upscaling_crop false is refused), and these refused unless
 * off: upscaler_2 with extras_upscaler_2_visibility > 0, gfpgan_visibility,
 * codeformer_visibility. A target side beyond --max-side is a 400 naming the
 * field that set it. → {image | images, html_info}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server/edit.h"
#include "server/queue.h"
#include "server/routes.h"
#include "server/upscalers.h"

/* Validate the options of o into x (images not yet decoded). */
static int extras_options(const cJSON *o, gen_extras *x, const char **up_name, api_error *e)
{
    const char *up2;
    long long mode, rw, rh;
    double scale, vis2, gfp, cf;
    int crop;
    if (params_get_string(o, "upscaler_1", 128, "None", up_name, e) ||
        params_get_string(o, "upscaler_2", 128, "None", &up2, e) ||
        params_get_number(o, "extras_upscaler_2_visibility", 0, 1, 0, &vis2, e) ||
        params_get_number(o, "gfpgan_visibility", 0, 1, 0, &gfp, e) ||
        params_get_number(o, "codeformer_visibility", 0, 1, 0, &cf, e) ||
        params_get_int(o, "resize_mode", 0, 1, 0, &mode, e) ||
        params_get_number(o, "upscaling_resize", 1, 8, 2, &scale, e) ||
        params_get_int(o, "upscaling_resize_w", 1, 16384, 512, &rw, e) ||
        params_get_int(o, "upscaling_resize_h", 1, 16384, 512, &rh, e) ||
        params_get_bool(o, "upscaling_crop", 1, &crop, e))
        return -1;
    if (strcmp(up2, "None") && vis2 > 0)
        return api_error_set(e, 400, "upscaler_2", "a second upscaler is not supported; use \"None\""), -1;
    if (gfp > 0) return api_error_set(e, 400, "gfpgan_visibility", "face restoration is not implemented"), -1;
    if (cf > 0) return api_error_set(e, 400, "codeformer_visibility", "face restoration is not implemented"), -1;
    if (mode == 1 && !crop)
        return api_error_set(e, 400, "upscaling_crop", "false (stretch to the target) is not supported"), -1;
    int idx = upscalers_find(*up_name);
    if (idx == UPSCALER_LATENT || idx == UPSCALER_LANCZOS)
        return api_error_set(e, 400, "upscaler_1", "'%.64s' is not available for extras; use an upscaler model "
                             "(GET /sdapi/v1/upscalers lists them)", *up_name), -1;
    if (idx == UPSCALER_UNKNOWN)
        return api_error_set(e, 400, "upscaler_1", "unknown upscaler '%.64s' (GET /sdapi/v1/upscalers lists them)",
                             *up_name), -1;
    x->upscaler = idx;
    x->scale = mode == 0 ? (float)scale : 0;
    x->to_w = mode == 1 ? (int)rw : 0, x->to_h = mode == 1 ? (int)rh : 0;
    return 0;
}

/* The decoded image's target against the model's factor and --max-side. */
static int extras_check_image(const gen_extras *x, const t2i_image *im, api_error *e)
{
    int factor = 0;
    if (x->upscaler >= 0) {
        queue_lock();
        factor = g_upscalers[x->upscaler].scale;   /* 0 until a worker has loaded it */
        queue_unlock();
    }
    const char *field = x->to_w ? "upscaling_resize_w" : "upscaling_resize";
    double s = x->scale;
    if (x->to_w) {
        double sw = (double)x->to_w / im->width, sh = (double)x->to_h / im->height;
        s = sw > sh ? sw : sh;
    }
    if (x->upscaler == UPSCALER_NONE) s = 1;
    if (factor > 0 && s > factor + 1e-6)
        return api_error_set(e, 400, field, "scale %.3g of a %dx%d image: '%s' scales by at most %d", s, im->width,
                             im->height, g_upscalers[x->upscaler].name, factor), -1;
    double tw = im->width * (s < 1 ? 1 : s), th = im->height * (s < 1 ? 1 : s);
    if (tw > g_cfg.max_side + 0.5 || th > g_cfg.max_side + 0.5)
        return api_error_set(e, 400, field, "the target %.0fx%.0f exceeds --max-side %d", tw, th, g_cfg.max_side), -1;
    return 0;
}

static enum MHD_Result extras(srv_request *rq, int batch)
{
    enum MHD_Result ret = MHD_NO;
    cJSON *req = route_body_json(rq, &ret);
    if (!req) return ret;
    api_error e;
    gen_params p;
    memset(&p, 0, sizeof p);
    const char *up_name = "None";
    gen_extras *x = calloc(1, sizeof *x);
    cJSON *summary = cJSON_Duplicate(req, 1);
    int rc = x && summary ? extras_options(req, x, &up_name, &e) : (api_error_set(&e, 503, "", "out of memory"), -1);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(req, batch ? "imageList" : "image");
    int n = batch ? cJSON_GetArraySize(list) : 1;
    if (rc == 0 && batch && (!cJSON_IsArray(list) || n < 1 || n > g_cfg.max_images))
        rc = -1, api_error_set(&e, 400, "imageList", "must be an array of 1..%d {data, name} objects", g_cfg.max_images);
    if (rc == 0 && !batch && !cJSON_IsString(list))
        rc = -1, api_error_set(&e, 400, "image", "must be a base64 PNG or JPEG");
    if (rc == 0 && !(x->images = calloc((size_t)n, sizeof *x->images)))
        rc = -1, api_error_set(&e, 503, "", "out of memory");
    for (int i = 0; rc == 0 && i < n; i++) {
        const cJSON *it = batch ? cJSON_GetArrayItem(list, i) : list;
        const cJSON *data = batch ? cJSON_GetObjectItemCaseSensitive(it, "data") : it;
        char field[48];
        snprintf(field, sizeof field, batch ? "imageList[%d].data" : "image", i);
        if (!cJSON_IsString(data)) {
            rc = -1, api_error_set(&e, 400, field, "must be a base64 PNG or JPEG");
            break;
        }
        rc = edit_decode_b64(field, data->valuestring, &x->images[i], &e);
        if (rc == 0) x->n++, rc = extras_check_image(x, &x->images[i], &e);
        if (rc == 0) {   /* the records keep the request with each image replaced by its size */
            char desc[48];
            snprintf(desc, sizeof desc, "<image %dx%d>", x->images[i].width, x->images[i].height);
            cJSON *d = cJSON_CreateString(desc);
            if (batch) cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(summary, "imageList"), i), "data", d);
            else cJSON_ReplaceItemInObjectCaseSensitive(summary, "image", d);
        }
    }
    char up[130];   /* the name outlives the request */
    snprintf(up, sizeof up, "%s", up_name);
    cJSON_Delete(req);
    if (rc == 0) {
        p.prompt = strdup(""), p.negative_prompt = strdup("");
        p.steps = 1, p.n_iter = 1, p.batch_size = n;
        p.model = queue_current_model();
        p.extras = x, x = NULL;
        if (!p.prompt || !p.negative_prompt) rc = -1, api_error_set(&e, 503, "", "out of memory");
    }
    if (rc) {
        gen_extras_free(x);
        gen_params_free(&p);
        cJSON_Delete(summary);
        return reply_api_error(rq, &e);
    }
    char html[256];
    const float scale = p.extras->scale;
    const int tw = p.extras->to_w, th = p.extras->to_h;
    if (tw) snprintf(html, sizeof html, "<p>Postprocess upscale to: %dx%d, Postprocess upscaler: %s</p>", tw, th, up);
    else snprintf(html, sizeof html, "<p>Postprocess upscale by: %g, Postprocess upscaler: %s</p>", scale, up);
    char *sj = cJSON_PrintUnformatted(summary);
    cJSON_Delete(summary);
    job *j = route_submit_as(rq, &p, "sdapi", sj, &ret);
    cJSON_free(sj);
    if (!j) return ret;
    route_wait_job(rq, j);
    queue_lock();
    int ok = j->state == JOB_DONE;
    int status = j->error_status ? j->error_status : 500;
    char err[512];
    snprintf(err, sizeof err, "%s", j->error ? j->error : "upscaling failed");
    cJSON *o = NULL;
    if (ok) {
        o = cJSON_CreateObject();
        if (batch) {
            cJSON *a = cJSON_AddArrayToObject(o, "images");
            for (int i = 0; i < j->n_images; i++) cJSON_AddItemToArray(a, cJSON_CreateString(j->images[i].png_b64));
        } else {
            cJSON_AddStringToObject(o, "image", j->n_images ? j->images[0].png_b64 : "");
        }
        cJSON_AddStringToObject(o, "html_info", html);
    }
    queue_unlock();
    job_unref(j);
    if (!ok) return reply_error(rq, status == 409 ? 503 : status, "", "%s", err);
    return reply_json(rq, 200, o);
}

enum MHD_Result route_sd_extra_single(srv_request *rq) { return extras(rq, 0); }
enum MHD_Result route_sd_extra_batch(srv_request *rq) { return extras(rq, 1); }
