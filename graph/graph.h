/*
 * graph.h — the static compute graph: tensors, nodes, and the builder API.
 *
 * A graph is built once per (model part, resolution, batch) by the builders in
 * graph/build_*.c, then compiled into a plan (runtime/plan.h) for a backend.
 * Nodes are stored in execution order (builders append them in an order that
 * is already topological); tensor ids and node ids are indices into the two
 * arrays.
 *
 * Tensors are of three kinds:
 *   WEIGHT  named by their key in the model's safetensors file; the shape the
 *           builder declares (derived from config.json) is checked against
 *           the file when the plan binds weights;
 *   INPUT   named; written by the caller before a run (token ids, latents,
 *           timestep, text embeddings);
 *   ACT     produced by a node; lives in the planned arena. An ACT tensor
 *           marked as an output gets a name and stays live to the end.
 *
 * Errors while building are sticky: the first failing call records a message
 * (t2i_fail) and g->status; later calls return -1 without doing anything, so
 * builders check once at the end.
 */
#ifndef T2I_GRAPH_H
#define T2I_GRAPH_H

#include <stdbool.h>
#include <stdint.h>
#include "t2i.h"
#include "base/dtype.h"
#include "graph/op_attrs.h"

#define T2I_MAX_DIMS 4
#define T2I_MAX_INPUTS 4

typedef enum t2i_op {
#define T2I_OP(id, name, min_in, max_in, attr, impl) T2I_OP_##id,
#include "graph/ops.def"
    T2I_OP_COUNT
} t2i_op;

/* A node's attributes: one member per T2I_ATTR of ops.def; an op reads the
 * member its `attr` column names. */
typedef union t2i_op_attrs {
#define T2I_ATTR(attr) t2i_attr_##attr attr;
#include "graph/ops.def"
} t2i_op_attrs;

const char *t2i_op_name(t2i_op op);
int t2i_op_min_inputs(t2i_op op);
int t2i_op_max_inputs(t2i_op op);
/* A view (ops.def impl VIEW): no kernel runs, the output aliases the input. */
bool t2i_op_is_view(t2i_op op);

/* For generating per-op code from ops.def's impl column: T2I_OP_FN_<impl>(fn)
 * is fn for an op that runs a kernel and NULL for a view;
 * T2I_IF_KERNEL_<impl>(...) keeps its arguments (e.g. a prototype) for an
 * op that runs a kernel and drops them for a view. */
#define T2I_OP_FN_KERNEL(fn) fn
#define T2I_OP_FN_LIBRARY(fn) fn
#define T2I_OP_FN_VIEW(fn) NULL
#define T2I_IF_KERNEL_KERNEL(...) __VA_ARGS__
#define T2I_IF_KERNEL_LIBRARY(...) __VA_ARGS__
#define T2I_IF_KERNEL_VIEW(...)

typedef enum t2i_tensor_kind { T2I_TENSOR_ACT = 0, T2I_TENSOR_WEIGHT, T2I_TENSOR_INPUT } t2i_tensor_kind;

typedef struct t2i_tensor {
    int ndim;
    int64_t ne[T2I_MAX_DIMS];   /* outermost first */
    t2i_dtype dtype;
    t2i_tensor_kind kind;
    char *name;                 /* weights, inputs, outputs; NULL otherwise */
    bool is_output;
    int producer;               /* node id, or -1 for weights and inputs */
    int view_of;                /* RESHAPE output: the tensor it aliases, else -1 */
    bool dead;                  /* removed by a graph rewrite: no memory, no readers */
    bool f32_storage;           /* kept in FP32 on every backend (timesteps: FP16
                                 * cannot hold 617.3 or a Karras sigma's t) */
} t2i_tensor;

typedef struct t2i_node {
    t2i_op op;
    int n_in;
    int in[T2I_MAX_INPUTS];     /* tensor ids; -1 for an absent optional input */
    int out;                    /* tensor id */
    t2i_op_attrs attr;
    char *name;                 /* module path, e.g. "down_blocks.0.resnets.1.conv1" */
} t2i_node;

typedef struct t2i_graph {
    t2i_tensor *tensors;
    int n_tensors, cap_tensors;
    t2i_node *nodes;
    int n_nodes, cap_nodes;
    char scope[256];            /* prefix for weight and node names */
    t2i_status status;          /* sticky first error */
    /* Builders' GroupNorms with external statistics (the tiled VAE,
     * runtime/vae_tiled.c): set before building; t2i_b_groupnorm then emits
     * the form documented in graph/build_common.h and counts in gn_count. */
    bool gn_external;
    int gn_count;
} t2i_graph;

/* Returns NULL when out of memory. */
t2i_graph *t2i_graph_create(void);
void t2i_graph_destroy(t2i_graph *g);

/* Set the name prefix (module path) used by t2i_graph_weight and t2i_graph_op
 * until the next call; "" for none. Builders push/pop with the two helpers:
 * push appends ".part" (returns the previous length), pop restores it. */
int t2i_graph_scope_push(t2i_graph *g, const char *fmt, ...);
void t2i_graph_scope_pop(t2i_graph *g, int saved_len);

/* A weight named scope + "." + name with the shape derived from the config.
 * Returns the tensor id (the same id if the name was declared before with the
 * same shape), or -1. */
int t2i_graph_weight(t2i_graph *g, const char *name, int ndim, const int64_t *ne);
/* Convenience forms for 1-, 2- and 4-d weights. */
int t2i_graph_weight1(t2i_graph *g, const char *name, int64_t a);
int t2i_graph_weight2(t2i_graph *g, const char *name, int64_t a, int64_t b);
int t2i_graph_weight4(t2i_graph *g, const char *name, int64_t a, int64_t b, int64_t c, int64_t d);

/* A named input (name is not scoped). */
int t2i_graph_input(t2i_graph *g, const char *name, t2i_dtype dtype, int ndim, const int64_t *ne);

/* Append a node computing op(inputs) and return its output tensor id, or -1.
 * The output shape is inferred from the inputs and attrs; an inconsistent
 * shape is an error naming the node. inputs[i] may be -1 for an absent
 * optional input. `attr` may be NULL for zero attributes. */
int t2i_graph_op(t2i_graph *g, t2i_op op, const char *name, const int *inputs, int n_in,
                 const t2i_op_attrs *attr);

/* Mark tensor t as a named output (kept live to the end of the run). */
void t2i_graph_output(t2i_graph *g, int t, const char *name);

/* Declare in dst every weight of src (same names and shapes), so that one
 * weight store can serve both graphs (e.g. VAE encoder and decoder). */
t2i_status t2i_graph_merge_weights(t2i_graph *dst, const t2i_graph *src);

/* Lookups; -1 if absent. */
int t2i_graph_find(const t2i_graph *g, const char *name);

int64_t t2i_tensor_numel(const t2i_tensor *t);
size_t t2i_tensor_bytes(const t2i_tensor *t);
/* "[2,4,64,64]" into buf */
const char *t2i_shape_str(const t2i_tensor *t, char *buf, size_t n);

#endif
