/*
 * bench_report.c — t2i-bench's output: the table on stdout and one JSON line
 * per measurement appended to <out-dir>/<UTC date>-<host>.jsonl.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "bench.h"

/* Dense FP16 tensor-core peak (TFLOP/s, no sparsity) by device name; 0 if
 * unknown. nvidia-smi names: "NVIDIA H100 80GB HBM3" (SXM), "NVIDIA H100
 * PCIe", "NVIDIA H200", "NVIDIA A100-SXM4-80GB", "NVIDIA A100 80GB PCIe". */
static double fp16_peak_tflops(const char *name)
{
    if (strstr(name, "H200")) return 989;
    if (strstr(name, "H100") && strstr(name, "PCIe")) return 756;
    if (strstr(name, "H100")) return 989;
    if (strstr(name, "A100")) return 312;
    return 0;
}

/* The rung run: --precision, else the backend's own (docs/precision.md). */
static const char *bench_precision_name(const opts *o)
{
    if (o->precision != T2I_PRECISION_DEFAULT) return t2i_precision_name(o->precision);
    return o->backend == T2I_BACKEND_CUDA ? "fp16" : "fp32";
}

static double peak_tflops(const bench *b)
{
    if (b->o.peak_tflops > 0) return b->o.peak_tflops;
    return b->o.backend == T2I_BACKEND_CUDA ? fp16_peak_tflops(b->device) : 0;
}

void bench_print_header(const bench *b, int W, int H)
{
    const opts *o = &b->o;
    printf("t2i-bench: %s (%s), %s backend (%s) on %s, threads %d\n", o->model ? o->model : o->preset, b->c.dir,
           o->backend == T2I_BACKEND_CUDA ? "cuda" : "cpu", bench_precision_name(o), b->device, b->threads);
    if (b->unet_only)
        printf("           %dx%d, UNet steps only (%d timed), CFG %.1f%s, weights %s in %.1f s\n", W, H,
               o->profile_steps ? o->profile_steps : o->repeat, o->cfg, o->cfg > 1 ? " (UNet batch 2B)" : "",
               o->model ? "loaded" : "random", b->weights_s);
    else
        printf("           %dx%d, %d steps, %s, CFG %.1f%s, weights %s in %.1f s, %d run(s) after %d warm-up\n", W, H,
               o->steps, t2i_sampler_name(o->sampler), o->cfg, o->cfg > 1 ? " (UNet batch 2B)" : "",
               o->model ? "loaded" : "random", b->weights_s, o->repeat, o->warmup);
    printf("%5s %4s | %9s %11s %9s %9s %9s | %7s %7s | %9s %9s %6s | %9s %9s\n", "batch", "ub", "text s",
           "unet step s", "vae s/im", "e2e s", "s/image", "it/s", "img/s", "unet GF/s", "e2e GF/s", "peak%",
           "dev MiB", "RSS MiB");
}

/* A time column, or "-" for a stage the mode does not run. */
static const char *col(char *buf, size_t n, const char *fmt, double v, int present)
{
    if (present) snprintf(buf, n, fmt, v);
    else snprintf(buf, n, "-");
    return buf;
}

void bench_print_row(const bench *b, const result *r)
{
    double pk = peak_tflops(b);
    double unet_gfs = r->unet_step_s > 0 ? r->unet_flops / r->unet_step_s / 1e9 : 0;
    double e2e_gfs = r->e2e_s > 0 ? r->e2e_flops / r->e2e_s / 1e9 : 0;
    int full = r->e2e_s > 0;
    char peak[16] = "-", c[6][24];
    if (pk > 0) snprintf(peak, sizeof peak, "%.1f", 100.0 * unet_gfs / (pk * 1e3));
    printf("%5d %4d | %9s %11.4f %9s %9s %9s | %7.2f %7s | %9.1f %9s %6s | %9.1f %9.1f%s\n", r->batch,
           r->unet_batch, col(c[0], 24, "%.3f", r->text_s, full), r->unet_step_s,
           col(c[1], 24, "%.3f", r->vae_s / r->batch, full), col(c[2], 24, "%.3f", r->e2e_s, full),
           col(c[3], 24, "%.3f", r->e2e_s / r->batch, full), r->loop_s > 0 ? r->steps / r->loop_s : 0,
           col(c[4], 24, "%.3f", r->batch / (full ? r->e2e_s : 1), full), unet_gfs,
           col(c[5], 24, "%.1f", e2e_gfs, full), peak, (double)(r->weights_b + r->arena_b + r->workspace_b) / 1048576.0,
           r->rss_peak_kb / 1024.0, r->nonfinite ? "  NON-FINITE OUTPUT" : "");
}

static void commit_id(const bench *b, char *buf, size_t n)
{
    if (b->o.commit) {
        snprintf(buf, n, "%s", b->o.commit);
        return;
    }
    char id[64], dirty[8];
    bench_run_capture("git -C '" T2I_SOURCE_DIR "' rev-parse --short=12 HEAD 2>/dev/null", id, sizeof id);
    bench_run_capture("git -C '" T2I_SOURCE_DIR "' status --porcelain --untracked-files=no 2>/dev/null | head -1", dirty,
                sizeof dirty);
    snprintf(buf, n, "%s%s", id[0] ? id : "unknown", dirty[0] ? "-dirty" : "");
}

static int mkdir_p(const char *dir)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0777);
            *p = '/';
        }
    return mkdir(tmp, 0777) == 0 || access(tmp, W_OK) == 0 ? 0 : -1;
}

int bench_append_json(const bench *b, const result *r, int W, int H, char *path, size_t path_n)
{
    const opts *o = &b->o;
    char host[128] = "host", commit[80], stamp[32], date[16];
    gethostname(host, sizeof host - 1);
    host[strcspn(host, ".")] = '\0';
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    commit_id(b, commit, sizeof commit);
    const char *dir = o->out_dir ? o->out_dir : T2I_SOURCE_DIR "/perf/results";
    if (mkdir_p(dir) != 0) {
        fprintf(stderr, "t2i-bench: cannot create %s\n", dir);
        return -1;
    }
    snprintf(path, path_n, "%s/%s-%s.jsonl", dir, date, host);

    double pk = peak_tflops(b);
    double unet_tfs = r->unet_step_s > 0 ? r->unet_flops / r->unet_step_s / 1e12 : 0;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "time", stamp);
    cJSON_AddStringToObject(j, "commit", commit);
    cJSON_AddStringToObject(j, "host", host);
    cJSON_AddStringToObject(j, "tool", "t2i-bench");
    if (o->tag) cJSON_AddStringToObject(j, "tag", o->tag);
    cJSON_AddStringToObject(j, "backend", o->backend == T2I_BACKEND_CUDA ? "cuda" : "cpu");
    cJSON_AddStringToObject(j, "precision", bench_precision_name(o));
    cJSON_AddStringToObject(j, "device", b->device);
    cJSON_AddNumberToObject(j, "threads", b->threads);
    cJSON_AddStringToObject(j, "preset", o->model ? "model" : o->preset);
    cJSON_AddStringToObject(j, "model_dir", b->c.dir);
    cJSON_AddStringToObject(j, "weights", o->model ? "loaded" : "random");
    cJSON_AddStringToObject(j, "mode", o->profile_steps ? "profile" : o->mode);
    cJSON_AddNumberToObject(j, "width", W);
    cJSON_AddNumberToObject(j, "height", H);
    cJSON_AddNumberToObject(j, "batch", r->batch);
    cJSON_AddNumberToObject(j, "unet_batch", r->unet_batch);
    cJSON_AddNumberToObject(j, "steps", r->steps);
    cJSON_AddNumberToObject(j, "cfg", o->cfg);
    cJSON_AddStringToObject(j, "sampler", t2i_sampler_name(o->sampler));
    cJSON_AddNumberToObject(j, "seed", (double)o->seed);
    cJSON_AddNumberToObject(j, "repeat", o->repeat);
    cJSON_AddNumberToObject(j, "warmup", o->warmup);
    cJSON *t = cJSON_AddObjectToObject(j, "seconds");
    cJSON_AddNumberToObject(t, "weights", b->weights_s);
    cJSON_AddNumberToObject(t, "compile", r->compile_s);
    cJSON_AddNumberToObject(t, "text_encoder", r->text_s);
    cJSON_AddNumberToObject(t, "unet_step", r->unet_step_s);
    cJSON_AddNumberToObject(t, "unet_step_min", r->unet_step_min_s);
    cJSON_AddNumberToObject(t, "denoise_loop", r->loop_s);
    cJSON_AddNumberToObject(t, "vae_decode", r->vae_s);
    cJSON_AddNumberToObject(t, "vae_decode_per_image", r->batch ? r->vae_s / r->batch : 0);
    cJSON_AddNumberToObject(t, "end_to_end", r->e2e_s);
    cJSON_AddNumberToObject(t, "per_image", r->batch ? r->e2e_s / r->batch : 0);
    cJSON_AddNumberToObject(j, "it_per_s", r->loop_s > 0 ? r->steps / r->loop_s : 0);
    cJSON_AddNumberToObject(j, "images_per_s", r->e2e_s > 0 ? r->batch / r->e2e_s : 0);
    cJSON *fl = cJSON_AddObjectToObject(j, "flops");
    cJSON_AddNumberToObject(fl, "text_encoder", r->text_flops);
    cJSON_AddNumberToObject(fl, "unet_step", r->unet_flops);
    cJSON_AddNumberToObject(fl, "vae_decode", r->vae_flops);
    cJSON_AddNumberToObject(fl, "end_to_end", r->e2e_flops);
    cJSON_AddNumberToObject(j, "unet_tflops_per_s", unet_tfs);
    cJSON_AddNumberToObject(j, "e2e_tflops_per_s", r->e2e_s > 0 ? r->e2e_flops / r->e2e_s / 1e12 : 0);
    if (pk > 0) {
        cJSON_AddNumberToObject(j, "fp16_peak_tflops", pk);
        cJSON_AddNumberToObject(j, "unet_peak_fraction", unet_tfs / pk);
    } else {
        cJSON_AddNullToObject(j, "unet_peak_fraction");
    }
    cJSON *mem = cJSON_AddObjectToObject(j, "memory_bytes");
    cJSON_AddNumberToObject(mem, "weights", (double)r->weights_b);
    cJSON_AddNumberToObject(mem, "arena", (double)r->arena_b);
    cJSON_AddNumberToObject(mem, "workspace", (double)r->workspace_b);
    cJSON_AddNumberToObject(mem, "backend_total", (double)(r->weights_b + r->arena_b + r->workspace_b));
    if (o->backend == T2I_BACKEND_CPU) cJSON_AddNumberToObject(mem, "rss_peak", 1024.0 * (double)r->rss_peak_kb);
    cJSON_AddNumberToObject(j, "nonfinite", r->nonfinite);
    char *line = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    FILE *f = line ? fopen(path, "a") : NULL;
    int rc = f && fprintf(f, "%s\n", line) > 0 ? 0 : -1;
    if (f && fclose(f) != 0) rc = -1;
    free(line);
    if (rc) fprintf(stderr, "t2i-bench: cannot append to %s\n", path);
    return rc;
}
