/*
 * test_planner.c — the memory planner.
 *
 * 1. A hand-made chain with known lifetimes gets the exact offsets the
 *    greedy-by-size rule implies.
 * 2. For the full-size SD1.5 UNet (batch 2, 64×64 latents), VAE decoder
 *    (512×512) and text encoder — graphs built from perf/configs without
 *    weights — every tensor is live wherever it is read, and no two tensors
 *    whose lifetimes intersect share a byte of the arena.
 */
#include "graph/build.h"
#include "graph/planner.h"
#include "test_util.h"

#define ALIGN 256

static size_t aligned(const t2i_tensor *t) { return (t2i_planned_bytes(t, 4) + ALIGN - 1) / ALIGN * ALIGN; }

static void check_plan(const char *what, const t2i_graph *g)
{
    t2i_memory_plan p;
    CHECK_OK(t2i_plan_memory(g, 4, ALIGN, &p));
    if (!p.offset) return;
    int bad_live = 0, bad_overlap = 0, nt = g->n_tensors;
    for (int n = 0; n < g->n_nodes; n++)
        for (int i = 0; i < g->nodes[n].n_in; i++) {
            int t = g->nodes[n].in[i];
            if (t < 0 || g->tensors[t].kind == T2I_TENSOR_WEIGHT) continue;
            int r = g->tensors[t].view_of >= 0 ? g->tensors[t].view_of : t;
            if (p.first_use[r] > n || p.last_use[r] < n) bad_live++;
        }
    for (int a = 0; a < nt; a++) {
        const t2i_tensor *ta = &g->tensors[a];
        if (ta->kind == T2I_TENSOR_WEIGHT || ta->view_of >= 0 || ta->dead) continue;
        CHECK(p.offset[a] % ALIGN == 0 && p.offset[a] + aligned(ta) <= p.peak_bytes, "tensor %d outside arena", a);
        for (int b = a + 1; b < nt; b++) {
            const t2i_tensor *tb = &g->tensors[b];
            if (tb->kind == T2I_TENSOR_WEIGHT || tb->view_of >= 0 || tb->dead) continue;
            int live = p.first_use[a] <= p.last_use[b] && p.first_use[b] <= p.last_use[a];
            int mem = p.offset[a] < p.offset[b] + aligned(tb) && p.offset[b] < p.offset[a] + aligned(ta);
            if (live && mem) bad_overlap++;
        }
    }
    printf("  %-28s %5d nodes  arena peak %8.1f MiB  naive %8.1f MiB  (%.1f%%)\n", what, g->n_nodes,
           p.peak_bytes / 1048576.0, p.naive_bytes / 1048576.0, 100.0 * p.peak_bytes / p.naive_bytes);
    CHECK(bad_live == 0, "%s: %d reads outside a tensor's planned lifetime", what, bad_live);
    CHECK(bad_overlap == 0, "%s: %d pairs of live tensors overlap", what, bad_overlap);
    CHECK(p.peak_bytes < p.naive_bytes, "%s: planning saved nothing", what);
    t2i_memory_plan_free(&p);
}

/* x → a → b → c with a also read by c: sizes 4 KiB (x, input, live all
 * run), a 8 KiB, b 2 KiB, c 8 KiB (output). Greedy by size places the 8 KiB
 * tensors first: a at 0; c is live with a (a is read by c's node), so it
 * goes above a at 8192; x (live throughout) at 16384; b is live with all
 * three, so it goes on top at 20480. Nothing can share: peak = naive. */
static void check_exact(void)
{
    t2i_graph *g = t2i_graph_create();
    int x = t2i_graph_input(g, "x", T2I_F32, 2, (int64_t[]){1, 1024});
    int w = t2i_graph_weight2(g, "w", 2048, 1024);
    int a = t2i_graph_op(g, T2I_OP_LINEAR, "a", (int[]){x, w, -1}, 3, NULL);
    int w2 = t2i_graph_weight2(g, "w2", 512, 2048);
    int b = t2i_graph_op(g, T2I_OP_LINEAR, "b", (int[]){a, w2, -1}, 3, NULL);
    int w3 = t2i_graph_weight2(g, "w3", 2048, 512);
    int c = t2i_graph_op(g, T2I_OP_LINEAR, "c", (int[]){b, w3, -1, a}, 4, NULL);
    t2i_graph_output(g, c, "c");
    CHECK(g->status == T2I_OK, "graph: %s", t2i_last_error());
    t2i_memory_plan p;
    CHECK_OK(t2i_plan_memory(g, 4, ALIGN, &p));
    if (p.offset) {
        CHECK(p.offset[a] == 0 && p.offset[c] == 8192 && p.offset[x] == 16384 && p.offset[b] == 20480,
              "offsets x %zu a %zu b %zu c %zu", p.offset[x], p.offset[a], p.offset[b], p.offset[c]);
        CHECK(p.peak_bytes == 22528 && p.naive_bytes == 22528, "peak %zu naive %zu", p.peak_bytes, p.naive_bytes);
        CHECK(p.offset[w] == T2I_NO_OFFSET, "weights are not in the arena");
    }
    t2i_memory_plan_free(&p);
    t2i_graph_destroy(g);

    /* A chain where reuse is possible: x → a → b → c, nothing kept. */
    g = t2i_graph_create();
    x = t2i_graph_input(g, "x", T2I_F32, 1, (int64_t[]){1024});
    a = t2i_graph_op(g, T2I_OP_ACT, "a", (int[]){x}, 1, NULL);
    b = t2i_graph_op(g, T2I_OP_ACT, "b", (int[]){a}, 1, NULL);
    c = t2i_graph_op(g, T2I_OP_ACT, "c", (int[]){b}, 1, NULL);
    t2i_graph_output(g, c, "c");
    CHECK_OK(t2i_plan_memory(g, 4, ALIGN, &p));
    if (p.offset) {
        /* x (input) is live throughout; a and c can share, b sits between. */
        CHECK(p.peak_bytes == 3 * 4096 && p.naive_bytes == 4 * 4096 && p.offset[a] == p.offset[c],
              "chain: peak %zu naive %zu a %zu c %zu", p.peak_bytes, p.naive_bytes, p.offset[a], p.offset[c]);
    }
    t2i_memory_plan_free(&p);
    t2i_graph_destroy(g);
}

int main(void)
{
    check_exact();
    t2i_unet_config uc;
    t2i_vae_config vc;
    t2i_clip_text_config tc;
    CHECK_OK(t2i_unet_config_load("perf/configs/sd15/unet/config.json", &uc));
    CHECK_OK(t2i_vae_config_load("perf/configs/sd15/vae/config.json", &vc));
    CHECK_OK(t2i_clip_text_config_load("perf/configs/sd15/text_encoder/config.json", &tc));
    t2i_graph *g = NULL;
    if (t2i_build_unet(&uc, 2, 64, 64, 77, &g) == T2I_OK) check_plan("SD1.5 UNet b2 512x512", g);
    else CHECK(0, "unet: %s", t2i_last_error());
    t2i_graph_destroy(g);
    if (t2i_build_vae_decoder(&vc, 1, 64, 64, &g) == T2I_OK) check_plan("SD1.5 VAE decoder 512x512", g);
    else CHECK(0, "vae: %s", t2i_last_error());
    t2i_graph_destroy(g);
    if (t2i_build_clip_text(&tc, 2, 77, &g) == T2I_OK) check_plan("SD1.5 text encoder b2", g);
    else CHECK(0, "text: %s", t2i_last_error());
    t2i_graph_destroy(g);
    return test_finish();
}
