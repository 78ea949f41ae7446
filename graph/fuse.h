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

#endif
