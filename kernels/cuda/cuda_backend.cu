/*
 * cuda_backend.cu — the CUDA backend: the vtable of kernels/backend.h on one
 * device and one stream.
 *
 * Memory: cudaMalloc'd blocks owned by the backend (the plan's arena and
 * workspace, the weight store); cuBLASLt and cuDNN workspaces allocated
 * once at creation. Exhausted device memory is T2I_ERR_NOMEM with the
 * sticky-free error state cleared, so a caller can free plans and retry.
 * Storage: every F32-typed tensor as act_dtype (FP16 or BF16); the plan
 * converts FP32 inputs/outputs at its edges (runtime/plan.c) and the weight
 * store converts weights (runtime/weights.c). Layout: NCHW (see
 * docs/cuda.md for why, and what NHWC would change).
 *
 * Kernel table: generated from graph/ops.def (cuda_op_<name> of each op;
 * NULL for a view). Every entry goes through run_node, which opens an NVTX
 * range named after the node (module path, e.g.
 * "down_blocks.0.resnets.1.conv1") around the op's launches.
 *
 * Checking: launches are asynchronous; sync() waits, then reports
 * cudaGetLastError and the kernels' data-error flag (EMBEDDING ids). With
 * T2I_DEBUG_SYNC=1 the executor calls sync() after every node, so an error
 * names its node.
 *
 * CUDA Graphs: a plan's run (one UNet step) is captured on its second run
 * (the first is an eager warm-up, where the libraries do their one-time
 * setup) and replayed on every later run: one cudaGraphLaunch instead of
 * hundreds of launches. Pointers are fixed by the plan and inputs are
 * written into the arena before the run, so the recording stays valid.
 * T2I_CUDA_GRAPHS=0 turns it off; debug-sync and profiling runs never
 * record. NVTX ranges appear on eager and capturing runs only.
 */
#include <stdlib.h>
#include <string.h>
#include <nvtx3/nvToolsExt.h>
#include "kernels/cuda/cuda_libs.h"

#define MAX_GRAPHS 32

struct cuda_graphs {
    struct {
        const void *key;
        int runs;
        bool capturing;
        bool failed;      /* recording failed once: this plan runs eagerly */
        cudaGraphExec_t exec;
    } e[MAX_GRAPHS];
    bool enabled;
};

static const t2i_kernel_fn op_impl[T2I_OP_COUNT] = {
#define T2I_OP(id, name, min_in, max_in, attr, impl) T2I_OP_FN_##impl(cuda_op_##name),
#include "graph/ops.def"
};

static t2i_status run_node(t2i_backend *be, const t2i_op_args *a)
{
    nvtxRangePushA(a->node->name ? a->node->name : t2i_op_name(a->node->op));
    t2i_status st = op_impl[a->node->op](be, a);
    nvtxRangePop();
    return st;
}

static t2i_kernel_fn cuda_table[T2I_OP_COUNT];

static int env_flag(const char *name, int dflt)
{
    const char *v = getenv(name);
    return v && *v ? strcmp(v, "0") != 0 : dflt;
}

/* ---- memory ------------------------------------------------------------------- */
static t2i_status cuda_alloc(t2i_backend *be, size_t bytes, void **ptr)
{
    (void)be;
    *ptr = NULL;
    cudaError_t e = cudaMalloc(ptr, bytes ? bytes : 256);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();   /* allocation failures are not sticky: clear and report */
        *ptr = NULL;
        size_t free_b = 0, total_b = 0;
        cudaMemGetInfo(&free_b, &total_b);
        return t2i_fail(e == cudaErrorMemoryAllocation ? T2I_ERR_NOMEM : T2I_ERR_DEVICE,
                        "cudaMalloc(%zu bytes) failed: %s (%zu MiB free of %zu MiB)", bytes, cudaGetErrorString(e),
                        free_b >> 20, total_b >> 20);
    }
    return T2I_OK;
}

static void cuda_free(t2i_backend *be, void *ptr)
{
    (void)be;
    if (ptr) cudaFree(ptr);
}

static t2i_status cuda_upload(t2i_backend *be, void *dst, const void *src, size_t bytes)
{
    cuda_backend *cb = (cuda_backend *)be;
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, cb->stream));
    CUDA_CHECK(cudaStreamSynchronize(cb->stream));   /* the caller may reuse src at once */
    return T2I_OK;
}

static t2i_status cuda_download(t2i_backend *be, void *dst, const void *src, size_t bytes)
{
    cuda_backend *cb = (cuda_backend *)be;
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, cb->stream));
    CUDA_CHECK(cudaStreamSynchronize(cb->stream));
    return T2I_OK;
}

static size_t cuda_workspace_size(t2i_backend *be, const t2i_graph *g, const t2i_node *n)
{
    if (n->op == T2I_OP_CONV2D)
        return cuda_conv_workspace(&g->tensors[n->in[0]], &n->attr.conv2d, t2i_dtype_size(be->act_dtype));
    return 0;   /* attention is flash (no scratch); library workspaces are the backend's */
}

static t2i_status cuda_sync(t2i_backend *be)
{
    cuda_backend *cb = (cuda_backend *)be;
    CUDA_CHECK(cudaStreamSynchronize(cb->stream));
    CUDA_CHECK(cudaGetLastError());
    int err = *cb->err_host;
    if (err) {
        *cb->err_host = 0;
        if (err == CUDA_ERR_EMBEDDING_ID)
            return t2i_fail(T2I_ERR_INVALID_ARG, "embedding: a token id is outside the embedding table");
        return t2i_fail(T2I_ERR_INTERNAL, "a kernel reported error %d", err);
    }
    return T2I_OK;
}

/* ---- CUDA Graphs ------------------------------------------------------------------ */
static int graph_slot(struct cuda_graphs *gr, const void *key, bool add)
{
    for (int i = 0; i < MAX_GRAPHS; i++)
        if (gr->e[i].key == key) return i;
    if (!add) return -1;
    for (int i = 0; i < MAX_GRAPHS; i++)
        if (!gr->e[i].key) {
            memset(&gr->e[i], 0, sizeof gr->e[i]);
            gr->e[i].key = key;
            return i;
        }
    return -1;   /* table full: that plan runs eagerly */
}

static t2i_status cuda_run_begin(t2i_backend *be, const void *key, bool *replayed)
{
    cuda_backend *cb = (cuda_backend *)be;
    struct cuda_graphs *gr = cb->graphs;
    *replayed = false;
    if (!gr->enabled) return T2I_OK;
    int i = graph_slot(gr, key, true);
    if (i < 0) return T2I_OK;
    if (gr->e[i].exec) {
        CUDA_CHECK(cudaGraphLaunch(gr->e[i].exec, cb->stream));
        *replayed = true;
    } else if (!gr->e[i].failed && gr->e[i].runs++ == 1) {   /* the second run records */
        CUDA_CHECK(cudaStreamBeginCapture(cb->stream, cudaStreamCaptureModeThreadLocal));
        gr->e[i].capturing = true;
    }
    return T2I_OK;
}

static t2i_status cuda_run_end(t2i_backend *be, const void *key, t2i_status run_st)
{
    cuda_backend *cb = (cuda_backend *)be;
    struct cuda_graphs *gr = cb->graphs;
    int i = graph_slot(gr, key, false);
    if (i < 0 || !gr->e[i].capturing) return run_st;
    gr->e[i].capturing = false;
    cudaGraph_t graph = NULL;
    cudaError_t e = cudaStreamEndCapture(cb->stream, &graph);
    if (run_st != T2I_OK || e != cudaSuccess) {
        /* The run failed part-way, or a library call was not capturable:
         * drop the recording and run this plan eagerly from now on. */
        if (graph) cudaGraphDestroy(graph);
        (void)cudaGetLastError();
        gr->e[i].failed = true;
        if (run_st != T2I_OK)
            return t2i_fail_context(run_st, "while recording a CUDA Graph (T2I_CUDA_GRAPHS=0 disables it)");
        return t2i_fail(T2I_ERR_DEVICE, "cudaStreamEndCapture failed: %s (T2I_CUDA_GRAPHS=0 disables recording)",
                        cudaGetErrorString(e));
    }
    e = cudaGraphInstantiate(&gr->e[i].exec, graph, 0);
    cudaGraphDestroy(graph);
    if (e != cudaSuccess) {
        gr->e[i].exec = NULL;
        (void)cudaGetLastError();
        return t2i_fail(e == cudaErrorMemoryAllocation ? T2I_ERR_NOMEM : T2I_ERR_DEVICE,
                        "cudaGraphInstantiate failed: %s", cudaGetErrorString(e));
    }
    CUDA_CHECK(cudaGraphLaunch(gr->e[i].exec, cb->stream));   /* the captured run itself */
    return T2I_OK;
}

static void cuda_forget(t2i_backend *be, const void *key)
{
    struct cuda_graphs *gr = ((cuda_backend *)be)->graphs;
    int i = graph_slot(gr, key, false);
    if (i < 0) return;
    if (gr->e[i].exec) cudaGraphExecDestroy(gr->e[i].exec);
    memset(&gr->e[i], 0, sizeof gr->e[i]);
}

/* ---- create / destroy ---------------------------------------------------------------- */
static void cuda_destroy(t2i_backend *be)
{
    if (!be) return;
    cuda_backend *cb = (cuda_backend *)be;
    if (cb->stream) cudaStreamSynchronize(cb->stream);
    if (cb->graphs) {
        for (int i = 0; i < MAX_GRAPHS; i++)
            if (cb->graphs->e[i].exec) cudaGraphExecDestroy(cb->graphs->e[i].exec);
        free(cb->graphs);
    }
    if (cb->libs) {
        if (cb->libs->lt) cublasLtDestroy(cb->libs->lt);
        if (cb->libs->dnn) cudnnDestroy(cb->libs->dnn);
        if (cb->libs->lt_ws) cudaFree(cb->libs->lt_ws);
        if (cb->libs->dnn_ws) cudaFree(cb->libs->dnn_ws);
        free(cb->libs);
    }
    if (cb->err_host) cudaFreeHost((void *)cb->err_host);
    if (cb->stream) cudaStreamDestroy(cb->stream);
    free(cb);
}

static const t2i_backend_vtable cuda_vtable = {
    "cuda",          cuda_destroy,   cuda_alloc,  cuda_free,   cuda_upload,   cuda_download,
    cuda_workspace_size, cuda_sync, cuda_run_begin, cuda_run_end, cuda_forget,
};

/* cudaSetDevice and the rest, inside the goto-cleanup of create. */
static t2i_status init_device(cuda_backend *cb, int device)
{
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
        (void)cudaGetLastError();
        return t2i_fail(T2I_ERR_DEVICE, "cuda backend: no CUDA device (%s)",
                        e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
    }
    if (device < 0 || device >= count)
        return t2i_fail(T2I_ERR_INVALID_ARG, "cuda backend: device %d does not exist (%d present)", device, count);
    CUDA_CHECK(cudaSetDevice(device));
    CUDA_CHECK(cudaStreamCreateWithFlags(&cb->stream, cudaStreamNonBlocking));
    void *host = NULL, *dev = NULL;
    CUDA_CHECK(cudaHostAlloc(&host, sizeof(int), cudaHostAllocMapped));
    cb->err_host = (volatile int *)host;
    *cb->err_host = 0;
    CUDA_CHECK(cudaHostGetDevicePointer(&dev, host, 0));
    cb->err_flag = (int *)dev;
    CUDA_CHECK(cudaMalloc(&cb->libs->lt_ws, CUDA_LT_WORKSPACE));
    CUDA_CHECK(cudaMalloc(&cb->libs->dnn_ws, CUDA_DNN_WORKSPACE));
    return T2I_OK;
}

static t2i_status init_libs(cuda_backend *cb)
{
    t2i_status st = T2I_OK;
    CUBLAS_CHECK(cublasLtCreate(&cb->libs->lt));
    CUDNN_CHECK(cudnnCreate(&cb->libs->dnn));
    CUDNN_CHECK(cudnnSetStream(cb->libs->dnn, cb->stream));
fail:
    return st;
}

extern "C" t2i_status t2i_cuda_backend_create(int device, t2i_dtype act_dtype, t2i_backend **out)
{
    *out = NULL;
    if (act_dtype != T2I_F16 && act_dtype != T2I_BF16)
        return t2i_fail(T2I_ERR_INVALID_ARG, "cuda backend: storage type must be F16 or BF16, not %s",
                        t2i_dtype_name(act_dtype));
    cuda_backend *cb = (cuda_backend *)calloc(1, sizeof *cb);
    if (!cb) return t2i_fail(T2I_ERR_NOMEM, "cuda backend: out of memory");
    cb->libs = (struct cuda_libs *)calloc(1, sizeof *cb->libs);
    cb->graphs = (struct cuda_graphs *)calloc(1, sizeof *cb->graphs);
    t2i_status st = cb->libs && cb->graphs ? T2I_OK : t2i_fail(T2I_ERR_NOMEM, "cuda backend: out of memory");
    if (st == T2I_OK) st = init_device(cb, device);
    if (st == T2I_OK) st = init_libs(cb);
    if (st != T2I_OK) {
        cuda_destroy(&cb->base);
        return st;
    }
    for (int i = 0; i < T2I_OP_COUNT; i++) cuda_table[i] = op_impl[i] ? run_node : NULL;
    cb->device = device;
    cb->graphs->enabled = env_flag("T2I_CUDA_GRAPHS", 1);
    cb->base.vt = &cuda_vtable;
    cb->base.kernels = cuda_table;
    cb->base.kind = T2I_BACKEND_CUDA;
    cb->base.act_dtype = act_dtype;
    cb->base.weight_dtype = act_dtype;
    *out = &cb->base;
    return T2I_OK;
}
