/*
 * test_bench_smoke.c — the pieces behind the perf tools, on the CPU:
 *
 *   - t2i_weights_random: the same values for the same (seed, name) whatever
 *     the graph's size, other values for another seed, the documented scales
 *     (bounds derived below), and finite activations through a UNet;
 *   - t2i_graph_flops: exact counts on a hand-built graph;
 *   - t2i-bench --preset tiny (2 steps, batch 1) appends one JSON line with
 *     the expected fields to a temporary directory, and its UNet FLOPs equal
 *     the graph's; --preset tinyxl runs the SDXL layout (two encoders); --backend cuda fails cleanly where there is no CUDA
 *     backend; --devices 2 --mode cfg on tiny-sd1 writes a row for one
 *     device and one for the pair, bytes per step exact; t2i-plan prints a
 *     row per part.
 * The tool paths come from CMake (T2I_BENCH_EXE, T2I_PLAN_EXE).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <sys/wait.h>
#include <unistd.h>
#include "graph/build.h"
#include "graph/flops.h"
#include "kernels/backend.h"
#include "graph/model_config.h"
#include "runtime/plan.h"
#include "runtime/weights.h"
#include "test_util.h"

#define TINY T2I_SOURCE_DIR "/tests/fixtures/tiny-sd1"

static t2i_backend *be;

static const float *weight(const t2i_weights *w, const t2i_graph *g, const char *name, const t2i_tensor **t)
{
    int id = t2i_graph_find(g, name);
    CHECK(id >= 0, "graph has no weight %s", name);
    if (id < 0) return NULL;
    *t = &g->tensors[id];
    const float *p = t2i_weights_find(w, *t);
    CHECK(p != NULL, "store has no weight %s", name);
    return p;
}

static void check_random_weights(void)
{
    t2i_unet_config c;
    CHECK_OK(t2i_unet_config_load(TINY "/unet/config.json", &c));
    t2i_graph *g8 = NULL, *g16 = NULL;
    CHECK_OK(t2i_build_unet(&c, 1, 8, 8, 77, &g8));
    CHECK_OK(t2i_build_unet(&c, 2, 16, 16, 77, &g16));
    if (!g8 || !g16) return;
    t2i_weights *a = NULL, *b = NULL, *other = NULL;
    CHECK_OK(t2i_weights_random(be, g8, 42, &a));
    CHECK_OK(t2i_weights_random(be, g16, 42, &b));
    CHECK_OK(t2i_weights_random(be, g8, 43, &other));
    if (!a || !b || !other) goto done;
    CHECK(t2i_weights_bytes(a) == t2i_weights_bytes(b), "same weights at every size");

    /* Same seed: identical whatever the graph; another seed: different. */
    const char *names[] = {"conv_in.weight", "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight",
                           "up_blocks.1.resnets.2.norm1.weight", "conv_out.bias"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const t2i_tensor *t8, *t16, *t8b;
        const float *pa = weight(a, g8, names[i], &t8), *pb = weight(b, g16, names[i], &t16);
        const float *po = weight(other, g8, names[i], &t8b);
        if (!pa || !pb || !po) continue;
        size_t n = (size_t)t2i_tensor_numel(t8);
        CHECK(memcmp(pa, pb, n * sizeof *pa) == 0, "%s: same seed, same values", names[i]);
        CHECK(memcmp(pa, po, n * sizeof *pa) != 0, "%s: another seed, other values", names[i]);
    }

    /* Scales. A conv kernel: U(-a, a), a = sqrt(3/fan_in). Every value within
     * a (exact), and the sample variance of n values within 5% of a²/3: its
     * relative standard error is sqrt(0.8/n) (uniform kurtosis 1.8), about
     * 0.5% for n ≈ 36864, so 5% is ten standard errors. */
    const t2i_tensor *t;
    const float *p = weight(a, g8, "down_blocks.1.resnets.0.conv2.weight", &t);
    if (p) {
        size_t n = (size_t)t2i_tensor_numel(t);
        double fan_in = (double)(t->ne[1] * t->ne[2] * t->ne[3]), bound = sqrt(3.0 / fan_in), sum2 = 0, maxabs = 0;
        for (size_t i = 0; i < n; i++) {
            sum2 += (double)p[i] * p[i];
            if (fabs(p[i]) > maxabs) maxabs = fabs(p[i]);
        }
        double var = sum2 / (double)n, want = 1.0 / fan_in;
        CHECK(maxabs <= bound * (1 + 1e-6), "conv values within +-%g (max %g)", bound, maxabs);
        CHECK(fabs(var / want - 1) < 0.05, "conv variance %g vs 1/fan_in %g", var, want);
    }
    /* Norm scales 1 ± 0.02, shifts ± 0.02 (exact bounds). */
    const float *gamma = weight(a, g8, "mid_block.resnets.0.norm2.weight", &t);
    const t2i_tensor *tb;
    const float *beta = weight(a, g8, "mid_block.resnets.0.norm2.bias", &tb);
    if (gamma && beta) {
        int ok = 1;
        for (int64_t i = 0; i < t->ne[0]; i++) ok &= fabsf(gamma[i] - 1) <= 0.02f && fabsf(beta[i]) <= 0.02f;
        CHECK(ok, "norm scale within 1 +- 0.02 and shift within +- 0.02");
    }

    /* Activations stay finite and of ordinary size through the UNet. */
    t2i_plan *plan = NULL;
    t2i_graph *run = NULL;
    CHECK_OK(t2i_build_unet(&c, 2, 8, 8, 77, &run));
    if (run) CHECK_OK(t2i_plan_create(run, be, a, &plan));
    if (plan) {
        size_t ns = 2 * 4 * 8 * 8, nc = (size_t)2 * 77 * c.cross_attention_dim;
        float *x = malloc(ns * sizeof *x), *ctx = malloc(nc * sizeof *ctx), ts[2] = {999, 1};
        for (size_t i = 0; i < ns; i++) x[i] = (float)sin(0.37 * (double)i);
        for (size_t i = 0; i < nc; i++) ctx[i] = (float)cos(0.11 * (double)i);
        CHECK_OK(t2i_plan_set_input(plan, "sample", x, ns * sizeof *x));
        CHECK_OK(t2i_plan_set_input(plan, "timestep", ts, sizeof ts));
        CHECK_OK(t2i_plan_set_input(plan, "context", ctx, nc * sizeof *ctx));
        CHECK_OK(t2i_plan_run(plan));
        CHECK_OK(t2i_plan_get_output(plan, "out", x, ns * sizeof *x));
        double sum2 = 0;
        int finite = 1;
        for (size_t i = 0; i < ns; i++) {
            finite &= isfinite(x[i]) != 0;
            sum2 += (double)x[i] * x[i];
        }
        double rms = sqrt(sum2 / (double)ns);
        /* conv_out of a unit-variance GroupNorm+SiLU input with std
         * 1/sqrt(fan_in) weights: rms of order 0.5; [0.05, 20] is generous. */
        CHECK(finite && rms > 0.05 && rms < 20, "UNet output finite (%d), rms %g", finite, rms);
        free(x);
        free(ctx);
    }
    t2i_plan_destroy(plan);
done:
    t2i_weights_destroy(a);
    t2i_weights_destroy(b);
    t2i_weights_destroy(other);
    t2i_graph_destroy(g8);
    t2i_graph_destroy(g16);
}

static void check_flops(void)
{
    t2i_graph *g = t2i_graph_create();
    int x = t2i_graph_input(g, "x", T2I_F32, 3, (int64_t[]){2, 3, 5});
    int w = t2i_graph_weight2(g, "w", 7, 5);
    int y = t2i_graph_op(g, T2I_OP_LINEAR, "lin", (int[]){x, w}, 2, NULL); /* [2,3,7] */
    int im = t2i_graph_input(g, "im", T2I_F32, 4, (int64_t[]){1, 3, 8, 8});
    int k = t2i_graph_weight4(g, "k", 4, 3, 3, 3);
    t2i_op_attrs ca = {.conv2d = {.stride = 2, .pad_top = 1, .pad_left = 1, .pad_bottom = 1, .pad_right = 1}};
    int co = t2i_graph_op(g, T2I_OP_CONV2D, "conv", (int[]){im, k}, 2, &ca); /* [1,4,4,4] */
    int q = t2i_graph_input(g, "q", T2I_F32, 3, (int64_t[]){2, 10, 16});
    int kk = t2i_graph_input(g, "k", T2I_F32, 3, (int64_t[]){2, 6, 16});
    int v = t2i_graph_input(g, "v", T2I_F32, 3, (int64_t[]){2, 6, 8});
    t2i_op_attrs aa = {.attention = {.heads = 2, .scale = 0.25f}};
    int at = t2i_graph_op(g, T2I_OP_ATTENTION, "attn", (int[]){q, kk, v}, 3, &aa);
    int s = t2i_graph_op(g, T2I_OP_ADD, "add", (int[]){y, y}, 2, NULL);
    CHECK(g->status == T2I_OK && co >= 0 && at >= 0 && s >= 0, "flops graph: %s", t2i_last_error());
    if (g->status == T2I_OK) {
        /* linear 2·(2·3)·7·5; conv 2·(1·4·4·4)·(3·3·3); attention
         * 2·B·Nq·Nk·(H·D + H·Dv) = 2·2·10·6·(16 + 8); add 0. */
        double want[] = {420, 3456, 5760, 0};
        for (int n = 0; n < 4; n++)
            CHECK(t2i_node_flops(g, &g->nodes[n]) == want[n], "node %d: %g FLOPs, want %g", n,
                  t2i_node_flops(g, &g->nodes[n]), want[n]);
        CHECK(t2i_graph_flops(g) == 420 + 3456 + 5760, "graph total %g", t2i_graph_flops(g));
    }
    t2i_graph_destroy(g);
}

#ifdef T2I_BENCH_EXE
/* Run a shell command, returning its exit status (-1 if it did not exit). */
static int run(const char *cmd)
{
    int st = system(cmd);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* One JSON line of t2i-bench in dir/name/ (NULL if not exactly one). */
static cJSON *bench_line(const char *dir, const char *name)
{
    char path[1100], line[8192] = "";
    snprintf(path, sizeof path, "%s/%s.jsonl", dir, name);
    char cmd[2400];
    snprintf(cmd, sizeof cmd, "cat '%s'/%s/*.jsonl > '%s' 2>/dev/null", dir, name, path);
    run(cmd);
    FILE *f = fopen(path, "r");
    int lines = 0;
    while (f && fgets(line, sizeof line, f)) lines++;
    if (f) fclose(f);
    return lines == 1 ? cJSON_Parse(line) : NULL;
}

/* --precision (docs/precision.md): t2i-bench runs the rung and says so, and
 * its INT8 weights are smaller; t2i-plan's weight bytes per rung follow the
 * quant policy: the quantised part ~1/4 of its FP32 bytes. */
static void check_precision(const char *dir)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "'%s' --preset tiny --precision fp16 --no-json > '%s/p16.txt' 2>&1", T2I_BENCH_EXE, dir);
    CHECK(run(cmd) == 2, "t2i-bench --precision fp16 on the CPU is a usage error");
    snprintf(cmd, sizeof cmd, "grep -q 'cpu: fp32, int8w' '%s/p16.txt'", dir);
    CHECK(run(cmd) == 0, "the refusal names what the CPU offers");
    double wb[2] = {0, 0};
    const char *rung[2] = {"fp32", "int8w"};
    for (int i = 0; i < 2; i++) {
        snprintf(cmd, sizeof cmd,
                 "'%s' --preset tiny --precision %s --steps 1 --batch 1 --threads 1 --out-dir '%s/%s' > /dev/null 2>&1",
                 T2I_BENCH_EXE, rung[i], dir, rung[i]);
        CHECK(run(cmd) == 0, "%s", cmd);
        cJSON *j = bench_line(dir, rung[i]);
        CHECK(j != NULL, "--precision %s: one JSON line", rung[i]);
        if (!j) continue;
        const cJSON *prec = cJSON_GetObjectItem(j, "precision");
        CHECK(cJSON_IsString(prec) && !strcmp(prec->valuestring, rung[i]), "JSON precision %s", rung[i]);
        CHECK(num(j, "nonfinite") == 0, "--precision %s: finite outputs", rung[i]);
        wb[i] = num(cJSON_GetObjectItem(j, "memory_bytes"), "weights");
        cJSON_Delete(j);
    }
    CHECK(wb[0] > 0 && wb[1] > 0 && wb[1] < 0.8 * wb[0], "int8w weights %g bytes < 0.8 x fp32's %g", wb[1], wb[0]);

    /* t2i-plan, SD1.5's UNet (configs only): "... int8w Z (n of m tensors INT8: A -> B MiB, ...". */
    snprintf(cmd, sizeof cmd, "'%s' --preset sd15 --part unet > '%s/plan15.txt' 2>&1", T2I_PLAN_EXE, dir);
    CHECK(run(cmd) == 0, "t2i-plan --preset sd15 --part unet");
    char path[1100], line[1024];
    snprintf(path, sizeof path, "%s/plan15.txt", dir);
    FILE *f = fopen(path, "r");
    int found = 0;
    while (f && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "weights MiB:");
        double f32, f16, b16, i8, a, b;
        int nq, n;
        if (!p || sscanf(p, "weights MiB: fp32 %lf fp16 %lf bf16 %lf int8w %lf (%d of %d tensors INT8: %lf -> %lf",
                         &f32, &f16, &b16, &i8, &nq, &n, &a, &b) != 8)
            continue;
        found = 1;
        printf("t2i-plan sd15 unet: fp32 %.1f fp16 %.1f int8w %.1f MiB; quantised %d of %d: %.1f -> %.1f MiB (%.4f)\n",
               f32, f16, i8, nq, n, a, b, b / a);
        CHECK(fabs(f16 - f32 / 2) <= 0.2 && b16 == f16, "fp16 / bf16 weights are half of fp32's");
        CHECK(nq > 0 && nq < n && a > 0.9 * f32, "most of the UNet's weight bytes are quantised (%g of %g MiB)", a, f32);
        /* N·K int8 + N FP32 scales: 1/4 + 1/K with K >= 320 here. */
        CHECK(b / a >= 0.25 && b / a <= 0.26, "int8w bytes of the quantised part %.4f of fp32's (want 0.25..0.26)", b / a);
        CHECK(fabs(i8 - (b + f32 - a)) <= 0.2, "int8w total = quantised + the rest in fp32");
    }
    if (f) fclose(f);
    CHECK(found, "t2i-plan prints the unet's weight bytes per rung");
}

static void check_bench_cli(void)
{
    char dir[] = "/tmp/t2i_bench_smoke_XXXXXX", cmd[1024], path[1100];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(cmd, sizeof cmd,
             "'%s' --preset tiny --steps 2 --batch 1 --threads 1 --out-dir '%s/results' --tag smoke > '%s/out.txt' 2>&1",
             T2I_BENCH_EXE, dir, dir);
    CHECK(run(cmd) == 0, "%s", cmd);
    snprintf(cmd, sizeof cmd, "cat %s/results/*.jsonl > %s/all.jsonl 2>/dev/null", dir, dir);
    run(cmd);
    snprintf(path, sizeof path, "%s/all.jsonl", dir);
    FILE *f = fopen(path, "r");
    char line[8192] = "";
    int lines = 0;
    while (f && fgets(line, sizeof line, f)) lines++;
    if (f) fclose(f);
    CHECK(lines == 1, "one JSON line, got %d", lines);
    cJSON *j = cJSON_Parse(line);
    CHECK(j != NULL, "JSON line parses: %.200s", line);
    if (j) {
        const cJSON *preset = cJSON_GetObjectItem(j, "preset"), *backend = cJSON_GetObjectItem(j, "backend");
        const cJSON *sec = cJSON_GetObjectItem(j, "seconds"), *fl = cJSON_GetObjectItem(j, "flops");
        const cJSON *mem = cJSON_GetObjectItem(j, "memory_bytes");
        CHECK(cJSON_IsString(preset) && !strcmp(preset->valuestring, "tiny"), "preset tiny");
        CHECK(cJSON_IsString(backend) && !strcmp(backend->valuestring, "cpu"), "backend cpu");
        const cJSON *prec = cJSON_GetObjectItem(j, "precision");
        CHECK(cJSON_IsString(prec) && !strcmp(prec->valuestring, "fp32"), "precision fp32 (the CPU's own)");
        CHECK(num(j, "batch") == 1 && num(j, "unet_batch") == 2 && num(j, "steps") == 2 && num(j, "threads") == 1,
              "batch 1, UNet batch 2, 2 steps, 1 thread");
        CHECK(num(j, "nonfinite") == 0, "finite outputs");
        CHECK(num(sec, "unet_step") > 0 && num(sec, "text_encoder") > 0 && num(sec, "vae_decode") > 0 &&
                  num(sec, "end_to_end") >= num(sec, "denoise_loop") + num(sec, "vae_decode"),
              "stage times positive, end to end covers the loop and the decode");
        CHECK(num(j, "it_per_s") > 0 && num(j, "images_per_s") > 0, "rates");
        CHECK(num(mem, "weights") > 0 && num(mem, "arena") > 0 && num(mem, "rss_peak") > 0, "memory figures");
        /* The UNet FLOPs must be the graph's, exactly (integers below 2^53). */
        t2i_unet_config c;
        t2i_graph *g = NULL;
        CHECK_OK(t2i_unet_config_load(TINY "/unet/config.json", &c));
        CHECK_OK(t2i_build_unet(&c, 2, 8, 8, 77, &g));
        if (g) CHECK(num(fl, "unet_step") == t2i_graph_flops(g), "unet FLOPs %g vs graph %g", num(fl, "unet_step"),
                     t2i_graph_flops(g));
        CHECK(num(fl, "end_to_end") == 2 * num(fl, "text_encoder") + 2 * num(fl, "unet_step") + num(fl, "vae_decode"),
              "end-to-end FLOPs = 2 prompts + 2 steps + 1 decode");
        t2i_graph_destroy(g);
        cJSON_Delete(j);
    }

    /* SDXL layout: two text encoders, and the empty negative prompt is
     * zeros, so one prompt is encoded: e2e = text + 1 step + 1 decode. */
    snprintf(cmd, sizeof cmd, "'%s' --preset tinyxl --steps 1 --batch 1 --threads 1 --out-dir '%s/xl' > '%s/xl.txt' 2>&1"
             " && cat '%s'/xl/*.jsonl > '%s/xl.jsonl'", T2I_BENCH_EXE, dir, dir, dir, dir);
    CHECK(run(cmd) == 0, "%s", cmd);
    snprintf(path, sizeof path, "%s/xl.jsonl", dir);
    f = fopen(path, "r");
    line[0] = '\0';
    if (f && !fgets(line, sizeof line, f)) line[0] = '\0';
    if (f) fclose(f);
    j = cJSON_Parse(line);
    CHECK(j != NULL, "tinyxl JSON line: %.200s", line);
    if (j) {
        const cJSON *fl = cJSON_GetObjectItem(j, "flops");
        CHECK(num(j, "nonfinite") == 0 && num(j, "steps") == 1, "tinyxl: finite, 1 step");
        CHECK(num(fl, "text_encoder") > 0 &&
                  num(fl, "end_to_end") == num(fl, "text_encoder") + num(fl, "unet_step") + num(fl, "vae_decode"),
              "tinyxl: end-to-end FLOPs = 1 prompt (zeros for the empty negative) + 1 step + 1 decode");
        cJSON_Delete(j);
    }

    /* --devices 2 --mode cfg: one device's row and the pair's, bytes per
     * step exact (each rank receives its partner's 1 × 4 × 8 × 8 floats) */
    snprintf(cmd, sizeof cmd, "'%s' --model tests/fixtures/tiny-sd1 --devices 2 --mode cfg --steps 2 --batch 1 "
             "--threads 1 --warmup 0 --out-dir '%s/par' > '%s/par.txt' 2>&1 && cat '%s'/par/*.jsonl > '%s/par.jsonl'",
             T2I_BENCH_EXE, dir, dir, dir, dir);
    CHECK(run(cmd) == 0, "%s", cmd);
    snprintf(path, sizeof path, "%s/par.jsonl", dir);
    f = fopen(path, "r");
    int rows = 0;
    while (f && fgets(line, sizeof line, f)) {
        j = cJSON_Parse(line);
        CHECK(j != NULL, "--devices JSON line: %.200s", line);
        if (!j) continue;
        const cJSON *md = cJSON_GetObjectItem(j, "mode");
        const int pair = cJSON_IsString(md) && !strcmp(md->valuestring, "cfg");
        CHECK(num(j, "ranks") == (pair ? 2 : 1) && num(j, "images_per_s") > 0 && num(j, "speedup") > 0 &&
                  num(j, "bytes_per_step") == (pair ? 2 * 4 * 8 * 8 * 4 : 0),
              "--devices row %d: ranks %g, bytes per step %g", rows, num(j, "ranks"), num(j, "bytes_per_step"));
        rows++;
        cJSON_Delete(j);
    }
    if (f) fclose(f);
    CHECK(rows == 2, "--devices 2: %d JSON lines, expected 2 (one device, the pair)", rows);
    snprintf(cmd, sizeof cmd, "'%s' --model tests/fixtures/tiny-sd1 --devices 2 --mode full --no-json > /dev/null 2>&1",
             T2I_BENCH_EXE);
    CHECK(run(cmd) == 2, "--devices with --mode full is a usage error");

#ifndef T2I_HAVE_CUDA
    snprintf(cmd, sizeof cmd, "'%s' --backend cuda --preset tiny --no-json > '%s/cuda.txt' 2>&1", T2I_BENCH_EXE, dir);
    CHECK(run(cmd) == 77, "--backend cuda without a CUDA backend exits 77");
    snprintf(cmd, sizeof cmd, "grep -q 'backend cuda is not available' '%s/cuda.txt'", dir);
    CHECK(run(cmd) == 0, "--backend cuda names the missing backend");
#endif
    snprintf(cmd, sizeof cmd, "'%s' --preset tiny > '%s/plan.txt' 2>&1 && grep -c '^text_encoder \\|^unet \\|^vae_decoder ' '%s/plan.txt' | grep -qx 3",
             T2I_PLAN_EXE, dir, dir);
    CHECK(run(cmd) == 0, "t2i-plan prints a row per part");
    check_precision(dir);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    run(cmd);
}
#endif

int main(void)
{
    CHECK_OK(t2i_cpu_backend_create(1, &be));
    if (!be) return test_finish();
    check_random_weights();
    check_flops();
#ifdef T2I_BENCH_EXE
    check_bench_cli();
#else
    printf("t2i-bench path not configured: CLI checks skipped\n");
#endif
    t2i_backend_destroy(be);
    return test_finish();
}
