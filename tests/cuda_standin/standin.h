/*
 * standin.h — what tests read from and set on the CUDA stand-ins
 * (tests/cuda_standin: runtime.cpp, cublaslt.cpp, cudnn.cpp). C linkage, so
 * C tests use it too.
 *
 * Memcheck: guard zones of every live allocation are checked after every
 * kernel, copy and library call; a library operand must lie inside one
 * allocation and must not hold the never-written fill (0xFFFF in a 16-bit
 * element); a violation is counted, its first message kept, and the
 * runtime's sticky error set to cudaErrorIllegalAddress.
 *
 * Faults: each simulates one broken piece of glue at the API boundary, so
 * the tests can show that the end-to-end test fails for it.
 */
#ifndef T2I_STANDIN_H
#define T2I_STANDIN_H

#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

typedef struct standin_stats {
    int64_t mallocs, frees;          /* cudaMalloc / cudaFree calls that succeeded */
    int64_t live_allocs;             /* device allocations not freed */
    size_t live_bytes, peak_bytes;
    int64_t launches;                /* kernels run (eagerly or by a replay) */
    int64_t lt_matmuls, dnn_convs;   /* library calls run */
    int64_t captures, graph_launches, recorded_nodes;
    int64_t violations;              /* memcheck findings */
    int64_t nvtx_depth;              /* pushes minus pops */
} standin_stats;

void standin_get_stats(standin_stats *out);
/* The first violation's message ("" when none). */
const char *standin_first_violation(void);
/* Forget violations and clear the sticky error (between negative tests). */
void standin_clear_violations(void);
/* Device memory size reported by cudaMemGetInfo and enforced by cudaMalloc
 * (default 8 GiB). */
void standin_set_device_memory(size_t bytes);

typedef enum standin_fault {
    STANDIN_FAULT_NONE = 0,
    STANDIN_FAULT_LD,                /* cublasLtMatrixLayoutCreate gets ld + 8 */
    STANDIN_FAULT_NO_WORKSPACE,      /* cublasLtMatmul / cudnnConvolutionForward get no workspace */
    STANDIN_FAULT_ALLOC_IN_CAPTURE,  /* a cudaMalloc is made inside every captured library call */
} standin_fault;
void standin_set_fault(standin_fault f);
standin_fault standin_get_fault(void);

/* Checks a [p, p+bytes) operand of a library call (inside one live
 * allocation; with `initialized`, no 0xFFFF 16-bit word when elem == 2).
 * Returns 0 and records a violation when it fails. */
int standin_check_operand(const void *p, size_t bytes, int elem, int initialized, const char *what);
/* After a kernel or library call: every guard zone intact, else a violation. */
void standin_check_guards(const char *after);

#ifdef __cplusplus
}
#endif
#endif
