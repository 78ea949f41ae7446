/*
 * fuse.h — graph rewrites run after building and before planning.
 */
#ifndef T2I_FUSE_H
#define T2I_FUSE_H

#include "graph/graph.h"

/* Fold ADD(p, r) into p's LINEAR/CONV2D epilogue where p has no other
 * reader and r has p's shape (see fuse.c). *n_fused (may be NULL) receives
 * the number of ADD nodes removed. */
t2i_status t2i_fuse_residual_adds(t2i_graph *g, int *n_fused);

/* The compile passes every plan gets, in order (today: residual-add
 * folding). The model, t2i-bench and t2i-plan all call this, so what they
 * plan and time is what t2i_txt2img runs. */
t2i_status t2i_graph_optimize(t2i_graph *g);

#endif
