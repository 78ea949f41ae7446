/*
 * planner.h — static memory planning: every activation and input gets an
 * offset in one arena, from liveness over the node order.
 *
 * A tensor is live from the node that produces it (inputs: from the start)
 * to the last node that reads it (outputs: to the end). RESHAPE outputs are
 * views: they share their root tensor's offset and extend its life. Offsets
 * are assigned greedily, largest-lifetime-overlap first-fit, aligned to
 * `align` bytes. Weights are not in the arena.
 */
#ifndef T2I_PLANNER_H
#define T2I_PLANNER_H

#include <stddef.h>
#include "graph/graph.h"

#define T2I_NO_OFFSET ((size_t)-1)

typedef struct t2i_memory_plan {
    size_t *offset;      /* [n_tensors]; T2I_NO_OFFSET for weights */
    int *first_use;      /* [n_tensors]: node index where the tensor becomes live (-1: from start) */
    int *last_use;       /* [n_tensors]: last node index reading it (n_nodes: to the end) */
    size_t peak_bytes;   /* arena size */
    size_t naive_bytes;  /* sum of all activation and input sizes, each aligned */
} t2i_memory_plan;

/* Plan g's activations with element size taken from `act_size` bytes per
 * element for F32 tensors (backends storing FP16 pass 2); other dtypes use
 * their own size. Returns T2I_ERR_NOMEM on allocation failure. */
t2i_status t2i_plan_memory(const t2i_graph *g, size_t act_size, size_t align, t2i_memory_plan *out);
void t2i_memory_plan_free(t2i_memory_plan *p);

/* Bytes tensor t occupies in the arena (before alignment). */
size_t t2i_planned_bytes(const t2i_tensor *t, size_t act_size);

#endif
