/*
 * routes_ops.c — operations routes and the route table:
 *
 *   GET /health       200 {"status":"ready"}; 503 while the model loads or
 *                     after a fatal engine error (no API key needed)
 *   GET /metrics      Prometheus text (metrics.h)
 *   GET /             the web page (web/index.html)
 *   GET /static/{id}  its assets (files directly in the web folder)
 *
 * Files are read from --web-dir on each request (a few kB; no build step,
 * edits show on reload); names come through the route's {id} matcher, which
 * admits no '/' and no leading '.', so nothing outside the folder is served.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server/metrics.h"
#include "server/routes.h"

#define MAX_WEB_FILE (2 << 20)

const srv_route srv_routes[] = {
    {"GET", "/health", route_health, ROUTE_PUBLIC},
    {"GET", "/metrics", route_metrics, 0},
    {"GET", "/", route_index, 0},
    {"GET", "/static/{id}", route_static, 0},
    {"POST", "/sdapi/v1/txt2img", route_sd_txt2img, ROUTE_ADMIT},
    {"POST", "/sdapi/v1/img2img", route_sd_img2img, ROUTE_ADMIT},
    {"POST", "/sdapi/v1/extra-single-image", route_sd_extra_single, ROUTE_ADMIT},
    {"POST", "/sdapi/v1/extra-batch-images", route_sd_extra_batch, ROUTE_ADMIT},
    {"GET", "/sdapi/v1/progress", route_sd_progress, 0},
    {"POST", "/sdapi/v1/interrupt", route_sd_interrupt, 0},
    {"POST", "/sdapi/v1/skip", route_sd_skip, 0},
    {"GET", "/sdapi/v1/samplers", route_sd_samplers, 0},
    {"GET", "/sdapi/v1/schedulers", route_sd_schedulers, 0},
    {"GET", "/sdapi/v1/sd-models", route_sd_models, 0},
    {"GET", "/sdapi/v1/prompt-styles", route_sd_styles, 0},
    {"GET", "/sdapi/v1/options", route_sd_options_get, 0},
    {"POST", "/sdapi/v1/options", route_sd_options_post, 0},
    {"POST", "/sdapi/v1/png-info", route_sd_png_info, 0},
    {"GET", "/sdapi/v1/upscalers", route_sd_upscalers, 0},
    {"GET", "/sdapi/v1/face-restorers", route_sd_empty_list, 0},
    {"GET", "/sdapi/v1/realesrgan-models", route_sd_empty_list, 0},
    {"GET", "/sdapi/v1/loras", route_sd_loras, 0},
    {"GET", "/sdapi/v1/hypernetworks", route_sd_empty_list, 0},
    {"GET", "/sdapi/v1/sd-vae", route_sd_empty_list, 0},
    {"GET", "/sdapi/v1/latent-upscale-modes", route_sd_empty_list, 0},
    {"GET", "/sdapi/v1/embeddings", route_sd_embeddings, 0},
    {"GET", "/sdapi/v1/scripts", route_sd_scripts, 0},
    {"GET", "/sdapi/v1/cmd-flags", route_sd_cmd_flags, 0},
    {"GET", "/sdapi/v1/memory", route_sd_memory, 0},
    {"POST", "/sdapi/v1/refresh-checkpoints", route_sd_refresh, 0},
    {"POST", "/v1/images/generations", route_oa_generations, ROUTE_ADMIT},
    {"POST", "/v1/images/edits", route_oa_edits, ROUTE_ADMIT},
    {"POST", "/v1/images/variations", route_oa_variations, ROUTE_ADMIT},
    {"GET", "/v1/images/files/{id}", route_oa_image_file, ROUTE_PUBLIC},
    {"GET", "/v1/models", route_oa_models, 0},
    {"GET", "/v1/models/{id}", route_oa_model, 0},
    {"POST", "/v1/jobs", route_jobs_create, ROUTE_ADMIT},
    {"GET", "/v1/jobs/{id}", route_jobs_get, 0},
    {"POST", "/v1/jobs/{id}/cancel", route_jobs_cancel, 0},
    {"GET", "/v1/jobs/{id}/events", route_jobs_events, 0},
    {"POST", "/v1/feedback", route_feedback, 0},
    {"GET", "/v1/feedback/stats", route_feedback_stats, 0},
    {"GET", "/v1/stats", route_feedback_stats, 0},
};
const int srv_n_routes = (int)(sizeof srv_routes / sizeof srv_routes[0]);

enum MHD_Result route_health(srv_request *rq)
{
    srv_health h = queue_health();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", h == SRV_READY ? "ready" : h == SRV_LOADING ? "loading" : "error");
    return reply_json(rq, h == SRV_READY ? 200 : 503, o);
}

enum MHD_Result route_metrics(srv_request *rq)
{
    metrics_device devices[SRV_MAX_DEVICES];
    const int nd = queue_devices(devices, SRV_MAX_DEVICES);
    char *s = metrics_render(queue_depth(), queue_running(), queue_health() == SRV_READY, devices, nd);
    if (!s) return reply_error(rq, 503, "", "out of memory");
    return reply_buffer(rq, 200, "text/plain; version=0.0.4; charset=utf-8", s, strlen(s), 1);
}

static const char *content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot) return "application/octet-stream";
    if (!strcmp(dot, ".html")) return "text/html; charset=utf-8";
    if (!strcmp(dot, ".js")) return "text/javascript; charset=utf-8";
    if (!strcmp(dot, ".css")) return "text/css; charset=utf-8";
    if (!strcmp(dot, ".png")) return "image/png";
    if (!strcmp(dot, ".svg")) return "image/svg+xml";
    return "application/octet-stream";
}

static enum MHD_Result serve_file(srv_request *rq, const char *name)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", g_cfg.web_dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return reply_error(rq, 404, "", "no such file");
    char *buf = malloc(MAX_WEB_FILE + 1);
    size_t n = buf ? fread(buf, 1, MAX_WEB_FILE + 1, f) : 0;
    fclose(f);
    if (!buf || n > MAX_WEB_FILE) {
        free(buf);
        return reply_error(rq, 500, "", "web file unavailable");
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(n, buf, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(buf);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", content_type(name));
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'");
    return reply_response(rq, 200, r);
}

enum MHD_Result route_index(srv_request *rq) { return serve_file(rq, "index.html"); }
enum MHD_Result route_static(srv_request *rq) { return serve_file(rq, rq->param); }
