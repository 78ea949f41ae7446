/* flops.c — matrix-product FLOP counts per node (see flops.h). */
#include "graph/flops.h"

double t2i_node_flops(const t2i_graph *g, const t2i_node *n)
{
    const t2i_tensor *out = &g->tensors[n->out];
    switch (n->op) {
    case T2I_OP_LINEAR: {
        const t2i_tensor *w = &g->tensors[n->in[1]];
        double k = (double)w->ne[1];
        return 2.0 * (double)t2i_tensor_numel(out) * k; /* numel(out) = M·N */
    }
    case T2I_OP_CONV2D: {
        const t2i_tensor *w = &g->tensors[n->in[1]];
        double per_out = (double)w->ne[1] * (double)w->ne[2] * (double)w->ne[3];
        return 2.0 * (double)t2i_tensor_numel(out) * per_out;
    }
    case T2I_OP_ATTENTION: {
        const t2i_tensor *q = &g->tensors[n->in[0]], *k = &g->tensors[n->in[1]], *v = &g->tensors[n->in[2]];
        double b = (double)q->ne[0], nq = (double)q->ne[1], nk = (double)k->ne[1];
        double hd = (double)q->ne[2], hdv = (double)v->ne[2]; /* H·D and H·Dv */
        return 2.0 * b * nq * nk * (hd + hdv);
    }
    default:
        return 0.0;
    }
}

double t2i_graph_flops(const t2i_graph *g)
{
    double sum = 0;
    for (int i = 0; i < g->n_nodes; i++) sum += t2i_node_flops(g, &g->nodes[i]);
    return sum;
}
