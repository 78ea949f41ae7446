/*
 * plan.h — a compiled graph: the executor's unit of work.
 *
 * Compiling a graph for a backend checks that the backend has a kernel for
 * every node, plans the activation arena (graph/planner.h), sizes one shared
 * workspace, allocates both once, and resolves every tensor to a fixed
 * pointer (weights from a t2i_weights store). A run is then a flat loop of
 * kernel launches; nothing is allocated while running.
 *
 * Environment switches for debugging:
 *   T2I_DEBUG_SYNC=1   synchronise after every node, naming the failing one
 *   T2I_PROFILE=1      print per-op-type time totals after each run (stderr)
 */
#ifndef T2I_PLAN_H
#define T2I_PLAN_H

#include <stdio.h>
#include "graph/graph.h"
#include "graph/planner.h"
#include "kernels/backend.h"
#include "runtime/weights.h"

typedef struct t2i_plan {
    t2i_graph *g;                 /* owned */
    t2i_backend *be;
    t2i_memory_plan mem;
    void **data;                  /* [n_tensors] resolved pointers */
    void *arena;
    void *workspace;
    size_t workspace_bytes;
    uint16_t *staging;            /* host buffer for FP32<->16-bit conversion of
                                   * inputs/outputs (16-bit backends only) */
    double op_seconds[T2I_OP_COUNT]; /* filled when T2I_PROFILE is set */
} t2i_plan;

/* Takes ownership of g (also on failure). w may be NULL if g has no weights. */
t2i_status t2i_plan_create(t2i_graph *g, t2i_backend *be, const t2i_weights *w, t2i_plan **out);
void t2i_plan_destroy(t2i_plan *p);

/* Copy host data into / out of a named input or output tensor; `bytes` must
 * equal the tensor's size (FP32 elements, I32 for ids). */
t2i_status t2i_plan_set_input(t2i_plan *p, const char *name, const void *host, size_t bytes);
t2i_status t2i_plan_get_output(const t2i_plan *p, const char *name, void *host, size_t bytes);

t2i_status t2i_plan_run(t2i_plan *p);

/* One line per node: index, op, name, output shape, arena offset; then the
 * arena peak versus the naive sum. */
void t2i_plan_dump(const t2i_plan *p, FILE *f);

#endif
