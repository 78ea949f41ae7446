/*
 * flops.h — floating-point operation counts of a graph, for achieved
 * TFLOP/s figures (t2i-bench, t2i-plan).
 *
 * Only the matrix products are counted (one multiply-add = 2 FLOPs), the
 * convention of published "TFLOP per image" figures and of the GPU's dense
 * tensor-core peak they are compared with:
 *
 *   LINEAR     2·M·N·K            x[...,K] (M rows), w[N,K]
 *   CONV2D     2·(N·O·Ho·Wo)·C·kh·kw
 *   ATTENTION  2·B·H·Nq·Nk·D + 2·B·H·Nq·Nk·Dv   (q·kᵀ and p·v; = 4·B·H·Nq·Nk·D
 *              when Dv = D; causal masks are counted as full)
 *
 * Norms, activations, adds and layout ops are memory-bound and count 0.
 */
#ifndef T2I_FLOPS_H
#define T2I_FLOPS_H

#include "graph/graph.h"

/* FLOPs of one node (0 for ops that are not matrix products). */
double t2i_node_flops(const t2i_graph *g, const t2i_node *n);

/* Sum over all nodes. */
double t2i_graph_flops(const t2i_graph *g);

#endif
