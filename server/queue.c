/*
 * queue.c — bounded FIFO of generation jobs, the registry of recent jobs, and
 * the worker thread that owns the t2i engine and model (see queue.h).
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
#include "server/metrics.h"
#include "server/records.h"
#include "server/styles.h"

#define MAX_GROUP 64

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;
static job *q_head, *q_tail;
static int q_len;
static int slots_used;           /* reserved + queued + running */
static job *reg_head;            /* newest first */
static int n_finished;
static int accepting, worker_stop;
static job *running[MAX_GROUP];
static int n_running;
static srv_health health = SRV_LOADING;
static int cur_model = -1;       /* loaded by the worker */
static int selected_model = -1;  /* drawn with when a request names none (options) */
static int native_size;          /* the loaded model's default image side */
static int size_multiple;        /* and its size rule (t2i_model_size_multiple) */
static pthread_t worker;
static int worker_started;

typedef struct switch_req { int index, done, rc; char err[256]; } switch_req;
static switch_req *pending_switch;

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

/* Take one of queue_max + 1 slots (the waiting jobs plus the running one). */
static int reserve(void)
{
    pthread_mutex_lock(&mu);
    int ok = accepting && slots_used < g_cfg.queue_max + 1;
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
    for (int i = 0; i < n_running; i++) running[i]->skip = 1;
    int n = n_running;
    pthread_mutex_unlock(&mu);
    return n;
}

int queue_interrupt(void)
{
    pthread_mutex_lock(&mu);
    for (int i = 0; i < n_running; i++) running[i]->cancel = running[i]->interrupted = 1;
    int n = n_running;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return n;
}

/* ---- status ------------------------------------------------------------ */

srv_health queue_health(void)
{
    pthread_mutex_lock(&mu);
    srv_health h = health;
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
    int n = n_running;
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
    int busy = n_running > 0;
    if (busy) {
        job *j = running[0];
        *step = j->step, *steps = j->steps, *iter = j->iter, *n_iter = j->p.n_iter;
        *elapsed = srv_now() - j->t_start;
        *interrupted = j->interrupted;
    }
    pthread_mutex_unlock(&mu);
    return busy;
}

/* ---- the worker ------------------------------------------------------------ */

static t2i_engine *engine;
static t2i_model *model;

static int load_model(int index, char *err, size_t n)
{
    t2i_model *m = NULL;
    t2i_status s = t2i_model_load(engine, g_models[index].path, &m);
    if (s != T2I_OK) {
        /* The message names files under the server's folders; clients get
         * only the model's name and the status. */
        fprintf(stderr, "t2i-server: loading model '%s': %s\n", g_models[index].name, t2i_last_error());
        snprintf(err, n, "model '%s' could not be loaded (%s)", g_models[index].name, t2i_status_name(s));
        return -1;
    }
    t2i_model_destroy(model);
    model = m;
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
    if (x->n_iter != 1 || y->n_iter != 1) return 0;
    if (strcmp(x->prompt, y->prompt) || strcmp(x->negative_prompt, y->negative_prompt)) return 0;
    if (x->steps != y->steps || x->sampler != y->sampler || x->cfg != y->cfg || x->model != y->model) return 0;
    /* An expansion depends on the call's seed: expanded jobs draw alone. */
    if (x->width != y->width || x->height != y->height || x->expand || y->expand) return 0;
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

/* Encode one generated image into a job's result slot. */
static int store_image(job *j, int slot, t2i_image *img, const char *drawn)
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

static void run_group(job **g, int n)
{
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
    if (p->model >= 0 && p->model != cur_model && engine) {
        char why[256];
        if (load_model(p->model, why, sizeof why) == 0) {
            pthread_mutex_lock(&mu);
            cur_model = p->model;
            pthread_mutex_unlock(&mu);
        } else {
            s = T2I_ERR_NOMEM, snprintf(err, sizeof err, "%s", why);   /* 503: the server keeps serving */
        }
    }
    if (!model) s = T2I_ERR_DEVICE, snprintf(err, sizeof err, "no model is loaded");
    else size_warning(g, n, t2i_model_default_size(model));
    for (int i = 0; i < n; i++)
        if (!g[i]->images) s = T2I_ERR_NOMEM, snprintf(err, sizeof err, "out of memory");
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
        t2i_image *imgs = NULL;
        int count = 0;
        s = t2i_txt2img(model, &tp, &imgs, &count);
        if (s == T2I_ERR_CANCELLED && take_skip(g, n)) {   /* /sdapi/v1/skip: on to the next iteration */
            s = T2I_OK;
            t2i_free(fp), t2i_free(fn);
            continue;
        }
        if (s != T2I_OK) {
            snprintf(err, sizeof err, "%s", s == T2I_ERR_CANCELLED ? "cancelled" : t2i_last_error());
            t2i_free(fp), t2i_free(fn);
            break;
        }
        int k = 0;
        for (int i = 0; i < n && s == T2I_OK; i++)
            for (int b = 0; b < g[i]->p.batch_size && k < count; b++, k++)
                if (store_image(g[i], stored[i]++, &imgs[k], fp ? fp : p->prompt) != 0)
                    s = T2I_ERR_NOMEM, snprintf(err, sizeof err, "out of memory encoding PNG");
        t2i_free(fp), t2i_free(fn);
        produced += count;
        t2i_images_free(imgs, count);
    }
    double gen_s = srv_now() - t0;
    if (s == T2I_OK) metrics_generation(gen_s, produced);
    if (s == T2I_ERR_DEVICE || s == T2I_ERR_INTERNAL) {
        fprintf(stderr, "t2i-server: fatal engine error: %s\n", err);
        pthread_mutex_lock(&mu);
        health = SRV_FATAL;
        pthread_mutex_unlock(&mu);
    }
    pthread_mutex_lock(&mu);
    for (int i = 0; i < n; i++) {
        job *j = g[i];
        snprintf(j->model, sizeof j->model, "%s", cur_model >= 0 ? g_models[cur_model].name : "");
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
        }
        if (st == JOB_DONE) j->step = j->steps;
        finish_locked(j, st);
        /* Written under the lock so that a client that sees "done" finds the
         * image ids in the database; SQLite writes here take microseconds. */
        records_job(j);
        free(j->request_json), j->request_json = NULL;
    }
    n_running = 0;
    evict_locked();
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void *worker_main(void *arg)
{
    int index = *(int *)arg;
    free(arg);
    t2i_engine_options o;
    t2i_engine_options_init(&o);
    o.backend = g_cfg.cuda ? T2I_BACKEND_CUDA : T2I_BACKEND_CPU;
    o.device = g_cfg.device;
    o.threads = g_cfg.threads;
    char err[256] = "";
    int ok = t2i_engine_create(&o, &engine) == T2I_OK;
    if (!ok) fprintf(stderr, "t2i-server: engine: %s\n", t2i_last_error());
    ok = ok && load_model(index, err, sizeof err) == 0;
    pthread_mutex_lock(&mu);
    health = ok ? SRV_READY : SRV_FATAL;
    if (ok) cur_model = index;
    selected_model = index;
    for (;;) {
        while (!q_head && !pending_switch && !worker_stop) pthread_cond_wait(&cv, &mu);
        if (pending_switch) {
            switch_req *r = pending_switch;
            srv_health before = health;
            health = SRV_LOADING;
            pthread_mutex_unlock(&mu);
            r->rc = engine ? load_model(r->index, r->err, sizeof r->err) : -1;
            if (!engine) snprintf(r->err, sizeof r->err, "the engine is not available");
            pthread_mutex_lock(&mu);
            if (r->rc == 0) cur_model = selected_model = r->index, health = SRV_READY;
            else health = before == SRV_FATAL ? SRV_FATAL : (model ? SRV_READY : SRV_FATAL);
            r->done = 1;
            pending_switch = NULL;
            pthread_cond_broadcast(&cv);
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
            running[i] = g[i];
            metrics_queue_wait(now - g[i]->t_submit);
        }
        n_running = n;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
        run_group(g, n);
        pthread_mutex_lock(&mu);
    }
    pthread_mutex_unlock(&mu);
    t2i_model_destroy(model), model = NULL;
    t2i_engine_destroy(engine), engine = NULL;
    return NULL;
}

int queue_switch_model(int index, char *err, size_t n)
{
    switch_req r = {index, 0, 0, ""};
    pthread_mutex_lock(&mu);
    while (pending_switch && !worker_stop) pthread_cond_wait(&cv, &mu);
    if (worker_stop) {
        pthread_mutex_unlock(&mu);
        snprintf(err, n, "the server is shutting down");
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
    int *arg = malloc(sizeof *arg);
    if (!arg) return -1;
    *arg = model_index;
    if (pthread_create(&worker, NULL, worker_main, arg) != 0) {
        free(arg);
        fprintf(stderr, "t2i-server: cannot start the worker thread\n");
        return -1;
    }
    worker_started = 1;
    return 0;
}

void queue_stop(double drain_s)
{
    if (!worker_started) return;
    struct timespec ts;
    deadline_after(&ts, drain_s);
    pthread_mutex_lock(&mu);
    accepting = 0;
    int timed_out = 0;
    while ((q_head || n_running) && !timed_out)
        timed_out = pthread_cond_timedwait(&cv, &mu, &ts) == ETIMEDOUT;
    if (q_head || n_running)
        fprintf(stderr, "t2i-server: drain timeout: cancelling %d queued and %d running jobs\n", q_len, n_running);
    while (q_head) {
        job *j = q_head;
        unlink_queued_locked(j);
        j->cancel = 1;
        j->error = strdup("cancelled: the server is shutting down");
        j->error_status = 503;
        finish_locked(j, JOB_CANCELLED);
        records_job(j);
    }
    for (int i = 0; i < n_running; i++) running[i]->cancel = 1;
    worker_stop = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(worker, NULL);
    worker_started = 0;
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
