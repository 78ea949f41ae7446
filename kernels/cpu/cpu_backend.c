/*
 * cpu_backend.c — the CPU backend: FP32 activations and weights in NCHW,
 * host memory, OpenBLAS for GEMMs, a persistent pthread pool for the rest.
 *
 * The vtable is trivial (memory is host memory: alloc is a 64-byte aligned
 * malloc, upload/download are memcpy, sync does nothing); the work is in the
 * kernels, one file per op family (cpu_gemm.c, cpu_conv.c, cpu_norm.c,
 * cpu_attention.c, cpu_elementwise.c, cpu_layout.c).
 *
 * Threading: `threads` pool threads (the caller included), and OpenBLAS is
 * set to the same count. GEMMs of LINEAR and CONV2D run on the calling thread
 * with OpenBLAS's own threads while the pool sleeps; the pool runs im2col,
 * epilogues, norms and elementwise ops while OpenBLAS's threads are idle.
 * ATTENTION is the exception: its pool tasks each call sgemm, so it switches
 * OpenBLAS to one thread for the duration (see cpu_attention.c). Note that
 * openblas_set_num_threads is process-wide.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cblas.h>
#include "kernels/cpu/cpu_kernels.h"
#include "base/error.h"

const t2i_kernel_fn cpu_kernels[T2I_OP_COUNT] = {
#define T2I_OP(id, name, min_in, max_in, attr, impl) [T2I_OP_##id] = T2I_OP_FN_##impl(cpu_op_##name),
#include "graph/ops.def"
};

static void cpu_destroy(t2i_backend *be)
{
    if (!be) return;
    cpu_pool_destroy(((cpu_backend *)be)->pool);
    free(be);
}

static t2i_status cpu_alloc(t2i_backend *be, size_t bytes, void **ptr)
{
    (void)be;
    size_t rounded = (bytes + 63) & ~(size_t)63;
    if (rounded < bytes) return t2i_fail(T2I_ERR_NOMEM, "cpu backend: allocation of %zu bytes overflows", bytes);
    *ptr = aligned_alloc(64, rounded ? rounded : 64);
    if (!*ptr) return t2i_fail(T2I_ERR_NOMEM, "cpu backend: out of host memory allocating %zu bytes", bytes);
    return T2I_OK;
}

static void cpu_free(t2i_backend *be, void *ptr)
{
    (void)be;
    free(ptr);
}

static t2i_status cpu_copy(t2i_backend *be, void *dst, const void *src, size_t bytes)
{
    (void)be;
    if (bytes) memcpy(dst, src, bytes);
    return T2I_OK;
}

static size_t cpu_workspace_size(t2i_backend *be, const t2i_graph *g, const t2i_node *n)
{
    switch (n->op) {
    case T2I_OP_CONV2D:
        return cpu_conv_workspace(&g->tensors[n->in[0]], &g->tensors[n->in[1]], &g->tensors[n->out],
                                  &n->attr.conv2d);
    case T2I_OP_LINEAR:
        return cpu_q8_workspace(&g->tensors[n->in[1]]);
    case T2I_OP_ATTENTION:
        return cpu_attention_workspace(cpu_threads_of(be), &g->tensors[n->in[1]]);
    default:
        return 0;
    }
}

static t2i_status cpu_sync(t2i_backend *be)
{
    (void)be;
    return T2I_OK;
}

static const t2i_backend_vtable cpu_vtable = {
    .name = "cpu",
    .destroy = cpu_destroy,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .upload = cpu_copy,
    .download = cpu_copy,
    .workspace_size = cpu_workspace_size,
    .sync = cpu_sync,
};

t2i_status t2i_cpu_backend_create(int threads, t2i_backend **out)
{
    *out = NULL;
    if (threads < 0 || threads > 1024)
        return t2i_fail(T2I_ERR_INVALID_ARG, "cpu backend: threads = %d (want 0 for one per core, or 1..1024)",
                        threads);
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)(n > 1024 ? 1024 : n) : 1;
    }
    cpu_backend *cb = calloc(1, sizeof *cb);
    if (!cb) return t2i_fail(T2I_ERR_NOMEM, "cpu backend: out of memory");
    t2i_status s = cpu_pool_create(threads, &cb->pool);
    if (s != T2I_OK) {
        free(cb);
        return s;
    }
    cb->threads = threads;
    openblas_set_num_threads(threads);
    cb->base.vt = &cpu_vtable;
    cb->base.kernels = cpu_kernels;
    cb->base.kind = T2I_BACKEND_CPU;
    cb->base.act_dtype = T2I_F32;
    cb->base.weight_dtype = T2I_F32;
    *out = &cb->base;
    return T2I_OK;
}
