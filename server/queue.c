/*
 * queue.c — bounded FIFO of generation jobs, the registry of recent jobs, and
 * the worker threads, one per device, each owning its t2i engine and model
 * (see queue.h).
 *
 * One mutex guards everything here; one condition variable (on the
 * monotonic clock) is broadcast on every change, which keeps the waiting
 * logic of handlers, SSE streams and the worker trivially correct at the
 * price of some spurious wake-ups — at most one broadcast per denoising step.
 */
#include "server/queue.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "server/b64.h"
#include "server/edit.h"
#include "server/judging.h"
#include "server/metrics.h"
#include "server/records.h"
#include "server/styles.h"
#include "server/upscalers.h"

#define MAX_GROUP 64

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;
static job *q_head, *q_tail;
static int q_len;
static int slots_used;           /* reserved + queued + running */
static job *reg_head;            /* newest first */
static int n_finished;
static int accepting, worker_stop;
static int selected_model = -1;  /* drawn with when a request names none (options) */
static int native_size;          /* the loaded model's default image side */
static int size_multiple;        /* and its size rule (t2i_model_size_multiple) */

/* One worker per device (--devices); each owns its engine and model. A
 * device whose engine fails (T2I_ERR_DEVICE, T2I_ERR_INTERNAL) is taken out
 * of rotation: its job fails naming it, its worker ends, the others go on. */
typedef enum dev_state { DEV_LOADING, DEV_READY, DEV_OUT } dev_state;
typedef struct device_worker {
    int index, id;               /* position in --devices, the device's id */
    dev_state state;
    t2i_engine *engine;
    t2i_model *model;
    int cur_model;               /* loaded here, -1 none */
    job *running[MAX_GROUP];
    int n_running;
    long jobs_ok, jobs_failed;
    double busy_s;
    int inject_fault;            /* T2I_SERVER_FAULT_DEVICE: fail the first job as a broken device */
    int lent;                    /* its model is in use by another worker's CFG-parallel job */
    judge judge;                 /* its scorer, on its engine (server/judging.h) */
    long lent_jobs;
    t2i_upscaler *ups[SRV_MAX_UPSCALERS];   /* g_upscalers, loaded on its engine */
    pthread_t th;
    int started;
} device_worker;
static device_worker devs[SRV_MAX_DEVICES];
static int n_devs;

typedef struct switch_req { int index, taken, done, rc; char err[256]; } switch_req;
static switch_req *pending_switch;

/* With the lock held: READY while a device serves, LOADING while one may
 * still come up, else FATAL. */
static srv_health health_locked(void)
{
    int loading = 0;
    for (int d = 0; d < n_devs; d++) {
        if (devs[d].state == DEV_READY) return SRV_READY;
        loading |= devs[d].state == DEV_LOADING;
    }
    return loading || n_devs == 0 ? SRV_LOADING : SRV_FATAL;
}

static int running_locked(void)
{
    int n = 0;
    for (int d = 0; d < n_devs; d++) n += devs[d].n_running;
    return n;
}

void queue_lock(void) { pthread_mutex_lock(&mu); }
void queue_unlock(void) { pthread_mutex_unlock(&mu); }

void job_ref(job *j)
{
    pthread_mutex_lock(&mu);
    j->refs++;
    pthread_mutex_unlock(&mu);
}

void job_unref(job *j)
{
    if (!j) return;
    pthread_mutex_lock(&mu);
    int last = --j->refs == 0;
    pthread_mutex_unlock(&mu);
    if (last) job_free(j);
}

int job_finished(const job *j) { return j->state >= JOB_DONE; }

static void deadline_after(struct timespec *ts, double s)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    long long ns = ts->tv_nsec + (long long)(s * 1e9);
    ts->tv_sec += ns / 1000000000LL;
    ts->tv_nsec = ns % 1000000000LL;
}

int job_wait_locked(job *j, unsigned *seen, double timeout_s)
{
    struct timespec ts;
    deadline_after(&ts, timeout_s);
    while (j->version == *seen && !job_finished(j))
        if (pthread_cond_timedwait(&cv, &mu, &ts) == ETIMEDOUT) break;
    *seen = j->version;
    return job_finished(j);
}

/* ---- registry ------------------------------------------------------------ */

static void evict_locked(void)
{
    while (n_finished > g_cfg.keep_jobs) {
        job **pp = &reg_head, **oldest = NULL;
        for (; *pp; pp = &(*pp)->reg_next)
            if (job_finished(*pp)) oldest = pp;
        if (!oldest) break;
        job *j = *oldest;
        *oldest = j->reg_next;
        n_finished--;
        if (--j->refs == 0) job_free(j);
    }
}

job *job_find(const char *id)
{
    pthread_mutex_lock(&mu);
    job *j = reg_head;
    while (j && strcmp(j->id, id) != 0) j = j->reg_next;
    if (j) j->refs++;
    pthread_mutex_unlock(&mu);
    return j;
}

/* ---- admission and submission -------------------------------------------- */

/* Take one of queue_max + devices slots (the waiting jobs plus one running
 * per device). */
static int reserve(void)
{
    pthread_mutex_lock(&mu);
    int ok = accepting && slots_used < g_cfg.queue_max + (n_devs > 0 ? n_devs : 1);
    if (ok) slots_used++;
    pthread_mutex_unlock(&mu);
    return ok;
}

static void release(void)
{
    pthread_mutex_lock(&mu);
    slots_used--;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

job *queue_submit(gen_params *p, const char *api, const char *request_json, int *refusal)
{
    if (!reserve()) {
        gen_params_free(p);
        *refusal = 429;
        return NULL;
    }
    job *j = calloc(1, sizeof *j);
    if (j && request_json && !(j->request_json = strdup(request_json))) free(j), j = NULL;
    if (!j) {
        gen_params_free(p);
        release();
        *refusal = 503;
        return NULL;
    }
    srv_random_id(j->id);
    j->api = api;
    j->p = *p;
    memset(p, 0, sizeof *p);
    j->base_seed = j->p.seed >= 0 ? (uint64_t)j->p.seed : srv_random_seed();
    j->steps = j->p.steps * j->p.n_iter;
    j->t_submit = srv_now();
    j->deadline = g_cfg.job_timeout_s > 0 ? j->t_submit + g_cfg.job_timeout_s : 0;
    j->state = JOB_QUEUED;
    j->refs = 2;                 /* registry + caller */
    /* The row exists before anyone hears of the job (202 or a wait), and
     * before the worker can see it, so the final write always comes last. */
    records_job(j);
    pthread_mutex_lock(&mu);
    j->reg_next = reg_head, reg_head = j;
    if (q_tail) q_tail->next = j;
    else q_head = j;
    q_tail = j, q_len++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return j;
}

/* With the lock held: a job leaves the system (slot freed). */
static void finish_locked(job *j, job_state st)
{
    j->state = st;
    j->t_end = srv_now();
    j->version++;
    slots_used--;
    n_finished++;
}

static void unlink_queued_locked(job *j)
{
    job **pp = &q_head, *prev = NULL;
    while (*pp && *pp != j) prev = *pp, pp = &(*pp)->next;
    if (!*pp) return;
    *pp = j->next;
    if (q_tail == j) q_tail = prev;
    j->next = NULL;
    q_len--;
}

int job_cancel(job *j)
{
    pthread_mutex_lock(&mu);
    int done = job_finished(j);
    if (!done) {
        j->cancel = 1;
        j->version++;
        if (j->state == JOB_QUEUED) {
            unlink_queued_locked(j);
            free(j->error), j->error = strdup("cancelled");
            finish_locked(j, JOB_CANCELLED);
            records_job(j);
            evict_locked();
        }
        pthread_cond_broadcast(&cv);
    }
    pthread_mutex_unlock(&mu);
    return done;
}

int queue_skip(void)
{
    pthread_mutex_lock(&mu);
    for (int d = 0; d < n_devs; d++)
        for (int i = 0; i < devs[d].n_running; i++) devs[d].running[i]->skip = 1;
    int n = running_locked();
    pthread_mutex_unlock(&mu);
    return n;
}

int queue_interrupt(void)
{
    pthread_mutex_lock(&mu);
    for (int d = 0; d < n_devs; d++)
        for (int i = 0; i < devs[d].n_running; i++)
            devs[d].running[i]->cancel = devs[d].running[i]->interrupted = 1;
    int n = running_locked();
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return n;
}

/* ---- status ------------------------------------------------------------ */

srv_health queue_health(void)
{
    pthread_mutex_lock(&mu);
    srv_health h = health_locked();
    pthread_mutex_unlock(&mu);
    return h;
}

int queue_depth(void)
{
    pthread_mutex_lock(&mu);
    int n = q_len;
    pthread_mutex_unlock(&mu);
    return n;
}

int queue_running(void)
{
    pthread_mutex_lock(&mu);
    int n = running_locked();
    pthread_mutex_unlock(&mu);
    return n;
}

int queue_current_model(void)
{
    pthread_mutex_lock(&mu);
    int m = selected_model;
    pthread_mutex_unlock(&mu);
    return m;
}

int queue_image_png(const char *image_id, double max_age_s, unsigned char **png, size_t *n)
{
    int found = 0;
    double now = srv_now();
    *png = NULL, *n = 0;
    pthread_mutex_lock(&mu);
    for (job *j = reg_head; j && !found; j = j->reg_next) {
        if (j->state != JOB_DONE || now - j->t_end > max_age_s) continue;
        for (int i = 0; i < j->n_images && !found; i++) {
            if (strcmp(j->images[i].id, image_id)) continue;
            const char *why;
            found = b64_decode(j->images[i].png_b64, png, n, &why) == 0 ? 1 : -1;
        }
    }
    pthread_mutex_unlock(&mu);
    return found;
}

int queue_native_size(void)
{
    pthread_mutex_lock(&mu);
    int n = native_size;
    pthread_mutex_unlock(&mu);
    return n;
}

int queue_size_multiple(void)
{
    pthread_mutex_lock(&mu);
    int n = size_multiple;
    pthread_mutex_unlock(&mu);
    return n;
}

int queue_progress(int *step, int *steps, int *iter, int *n_iter, double *elapsed, int *interrupted)
{
    pthread_mutex_lock(&mu);
    job *j = NULL;
    for (int d = 0; d < n_devs && !j; d++)
        if (devs[d].n_running) j = devs[d].running[0];
    int busy = j != NULL;
    if (busy) {
        *step = j->step, *steps = j->steps, *iter = j->iter, *n_iter = j->p.n_iter;
        *elapsed = srv_now() - j->t_start;
        *interrupted = j->interrupted;
    }
    pthread_mutex_unlock(&mu);
    return busy;
}

int queue_devices(metrics_device *out, int max)
{
    pthread_mutex_lock(&mu);
    int n = n_devs < max ? n_devs : max;
    for (int i = 0; i < n; i++) {
        const device_worker *w = &devs[i];
        out[i] = (metrics_device){w->id,          w->state == DEV_READY, w->n_running > 0 || w->lent,
                                  w->jobs_ok,     w->jobs_failed,        w->lent_jobs,
                                  w->busy_s};
    }
    pthread_mutex_unlock(&mu);
    return n;
}

/* ---- the workers ----------------------------------------------------------- */

static int load_model(device_worker *w, int index, char *err, size_t n)
{
    t2i_model *m = NULL;
    t2i_status s = t2i_model_load(w->engine, g_models[index].path, &m);
    if (s != T2I_OK) {
        /* The message names files under the server's folders; clients get
         * only the model's name and the status. */
        fprintf(stderr, "t2i-server: loading model '%s': %s\n", g_models[index].name, t2i_last_error());
        snprintf(err, n, "model '%s' could not be loaded (%s)", g_models[index].name, t2i_status_name(s));
        return -1;
    }
    t2i_model_destroy(w->model);
    w->model = m;
    judging_model_loaded(&w->judge, w->engine, g_models[index].path);
    pthread_mutex_lock(&mu);
    native_size = t2i_model_default_size(m);
    size_multiple = t2i_model_size_multiple(m);
    pthread_mutex_unlock(&mu);
    return 0;
}

typedef struct group_ctx { job **jobs; int n; int iter; } group_ctx;

static int on_progress(void *user, int step, int steps)
{
    group_ctx *g = user;
    int all_cancelled = 1, skip = 0;
    double now = srv_now();
    pthread_mutex_lock(&mu);
    for (int i = 0; i < g->n; i++) {
        job *j = g->jobs[i];
        j->step = g->iter * steps + step;
        j->iter = g->iter;
        j->version++;
        if (j->deadline > 0 && now > j->deadline && !j->cancel) j->cancel = j->timed_out = 1;
        all_cancelled &= j->cancel;
        skip |= j->skip;
    }
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return all_cancelled || skip;
}

static int compatible(const job *a, const job *b, uint64_t next_seed)
{
    const gen_params *x = &a->p, *y = &b->p;
    if (x->n_iter != 1 || y->n_iter != 1 || x->edit || y->edit) return 0;   /* edits draw alone */
    if (strcmp(x->prompt, y->prompt) || strcmp(x->negative_prompt, y->negative_prompt)) return 0;
    if (x->steps != y->steps || x->sampler != y->sampler || x->cfg != y->cfg || x->model != y->model) return 0;
    /* An expansion depends on the call's seed: expanded jobs draw alone. */
    if (x->width != y->width || x->height != y->height || x->expand || y->expand) return 0;
    if (x->best_of > 1 || y->best_of > 1 || x->hr || y->hr || x->extras || y->extras)
        return 0;   /* best-of, hires and extras run alone */
    if (x->n_styles != y->n_styles) return 0;
    for (int i = 0; i < x->n_styles; i++)
        if (strcmp(x->styles[i], y->styles[i])) return 0;
    return y->seed < 0 || b->base_seed == next_seed;
}

/* With the lock held: take the head job and the compatible ones after it. */
static int take_group_locked(job **g)
{
    int n = 0, images = 0;
    job *head = q_head;
    g[n++] = head, images = head->p.batch_size;
    unlink_queued_locked(head);
    uint64_t next = head->base_seed + (uint64_t)head->p.batch_size;
    for (job *j = q_head, *nx; j && n < MAX_GROUP; j = nx) {
        nx = j->next;
        if (images + j->p.batch_size > g_cfg.batch_max || !compatible(head, j, next)) continue;
        unlink_queued_locked(j);
        if (j->p.seed < 0) j->base_seed = next;
        next += (uint64_t)j->p.batch_size;
        images += j->p.batch_size;
        g[n++] = j;
    }
    return n;
}

static int status_to_http(t2i_status s)
{
    switch (s) {
    case T2I_ERR_INVALID_ARG: case T2I_ERR_UNSUPPORTED: return 400;
    case T2I_ERR_NOMEM: return 503;
    default: return 500;
    }
}

/* Encode one generated image into a job's result slot (judged with jd's
 * scorer unless scores are given). */
static int store_image(judge *jd, job *j, int slot, t2i_image *img, const char *drawn, const t2i_image_scores *scores,
                       const char *expand_style)
{
    void *png = NULL;
    size_t n = 0;
    if (t2i_png_encode_memory(img, &png, &n) != T2I_OK) return -1;
    job_image *ji = &j->images[slot];
    srv_random_id(ji->id);
    ji->seed = img->seed;
    ji->width = img->width, ji->height = img->height;
    ji->png_b64 = b64_encode(png, n);
    ji->infotext = img->infotext ? strdup(img->infotext) : strdup("");
    ji->prompt = strdup(drawn);
    ji->expand_style = expand_style;
    if (scores) ji->scores = *scores, ji->scored = 1;
    else ji->scored = judging_score(jd, img, drawn, &ji->scores) == 0;
    free(png);
    return ji->png_b64 && ji->infotext && ji->prompt ? 0 : -1;
}

/* A size more than 2× off the model's native side (either way) draws
 * repeated or broken compositions: say so in the result. */
static void size_warning(job **g, int n, int native)
{
    const gen_params *p = &g[0]->p;
    int w = p->width ? p->width : native, h = p->height ? p->height : native;
    if (native <= 0 || (2 * w >= native && w <= 2 * native && 2 * h >= native && h <= 2 * native)) return;
    char msg[200];
    snprintf(msg, sizeof msg, "size %dx%d is far from the model's native %dx%d: expect repeated or broken "
             "composition", w, h, native, native);
    pthread_mutex_lock(&mu);
    for (int i = 0; i < n; i++)
        if (!g[i]->warning) g[i]->warning = strdup(msg);
    pthread_mutex_unlock(&mu);
}

/* After a cancelled call: 1 when it was a skip of the iteration (some job
 * asked to skip, not every job is cancelled); clears the skip requests. */
static int take_skip(job **g, int n)
{
    int skip = 0, all_cancelled = 1;
    pthread_mutex_lock(&mu);
    for (int i = 0; i < n; i++) {
        skip |= g[i]->skip;
        all_cancelled &= g[i]->cancel;
        g[i]->skip = 0;
    }
    pthread_mutex_unlock(&mu);
    return skip && !all_cancelled;
}

static const char deadline_message[] = "deadline exceeded: the job ran past --job-timeout";

/* With the lock held: queued jobs already past their deadline fail unrun. */
static void expire_queued_locked(double now)
{
    for (job *j = q_head, *nx; j; j = nx) {
        nx = j->next;
        if (!(j->deadline > 0 && now > j->deadline)) continue;
        unlink_queued_locked(j);
        j->timed_out = 1;
        j->error = strdup(deadline_message);
        j->error_status = 504;
        finish_locked(j, JOB_FAILED);
        records_job(j);
    }
    evict_locked();
}

/* An editing job's request: its init image, mask and options over tp. */
static void edit_request(const gen_edit *ed, const t2i_txt2img_params *tp, t2i_img2img_params *ip)
{
    t2i_img2img_params_init(ip);
    ip->base = *tp;
    ip->init_image = &ed->init;
    ip->mask = ed->mask.pixels ? &ed->mask : NULL;
    ip->strength = (float)ed->strength;
    ip->resize_mode = ed->resize_mode;
    ip->mask_blur = ed->mask_blur;
    ip->inpainting_fill = ed->fill;
    ip->inpaint_full_res = ed->full_res;
    ip->inpaint_full_res_padding = ed->full_res_padding;
    ip->mask_invert = ed->invert;
    ip->image_guidance_scale = ed->image_cfg;
}

/* best-of-n on w's model with w's scorer, of txt2img or of the job's edit:
 * draw p->best_of, keep p->keep (tp's batch_size becomes 1: the kept images
 * fill the job's slots). */
static t2i_status run_best_of(device_worker *w, const gen_params *p, t2i_txt2img_params *tp, t2i_image **imgs,
                              t2i_image_scores **scores, int *count)
{
    t2i_rank_options ro;
    t2i_rank_options_init(&ro);
    ro.w_relevance = p->w_relevance, ro.w_aesthetic = p->w_aesthetic, ro.w_sharpness = p->w_sharpness;
    tp->batch_size = 1;
    if (p->edit) {
        t2i_img2img_params ip;
        edit_request(p->edit, tp, &ip);
        return t2i_best_of_img2img(w->model, judging_scorer(&w->judge), &ip, p->best_of, p->keep, &ro, imgs, scores,
                                   count);
    }
    return t2i_best_of(w->model, judging_scorer(&w->judge), tp, p->best_of, p->keep, &ro, imgs, scores, count);
}

/* txt2img with the hires fix (enable_hr) on w's model and upscaler. */
static t2i_status run_hires(device_worker *w, const gen_params *p, const t2i_txt2img_params *tp, t2i_image **imgs,
                            int *count)
{
    t2i_hires_params h;
    t2i_hires_params_init(&h);
    h.scale = p->hr_scale;
    h.resize_x = p->hr_resize_x, h.resize_y = p->hr_resize_y;
    h.steps = p->hr_steps;
    h.denoising_strength = p->hr_strength;
    h.prompt = p->hr_prompt, h.negative_prompt = p->hr_negative;
    h.upscaler = p->hr_upscaler >= 0 ? w->ups[p->hr_upscaler] : NULL;
    h.max_side = g_cfg.max_side;
    return t2i_txt2img_hires(w->model, tp, &h, imgs, count);
}

/* Extras: each image upscaled by w's copy of the upscaler (UPSCALER_NONE:
 * returned as given, as RGB); resize_mode 1 centre-crops to the target. */
static t2i_status run_extras(device_worker *w, const gen_extras *x, t2i_image **imgs, int *count)
{
    t2i_image *out = calloc((size_t)x->n, sizeof *out);
    if (!out) return T2I_ERR_NOMEM;
    t2i_status s = T2I_OK;
    int done = 0;
    for (; s == T2I_OK && done < x->n; done++) {
        const t2i_image *in = &x->images[done];
        t2i_image *o = &out[done];
        t2i_upscale_params up;
        t2i_upscale_params_init(&up);
        up.max_side = g_cfg.max_side;
        up.tile = 256;   /* memory bounded by the tile whatever the image */
        if (x->to_w) {
            double sw = (double)x->to_w / in->width, sh = (double)x->to_h / in->height;
            up.scale = (float)(sw > sh ? sw : sh);
            if (up.scale < 1) up.scale = 1;
        } else {
            up.scale = x->scale;
        }
        if (x->upscaler >= 0) {
            s = t2i_upscale_image(w->ups[x->upscaler], in, &up, o);
        } else {   /* "None": the image as given, alpha dropped */
            o->width = in->width, o->height = in->height, o->channels = 3;
            o->pixels = malloc((size_t)in->width * in->height * 3);
            if (!o->pixels) s = T2I_ERR_NOMEM;
            for (long i = 0; o->pixels && i < (long)in->width * in->height; i++)
                memcpy(o->pixels + 3 * i, in->pixels + (long)in->channels * i, 3);
        }
        if (s == T2I_OK && x->to_w && (o->width > x->to_w || o->height > x->to_h)) {
            /* resize_mode 1 (upscaling_crop): the centre of the target's size */
            int cw = o->width < x->to_w ? o->width : x->to_w, ch = o->height < x->to_h ? o->height : x->to_h;
            int x0 = (o->width - cw) / 2, y0 = (o->height - ch) / 2;
            for (int y = 0; y < ch; y++)
                memmove(o->pixels + (size_t)y * cw * 3, o->pixels + ((size_t)(y + y0) * o->width + x0) * 3,
                        (size_t)cw * 3);
            o->width = cw, o->height = ch;
        }
    }
    if (s != T2I_OK) {
        t2i_images_free(out, done);
        return s;
    }
    *imgs = out, *count = x->n;
    return T2I_OK;
}

/* An editing job (never merged): the same call with its init image, mask
 * and options. */
static t2i_status run_edit(t2i_model *model, const gen_edit *ed, const t2i_txt2img_params *tp, t2i_image **imgs, int *count)
{
    t2i_img2img_params ip;
    edit_request(ed, tp, &ip);
    return t2i_img2img(model, &ip, imgs, count);
}

/* A job of at least --parallel-min-pixels with guidance borrows an idle
 * device that has the same model loaded, for CFG parallelism (the pair's
 * images equal one device's: docs/multi_gpu.md). The borrowed worker takes
 * no job and no model switch until it is returned (in run_group). */
static device_worker *borrow_peer(device_worker *w, const gen_params *p)
{
    if (g_cfg.parallel_min_pixels <= 0 || !(p->cfg > 1.0f) || p->edit || p->best_of > 1 || p->hr || p->extras) return NULL;   /* edits, best-of and hires run on one device */
    device_worker *peer = NULL;
    pthread_mutex_lock(&mu);
    const long px = (long)(p->width ? p->width : native_size) * (p->height ? p->height : native_size);
    for (int d = 0; d < n_devs && px >= g_cfg.parallel_min_pixels && !peer; d++) {
        device_worker *o = &devs[d];
        if (o != w && o->state == DEV_READY && !o->n_running && !o->lent && o->model && o->cur_model == w->cur_model)
            peer = o;
    }
    if (peer) peer->lent = 1;
    pthread_mutex_unlock(&mu);
    return peer;
}

static void run_group(device_worker *w, job **g, int n)
{
    t2i_model *model = w->model;
    group_ctx ctx = {g, n, 0};
    const gen_params *p = &g[0]->p;
    int batch = 0;
    for (int i = 0; i < n; i++) {
        g[i]->images = calloc((size_t)g[i]->p.batch_size * g[i]->p.n_iter, sizeof(job_image));
        batch += g[i]->p.batch_size;
    }
    t2i_status s = T2I_OK;
    char err[512] = "";
    /* The request's model (override_settings.sd_model_checkpoint, OpenAI
     * "model", else the one selected when it was submitted). */
    if (p->model >= 0 && p->model != w->cur_model && w->engine) {
        char why[256];
        if (load_model(w, p->model, why, sizeof why) == 0) {
            model = w->model;
            pthread_mutex_lock(&mu);
            w->cur_model = p->model;
            pthread_mutex_unlock(&mu);
        } else {
            s = T2I_ERR_NOMEM, snprintf(err, sizeof err, "%s", why);   /* 503: the server keeps serving */
        }
    }
    if (!model) s = T2I_ERR_DEVICE, snprintf(err, sizeof err, "no model is loaded");
    else size_warning(g, n, t2i_model_default_size(model));
    device_worker *peer = s == T2I_OK ? borrow_peer(w, p) : NULL;
    for (int i = 0; i < n; i++)
        if (!g[i]->images) s = T2I_ERR_NOMEM, snprintf(err, sizeof err, "out of memory");
    /* Styles users liked, per subject, from the records as they are now
     * (the same snapshot and seed give the same expansion). */
    t2i_style_pref *prefs = NULL;
    int n_prefs = 0;
    if (s == T2I_OK && p->expand && p->expand_liked && records_style_prefs(&prefs, &n_prefs) != 0) prefs = NULL, n_prefs = 0;
    if (s == T2I_OK && p->best_of > 1 && !judging_scorer(&w->judge))
        s = T2I_ERR_INVALID_ARG, snprintf(err, sizeof err, "best_of: no scorer is loaded (t2i-server --scorer DIR)");
    double t0 = srv_now();
    int produced = 0, stored[MAX_GROUP] = {0};
    for (int it = 0; s == T2I_OK && it < p->n_iter; it++) {
        t2i_txt2img_params tp;
        t2i_txt2img_params_init(&tp);
        tp.prompt = p->prompt;
        tp.negative_prompt = p->negative_prompt;
        tp.seed = g[0]->base_seed + (uint64_t)it * p->batch_size;
        tp.steps = p->steps;
        tp.guidance_scale = p->cfg;
        tp.width = p->width, tp.height = p->height;
        tp.batch_size = batch;
        tp.sampler = p->sampler;
        tp.styles = (const char *const *)p->styles;
        tp.n_styles = p->n_styles;
        tp.style_catalog = styles_catalog();
        tp.expand = p->expand;
        tp.style_prefs = prefs;
        tp.n_style_prefs = n_prefs;
        tp.lora_dir = g_cfg.lora_dir;
        tp.embedding_dir = g_cfg.embeddings_dir;
        tp.progress = on_progress;
        tp.progress_user = &ctx;
        ctx.iter = it;
        /* What this call draws (an expansion depends on its seed). */
        char *fp = NULL, *fn = NULL;
        if (t2i_prompt_resolve(model, &tp, &fp, &fn) != T2I_OK) t2i_free(fp), t2i_free(fn), fp = fn = NULL;
        if (it == 0 && fp) {
            pthread_mutex_lock(&mu);
            for (int i = 0; i < n; i++) {
                g[i]->final_prompt = strdup(fp);
                g[i]->final_negative = strdup(fn);
            }
            pthread_mutex_unlock(&mu);
        }
        const char *expand_style = NULL;
        if (p->expand && t2i_prompt_expansion_style(model, &tp, &expand_style) != T2I_OK) expand_style = NULL;
        t2i_image *imgs = NULL;
        t2i_image_scores *scores = NULL;
        int count = 0;
        const int injected = w->inject_fault;   /* a test's broken device (docs/server.md) */
        w->inject_fault = 0;
        t2i_parallel_options po;
        t2i_parallel_options_init(&po);
        po.mode = T2I_PARALLEL_CFG;
        po.timeout_ms = 600000;
        t2i_model *pair[2] = {model, peer ? peer->model : NULL};
        s = injected ? T2I_ERR_DEVICE
            : p->best_of > 1 ? run_best_of(w, p, &tp, &imgs, &scores, &count)
            : p->hr   ? run_hires(w, p, &tp, &imgs, &count)
            : p->extras ? run_extras(w, p->extras, &imgs, &count)
            : p->edit ? run_edit(model, p->edit, &tp, &imgs, &count)
            : peer    ? t2i_txt2img_parallel_ex(pair, 2, &tp, &po, &imgs, &count)
                      : t2i_txt2img(model, &tp, &imgs, &count);
        if (peer && po.failed_rank == 1 && (s == T2I_ERR_DEVICE || s == T2I_ERR_INTERNAL)) {
            fprintf(stderr, "t2i-server: device %d (lent to device %d): engine error, taken out of rotation: %s\n",
                    peer->id, w->id, t2i_last_error());
            pthread_mutex_lock(&mu);
            peer->state = DEV_OUT;
            pthread_mutex_unlock(&mu);
            s = T2I_ERR_NOMEM;   /* the job fails with 503; this device is fine */
        }
        if (s == T2I_ERR_CANCELLED && take_skip(g, n)) {   /* /sdapi/v1/skip: on to the next iteration */
            s = T2I_OK;
            t2i_free(fp), t2i_free(fn);
            continue;
        }
        if (s != T2I_OK) {
            snprintf(err, sizeof err, "%s",
                     s == T2I_ERR_CANCELLED ? "cancelled"
                     : injected            ? "injected device fault (T2I_SERVER_FAULT_DEVICE)"
                                           : t2i_last_error());
            t2i_free(fp), t2i_free(fn);
            break;
        }
        int k = 0;
        for (int i = 0; i < n && s == T2I_OK; i++)
            for (int b = 0; b < g[i]->p.batch_size && k < count; b++, k++)
                if (store_image(&w->judge, g[i], stored[i]++, &imgs[k], fp ? fp : p->prompt, scores ? &scores[k] : NULL,
                                expand_style) != 0)
                    s = T2I_ERR_NOMEM, snprintf(err, sizeof err, "out of memory encoding PNG");
        t2i_free(fp), t2i_free(fn);
        produced += count;
        t2i_images_free(imgs, count);
        t2i_free(scores);
    }
    records_style_prefs_free(prefs, n_prefs);
    double gen_s = srv_now() - t0;
    if (s == T2I_OK) metrics_generation(gen_s, produced);
    int broken = s == T2I_ERR_DEVICE || s == T2I_ERR_INTERNAL;
    if (broken) {
        fprintf(stderr, "t2i-server: device %d: engine error, taken out of rotation: %s\n", w->id, err);
        char why[512];
        snprintf(why, sizeof why, "device %d failed and was taken out of rotation: %s", w->id, err);
        snprintf(err, sizeof err, "%s", why);
    }
    pthread_mutex_lock(&mu);
    if (peer) peer->lent = 0, peer->lent_jobs++, peer->busy_s += gen_s;
    w->busy_s += gen_s;
    if (s == T2I_OK) w->jobs_ok++;
    else w->jobs_failed++;
    if (broken) w->state = DEV_OUT;
    for (int i = 0; i < n; i++) {
        job *j = g[i];
        snprintf(j->model, sizeof j->model, "%s", w->cur_model >= 0 ? g_models[w->cur_model].name : "");
        job_state st;
        if (j->timed_out) st = JOB_FAILED;
        else if (j->cancel) st = JOB_CANCELLED;
        else if (s == T2I_OK) st = JOB_DONE;
        else st = s == T2I_ERR_CANCELLED ? JOB_CANCELLED : JOB_FAILED;
        if (st == JOB_DONE) j->n_images = stored[i];
        else {
            for (int k = 0; k < j->p.batch_size * j->p.n_iter && j->images; k++)
                free(j->images[k].png_b64), free(j->images[k].infotext), free(j->images[k].prompt);
            free(j->images), j->images = NULL;
            if (j->timed_out) snprintf(err, sizeof err, "%s", deadline_message);
            j->error = strdup(st == JOB_CANCELLED ? "cancelled" : err);
            j->error_status = j->timed_out ? 504 : st == JOB_CANCELLED ? 409 : !model ? 503 : status_to_http(s);
            if (broken && !j->timed_out && st != JOB_CANCELLED) j->error_status = 503;   /* retry elsewhere */
        }
        if (st == JOB_DONE) j->step = j->steps;
        finish_locked(j, st);
        /* Written under the lock so that a client that sees "done" finds the
         * image ids in the database; SQLite writes here take microseconds. */
        records_job(j);
        free(j->request_json), j->request_json = NULL;
    }
    w->n_running = 0;
    evict_locked();
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

/* With the lock held, when no device is left: the queued jobs fail. */
static void fail_queued_no_device_locked(void)
{
    while (q_head) {
        job *j = q_head;
        unlink_queued_locked(j);
        j->error = strdup("no device is left to run the job: every device failed");
        j->error_status = 503;
        finish_locked(j, JOB_FAILED);
        records_job(j);
    }
    evict_locked();
}

static int model_index_at_start;

static void *worker_main(void *arg)
{
    device_worker *w = arg;
    const int index = model_index_at_start;
    t2i_engine_options o;
    t2i_engine_options_init(&o);
    o.backend = g_cfg.cuda ? T2I_BACKEND_CUDA : T2I_BACKEND_CPU;
    o.device = w->id;
    o.threads = g_cfg.threads;
    o.precision = g_cfg.precision;
    char err[256] = "";
    int ok = t2i_engine_create(&o, &w->engine) == T2I_OK;
    if (!ok) fprintf(stderr, "t2i-server: device %d: engine: %s\n", w->id, t2i_last_error());
    ok = ok && load_model(w, index, err, sizeof err) == 0;
    for (int u = 0; ok && u < g_n_upscalers; u++) {
        if (t2i_upscaler_load(w->engine, g_upscalers[u].path, &w->ups[u]) != T2I_OK) {
            fprintf(stderr, "t2i-server: device %d: upscaler '%s': %s\n", w->id, g_upscalers[u].name, t2i_last_error());
            ok = 0;
            break;
        }
        pthread_mutex_lock(&mu);
        g_upscalers[u].scale = t2i_upscaler_scale(w->ups[u]);
        pthread_mutex_unlock(&mu);
    }
    pthread_mutex_lock(&mu);
    w->state = ok ? DEV_READY : DEV_OUT;
    if (ok) w->cur_model = index;
    selected_model = index;
    pthread_cond_broadcast(&cv);
    for (;;) {
        /* A device out of rotation takes no job; it loads a model to switch
         * to only when no device is up, and fails the queue then. */
        int fatal, can_switch;
        for (;;) {
            fatal = health_locked() == SRV_FATAL;
            can_switch = pending_switch && !pending_switch->taken && !w->lent && (w->state != DEV_OUT || fatal);
            if ((q_head && !w->lent && (w->state == DEV_READY || fatal)) || can_switch || (worker_stop && !w->lent))
                break;
            pthread_cond_wait(&cv, &mu);
        }
        if (can_switch) {
            /* One worker loads the model to check it and selects it; the
             * others load it with their next job that asks for it. */
            switch_req *r = pending_switch;
            r->taken = 1;
            dev_state before = w->state;
            if (before == DEV_READY) w->state = DEV_LOADING;
            pthread_mutex_unlock(&mu);
            r->rc = w->engine ? load_model(w, r->index, r->err, sizeof r->err) : -1;
            if (!w->engine) snprintf(r->err, sizeof r->err, "the engine is not available");
            pthread_mutex_lock(&mu);
            if (r->rc == 0) w->cur_model = selected_model = r->index;
            w->state = before == DEV_OUT ? DEV_OUT : (w->model ? DEV_READY : DEV_OUT);
            r->done = 1;
            pending_switch = NULL;
            pthread_cond_broadcast(&cv);
            continue;
        }
        if (w->state != DEV_READY) {
            if (fatal) fail_queued_no_device_locked();
            pthread_cond_broadcast(&cv);
            if (worker_stop) break;
            continue;
        }
        expire_queued_locked(srv_now());
        pthread_cond_broadcast(&cv);
        if (!q_head) {
            if (worker_stop) break;      /* and nothing left */
            continue;
        }
        job *g[MAX_GROUP];
        int n = take_group_locked(g);
        double now = srv_now();
        for (int i = 0; i < n; i++) {
            g[i]->state = JOB_RUNNING;
            g[i]->t_start = now;
            g[i]->version++;
            records_job_state(g[i]);
            w->running[i] = g[i];
            metrics_queue_wait(now - g[i]->t_submit);
        }
        w->n_running = n;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
        run_group(w, g, n);
        pthread_mutex_lock(&mu);
    }
    pthread_mutex_unlock(&mu);
    judging_shutdown(&w->judge);
    for (int u = 0; u < g_n_upscalers; u++) t2i_upscaler_free(w->ups[u]), w->ups[u] = NULL;
    t2i_model_destroy(w->model), w->model = NULL;
    t2i_engine_destroy(w->engine), w->engine = NULL;
    return NULL;
}

int queue_switch_model(int index, char *err, size_t n)
{
    switch_req r = {index, 0, 0, 0, ""};
    pthread_mutex_lock(&mu);
    while (pending_switch && !worker_stop) pthread_cond_wait(&cv, &mu);
    if (worker_stop) {
        pthread_mutex_unlock(&mu);
        snprintf(err, n, "the server is shutting down");
        return -1;
    }
    int up = 0;
    for (int d = 0; d < n_devs; d++) up |= devs[d].state != DEV_OUT && devs[d].started;
    if (!up) {
        pthread_mutex_unlock(&mu);
        snprintf(err, n, "no device is left to load the model");
        return -1;
    }
    pending_switch = &r;
    pthread_cond_broadcast(&cv);
    while (!r.done) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    if (r.rc) snprintf(err, n, "%s", r.err);
    return r.rc;
}

int queue_start(int model_index)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cv, &ca);
    pthread_condattr_destroy(&ca);
    accepting = 1;
    model_index_at_start = model_index;
    const char *fault = getenv("T2I_SERVER_FAULT_DEVICE");   /* tests: docs/server.md */
    pthread_mutex_lock(&mu);
    n_devs = g_cfg.n_devices > 0 ? g_cfg.n_devices : 1;
    for (int d = 0; d < n_devs; d++) {
        device_worker *w = &devs[d];
        memset(w, 0, sizeof *w);
        w->index = d;
        w->id = g_cfg.n_devices > 0 ? g_cfg.devices[d] : g_cfg.device;
        w->cur_model = -1;
        w->state = DEV_LOADING;
        w->inject_fault = fault && *fault && atoi(fault) == w->id;
    }
    pthread_mutex_unlock(&mu);
    for (int d = 0; d < n_devs; d++) {
        if (pthread_create(&devs[d].th, NULL, worker_main, &devs[d]) != 0) {
            fprintf(stderr, "t2i-server: cannot start the worker thread of device %d\n", devs[d].id);
            pthread_mutex_lock(&mu);
            for (int k = d; k < n_devs; k++) devs[k].state = DEV_OUT;
            pthread_mutex_unlock(&mu);
            return d > 0 ? 0 : -1;
        }
        devs[d].started = 1;
    }
    return 0;
}

void queue_stop(double drain_s)
{
    int any = 0;
    for (int d = 0; d < n_devs; d++) any |= devs[d].started;
    if (!any) return;
    struct timespec ts;
    deadline_after(&ts, drain_s);
    pthread_mutex_lock(&mu);
    accepting = 0;
    int timed_out = 0;
    while ((q_head || running_locked()) && !timed_out)
        timed_out = pthread_cond_timedwait(&cv, &mu, &ts) == ETIMEDOUT;
    if (q_head || running_locked())
        fprintf(stderr, "t2i-server: drain timeout: cancelling %d queued and %d running jobs\n", q_len,
                running_locked());
    while (q_head) {
        job *j = q_head;
        unlink_queued_locked(j);
        j->cancel = 1;
        j->error = strdup("cancelled: the server is shutting down");
        j->error_status = 503;
        finish_locked(j, JOB_CANCELLED);
        records_job(j);
    }
    for (int d = 0; d < n_devs; d++)
        for (int i = 0; i < devs[d].n_running; i++) devs[d].running[i]->cancel = 1;
    worker_stop = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (int d = 0; d < n_devs; d++)
        if (devs[d].started) pthread_join(devs[d].th, NULL), devs[d].started = 0;
}

/* Drop the registry's references (after the HTTP daemon has stopped). */
void queue_free_all(void)
{
    pthread_mutex_lock(&mu);
    job *j = reg_head;
    reg_head = NULL;
    while (j) {
        job *nx = j->reg_next;
        if (--j->refs == 0) job_free(j);
        j = nx;
    }
    n_finished = 0;
    pthread_mutex_unlock(&mu);
}
