/*
 * main.c — t2i-server: command-line flags, the model catalog, signals and
 * the start-up / graceful-shutdown sequence.
 *
 *   start:    records → styles → worker (loads the model; /health says
 *             "loading" until it is ready) → HTTP daemon
 *   SIGTERM/SIGINT: stop accepting connections → let queued and running
 *             jobs finish for up to --drain-timeout seconds (then cancel) →
 *             let the requests in flight send their answers (≤ 10 s) →
 *             close connections → free everything → exit 0
 *
 * Secrets: --api-key-file is preferred over --api-key (visible in ps); the
 * key is never printed or echoed by any route.
 */
#include <ctype.h>
#include <errno.h>
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "server/http.h"
#include "server/queue.h"
#include "server/records.h"
#include "server/server.h"
#include "server/styles.h"
#include "server/upscalers.h"

/* After the drain, time the handlers get to send the results of the jobs
 * that finished (closing sooner cut answers off under load). */
#define SHUTDOWN_SEND_S 10.0

#ifndef T2I_WEB_DIR
#define T2I_WEB_DIR "web"
#endif

/* A diffusers folder (model_index.json) or a single-file .safetensors checkpoint. */
static int is_model_dir(const char *path)
{
    char p[1200];
    struct stat st;
    size_t n = strlen(path);
    if (n > 12 && !strcmp(path + n - 12, ".safetensors")) return stat(path, &st) == 0 && S_ISREG(st.st_mode);
    snprintf(p, sizeof p, "%s/model_index.json", path);
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int add_model(const char *path)
{
    if (g_n_models >= SRV_MAX_MODELS || strlen(path) >= sizeof g_models[0].path) return -1;
    srv_model_entry *m = &g_models[g_n_models];
    snprintf(m->path, sizeof m->path, "%s", path);
    while (strlen(m->path) > 1 && m->path[strlen(m->path) - 1] == '/') m->path[strlen(m->path) - 1] = 0;
    const char *slash = strrchr(m->path, '/'), *base = slash ? slash + 1 : m->path;
    size_t n = strlen(base);
    if (n > 12 && !strcmp(base + n - 12, ".safetensors")) n -= 12;   /* a single file: its name without the suffix */
    snprintf(m->name, sizeof m->name, "%.*s", (int)(n < 127 ? n : 127), base);
    for (int i = 0; i < g_n_models; i++)          /* --model also under --models-dir */
        if (!strcmp(g_models[i].name, m->name)) return i;
    return g_n_models++;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(((const srv_model_entry *)a)->name, ((const srv_model_entry *)b)->name);
}

/* Diffusers folders and single-file checkpoints side by side (t2i_model_list). */
static int scan_models_dir(const char *dir)
{
    t2i_model_entry *list = NULL;
    int n = 0;
    if (t2i_model_list(dir, &list, &n) != T2I_OK) {
        fprintf(stderr, "t2i-server: --models-dir %s: %s\n", dir, t2i_last_error());
        return -1;
    }
    for (int i = 0; i < n; i++) add_model(list[i].path);
    t2i_model_list_free(list, n);
    qsort(g_models, (size_t)g_n_models, sizeof g_models[0], cmp_names);
    return 0;
}

static char *read_key_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char buf[1024];
    char *s = fgets(buf, sizeof buf, f) ? buf : NULL;
    fclose(f);
    if (!s) return NULL;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
    return n ? strdup(s) : NULL;
}

/* mkdir -p with mode 0700 (the records are the users' prompts). */
static int make_dirs(char *path)
{
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p) continue;
        char c = *p;
        *p = 0;
        int bad = mkdir(path, 0700) != 0 && errno != EEXIST;
        *p = c;
        if (bad) return -1;
        if (!c) return 0;
    }
}

/* --db default: $XDG_DATA_HOME/t2i/records.db, else
 * $HOME/.local/share/t2i/records.db (the folder is created). NULL when
 * neither variable is set or the folder cannot be made. */
static const char *default_db_path(void)
{
    static char path[1100];
    char dir[1024];
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0] == '/') snprintf(dir, sizeof dir, "%s/t2i", xdg);
    else if (home && home[0] == '/') snprintf(dir, sizeof dir, "%s/.local/share/t2i", home);
    else return NULL;
    if (make_dirs(dir)) {
        fprintf(stderr, "t2i-server: cannot create the data folder %s\n", dir);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/records.db", dir);
    return path;
}

/* The model served without --model / --models-dir, found as the t2i CLI
 * finds it: $T2I_MODEL, else models/default here or in the source tree. */
static const char *default_model(void)
{
    const char *env = getenv("T2I_MODEL");
    if (env && *env) return env;
    static const char *candidates[] = {"models/default", T2I_WEB_DIR "/../models/default"};
    for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++)
        if (is_model_dir(candidates[i])) return candidates[i];
    return NULL;
}

static int signal_pipe[2];

static void on_signal(int sig)
{
    unsigned char c = (unsigned char)sig;
    ssize_t r = write(signal_pipe[1], &c, 1);
    (void)r;
}

static void usage(void)
{
    fputs("usage: t2i-server [--model DIR] [options]\n"
          "  --listen ADDR:PORT     bind address (default 127.0.0.1:7860; [::1]:PORT for IPv6)\n"
          "  --model DIR            model folder (diffusers layout) loaded at start\n"
          "                         (default: $T2I_MODEL, else the embedded models/default)\n"
          "  --models-dir DIR       folder of model folders, switchable via /sdapi/v1/options\n"
          "  --lora-dir DIR         LoRA files for <lora:name:w> in prompts, listed by /sdapi/v1/loras\n"
          "  --embeddings-dir DIR   textual-inversion files used by name in prompts,\n"
          "                         listed by /sdapi/v1/embeddings\n"
          "  --api-key KEY          require this key on every route but /health\n"
          "  --api-key-file FILE    the same, read from the first line of FILE (preferred)\n"
          "  --db PATH              SQLite records (default $XDG_DATA_HOME/t2i/records.db, else\n"
          "                         ~/.local/share/t2i/records.db; :memory: keeps nothing)\n"
          "  --export-stats         print feedback statistics from --db as JSON and exit\n"
          "  --access-log PATH      JSON access log (default stderr)\n"
          "  --web-dir DIR          web page folder (default: the source tree's web/)\n"
          "  --styles FILE          styles CSV (name,prompt,negative_prompt[,name_zh])\n"
          "  --scorer DIR           CLIPModel folder that judges every image (default: the\n"
          "                         model's scorer/ subfolder, when it has one)\n"
          "  --scorer-zh DIR        ChineseCLIPModel folder for Chinese prompts\n"
          "  --upscaler FILE|DIR    an RRDBNet upscaler (.safetensors or a folder with\n"
          "                         model.safetensors) for extras and hires fix; repeatable\n"
          "                         (the model's upscaler/ subfolder is added when it exists)\n"
          "  --aesthetic FILE       aesthetic head (.safetensors) over --scorer's embedding\n"
          "  --queue N              waiting jobs beyond the running one (default 16)\n"
          "  --batch-max N          merge compatible queued jobs up to N images (default 1)\n"
          "  --threads N            engine CPU threads (default 0 = all cores)\n"
          "  --backend cpu|cuda     engine backend (default cpu; --cuda = --backend cuda)\n"
          "  --precision NAME       fp32|fp16|bf16|int8w|w8a8 for every worker's engine (cpu: fp32,\n"
          "                         int8w; cuda: fp16, bf16; default the backend's own)\n"
          "  --device N             CUDA device ordinal (default 0)\n"
          "  --devices 0,1,2,3      one worker per device, jobs to the idle ones (CPU: one CPU\n"
          "                         worker per entry, --threads each)\n"
          "  --parallel-min-pixels N  a job of >= N pixels (W*H) with CFG > 1 borrows an idle\n"
          "                         device for CFG parallelism (default 0 = never)\n"
          "  --conn-timeout S       idle connection timeout (default 30)\n"
          "  --body-timeout S       time allowed to receive a request body (default 30)\n"
          "  --per-ip-limit N       connections per client address (default 32)\n"
          "  --conn-limit N         connections in all (default 256)\n"
          "  --max-body BYTES       request body cap (default 16777216)\n"
          "  --max-side PX          width/height cap (default 2048)\n"
          "  --max-steps N          steps cap (default 150)\n"
          "  --max-images N         images per request cap (default 16)\n"
          "  --max-cost M           width × height × steps × images cap, in millions (default 1000)\n"
          "  --max-decodes N        uploaded images decoded at once (default 4)\n"
          "  --max-decode-bytes B   their decoded bytes in flight (default 67108864)\n"
          "  --url-ttl S            response_format=url images are served S seconds (default 3600)\n"
          "  --job-timeout S        a job ends (failed) S seconds after submission (default 600; 0 = never)\n"
          "  --keep-jobs N          finished jobs kept for GET /v1/jobs/{id} (default 64)\n"
          "  --drain-timeout S      on SIGTERM, time given to queued/running jobs (default 30)\n",
          stderr);
}

static int parse_int(const char *flag, const char *v, long lo, long hi, long *out)
{
    char *end;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "t2i-server: %s needs an integer in %ld..%ld\n", flag, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

static char listen_buf[256];

/* --devices 0,1,2,3: distinct ordinals 0..64, at most SRV_MAX_DEVICES. */
static int parse_devices(const char *v)
{
    g_cfg.n_devices = 0;
    for (const char *q = v; q && *q;) {
        char *end;
        long d = strtol(q, &end, 10);
        if (end == q || d < 0 || d > 64 || (*end && *end != ',') || g_cfg.n_devices == SRV_MAX_DEVICES)
            return fprintf(stderr, "t2i-server: --devices takes up to %d device ordinals 0..64 like 0,1,2,3\n",
                           SRV_MAX_DEVICES), -1;
        for (int k = 0; k < g_cfg.n_devices; k++)
            if (g_cfg.devices[k] == d) return fprintf(stderr, "t2i-server: --devices: %ld given twice\n", d), -1;
        g_cfg.devices[g_cfg.n_devices++] = (int)d;
        q = *end ? end + 1 : end;
    }
    if (!v || !g_cfg.n_devices) return fprintf(stderr, "t2i-server: --devices needs a list like 0,1\n"), -1;
    return 0;
}

static int parse_listen(const char *v)
{
    const char *colon = v ? strrchr(v, ':') : NULL;
    long port;
    if (!colon || parse_int("--listen port", colon + 1, 0, 65535, &port)) {
        fprintf(stderr, "t2i-server: --listen needs ADDR:PORT\n");
        return -1;
    }
    size_t n = (size_t)(colon - v);
    if (n >= sizeof listen_buf) return -1;
    memcpy(listen_buf, v, n), listen_buf[n] = 0;
    if (listen_buf[0] == '[' && n >= 2 && listen_buf[n - 1] == ']') {
        memmove(listen_buf, listen_buf + 1, n - 2);
        listen_buf[n - 2] = 0;
    }
    g_cfg.listen_addr = listen_buf;
    g_cfg.port = (int)port;
    return 0;
}

static int parse_args(int argc, char **argv, int *export_stats)
{
    g_cfg = (srv_config){.listen_addr = "127.0.0.1", .port = 7860, .web_dir = T2I_WEB_DIR,
                         .queue_max = 16, .batch_max = 1, .conn_timeout_s = 30, .per_ip_limit = 32,
                         .conn_limit = 256, .drain_timeout_s = 30, .body_timeout_s = 30, .job_timeout_s = 600, .url_ttl_s = 3600, .max_decodes = 4,
                         .max_decode_bytes = 64u << 20,
                         .max_cost = 1e9, .keep_jobs = 64, .max_body = 16u << 20,
                         .max_side = 2048, .max_steps = 150, .max_images = 16};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long x;
#define INT_FLAG(name, lo, hi, field)                                         \
    if (!strcmp(a, name)) {                                                   \
        if (parse_int(name, v, lo, hi, &x)) return -1;                        \
        g_cfg.field = (int)x, i++;                                            \
        continue;                                                             \
    }
#define STR_FLAG(name, field)                                                 \
    if (!strcmp(a, name)) {                                                   \
        if (!v) return fprintf(stderr, "t2i-server: %s needs a value\n", name), -1; \
        g_cfg.field = v, i++;                                                 \
        continue;                                                             \
    }
        INT_FLAG("--queue", 0, 100000, queue_max)
        INT_FLAG("--batch-max", 1, 64, batch_max)
        INT_FLAG("--threads", 0, 1024, threads)
        INT_FLAG("--device", 0, 64, device)
        INT_FLAG("--conn-timeout", 1, 3600, conn_timeout_s)
        INT_FLAG("--per-ip-limit", 1, 100000, per_ip_limit)
        INT_FLAG("--conn-limit", 1, 100000, conn_limit)
        INT_FLAG("--max-side", 64, 8192, max_side)
        INT_FLAG("--max-steps", 1, 1000, max_steps)
        INT_FLAG("--max-images", 1, 64, max_images)
        INT_FLAG("--keep-jobs", 1, 100000, keep_jobs)
        INT_FLAG("--drain-timeout", 0, 3600, drain_timeout_s)
        INT_FLAG("--body-timeout", 1, 3600, body_timeout_s)
        INT_FLAG("--job-timeout", 0, 86400, job_timeout_s)
        INT_FLAG("--parallel-min-pixels", 0, 1 << 26, parallel_min_pixels)
        INT_FLAG("--url-ttl", 1, 604800, url_ttl_s)
        INT_FLAG("--max-decodes", 1, 1024, max_decodes)
        STR_FLAG("--model", model_dir)
        STR_FLAG("--models-dir", models_dir)
        STR_FLAG("--lora-dir", lora_dir)
        STR_FLAG("--embeddings-dir", embeddings_dir)
        STR_FLAG("--db", db_path)
        STR_FLAG("--access-log", access_log)
        STR_FLAG("--web-dir", web_dir)
        STR_FLAG("--styles", styles_path)
        STR_FLAG("--scorer", scorer_dir)
        STR_FLAG("--scorer-zh", scorer_zh_dir)
        STR_FLAG("--aesthetic", aesthetic_path)
        if (!strcmp(a, "--max-decode-bytes")) {
            if (parse_int(a, v, 1024, 1L << 34, &x)) return -1;
            g_cfg.max_decode_bytes = (size_t)x, i++;
        } else if (!strcmp(a, "--upscaler")) {   /* repeatable: server/upscalers.h */
            if (!v || upscalers_add(v)) return fprintf(stderr, "t2i-server: --upscaler needs a file or folder\n"), -1;
            i++;
        } else if (!strcmp(a, "--max-cost")) {   /* in millions of pixel-steps */
            if (parse_int(a, v, 1, 1000000, &x)) return -1;
            g_cfg.max_cost = (double)x * 1e6, i++;
        } else if (!strcmp(a, "--max-body")) {
            if (parse_int(a, v, 1024, 1L << 30, &x)) return -1;
            g_cfg.max_body = (size_t)x, i++;
        } else if (!strcmp(a, "--listen")) {
            if (parse_listen(v)) return -1;
            i++;
        } else if (!strcmp(a, "--api-key")) {
            if (!v || !*v) return fprintf(stderr, "t2i-server: --api-key needs a value\n"), -1;
            free(g_cfg.api_key);
            g_cfg.api_key = strdup(v), i++;
        } else if (!strcmp(a, "--api-key-file")) {
            free(g_cfg.api_key);
            if (!v || !(g_cfg.api_key = read_key_file(v)))
                return fprintf(stderr, "t2i-server: --api-key-file: cannot read a key from %s\n", v ? v : "?"), -1;
            i++;
        } else if (!strcmp(a, "--devices")) {
            if (parse_devices(v)) return -1;
            i++;
        } else if (!strcmp(a, "--cuda")) {
            g_cfg.cuda = 1;
        } else if (!strcmp(a, "--backend")) {          /* as the t2i CLI spells it */
            if (!v || (strcmp(v, "cpu") && strcmp(v, "cuda")))
                return fprintf(stderr, "t2i-server: --backend needs cpu or cuda\n"), -1;
            g_cfg.cuda = !strcmp(v, "cuda"), i++;
        } else if (!strcmp(a, "--precision")) {
            if (!v || t2i_precision_parse(v, &g_cfg.precision) != T2I_OK)
                return fprintf(stderr, "t2i-server: --%s\n", v ? t2i_last_error() : "precision needs a value"), -1;
            i++;
        } else if (!strcmp(a, "--export-stats")) {
            *export_stats = 1;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage();
            exit(0);
        } else {
            fprintf(stderr, "t2i-server: unknown option %s\n", a);
            usage();
            return -1;
        }
#undef INT_FLAG
#undef STR_FLAG
    }
    return 0;
}

int main(int argc, char **argv)
{
    int export_stats = 0;
    if (parse_args(argc, argv, &export_stats)) return 2;
    if (t2i_precision_check(g_cfg.cuda ? T2I_BACKEND_CUDA : T2I_BACKEND_CPU, g_cfg.precision) != T2I_OK)
        return fprintf(stderr, "t2i-server: --precision: %s\n", t2i_last_error()), 2;
    if (!g_cfg.db_path && !(g_cfg.db_path = default_db_path()))
        return fprintf(stderr, "t2i-server: no data folder ($XDG_DATA_HOME or $HOME): give --db PATH\n"), 2;
    fprintf(stderr, "t2i-server: records in %s\n", g_cfg.db_path);
    if (export_stats) {
        if (!strcmp(g_cfg.db_path, ":memory:")) return fprintf(stderr, "t2i-server: --export-stats needs --db\n"), 2;
        if (records_open(g_cfg.db_path)) return 1;
        char *s = records_stats_json();
        if (s) puts(s);
        free(s);
        records_close();
        return s ? 0 : 1;
    }
    int start = -1;
    if (g_cfg.models_dir && scan_models_dir(g_cfg.models_dir)) return 1;
    if (!g_cfg.model_dir && !g_cfg.models_dir) g_cfg.model_dir = default_model();
    if (g_cfg.model_dir) {
        if (!is_model_dir(g_cfg.model_dir))
            return fprintf(stderr, "t2i-server: --model %s: neither a diffusers folder (model_index.json) nor a .safetensors checkpoint\n",
                           g_cfg.model_dir), 1;
        start = add_model(g_cfg.model_dir);
        /* The model's own upscaler (models/default/upscaler), when it ships one. */
        char up[1100];
        struct stat ust;
        snprintf(up, sizeof up, "%s/upscaler/model.safetensors", g_cfg.model_dir);
        if (stat(up, &ust) == 0) {
            snprintf(up, sizeof up, "%s/upscaler", g_cfg.model_dir);
            if (upscalers_find("upscaler") == UPSCALER_UNKNOWN && upscalers_add(up)) return 1;
        }
    } else if (g_n_models > 0) {
        start = 0;
    }
    if (start < 0) {
        fprintf(stderr, "t2i-server: no model: give --model DIR or --models-dir DIR (models/default was not found)\n");
        usage();
        return 2;
    }

    /* SIGTERM/SIGINT: the handler only writes to a pipe this thread polls.
     * Our own threads (worker, HTTP) start with the signals blocked, so they
     * land here or, at worst, on a thread a library started before main
     * (OpenBLAS does), where the handler works as well. The wait wakes every
     * 500 ms so that runtimes which defer handlers to the next intercepted
     * call (ThreadSanitizer) still run it. A second signal changes nothing. */
    if (pipe(signal_pipe)) return fprintf(stderr, "t2i-server: pipe failed\n"), 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    sigset_t sigs, old;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, &old);
    int rc = 1, started = records_open(g_cfg.db_path) == 0 && records_recover() >= 0 &&
                          styles_load(g_cfg.styles_path) == 0 && queue_start(start) == 0;
    if (started && http_start()) {
        queue_stop(0);
        started = 0;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!started) goto out;
    unsigned char sig = 0;
    struct pollfd pfd = {.fd = signal_pipe[0], .events = POLLIN};
    while (!(poll(&pfd, 1, 500) == 1 && read(signal_pipe[0], &sig, 1) == 1)) {}
    fprintf(stderr, "t2i-server: %s: draining (up to %d s)\n", sig == SIGTERM ? "SIGTERM" : "SIGINT",
            g_cfg.drain_timeout_s);
    http_quiesce();
    queue_stop(g_cfg.drain_timeout_s);
    http_finish(SHUTDOWN_SEND_S);
    http_stop();
    fprintf(stderr, "t2i-server: stopped\n");
    rc = 0;
out:
    queue_free_all();
    styles_free();
    records_close();
    free(g_cfg.api_key);
    return rc;
}
