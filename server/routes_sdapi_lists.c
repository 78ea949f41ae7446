/*
 * routes_sdapi_lists.c — the A1111 listing routes clients call on start-up,
 * answered in A1111's shapes with what this engine has (empty lists where
 * the feature does not exist yet):
 *
 *   GET  upscalers                                → "None", "Lanczos" and each
 *                                                    --upscaler: {name, model_name,
 *                                                    model_path (the name: never a
 *                                                    server path), model_url, scale}
 *   GET  face-restorers, realesrgan-models, hypernetworks,
 *        sd-vae, latent-upscale-modes             → []
 *   GET  loras                                    → [{name, alias, path, metadata}]
 *                                                    of --lora-dir ([] without)
 *   GET  embeddings                               → {loaded: {name: {step,
 *                                                    sd_checkpoint, sd_checkpoint_name,
 *                                                    shape, vectors}}, skipped: {…}}
 *                                                    of --embeddings-dir; a file that
 *                                                    cannot be used is "skipped"
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

/* The folder's entries, or none (no folder given, or it cannot be read:
 * said once on stderr, the route still answers). */
static int list_assets(const char *dir, int embeddings, t2i_asset_entry **list, int *n)
{
    *list = NULL, *n = 0;
    if (!dir) return 0;
    if ((embeddings ? t2i_list_embeddings : t2i_list_loras)(dir, list, n) == T2I_OK) return 0;
    fprintf(stderr, "t2i-server: %s: %s\n", embeddings ? "--embeddings-dir" : "--lora-dir", t2i_last_error());
    return -1;
}

enum MHD_Result route_sd_loras(srv_request *rq)
{
    t2i_asset_entry *list;
    int n;
    list_assets(g_cfg.lora_dir, 0, &list, &n);
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", list[i].name);
        cJSON_AddStringToObject(o, "alias", list[i].alias);
        cJSON_AddStringToObject(o, "path", list[i].path);
        cJSON *md = cJSON_AddObjectToObject(o, "metadata");
        if (list[i].error) cJSON_AddStringToObject(md, "error", list[i].error);   /* t2i's addition */
        cJSON_AddItemToArray(a, o);
    }
    t2i_asset_list_free(list, n);
    return reply_json(rq, 200, a);
}

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
    t2i_asset_entry *list;
    int n;
    list_assets(g_cfg.embeddings_dir, 1, &list, &n);
    cJSON *o = cJSON_CreateObject();
    cJSON *loaded = cJSON_AddObjectToObject(o, "loaded"), *skipped = cJSON_AddObjectToObject(o, "skipped");
    for (int i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNullToObject(e, "step");
        cJSON_AddNullToObject(e, "sd_checkpoint");
        cJSON_AddNullToObject(e, "sd_checkpoint_name");
        if (list[i].error) {
            cJSON_AddStringToObject(e, "error", list[i].error);   /* t2i's addition: why it is skipped */
        } else {
            cJSON_AddNumberToObject(e, "shape", list[i].width);
            cJSON_AddNumberToObject(e, "vectors", list[i].vectors);
        }
        cJSON_AddItemToObject(list[i].error ? skipped : loaded, list[i].name, e);
    }
    t2i_asset_list_free(list, n);
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
