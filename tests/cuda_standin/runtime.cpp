/*
 * runtime.cpp — the CUDA runtime stand-in (cuda_runtime.h of this folder).
 *
 * Device memory: each cudaMalloc is a host block laid out as
 *   [GUARD bytes of 0xA5][the user's bytes, filled with 0xFF][0xA5 up to the
 *   next 256 bytes, then GUARD more]
 * so the pointer is 256-byte aligned like the real allocator's, an
 * overrun or underrun of up to GUARD bytes is caught by the guard check
 * after every kernel, copy and library call, and a read of never-written
 * memory sees NaN (0xFFFF is a NaN in FP16 and BF16, 0xFFFFFFFF in FP32).
 *
 * Streams execute work when it is enqueued (a valid schedule for in-order
 * streams on one device). A capturing stream appends the work to its graph
 * instead; cudaGraphLaunch runs a graph's nodes in recording order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <chrono>
#include <map>
#include <string>
#include <vector>
#include <cuda_runtime.h>
#include "standin.h"

#define GUARD 256
#define FILL_NEW 0xFF
#define FILL_GUARD 0xA5

struct standin_node {
    std::string what;
    std::function<void()> work;
};
struct standin_graph { std::vector<standin_node> nodes; };
struct standin_graph_exec { std::vector<standin_node> nodes; };
struct standin_stream {
    unsigned flags;
    bool capturing, invalidated;
    standin_graph *graph;
};
struct standin_event { double t_ms; bool recorded; };

struct alloc_info { size_t bytes, total; unsigned char *raw; bool host; };

static std::map<uintptr_t, alloc_info> allocs;   /* by user pointer */
static size_t device_bytes = (size_t)8 << 30;
static standin_stats stats;
static cudaError_t last_error = cudaSuccess, sticky = cudaSuccess;
static std::string first_violation;
static standin_fault fault = STANDIN_FAULT_NONE;
static int capturing_streams;                     /* streams now capturing (one OS thread) */
static standin_stream default_stream;
static std::vector<standin_stream *> capturing_list;

static cudaError_t ret(cudaError_t e)
{
    if (e != cudaSuccess) last_error = e;
    return e;
}
#define STICKY_CHECK() \
    do {               \
        if (sticky != cudaSuccess) return ret(sticky); \
    } while (0)

static standin_stream *stream_of(cudaStream_t s) { return s ? s : &default_stream; }

/* A call that is prohibited while this thread captures (cudaStreamCaptureModeThreadLocal
 * and Global): it fails and invalidates every capture in progress. */
static bool capture_forbids(void)
{
    if (!capturing_streams) return false;
    for (standin_stream *s : capturing_list) s->invalidated = true;
    return true;
}

extern "C" void standin_get_stats(standin_stats *out) { *out = stats; }
extern "C" const char *standin_first_violation(void) { return first_violation.c_str(); }
extern "C" void standin_clear_violations(void)
{
    stats.violations = 0;
    first_violation.clear();
    sticky = cudaSuccess;
    last_error = cudaSuccess;
}
extern "C" void standin_set_device_memory(size_t bytes) { device_bytes = bytes; }
extern "C" void standin_set_fault(standin_fault f) { fault = f; }
extern "C" standin_fault standin_get_fault(void) { return fault; }

static void violation(const std::string &msg)
{
    if (stats.violations++ == 0) first_violation = msg;
    fprintf(stderr, "cuda stand-in memcheck: %s\n", msg.c_str());
    sticky = cudaErrorIllegalAddress;
}

/* The allocation holding [p, p+bytes), or NULL. */
static const alloc_info *find_alloc(const void *p, size_t bytes, uintptr_t *base)
{
    uintptr_t a = (uintptr_t)p;
    auto it = allocs.upper_bound(a);
    if (it == allocs.begin()) return NULL;
    --it;
    if (a < it->first || a + bytes > it->first + it->second.bytes) return NULL;
    if (base) *base = it->first;
    return &it->second;
}

extern "C" int standin_check_operand(const void *p, size_t bytes, int elem, int initialized, const char *what)
{
    char msg[256];
    uintptr_t base = 0;
    const alloc_info *a = find_alloc(p, bytes, &base);
    if (!a) {
        snprintf(msg, sizeof msg, "%s: [%p, +%zu bytes) is not inside one device allocation", what, p, bytes);
        violation(msg);
        return 0;
    }
    if (initialized && elem == 2) {
        const uint16_t *h = (const uint16_t *)p;
        for (size_t i = 0; i < bytes / 2; i++)
            if (h[i] == 0xFFFF) {
                snprintf(msg, sizeof msg, "%s: element %zu (allocation %p + %zu) was never written", what, i,
                         (void *)base, (size_t)((uintptr_t)&h[i] - base));
                violation(msg);
                return 0;
            }
    }
    return 1;
}

extern "C" void standin_check_guards(const char *after)
{
    for (auto &kv : allocs) {
        const alloc_info &a = kv.second;
        const unsigned char *lo = a.raw, *hi = (const unsigned char *)kv.first + a.bytes;
        const unsigned char *end = a.raw + a.total;
        for (const unsigned char *q = lo; q < lo + GUARD; q++)
            if (*q != FILL_GUARD) {
                violation(std::string("guard zone before allocation overwritten, found after ") + after);
                return;
            }
        for (const unsigned char *q = hi; q < end; q++)
            if (*q != FILL_GUARD) {
                char msg[256];
                snprintf(msg, sizeof msg, "%zu bytes past the end of a %zu-byte allocation overwritten by %s",
                         (size_t)(q - hi) + 1, a.bytes, after);
                violation(msg);
                return;
            }
    }
}

/* ---- errors ------------------------------------------------------------------ */
extern "C" cudaError_t cudaGetLastError(void)
{
    cudaError_t e = sticky != cudaSuccess ? sticky : last_error;
    last_error = cudaSuccess;
    return e;
}
extern "C" cudaError_t cudaPeekAtLastError(void) { return sticky != cudaSuccess ? sticky : last_error; }
extern "C" const char *cudaGetErrorName(cudaError_t e)
{
    switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevicePointer: return "cudaErrorInvalidDevicePointer";
    case cudaErrorInvalidMemcpyDirection: return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    case cudaErrorStreamCaptureUnsupported: return "cudaErrorStreamCaptureUnsupported";
    case cudaErrorStreamCaptureInvalidated: return "cudaErrorStreamCaptureInvalidated";
    case cudaErrorStreamCaptureWrongThread: return "cudaErrorStreamCaptureWrongThread";
    }
    return "cudaErrorUnknown";
}
extern "C" const char *cudaGetErrorString(cudaError_t e)
{
    switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevicePointer: return "invalid device pointer";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    default: return cudaGetErrorName(e);
    }
}

/* ---- device ------------------------------------------------------------------ */
extern "C" cudaError_t cudaGetDeviceCount(int *count)
{
    *count = 1;
    return cudaSuccess;
}
extern "C" cudaError_t cudaSetDevice(int device) { return ret(device == 0 ? cudaSuccess : cudaErrorInvalidDevice); }
extern "C" cudaError_t cudaGetDevice(int *device)
{
    *device = 0;
    return cudaSuccess;
}
extern "C" cudaError_t cudaDeviceSynchronize(void)
{
    STICKY_CHECK();
    if (capture_forbids()) return ret(cudaErrorStreamCaptureUnsupported);
    return cudaSuccess;
}
extern "C" cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes)
{
    *total_bytes = device_bytes;
    *free_bytes = device_bytes > stats.live_bytes ? device_bytes - stats.live_bytes : 0;
    return cudaSuccess;
}

/* ---- memory ------------------------------------------------------------------ */
static cudaError_t new_block(void **ptr, size_t bytes, bool host)
{
    size_t rounded = (bytes + 255) / 256 * 256, total = GUARD + rounded + GUARD;
    unsigned char *raw = (unsigned char *)aligned_alloc(256, total);
    if (!raw) return cudaErrorMemoryAllocation;
    memset(raw, FILL_GUARD, total);
    memset(raw + GUARD, host ? 0 : FILL_NEW, bytes);
    *ptr = raw + GUARD;
    allocs[(uintptr_t)*ptr] = alloc_info{bytes, total, raw, host};
    return cudaSuccess;
}

extern "C" cudaError_t cudaMalloc(void **ptr, size_t bytes)
{
    *ptr = NULL;
    STICKY_CHECK();
    if (capture_forbids()) return ret(cudaErrorStreamCaptureUnsupported);
    if (bytes == 0) return cudaSuccess;
    if (bytes > device_bytes || stats.live_bytes + bytes > device_bytes) return ret(cudaErrorMemoryAllocation);
    if (new_block(ptr, bytes, false) != cudaSuccess) return ret(cudaErrorMemoryAllocation);
    stats.mallocs++, stats.live_allocs++;
    stats.live_bytes += bytes;
    if (stats.live_bytes > stats.peak_bytes) stats.peak_bytes = stats.live_bytes;
    return cudaSuccess;
}

static cudaError_t free_block(void *ptr, bool host)
{
    auto it = allocs.find((uintptr_t)ptr);
    if (it == allocs.end() || it->second.host != host) return cudaErrorInvalidValue;
    standin_check_guards(host ? "cudaFreeHost" : "cudaFree");
    if (!host) {
        stats.frees++, stats.live_allocs--;
        stats.live_bytes -= it->second.bytes;
    }
    free(it->second.raw);
    allocs.erase(it);
    return cudaSuccess;
}

extern "C" cudaError_t cudaFree(void *ptr)
{
    if (!ptr) return cudaSuccess;
    if (capture_forbids()) return ret(cudaErrorStreamCaptureUnsupported);
    return ret(free_block(ptr, false));
}
extern "C" cudaError_t cudaHostAlloc(void **ptr, size_t bytes, unsigned flags)
{
    (void)flags;
    *ptr = NULL;
    STICKY_CHECK();
    return ret(new_block(ptr, bytes ? bytes : 1, true));
}
extern "C" cudaError_t cudaMallocHost(void **ptr, size_t bytes) { return cudaHostAlloc(ptr, bytes, 0); }
extern "C" cudaError_t cudaFreeHost(void *ptr) { return ptr ? ret(free_block(ptr, true)) : cudaSuccess; }
extern "C" cudaError_t cudaHostGetDevicePointer(void **dev, void *host, unsigned flags)
{
    (void)flags;
    const alloc_info *a = find_alloc(host, 1, NULL);
    if (!a || !a->host) return ret(cudaErrorInvalidValue);
    *dev = host;
    return cudaSuccess;
}

/* The device side of a copy must be inside one device allocation; the host
 * side must not be device memory (cudaMemcpyDefault infers the direction). */
static cudaError_t check_copy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind)
{
    const alloc_info *d = find_alloc(dst, bytes, NULL), *s = find_alloc(src, bytes, NULL);
    bool dd = d && !d->host, sd = s && !s->host;
    switch (kind) {
    case cudaMemcpyHostToHost: return dd || sd ? cudaErrorInvalidValue : cudaSuccess;
    case cudaMemcpyHostToDevice: return dd && !sd ? cudaSuccess : cudaErrorInvalidValue;
    case cudaMemcpyDeviceToHost: return sd && !dd ? cudaSuccess : cudaErrorInvalidValue;
    case cudaMemcpyDeviceToDevice: return dd && sd ? cudaSuccess : cudaErrorInvalidValue;
    case cudaMemcpyDefault: return cudaSuccess;
    }
    return cudaErrorInvalidMemcpyDirection;
}

extern "C" cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind, cudaStream_t s)
{
    STICKY_CHECK();
    if (bytes == 0) return cudaSuccess;
    cudaError_t e = check_copy(dst, src, bytes, kind);
    if (e != cudaSuccess) return ret(e);
    return standin_enqueue(s, "cudaMemcpyAsync", [=]() { memcpy(dst, src, bytes); });
}
extern "C" cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind)
{
    STICKY_CHECK();
    if (capture_forbids()) return ret(cudaErrorStreamCaptureUnsupported);
    return cudaMemcpyAsync(dst, src, bytes, kind, NULL);
}
extern "C" cudaError_t cudaMemsetAsync(void *dst, int value, size_t bytes, cudaStream_t s)
{
    STICKY_CHECK();
    const alloc_info *d = find_alloc(dst, bytes, NULL);
    if (!d) return ret(cudaErrorInvalidValue);
    return standin_enqueue(s, "cudaMemsetAsync", [=]() { memset(dst, value, bytes); });
}
extern "C" cudaError_t cudaMemset(void *dst, int value, size_t bytes)
{
    if (capture_forbids()) return ret(cudaErrorStreamCaptureUnsupported);
    return cudaMemsetAsync(dst, value, bytes, NULL);
}

/* ---- streams and capture -------------------------------------------------------- */
extern "C" cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags)
{
    *s = new standin_stream{flags, false, false, NULL};
    return cudaSuccess;
}
extern "C" cudaError_t cudaStreamCreate(cudaStream_t *s) { return cudaStreamCreateWithFlags(s, 0); }
extern "C" cudaError_t cudaStreamDestroy(cudaStream_t s)
{
    if (!s) return ret(cudaErrorInvalidResourceHandle);
    if (s->capturing) {
        capturing_streams--;
        for (size_t i = 0; i < capturing_list.size(); i++)
            if (capturing_list[i] == s) capturing_list.erase(capturing_list.begin() + (long)i);
        delete s->graph;
    }
    delete s;
    return cudaSuccess;
}
extern "C" cudaError_t cudaStreamSynchronize(cudaStream_t s)
{
    STICKY_CHECK();
    if (stream_of(s)->capturing || capture_forbids()) {
        stream_of(s)->invalidated = true;
        return ret(cudaErrorStreamCaptureUnsupported);
    }
    return cudaSuccess;
}
extern "C" cudaError_t cudaStreamQuery(cudaStream_t s)
{
    (void)s;
    STICKY_CHECK();
    return cudaSuccess;
}
extern "C" cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode mode)
{
    (void)mode;
    STICKY_CHECK();
    standin_stream *st = stream_of(s);
    if (!s || st->capturing) return ret(cudaErrorInvalidValue);   /* the legacy stream cannot capture */
    st->capturing = true;
    st->invalidated = false;
    st->graph = new standin_graph;
    capturing_streams++;
    capturing_list.push_back(st);
    stats.captures++;
    return cudaSuccess;
}
extern "C" cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t *graph)
{
    standin_stream *st = stream_of(s);
    *graph = NULL;
    if (!st->capturing) return ret(cudaErrorInvalidValue);
    st->capturing = false;
    capturing_streams--;
    for (size_t i = 0; i < capturing_list.size(); i++)
        if (capturing_list[i] == st) capturing_list.erase(capturing_list.begin() + (long)i);
    if (st->invalidated) {
        delete st->graph;
        st->graph = NULL;
        return ret(cudaErrorStreamCaptureInvalidated);
    }
    *graph = st->graph;
    st->graph = NULL;
    return cudaSuccess;
}
extern "C" cudaError_t cudaStreamIsCapturing(cudaStream_t s, cudaStreamCaptureStatus *status)
{
    standin_stream *st = stream_of(s);
    *status = !st->capturing ? cudaStreamCaptureStatusNone
              : st->invalidated ? cudaStreamCaptureStatusInvalidated : cudaStreamCaptureStatusActive;
    return cudaSuccess;
}

/* Run one piece of work (now, or as a graph node), count it, check the guards. */
static void run_work(const std::string &what, const std::function<void()> &work)
{
    if (what == "cublasLtMatmul") stats.lt_matmuls++;
    if (what == "cudnnConvolutionForward") stats.dnn_convs++;
    work();
    standin_check_guards(what.c_str());
}

cudaError_t standin_enqueue(cudaStream_t s, const char *what, std::function<void()> work)
{
    STICKY_CHECK();
    standin_stream *st = stream_of(s);
    if (!s && capturing_streams) {   /* the legacy stream synchronizes with the capturing ones */
        capture_forbids();
        return ret(cudaErrorStreamCaptureUnsupported);
    }
    if (st->capturing) {
        if (fault == STANDIN_FAULT_ALLOC_IN_CAPTURE && strncmp(what, "cu", 2) == 0 && strcmp(what, "cudaMemcpyAsync")) {
            void *tmp = NULL;   /* the glue bug simulated: a temporary buffer allocated by the op */
            if (cudaMalloc(&tmp, 256) == cudaSuccess) cudaFree(tmp);
        }
        st->graph->nodes.push_back(standin_node{what, std::move(work)});
        stats.recorded_nodes++;
        return cudaSuccess;
    }
    run_work(what, work);
    return ret(sticky);
}

cudaError_t standin_launch_grid(cudaStream_t s, const char *what, dim3 grid, dim3 block, std::function<void()> body)
{
    STICKY_CHECK();
    unsigned long long threads = (unsigned long long)block.x * block.y * block.z;
    if (threads == 0 || threads > 1024 || block.z > 64 || grid.x == 0 || grid.y == 0 || grid.z == 0 ||
        grid.y > 65535 || grid.z > 65535)
        return ret(cudaErrorInvalidConfiguration);   /* not sticky, reported by cudaGetLastError */
    return standin_enqueue(s, what, [grid, block, body]() {
        stats.launches++;
        emu_run_grid(grid, block, [](void *p) { (*(const std::function<void()> *)p)(); }, (void *)&body);
    });
}

/* ---- events -------------------------------------------------------------------- */
static double now_ms(void)
{
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
extern "C" cudaError_t cudaEventCreateWithFlags(cudaEvent_t *e, unsigned flags)
{
    (void)flags;
    *e = new standin_event{0, false};
    return cudaSuccess;
}
extern "C" cudaError_t cudaEventCreate(cudaEvent_t *e) { return cudaEventCreateWithFlags(e, 0); }
extern "C" cudaError_t cudaEventDestroy(cudaEvent_t e)
{
    delete e;
    return cudaSuccess;
}
extern "C" cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s)
{
    if (!e) return ret(cudaErrorInvalidResourceHandle);
    return standin_enqueue(s, "cudaEventRecord", [e]() {
        e->t_ms = now_ms();
        e->recorded = true;
    });
}
extern "C" cudaError_t cudaEventSynchronize(cudaEvent_t e)
{
    STICKY_CHECK();
    if (capture_forbids()) return ret(cudaErrorStreamCaptureUnsupported);
    return e ? cudaSuccess : ret(cudaErrorInvalidResourceHandle);
}
extern "C" cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start, cudaEvent_t end)
{
    if (!start || !end || !start->recorded || !end->recorded) return ret(cudaErrorInvalidResourceHandle);
    *ms = (float)(end->t_ms - start->t_ms);
    return cudaSuccess;
}
extern "C" cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned flags)
{
    (void)s, (void)flags;
    return e ? cudaSuccess : ret(cudaErrorInvalidResourceHandle);
}

/* ---- graphs ------------------------------------------------------------------------ */
extern "C" cudaError_t cudaGraphInstantiate(cudaGraphExec_t *exec, cudaGraph_t graph, unsigned long long flags)
{
    (void)flags;
    *exec = NULL;
    if (!graph) return ret(cudaErrorInvalidValue);
    *exec = new standin_graph_exec{graph->nodes};
    return cudaSuccess;
}
extern "C" cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t s)
{
    STICKY_CHECK();
    if (!exec) return ret(cudaErrorInvalidValue);
    if (stream_of(s)->capturing) return ret(cudaErrorStreamCaptureUnsupported);
    stats.graph_launches++;
    for (standin_node &n : exec->nodes) {
        run_work(n.what, n.work);
        if (sticky != cudaSuccess) return ret(sticky);
    }
    return cudaSuccess;
}
extern "C" cudaError_t cudaGraphDestroy(cudaGraph_t graph)
{
    delete graph;
    return cudaSuccess;
}
extern "C" cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec)
{
    delete exec;
    return cudaSuccess;
}

/* ---- NVTX ---------------------------------------------------------------------------- */
extern "C" int nvtxRangePushA(const char *message)
{
    (void)message;
    return (int)stats.nvtx_depth++;
}
extern "C" int nvtxRangePop(void) { return (int)--stats.nvtx_depth; }
