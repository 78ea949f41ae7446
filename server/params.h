/*
 * params.h — JSON request bodies → generation parameters, validated field by
 * field. Every rejection names the field ("steps: must be an integer in
 * 1..150") and is a 4xx; nothing in a request can reach the engine
 * unchecked. Limits come from the server configuration (--max-side,
 * --max-steps, --max-images).
 *
 * A1111 schema (txt2img and native jobs): prompt, negative_prompt, styles
 * (names, ids or Chinese names from the catalog, optionally "name:weight";
 * checked by the engine), expand (prompt expansion, an extension),
 * seed (-1 = random), sampler_name (or legacy sampler_index), scheduler
 * ("automatic", or "karras" with DPM++ 2M), steps, cfg_scale, width, height,
 * batch_size, n_iter, send_images, override_settings.sd_model_checkpoint
 * (any listed model, for this request only). restore_faces, tiling and, in
 * override_settings, CLIP_stop_at_last_layers and eta_noise_seed_delta are
 * refused by name unless "off" (not implemented). Other unknown fields are
 * ignored as A1111 does; null means "default". enable_hr and its hr_* fields:
 * p->hr is set; the routes then call hires_from_a1111 (hires.h).
 * Judging extensions (docs/judging.md): best_of N (1..64, candidates;
 * needs a scorer, batch_size = n_iter = 1), keep K (1..N, images
 * returned), best_of_weights {relevance, aesthetic, sharpness} (0..100);
 * expand_liked_styles (with expand: favour the styles users liked for the
 * prompt's subject, records_style_prefs).
 *
 * OpenAI schema (/v1/images/generations): prompt, n, size "WxH" | "auto",
 * response_format "b64_json" | "url", output_format "png", model (one of
 * GET /v1/models, else 404 model_not_found; default: the selected model),
 * stream (true is refused: no image events); quality, style, user,
 * background are accepted and ignored. Extensions: styles and expand as
 * above.
 */
#ifndef T2I_SERVER_PARAMS_H
#define T2I_SERVER_PARAMS_H

#include <cjson/cJSON.h>
#include "server/queue.h"

typedef struct api_error {
    int status;                  /* 400, 413, 429 ... */
    char field[64];              /* the offending field, "" for the body */
    char message[320];
    char code[40];               /* OpenAI's error code string, "" = null */
} api_error;

void api_error_set(api_error *e, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Parse a body as a JSON object. NULL with *e filled on failure. */
cJSON *params_parse_body(const char *body, size_t n, api_error *e);

/* Returns 0, or -1 with *e filled; *out owns its strings on success. */
int params_from_a1111(const cJSON *o, gen_params *out, int *send_images, api_error *e);
/* *want_url: response_format "url" (else "b64_json"). */
int params_from_openai(const cJSON *o, gen_params *out, int *want_url, api_error *e);

/* Refuse A1111 options this engine does not implement (restore_faces,
 * tiling, CLIP_stop_at_last_layers, eta_noise_seed_delta) unless they hold
 * the value meaning "off"; the error names prefix + the option. */
int params_check_unimplemented(const cJSON *o, const char *prefix, api_error *e);

/* Field helpers shared by the routes: absent or null → *out = def. */
int params_get_string(const cJSON *o, const char *name, size_t max_len, const char *def, const char **out,
                      api_error *e);
int params_get_int(const cJSON *o, const char *name, long long lo, long long hi, long long def, long long *out,
                   api_error *e);
int params_get_number(const cJSON *o, const char *name, double lo, double hi, double def, double *out, api_error *e);
int params_get_bool(const cJSON *o, const char *name, int def, int *out, api_error *e);
/* The --max-cost cap on width × height × steps × images (0 sides count at
 * the loaded model's native size). */
int params_check_cost(long long w, long long h, long long steps, long long images, api_error *e);

#endif
