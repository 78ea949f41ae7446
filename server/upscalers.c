/*
 * upscalers.c — the table of pixel upscalers (see upscalers.h).
 */
#include "server/upscalers.h"
#include "server/queue.h"
#include "server/server.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

srv_upscaler g_upscalers[SRV_MAX_UPSCALERS];
int g_n_upscalers;

int upscalers_add(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) return fprintf(stderr, "t2i-server: --upscaler %s: not found\n", path), -1;
    if (g_n_upscalers == SRV_MAX_UPSCALERS)
        return fprintf(stderr, "t2i-server: --upscaler: at most %d upscalers\n", SRV_MAX_UPSCALERS), -1;
    srv_upscaler *u = &g_upscalers[g_n_upscalers];
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    size_t start = n;
    while (start > 0 && path[start - 1] != '/') start--;
    size_t len = n - start;
    if (S_ISREG(st.st_mode) && len > 12 && !strncmp(path + n - 12, ".safetensors", 12)) len -= 12;
    snprintf(u->name, sizeof u->name, "%.*s", (int)len, path + start);
    snprintf(u->path, sizeof u->path, "%s", path);
    if (upscalers_find(u->name) != UPSCALER_UNKNOWN)
        return fprintf(stderr, "t2i-server: --upscaler %s: the name '%s' is taken\n", path, u->name), -1;
    u->scale = 0;
    g_n_upscalers++;
    return 0;
}

int upscalers_find(const char *name)
{
    if (!strcasecmp(name, "None")) return UPSCALER_NONE;
    if (!strcasecmp(name, "Lanczos")) return UPSCALER_LANCZOS;
    if (!strncasecmp(name, "Latent", 6)) return UPSCALER_LATENT;
    for (int i = 0; i < g_n_upscalers; i++)
        if (!strcmp(g_upscalers[i].name, name)) return i;
    return UPSCALER_UNKNOWN;
}

int hires_from_a1111(const cJSON *o, gen_params *p, long long w, long long h, long long steps, long long images,
                     api_error *e)
{
    double scale, strength;
    long long rx, ry, hs;
    const char *up, *hp, *hn;
    if (params_get_number(o, "hr_scale", 1, 8, 2, &scale, e) ||
        params_get_int(o, "hr_resize_x", 0, 16384, 0, &rx, e) ||
        params_get_int(o, "hr_resize_y", 0, 16384, 0, &ry, e) ||
        params_get_int(o, "hr_second_pass_steps", 0, g_cfg.max_steps, 0, &hs, e) ||
        params_get_number(o, "denoising_strength", 0, 1, 0.7, &strength, e) ||
        params_get_string(o, "hr_upscaler", 128, NULL, &up, e) ||
        params_get_string(o, "hr_prompt", 16384, "", &hp, e) ||
        params_get_string(o, "hr_negative_prompt", 16384, "", &hn, e))
        return -1;
    if (p->best_of > 1) {
        api_error_set(e, 400, "enable_hr", "cannot be combined with best_of");
        return -1;
    }
    int idx = up ? upscalers_find(up) : g_n_upscalers > 0 ? 0 : UPSCALER_LANCZOS;
    if (idx == UPSCALER_LATENT) {
        api_error_set(e, 400, "hr_upscaler", "'%.64s': latent upscaling is not implemented; use a pixel upscaler "
                      "(GET /sdapi/v1/upscalers lists them)", up);
        return -1;
    }
    if (idx == UPSCALER_UNKNOWN) {
        api_error_set(e, 400, "hr_upscaler", "unknown upscaler '%.64s' (GET /sdapi/v1/upscalers lists them)", up);
        return -1;
    }
    /* The target, as t2i_txt2img_hires computes it, checked against --max-side here. */
    long long native = queue_native_size() > 0 ? queue_native_size() : 512;
    long long bw = w ? w : native, bh = h ? h : native, tw, th;
    const char *field = rx || ry ? (rx ? "hr_resize_x" : "hr_resize_y") : "hr_scale";
    if (rx && ry) tw = rx, th = ry;
    else if (rx) tw = rx, th = (rx * bh + bw / 2) / bw;
    else if (ry) th = ry, tw = (ry * bw + bh / 2) / bh;
    else tw = (long long)(bw * scale + 0.5), th = (long long)(bh * scale + 0.5);
    if (tw > g_cfg.max_side || th > g_cfg.max_side) {
        api_error_set(e, 400, field, "the hires target %lldx%lld exceeds --max-side %d", tw, th, g_cfg.max_side);
        return -1;
    }
    if (tw < bw || th < bh) {
        api_error_set(e, 400, field, "the hires target %lldx%lld is smaller than the first pass's %lldx%lld", tw, th,
                      bw, bh);
        return -1;
    }
    if (params_check_cost(tw, th, hs ? hs : steps, images, e)) return -1;
    p->hr = 1;
    p->hr_scale = (float)scale, p->hr_strength = (float)strength;
    p->hr_resize_x = (int)rx, p->hr_resize_y = (int)ry, p->hr_steps = (int)hs;
    p->hr_upscaler = idx == UPSCALER_NONE ? UPSCALER_LANCZOS : idx;
    if ((*hp && !(p->hr_prompt = strdup(hp))) || (*hn && !(p->hr_negative = strdup(hn)))) {
        api_error_set(e, 503, "", "out of memory");
        return -1;
    }
    return 0;
}
