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
 *   - bias only              → CUBLASLT_EPILOGUE_BIAS;
 *   - bias + GELU (tanh)     → CUBLASLT_EPILOGUE_GELU_BIAS (cuBLASLt's GELU is
 *                              the tanh form, T2I_ACT_GELU_TANH);
 *   - residual, no act       → beta = 1 with C = residual;
 *   - anything else (SiLU, erf GELU, act + residual) → the GEMM with the
 *     bias epilogue, then cuda_epilogue (elementwise.cu) in place.
 * Descriptors are created per call (a few µs of host time, which the CUDA
 * Graph replay of a plan removes); the algorithm is cuBLASLt's first
 * heuristic choice within the backend's workspace.
 */
#include "kernels/cuda/cuda_libs.h"

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

    cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_DEFAULT;
    bool fold_res = res && act == T2I_ACT_NONE, after = false;
    if (bias && act == T2I_ACT_GELU_TANH && !res) epi = CUBLASLT_EPILOGUE_GELU_BIAS;
    else if (bias) epi = CUBLASLT_EPILOGUE_BIAS;
    if (act != T2I_ACT_NONE && epi != CUBLASLT_EPILOGUE_GELU_BIAS) after = true;
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
    CUBLAS_CHECK(cublasLtMatmulAlgoGetHeuristic(cuda_lt_of(be), op, la, lb, lc, lc, pref, 1, &heur, &found));
    if (found < 1) {
        st = t2i_fail(T2I_ERR_UNSUPPORTED, "%s: cuBLASLt has no algorithm for [%lld,%lld]x[%lld,%lld]ᵀ", a->node->name,
                      (long long)M, (long long)K, (long long)N, (long long)K);
        goto fail;
    }
    CUBLAS_CHECK(cublasLtMatmul(cuda_lt_of(be), op, &alpha, a->in_data[1], la, a->in_data[0], lb, &beta,
                                fold_res ? res : a->out_data, lc, a->out_data, lc, &heur.algo,
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
