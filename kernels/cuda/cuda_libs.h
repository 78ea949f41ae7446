/*
 * cuda_libs.h — the library handles the CUDA backend owns (cuBLASLt, cuDNN)
 * and their checking macros; shared by cuda_backend.cu (create/destroy),
 * gemm.cu and conv.cu. nvcc builds only: this is library glue, not emulated.
 */
#ifndef T2I_CUDA_LIBS_H
#define T2I_CUDA_LIBS_H

#include <cublasLt.h>
#include <cudnn.h>
#include "kernels/cuda/cuda_kernels.h"

/* Library workspaces, allocated once with the backend (nothing is
 * allocated while a plan runs, and CUDA Graph capture needs fixed pointers). */
#define CUDA_LT_WORKSPACE ((size_t)32 << 20)
#define CUDA_DNN_WORKSPACE ((size_t)64 << 20)

struct cuda_libs {
    cublasLtHandle_t lt;
    void *lt_ws;
    cudnnHandle_t dnn;
    void *dnn_ws;
};

static inline cublasLtHandle_t cuda_lt_of(t2i_backend *be) { return ((cuda_backend *)be)->libs->lt; }
static inline cudnnHandle_t cuda_dnn_of(t2i_backend *be) { return ((cuda_backend *)be)->libs->dnn; }

/* CONV2D's workspace (conv.cu): the padded input for asymmetric padding. */
extern "C" size_t cuda_conv_workspace(const t2i_tensor *x, const t2i_attr_conv2d *c, size_t elem);

/* Storage type of activations/weights as the libraries name it. */
static inline cudaDataType_t cuda_lt_type(t2i_backend *be) { return cuda_is_bf16(be) ? CUDA_R_16BF : CUDA_R_16F; }
static inline cudnnDataType_t cuda_dnn_type(t2i_backend *be)
{
    return cuda_is_bf16(be) ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_HALF;
}

/* As CUDA_CHECK, for cuBLASLt and cuDNN calls, but setting `st` and jumping
 * to the function's `fail:` label, where descriptors are destroyed. */
#define CUBLAS_CHECK(call)                                                                                  \
    do {                                                                                                    \
        cublasStatus_t e_ = (call);                                                                         \
        if (e_ != CUBLAS_STATUS_SUCCESS) {                                                                  \
            st = t2i_fail(e_ == CUBLAS_STATUS_ALLOC_FAILED ? T2I_ERR_NOMEM : T2I_ERR_DEVICE,                \
                          "%s failed: %s (%s:%d)", #call, cublasLt_status_name(e_), __FILE__, __LINE__);    \
            goto fail;                                                                                      \
        }                                                                                                   \
    } while (0)
#define CUDNN_CHECK(call)                                                                                   \
    do {                                                                                                    \
        cudnnStatus_t e_ = (call);                                                                          \
        if (e_ != CUDNN_STATUS_SUCCESS) {                                                                   \
            st = t2i_fail(e_ == CUDNN_STATUS_ALLOC_FAILED ? T2I_ERR_NOMEM : T2I_ERR_DEVICE,                 \
                          "%s failed: %s (%s:%d)", #call, cudnnGetErrorString(e_), __FILE__, __LINE__);     \
            goto fail;                                                                                      \
        }                                                                                                   \
    } while (0)

static inline const char *cublasLt_status_name(cublasStatus_t s)
{
    switch (s) {
    case CUBLAS_STATUS_NOT_INITIALIZED: return "not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED: return "allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE: return "invalid value";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "architecture mismatch";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "execution failed";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "internal error";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "not supported";
    default: return "error";
    }
}

#endif
