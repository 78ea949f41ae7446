/*
 * gemm.cu — LINEAR through cuBLASLt: y = act(x·wᵀ + bias) + residual.
 *
 * x[M,K] (all leading dims folded into M), w[N,K] (PyTorch's Linear layout),
 * y[M,N], row-major FP16/BF16, FP32 accumulation (CUBLAS_COMPUTE_32F).
 * cuBLASLt is column-major: a row-major [R,C] matrix is a column-major
 * [C,R] one with the same pointer, so y[M,N] = x·wᵀ is computed as
 * yᵀ[N,M] = op(w)·x with op(w) = transpose of the column-major [K,N] view
 * of w (TRANSA = T) and x the column-major [K,M] view (TRANSB = N).
 *
 * Epilogues: cuBLASLt applies its epilogue after adding beta·C, so
 *   - bias                   → CUBLASLT_EPILOGUE_BIAS;
 *   - residual, no act       → beta = 1 with C = residual;
 *   - an activation          → the GEMM (with the bias epilogue), then
 *     cuda_epilogue (elementwise.cu) in place: act, then + residual.
 * CUBLASLT_EPILOGUE_GELU_BIAS would save that pass for GELU, but which GELU
 * it computes (erf or tanh) has to be checked against the CPU twin on a GPU
 * first (test_cuda_backend's "linear +bias gelu" cases) before it is used.
 *
 * Alignment: cuBLASLt's heuristic assumes 256-byte aligned operands unless
 * told otherwise; arena tensors are 256-aligned but weights only 64
 * (runtime/weights.c), so each operand's real alignment is passed in the
 * preference.
 * Descriptors are created per call (a few µs of host time, which the CUDA
 * Graph replay of a plan removes); the algorithm is cuBLASLt's first
 * heuristic choice within the backend's workspace.
 */
#include "kernels/cuda/cuda_libs.h"

/* Largest power of two (≤ 256) dividing the address. */
static uint32_t ptr_align(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    uint32_t al = 256;
    while (al > 1 && a % al) al /= 2;
    return al;
}

extern "C" t2i_status cuda_op_linear(t2i_backend *be, const t2i_op_args *a)
{
    const t2i_tensor *x = a->in[0], *w = a->in[1];
    const void *bias = a->in_data[2], *res = a->in_data[3];
    t2i_act act = a->node->attr.linear.act;
    int64_t K = x->ne[x->ndim - 1], M = t2i_tensor_numel(x) / K, N = w->ne[0];
    cudaDataType_t dt = cuda_lt_type(be);
    cublasLtMatmulDesc_t op = NULL;
    cublasLtMatrixLayout_t la = NULL, lb = NULL, lc = NULL;
    cublasLtMatmulPreference_t pref = NULL;
    t2i_status st = T2I_OK;
    if (M == 0) return T2I_OK;

    cublasLtEpilogue_t epi = bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
    bool fold_res = res && act == T2I_ACT_NONE, after = act != T2I_ACT_NONE;
    const void *cptr = fold_res ? res : a->out_data;
    uint32_t al_a = ptr_align(a->in_data[1]), al_b = ptr_align(a->in_data[0]), al_c = ptr_align(cptr),
             al_d = ptr_align(a->out_data);
    float alpha = 1.0f, beta = fold_res ? 1.0f : 0.0f;
    cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    const size_t ws = CUDA_LT_WORKSPACE;
    cublasLtMatmulHeuristicResult_t heur;
    int found = 0;

    CUBLAS_CHECK(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi));
    if (epi != CUBLASLT_EPILOGUE_DEFAULT)
        CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
    CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&la, dt, (uint64_t)K, (uint64_t)N, K));   /* w: col-major K×N */
    CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&lb, dt, (uint64_t)K, (uint64_t)M, K));   /* x: col-major K×M */
    CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&lc, dt, (uint64_t)N, (uint64_t)M, N));   /* y (and C): N×M */
    CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
    CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws));
    CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &al_a, 4));
    CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &al_b, 4));
    CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &al_c, 4));
    CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &al_d, 4));
    CUBLAS_CHECK(cublasLtMatmulAlgoGetHeuristic(cuda_lt_of(be), op, la, lb, lc, lc, pref, 1, &heur, &found));
    if (found < 1) {
        st = t2i_fail(T2I_ERR_UNSUPPORTED, "%s: cuBLASLt has no algorithm for [%lld,%lld]x[%lld,%lld]ᵀ", a->node->name,
                      (long long)M, (long long)K, (long long)N, (long long)K);
        goto fail;
    }
    CUBLAS_CHECK(cublasLtMatmul(cuda_lt_of(be), op, &alpha, a->in_data[1], la, a->in_data[0], lb, &beta,
                                cptr, lc, a->out_data, lc, &heur.algo,
                                ((cuda_backend *)be)->libs->lt_ws, ws, cuda_stream_of(be)));
    if (after) st = cuda_epilogue(be, a->out_data, NULL, res, M * N, 1, N, act);
fail:
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    if (lc) cublasLtMatrixLayoutDestroy(lc);
    if (lb) cublasLtMatrixLayoutDestroy(lb);
    if (la) cublasLtMatrixLayoutDestroy(la);
    if (op) cublasLtMatmulDescDestroy(op);
    return st;
}
