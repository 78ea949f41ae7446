/*
 * bench.h — what the parts of t2i-bench share (t2i_bench.c: measuring and
 * main; bench_setup.c: options, engine, configs and weights;
 * bench_report.c: the table and the JSON lines). Not a library header.
 */
#ifndef T2I_BENCH_H
#define T2I_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include "bench_presets.h"
#include "runtime/model.h"

#define MAX_BATCHES 16

typedef struct opts {
    const char *preset, *model, *configs, *out_dir, *tag, *commit, *sampler_name, *mode;
    t2i_backend_kind backend;
    t2i_precision precision;          /* --precision: the engine's rung (docs/precision.md) */
    int device, threads, width, height, steps, warmup, repeat, profile_steps, json;
    int devices;                      /* --devices N: several ranks (bench_parallel.c); 0 = one device */
    int batches[MAX_BATCHES], n_batches;
    double cfg, peak_tflops;
    uint64_t seed;
    t2i_sampler sampler;
} opts;

/* The model under test: configs plus one weight store per part. */
typedef struct bench {
    opts o;
    bench_configs c;
    t2i_engine *eng;
    t2i_model *model;                 /* --model: owns the weights below */
    t2i_weights *text_w, *text2_w, *unet_w, *vae_w;
    int bert;                         /* --model with a BERT text encoder (Taiyi) */
    t2i_bert_config bert_cfg;
    double weights_s;                 /* generating or loading them */
    char device[160];
    int threads;                      /* resolved CPU thread count */
    int unet_only;
} bench;

/* One measurement (one batch size). Times in seconds. */
typedef struct result {
    int batch, unet_batch, steps;
    double compile_s, text_s, unet_step_s, unet_step_min_s, loop_s, vae_s, e2e_s;
    double text_flops, unet_flops, vae_flops, e2e_flops;
    size_t weights_b, arena_b, workspace_b;
    long rss_peak_kb;
    int nonfinite;                    /* NaN/Inf in the final latents or UNet output */
} result;

double bench_now_s(void);   /* monotonic clock, seconds */
/* First line of a command's output, trimmed; "" if it fails. */
void bench_run_capture(const char *cmd, char *buf, size_t n);
/* Exit status for a failed library call: 77 (unsupported by this build) or 1. */
int bench_fail_rc(t2i_status st);

/* bench_setup.c */
void bench_usage(FILE *f);
/* Parse argv into *o (defaults first); -1 after a message on bad usage. */
int bench_parse_opts(int argc, char **argv, opts *o);
/* Engine, device name, configs and weights (random for presets, loaded for
 * --model) for b->o; 0, or the exit status after a message. */
int bench_setup(bench *b);
void bench_teardown(bench *b);   /* after bench_setup, whatever it returned */

/* bench_parallel.c: --devices N --mode data|cfg|patch with --model; the
 * exit status */
int bench_parallel(const opts *o);

/* bench_report.c */
void bench_print_header(const bench *b, int W, int H);
void bench_print_row(const bench *b, const result *r);
/* Append r as one JSON line to <out-dir>/<UTC date>-<host>.jsonl, whose
 * path is written to path; 0, or -1 after a message. */
int bench_append_json(const bench *b, const result *r, int W, int H, char *path, size_t path_n);

#endif
