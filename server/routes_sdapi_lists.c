/*
 * routes_sdapi_lists.c — the A1111 listing routes clients call on start-up,
 * answered in A1111's shapes with what this engine has (empty lists where
 * the feature does not exist yet):
 *
 *   GET  upscalers                                → "None", "Lanczos" and each
 *                                                    --upscaler: {name, model_name,
 *                                                    model_path (the name: never a
 *                                                    server path), model_url, scale}
 *   GET  face-restorers, realesrgan-models, loras, hypernetworks,
 *        sd-vae, latent-upscale-modes             → []
 *   GET  embeddings                               → {loaded: {}, skipped: {}}
 *   GET  scripts                                  → {txt2img: [], img2img: []}
 *   GET  cmd-flags                                → {} (no A1111 flags apply)
 *   GET  memory                                   → {ram: {free, used, total}
 *                                                    (bytes), cuda: {error}}
 *   POST refresh-checkpoints                      → null (the catalog is read
 *                                                    at start)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server/queue.h"
#include "server/routes.h"
#include "server/upscalers.h"

enum MHD_Result route_sd_empty_list(srv_request *rq) { return reply_json(rq, 200, cJSON_CreateArray()); }

static void add_upscaler(cJSON *a, const char *name, const char *model, int scale)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    if (model) cJSON_AddStringToObject(o, "model_name", model), cJSON_AddStringToObject(o, "model_path", model);
    else cJSON_AddNullToObject(o, "model_name"), cJSON_AddNullToObject(o, "model_path");
    cJSON_AddNullToObject(o, "model_url");
    cJSON_AddNumberToObject(o, "scale", scale);
    cJSON_AddItemToArray(a, o);
}

enum MHD_Result route_sd_upscalers(srv_request *rq)
{
    cJSON *a = cJSON_CreateArray();
    add_upscaler(a, "None", NULL, 4);      /* A1111 lists its built-ins with scale 4 */
    add_upscaler(a, "Lanczos", NULL, 4);
    queue_lock();   /* the scales are filled in by the workers as they load */
    for (int i = 0; i < g_n_upscalers; i++) add_upscaler(a, g_upscalers[i].name, g_upscalers[i].name, g_upscalers[i].scale);
    queue_unlock();
    return reply_json(rq, 200, a);
}

enum MHD_Result route_sd_embeddings(srv_request *rq)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddObjectToObject(o, "loaded");
    cJSON_AddObjectToObject(o, "skipped");
    return reply_json(rq, 200, o);
}

enum MHD_Result route_sd_scripts(srv_request *rq)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddArrayToObject(o, "txt2img");
    cJSON_AddArrayToObject(o, "img2img");
    return reply_json(rq, 200, o);
}

enum MHD_Result route_sd_cmd_flags(srv_request *rq) { return reply_json(rq, 200, cJSON_CreateObject()); }

enum MHD_Result route_sd_refresh(srv_request *rq) { return reply_json(rq, 200, cJSON_CreateNull()); }

/* "MemTotal:  123 kB" lines of /proc/meminfo, in bytes (0 if absent). */
static double meminfo(const char *key)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    double v = 0;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':') v = 1024.0 * strtod(line + n + 1, NULL);
    if (f) fclose(f);
    return v;
}

enum MHD_Result route_sd_memory(srv_request *rq)
{
    cJSON *o = cJSON_CreateObject(), *ram = cJSON_AddObjectToObject(o, "ram");
    double total = meminfo("MemTotal"), avail = meminfo("MemAvailable");
    cJSON_AddNumberToObject(ram, "free", avail);
    cJSON_AddNumberToObject(ram, "used", total - avail);
    cJSON_AddNumberToObject(ram, "total", total);
    cJSON *cuda = cJSON_AddObjectToObject(o, "cuda");
    cJSON_AddStringToObject(cuda, "error", "device memory is not reported yet");
    return reply_json(rq, 200, o);
}
