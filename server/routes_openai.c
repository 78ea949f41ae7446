/*
 * routes_openai.c — the OpenAI Images API subset that the official clients
 * use for generation:
 *
 *   POST /v1/images/generations  {prompt, n, size, response_format,
 *                                 output_format, model, ...} →
 *                                {created, data: [{b64_json | url,
 *                                 revised_prompt}], output_format, size}
 *   GET  /v1/images/files/{id}.png  the image behind a response_format=url
 *   POST /v1/images/edits, /v1/images/variations → 501 (no image input yet)
 *   GET  /v1/models, /v1/models/{id}
 *
 * revised_prompt is the prompt actually drawn (t2i_prompt_resolve). Two
 * extensions: "styles" (catalog names) and "expand" (prompt expansion).
 * Errors use OpenAI's error object.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
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

enum MHD_Result route_oa_edits(srv_request *rq)
{
    return reply_error(rq, 501, "", "image edits and variations do not exist yet in this engine");
}

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
