/*
 * planner.c — liveness analysis and greedy offset assignment.
 *
 * Tensors are placed in order of decreasing size (ties: earlier first). Each
 * is put at the lowest aligned offset where it overlaps, in address range, no
 * already-placed tensor whose lifetime intersects its own. This is the
 * "greedy by size" strategy of TFLite's arena planner: simple, O(n²) in the
 * number of tensors (a few thousand for an SD UNet), and close to optimal on
 * the chain-with-skips shape of a UNet.
 */
#include <stdlib.h>
#include <string.h>
#include "graph/planner.h"
#include "base/error.h"

size_t t2i_planned_bytes(const t2i_tensor *t, size_t act_size)
{
    size_t el = t->dtype == T2I_F32 && !t->f32_storage ? act_size : t2i_dtype_size(t->dtype);
    return (size_t)t2i_tensor_numel(t) * el;
}

static size_t align_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

typedef struct item { int t; size_t bytes; } item;

static int by_size_desc(const void *pa, const void *pb)
{
    const item *a = pa, *b = pb;
    if (a->bytes != b->bytes) return a->bytes < b->bytes ? 1 : -1;
    return a->t - b->t;
}

typedef struct span { size_t lo, hi; } span;

static int by_lo(const void *pa, const void *pb)
{
    const span *a = pa, *b = pb;
    return a->lo < b->lo ? -1 : a->lo > b->lo;
}

t2i_status t2i_plan_memory(const t2i_graph *g, size_t act_size, size_t align, t2i_memory_plan *p)
{
    int nt = g->n_tensors, nn = g->n_nodes;
    memset(p, 0, sizeof *p);
    p->offset = malloc((size_t)nt * sizeof *p->offset);
    p->first_use = malloc((size_t)nt * sizeof *p->first_use);
    p->last_use = malloc((size_t)nt * sizeof *p->last_use);
    item *items = malloc((size_t)nt * sizeof *items);
    span *busy = malloc((size_t)nt * sizeof *busy);
    int *placed = malloc((size_t)nt * sizeof *placed);
    if (!p->offset || !p->first_use || !p->last_use || !items || !busy || !placed) goto nomem;

    /* Liveness, resolved onto root tensors (views extend their root). */
    for (int t = 0; t < nt; t++) {
        const t2i_tensor *tt = &g->tensors[t];
        p->offset[t] = T2I_NO_OFFSET;
        p->first_use[t] = tt->kind == T2I_TENSOR_ACT ? tt->producer : -1;
        p->last_use[t] = tt->kind == T2I_TENSOR_INPUT || tt->is_output ? nn : p->first_use[t];
    }
    for (int n = 0; n < nn; n++) {
        const t2i_node *node = &g->nodes[n];
        for (int i = 0; i < node->n_in; i++) {
            int t = node->in[i];
            if (t < 0) continue;
            int root = g->tensors[t].view_of >= 0 ? g->tensors[t].view_of : t;
            if (p->last_use[root] < n) p->last_use[root] = n;
        }
        int out = node->out;
        if (g->tensors[out].view_of >= 0 && g->tensors[out].is_output)
            p->last_use[g->tensors[out].view_of] = nn;
    }

    int n_items = 0;
    for (int t = 0; t < nt; t++) {
        const t2i_tensor *tt = &g->tensors[t];
        if (tt->kind == T2I_TENSOR_WEIGHT || tt->view_of >= 0 || tt->dead) continue;
        items[n_items].t = t;
        items[n_items].bytes = align_up(t2i_planned_bytes(tt, act_size), align);
        p->naive_bytes += items[n_items].bytes;
        n_items++;
    }
    qsort(items, (size_t)n_items, sizeof *items, by_size_desc);

    int n_placed = 0;
    for (int i = 0; i < n_items; i++) {
        int t = items[i].t;
        int nb = 0;
        for (int j = 0; j < n_placed; j++) {
            int u = placed[j];
            if (p->first_use[u] <= p->last_use[t] && p->first_use[t] <= p->last_use[u]) {
                busy[nb].lo = p->offset[u];
                busy[nb].hi = p->offset[u] + align_up(t2i_planned_bytes(&g->tensors[u], act_size), align);
                nb++;
            }
        }
        qsort(busy, (size_t)nb, sizeof *busy, by_lo);
        size_t off = 0;
        for (int j = 0; j < nb; j++) {
            if (busy[j].lo >= off + items[i].bytes) break;
            if (busy[j].hi > off) off = busy[j].hi;
        }
        p->offset[t] = off;
        if (off + items[i].bytes > p->peak_bytes) p->peak_bytes = off + items[i].bytes;
        placed[n_placed++] = t;
    }
    for (int t = 0; t < nt; t++)
        if (g->tensors[t].view_of >= 0) p->offset[t] = p->offset[g->tensors[t].view_of];

    free(items);
    free(busy);
    free(placed);
    return T2I_OK;
nomem:
    free(items);
    free(busy);
    free(placed);
    t2i_memory_plan_free(p);
    return t2i_fail(T2I_ERR_NOMEM, "memory planner: out of memory for %d tensors", nt);
}

void t2i_memory_plan_free(t2i_memory_plan *p)
{
    if (!p) return;
    free(p->offset);
    free(p->first_use);
    free(p->last_use);
    memset(p, 0, sizeof *p);
}
