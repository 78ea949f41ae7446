/*
 * cuda_kernels.h — internal to the CUDA backend (C++/CUDA only): the backend
 * struct, the op entry points (generated from graph/ops.def), the checking
 * macros, and the device-side helpers every kernel file shares.
 *
 * Op contract (every cuda_op_* function), the CUDA twin of cpu_kernels.h:
 *   - every tensor the graph types F32 is stored as the backend's act_dtype
 *     (FP16 by default, BF16 selectable), weights included; I32 stays I32;
 *   - NCHW, contiguous, logical shapes as in the graph (the layout choice is
 *     explained in docs/cuda.md);
 *   - arithmetic in FP32: loads convert up, stores round once (RNE);
 *   - work is queued on the backend's stream and not waited for; a launch
 *     error surfaces at the executor's next check (debug-sync mode checks
 *     after every node);
 *   - returns T2I_OK, or T2I_ERR_UNSUPPORTED for a shape the kernel does not
 *     handle (e.g. an attention head dim above 160), with a message.
 *
 * Each op family has a .cu file with three layers: `static __global__`
 * kernels → `static` launchers taking a cudaStream_t → the exported
 * cuda_op_<name>(be, args). The families built for the host emulation too
 * (cmake/cuda.cmake: elementwise, layout, norm, attention) use nothing but
 * cuda_compat.cuh and mma.cuh; gemm.cu, conv.cu and cuda_backend.cu are the
 * library glue and build only under nvcc.
 */
#ifndef T2I_CUDA_KERNELS_H
#define T2I_CUDA_KERNELS_H

#include <stdio.h>
#include <string.h>
#include "kernels/cuda/cuda_compat.cuh"
#ifdef __cplusplus
extern "C" {   /* the library's headers are C */
#endif
#include "kernels/backend.h"
#include "base/error.h"
#ifdef __cplusplus
}
#endif

struct cuda_libs;       /* cuBLASLt / cuDNN handles and workspaces (cuda_backend.cu) */
struct cuda_graphs;     /* recorded plan runs (cuda_backend.cu) */

typedef struct cuda_backend {
    t2i_backend base;           /* first: a t2i_backend * is a cuda_backend * */
    int device;
    cudaStream_t stream;
    /* Data errors found by kernels (EMBEDDING: an id out of range) are
     * recorded here, in host memory the device can write (mapped, pinned):
     * err_flag is the device's view, err_host the host's. sync() reports and
     * clears it. The emulation points both at one host int. */
    int *err_flag;
    volatile int *err_host;
    struct cuda_libs *libs;
    struct cuda_graphs *graphs;
} cuda_backend;

static inline cudaStream_t cuda_stream_of(t2i_backend *be) { return ((cuda_backend *)be)->stream; }
static inline bool cuda_is_bf16(t2i_backend *be) { return be->act_dtype == T2I_BF16; }

/* Error values EMBEDDING stores in err_flag. */
#define CUDA_ERR_EMBEDDING_ID 1

/* ---- the op entry points ---------------------------------------------------- */
#ifdef __cplusplus
extern "C" {
#endif
/* cuda_op_<name>, one per op of graph/ops.def that is not a view;
 * cuda_backend.cu builds its table from the same list, so an op added there
 * without a kernel fails to link. */
#define T2I_OP(id, name, min_in, max_in, attr, impl) \
    T2I_IF_KERNEL_##impl(t2i_status cuda_op_##name(t2i_backend *be, const t2i_op_args *a);)
#include "graph/ops.def"

/* The epilogue of LINEAR and CONV2D when the library cannot fuse it:
 * y[i] = act(y[i] + bias[(i / inner) % channels]) + residual[i], in place.
 * bias and residual may be NULL. LINEAR: inner = 1, channels = N;
 * CONV2D (NCHW): inner = Ho·Wo, channels = O. */
t2i_status cuda_epilogue(t2i_backend *be, void *y, const void *bias, const void *residual, int64_t n,
                         int64_t inner, int64_t channels, t2i_act act);

/* y[p][i][j] = x[p][i-pt][j-pl] inside, 0 outside: `planes` = N·C images of
 * H×W grown to (H+pt+pb)×(W+pl+pr). CONV2D uses it for the asymmetric
 * padding cuDNN does not take (the VAE encoder's downsamplers). */
t2i_status cuda_pad2d(t2i_backend *be, const void *x, void *y, int64_t planes, int64_t H, int64_t W, int pt, int pl,
                      int pb, int pr);
#ifdef __cplusplus
}
#endif

/* ---- checking ------------------------------------------------------------------ */
/* One macro per library, each naming the call: on failure, return a status
 * whose message is "<call> failed: <library's error string> (file:line)".
 * Out of memory maps to T2I_ERR_NOMEM so callers can recover. */
#if !T2I_CUDA_EMU || defined(T2I_CUDA_STANDIN)
#define CUDA_CHECK(call)                                                                         \
    do {                                                                                         \
        cudaError_t e_ = (call);                                                                 \
        if (e_ != cudaSuccess) {                                                                 \
            (void)cudaGetLastError();                                                            \
            return t2i_fail(e_ == cudaErrorMemoryAllocation ? T2I_ERR_NOMEM : T2I_ERR_DEVICE,   \
                            "%s failed: %s (%s:%d)", #call, cudaGetErrorString(e_), __FILE__,   \
                            __LINE__);                                                           \
        }                                                                                        \
    } while (0)
#else
#define CUDA_CHECK(call) ((void)(call))
#endif

/* ---- device helpers ------------------------------------------------------------ */
__device__ __forceinline__ float to_f32(__half h) { return __half2float(h); }
__device__ __forceinline__ float to_f32(__nv_bfloat16 h) { return __bfloat162float(h); }
template <class T> __device__ __forceinline__ T from_f32(float f);
template <> __device__ __forceinline__ __half from_f32<__half>(float f) { return __float2half_rn(f); }
template <> __device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float f)
{
    return __float2bfloat16_rn(f);
}

/* The activations of op_attrs.h, in FP32 (same formulas as cpu_act1). */
__device__ __forceinline__ float act_f32(float x, int act)
{
    switch (act) {
    case T2I_ACT_SILU: return x / (1.0f + expf(-x));
    case T2I_ACT_GELU: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case T2I_ACT_GELU_TANH: {
        float u = 0.79788456080286536f * (x + 0.044715f * x * x * x);
        return 0.5f * x * (1.0f + tanhf(u));
    }
    case T2I_ACT_QUICK_GELU: return x / (1.0f + expf(-1.702f * x));
    case T2I_ACT_LEAKY_RELU: return x >= 0.0f ? x : 0.2f * x;
    default: return x;
    }
}

/* Grid size for a grid-stride loop over n items with `block` threads. */
static inline unsigned cuda_grid_for(int64_t n, int block)
{
    int64_t g = (n + block - 1) / block;
    if (g > 65535 * 8) g = 65535 * 8;
    return (unsigned)(g < 1 ? 1 : g);
}

/* Run launcher<T>(args...) for the backend's storage type. */
#define CUDA_DISPATCH_DTYPE(be, launcher, ...)                                   \
    (cuda_is_bf16(be) ? launcher<__nv_bfloat16>(__VA_ARGS__) : launcher<__half>(__VA_ARGS__))

#endif
