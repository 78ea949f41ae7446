/*
 * params.c — request validation (see params.h). cJSON keeps numbers as
 * doubles; an "integer" field must hold an integral double within range,
 * which also bounds it well inside 2^53.
 */
#include "server/params.h"
#include "server/judging.h"
#include "server/styles.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PROMPT 16384
#define MAX_STYLES 32
#define MAX_STYLE_NAME 256
#define MAX_SEED 9007199254740991.0   /* 2^53 - 1: exact in JSON numbers */

void api_error_set(api_error *e, int status, const char *field, const char *fmt, ...)
{
    e->status = status;
    e->code[0] = 0;
    snprintf(e->field, sizeof e->field, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (*field) snprintf(e->message, sizeof e->message, "%s: %s", field, msg);
    else snprintf(e->message, sizeof e->message, "%s", msg);
}

cJSON *params_parse_body(const char *body, size_t n, api_error *e)
{
    if (!body || n == 0) {
        api_error_set(e, 400, "body", "a JSON object is required");
        return NULL;
    }
    const char *end = NULL;
    cJSON *o = cJSON_ParseWithLengthOpts(body, n, &end, 0);
    if (!o) {
        size_t at = end && end >= body ? (size_t)(end - body) : 0;
        api_error_set(e, 400, "body", "malformed JSON near byte %zu", at);
        return NULL;
    }
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        api_error_set(e, 400, "body", "must be a JSON object");
        return NULL;
    }
    return o;
}

static const cJSON *field(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

int params_get_string(const cJSON *o, const char *name, size_t max_len, const char *def, const char **out,
                      api_error *e)
{
    const cJSON *v = field(o, name);
    *out = def;
    if (!v) return 0;
    if (!cJSON_IsString(v)) return api_error_set(e, 400, name, "must be a string"), -1;
    if (strlen(v->valuestring) > max_len) return api_error_set(e, 400, name, "longer than %zu bytes", max_len), -1;
    *out = v->valuestring;
    return 0;
}

int params_get_int(const cJSON *o, const char *name, long long lo, long long hi, long long def, long long *out,
                   api_error *e)
{
    const cJSON *v = field(o, name);
    *out = def;
    if (!v) return 0;
    double d = v->valuedouble;
    if (!cJSON_IsNumber(v) || !isfinite(d) || d != floor(d))
        return api_error_set(e, 400, name, "must be an integer in %lld..%lld", lo, hi), -1;
    if (d < (double)lo || d > (double)hi)
        return api_error_set(e, 400, name, "%.17g outside %lld..%lld", d, lo, hi), -1;
    *out = (long long)d;
    return 0;
}

int params_get_number(const cJSON *o, const char *name, double lo, double hi, double def, double *out, api_error *e)
{
    const cJSON *v = field(o, name);
    *out = def;
    if (!v) return 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return api_error_set(e, 400, name, "must be a number in %g..%g", lo, hi), -1;
    if (v->valuedouble < lo || v->valuedouble > hi)
        return api_error_set(e, 400, name, "%g outside %g..%g", v->valuedouble, lo, hi), -1;
    *out = v->valuedouble;
    return 0;
}

int params_get_bool(const cJSON *o, const char *name, int def, int *out, api_error *e)
{
    const cJSON *v = field(o, name);
    *out = def;
    if (!v) return 0;
    if (!cJSON_IsBool(v)) return api_error_set(e, 400, name, "must be true or false"), -1;
    *out = cJSON_IsTrue(v);
    return 0;
}

/* The model's size rule (t2i_model_size_multiple) at submission; 8 before
 * a model is loaded (the engine checks the rule again when the job runs). */
static int size_multiple(void)
{
    return queue_size_multiple() > 0 ? queue_size_multiple() : 8;
}

static int check_size(const char *name, long long v, api_error *e)
{
    const int m = size_multiple();
    if (v != 0 && v % m) return api_error_set(e, 400, name, "%lld is not a multiple of %d (the model's size rule)", v, m), -1;
    return 0;
}

/* Sampler from sampler_name (or legacy sampler_index) and scheduler. */
static int get_sampler(const cJSON *o, t2i_sampler *out, api_error *e)
{
    const char *name, *legacy, *sched;
    if (params_get_string(o, "sampler_name", 64, NULL, &name, e)) return -1;
    if (params_get_string(o, "sampler_index", 64, NULL, &legacy, e)) return -1;
    if (params_get_string(o, "scheduler", 64, "automatic", &sched, e)) return -1;
    const char *which = name ? "sampler_name" : "sampler_index";
    if (!name) name = legacy ? legacy : "Euler a";
    if (t2i_sampler_from_name(name, out) != T2I_OK)
        return api_error_set(e, 400, which, "unknown sampler '%.64s' (GET /sdapi/v1/samplers lists them)", name), -1;
    if (!*sched || !strcasecmp(sched, "automatic")) return 0;
    if (!strcasecmp(sched, "karras")) {
        if (*out == T2I_SAMPLER_DPMPP_2M) *out = T2I_SAMPLER_DPMPP_2M_KARRAS;
        if (*out != T2I_SAMPLER_DPMPP_2M_KARRAS)
            return api_error_set(e, 400, "scheduler", "'Karras' is available only with 'DPM++ 2M'"), -1;
        return 0;
    }
    return api_error_set(e, 400, "scheduler", "unknown scheduler '%.64s' (automatic, karras)", sched), -1;
}

static int get_styles(const cJSON *o, gen_params *p, api_error *e)
{
    const cJSON *v = field(o, "styles");
    if (!v) return 0;
    if (!cJSON_IsArray(v)) return api_error_set(e, 400, "styles", "must be an array of style names"), -1;
    int n = cJSON_GetArraySize(v);
    if (n > MAX_STYLES) return api_error_set(e, 400, "styles", "more than %d styles", MAX_STYLES), -1;
    p->styles = calloc((size_t)n + 1, sizeof *p->styles);
    if (!p->styles) return api_error_set(e, 503, "styles", "out of memory"), -1;
    int i = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, v) {
        char f[32];
        snprintf(f, sizeof f, "styles[%d]", i);
        if (!cJSON_IsString(s) || !*s->valuestring) return api_error_set(e, 400, f, "must be a non-empty string"), -1;
        if (strlen(s->valuestring) > MAX_STYLE_NAME)
            return api_error_set(e, 400, f, "longer than %d bytes", MAX_STYLE_NAME), -1;
        if (!(p->styles[i++] = strdup(s->valuestring))) return api_error_set(e, 503, f, "out of memory"), -1;
        p->n_styles = i;
    }
    /* Unknown names, bad weights, duplicates: the engine's own check. */
    char *tp = NULL, *tn = NULL;
    t2i_status st = t2i_styles_apply(styles_catalog(), (const char *const *)p->styles, p->n_styles, "", "", &tp, &tn);
    t2i_free(tp), t2i_free(tn);
    if (st != T2I_OK) return api_error_set(e, 400, "styles", "%s", t2i_last_error()), -1;
    return 0;
}

static int set_prompts(gen_params *p, const char *prompt, const char *neg, api_error *e)
{
    /* syntax errors at submission, with the column in the user's own text
     * (styles and expansion are applied later, when the job runs) */
    if (t2i_prompt_check(prompt) != T2I_OK) return api_error_set(e, 400, "prompt", "%s", t2i_last_error()), -1;
    if (neg && t2i_prompt_check(neg) != T2I_OK)
        return api_error_set(e, 400, "negative_prompt", "%s", t2i_last_error()), -1;
    p->prompt = strdup(prompt);
    p->negative_prompt = strdup(neg ? neg : "");
    if (!p->prompt || !p->negative_prompt) return api_error_set(e, 503, "prompt", "out of memory"), -1;
    return 0;
}

/* A1111 options this engine does not implement: accepted only with the
 * value that means "off", refused by name otherwise (never ignored). */
static const struct { const char *name; double off; } unimplemented[] = {
    {"restore_faces", 0}, {"tiling", 0}, {"CLIP_stop_at_last_layers", 1}, {"eta_noise_seed_delta", 0},
};

int params_check_unimplemented(const cJSON *o, const char *prefix, api_error *e)
{
    for (size_t i = 0; i < sizeof unimplemented / sizeof *unimplemented; i++) {
        const cJSON *v = field(o, unimplemented[i].name);
        if (!v) continue;
        double x = cJSON_IsBool(v) ? cJSON_IsTrue(v) : cJSON_IsNumber(v) ? v->valuedouble : -1e300;
        if (x == unimplemented[i].off) continue;
        char name[96];
        snprintf(name, sizeof name, "%s%s", prefix, unimplemented[i].name);
        api_error_set(e, 400, name, "not implemented by this engine (only %g is accepted)", unimplemented[i].off);
        return -1;
    }
    return 0;
}

/* The cost cap: width × height × steps × images, 0 sides counted at the
 * loaded model's native size. */
int params_check_cost(long long w, long long h, long long steps, long long images, api_error *e)
{
    long long native = queue_native_size() > 0 ? queue_native_size() : 512;
    double cost = (double)(w ? w : native) * (double)(h ? h : native) * (double)steps * (double)images;
    if (cost <= g_cfg.max_cost) return 0;
    api_error_set(e, 400, "", "request cost %lldx%lld px × %lld steps × %lld images = %.1f M pixel-steps exceeds "
                  "this server's cap of %.1f M (--max-cost)", w ? w : native, h ? h : native, steps, images,
                  cost / 1e6, g_cfg.max_cost / 1e6);
    return -1;
}

/* Best-of-n (extension): best_of candidates, the best `keep` returned,
 * ranked with best_of_weights {relevance, aesthetic, sharpness}. The job
 * then returns keep images: batch_size becomes keep. */
static int get_best_of(const cJSON *o, gen_params *p, long long bs, long long ni, api_error *e)
{
    long long n, keep;
    if (params_get_int(o, "best_of", 1, 64, 1, &n, e) || params_get_int(o, "keep", 1, n, 1, &keep, e)) return -1;
    t2i_rank_options ro;
    t2i_rank_options_init(&ro);
    double w[3] = {ro.w_relevance, ro.w_aesthetic, ro.w_sharpness};
    const cJSON *wo = field(o, "best_of_weights");
    if (wo && !cJSON_IsObject(wo)) return api_error_set(e, 400, "best_of_weights", "must be an object"), -1;
    static const char *const names[3] = {"relevance", "aesthetic", "sharpness"};
    for (int i = 0; wo && i < 3; i++)
        if (params_get_number(wo, names[i], 0, 100, w[i], &w[i], e)) {
            snprintf(e->field, sizeof e->field, "best_of_weights.%s", names[i]);
            return -1;
        }
    if (n > 1 && (bs != 1 || ni != 1))
        return api_error_set(e, 400, "best_of", "best_of draws its own candidates: batch_size and n_iter must be 1"),
               -1;
    if (n > 1 && !judging_ready())
        return api_error_set(e, 400, "best_of", "no scorer is loaded (t2i-server --scorer DIR, docs/judging.md)"), -1;
    if (n > g_cfg.max_images)
        return api_error_set(e, 400, "best_of", "%lld candidates exceed %d images", n, g_cfg.max_images), -1;
    p->best_of = n > 1 ? (int)n : 0;
    p->keep = (int)keep;
    p->w_relevance = (float)w[0], p->w_aesthetic = (float)w[1], p->w_sharpness = (float)w[2];
    return 0;
}

int params_from_a1111(const cJSON *o, gen_params *p, int *send_images, api_error *e)
{
    memset(p, 0, sizeof *p);
    const char *prompt, *neg;
    long long seed, steps, w, h, bs, ni;
    double cfg;
    int hr;
    if (params_get_string(o, "prompt", MAX_PROMPT, "", &prompt, e) ||
        params_get_string(o, "negative_prompt", MAX_PROMPT, "", &neg, e) ||
        params_get_int(o, "seed", -1, (long long)MAX_SEED, -1, &seed, e) ||
        params_get_int(o, "steps", 1, g_cfg.max_steps, 20, &steps, e) ||
        params_get_number(o, "cfg_scale", 0, 30, 7.0, &cfg, e) ||
        params_get_int(o, "width", 64, g_cfg.max_side, 0, &w, e) || check_size("width", w, e) ||
        params_get_int(o, "height", 64, g_cfg.max_side, 0, &h, e) || check_size("height", h, e) ||
        params_get_int(o, "batch_size", 1, 8, 1, &bs, e) ||
        params_get_int(o, "n_iter", 1, 100, 1, &ni, e) ||
        params_get_bool(o, "send_images", 1, send_images, e) ||
        params_get_bool(o, "enable_hr", 0, &hr, e) ||
        params_get_bool(o, "expand", 0, &p->expand, e) ||
        params_get_bool(o, "expand_liked_styles", 0, &p->expand_liked, e) ||
        get_sampler(o, &p->sampler, e) || get_styles(o, p, e) || get_best_of(o, p, bs, ni, e))
        goto fail;
    p->hr = hr;   /* the hr_* fields: hires_from_a1111 (hires.h), called by the routes */
    if (bs * ni > g_cfg.max_images) {
        api_error_set(e, 400, "n_iter", "batch_size × n_iter = %lld exceeds %d images", bs * ni, g_cfg.max_images);
        goto fail;
    }
    if (params_check_cost(w, h, steps, p->best_of ? p->best_of : bs * ni, e)) goto fail;
    const cJSON *ov = field(o, "override_settings");
    if (ov && !cJSON_IsObject(ov)) {
        api_error_set(e, 400, "override_settings", "must be an object");
        goto fail;
    }
    if (params_check_unimplemented(o, "", e) || (ov && params_check_unimplemented(ov, "override_settings.", e)))
        goto fail;
    const char *ckpt = NULL;
    if (ov && params_get_string(ov, "sd_model_checkpoint", 256, NULL, &ckpt, e)) {
        snprintf(e->field, sizeof e->field, "override_settings.sd_model_checkpoint");
        goto fail;
    }
    p->model = ckpt ? srv_model_find(ckpt) : queue_current_model();
    if (ckpt && p->model < 0) {
        api_error_set(e, 400, "override_settings.sd_model_checkpoint",
                      "unknown model '%.128s' (GET /sdapi/v1/sd-models lists them)", ckpt);
        goto fail;
    }
    p->seed = seed;
    p->steps = (int)steps;
    p->cfg = (float)cfg;
    p->width = (int)w, p->height = (int)h;
    p->batch_size = p->best_of ? p->keep : (int)bs, p->n_iter = (int)ni;
    if (set_prompts(p, prompt, neg, e)) goto fail;
    return 0;
fail:
    gen_params_free(p);
    return -1;
}

static int parse_size(const char *s, int *w, int *h)
{
    char *end;
    long a = strtol(s, &end, 10);
    if (end == s || *end != 'x' || !(end[1] >= '0' && end[1] <= '9')) return -1;
    long b = strtol(end + 1, &end, 10);
    if (*end || a <= 0 || b <= 0 || a > 1 << 20 || b > 1 << 20) return -1;
    *w = (int)a, *h = (int)b;
    return 0;
}

int params_from_openai(const cJSON *o, gen_params *p, int *want_url, api_error *e)
{
    memset(p, 0, sizeof *p);
    *want_url = 0;
    const char *prompt, *size, *fmt, *ofmt, *model;
    long long n;
    if (params_get_string(o, "prompt", 32000, NULL, &prompt, e) ||
        params_get_int(o, "n", 1, g_cfg.max_images < 10 ? g_cfg.max_images : 10, 1, &n, e) ||
        params_get_string(o, "size", 32, "auto", &size, e) ||
        params_get_string(o, "response_format", 32, "b64_json", &fmt, e) ||
        params_get_string(o, "output_format", 32, "png", &ofmt, e) ||
        params_get_string(o, "model", 256, "", &model, e) ||
        params_get_bool(o, "expand", 0, &p->expand, e) || get_styles(o, p, e))
        goto fail;
    if (!prompt || !*prompt) {
        api_error_set(e, 400, "prompt", "a non-empty string is required");
        goto fail;
    }
    p->model = *model ? srv_model_find(model) : queue_current_model();
    if (p->model < 0) {
        api_error_set(e, 404, "model", "the model '%.128s' does not exist (GET /v1/models lists them)", model);
        snprintf(e->code, sizeof e->code, "model_not_found");
        goto fail;
    }
    int stream;
    if (params_get_bool(o, "stream", 0, &stream, e)) goto fail;
    if (stream) {
        api_error_set(e, 400, "stream", "streaming image events is not supported; omit stream or set it to false");
        goto fail;
    }
    *want_url = !strcmp(fmt, "url");
    if (!*want_url && strcmp(fmt, "b64_json")) {
        api_error_set(e, 400, "response_format", "must be 'b64_json' or 'url'");
        goto fail;
    }
    if (strcmp(ofmt, "png")) {
        api_error_set(e, 400, "output_format", "only 'png' is supported");
        goto fail;
    }
    int w = 0, h = 0;
    const int mult = size_multiple();
    if (strcmp(size, "auto") && (parse_size(size, &w, &h) || w % mult || h % mult || w < mult || h < mult ||
                                 w > g_cfg.max_side || h > g_cfg.max_side)) {
        api_error_set(e, 400, "size", "must be 'auto' or 'WxH' with multiples of %d (the model's size rule) in %d..%d",
                      mult, mult, g_cfg.max_side);
        goto fail;
    }
    if (params_check_cost(w, h, 20, n, e)) goto fail;
    p->seed = -1;
    p->steps = 20;
    p->cfg = 7.0f;
    p->sampler = T2I_SAMPLER_EULER_A;
    p->width = w, p->height = h;
    p->batch_size = (int)n, p->n_iter = 1;
    if (set_prompts(p, prompt, "", e)) goto fail;
    return 0;
fail:
    gen_params_free(p);
    return -1;
}
