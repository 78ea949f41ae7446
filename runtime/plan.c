/* plan.c — compile a graph for a backend, and run it. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "base/error.h"
#include "runtime/plan.h"

#define ARENA_ALIGN 256

static int env_flag(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

t2i_status t2i_plan_create(t2i_graph *g, t2i_backend *be, const t2i_weights *w, t2i_plan **out)
{
    t2i_status st;
    *out = NULL;
    if (g->status != T2I_OK) {
        st = g->status;
        t2i_graph_destroy(g);
        return st;
    }
    t2i_plan *p = calloc(1, sizeof *p);
    if (!p) {
        t2i_graph_destroy(g);
        return t2i_fail(T2I_ERR_NOMEM, "plan: out of memory");
    }
    p->g = g;
    p->be = be;
    /* Weights the store holds quantised (int8w) are T2I_I8 in this graph:
     * the kernels and their workspace sizes read the dtype from here. */
    for (int t = 0; w && t < g->n_tensors; t++)
        if (g->tensors[t].kind == T2I_TENSOR_WEIGHT && t2i_weights_dtype(w, &g->tensors[t]) == T2I_I8)
            g->tensors[t].dtype = T2I_I8;
    for (int n = 0; n < g->n_nodes; n++) {
        const t2i_node *node = &g->nodes[n];
        if (!t2i_backend_supports(be, node->op)) {
            st = t2i_fail(T2I_ERR_UNSUPPORTED, "backend %s has no kernel for op %s (node %s)",
                          be->vt->name, t2i_op_name(node->op), node->name);
            goto fail;
        }
        size_t ws = be->vt->workspace_size(be, g, node);
        if (ws > p->workspace_bytes) p->workspace_bytes = ws;
    }
    st = t2i_plan_memory(g, t2i_dtype_size(be->act_dtype), ARENA_ALIGN, &p->mem);
    if (st != T2I_OK) goto fail;
    p->data = calloc((size_t)g->n_tensors, sizeof *p->data);
    if (!p->data) {
        st = t2i_fail(T2I_ERR_NOMEM, "plan: out of memory");
        goto fail;
    }
    st = be->vt->alloc(be, p->mem.peak_bytes ? p->mem.peak_bytes : ARENA_ALIGN, &p->arena);
    if (st != T2I_OK) {
        t2i_fail_context(st, "plan: activation arena of %zu bytes", p->mem.peak_bytes);
        goto fail;
    }
    if (be->act_dtype != T2I_F32) {
        /* conversions at the edges reuse one host buffer: no allocation per
         * step in the denoising loop */
        size_t most = 0;
        for (int t = 0; t < g->n_tensors; t++) {
            const t2i_tensor *tt = &g->tensors[t];
            if ((tt->kind == T2I_TENSOR_INPUT || tt->is_output) && (size_t)t2i_tensor_numel(tt) > most)
                most = (size_t)t2i_tensor_numel(tt);
        }
        p->staging = malloc(most * sizeof *p->staging + 1);
        if (!p->staging) {
            st = t2i_fail(T2I_ERR_NOMEM, "plan: out of memory for a %zu-element staging buffer", most);
            goto fail;
        }
    }
    if (p->workspace_bytes) {
        st = be->vt->alloc(be, p->workspace_bytes, &p->workspace);
        if (st != T2I_OK) {
            t2i_fail_context(st, "plan: workspace of %zu bytes", p->workspace_bytes);
            goto fail;
        }
    }
    for (int t = 0; t < g->n_tensors; t++) {
        const t2i_tensor *tt = &g->tensors[t];
        if (tt->kind == T2I_TENSOR_WEIGHT) {
            p->data[t] = w ? (void *)t2i_weights_find(w, tt) : NULL;
            if (!p->data[t]) {
                st = t2i_fail(T2I_ERR_FORMAT, "plan: weight '%s' is not loaded", tt->name);
                goto fail;
            }
        } else if (tt->view_of >= 0 && g->tensors[tt->view_of].kind == T2I_TENSOR_WEIGHT) {
            p->data[t] = p->data[tt->view_of];   /* a view of a weight (RESHAPE) reads the weight */
        } else if (!tt->dead) {
            p->data[t] = (char *)p->arena + p->mem.offset[t];
        }
    }
    *out = p;
    return T2I_OK;
fail:
    t2i_plan_destroy(p);
    return st;
}

void t2i_plan_destroy(t2i_plan *p)
{
    if (!p) return;
    if (p->be && p->be->vt->forget) p->be->vt->forget(p->be, p);
    if (p->arena) p->be->vt->free(p->be, p->arena);
    if (p->workspace) p->be->vt->free(p->be, p->workspace);
    free(p->staging);
    free(p->data);
    t2i_memory_plan_free(&p->mem);
    t2i_graph_destroy(p->g);
    free(p);
}

static int find_named(const t2i_plan *p, const char *name, size_t bytes, const char *what)
{
    int t = t2i_graph_find(p->g, name);
    if (t < 0) {
        t2i_fail(T2I_ERR_INVALID_ARG, "plan: no %s named '%s'", what, name);
        return -1;
    }
    size_t want = t2i_planned_bytes(&p->g->tensors[t], sizeof(float));   /* the caller's side is FP32 */
    if (bytes != want) {
        t2i_fail(T2I_ERR_INVALID_ARG, "plan: %s '%s' holds %zu bytes, caller gave %zu", what, name, want, bytes);
        return -1;
    }
    return t;
}

/* A backend storing activations in 16 bits (CUDA: FP16/BF16) gets F32
 * tensors converted at the plan's edges, through the plan's staging buffer
 * (tensors with f32_storage, like timesteps, stay FP32). */
static bool converts(const t2i_plan *p, int t)
{
    const t2i_tensor *tt = &p->g->tensors[t];
    return tt->dtype == T2I_F32 && !tt->f32_storage && p->be->act_dtype != T2I_F32;
}

t2i_status t2i_plan_set_input(t2i_plan *p, const char *name, const void *host, size_t bytes)
{
    int t = find_named(p, name, bytes, "input");
    if (t < 0) return T2I_ERR_INVALID_ARG;
    if (!converts(p, t)) return p->be->vt->upload(p->be, p->data[t], host, bytes);
    size_t n = bytes / sizeof(float);
    uint16_t *h = p->staging;
    const float *f = host;
    for (size_t i = 0; i < n; i++) h[i] = p->be->act_dtype == T2I_BF16 ? t2i_f32_to_bf16(f[i]) : t2i_f32_to_f16(f[i]);
    return p->be->vt->upload(p->be, p->data[t], h, n * sizeof *h);
}

t2i_status t2i_plan_get_output(const t2i_plan *p, const char *name, void *host, size_t bytes)
{
    int t = find_named(p, name, bytes, "output");
    if (t < 0) return T2I_ERR_INVALID_ARG;
    T2I_TRY(p->be->vt->sync(p->be));
    if (!converts(p, t)) return p->be->vt->download(p->be, host, p->data[t], bytes);
    size_t n = bytes / sizeof(float);
    uint16_t *h = p->staging;
    t2i_status st = p->be->vt->download(p->be, h, p->data[t], n * sizeof *h);
    float *f = host;
    for (size_t i = 0; st == T2I_OK && i < n; i++)
        f[i] = p->be->act_dtype == T2I_BF16 ? t2i_bf16_to_f32(h[i]) : t2i_f16_to_f32(h[i]);
    return st;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

t2i_status t2i_plan_run(t2i_plan *p)
{
    const t2i_graph *g = p->g;
    int debug_sync = env_flag("T2I_DEBUG_SYNC"), profile = env_flag("T2I_PROFILE");
    /* Recording (CUDA Graphs) only when nothing runs between the nodes. */
    bool record = p->be->vt->run_begin && !debug_sync && !profile, replayed = false;
    if (record) {
        T2I_TRY(p->be->vt->run_begin(p->be, p, &replayed));
        if (replayed) return T2I_OK;
    }
    for (int n = 0; n < g->n_nodes; n++) {
        const t2i_node *node = &g->nodes[n];
        if (t2i_op_is_view(node->op)) continue;
        t2i_op_args a;
        memset(&a, 0, sizeof a);
        a.node = node;
        for (int i = 0; i < node->n_in; i++) {
            if (node->in[i] < 0) continue;
            a.in[i] = &g->tensors[node->in[i]];
            a.in_data[i] = p->data[node->in[i]];
        }
        a.out = &g->tensors[node->out];
        a.out_data = p->data[node->out];
        a.workspace = p->workspace;
        a.workspace_bytes = p->workspace_bytes;
        double t0 = profile ? now_seconds() : 0;
        t2i_status st = p->be->kernels[node->op](p->be, &a);
        if (st == T2I_OK && (debug_sync || profile)) st = p->be->vt->sync(p->be);
        if (st != T2I_OK) {
            t2i_fail_context(st, "node %d %s (%s)", n, node->name, t2i_op_name(node->op));
            if (record) p->be->vt->run_end(p->be, p, st);
            return st;
        }
        if (profile) p->op_seconds[node->op] += now_seconds() - t0;
    }
    if (profile) {
        fprintf(stderr, "t2i profile (%s, %d nodes):", p->be->vt->name, g->n_nodes);
        for (int o = 0; o < T2I_OP_COUNT; o++)
            if (p->op_seconds[o] > 0) fprintf(stderr, " %s %.3fs", t2i_op_name(o), p->op_seconds[o]);
        fprintf(stderr, "\n");
    }
    return record ? p->be->vt->run_end(p->be, p, T2I_OK) : T2I_OK;
}

void t2i_plan_dump(const t2i_plan *p, FILE *f)
{
    const t2i_graph *g = p->g;
    char b[64];
    fprintf(f, "# node  op           output shape          arena offset  name\n");
    for (int n = 0; n < g->n_nodes; n++) {
        const t2i_node *node = &g->nodes[n];
        int o = node->out;
        fprintf(f, "%5d  %-12s %-20s  %12zu  %s%s\n", n, t2i_op_name(node->op),
                t2i_shape_str(&g->tensors[o], b, sizeof b), p->mem.offset[o], node->name,
                g->tensors[o].view_of >= 0 ? " (view)" : "");
    }
    fprintf(f, "# arena peak %zu bytes (%.1f MiB), naive %zu bytes (%.1f MiB), workspace %zu bytes\n",
            p->mem.peak_bytes, p->mem.peak_bytes / 1048576.0, p->mem.naive_bytes,
            p->mem.naive_bytes / 1048576.0, p->workspace_bytes);
}
