/*
 * hires.c — enable_hr and the hr_* fields of an A1111 txt2img request (see
 * hires.h); the worker draws them with t2i_txt2img_hires (queue.c).
 */
#include "server/hires.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server/queue.h"
#include "server/server.h"
#include "server/upscalers.h"

int hires_from_a1111(const cJSON *o, gen_params *p, api_error *e)
{
    const long long w = p->width, h = p->height, steps = p->steps, images = (long long)p->batch_size * p->n_iter;
    p->hr = 0;
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
