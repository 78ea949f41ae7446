/*
 * fuse.c — graph rewrites that fold elementwise work into the epilogue of
 * the node before it, so a backend does one pass over memory instead of two.
 *
 * Residual add: y = ADD(p, r) where p = LINEAR/CONV2D(...) with no residual
 * yet, p is read only by this ADD, r has p's exact shape (no broadcasting)
 * and r is already computed when p runs. The producer then takes r as its
 * residual input and writes y directly: the ADD node disappears and every
 * reader of y reads p's output instead (which inherits y's output name).
 *
 * The builders already emit the other fused forms as attributes (GroupNorm
 * with SiLU, LINEAR/CONV2D with their activation, one ATTENTION node per
 * attention), so the CPU backend checks exactly the nodes a GPU backend runs.
 */
#include <stdlib.h>
#include <string.h>
#include "graph/fuse.h"
#include "base/error.h"

static bool same_shape(const t2i_tensor *a, const t2i_tensor *b)
{
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->ne[i] != b->ne[i]) return false;
    return true;
}

t2i_status t2i_fuse_residual_adds(t2i_graph *g, int *n_fused)
{
    int nt = g->n_tensors, nn = g->n_nodes, fused = 0;
    int *readers = calloc((size_t)nt, sizeof *readers);
    int *remap = malloc((size_t)nt * sizeof *remap);
    bool *drop = calloc((size_t)(nn ? nn : 1), sizeof *drop);
    if (!readers || !remap || !drop) {
        free(readers), free(remap), free(drop);
        return t2i_fail(T2I_ERR_NOMEM, "fusion: out of memory");
    }
    for (int t = 0; t < nt; t++) remap[t] = t;
    for (int n = 0; n < nn; n++)
        for (int i = 0; i < g->nodes[n].n_in; i++)
            if (g->nodes[n].in[i] >= 0) readers[g->nodes[n].in[i]]++;

    for (int n = 0; n < nn; n++) {
        t2i_node *add = &g->nodes[n];
        if (add->op != T2I_OP_ADD) continue;
        for (int side = 0; side < 2; side++) {
            int p = add->in[side], r = add->in[1 - side];
            const t2i_tensor *pt = &g->tensors[p];
            int pn = pt->producer;
            if (pn < 0 || readers[p] != 1 || pt->is_output || pt->view_of >= 0) continue;
            t2i_node *prod = &g->nodes[pn];
            if ((prod->op != T2I_OP_LINEAR && prod->op != T2I_OP_CONV2D) || prod->in[3] >= 0) continue;
            if (!same_shape(pt, &g->tensors[r])) continue;
            /* r must exist when the producer runs (weights/inputs always do) */
            if (g->tensors[r].producer >= pn) continue;
            prod->in[3] = r;
            prod->n_in = 4;
            remap[add->out] = p;
            if (g->tensors[add->out].is_output) {
                g->tensors[p].is_output = true;
                g->tensors[p].name = g->tensors[add->out].name;
                g->tensors[add->out].name = NULL;
                g->tensors[add->out].is_output = false;
            }
            drop[n] = true;
            fused++;
            break;
        }
    }

    /* Rewrite readers, then compact the node list (tensors stay; the dropped
     * ADD outputs become unreferenced and get no arena space). */
    int w = 0;
    for (int n = 0; n < nn; n++) {
        if (drop[n]) {
            free(g->nodes[n].name);
            continue;
        }
        t2i_node *node = &g->nodes[n];
        for (int i = 0; i < node->n_in; i++)
            if (node->in[i] >= 0) node->in[i] = remap[node->in[i]];
        g->nodes[w] = *node;
        g->tensors[node->out].producer = w;
        w++;
    }
    g->n_nodes = w;
    for (int t = 0; t < nt; t++) {
        if (remap[t] != t) g->tensors[t].dead = true; /* the removed ADD's output */
        if (g->tensors[t].view_of >= 0) g->tensors[t].view_of = remap[g->tensors[t].view_of];
    }
    free(readers), free(remap), free(drop);
    if (n_fused) *n_fused = fused;
    return T2I_OK;
}

t2i_status t2i_graph_optimize(t2i_graph *g)
{
    return t2i_fuse_residual_adds(g, NULL);
}
