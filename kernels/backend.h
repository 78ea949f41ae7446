/*
 * backend.h — what a backend (CPU, CUDA) provides to the executor.
 *
 * A backend owns its memory (host heap for the CPU, device memory for CUDA)
 * and runs one node at a time on pointers the plan gives it. Kernels are
 * looked up per op in a table [T2I_OP_COUNT]; each backend generates its
 * table and the kernels' prototypes from graph/ops.def (the CPU's
 * cpu_op_<name>, CUDA's cuda_op_<name>), so an op added there without a
 * kernel fails to link. A NULL entry means "not supported" (a view op has
 * none: it needs no kernel); t2i_backend_supports() says so when a plan is
 * compiled, never during a run.
 *
 * Layout: every backend stores a tensor contiguous in the graph's logical
 * shape (NCHW images, [B,L,C] sequences); only the element type differs
 * (act_dtype, weight_dtype), and the plan converts inputs and outputs to and
 * from FP32 at its edges.
 */
#ifndef T2I_BACKEND_H
#define T2I_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include "t2i.h"
#include "graph/graph.h"

/* Everything a kernel needs for one node: descriptors and data pointers of
 * its inputs (NULL for absent optional ones) and output, and the plan's
 * scratch workspace (at least workspace_size() bytes for this node). */
typedef struct t2i_op_args {
    const t2i_node *node;
    const t2i_tensor *in[T2I_MAX_INPUTS];
    const void *in_data[T2I_MAX_INPUTS];
    const t2i_tensor *out;
    void *out_data;
    void *workspace;
    size_t workspace_bytes;
} t2i_op_args;

typedef struct t2i_backend t2i_backend;

typedef t2i_status (*t2i_kernel_fn)(t2i_backend *be, const t2i_op_args *args);

typedef struct t2i_backend_vtable {
    const char *name;
    void (*destroy)(t2i_backend *be);
    /* Memory owned by the backend; alloc returns T2I_ERR_NOMEM on failure. */
    t2i_status (*alloc)(t2i_backend *be, size_t bytes, void **ptr);
    void (*free)(t2i_backend *be, void *ptr);
    t2i_status (*upload)(t2i_backend *be, void *dst, const void *src, size_t bytes);
    t2i_status (*download)(t2i_backend *be, void *dst, const void *src, size_t bytes);
    /* Scratch bytes a node needs (e.g. im2col, attention tiles). */
    size_t (*workspace_size)(t2i_backend *be, const t2i_graph *g, const t2i_node *n);
    /* Wait for queued work (no-op on the CPU); reports errors of queued work. */
    t2i_status (*sync)(t2i_backend *be);
    /* Optional (NULL on the CPU): record a plan's launches once, replay them
     * on later runs (CUDA Graphs). Before its node loop the executor calls
     * run_begin(be, key, &replayed); if the backend holds a recording for
     * `key` it launches it and sets *replayed, and the loop is skipped;
     * otherwise it may start recording. run_end(be, key, st) closes a
     * recording begun by run_begin — discarded if st != T2I_OK — and launches
     * it. forget(be, key) drops key's recording (the plan is destroyed). */
    t2i_status (*run_begin)(t2i_backend *be, const void *key, bool *replayed);
    t2i_status (*run_end)(t2i_backend *be, const void *key, t2i_status st);
    void (*forget)(t2i_backend *be, const void *key);
} t2i_backend_vtable;

struct t2i_backend {
    const t2i_backend_vtable *vt;
    const t2i_kernel_fn *kernels;   /* [T2I_OP_COUNT] */
    t2i_backend_kind kind;
    t2i_dtype act_dtype;            /* storage type of activations */
    t2i_dtype weight_dtype;         /* storage type of weights */
    bool int8_weights;              /* "int8w": LINEAR/CONV2D weights the policy
                                     * allows are stored INT8 per output channel
                                     * (kernels/quant.h; CPU only so far) */
};

/* The CPU backend (kernels/cpu/): FP32, NCHW, OpenBLAS; threads = 0 means
 * one per core. */
t2i_status t2i_cpu_backend_create(int threads, t2i_backend **out);

/* The CUDA backend (kernels/cuda/, builds with T2I_HAVE_CUDA only): device
 * memory on CUDA device `device`, activations and weights stored as
 * act_dtype (T2I_F16 or T2I_BF16), NCHW, FP32 accumulation. Returns
 * T2I_ERR_DEVICE when there is no usable device, T2I_ERR_NOMEM when its
 * memory is exhausted. */
t2i_status t2i_cuda_backend_create(int device, t2i_dtype act_dtype, t2i_backend **out);

/* Whether plans using op compile on be: a view, or a kernel in its table. */
static inline bool t2i_backend_supports(const t2i_backend *be, t2i_op op)
{
    return t2i_op_is_view(op) || be->kernels[op] != NULL;
}

static inline void t2i_backend_destroy(t2i_backend *be)
{
    if (be) be->vt->destroy(be);
}

#endif
