/*
 * bench_setup.c — t2i-bench's command line and the model under test: the
 * engine on the chosen backend, the device name, the configs of a preset or
 * model folder, and the weights (seeded random for presets, loaded for
 * --model). See t2i_bench.c for what is measured.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"
#include "graph/build.h"
#include "runtime/text_encoder.h"

double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void bench_run_capture(const char *cmd, char *buf, size_t n)
{
    buf[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (!p) return;
    if (!fgets(buf, (int)n, p)) buf[0] = '\0';
    pclose(p);
    buf[strcspn(buf, "\r\n")] = '\0';
}

static void cpu_model_name(char *buf, size_t n)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    snprintf(buf, n, "cpu");
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            const char *v = strchr(line, ':');
            if (v) {
                v++;
                while (*v == ' ') v++;
                snprintf(buf, n, "%s", v);
                buf[strcspn(buf, "\r\n")] = '\0';
            }
            break;
        }
    }
    if (f) fclose(f);
}

/* ---- options ------------------------------------------------------------- */

void bench_usage(FILE *f)
{
    fprintf(f,
            "usage: t2i-bench [--preset sd15|sd21|sdxl|tiny|tiny2|tinyxl | --model DIR] [--configs DIR]\n"
            "                 [--backend cpu|cuda] [--precision NAME] [--device N] [--threads N]\n"
            "                 [--size N | --width W --height H] [--steps N] [--batch 1,4,8]\n"
            "                 [--cfg G] [--sampler NAME] [--seed N] [--warmup N] [--repeat N]\n"
            "                 [--mode full|unet] [--profile-steps N] [--peak-tflops X]\n"
            "                 [--devices N --mode data|cfg|patch --model DIR]  (several ranks: CPU ranks, or\n"
            "                  CUDA devices --device .. --device + N - 1)\n"
            "                 [--out-dir DIR | --no-json] [--tag TEXT] [--commit ID]\n"
            "defaults: preset sd15, backend cpu, native size, 50 steps, batch 1,4,8, cfg 7.5,\n"
            "          sampler euler, seed 0, warmup 1, repeat 1, mode full, out-dir <src>/perf/results\n"
            "exit: 0 ok, 1 failure, 2 usage, 77 unsupported by this build (CUDA backend, SDXL UNet)\n");
}

static int parse_batches(const char *s, opts *o)
{
    o->n_batches = 0;
    while (*s && o->n_batches < MAX_BATCHES) {
        char *end;
        long b = strtol(s, &end, 10);
        if (end == s || b < 1 || b > 64) return -1;
        o->batches[o->n_batches++] = (int)b;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return -1;
    }
    return o->n_batches ? 0 : -1;
}

int bench_parse_opts(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->preset = "sd15";
    o->sampler_name = "euler";
    o->mode = "full";
    o->steps = 50;
    o->warmup = 1;
    o->repeat = 1;
    o->json = 1;
    o->cfg = 7.5;
    o->batches[0] = 1, o->batches[1] = 4, o->batches[2] = 8, o->n_batches = 3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { bench_usage(stdout); exit(0); }
        if (!strcmp(a, "--no-json")) { o->json = 0; continue; }
        if (!v) { fprintf(stderr, "t2i-bench: %s needs a value\n", a); return -1; }
        i++;
        if (!strcmp(a, "--preset")) o->preset = v;
        else if (!strcmp(a, "--model")) o->model = v;
        else if (!strcmp(a, "--configs")) o->configs = v;
        else if (!strcmp(a, "--backend")) {
            if (!strcmp(v, "cpu")) o->backend = T2I_BACKEND_CPU;
            else if (!strcmp(v, "cuda")) o->backend = T2I_BACKEND_CUDA;
            else { fprintf(stderr, "t2i-bench: --backend must be cpu or cuda\n"); return -1; }
        }
        else if (!strcmp(a, "--precision")) {
            if (t2i_precision_parse(v, &o->precision) != T2I_OK) { fprintf(stderr, "t2i-bench: --%s\n", t2i_last_error()); return -1; }
        }
        else if (!strcmp(a, "--device")) o->device = atoi(v);
        else if (!strcmp(a, "--threads")) o->threads = atoi(v);
        else if (!strcmp(a, "--size")) o->width = o->height = atoi(v);
        else if (!strcmp(a, "--width")) o->width = atoi(v);
        else if (!strcmp(a, "--height")) o->height = atoi(v);
        else if (!strcmp(a, "--steps")) o->steps = atoi(v);
        else if (!strcmp(a, "--batch")) {
            if (parse_batches(v, o)) { fprintf(stderr, "t2i-bench: --batch takes sizes 1..64, e.g. 1,4,8\n"); return -1; }
        }
        else if (!strcmp(a, "--cfg")) o->cfg = atof(v);
        else if (!strcmp(a, "--sampler")) o->sampler_name = v;
        else if (!strcmp(a, "--seed")) o->seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--warmup")) o->warmup = atoi(v);
        else if (!strcmp(a, "--repeat")) o->repeat = atoi(v);
        else if (!strcmp(a, "--mode")) o->mode = v;
        else if (!strcmp(a, "--devices")) o->devices = atoi(v);
        else if (!strcmp(a, "--profile-steps")) o->profile_steps = atoi(v);
        else if (!strcmp(a, "--peak-tflops")) o->peak_tflops = atof(v);
        else if (!strcmp(a, "--out-dir")) o->out_dir = v;
        else if (!strcmp(a, "--tag")) o->tag = v;
        else if (!strcmp(a, "--commit")) o->commit = v;
        else { fprintf(stderr, "t2i-bench: unknown option %s\n", a); return -1; }
    }
    if (o->devices && (o->devices < 1 || o->devices > 64 || !o->model ||
                       (strcmp(o->mode, "data") && strcmp(o->mode, "cfg") && strcmp(o->mode, "patch")))) {
        fprintf(stderr, "t2i-bench: --devices takes 1..64 with --mode data|cfg|patch and --model DIR\n");
        return -1;
    }
    if (!o->devices && strcmp(o->mode, "full") && strcmp(o->mode, "unet")) {
        fprintf(stderr, "t2i-bench: --mode must be full or unet (data|cfg|patch with --devices)\n");
        return -1;
    }
    if (o->steps < 1 || o->steps > 1000 || o->warmup < 0 || o->repeat < 1 || o->threads < 0 ||
        o->profile_steps < 0 || !(o->cfg >= 0 && o->cfg <= 100)) {
        fprintf(stderr, "t2i-bench: steps 1..1000, warmup >= 0, repeat >= 1, threads >= 0, cfg 0..100\n");
        return -1;
    }
    if (t2i_precision_check(o->backend, o->precision) != T2I_OK) {   /* a rung the backend does not offer */
        fprintf(stderr, "t2i-bench: --precision: %s\n", t2i_last_error());
        return -1;
    }
    if (t2i_sampler_from_name(o->sampler_name, &o->sampler) != T2I_OK) {
        fprintf(stderr, "t2i-bench: %s\n", t2i_last_error());
        return -1;
    }
    return 0;
}

/* ---- setup: engine, configs, weights --------------------------------------- */

int bench_fail_rc(t2i_status st) { return st == T2I_ERR_UNSUPPORTED ? 77 : 1; }

/* Build a part's graph at its smallest size (the weights are the same at
 * every size) and fill a random store from it. */
static t2i_status random_part(bench *b, const char *what, t2i_status built, t2i_graph *g, t2i_weights **w)
{
    if (built != T2I_OK) return built;
    t2i_status st = t2i_weights_random(b->eng->be, g, b->o.seed, w);
    t2i_graph_destroy(g);
    if (st != T2I_OK) t2i_fail_context(st, "%s", what);
    return st;
}

int bench_setup(bench *b)
{
    const opts *o = &b->o;
    t2i_engine_options eo;
    t2i_engine_options_init(&eo);
    eo.backend = o->backend;
    eo.device = o->device;
    eo.threads = o->threads;
    eo.precision = o->precision;
    t2i_status st = t2i_engine_create(&eo, &b->eng);
    if (st != T2I_OK) {
        fprintf(stderr, "t2i-bench: backend %s is not available: %s\n",
                o->backend == T2I_BACKEND_CUDA ? "cuda" : "cpu", t2i_last_error());
        if (o->backend == T2I_BACKEND_CUDA)
            fprintf(stderr, "t2i-bench: the CUDA backend needs a build with -DT2I_CUDA=ON (nvcc) and a visible "
                            "NVIDIA GPU; use --backend cpu here\n");
        return bench_fail_rc(st);
    }
    if (o->backend == T2I_BACKEND_CUDA) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "nvidia-smi --query-gpu=name --format=csv,noheader -i %d 2>/dev/null", o->device);
        bench_run_capture(cmd, b->device, sizeof b->device);
        if (!b->device[0]) snprintf(b->device, sizeof b->device, "cuda:%d", o->device);
    } else {
        cpu_model_name(b->device, sizeof b->device);
    }
    /* As the CPU backend resolves 0: one per online core. */
    b->threads = o->threads ? o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);

    if ((st = bench_resolve(o->preset, o->model, o->configs, b->c.dir, sizeof b->c.dir)) != T2I_OK) {
        fprintf(stderr, "t2i-bench: %s\n", t2i_last_error());
        return 2;
    }
    double t0 = bench_now_s();
    if (o->model) {
        st = t2i_model_load(b->eng, b->c.dir, &b->model);
        if (st == T2I_OK) {
            t2i_model *m = b->model;
            b->c.text = m->text_cfg;
            b->c.text2 = m->text2_cfg;
            b->c.has_text2 = m->text_kind == T2I_TEXT_SDXL;
            b->c.force_zeros = b->c.has_text2 && m->force_zeros_for_empty_prompt;
            b->bert = m->text_kind == T2I_TEXT_BERT;
            b->bert_cfg = m->bert_cfg;
            b->c.unet = m->unet_cfg;
            b->c.vae = m->vae_cfg;
            b->c.sched = m->sched_cfg;
            b->c.ctx_len = t2i_text_len(m);
            b->c.ctx_dim = t2i_text_context_dim(m);
            b->c.pooled_dim = t2i_text_pooled_dim(m);
            b->text_w = m->text_w;
            b->text2_w = m->text2_w;
            b->unet_w = m->unet_w;
            b->vae_w = m->vae_w;
        }
    } else {
        for (int p = BENCH_TEXT; p <= BENCH_SCHED && st == T2I_OK; p++) st = bench_load_part(&b->c, (bench_part)p);
        if (st == T2I_OK && b->c.ctx_dim != b->c.unet.cross_attention_dim)
            st = t2i_fail(T2I_ERR_FORMAT, "%s: text encoders give %d context channels, the UNet's cross_attention_dim is %d",
                          b->c.dir, b->c.ctx_dim, b->c.unet.cross_attention_dim);
        if (st == T2I_OK && b->c.unet.add_text_time != (b->c.has_text2 != 0))
            st = t2i_fail(T2I_ERR_UNSUPPORTED, "%s: a text_time UNet needs SDXL's two text encoders", b->c.dir);
        t2i_graph *g = NULL;
        int lat = 1 << (b->c.unet.n_blocks - 1);
        if (st == T2I_OK && !b->unet_only) {
            t2i_status built = t2i_build_clip_text(&b->c.text, 1, 1, &g);
            st = random_part(b, "text encoder", built, g, &b->text_w);
        }
        if (st == T2I_OK && !b->unet_only && b->c.has_text2) {
            t2i_clip_outputs co = {.penultimate = true, .pooled = true};
            t2i_status built = t2i_build_clip_text_ex(&b->c.text2, 1, 1, &co, &g);
            st = random_part(b, "text encoder 2", built, g, &b->text2_w);
        }
        if (st == T2I_OK) {
            t2i_status built = t2i_build_unet(&b->c.unet, 1, lat, lat, 1, &g);
            st = random_part(b, "unet", built, g, &b->unet_w);
        }
        if (st == T2I_OK && !b->unet_only) {
            t2i_status built = t2i_build_vae_decoder(&b->c.vae, 1, 1, 1, &g);
            st = random_part(b, "vae decoder", built, g, &b->vae_w);
        }
    }
    b->weights_s = bench_now_s() - t0;
    if (st != T2I_OK) {
        fprintf(stderr, "t2i-bench: %s: %s%s\n", o->model ? o->model : o->preset,
                st == T2I_ERR_UNSUPPORTED ? "unsupported by this build: " : "", t2i_last_error());
        return bench_fail_rc(st);
    }
    return 0;
}

void bench_teardown(bench *b)
{
    if (b->model) {
        t2i_model_destroy(b->model); /* owns the weights */
    } else {
        t2i_weights_destroy(b->text_w);
        t2i_weights_destroy(b->text2_w);
        t2i_weights_destroy(b->unet_w);
        t2i_weights_destroy(b->vae_w);
    }
    t2i_engine_destroy(b->eng);
}
