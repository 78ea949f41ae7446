/*
 * nccl_comm.cu — the NCCL implementation of kernels/comm.h: one communicator
 * per device, collectives on the rank's stream, FP32 buffers in device
 * memory. nvcc builds only (library glue: checked on GPUs, not emulated).
 *
 * Every collective is enqueued, then waited for by polling its stream and
 * ncclCommGetAsyncError until it completes, an asynchronous NCCL error
 * appears, or the timeout passes; on timeout or error the communicator is
 * aborted with ncclCommAbort (which also unblocks the kernels other ranks
 * are waiting in) and the call fails with T2I_ERR_PEER naming the call.
 * ncclCommInitRankConfig runs non-blocking for the same reason: a rank that
 * never arrives must not hang initialisation.
 */
#include <cuda_runtime.h>
#include <nccl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
extern "C" {   /* the library's headers are C */
#include "base/error.h"
}
#include "kernels/comm.h"

typedef struct nccl_comm {
    t2i_comm base;
    ncclComm_t comm;
    cudaStream_t stream;
    int device, timeout_ms;
    int broken;
} nccl_comm;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Wait for the stream (or for init: ncclInProgress to clear) within the timeout. */
static t2i_status wait_done(nccl_comm *c, const char *what, bool init)
{
    const double deadline = now_ms() + c->timeout_ms;
    for (;;) {
        ncclResult_t async = ncclSuccess;
        ncclCommGetAsyncError(c->comm, &async);
        if (async != ncclSuccess && async != ncclInProgress) {
            ncclCommAbort(c->comm);
            c->broken = 1;
            return t2i_fail(T2I_ERR_PEER, "nccl: %s on rank %d failed: %s", what, c->base.rank,
                            ncclGetErrorString(async));
        }
        if (init ? async == ncclSuccess : cudaStreamQuery(c->stream) == cudaSuccess) return T2I_OK;
        if (!init) {
            cudaError_t e = cudaStreamQuery(c->stream);
            if (e != cudaErrorNotReady) {
                ncclCommAbort(c->comm);
                c->broken = 1;
                return t2i_fail(T2I_ERR_DEVICE, "nccl: %s on rank %d: %s", what, c->base.rank, cudaGetErrorString(e));
            }
        }
        if (now_ms() > deadline) {
            ncclCommAbort(c->comm);
            c->broken = 1;
            return t2i_fail(T2I_ERR_PEER, "nccl: %s on rank %d timed out after %d ms (a peer did not take part)", what,
                            c->base.rank, c->timeout_ms);
        }
        struct timespec nap = {0, 100000};
        nanosleep(&nap, NULL);
    }
}

#define NCCL_ENQUEUE(c, what, call)                                                                        \
    do {                                                                                                   \
        if ((c)->broken) return t2i_fail(T2I_ERR_PEER, "nccl: %s: the communicator was aborted", what);  \
        cudaSetDevice((c)->device);                                                                        \
        ncclResult_t r_ = (call);                                                                          \
        if (r_ != ncclSuccess && r_ != ncclInProgress) {                                                   \
            ncclCommAbort((c)->comm);                                                                      \
            (c)->broken = 1;                                                                               \
            return t2i_fail(T2I_ERR_PEER, "nccl: %s failed: %s", #call, ncclGetErrorString(r_));         \
        }                                                                                                  \
        return wait_done((c), what, false);                                                                \
    } while (0)

static t2i_status nc_all_reduce(t2i_comm *b, float *buf, size_t n)
{
    nccl_comm *c = (nccl_comm *)b;
    NCCL_ENQUEUE(c, "all_reduce", ncclAllReduce(buf, buf, n, ncclFloat32, ncclSum, c->comm, c->stream));
}

static t2i_status nc_all_gather(t2i_comm *b, const float *send, size_t n, float *recv)
{
    nccl_comm *c = (nccl_comm *)b;
    NCCL_ENQUEUE(c, "all_gather", ncclAllGather(send, recv, n, ncclFloat32, c->comm, c->stream));
}

static t2i_status nc_broadcast(t2i_comm *b, void *buf, size_t bytes, int root)
{
    nccl_comm *c = (nccl_comm *)b;
    if (root < 0 || root >= b->size)
        return t2i_fail(T2I_ERR_INVALID_ARG, "nccl: broadcast root %d outside 0..%d", root, b->size - 1);
    NCCL_ENQUEUE(c, "broadcast", ncclBroadcast(buf, buf, bytes, ncclUint8, root, c->comm, c->stream));
}

/* NCCL has no barrier: an all-reduce of one float is one. */
static t2i_status nc_barrier(t2i_comm *b)
{
    nccl_comm *c = (nccl_comm *)b;
    float *d = NULL;
    cudaSetDevice(c->device);
    if (cudaMallocAsync((void **)&d, sizeof *d, c->stream) != cudaSuccess)
        return t2i_fail(T2I_ERR_NOMEM, "nccl: barrier: out of device memory");
    cudaMemsetAsync(d, 0, sizeof *d, c->stream);
    t2i_status st = nc_all_reduce(b, d, 1);
    cudaFreeAsync(d, c->stream);
    return st;
}

static void nc_abort(t2i_comm *b, const char *why)
{
    nccl_comm *c = (nccl_comm *)b;
    (void)why;
    if (!c->broken) ncclCommAbort(c->comm);
    c->broken = 1;
}

static void nc_destroy(t2i_comm *b)
{
    nccl_comm *c = (nccl_comm *)b;
    if (!c->broken) {
        ncclCommFinalize(c->comm);
        if (wait_done(c, "finalize", true) == T2I_OK) ncclCommDestroy(c->comm);
    }
    free(c);
}

static const t2i_comm_vt nccl_vt = {nc_all_reduce, nc_all_gather, nc_broadcast, nc_barrier, nc_abort, nc_destroy};

extern "C" t2i_status t2i_nccl_unique_id(unsigned char id[128])
{
    static_assert(sizeof(ncclUniqueId) == 128, "ncclUniqueId is 128 bytes");
    ncclUniqueId u;
    ncclResult_t r = ncclGetUniqueId(&u);
    if (r != ncclSuccess) return t2i_fail(T2I_ERR_DEVICE, "nccl: ncclGetUniqueId: %s", ncclGetErrorString(r));
    memcpy(id, &u, sizeof u);
    return T2I_OK;
}

extern "C" t2i_status t2i_nccl_comm_create(const unsigned char id[128], int rank, int size, int device, void *stream,
                                           int timeout_ms, t2i_comm **out)
{
    *out = NULL;
    if (size < 1 || rank < 0 || rank >= size || timeout_ms < 1)
        return t2i_fail(T2I_ERR_INVALID_ARG, "nccl: rank %d of %d, timeout %d ms", rank, size, timeout_ms);
    nccl_comm *c = (nccl_comm *)calloc(1, sizeof *c);
    if (!c) return t2i_fail(T2I_ERR_NOMEM, "nccl: out of memory");
    c->base = t2i_comm{&nccl_vt, rank, size};
    c->device = device;
    c->stream = (cudaStream_t)stream;
    c->timeout_ms = timeout_ms;
    if (cudaSetDevice(device) != cudaSuccess) {
        free(c);
        return t2i_fail(T2I_ERR_DEVICE, "nccl: no CUDA device %d", device);
    }
    ncclUniqueId u;
    memcpy(&u, id, sizeof u);
    ncclConfig_t cfg = NCCL_CONFIG_INITIALIZER;
    cfg.blocking = 0;
    ncclResult_t r = ncclCommInitRankConfig(&c->comm, size, u, rank, &cfg);
    if (r != ncclSuccess && r != ncclInProgress) {
        free(c);
        return t2i_fail(T2I_ERR_DEVICE, "nccl: ncclCommInitRankConfig(rank %d of %d): %s", rank, size,
                        ncclGetErrorString(r));
    }
    t2i_status st = wait_done(c, "ncclCommInitRankConfig", true);
    if (st != T2I_OK) {
        free(c);
        return st;
    }
    *out = &c->base;
    return T2I_OK;
}
