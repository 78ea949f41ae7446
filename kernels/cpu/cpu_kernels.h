/*
 * cpu_kernels.h — internal to the CPU backend: the backend struct, the kernel
 * prototypes (generated from graph/ops.def), workspace-size helpers
 * shared by cpu_backend.c and the kernels, and the scalar activation.
 *
 * Kernel contract (every cpu_op_* function):
 *   - all tensors FP32 (EMBEDDING ids I32; the weight of LINEAR and CONV2D
 *     may be T2I_I8, per-output-channel INT8 as in kernels/quant.h),
 *     contiguous, logical shapes as in the graph (NCHW, row-major,
 *     outermost first);
 *   - a->in_data[i] is NULL for an absent optional input;
 *   - the output never aliases an input;
 *   - a->workspace holds at least cpu workspace_size(node) bytes, 64-byte
 *     aligned; a kernel allocates nothing;
 *   - returns T2I_OK, or a status with a message (only EMBEDDING validates
 *     data: an out-of-range id).
 */
#ifndef T2I_CPU_KERNELS_H
#define T2I_CPU_KERNELS_H

#include <math.h>
#include <stdint.h>
#include "kernels/backend.h"
#include "kernels/cpu/cpu_threads.h"

typedef struct cpu_backend {
    t2i_backend base;       /* first: a t2i_backend * is a cpu_backend * */
    cpu_pool *pool;
    int threads;            /* pool threads = OpenBLAS threads */
} cpu_backend;

static inline cpu_pool *cpu_pool_of(t2i_backend *be) { return ((cpu_backend *)be)->pool; }
static inline int cpu_threads_of(t2i_backend *be) { return ((cpu_backend *)be)->threads; }

/* The kernel of each op, cpu_op_<name>, one per op of graph/ops.def that is
 * not a view; cpu_backend.c builds its table from the same list, so an op
 * added there without a kernel fails to link. */
#define T2I_OP(id, name, min_in, max_in, attr, impl) \
    T2I_IF_KERNEL_##impl(t2i_status cpu_op_##name(t2i_backend *be, const t2i_op_args *a);)
#include "graph/ops.def"

extern const t2i_kernel_fn cpu_kernels[T2I_OP_COUNT];

/* ---- workspace layouts (kept next to the kernels that use them) ---------- */

/* CONV2D: the im2col tile is (C·kh·kw) × (rows·Wo) floats; rows is chosen so
 * the tile stays under CPU_CONV_COL_BYTES (at least one output row). Returns
 * 0 for 1×1 / stride 1 / no padding, which needs no tile. */
#define CPU_CONV_COL_BYTES ((size_t)16 << 20)
int64_t cpu_conv_tile_rows(int64_t ckk, int64_t ho, int64_t wo);
size_t cpu_conv_workspace(const t2i_tensor *x, const t2i_tensor *w, const t2i_tensor *y,
                          const t2i_attr_conv2d *c);

/* INT8 weights (T2I_I8, kernels/quant.h) of LINEAR and CONV2D are turned
 * back into FP32 a tile of output channels at a time, tile rows × K floats
 * under CPU_Q8_TILE_BYTES (at least one row), in the workspace after any
 * im2col tile; the GEMM then runs on the tile. */
#define CPU_Q8_TILE_BYTES ((size_t)4 << 20)
int64_t cpu_q8_tile_rows(int64_t n, int64_t k);
size_t cpu_q8_workspace(const t2i_tensor *w);
/* Rows [r0, r1) of a quantised weight [n, k] into out, over the pool. */
void cpu_q8_dequant_tile(t2i_backend *be, const void *q8, int64_t n, int64_t k, int64_t r0, int64_t r1,
                         float *out);

/* ATTENTION: per pool thread a score block of CPU_ATTN_ROWS × Nk floats. */
#define CPU_ATTN_ROWS 64
size_t cpu_attention_workspace(int threads, const t2i_tensor *k);

/* ---- activations --------------------------------------------------------- */

static inline float cpu_act1(float x, t2i_act act)
{
    switch (act) {
    case T2I_ACT_NONE: return x;
    case T2I_ACT_SILU: return x / (1.0f + expf(-x));
    case T2I_ACT_GELU: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case T2I_ACT_GELU_TANH: {
        float u = 0.79788456080286536f * (x + 0.044715f * x * x * x);
        return 0.5f * x * (1.0f + tanhf(u));
    }
    case T2I_ACT_QUICK_GELU: return x / (1.0f + expf(-1.702f * x));
    case T2I_ACT_LEAKY_RELU: return x >= 0.0f ? x : 0.2f * x;
    }
    return x;
}

/* y[i] = act(y[i]) for n elements (a no-op for T2I_ACT_NONE). */
void cpu_act_inplace(float *y, int64_t n, t2i_act act);

/* Split n items into chunks of at least `grain` items for cpu_parallel_for. */
static inline int64_t cpu_chunks(int64_t n, int64_t grain, int threads)
{
    int64_t c = (n + grain - 1) / grain;
    int64_t cap = (int64_t)threads * 4;
    if (c > cap) c = cap;
    return c < 1 ? 1 : c;
}

#endif
