/*
 * t2i_plan.c — t2i-plan: the memory plan of a model's graphs, without
 * weights and without running anything.
 *
 *   t2i-plan [--preset sd15|sd21|sdxl|tiny|tiny2|tinyxl | --model DIR]
 *            [--size N | --width W --height H] [--batch B] [--cfg G]
 *            [--part all|text|unet|vae] [--dump] [--dtype f32|f16] [--vae-tile N]
 *
 * For each part it builds the graph the pipeline compiles, with the same
 * passes (residual adds fused; --no-fuse: as built) (text encoder:
 * batch 1 × 77 tokens, run once per prompt; UNet: batch B·2 with
 * classifier-free guidance (G > 1), else B; VAE decoder: batch 1, run once
 * per image), runs the memory planner (graph/planner.h) and prints the
 * arena peak against the naive sum of all activation sizes, for FP32
 * activations (CPU backend) and FP16 (CUDA). Also: node and weight counts,
 * weight bytes, matrix-product FLOPs (graph/flops.h), and the weight bytes
 * per precision rung (fp32, fp16, bf16, int8w by runtime/quant_policy.h;
 * docs/precision.md). Backend workspaces
 * (im2col, attention tiles) are not included: they depend on the backend;
 * t2i-bench reports them.
 *
 * --dump prints every node: index, op, input shapes → output shape, arena
 * offset of the output (for --dtype, default f32) and the node's name;
 * the equivalent of t2i_plan_dump for a graph that has no weights.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bench_presets.h"
#include "graph/build.h"
#include "graph/flops.h"
#include "graph/fuse.h"
#include "graph/planner.h"
#include "kernels/quant.h"
#include "runtime/quant_policy.h"

#define ARENA_ALIGN 256 /* as runtime/plan.c */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: t2i-plan [--preset NAME | --model DIR] [--configs DIR] [--size N | --width W --height H]\n"
            "                [--batch B] [--cfg G] [--part all|text|unet|vae] [--dump] [--dtype f32|f16] [--no-fuse]\n"
            "  presets: sd15 sd21 sdxl (perf/configs), tiny tiny2 tinyxl (tests/fixtures); default sd15\n"
            "  size: image pixels (default: the model's native size); batch: images (default 1)\n"
            "  cfg: guidance scale (default 7.5; > 1 doubles the UNet batch)\n"
            "  vae-tile: also plan the tiled VAE decoder's tile graph (N pixels, runtime/vae_tiled.h)\n");
}

static void dump_graph(const t2i_graph *g, const t2i_memory_plan *mp, FILE *f)
{
    char b[64];
    fprintf(f, "# node  op           inputs -> output                                    arena offset  name\n");
    for (int n = 0; n < g->n_nodes; n++) {
        const t2i_node *node = &g->nodes[n];
        char io[256];
        size_t len = 0;
        for (int i = 0; i < node->n_in && len < sizeof io; i++) {
            int t = node->in[i];
            len += (size_t)snprintf(io + len, sizeof io - len, "%s%s", i ? " " : "",
                                    t < 0 ? "-" : t2i_shape_str(&g->tensors[t], b, sizeof b));
        }
        if (len < sizeof io)
            snprintf(io + len, sizeof io - len, " -> %s", t2i_shape_str(&g->tensors[node->out], b, sizeof b));
        fprintf(f, "%5d  %-12s %-52s %12zu  %s%s\n", n, t2i_op_name(node->op), io, mp->offset[node->out],
                node->name, g->tensors[node->out].view_of >= 0 ? " (view)" : "");
    }
}

static double weight_bytes_f32(const t2i_graph *g, int *count)
{
    double sum = 0;
    *count = 0;
    for (int t = 0; t < g->n_tensors; t++)
        if (g->tensors[t].kind == T2I_TENSOR_WEIGHT) {
            sum += 4.0 * (double)t2i_tensor_numel(&g->tensors[t]);
            (*count)++;
        }
    return sum;
}

/* Weight bytes per rung (docs/precision.md) as runtime/weights.c holds them:
 * each tensor padded to 64 bytes; int8w quantises what the policy
 * (runtime/quant_policy.h) selects, N·K int8 + N FP32 scales, and keeps the
 * rest FP32 as the CPU does. */
typedef struct { double f32, f16, int8w, q_f32; int n, n_q8; } rung_bytes;

static double padded(double bytes) { return (double)(((size_t)bytes + 63) / 64 * 64); }

static int weight_bytes_per_rung(const t2i_graph *g, rung_bytes *r)
{
    memset(r, 0, sizeof *r);
    unsigned char *q8 = t2i_quant_int8_select(g);
    if (!q8) return -1;
    for (int t = 0; t < g->n_tensors; t++) {
        const t2i_tensor *tt = &g->tensors[t];
        if (tt->kind != T2I_TENSOR_WEIGHT) continue;
        size_t numel = (size_t)t2i_tensor_numel(tt);
        r->n++;
        r->f32 += padded(4.0 * (double)numel);
        r->f16 += padded(2.0 * (double)numel);
        if (q8[t]) {
            r->n_q8++;
            r->q_f32 += padded(4.0 * (double)numel);
            r->int8w += padded((double)t2i_q8_bytes((size_t)tt->ne[0], numel / (size_t)tt->ne[0]));
        } else {
            r->int8w += padded(4.0 * (double)numel);
        }
    }
    free(q8);
    return 0;
}

static int fuse = 1;

/* Plan one graph (consumed) and print its row; with dump, its nodes. */
static int report(const char *part, const char *shape, t2i_graph *g, int dump, size_t dump_act)
{
    t2i_memory_plan p32, p16;
    if (fuse && t2i_graph_optimize(g) != T2I_OK) {
        fprintf(stderr, "t2i-plan: %s: %s\n", part, t2i_last_error());
        t2i_graph_destroy(g);
        return 1;
    }
    if (t2i_plan_memory(g, 4, ARENA_ALIGN, &p32) != T2I_OK) {
        fprintf(stderr, "t2i-plan: %s: %s\n", part, t2i_last_error());
        t2i_graph_destroy(g);
        return 1;
    }
    if (t2i_plan_memory(g, 2, ARENA_ALIGN, &p16) != T2I_OK) {
        fprintf(stderr, "t2i-plan: %s: %s\n", part, t2i_last_error());
        t2i_memory_plan_free(&p32);
        t2i_graph_destroy(g);
        return 1;
    }
    int nw = 0;
    double wb = weight_bytes_f32(g, &nw);
    const double mib = 1048576.0;
    printf("%-13s %-16s %6d %6d %9.1f %9.1f | %10.1f %10.1f %6.1fx | %10.1f %10.1f %6.1fx\n", part, shape,
           g->n_nodes, nw, wb / mib, t2i_graph_flops(g) / 1e9, p32.peak_bytes / mib, p32.naive_bytes / mib,
           (double)p32.naive_bytes / (double)(p32.peak_bytes ? p32.peak_bytes : 1), p16.peak_bytes / mib,
           p16.naive_bytes / mib, (double)p16.naive_bytes / (double)(p16.peak_bytes ? p16.peak_bytes : 1));
    rung_bytes rb;
    if (weight_bytes_per_rung(g, &rb) == 0) {
        double q_int8 = rb.int8w - (rb.f32 - rb.q_f32);
        printf("%-13s weights MiB: fp32 %.1f  fp16 %.1f  bf16 %.1f  int8w %.1f (%d of %d tensors INT8: "
               "%.1f -> %.1f MiB, the rest fp32)\n", "", rb.f32 / mib, rb.f16 / mib, rb.f16 / mib,
               rb.int8w / mib, rb.n_q8, rb.n, rb.q_f32 / mib, q_int8 / mib);
    }
    double by_op[T2I_OP_COUNT] = {0};
    for (int n = 0; n < g->n_nodes; n++) by_op[g->nodes[n].op] += t2i_node_flops(g, &g->nodes[n]);
    printf("%-13s GFLOP by op:", "");
    for (int o = 0; o < T2I_OP_COUNT; o++)
        if (by_op[o] > 0) printf(" %s %.1f", t2i_op_name((t2i_op)o), by_op[o] / 1e9);
    printf("\n");
    if (dump) {
        const t2i_memory_plan *mp = dump_act == 2 ? &p16 : &p32;
        printf("\n## %s %s, %s activations: arena peak %zu bytes, naive %zu bytes\n", part, shape,
               dump_act == 2 ? "FP16" : "FP32", mp->peak_bytes, mp->naive_bytes);
        dump_graph(g, mp, stdout);
        printf("\n");
    }
    t2i_memory_plan_free(&p32);
    t2i_memory_plan_free(&p16);
    t2i_graph_destroy(g);
    return 0;
}

static int unsupported(const char *part, t2i_status st)
{
    printf("%-13s %s: %s\n", part, st == T2I_ERR_UNSUPPORTED ? "unsupported" : "error", t2i_last_error());
    return st == T2I_ERR_UNSUPPORTED ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *preset = "sd15", *model = NULL, *configs = NULL, *part = "all";
    int width = 0, height = 0, batch = 1, dump = 0, vae_tile = 0;
    size_t dump_act = 4;
    double cfg = 7.5;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--dump")) { dump = 1; continue; }
        if (!strcmp(a, "--no-fuse")) { fuse = 0; continue; }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        if (!v) { usage(stderr); return 2; }
        i++;
        if (!strcmp(a, "--preset")) preset = v;
        else if (!strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "--configs")) configs = v;
        else if (!strcmp(a, "--size")) width = height = atoi(v);
        else if (!strcmp(a, "--width")) width = atoi(v);
        else if (!strcmp(a, "--height")) height = atoi(v);
        else if (!strcmp(a, "--batch")) batch = atoi(v);
        else if (!strcmp(a, "--cfg")) cfg = atof(v);
        else if (!strcmp(a, "--part")) part = v;
        else if (!strcmp(a, "--vae-tile")) vae_tile = atoi(v);
        else if (!strcmp(a, "--dtype")) {
            if (strcmp(v, "f32") && strcmp(v, "f16")) { usage(stderr); return 2; }
            dump_act = strcmp(v, "f16") ? 4 : 2;
        } else { fprintf(stderr, "t2i-plan: unknown option %s\n", a); usage(stderr); return 2; }
    }
    int all = !strcmp(part, "all");
    if (batch < 1 || batch > 64 || (!all && strcmp(part, "text") && strcmp(part, "unet") && strcmp(part, "vae"))) {
        usage(stderr);
        return 2;
    }
    bench_configs c;
    memset(&c, 0, sizeof c);
    if (bench_resolve(preset, model, configs, c.dir, sizeof c.dir) != T2I_OK) {
        fprintf(stderr, "t2i-plan: %s\n", t2i_last_error());
        return 2;
    }
    /* The VAE (image ↔ latent factor) and UNet (size multiple) come first:
     * every part's shape depends on them. */
    if (bench_load_part(&c, BENCH_VAE) != T2I_OK) {
        fprintf(stderr, "t2i-plan: %s\n", t2i_last_error());
        return 1;
    }
    /* A part this build cannot load (SDXL's UNet) is reported in its row;
     * keep each message, later calls overwrite t2i_last_error(). */
    char unet_err[512] = "", text_err[512] = "";
    t2i_status unet_st = bench_load_part(&c, BENCH_UNET);
    if (unet_st != T2I_OK) {
        snprintf(unet_err, sizeof unet_err, "%s", t2i_last_error());
        c.unet.n_blocks = 0;
    }
    t2i_status text_st = bench_load_part(&c, BENCH_TEXT);
    if (text_st != T2I_OK) snprintf(text_err, sizeof text_err, "%s", t2i_last_error());
    int f = t2i_vae_scale(&c.vae);
    if (!width) width = unet_st == T2I_OK ? c.unet.sample_size * f : c.vae.sample_size;
    if (!height) height = width;
    int lw = 0, lh = 0;
    if (bench_latent_size(&c, width, height, &lw, &lh) != T2I_OK) {
        fprintf(stderr, "t2i-plan: %s\n", t2i_last_error());
        return 2;
    }
    int ub = cfg > 1.0 ? 2 * batch : batch;
    int ctx_len = text_st == T2I_OK ? c.ctx_len : 77;
    printf("t2i-plan: %s (%s), %dx%d, batch %d, CFG %s (UNet batch %d); arena alignment %d bytes; %s\n",
           model ? model : preset, c.dir, width, height, batch, cfg > 1.0 ? "on" : "off", ub, ARENA_ALIGN,
           fuse ? "graphs fused as the model compiles them" : "unfused graphs");
    printf("%-13s %-16s %6s %6s %9s %9s | %10s %10s %7s | %10s %10s %7s\n", "part", "graph input", "nodes",
           "wts", "wts MiB", "GFLOP", "peak f32", "naive f32", "saving", "peak f16", "naive f16", "saving");
    printf("%-13s %-16s %6s %6s %9s %9s | %10s %10s %7s | %10s %10s %7s\n", "", "", "", "", "(f32)", "",
           "MiB", "MiB", "", "MiB", "MiB", "");
    int rc = 0;
    char shape[64];
    t2i_graph *g = NULL;
    if (all || !strcmp(part, "text")) {
        snprintf(shape, sizeof shape, "ids 1x%d", ctx_len);
        if (text_st != T2I_OK) {
            t2i_fail(text_st, "%s", text_err);
            rc |= unsupported("text_encoder", text_st);
        } else if (t2i_build_clip_text(&c.text, 1, ctx_len, &g) != T2I_OK) {
            rc |= unsupported("text_encoder", T2I_ERR_INTERNAL);
        } else {
            rc |= report("text_encoder", shape, g, dump, dump_act);
        }
    }
    char te2[1200];
    snprintf(te2, sizeof te2, "%s/text_encoder_2/config.json", c.dir);
    if ((all || !strcmp(part, "text")) && access(te2, R_OK) == 0) { /* SDXL's second encoder */
        t2i_clip_text_config c2;
        snprintf(shape, sizeof shape, "ids 1x%d", ctx_len);
        t2i_status st = t2i_clip_text_config_load(te2, &c2);
        if (st == T2I_OK) st = t2i_build_clip_text(&c2, 1, ctx_len, &g);
        rc |= st == T2I_OK ? report("text_encoder2", shape, g, dump, dump_act) : unsupported("text_encoder2", st);
    }
    if (all || !strcmp(part, "unet")) {
        snprintf(shape, sizeof shape, "%dx%dx%dx%d", ub, c.unet.in_channels, lh, lw);
        t2i_status st = unet_st;
        if (st != T2I_OK) t2i_fail(st, "%s", unet_err);
        else st = t2i_build_unet(&c.unet, ub, lh, lw, ctx_len, &g);
        rc |= st == T2I_OK ? report("unet", shape, g, dump, dump_act) : unsupported("unet", st);
    }
    if (all || !strcmp(part, "vae")) {
        snprintf(shape, sizeof shape, "1x%dx%dx%d", c.vae.latent_channels, lh, lw);
        t2i_status st = t2i_build_vae_decoder(&c.vae, 1, lh, lw, &g);
        rc |= st == T2I_OK ? report("vae_decoder", shape, g, dump, dump_act) : unsupported("vae_decoder", st);
    }
    if ((all || !strcmp(part, "vae")) && vae_tile > 0) {   /* one tile, whole-image GroupNorm statistics */
        int th = (vae_tile < height ? vae_tile : height) / f, tw = (vae_tile < width ? vae_tile : width) / f;
        snprintf(shape, sizeof shape, "tile 1x%dx%dx%d", c.vae.latent_channels, th, tw);
        t2i_status st = vae_tile % f ? t2i_fail(T2I_ERR_INVALID_ARG, "--vae-tile %d is not a multiple of %d", vae_tile, f)
                                     : t2i_build_vae_decoder_gn(&c.vae, th, tw, &g);
        rc |= st == T2I_OK ? report("vae_dec_tile", shape, g, dump, dump_act) : unsupported("vae_dec_tile", st);
        printf("%-13s (tiled decode: this arena whatever the image size, plus the host's %.1f MiB output)\n", "",
               3.0 * width * height * 4 / 1048576.0);
    }
    return rc;
}
