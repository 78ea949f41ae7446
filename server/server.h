/*
 * server.h — t2i-server's configuration and the few process-wide facts the
 * parts share (configuration, model catalog, clock, random ids).
 *
 * The server is split by concern, one file each:
 *   server.c        what this header declares: configuration, model
 *                   catalog, clocks, random ids (depends on no other part)
 *   main.c          flags, signals, start-up and graceful shutdown
 *   http.c          libmicrohttpd glue: body cap, auth, routing, access log
 *   params.c        JSON request → generation parameters, field-named errors
 *   job.c           one generation job: parameters, state, results
 *   queue.c         bounded job queue and the worker thread owning the engine
 *   records.c       SQLite records of requests, images and feedback
 *   judging.c       the scorer: every image's scores, best-of-n
 *   metrics.c       Prometheus counters and histograms
 *   styles.c        the prompt-style catalog served to clients
 *   b64.c           base64 for PNGs in JSON
 *   uploads.c       the budget for decoding uploaded images
 *   routes_sdapi.c  A1111 /sdapi/v1/... generation, progress, options
 *   routes_sdapi_lists.c  A1111 listing routes (upscalers, loras, memory…)
 *   routes_extras.c A1111 extras: uploaded images upscaled on a worker
 *   upscalers.c     the --upscaler table and its names
 *   hires.c         enable_hr and the hr_* fields of txt2img
 *   routes_openai.c OpenAI /v1/images/generations, /v1/models
 *   routes_jobs.c   native async jobs (+ SSE) and feedback
 *   routes_ops.c    /health, /metrics, the web page
 *
 * Threads: libmicrohttpd runs one thread per connection; handlers may block
 * (a synchronous txt2img waits for its job). Exactly one worker thread per
 * device owns the engine and the loaded model; every other thread talks to
 * it only through the queue.
 */
#ifndef T2I_SERVER_H
#define T2I_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include "t2i.h"

#define SRV_ID_LEN 32            /* hex characters of a job / image id */
#define SRV_MAX_MODELS 64
#define SRV_MAX_DEVICES 16

typedef struct srv_config {
    const char *listen_addr;     /* "127.0.0.1" unless --listen says otherwise */
    int port;
    const char *model_dir;       /* --model: the model loaded at start */
    const char *models_dir;      /* --models-dir: switchable subfolders */
    const char *lora_dir;        /* --lora-dir: <lora:name:w> files, /sdapi/v1/loras */
    const char *embeddings_dir;  /* --embeddings-dir: textual inversions, /sdapi/v1/embeddings */
    char *api_key;               /* NULL: no authentication */
    const char *db_path;         /* --db, else a file in the data folder (main.c) */
    const char *access_log;      /* NULL: stderr */
    const char *web_dir;
    const char *styles_path;     /* NULL: built-in catalog */
    int queue_max;               /* waiting jobs beyond the running ones */
    int batch_max;               /* images merged into one engine call */
    int threads;                 /* engine CPU threads, 0 = all cores */
    int cuda;                    /* 1: CUDA backend */
    t2i_precision precision;     /* --precision: every worker's engine (default: the backend's) */
    int device;
    int devices[SRV_MAX_DEVICES];   /* --devices 0,1,2,3: one worker each (CPU: N CPU workers) */
    int n_devices;                  /* 0: one worker on --device */
    int parallel_min_pixels;        /* a job this large (W·H, CFG > 1) borrows an idle device; 0 = never */
    int conn_timeout_s;
    int per_ip_limit;
    int conn_limit;
    int drain_timeout_s;
    int keep_jobs;               /* finished jobs kept for GET /v1/jobs/{id} */
    size_t max_body;             /* request body cap in bytes */
    int max_side;                /* width/height cap in pixels */
    int max_steps;
    int max_images;              /* batch_size × n_iter cap per request */
    int body_timeout_s;          /* a request body must arrive within this */
    int max_decodes;             /* uploaded images decoded at once */
    size_t max_decode_bytes;     /* their decoded bytes in flight, in all */
    int url_ttl_s;               /* response_format=url images are served this long */
    int job_timeout_s;           /* a job must end this long after submission; 0 = never */
    double max_cost;             /* width × height × steps × images cap */
    const char *scorer_dir;      /* --scorer: CLIPModel folder judging images (judging.h) */
    const char *scorer_zh_dir;   /* --scorer-zh: ChineseCLIPModel folder */
    const char *aesthetic_path;  /* --aesthetic: LAION-style head (.safetensors) */
} srv_config;

typedef struct srv_model_entry {
    char name[128];              /* folder name, the A1111 "title" */
    char path[1024];
} srv_model_entry;

extern srv_config g_cfg;
extern srv_model_entry g_models[SRV_MAX_MODELS];
extern int g_n_models;

/* Index of a model by title (case-insensitive), -1 if unknown. */
int srv_model_find(const char *name);

/* Seconds since an arbitrary epoch (CLOCK_MONOTONIC) / Unix time. */
double srv_now(void);
double srv_wall(void);

/* A fresh random id: SRV_ID_LEN hex characters + NUL into out. */
void srv_random_id(char out[SRV_ID_LEN + 1]);
/* A random 32-bit seed as A1111 draws for seed = -1. */
uint64_t srv_random_seed(void);

#endif /* T2I_SERVER_H */
