/*
 * t2i_lora_bench.c — t2i-lora-bench: the time to switch LoRAs on a
 * full-size UNet (runtime/lora.h), with seeded random weights.
 *
 *   t2i-lora-bench [--config DIR] [--rank R] [--repeat N] [--threads N]
 *
 * Builds the UNet of DIR/unet/config.json (default perf/configs/sd15) with
 * random weights on the CPU backend (runtime/weights_random.c), writes a
 * kohya LoRA of rank R (default 64) on every attention projection (to_q,
 * to_k, to_v, to_out.0), feed-forward (ff.net.0.proj, ff.net.2) and
 * proj_in/proj_out — the layers a typical SD 1.5 LoRA adapts — to a
 * temporary file, then times, each --repeat times (default 3; medians
 * printed):
 *   apply     no LoRA → the LoRA at 1.0 (read, check, keep the originals, merge)
 *   reweight  the LoRA at 1.0 → at 0.5 (restore, then merge again)
 *   remove    the LoRA → none (restore only)
 * Figures on a busy machine are not meaningful; say so when reporting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "formats/safetensors.h"
#include "graph/build.h"
#include "runtime/lora.h"
#include "runtime/model.h"
#include "runtime/weights.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int adapted(const char *name)
{
    static const char *const ends[] = {".to_q.weight", ".to_k.weight", ".to_v.weight", ".to_out.0.weight",
                                       ".ff.net.0.proj.weight", ".ff.net.2.weight", ".proj_in.weight",
                                       ".proj_out.weight"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
        size_t k = strlen(ends[i]);
        if (n > k && strcmp(name + n - k, ends[i]) == 0) return 1;
    }
    return 0;
}

/* A kohya LoRA of rank r on the adapted weights of w; returns modules written. */
static int write_lora(const t2i_weights *w, int r, const char *path, size_t *bytes)
{
    t2i_st_writer *wr = NULL;
    if (t2i_st_writer_create(&wr) != T2I_OK) return -1;
    int modules = 0;
    *bytes = 0;
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < t2i_weights_count(w); i++) {
        int nd;
        const int64_t *ne;
        void *data;
        const char *name = t2i_weights_entry(w, i, &nd, &ne, &data);
        if (!adapted(name)) continue;
        int64_t in = 1;
        for (int d = 1; d < nd; d++) in *= ne[d];
        char key[512];
        snprintf(key, sizeof key, "lora_unet_%s", name);
        key[strlen(key) - 7] = '\0';
        for (char *p = key; *p; p++)
            if (*p == '.') *p = '_';
        size_t nd_ = (size_t)r * in, nu = (size_t)ne[0] * r, n = nd_ > nu ? nd_ : nu;
        uint16_t *v = malloc(n * sizeof *v);
        for (size_t j = 0; j < n; j++) {   /* xorshift, small F16 values */
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            v[j] = t2i_f32_to_f16(((float)(x >> 40) / (1 << 24) - 0.5f) * 0.02f);
        }
        char nm[600];
        float alpha = (float)r / 2;
        snprintf(nm, sizeof nm, "%s.lora_down.weight", key);
        t2i_st_writer_add(wr, nm, T2I_F16, 2, (int64_t[]){r, in}, v);
        snprintf(nm, sizeof nm, "%s.lora_up.weight", key);
        t2i_st_writer_add(wr, nm, T2I_F16, 2, (int64_t[]){ne[0], r}, v);
        snprintf(nm, sizeof nm, "%s.alpha", key);
        t2i_st_writer_add(wr, nm, T2I_F32, 0, NULL, &alpha);
        *bytes += (nd_ + nu) * 2;
        free(v);
        modules++;
    }
    t2i_status st = t2i_st_writer_save(wr, path);
    t2i_st_writer_destroy(wr);
    return st == T2I_OK ? modules : -1;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    const char *dir = "perf/configs/sd15";
    int rank = 64, repeat = 3, threads = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--config")) dir = argv[i + 1];
        else if (!strcmp(argv[i], "--rank")) rank = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--repeat")) repeat = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "usage: t2i-lora-bench [--config DIR] [--rank R] [--repeat N] [--threads N]\n");
            return 2;
        }
    }
    if (rank < 1 || repeat < 1 || repeat > 100) return 2;
    t2i_engine_options eo;
    t2i_engine_options_init(&eo);
    eo.threads = threads;
    t2i_engine *e = NULL;
    t2i_model *m = calloc(1, sizeof *m);
    char cfg[512], path[64];
    snprintf(cfg, sizeof cfg, "%s/unet/config.json", dir);
    snprintf(path, sizeof path, "/tmp/t2i_lora_bench_%d.safetensors", (int)getpid());
    t2i_graph *g = NULL;
    t2i_status st = t2i_engine_create(&eo, &e);
    if (st == T2I_OK) {
        m->eng = e;
        st = t2i_unet_config_load(cfg, &m->unet_cfg);
    }
    int lat = st == T2I_OK ? 1 << (m->unet_cfg.n_blocks - 1) : 1;
    if (st == T2I_OK) st = t2i_build_unet(&m->unet_cfg, 1, lat, lat, 1, &g);
    double t0 = now();
    if (st == T2I_OK) st = t2i_weights_random(e->be, g, 1, &m->unet_w);
    t2i_graph_destroy(g);
    if (st != T2I_OK) {
        fprintf(stderr, "t2i-lora-bench: %s\n", t2i_last_error());
        return 1;
    }
    printf("UNet %s: %.0f MB of weights (random, %.1f s)\n", cfg, t2i_weights_bytes(m->unet_w) / 1e6, now() - t0);
    size_t bytes;
    int modules = write_lora(m->unet_w, rank, path, &bytes);
    if (modules < 0) {
        fprintf(stderr, "t2i-lora-bench: cannot write %s: %s\n", path, t2i_last_error());
        return 1;
    }
    size_t touched = 0;   /* the weights the LoRA changes: what lora.c keeps to restore them */
    for (int i = 0; i < t2i_weights_count(m->unet_w); i++) {
        int nd;
        const int64_t *ne;
        void *data;
        const char *name = t2i_weights_entry(m->unet_w, i, &nd, &ne, &data);
        size_t numel = 1;
        for (int d = 0; d < nd; d++) numel *= (size_t)ne[d];
        if (adapted(name)) touched += numel * t2i_dtype_size(e->be->weight_dtype);
    }
    printf("LoRA: %d modules, rank %d, %.1f MB (F16); originals kept for restore: %.0f MB\n", modules, rank,
           bytes / 1e6, touched / 1e6);
    double *ta = calloc((size_t)repeat, sizeof *ta), *tw = calloc((size_t)repeat, sizeof *tw),
           *tr = calloc((size_t)repeat, sizeof *tr);
    for (int i = 0; i < repeat && st == T2I_OK; i++) {
        t2i_lora one = {path, 1.0f}, half = {path, 0.5f};
        double a = now();
        st = t2i_lora_apply(m, &one, 1);
        double b = now();
        if (st == T2I_OK) st = t2i_lora_apply(m, &half, 1);
        double c = now();
        if (st == T2I_OK) st = t2i_lora_apply(m, NULL, 0);
        double d = now();
        ta[i] = b - a, tw[i] = c - b, tr[i] = d - c;
    }
    unlink(path);
    if (st != T2I_OK) {
        fprintf(stderr, "t2i-lora-bench: %s\n", t2i_last_error());
        return 1;
    }
    qsort(ta, (size_t)repeat, sizeof *ta, cmp_d);
    qsort(tw, (size_t)repeat, sizeof *tw, cmp_d);
    qsort(tr, (size_t)repeat, sizeof *tr, cmp_d);
    printf("| switch   | median s (of %d) |\n|---|---|\n| apply    | %.3f |\n| reweight | %.3f |\n| remove   | %.3f |\n",
           repeat, ta[repeat / 2], tw[repeat / 2], tr[repeat / 2]);
    free(ta), free(tw), free(tr);
    t2i_model_destroy(m);
    t2i_engine_destroy(e);
    return 0;
}
