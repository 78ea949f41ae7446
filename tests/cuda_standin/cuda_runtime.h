/*
 * cuda_runtime.h (stand-in) — the subset of the CUDA runtime API that
 * kernels/cuda/ calls, implemented on the host for tests (runtime.cpp).
 * Built only for tests: cmake/cuda.cmake puts tests/cuda_standin/ first on
 * the include path of the stand-in build, so the shipped cuda_backend.cu,
 * gemm.cu and conv.cu compile unchanged against this header, cublasLt.h and
 * cudnn.h of this folder (docs/cuda.md, "The stand-ins").
 *
 * Semantics, as the CUDA runtime API reference states them:
 *   - device memory is host memory; cudaMalloc returns 256-byte aligned
 *     blocks with guard zones on both sides, filled with 0xFF (a NaN in
 *     FP16, BF16 and FP32), so a read of never-written memory turns into a
 *     NaN downstream and the library stand-ins reject it outright;
 *   - work is executed when it is enqueued, which is a valid schedule of
 *     in-order streams; events record the enqueue order;
 *   - cudaStreamBeginCapture .. EndCapture records kernel launches, async
 *     copies/memsets and library calls into a graph instead of running them;
 *     cudaGraphInstantiate + cudaGraphLaunch replay the recording;
 *     a prohibited call while capturing (cudaMalloc, cudaFree, a synchronous
 *     copy, a stream synchronize) returns cudaErrorStreamCaptureUnsupported
 *     and invalidates the capture, whose EndCapture then returns
 *     cudaErrorStreamCaptureInvalidated;
 *   - every failing call sets the error cudaGetLastError returns and clears;
 *     a memory violation (guard zone overwritten, a library operand outside
 *     its allocation) is sticky (cudaErrorIllegalAddress), as a device fault is.
 * The checks and counters tests read are in standin.h.
 */
#ifndef T2I_STANDIN_CUDA_RUNTIME_H
#define T2I_STANDIN_CUDA_RUNTIME_H

#include <stddef.h>
#include <stdint.h>
#include "kernels/cuda/cuda_compat.cuh"   /* dim3, __half, the fiber scheduler */

#ifdef __cplusplus
#include <functional>
#include <tuple>
#include <utility>
extern "C" {
#endif

typedef enum cudaError {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorInvalidDevicePointer = 17,
    cudaErrorInvalidMemcpyDirection = 21,
    cudaErrorNoDevice = 100,
    cudaErrorInvalidDevice = 101,
    cudaErrorInvalidResourceHandle = 400,
    cudaErrorIllegalAddress = 700,
    cudaErrorStreamCaptureUnsupported = 900,
    cudaErrorStreamCaptureInvalidated = 901,
    cudaErrorStreamCaptureWrongThread = 908,
} cudaError_t;

typedef enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
    cudaMemcpyDefault = 4,
} cudaMemcpyKind;

typedef enum cudaStreamCaptureMode {
    cudaStreamCaptureModeGlobal = 0,
    cudaStreamCaptureModeThreadLocal = 1,
    cudaStreamCaptureModeRelaxed = 2,
} cudaStreamCaptureMode;

typedef enum cudaStreamCaptureStatus {
    cudaStreamCaptureStatusNone = 0,
    cudaStreamCaptureStatusActive = 1,
    cudaStreamCaptureStatusInvalidated = 2,
} cudaStreamCaptureStatus;

/* library_types.h */
typedef enum cudaDataType_t {
    CUDA_R_32F = 0,
    CUDA_R_16F = 2,
    CUDA_R_8I = 3,
    CUDA_R_32I = 10,
    CUDA_R_16BF = 14,
} cudaDataType_t;
typedef cudaDataType_t cudaDataType;

#define cudaStreamDefault 0x00
#define cudaStreamNonBlocking 0x01
#define cudaHostAllocDefault 0x00
#define cudaHostAllocMapped 0x02
#define cudaEventDefault 0x00
#define cudaEventDisableTiming 0x02

typedef struct standin_stream *cudaStream_t;
typedef struct standin_event *cudaEvent_t;
typedef struct standin_graph *cudaGraph_t;
typedef struct standin_graph_exec *cudaGraphExec_t;

cudaError_t cudaGetLastError(void);
cudaError_t cudaPeekAtLastError(void);
const char *cudaGetErrorString(cudaError_t e);
const char *cudaGetErrorName(cudaError_t e);

cudaError_t cudaGetDeviceCount(int *count);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDevice(int *device);
cudaError_t cudaDeviceSynchronize(void);
cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes);

cudaError_t cudaMalloc(void **ptr, size_t bytes);
cudaError_t cudaFree(void *ptr);
cudaError_t cudaHostAlloc(void **ptr, size_t bytes, unsigned flags);
cudaError_t cudaMallocHost(void **ptr, size_t bytes);
cudaError_t cudaFreeHost(void *ptr);
cudaError_t cudaHostGetDevicePointer(void **dev, void *host, unsigned flags);

cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind, cudaStream_t s);
cudaError_t cudaMemset(void *dst, int value, size_t bytes);
cudaError_t cudaMemsetAsync(void *dst, int value, size_t bytes, cudaStream_t s);

cudaError_t cudaStreamCreate(cudaStream_t *s);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t s);
cudaError_t cudaStreamSynchronize(cudaStream_t s);
cudaError_t cudaStreamQuery(cudaStream_t s);
cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode mode);
cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t *graph);
cudaError_t cudaStreamIsCapturing(cudaStream_t s, cudaStreamCaptureStatus *status);

cudaError_t cudaEventCreate(cudaEvent_t *e);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t *e, unsigned flags);
cudaError_t cudaEventDestroy(cudaEvent_t e);
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s);
cudaError_t cudaEventSynchronize(cudaEvent_t e);
cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start, cudaEvent_t end);
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned flags);

cudaError_t cudaGraphInstantiate(cudaGraphExec_t *exec, cudaGraph_t graph, unsigned long long flags);
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t s);
cudaError_t cudaGraphDestroy(cudaGraph_t graph);
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec);

#ifdef __cplusplus
}

/* ---- for the stand-in's own libraries and CUDA_LAUNCH (not CUDA API) ---- */
/* Run `work` on stream s now, or record it when s is capturing. `what`
 * names it in reports. Returns what the enqueue returned. */
cudaError_t standin_enqueue(cudaStream_t s, const char *what, std::function<void()> work);
/* A kernel launch: the grid on the fiber scheduler of cuda_compat.cuh. */
cudaError_t standin_launch_grid(cudaStream_t s, const char *what, dim3 grid, dim3 block, std::function<void()> body);

/* CUDA_LAUNCH under the stand-ins: the arguments are converted to the
 * kernel's parameter types and copied now (as a launch does), so a replay
 * does not read the launcher's stack. */
template <class... P, class... A>
static inline void standin_launch(const char *what, cudaStream_t s, dim3 grid, dim3 block, void (*kernel)(P...),
                                  A &&...args)
{
    std::tuple<typename std::decay<P>::type...> t(std::forward<A>(args)...);
    standin_launch_grid(s, what, grid, block, [kernel, t]() { std::apply(kernel, t); });
}
#endif

#endif
