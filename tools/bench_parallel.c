/*
 * bench_parallel.c — t2i-bench --devices N --mode data|cfg|patch --model DIR:
 * one request of --batch B images (the first size given) on one device and
 * then over N ranks through t2i_txt2img_parallel_ex (docs/multi_gpu.md),
 * each rank with its own engine and copy of the model: CPU ranks (threads;
 * --threads each) or CUDA devices --device … --device + N − 1.
 *
 * Reported per configuration (one device, N ranks), medians over --repeat
 * runs after --warmup runs:
 *   images/s           B / end-to-end time of the request
 *   latency per image  end-to-end time / B (the request's latency is B× it)
 *   speed-up           one device's time / N ranks' time
 *   bytes per step     what the ranks receive together per sampler step
 *                      (data: 0; cfg: each rank its partner's noise
 *                      predictions, ranks × B/pairs × 4·h·w floats per
 *                      UNet evaluation, × evaluations per step, averaged
 *                      over the run: 2 − 1/steps for Heun; the shared
 *                      decode's pixel broadcast, once per image, is not
 *                      counted)
 * and one JSON line per configuration appended to <out-dir>/<date>-<host>.jsonl
 * (tool "t2i-bench-parallel"). On a machine shared with other work, or with
 * fewer cores than ranks × threads, CPU-rank figures say nothing about
 * scaling (docs/multi_gpu.md).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "bench.h"
#include "runtime/scheduler.h"

typedef struct par_result {
    int ranks;
    double e2e_s, bytes_per_step;
} par_result;

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median end-to-end time of the request on ranks models (1 = t2i_txt2img). */
static t2i_status time_request(t2i_model *const *models, int ranks, t2i_parallel_mode mode,
                               const t2i_txt2img_params *p, const opts *o, par_result *r)
{
    double *t = calloc((size_t)o->repeat, sizeof *t);
    if (!t) return T2I_ERR_NOMEM;
    t2i_status st = T2I_OK;
    r->ranks = ranks;
    r->bytes_per_step = 0;
    for (int i = 0; i < o->warmup + o->repeat && st == T2I_OK; i++) {
        t2i_image *imgs = NULL;
        int n = 0;
        t2i_parallel_options po;
        t2i_parallel_options_init(&po);
        po.mode = mode;
        const double t0 = bench_now_s();
        st = ranks == 1 ? t2i_txt2img(models[0], p, &imgs, &n) : t2i_txt2img_parallel_ex(models, ranks, p, &po, &imgs, &n);
        if (i >= o->warmup) t[i - o->warmup] = bench_now_s() - t0;
        r->bytes_per_step = po.bytes_per_eval;
        t2i_images_free(imgs, n);
    }
    qsort(t, (size_t)o->repeat, sizeof *t, cmp_d);
    r->e2e_s = t[o->repeat / 2];
    free(t);
    return st;
}

static void append_json(const opts *o, const char *mode, int batch, int W, int H, const par_result *r,
                        double one_s)
{
    char host[128] = "host", stamp[32], date[16], path[1200];
    gethostname(host, sizeof host - 1);
    host[strcspn(host, ".")] = '\0';
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    const char *dir = o->out_dir ? o->out_dir : T2I_SOURCE_DIR "/perf/results";
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/%s-%s.jsonl", dir, date, host);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "time", stamp);
    if (o->commit) cJSON_AddStringToObject(j, "commit", o->commit);
    cJSON_AddStringToObject(j, "host", host);
    cJSON_AddStringToObject(j, "tool", "t2i-bench-parallel");
    if (o->tag) cJSON_AddStringToObject(j, "tag", o->tag);
    cJSON_AddStringToObject(j, "backend", o->backend == T2I_BACKEND_CUDA ? "cuda" : "cpu");
    cJSON_AddStringToObject(j, "model_dir", o->model);
    cJSON_AddStringToObject(j, "mode", mode);
    cJSON_AddNumberToObject(j, "ranks", r->ranks);
    cJSON_AddNumberToObject(j, "threads_per_rank", o->threads);
    cJSON_AddNumberToObject(j, "width", W);
    cJSON_AddNumberToObject(j, "height", H);
    cJSON_AddNumberToObject(j, "batch", batch);
    cJSON_AddNumberToObject(j, "steps", o->steps);
    cJSON_AddNumberToObject(j, "cfg", o->cfg);
    cJSON_AddStringToObject(j, "sampler", t2i_sampler_name(o->sampler));
    cJSON_AddNumberToObject(j, "end_to_end_s", r->e2e_s);
    cJSON_AddNumberToObject(j, "images_per_s", batch / r->e2e_s);
    cJSON_AddNumberToObject(j, "latency_per_image_s", r->e2e_s / batch);
    cJSON_AddNumberToObject(j, "speedup", one_s / r->e2e_s);
    cJSON_AddNumberToObject(j, "bytes_per_step", r->bytes_per_step);
    char *s = cJSON_PrintUnformatted(j);
    FILE *f = s ? fopen(path, "a") : NULL;
    if (f) {
        fprintf(f, "%s\n", s);
        fclose(f);
    } else {
        fprintf(stderr, "t2i-bench: cannot append to %s\n", path);
    }
    free(s);
    cJSON_Delete(j);
}

int bench_parallel(const opts *o)
{
    const int N = o->devices, B = o->batches[0];
    t2i_parallel_mode mode = !strcmp(o->mode, "cfg")     ? T2I_PARALLEL_CFG
                             : !strcmp(o->mode, "patch") ? T2I_PARALLEL_PATCH
                                                         : T2I_PARALLEL_DATA;
    t2i_engine **eng = calloc((size_t)N, sizeof *eng);
    t2i_model **m = calloc((size_t)N, sizeof *m);
    int rc = 0;
    t2i_status st = eng && m ? T2I_OK : T2I_ERR_NOMEM;
    for (int r = 0; r < N && st == T2I_OK; r++) {
        t2i_engine_options eo;
        t2i_engine_options_init(&eo);
        eo.backend = o->backend;
        eo.device = o->device + (o->backend == T2I_BACKEND_CUDA ? r : 0);
        eo.threads = o->threads;
        eo.precision = o->precision;
        st = t2i_engine_create(&eo, &eng[r]);
        if (st == T2I_OK) st = t2i_model_load(eng[r], o->model, &m[r]);
    }
    if (st != T2I_OK) {
        fprintf(stderr, "t2i-bench: %d ranks: %s\n", N, t2i_last_error());
        rc = bench_fail_rc(st);
        goto done;
    }
    t2i_txt2img_params p;
    t2i_txt2img_params_init(&p);
    p.prompt = "a red circle on a blue background";
    p.steps = o->steps;
    p.guidance_scale = (float)o->cfg;
    p.sampler = o->sampler;
    p.seed = o->seed;
    p.batch_size = B;
    p.width = o->width;
    p.height = o->height;
    par_result one, many;
    if ((st = time_request(m, 1, T2I_PARALLEL_DATA, &p, o, &one)) != T2I_OK ||
        (st = time_request(m, N, mode, &p, o, &many)) != T2I_OK) {
        fprintf(stderr, "t2i-bench: %s over %d ranks: %s\n", o->mode, N, t2i_last_error());
        rc = bench_fail_rc(st);
        goto done;
    }
    const int W = o->width ? o->width : t2i_model_default_size(m[0]), H = o->height ? o->height : W;
    /* a sampler step may evaluate the UNet twice (Heun, DPM2) */
    t2i_sched *sc = NULL;
    double evals_per_step = 1;   /* averaged: Heun evaluates 2·steps − 1 times */
    if (t2i_sched_create(&m[0]->sched_cfg, o->sampler, o->steps, &sc) == T2I_OK)
        evals_per_step = (double)t2i_sched_num_evals(sc) / t2i_sched_num_steps(sc);
    t2i_sched_destroy(sc);
    many.bytes_per_step *= evals_per_step;
    printf("t2i-bench: %s, %dx%d, batch %d, %d steps, %s backend, %d threads per rank; %d warm-up, median of %d\n",
           o->model, W, H, B, o->steps, o->backend == T2I_BACKEND_CUDA ? "cuda" : "cpu", o->threads, o->warmup,
           o->repeat);
    printf("%-6s %-6s %10s %12s %18s %9s %15s\n", "mode", "ranks", "e2e s", "images/s", "latency/image s",
           "speed-up", "bytes/step");
    const par_result *rows[2] = {&one, &many};
    for (int i = 0; i < 2; i++) {
        const par_result *r = rows[i];
        const char *md = i == 0 ? "single" : o->mode;
        printf("%-6s %-6d %10.3f %12.3f %18.3f %9.2f %15.0f\n", md, r->ranks, r->e2e_s, B / r->e2e_s,
               r->e2e_s / B, one.e2e_s / r->e2e_s, r->bytes_per_step);
        if (o->json) append_json(o, md, B, W, H, r, one.e2e_s);
    }
done:
    for (int r = 0; r < N && m && eng; r++) {
        t2i_model_destroy(m[r]);
        t2i_engine_destroy(eng[r]);
    }
    free(m);
    free(eng);
    return rc;
}
