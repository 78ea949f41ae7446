/*
 * metrics.c — Prometheus metrics; see metrics.h. A fixed table of
 * (route, method, status) counters (routes are patterns, statuses come from
 * a small set) and three histograms with fixed buckets, all under one mutex.
 */
#include "server/metrics.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SERIES 256
#define N_BUCKETS 12

typedef struct series { const char *route, *method; int status; unsigned long long n; } series;
typedef struct histogram { unsigned long long counts[N_BUCKETS + 1], n; double sum; } histogram;

static const double bucket_le[N_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static series table[MAX_SERIES];
static int n_series;
static histogram h_request, h_wait, h_gen;
static unsigned long long images_total;

static void observe(histogram *h, double v)
{
    int b = 0;
    while (b < N_BUCKETS && v > bucket_le[b]) b++;
    h->counts[b]++, h->n++, h->sum += v;
}

/* Label values must outlive the request: map the method to a constant. */
static const char *method_label(const char *m)
{
    static const char *known[] = {"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (!strcmp(m, known[i])) return known[i];
    return "OTHER";
}

void metrics_request(const char *route, const char *method, int status, double seconds)
{
    method = method_label(method);
    pthread_mutex_lock(&mu);
    int i = 0;
    while (i < n_series && !(table[i].status == status && strcmp(table[i].route, route) == 0 &&
                             strcmp(table[i].method, method) == 0))
        i++;
    if (i == n_series && n_series < MAX_SERIES) table[n_series++] = (series){route, method, status, 0};
    if (i < n_series) table[i].n++;
    observe(&h_request, seconds);
    pthread_mutex_unlock(&mu);
}

void metrics_queue_wait(double s)
{
    pthread_mutex_lock(&mu);
    observe(&h_wait, s);
    pthread_mutex_unlock(&mu);
}

void metrics_generation(double s, int images)
{
    pthread_mutex_lock(&mu);
    observe(&h_gen, s);
    images_total += (unsigned long long)images;
    pthread_mutex_unlock(&mu);
}

typedef struct sbuf { char *p; size_t n, cap; int oom; } sbuf;

static void put(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) { b->oom = 1; return; }
        if (b->p && b->n + (size_t)k < b->cap) { b->n += (size_t)k; return; }
        size_t cap = (b->cap + (size_t)k + 1) * 2;
        char *np = realloc(b->p, cap);
        if (!np) { b->oom = 1; return; }
        b->p = np, b->cap = cap;
    }
}

static void put_histogram(sbuf *b, const char *name, const char *help, const histogram *h)
{
    put(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    unsigned long long cum = 0;
    for (int i = 0; i < N_BUCKETS; i++) {
        cum += h->counts[i];
        put(b, "%s_bucket{le=\"%g\"} %llu\n", name, bucket_le[i], cum);
    }
    put(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name, h->n, name, h->sum, name, h->n);
}

char *metrics_render(int depth, int running, int ready, const metrics_device *devices, int n_devices)
{
    sbuf b = {0};
    pthread_mutex_lock(&mu);
    put(&b, "# HELP t2i_http_requests_total HTTP requests by route pattern, method and status.\n"
            "# TYPE t2i_http_requests_total counter\n");
    for (int i = 0; i < n_series; i++)
        put(&b, "t2i_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n", table[i].route,
            table[i].method, table[i].status, table[i].n);
    put_histogram(&b, "t2i_http_request_duration_seconds", "Time from request start to response completion.",
                  &h_request);
    put_histogram(&b, "t2i_queue_wait_seconds", "Time a job waited in the queue before running.", &h_wait);
    put_histogram(&b, "t2i_generation_seconds", "Engine time per job group (all iterations).", &h_gen);
    put(&b, "# HELP t2i_images_generated_total Images generated.\n# TYPE t2i_images_generated_total counter\n"
            "t2i_images_generated_total %llu\n", images_total);
    pthread_mutex_unlock(&mu);
    put(&b, "# HELP t2i_queue_depth Jobs waiting in the queue.\n# TYPE t2i_queue_depth gauge\nt2i_queue_depth %d\n",
        depth);
    put(&b, "# HELP t2i_jobs_running Jobs being generated.\n# TYPE t2i_jobs_running gauge\nt2i_jobs_running %d\n",
        running);
    put(&b, "# HELP t2i_ready 1 when the model is loaded and the engine healthy.\n# TYPE t2i_ready gauge\n"
            "t2i_ready %d\n", ready);
    put(&b, "# HELP t2i_device_up 1 while the device is in rotation with a model loaded.\n# TYPE t2i_device_up gauge\n");
    const metrics_device *d = devices;
    for (int i = 0; i < n_devices; i++) put(&b, "t2i_device_up{device=\"%d\"} %d\n", d[i].id, d[i].up);
    put(&b, "# HELP t2i_device_busy 1 while the device runs a job.\n# TYPE t2i_device_busy gauge\n");
    for (int i = 0; i < n_devices; i++) put(&b, "t2i_device_busy{device=\"%d\"} %d\n", d[i].id, d[i].busy);
    put(&b, "# HELP t2i_device_jobs_total Engine calls (job groups) per device and result.\n"
            "# TYPE t2i_device_jobs_total counter\n");
    for (int i = 0; i < n_devices; i++)
        put(&b, "t2i_device_jobs_total{device=\"%d\",result=\"ok\"} %ld\n"
                "t2i_device_jobs_total{device=\"%d\",result=\"failed\"} %ld\n",
            d[i].id, d[i].jobs_ok, d[i].id, d[i].jobs_failed);
    put(&b, "# HELP t2i_device_lent_total Jobs a device helped another device with (CFG parallel).\n"
            "# TYPE t2i_device_lent_total counter\n");
    for (int i = 0; i < n_devices; i++) put(&b, "t2i_device_lent_total{device=\"%d\"} %ld\n", d[i].id, d[i].lent);
    put(&b, "# HELP t2i_device_busy_seconds_total Engine time per device.\n"
            "# TYPE t2i_device_busy_seconds_total counter\n");
    for (int i = 0; i < n_devices; i++)
        put(&b, "t2i_device_busy_seconds_total{device=\"%d\"} %.6f\n", d[i].id, d[i].busy_s);
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
        fclose(f);
    }
    put(&b, "# HELP t2i_process_resident_memory_bytes Resident set size of the server process.\n"
            "# TYPE t2i_process_resident_memory_bytes gauge\nt2i_process_resident_memory_bytes %lld\n",
        (long long)rss * sysconf(_SC_PAGESIZE));
    /* Device memory: the public API has no query for it yet (CPU backend
     * here); a t2i_engine_memory() call would be exported as
     * t2i_device_memory_used_bytes. */
    if (b.oom) { free(b.p); return NULL; }
    return b.p;
}
