/*
 * routes_openai.c — the OpenAI Images API subset that the official clients
 * use for generation:
 *
 *   POST /v1/images/generations  {prompt, n, size, response_format,
 *                                 output_format, model, ...} →
 *                                {created, data: [{b64_json | url,
 *                                 revised_prompt}], output_format, size}
 *   GET  /v1/images/files/{id}.png  the image behind a response_format=url
 *   POST /v1/images/edits        multipart: image, mask (transparent where
 *                                to edit), prompt, n, size, response_format,
 *                                model; strength (extension) → as above
 *   POST /v1/images/variations   multipart: image, n, size, response_format,
 *                                model → as above (an empty prompt at
 *                                strength 0.7, or the strength given)
 *   GET  /v1/models, /v1/models/{id}
 *
 * revised_prompt is the prompt actually drawn (t2i_prompt_resolve). Two
 * extensions: "styles" (catalog names) and "expand" (prompt expansion).
 * Errors use OpenAI's error object.
 */
#define _GNU_SOURCE              /* strndup */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "server/edit.h"
#include "server/multipart.h"
#include "server/routes.h"

/* "http://host:port" as the client reached us (its Host header, if it is a
 * plain host[:port]), else the listening address. */
static void url_base(srv_request *rq, char *out, size_t n)
{
    const char *host = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    int ok = host && *host && strlen(host) < 256;
    for (const char *c = host; ok && *c; c++)
        ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr(".-:[]", *c);
    if (ok) snprintf(out, n, "http://%s", host);
    else snprintf(out, n, "http://%s:%d", g_cfg.listen_addr, g_cfg.port);
}

/* The answer to a synchronous OpenAI job: {created, data, output_format,
 * size, warnings} when done, else the job's error. Drops the caller's job
 * reference. */
static enum MHD_Result reply_oa_job(srv_request *rq, job *j, int want_url)
{
    char base[300];
    url_base(rq, base, sizeof base);
    route_wait_job(rq, j);
    queue_lock();
    cJSON *o = NULL;
    int status = j->error_status ? j->error_status : 500;
    char err[512];
    snprintf(err, sizeof err, "%s", j->error ? j->error : "generation failed");
    if (j->state == JOB_DONE) {
        o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "created", (double)time(NULL));
        cJSON *data = cJSON_AddArrayToObject(o, "data");
        for (int i = 0; i < j->n_images; i++) {
            cJSON *d = cJSON_CreateObject();
            if (want_url) {
                char url[512];
                snprintf(url, sizeof url, "%s/v1/images/files/%s.png", base, j->images[i].id);
                cJSON_AddStringToObject(d, "url", url);
            } else {
                cJSON_AddStringToObject(d, "b64_json", j->images[i].png_b64);
            }
            cJSON_AddStringToObject(d, "revised_prompt", j->images[i].prompt);
            cJSON_AddItemToArray(data, d);
        }
        cJSON_AddStringToObject(o, "output_format", "png");
        cJSON *warnings = cJSON_AddArrayToObject(o, "warnings");   /* an extension; the SDK keeps it */
        if (j->warning) cJSON_AddItemToArray(warnings, cJSON_CreateString(j->warning));
        if (j->n_images) {
            char size[32];
            snprintf(size, sizeof size, "%dx%d", j->images[0].width, j->images[0].height);
            cJSON_AddStringToObject(o, "size", size);
        }
    }
    queue_unlock();
    job_unref(j);
    if (!o) return reply_error(rq, status == 409 ? 503 : status, "", "%s", err);
    return reply_json(rq, 200, o);
}

enum MHD_Result route_oa_generations(srv_request *rq)
{
    enum MHD_Result ret = MHD_NO;
    cJSON *req = route_body_json(rq, &ret);
    if (!req) return ret;
    gen_params p;
    api_error e;
    int want_url;
    int rc = params_from_openai(req, &p, &want_url, &e);
    cJSON_Delete(req);
    if (rc) return reply_api_error(rq, &e);
    job *j = route_submit(rq, &p, "openai", &ret);
    if (!j) return ret;
    return reply_oa_job(rq, j, want_url);
}

/* GET /v1/images/files/{id}.png — a generated image for --url-ttl seconds
 * after it was drawn (while its job is among the --keep-jobs kept). The id
 * is 128 random bits, so the URL works without the API key, as OpenAI's
 * signed URLs do. */
enum MHD_Result route_oa_image_file(srv_request *rq)
{
    char id[SRV_ID_LEN + 1];
    size_t len = strlen(rq->param);
    if (len != SRV_ID_LEN + 4 || strcmp(rq->param + SRV_ID_LEN, ".png"))
        return reply_error(rq, 404, "", "no such image");
    memcpy(id, rq->param, SRV_ID_LEN), id[SRV_ID_LEN] = 0;
    unsigned char *png;
    size_t n;
    int found = queue_image_png(id, g_cfg.url_ttl_s, &png, &n);
    if (found < 0) return reply_error(rq, 503, "", "out of memory");
    if (!found) return reply_error(rq, 404, "", "no such image (image URLs expire after %d s)", g_cfg.url_ttl_s);
    return reply_buffer(rq, 200, "image/png", png, n, 1);
}

/* The text fields of a multipart form as the JSON object params_from_openai
 * reads: "n" and "strength" as numbers when they parse as such, "stream"
 * as a boolean, the rest as strings (file parts and images left out). */
static cJSON *form_fields(const multipart_part *parts, int count)
{
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; o && i < count; i++) {
        const multipart_part *pt = &parts[i];
        if (pt->is_file || !strcmp(pt->name, "image") || !strcmp(pt->name, "image[]") || !strcmp(pt->name, "mask"))
            continue;
        char *v = strndup((const char *)pt->data, pt->len);
        if (!v) return cJSON_Delete(o), NULL;
        char *end;
        double d = strtod(v, &end);
        cJSON_DeleteItemFromObjectCaseSensitive(o, pt->name);   /* the last one wins */
        if ((!strcmp(pt->name, "n") || !strcmp(pt->name, "strength")) && *v && !*end)
            cJSON_AddNumberToObject(o, pt->name, d);
        else if (!strcmp(pt->name, "stream") && (!strcmp(v, "true") || !strcmp(v, "false")))
            cJSON_AddBoolToObject(o, pt->name, !strcmp(v, "true"));
        else
            cJSON_AddStringToObject(o, pt->name, v);
        free(v);
    }
    return o;
}

static int has_transparency(const t2i_image *img)
{
    if (img->channels != 4) return 0;
    for (size_t i = 0, n = (size_t)img->width * img->height; i < n; i++)
        if (img->pixels[i * 4 + 3] < 255) return 1;
    return 0;
}

/* edits (variation 0) and variations (1): the multipart form → a job. */
static enum MHD_Result image_edit(srv_request *rq, int variation)
{
    const char *ctype = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    multipart_part parts[MULTIPART_MAX_PARTS];
    int count = 0;
    const char *why = NULL;
    if (multipart_parse(ctype, (const unsigned char *)rq->body, rq->body_len, parts, &count, &why))
        return reply_error(rq, 400, "body", "body: %s", why);
    const multipart_part *img = NULL, *mask = multipart_find(parts, count, "mask");
    int n_images = 0;
    for (int i = 0; i < count; i++)
        if (!strcmp(parts[i].name, "image") || !strcmp(parts[i].name, "image[]")) img = img ? img : &parts[i], n_images++;
    if (!img) return reply_error(rq, 400, "image", "image: required (a PNG or JPEG file part)");
    if (n_images > 1) return reply_error(rq, 400, "image", "image: one image per request (got %d)", n_images);
    if (variation && mask) return reply_error(rq, 400, "mask", "mask: variations take no mask");
    cJSON *form = form_fields(parts, count);
    if (!form) return reply_error(rq, 503, "", "out of memory");
    /* A variation has no prompt: validated with a placeholder, drawn with "". */
    if (variation) {
        cJSON_DeleteItemFromObjectCaseSensitive(form, "prompt");
        cJSON_AddStringToObject(form, "prompt", "variation");
    }
    gen_params p;
    api_error e;
    int want_url;
    double strength;
    enum MHD_Result ret = MHD_NO;
    if (params_get_number(form, "strength", 0, 1, variation ? 0.7 : -1, &strength, &e) ||
        params_from_openai(form, &p, &want_url, &e)) {
        cJSON_Delete(form);
        return reply_api_error(rq, &e);
    }
    if (variation) free(p.prompt), p.prompt = strdup("");
    gen_edit *ed = p.edit = gen_edit_new();
    if (!ed || !p.prompt) {
        api_error_set(&e, 503, "", "out of memory");
        goto fail;
    }
    if (edit_decode_bytes("image", img->data, img->len, &ed->init, &e)) goto fail;
    if (mask) {
        if (edit_decode_bytes("mask", mask->data, mask->len, &ed->mask, &e)) goto fail;
        if (ed->mask.width != ed->init.width || ed->mask.height != ed->init.height) {
            api_error_set(&e, 400, "mask", "is %dx%d, the image %dx%d: they must be the same size", ed->mask.width,
                          ed->mask.height, ed->init.width, ed->init.height);
            goto fail;
        }
        if (!has_transparency(&ed->mask)) {
            api_error_set(&e, 400, "mask", "has no transparent pixels (fully transparent pixels mark what to edit)");
            goto fail;
        }
    } else if (!variation && has_transparency(&ed->init)) {
        /* OpenAI: without a mask, the image's own transparency is the mask. */
        ed->mask = ed->init;
        ed->mask.infotext = NULL;
        if (!(ed->mask.pixels = malloc((size_t)ed->init.width * ed->init.height * 4))) {
            api_error_set(&e, 503, "", "out of memory");
            goto fail;
        }
        memcpy(ed->mask.pixels, ed->init.pixels, (size_t)ed->init.width * ed->init.height * 4);
    }
    /* The engine repaints where alpha > 128; OpenAI edits where it is 0. */
    ed->invert = ed->mask.pixels != NULL;
    ed->strength = strength >= 0 ? strength : ed->mask.pixels ? 1.0 : 0.75;
    ed->fill = T2I_FILL_ORIGINAL;
    if (edit_check_size(&p, "image", &e)) goto fail;
    char *summary = edit_request_summary(form, ed);
    cJSON_Delete(form);
    job *j = route_submit_as(rq, &p, "openai", summary, &ret);
    cJSON_free(summary);
    return j ? reply_oa_job(rq, j, want_url) : ret;
fail:
    gen_params_free(&p);
    cJSON_Delete(form);
    return reply_api_error(rq, &e);
}

enum MHD_Result route_oa_edits(srv_request *rq) { return image_edit(rq, 0); }
enum MHD_Result route_oa_variations(srv_request *rq) { return image_edit(rq, 1); }

static cJSON *model_object(const char *name)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "id", name);
    cJSON_AddStringToObject(m, "object", "model");
    cJSON_AddNumberToObject(m, "created", 0);
    cJSON_AddStringToObject(m, "owned_by", "t2i");
    return m;
}

enum MHD_Result route_oa_models(srv_request *rq)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(o, "data");
    for (int i = 0; i < g_n_models; i++) cJSON_AddItemToArray(data, model_object(g_models[i].name));
    return reply_json(rq, 200, o);
}

enum MHD_Result route_oa_model(srv_request *rq)
{
    int m = srv_model_find(rq->param);
    if (m < 0) return reply_error(rq, 404, "model", "model: no model named '%s'", rq->param);
    return reply_json(rq, 200, model_object(g_models[m].name));
}
