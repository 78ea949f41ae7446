/*
 * cuda_compat.cuh — one kernel source, two builds.
 *
 * Under nvcc this header is a thin include of the CUDA runtime, cuda_fp16.h
 * and cuda_bf16.h. Under a host C++ compiler it is an emulation of the parts
 * of the CUDA execution model our kernels use, so that the same .cu files
 * compile for the host and run in CI without a GPU (docs/testing.md):
 *
 *   - gridDim / blockIdx / blockDim / threadIdx;
 *   - the threads of a block are cooperatively scheduled fibers (ucontext,
 *     one stack each) on the calling OS thread; blocks of a grid run one
 *     after the other;
 *   - `__shared__` is a function-local `static`: one instance, shared by all
 *     fibers of the running block — exactly per-block shared memory, since
 *     only one block runs at a time (its contents carry over between blocks
 *     like uninitialised shared memory does);
 *   - `__syncthreads()` is a barrier over the block's live threads (threads
 *     that returned count as arrived, as on sm_70+);
 *   - warp shuffles and votes are exchanges through a per-warp slot array
 *     between two warp barriers; lanes are threadIdx (linearised) mod 32;
 *   - atomics are __atomic builtins;
 *   - __half / __nv_bfloat16 are 16-bit storage types with round-to-nearest-
 *     even conversions (bit-identical to cuda_fp16.h's __float2half_rn);
 *   - CUDA_LAUNCH(kernel, grid, block, stream, args...) runs the grid now.
 *
 * Why fibers and not one pthread per CUDA thread: a block barrier or a warp
 * exchange is then a user-space context switch (one swapcontext) instead of
 * a futex wake-up of up to 1024 OS threads, the run is deterministic (the
 * same schedule every time: round-robin by thread index), and a data race
 * between threads shows up as a wrong answer, reproducibly.
 *
 * Limits (documented in docs/cuda.md): warp-collective calls must be made by
 * all live lanes of the warp with the full mask (our kernels never diverge
 * around them); no dynamic parallelism, clusters, or asynchronous copies;
 * the memory model is sequentially consistent (a missing __syncthreads that
 * only matters for visibility on a GPU is not caught — but a missing barrier
 * that matters for ordering is, because a thread runs until it blocks);
 * streams are ignored and every launch is synchronous.
 */
#ifndef T2I_CUDA_COMPAT_CUH
#define T2I_CUDA_COMPAT_CUH

#if defined(__CUDACC__)
/* ===================================================================== GPU */
#include <cuda_runtime.h>
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#define T2I_CUDA_EMU 0
#define CUDA_LAUNCH(kernel, grid, block, stream, ...) kernel<<<(grid), (block), 0, (stream)>>>(__VA_ARGS__)

#else
/* ======================================================= host emulation */
#include <math.h>
#include <stdint.h>
#include <string.h>
#define T2I_CUDA_EMU 1

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __launch_bounds__(...)
#define __restrict__ __restrict
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))

struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
typedef dim3 uint3;
struct alignas(16) uint4 { unsigned x, y, z, w; };
static inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }

#ifndef T2I_CUDA_STANDIN
typedef struct emu_stream *cudaStream_t;
typedef enum cudaError { cudaSuccess = 0, cudaErrorInvalidValue = 1 } cudaError_t;
static inline cudaError_t cudaGetLastError(void) { return cudaSuccess; }
static inline const char *cudaGetErrorString(cudaError_t e) { return e == cudaSuccess ? "no error" : "error"; }
#endif

/* ---- the running block (kernels/cuda/emu/cuda_emu.cpp) ---------------- */
struct emu_fiber;
extern thread_local emu_fiber *emu_cur;        /* the running CUDA thread */
extern thread_local dim3 emu_grid_dim, emu_block_idx, emu_block_dim;
const dim3 &emu_thread_idx(void);
unsigned emu_lane(void);
void emu_syncthreads(void);
void emu_warp_sync(void);
uint64_t *emu_warp_slots(void);                /* 32 exchange slots of this warp */
uint32_t *emu_warp_scratch(void);              /* 32 × 8 words of this warp (mma) */
void emu_run_grid(dim3 grid, dim3 block, void (*body)(void *), void *ctx);

#define gridDim emu_grid_dim
#define blockIdx emu_block_idx
#define blockDim emu_block_dim
#define threadIdx emu_thread_idx()
#define warpSize 32

static inline void __syncthreads(void) { emu_syncthreads(); }
static inline void __syncwarp(unsigned mask = 0xffffffffu) { (void)mask; emu_warp_sync(); }

template <class F> static void emu_launch(dim3 grid, dim3 block, F &&f)
{
    emu_run_grid(grid, block, [](void *p) { (*(F *)p)(); }, (void *)&f);
}
#ifndef T2I_CUDA_STANDIN
#define CUDA_LAUNCH(kernel, grid, block, stream, ...) \
    ((void)(stream), emu_launch(dim3(grid), dim3(block), [&]() { kernel(__VA_ARGS__); }))
#else
/* Built against the CUDA runtime stand-in (tests/cuda_standin): launches go
 * to a stream, so they are recorded while it captures a CUDA Graph. */
#define CUDA_LAUNCH(kernel, grid, block, stream, ...) \
    standin_launch(#kernel, (stream), dim3(grid), dim3(block), kernel, __VA_ARGS__)
#endif

/* ---- warp shuffles and votes ------------------------------------------- */
template <class T> static inline T emu_exchange(T v, unsigned src)
{
    static_assert(sizeof(T) <= 8, "shuffle of a type wider than 64 bits");
    uint64_t *slot = emu_warp_slots(), bits = 0;
    memcpy(&bits, &v, sizeof v);
    slot[emu_lane()] = bits;
    emu_warp_sync();
    T r;
    memcpy(&r, &slot[src & 31], sizeof r);
    emu_warp_sync();   /* nobody overwrites the slots before all have read */
    return r;
}
template <class T> static inline T __shfl_sync(unsigned mask, T v, int src, int width = 32)
{
    (void)mask;
    unsigned lane = emu_lane(), base = lane & ~(unsigned)(width - 1);
    return emu_exchange(v, base + ((unsigned)src & (unsigned)(width - 1)));
}
template <class T> static inline T __shfl_xor_sync(unsigned mask, T v, int m, int width = 32)
{
    (void)mask;
    unsigned lane = emu_lane(), src = lane ^ (unsigned)m;
    if ((src & ~(unsigned)(width - 1)) != (lane & ~(unsigned)(width - 1))) src = lane;
    return emu_exchange(v, src);
}
template <class T> static inline T __shfl_down_sync(unsigned mask, T v, unsigned d, int width = 32)
{
    (void)mask;
    unsigned lane = emu_lane(), in = lane & (unsigned)(width - 1);
    return emu_exchange(v, in + d < (unsigned)width ? lane + d : lane);
}
template <class T> static inline T __shfl_up_sync(unsigned mask, T v, unsigned d, int width = 32)
{
    (void)mask;
    unsigned lane = emu_lane(), in = lane & (unsigned)(width - 1);
    return emu_exchange(v, in >= d ? lane - d : lane);
}
static inline unsigned __ballot_sync(unsigned mask, int pred)
{
    (void)mask;
    uint64_t *slot = emu_warp_slots();
    slot[emu_lane()] = pred != 0;
    emu_warp_sync();
    unsigned r = 0;
    for (unsigned i = 0; i < 32; i++) r |= (unsigned)(slot[i] & 1) << i;
    emu_warp_sync();
    return r;
}
/* Exited lanes leave stale slots: votes count lanes < the warp's width only
 * in kernels whose blocks are whole warps (all of ours). */
static inline int __all_sync(unsigned mask, int pred) { return __ballot_sync(mask, !pred) == 0; }
static inline int __any_sync(unsigned mask, int pred) { return __ballot_sync(mask, pred) != 0; }

/* ---- atomics -------------------------------------------------------------- */
static inline int atomicAdd(int *p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
static inline unsigned atomicAdd(unsigned *p, unsigned v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
static inline int atomicMax(int *p, int v)
{
    int old = __atomic_load_n(p, __ATOMIC_SEQ_CST);
    while (old < v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
    return old;
}
static inline int atomicCAS(int *p, int cmp, int v)
{
    __atomic_compare_exchange_n(p, &cmp, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return cmp;
}
static inline float atomicAdd(float *p, float v)
{
    uint32_t *u = (uint32_t *)p, old = __atomic_load_n(u, __ATOMIC_SEQ_CST), nw;
    do {
        float f;
        memcpy(&f, &old, 4);
        f += v;
        memcpy(&nw, &f, 4);
    } while (!__atomic_compare_exchange_n(u, &old, nw, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
    float r;
    memcpy(&r, &old, 4);
    return r;
}

/* ---- 16-bit floats ---------------------------------------------------------- */
struct __half { uint16_t __x; };
struct __nv_bfloat16 { uint16_t __x; };

static inline uint32_t emu_f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float emu_u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static inline float __half2float(__half h)
{
    uint32_t s = (uint32_t)(h.__x & 0x8000) << 16, e = (h.__x >> 10) & 0x1f, m = h.__x & 0x3ff;
    if (e == 0x1f) return emu_u2f(s | 0x7f800000u | (m << 13));           /* inf / nan */
    if (e == 0) {                                                          /* zero / subnormal */
        float f = (float)m * 5.9604644775390625e-8f;                       /* m · 2^-24 */
        return s ? -f : f;
    }
    return emu_u2f(s | ((e + 112) << 23) | (m << 13));
}
static inline __half __float2half_rn(float f)
{
    uint32_t u = emu_f2u(f), s = (u >> 16) & 0x8000, a = u & 0x7fffffffu;
    __half h;
    if (a >= 0x7f800000u) {                                                /* inf / nan */
        h.__x = (uint16_t)(s | 0x7c00 | (a > 0x7f800000u ? 0x200 : 0));
        return h;
    }
    if (a >= 0x477ff000u) {                                                /* rounds to ≥ 65520: inf */
        h.__x = (uint16_t)(s | 0x7c00);
        return h;
    }
    if (a < 0x38800000u) {                                                 /* below 2^-14: subnormal */
        float r = emu_u2f(a) * 16777216.0f;                                /* in units of 2^-24 */
        h.__x = (uint16_t)(s | (uint32_t)nearbyintf(r));                   /* rounds half to even */
        return h;
    }
    uint32_t m = a + 0xc8000fffu + ((a >> 13) & 1);                       /* rebias, round to even */
    h.__x = (uint16_t)(s | (m >> 13));
    return h;
}
static inline __half __float2half(float f) { return __float2half_rn(f); }
static inline unsigned short __half_as_ushort(__half h) { return h.__x; }
static inline __half __ushort_as_half(unsigned short u) { __half h; h.__x = u; return h; }

static inline float __bfloat162float(__nv_bfloat16 h) { return emu_u2f((uint32_t)h.__x << 16); }
static inline __nv_bfloat16 __float2bfloat16_rn(float f)
{
    uint32_t u = emu_f2u(f);
    __nv_bfloat16 h;
    if ((u & 0x7fffffffu) > 0x7f800000u) h.__x = (uint16_t)((u >> 16) | 0x40);
    else h.__x = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
    return h;
}
static inline __nv_bfloat16 __float2bfloat16(float f) { return __float2bfloat16_rn(f); }
static inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 h) { return h.__x; }

/* ---- device math that host libm spells differently ---------------------------- */
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
#define __expf expf
static inline float __fdividef(float a, float b) { return a / b; }
static inline float __frcp_rn(float x) { return 1.0f / x; }
template <class T> static inline T __ldg(const T *p) { return *p; }

#ifdef T2I_CUDA_STANDIN
#include <cuda_runtime.h>   /* tests/cuda_standin/cuda_runtime.h */
#endif
#endif /* __CUDACC__ */
#endif
