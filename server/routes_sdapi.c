/*
 * routes_sdapi.c — the AUTOMATIC1111 web UI API (/sdapi/v1/...), as far as
 * unmodified clients (webuiapi, scripts written against A1111) need it:
 *
 *   POST txt2img       → {images: [base64 PNG], parameters: {request with
 *                         defaults filled}, info: "<JSON string: seeds,
 *                         all_seeds, infotexts, image_ids, ...>"}
 *   POST img2img       → as txt2img, from init_images (+ mask) with the
 *                         A1111 editing fields (edit.h)
 *   GET  progress      → {progress, eta_relative, state{job_count,
 *                         sampling_step, sampling_steps, interrupted, ...},
 *                         current_image: null}
 *   POST interrupt     → cancels the running job; its txt2img call returns
 *                         200 with no images and "interrupted": true in info
 *   GET  samplers, schedulers, sd-models, prompt-styles ({name, prompt,
 *                         negative_prompt} + name_zh, id, category)
 *   GET|POST options   → sd_model_checkpoint switches the model
 *   POST png-info      → {info, items, parameters} from a base64 PNG's
 *                         "parameters" chunk (read without decoding pixels)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "server/b64.h"
#include "server/edit.h"
#include "server/hires.h"
#include "server/routes.h"
#include "server/styles.h"
#include "server/uploads.h"

/* The request echoed back with the defaults A1111 would report. */
static cJSON *echo_parameters(const cJSON *req, const gen_params *p)
{
    cJSON *o = cJSON_Duplicate(req, 1);
    static const char *keys[] = {"prompt", "negative_prompt", "styles", "seed", "sampler_name", "steps",
                                 "cfg_scale", "width", "height", "batch_size", "n_iter"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(o, keys[i]);
        if (v && !cJSON_IsNull(v)) continue;
        cJSON_DeleteItemFromObjectCaseSensitive(o, keys[i]);
        switch (i) {
        case 0: cJSON_AddStringToObject(o, keys[i], p->prompt); break;
        case 1: cJSON_AddStringToObject(o, keys[i], p->negative_prompt); break;
        case 2: cJSON_AddArrayToObject(o, keys[i]); break;
        case 3: cJSON_AddNumberToObject(o, keys[i], -1); break;
        case 4: cJSON_AddStringToObject(o, keys[i], t2i_sampler_name(p->sampler)); break;
        case 5: cJSON_AddNumberToObject(o, keys[i], p->steps); break;
        case 6: cJSON_AddNumberToObject(o, keys[i], p->cfg); break;
        case 7: cJSON_AddNumberToObject(o, keys[i], p->width); break;
        case 8: cJSON_AddNumberToObject(o, keys[i], p->height); break;
        case 9: cJSON_AddNumberToObject(o, keys[i], p->batch_size); break;
        case 10: cJSON_AddNumberToObject(o, keys[i], p->n_iter); break;
        }
    }
    return o;
}

/* A1111's info string (processing.py Processed.js), with the lock held. */
static char *info_string(const job *j)
{
    cJSON *o = cJSON_CreateObject();
    const gen_params *p = &j->p;
    cJSON *all_prompts = cJSON_AddArrayToObject(o, "all_prompts");
    cJSON *all_neg = cJSON_AddArrayToObject(o, "all_negative_prompts");
    cJSON *all_seeds = cJSON_AddArrayToObject(o, "all_seeds");
    cJSON *all_sub = cJSON_AddArrayToObject(o, "all_subseeds");
    cJSON *infotexts = cJSON_AddArrayToObject(o, "infotexts");
    cJSON *ids = cJSON_AddArrayToObject(o, "image_ids");
    int n = p->batch_size * p->n_iter;
    const char *fp = j->final_prompt ? j->final_prompt : p->prompt;
    const char *fn = j->final_negative ? j->final_negative : p->negative_prompt;
    for (int i = 0; i < n; i++) {
        cJSON_AddItemToArray(all_prompts, cJSON_CreateString(i < j->n_images ? j->images[i].prompt : fp));
        cJSON_AddItemToArray(all_neg, cJSON_CreateString(fn));
        const double seed = (double)(i < j->n_images ? j->images[i].seed : j->base_seed + (uint64_t)i);
        cJSON_AddItemToArray(all_seeds, cJSON_CreateNumber(seed));
        cJSON_AddItemToArray(all_sub, cJSON_CreateNumber(seed));
    }
    /* extensions: each image's judging (null when no scorer judged it) and
     * the style the prompt expansion picked (null: none) */
    cJSON *scores = cJSON_AddArrayToObject(o, "scores");
    cJSON *exp_styles = cJSON_AddArrayToObject(o, "expansion_styles");
    for (int i = 0; i < j->n_images; i++) {
        const job_image *ji = &j->images[i];
        cJSON_AddItemToArray(exp_styles, ji->expand_style ? cJSON_CreateString(ji->expand_style) : cJSON_CreateNull());
        if (!ji->scored) {
            cJSON_AddItemToArray(scores, cJSON_CreateNull());
            continue;
        }
        cJSON *sc = cJSON_CreateObject();
        cJSON_AddNumberToObject(sc, "clip_score", ji->scores.clip_score);
        if (isnan(ji->scores.aesthetic)) cJSON_AddNullToObject(sc, "aesthetic");
        else cJSON_AddNumberToObject(sc, "aesthetic", ji->scores.aesthetic);
        cJSON_AddNumberToObject(sc, "rank_score", ji->scores.score);
        cJSON_AddNumberToObject(sc, "sharpness", ji->scores.quality.sharpness);
        cJSON_AddNumberToObject(sc, "colourfulness", ji->scores.quality.colourfulness);
        cJSON_AddNumberToObject(sc, "exposure", ji->scores.quality.exposure);
        cJSON_AddNumberToObject(sc, "contrast", ji->scores.quality.contrast);
        cJSON_AddItemToArray(scores, sc);
    }
    if (p->best_of) cJSON_AddNumberToObject(o, "best_of", p->best_of);
    for (int i = 0; i < j->n_images; i++) {
        cJSON_AddItemToArray(infotexts, cJSON_CreateString(j->images[i].infotext));
        cJSON_AddItemToArray(ids, cJSON_CreateString(j->images[i].id));
    }
    cJSON_AddStringToObject(o, "prompt", p->prompt);
    cJSON_AddStringToObject(o, "negative_prompt", p->negative_prompt);
    cJSON_AddNumberToObject(o, "seed", (double)j->base_seed);
    cJSON_AddNumberToObject(o, "subseed", (double)j->base_seed);
    cJSON_AddNumberToObject(o, "subseed_strength", 0);
    int w = j->n_images ? j->images[0].width : p->width, h = j->n_images ? j->images[0].height : p->height;
    cJSON_AddNumberToObject(o, "width", w);
    cJSON_AddNumberToObject(o, "height", h);
    cJSON_AddStringToObject(o, "sampler_name", t2i_sampler_name(p->sampler));
    cJSON_AddNumberToObject(o, "cfg_scale", p->cfg);
    cJSON_AddNumberToObject(o, "steps", p->steps);
    cJSON_AddNumberToObject(o, "batch_size", p->batch_size);
    cJSON_AddBoolToObject(o, "restore_faces", 0);
    cJSON_AddNullToObject(o, "face_restoration_model");
    cJSON_AddStringToObject(o, "sd_model_name", j->model);
    cJSON_AddNullToObject(o, "sd_model_hash");
    cJSON_AddNumberToObject(o, "seed_resize_from_w", -1);
    cJSON_AddNumberToObject(o, "seed_resize_from_h", -1);
    if (p->edit) cJSON_AddNumberToObject(o, "denoising_strength", p->edit->strength);
    else cJSON_AddNullToObject(o, "denoising_strength");
    cJSON_AddObjectToObject(o, "extra_generation_params");
    cJSON_AddNumberToObject(o, "index_of_first_image", 0);
    cJSON *styles = cJSON_AddArrayToObject(o, "styles");
    for (int i = 0; i < p->n_styles; i++) cJSON_AddItemToArray(styles, cJSON_CreateString(p->styles[i]));
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y%m%d%H%M%S", &tm);
    cJSON_AddStringToObject(o, "job_timestamp", ts);
    cJSON_AddNumberToObject(o, "clip_skip", 1);
    cJSON_AddBoolToObject(o, "is_using_inpainting_conditioning", 0);
    cJSON_AddBoolToObject(o, "interrupted", j->state == JOB_CANCELLED);
    cJSON_AddStringToObject(o, "version", "t2i-server");
    cJSON *warnings = cJSON_AddArrayToObject(o, "warnings");
    if (j->warning) cJSON_AddItemToArray(warnings, cJSON_CreateString(j->warning));
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* The answer to a synchronous txt2img / img2img job: 200 {images,
 * parameters, info} when done or interrupted, else the job's error. Takes
 * params; drops the caller's job reference. */
static enum MHD_Result reply_sd_job(srv_request *rq, job *j, cJSON *params, int send_images)
{
    route_wait_job(rq, j);
    queue_lock();
    int ok = j->state == JOB_DONE || (j->state == JOB_CANCELLED && j->interrupted);
    cJSON *o = NULL;
    int status = j->error_status ? j->error_status : 500;
    char err[512];
    snprintf(err, sizeof err, "%s", j->error ? j->error : "generation failed");
    if (ok) {
        o = cJSON_CreateObject();
        cJSON *imgs = cJSON_AddArrayToObject(o, "images");
        for (int i = 0; send_images && i < j->n_images; i++)
            cJSON_AddItemToArray(imgs, cJSON_CreateString(j->images[i].png_b64));
        cJSON_AddItemToObject(o, "parameters", params);
        params = NULL;
        char *info = info_string(j);
        cJSON_AddStringToObject(o, "info", info ? info : "{}");
        cJSON_free(info);
    }
    queue_unlock();
    job_unref(j);
    cJSON_Delete(params);
    if (!ok) return reply_error(rq, status == 409 ? 503 : status, "", "%s", err);
    return reply_json(rq, 200, o);
}

enum MHD_Result route_sd_txt2img(srv_request *rq)
{
    enum MHD_Result ret = MHD_NO;
    cJSON *req = route_body_json(rq, &ret);
    if (!req) return ret;
    gen_params p;
    api_error e;
    int send_images = 1;
    if (params_from_a1111(req, &p, &send_images, &e)) {
        cJSON_Delete(req);
        return reply_api_error(rq, &e);
    }
    if (p.hr && hires_from_a1111(req, &p, &e)) {
        gen_params_free(&p);
        cJSON_Delete(req);
        return reply_api_error(rq, &e);
    }
    cJSON *params = echo_parameters(req, &p);
    cJSON_Delete(req);
    job *j = route_submit(rq, &p, "sdapi", &ret);
    if (!j) {
        cJSON_Delete(params);
        return ret;
    }
    return reply_sd_job(rq, j, params, send_images);
}

/* img2img: txt2img's fields plus the editing ones (edit.h); the images in
 * the echoed parameters are replaced by their sizes, as in the records. */
enum MHD_Result route_sd_img2img(srv_request *rq)
{
    enum MHD_Result ret = MHD_NO;
    cJSON *req = route_body_json(rq, &ret);
    if (!req) return ret;
    gen_params p;
    api_error e;
    int send_images = 1;
    if (params_from_a1111(req, &p, &send_images, &e)) {
        cJSON_Delete(req);
        return reply_api_error(rq, &e);
    }
    if (p.hr) api_error_set(&e, 400, "enable_hr", "the hires fix is for txt2img only");
    if (p.hr || edit_from_a1111(req, &p, &e)) {
        gen_params_free(&p);
        cJSON_Delete(req);
        return reply_api_error(rq, &e);
    }
    char *summary = edit_request_summary(req, p.edit);
    cJSON *sreq = summary ? cJSON_Parse(summary) : NULL;
    cJSON *params = echo_parameters(sreq ? sreq : req, &p);
    cJSON_AddNumberToObject(params, "denoising_strength", p.edit->strength);
    cJSON_Delete(sreq);
    cJSON_Delete(req);
    job *j = route_submit_as(rq, &p, "sdapi", summary, &ret);
    cJSON_free(summary);
    if (!j) {
        cJSON_Delete(params);
        return ret;
    }
    return reply_sd_job(rq, j, params, send_images);
}

enum MHD_Result route_sd_progress(srv_request *rq)
{
    int step = 0, steps = 0, iter = 0, n_iter = 1, interrupted = 0;
    double elapsed = 0;
    int busy = queue_progress(&step, &steps, &iter, &n_iter, &elapsed, &interrupted);
    double progress = busy && steps ? (double)step / steps : 0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "progress", progress);
    cJSON_AddNumberToObject(o, "eta_relative", progress > 0 ? elapsed / progress - elapsed : 0);
    cJSON *st = cJSON_AddObjectToObject(o, "state");
    int per_iter = n_iter ? steps / n_iter : steps;
    cJSON_AddBoolToObject(st, "skipped", 0);
    cJSON_AddBoolToObject(st, "interrupted", interrupted);
    cJSON_AddBoolToObject(st, "stopping_generation", 0);
    cJSON_AddStringToObject(st, "job", busy ? "txt2img" : "");
    cJSON_AddNumberToObject(st, "job_count", queue_depth() + queue_running());
    cJSON_AddStringToObject(st, "job_timestamp", "0");
    cJSON_AddNumberToObject(st, "job_no", iter);
    cJSON_AddNumberToObject(st, "sampling_step", busy ? step - iter * per_iter : 0);
    cJSON_AddNumberToObject(st, "sampling_steps", busy ? per_iter : 0);
    cJSON_AddNullToObject(o, "current_image");
    cJSON_AddNullToObject(o, "textinfo");
    return reply_json(rq, 200, o);
}

enum MHD_Result route_sd_interrupt(srv_request *rq)
{
    queue_interrupt();
    return reply_json(rq, 200, cJSON_CreateObject());
}

enum MHD_Result route_sd_skip(srv_request *rq)
{
    queue_skip();
    return reply_json(rq, 200, cJSON_CreateObject());
}

enum MHD_Result route_sd_samplers(srv_request *rq)
{
    cJSON *a = cJSON_CreateArray();
    for (int s = 0; s < T2I_SAMPLER_COUNT; s++) {
        cJSON *o = cJSON_CreateObject(), *al = cJSON_AddArrayToObject(o, "aliases");
        const t2i_sampler_info *si = t2i_sampler_get_info((t2i_sampler)s);
        cJSON_AddStringToObject(o, "name", si->name);
        cJSON_AddItemToArray(al, cJSON_CreateString(si->id));   /* A1111 lists the short name too */
        for (int k = 0; k < 2; k++)
            if (si->aliases[k]) cJSON_AddItemToArray(al, cJSON_CreateString(si->aliases[k]));
        cJSON *opt = cJSON_AddObjectToObject(o, "options");
        if (si->scheduler) cJSON_AddStringToObject(opt, "scheduler", si->scheduler);
        cJSON_AddItemToArray(a, o);
    }
    return reply_json(rq, 200, a);
}

enum MHD_Result route_sd_schedulers(srv_request *rq)
{
    static const char *names[][2] = {{"automatic", "Automatic"}, {"karras", "Karras"}};
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < 2; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", names[i][0]);
        cJSON_AddStringToObject(o, "label", names[i][1]);
        cJSON_AddNullToObject(o, "aliases");
        cJSON_AddNumberToObject(o, "default_rho", i ? 7.0 : -1.0);
        cJSON_AddBoolToObject(o, "need_inner_model", 0);
        cJSON_AddItemToArray(a, o);
    }
    return reply_json(rq, 200, a);
}

enum MHD_Result route_sd_models(srv_request *rq)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < g_n_models; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "title", g_models[i].name);
        cJSON_AddStringToObject(o, "model_name", g_models[i].name);
        cJSON_AddNullToObject(o, "hash");
        cJSON_AddNullToObject(o, "sha256");
        cJSON_AddStringToObject(o, "filename", g_models[i].name);   /* never the server's path */
        cJSON_AddNullToObject(o, "config");
        cJSON_AddItemToArray(a, o);
    }
    return reply_json(rq, 200, a);
}

enum MHD_Result route_sd_styles(srv_request *rq)
{
    cJSON *a = cJSON_CreateArray();
    const t2i_styles *cat = styles_catalog();
    for (int i = 0; i < t2i_styles_count(cat); i++) {
        const t2i_style *s = t2i_styles_get(cat, i);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", s->name_en);
        cJSON_AddStringToObject(o, "prompt", s->prompt);
        cJSON_AddStringToObject(o, "negative_prompt", s->negative_prompt);
        cJSON_AddStringToObject(o, "name_zh", s->name_zh);
        cJSON_AddStringToObject(o, "id", s->id);
        cJSON_AddStringToObject(o, "category", s->category);
        cJSON_AddItemToArray(a, o);
    }
    return reply_json(rq, 200, a);
}

enum MHD_Result route_sd_options_get(srv_request *rq)
{
    int m = queue_current_model();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "sd_model_checkpoint", m >= 0 ? g_models[m].name : "");
    cJSON_AddNullToObject(o, "sd_checkpoint_hash");
    cJSON_AddStringToObject(o, "samples_format", "png");
    cJSON_AddStringToObject(o, "randn_source", "CPU");
    cJSON_AddNumberToObject(o, "CLIP_stop_at_last_layers", 1);
    cJSON_AddNumberToObject(o, "eta_noise_seed_delta", 0);
    cJSON_AddStringToObject(o, "sd_vae", "Automatic");
    return reply_json(rq, 200, o);
}

enum MHD_Result route_sd_options_post(srv_request *rq)
{
    enum MHD_Result ret = MHD_NO;
    cJSON *o = route_body_json(rq, &ret);
    if (!o) return ret;
    const char *ckpt;
    api_error e;
    if (params_get_string(o, "sd_model_checkpoint", 256, NULL, &ckpt, &e) || params_check_unimplemented(o, "", &e)) {
        cJSON_Delete(o);
        return reply_api_error(rq, &e);
    }
    /* Other options are accepted and ignored (A1111 has hundreds; clients
     * send them back as they read them), except those refused above. */
    if (ckpt) {
        int m = srv_model_find(ckpt);
        char err[300];
        if (m < 0) ret = reply_error(rq, 400, "sd_model_checkpoint", "sd_model_checkpoint: unknown model '%.128s' "
                                     "(GET /sdapi/v1/sd-models lists them)", ckpt);
        else if (m != queue_current_model() && queue_switch_model(m, err, sizeof err))
            ret = reply_error(rq, 500, "sd_model_checkpoint", "sd_model_checkpoint: %s", err);
        else
            ret = reply_json(rq, 200, cJSON_CreateNull());
    } else {
        ret = reply_json(rq, 200, cJSON_CreateNull());
    }
    cJSON_Delete(o);
    return ret;
}

static void add_str(cJSON *o, const char *k, const char *v)
{
    if (v && *v) cJSON_AddStringToObject(o, k, v);
}

enum MHD_Result route_sd_png_info(srv_request *rq)
{
    enum MHD_Result ret = MHD_NO;
    cJSON *o = route_body_json(rq, &ret);
    if (!o) return ret;
    const char *b64 = NULL;
    api_error e;
    int bad = params_get_string(o, "image", g_cfg.max_body, NULL, &b64, &e);
    if (bad || !b64) {
        if (!bad) api_error_set(&e, 400, "image", "required (a base64 PNG)");
        cJSON_Delete(o);
        return reply_error(rq, 400, "image", "%s", e.message);
    }
    unsigned char *png = NULL;
    size_t n = 0, budget = strlen(b64) / 4 * 3 + 3;
    const char *why = NULL;
    int admit = uploads_enter(budget);
    if (admit) {
        cJSON_Delete(o);
        return reply_error(rq, admit, "image", admit == 413 ? "image: decodes to more than %zu bytes "
                           "(--max-decode-bytes)" : "image: the server is decoding other uploads; retry later",
                           g_cfg.max_decode_bytes);
    }
    if (b64_decode(b64, &png, &n, &why)) {
        cJSON_Delete(o);
        uploads_leave(budget);
        return reply_error(rq, 400, "image", "image: invalid base64: %s", why);
    }
    cJSON_Delete(o);
    /* The text chunks only: no pixel is decoded, so a small PNG declaring
     * a huge image costs no more than its text. */
    char *text = NULL;
    t2i_status s = t2i_png_read_text_memory(png, n, &text, NULL, NULL);
    free(png);
    uploads_leave(budget);
    if (s == T2I_ERR_NOMEM) return reply_error(rq, 503, "", "out of memory");
    if (s != T2I_OK) return reply_error(rq, 400, "image", "image: not a valid PNG (%s)", t2i_last_error());
    cJSON *r = cJSON_CreateObject(), *items = cJSON_AddObjectToObject(r, "items");
    cJSON *params = cJSON_AddObjectToObject(r, "parameters");
    cJSON_AddStringToObject(r, "info", text ? text : "");
    if (text) {
        cJSON_AddStringToObject(items, "parameters", text);
        t2i_infotext it;
        if (t2i_infotext_parse(text, &it) == T2I_OK) {
            char buf[64];
            cJSON_AddStringToObject(params, "Prompt", it.prompt ? it.prompt : "");
            cJSON_AddStringToObject(params, "Negative prompt", it.negative ? it.negative : "");
            if (it.steps > 0) snprintf(buf, sizeof buf, "%d", it.steps), cJSON_AddStringToObject(params, "Steps", buf);
            add_str(params, "Sampler", it.sampler);
            if (it.has_cfg) snprintf(buf, sizeof buf, "%g", it.cfg), cJSON_AddStringToObject(params, "CFG scale", buf);
            if (it.has_seed)
                snprintf(buf, sizeof buf, "%llu", (unsigned long long)it.seed), cJSON_AddStringToObject(params, "Seed", buf);
            if (it.width > 0 && it.height > 0) {
                snprintf(buf, sizeof buf, "%d", it.width), cJSON_AddStringToObject(params, "Size-1", buf);
                snprintf(buf, sizeof buf, "%d", it.height), cJSON_AddStringToObject(params, "Size-2", buf);
            }
            add_str(params, "Model", it.model);
            for (int i = 0; i < it.n_extra; i++)
                if (!cJSON_GetObjectItemCaseSensitive(params, it.extra[i].key))
                    cJSON_AddStringToObject(params, it.extra[i].key, it.extra[i].value);
        }
        t2i_infotext_free(&it);
    }
    t2i_free(text);
    return reply_json(rq, 200, r);
}
