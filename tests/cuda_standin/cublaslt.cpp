/*
 * cublaslt.cpp — the cuBLASLt stand-in (cublasLt.h of this folder): a naive
 * FP32/INT32-accumulating matmul behind the real API's descriptors,
 * heuristic and checks. The work is enqueued on the call's stream, so it is
 * recorded when that stream captures a CUDA Graph; operands are checked
 * (inside one allocation, never-written data) when the work runs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cublasLt.h>
#include "standin.h"

struct standin_lt_handle { int magic; };
struct standin_lt_desc {
    cublasComputeType_t compute;
    cudaDataType_t scale;
    cublasOperation_t ta, tb;
    cublasLtEpilogue_t epi;
    const void *bias;
    int64_t bias_stride;
    int bias_type;   /* -1: D's type */
};
struct standin_lt_layout {
    cudaDataType_t type;
    uint64_t rows, cols;
    int64_t ld;
    cublasLtOrder_t order;
    int batch;
    int64_t stride;
};
struct standin_lt_pref {
    size_t max_ws;
    uint32_t align[4];
};

enum { ALGO_VEC16 = 1, ALGO_SCALAR = 2 };

static size_t type_size(cudaDataType_t t)
{
    switch (t) {
    case CUDA_R_32F: case CUDA_R_32I: return 4;
    case CUDA_R_16F: case CUDA_R_16BF: return 2;
    case CUDA_R_8I: return 1;
    }
    return 0;
}

static double load(const void *p, cudaDataType_t t, int64_t i)
{
    switch (t) {
    case CUDA_R_32F: return ((const float *)p)[i];
    case CUDA_R_16F: return __half2float(((const __half *)p)[i]);
    case CUDA_R_16BF: return __bfloat162float(((const __nv_bfloat16 *)p)[i]);
    case CUDA_R_8I: return ((const int8_t *)p)[i];
    case CUDA_R_32I: return ((const int32_t *)p)[i];
    }
    return 0;
}
static void store(void *p, cudaDataType_t t, int64_t i, double v)
{
    switch (t) {
    case CUDA_R_32F: ((float *)p)[i] = (float)v; break;
    case CUDA_R_16F: ((__half *)p)[i] = __float2half_rn((float)v); break;
    case CUDA_R_16BF: ((__nv_bfloat16 *)p)[i] = __float2bfloat16_rn((float)v); break;
    case CUDA_R_8I: ((int8_t *)p)[i] = (int8_t)fmax(-128, fmin(127, nearbyint(v))); break;
    case CUDA_R_32I: ((int32_t *)p)[i] = (int32_t)v; break;
    }
}

/* Element (r, c) of batch b of a matrix as its layout stores it. */
static int64_t index_of(const standin_lt_layout *l, int64_t b, int64_t r, int64_t c)
{
    return b * l->stride + (l->order == CUBLASLT_ORDER_COL ? r + c * l->ld : r * l->ld + c);
}
/* Bytes a layout spans: from element 0 to its last element, plus one. */
static size_t span_bytes(const standin_lt_layout *l)
{
    int64_t last = index_of(l, l->batch - 1, (int64_t)l->rows - 1, (int64_t)l->cols - 1);
    return (size_t)(last + 1) * type_size(l->type);
}

extern "C" cublasStatus_t cublasLtCreate(cublasLtHandle_t *h)
{
    *h = new standin_lt_handle{0x17};
    return CUBLAS_STATUS_SUCCESS;
}
extern "C" cublasStatus_t cublasLtDestroy(cublasLtHandle_t h)
{
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    delete h;
    return CUBLAS_STATUS_SUCCESS;
}
extern "C" cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t *d, cublasComputeType_t compute,
                                                   cudaDataType_t scale)
{
    *d = new standin_lt_desc{compute, scale, CUBLAS_OP_N, CUBLAS_OP_N, CUBLASLT_EPILOGUE_DEFAULT, NULL, 0, -1};
    return CUBLAS_STATUS_SUCCESS;
}
extern "C" cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t d)
{
    delete d;
    return CUBLAS_STATUS_SUCCESS;
}

template <class T> static cublasStatus_t get_attr(T *dst, const void *buf, size_t size)
{
    if (!buf || size != sizeof(T)) return CUBLAS_STATUS_INVALID_VALUE;
    memcpy(dst, buf, sizeof(T));
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t attr,
                                                         const void *buf, size_t size)
{
    if (!d) return CUBLAS_STATUS_NOT_INITIALIZED;
    switch (attr) {
    case CUBLASLT_MATMUL_DESC_COMPUTE_TYPE: return get_attr(&d->compute, buf, size);
    case CUBLASLT_MATMUL_DESC_SCALE_TYPE: return get_attr(&d->scale, buf, size);
    case CUBLASLT_MATMUL_DESC_TRANSA: return get_attr(&d->ta, buf, size);
    case CUBLASLT_MATMUL_DESC_TRANSB: return get_attr(&d->tb, buf, size);
    case CUBLASLT_MATMUL_DESC_EPILOGUE: return get_attr(&d->epi, buf, size);
    case CUBLASLT_MATMUL_DESC_BIAS_POINTER: return get_attr(&d->bias, buf, size);
    case CUBLASLT_MATMUL_DESC_BIAS_BATCH_STRIDE: return get_attr(&d->bias_stride, buf, size);
    case CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE: return get_attr(&d->bias_type, buf, size);
    default: return CUBLAS_STATUS_INVALID_VALUE;
    }
}

extern "C" cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t *l, cudaDataType_t type, uint64_t rows,
                                                     uint64_t cols, int64_t ld)
{
    if (standin_get_fault() == STANDIN_FAULT_LD) ld += 8;
    *l = new standin_lt_layout{type, rows, cols, ld, CUBLASLT_ORDER_COL, 1, 0};
    return CUBLAS_STATUS_SUCCESS;
}
extern "C" cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t l)
{
    delete l;
    return CUBLAS_STATUS_SUCCESS;
}
extern "C" cublasStatus_t cublasLtMatrixLayoutSetAttribute(cublasLtMatrixLayout_t l,
                                                           cublasLtMatrixLayoutAttribute_t attr, const void *buf,
                                                           size_t size)
{
    if (!l) return CUBLAS_STATUS_NOT_INITIALIZED;
    switch (attr) {
    case CUBLASLT_MATRIX_LAYOUT_TYPE: return get_attr(&l->type, buf, size);
    case CUBLASLT_MATRIX_LAYOUT_ORDER: return get_attr(&l->order, buf, size);
    case CUBLASLT_MATRIX_LAYOUT_ROWS: return get_attr(&l->rows, buf, size);
    case CUBLASLT_MATRIX_LAYOUT_COLS: return get_attr(&l->cols, buf, size);
    case CUBLASLT_MATRIX_LAYOUT_LD: return get_attr(&l->ld, buf, size);
    case CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT: return get_attr(&l->batch, buf, size);
    case CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET: return get_attr(&l->stride, buf, size);
    default: return CUBLAS_STATUS_INVALID_VALUE;
    }
}
extern "C" cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t *p)
{
    *p = new standin_lt_pref{0, {256, 256, 256, 256}};
    return CUBLAS_STATUS_SUCCESS;
}
extern "C" cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t p)
{
    delete p;
    return CUBLAS_STATUS_SUCCESS;
}
extern "C" cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t p,
                                                               cublasLtMatmulPreferenceAttributes_t attr,
                                                               const void *buf, size_t size)
{
    if (!p) return CUBLAS_STATUS_NOT_INITIALIZED;
    switch (attr) {
    case CUBLASLT_MATMUL_PREF_SEARCH_MODE: return CUBLAS_STATUS_SUCCESS;
    case CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES: return get_attr(&p->max_ws, buf, size);
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES: return get_attr(&p->align[0], buf, size);
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES: return get_attr(&p->align[1], buf, size);
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES: return get_attr(&p->align[2], buf, size);
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES: return get_attr(&p->align[3], buf, size);
    default: return CUBLAS_STATUS_INVALID_VALUE;
    }
}

/* The problem a descriptor set describes: m, n, k, or an error status. */
struct problem { int64_t m, n, k; int batch; };
static cublasStatus_t check_problem(const standin_lt_desc *op, const standin_lt_layout *a, const standin_lt_layout *b,
                                    const standin_lt_layout *c, const standin_lt_layout *d, problem *pr)
{
    if (!op || !a || !b || !c || !d) return CUBLAS_STATUS_INVALID_VALUE;
    const standin_lt_layout *all[4] = {a, b, c, d};
    for (const standin_lt_layout *l : all) {
        if (!type_size(l->type) || l->batch < 1) return CUBLAS_STATUS_INVALID_VALUE;
        int64_t need = l->order == CUBLASLT_ORDER_COL ? (int64_t)l->rows : (int64_t)l->cols;
        if (l->ld < (need > 1 ? need : 1)) return CUBLAS_STATUS_INVALID_VALUE;
    }
    if (op->ta == CUBLAS_OP_C || op->tb == CUBLAS_OP_C) return CUBLAS_STATUS_NOT_SUPPORTED;   /* real types only */
    pr->m = (int64_t)(op->ta == CUBLAS_OP_N ? a->rows : a->cols);
    pr->k = (int64_t)(op->ta == CUBLAS_OP_N ? a->cols : a->rows);
    int64_t kb = (int64_t)(op->tb == CUBLAS_OP_N ? b->rows : b->cols);
    pr->n = (int64_t)(op->tb == CUBLAS_OP_N ? b->cols : b->rows);
    if (kb != pr->k || (int64_t)c->rows != pr->m || (int64_t)c->cols != pr->n || (int64_t)d->rows != pr->m ||
        (int64_t)d->cols != pr->n)
        return CUBLAS_STATUS_INVALID_VALUE;
    pr->batch = d->batch;
    for (const standin_lt_layout *l : all)
        if (l->batch != 1 && l->batch != pr->batch) return CUBLAS_STATUS_INVALID_VALUE;
    /* type combinations of the reference's cublasLtMatmul table that we model */
    bool f16 = a->type == CUDA_R_16F || a->type == CUDA_R_16BF;
    if (a->type != b->type) return CUBLAS_STATUS_NOT_SUPPORTED;
    if (f16 && (op->compute != CUBLAS_COMPUTE_32F || op->scale != CUDA_R_32F || (c->type != a->type && c->type != CUDA_R_32F)))
        return CUBLAS_STATUS_NOT_SUPPORTED;
    if (a->type == CUDA_R_32F && (op->compute != CUBLAS_COMPUTE_32F || c->type != CUDA_R_32F))
        return CUBLAS_STATUS_NOT_SUPPORTED;
    if (a->type == CUDA_R_8I &&
        (op->compute != CUBLAS_COMPUTE_32I || (op->scale != CUDA_R_32I && op->scale != CUDA_R_32F) ||
         (c->type != CUDA_R_32I && c->type != CUDA_R_8I) || op->epi != CUBLASLT_EPILOGUE_DEFAULT))
        return CUBLAS_STATUS_NOT_SUPPORTED;
    if (c->type != d->type) return CUBLAS_STATUS_NOT_SUPPORTED;
    switch (op->epi) {
    case CUBLASLT_EPILOGUE_DEFAULT: case CUBLASLT_EPILOGUE_RELU: case CUBLASLT_EPILOGUE_GELU: break;
    case CUBLASLT_EPILOGUE_BIAS: case CUBLASLT_EPILOGUE_RELU_BIAS: case CUBLASLT_EPILOGUE_GELU_BIAS:
        if (!op->bias) return CUBLAS_STATUS_INVALID_VALUE;
        break;
    default: return CUBLAS_STATUS_NOT_SUPPORTED;
    }
    return CUBLAS_STATUS_SUCCESS;
}

static bool ld_vec16(const standin_lt_layout *l) { return ((size_t)l->ld * type_size(l->type)) % 16 == 0; }

extern "C" cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t h, cublasLtMatmulDesc_t op,
                                                         cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,
                                                         cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t d,
                                                         cublasLtMatmulPreference_t pref, int requested,
                                                         cublasLtMatmulHeuristicResult_t results[], int *returned)
{
    problem pr;
    *returned = 0;
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (!pref || requested < 1) return CUBLAS_STATUS_INVALID_VALUE;
    cublasStatus_t s = check_problem(op, a, b, c, d, &pr);
    if (s != CUBLAS_STATUS_SUCCESS) return s;
    bool vec = ld_vec16(a) && ld_vec16(b) && ld_vec16(c) && ld_vec16(d);
    for (int i = 0; i < 4; i++) vec = vec && pref->align[i] >= 16;
    size_t split_ws = (size_t)pr.m * (size_t)pr.n * 4 * (size_t)pr.batch;
    int n = 0;
    if (vec && n < requested) {
        cublasLtMatmulHeuristicResult_t r;
        memset(&r, 0, sizeof r);
        r.algo.data[0] = ALGO_VEC16;
        r.algo.data[1] = pr.k >= 128 && split_ws <= pref->max_ws ? split_ws : 0;   /* split-K partials */
        r.workspaceSize = (size_t)r.algo.data[1];
        r.wavesCount = 1.0f;
        results[n++] = r;
    }
    if (n < requested) {
        cublasLtMatmulHeuristicResult_t r;
        memset(&r, 0, sizeof r);
        r.algo.data[0] = ALGO_SCALAR;
        r.wavesCount = 1.0f;
        results[n++] = r;
    }
    *returned = n;
    return CUBLAS_STATUS_SUCCESS;
}

static float gelu_tanh(float x) { return 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x))); }

extern "C" cublasStatus_t cublasLtMatmul(cublasLtHandle_t h, cublasLtMatmulDesc_t op, const void *alpha, const void *A,
                                         cublasLtMatrixLayout_t ad, const void *B, cublasLtMatrixLayout_t bd,
                                         const void *beta, const void *C, cublasLtMatrixLayout_t cd, void *D,
                                         cublasLtMatrixLayout_t dd, const cublasLtMatmulAlgo_t *algo, void *ws,
                                         size_t ws_bytes, cudaStream_t stream)
{
    problem pr;
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (!alpha || !beta || !A || !B || !D) return CUBLAS_STATUS_INVALID_VALUE;
    cublasStatus_t s = check_problem(op, ad, bd, cd, dd, &pr);
    if (s != CUBLAS_STATUS_SUCCESS) return s;
    if (standin_get_fault() == STANDIN_FAULT_NO_WORKSPACE) ws = NULL, ws_bytes = 0;
    if (!ws && ws_bytes) return CUBLAS_STATUS_INVALID_VALUE;
    if (C == D && (cd->ld != dd->ld || cd->order != dd->order || cd->type != dd->type))
        return CUBLAS_STATUS_INVALID_VALUE;   /* in place needs matching layouts */
    /* The algorithm: the caller's, or the heuristic's first choice for the workspace given. */
    uint64_t kind = ALGO_SCALAR, need_ws = 0;
    if (algo) {
        kind = algo->data[0], need_ws = algo->data[1];
        if (kind != ALGO_VEC16 && kind != ALGO_SCALAR) return CUBLAS_STATUS_INVALID_VALUE;
    }
    if (ws_bytes < need_ws) return CUBLAS_STATUS_INVALID_VALUE;   /* workspace smaller than the algorithm's */
    size_t es = type_size(ad->type);
    const void *ptrs[4] = {A, B, C ? C : D, D};
    for (int i = 0; i < 4; i++) {
        uintptr_t p = (uintptr_t)ptrs[i];
        size_t el = i < 2 ? es : type_size(dd->type);
        if (p % el) return CUBLAS_STATUS_INVALID_VALUE;
        if (kind == ALGO_VEC16 && p % 16) return CUBLAS_STATUS_NOT_SUPPORTED;   /* the algorithm assumed 16 */
    }
    if (kind == ALGO_VEC16 && !(ld_vec16(ad) && ld_vec16(bd) && ld_vec16(cd) && ld_vec16(dd)))
        return CUBLAS_STATUS_NOT_SUPPORTED;
    bool int_scale = op->scale == CUDA_R_32I;
    double al = int_scale ? *(const int32_t *)alpha : *(const float *)alpha;
    double be = int_scale ? *(const int32_t *)beta : *(const float *)beta;
    standin_lt_desc o = *op;
    standin_lt_layout la = *ad, lb = *bd, lc = *cd, ldd = *dd;
    cudaDataType_t bias_t = o.bias_type >= 0 ? (cudaDataType_t)o.bias_type : dd->type;
    bool has_bias = o.epi == CUBLASLT_EPILOGUE_BIAS || o.epi == CUBLASLT_EPILOGUE_RELU_BIAS ||
                    o.epi == CUBLASLT_EPILOGUE_GELU_BIAS;
    cudaError_t e = standin_enqueue(stream, "cublasLtMatmul", [=]() {
        bool ok = standin_check_operand(A, span_bytes(&la), (int)es, 1, "cublasLtMatmul A") &&
                  standin_check_operand(B, span_bytes(&lb), (int)es, 1, "cublasLtMatmul B") &&
                  (be == 0 || standin_check_operand(C, span_bytes(&lc), (int)type_size(lc.type), 1, "cublasLtMatmul C")) &&
                  standin_check_operand(D, span_bytes(&ldd), 1, 0, "cublasLtMatmul D") &&
                  (!has_bias || standin_check_operand(o.bias, (size_t)pr.m * type_size(bias_t),
                                                      (int)type_size(bias_t), 1, "cublasLtMatmul bias")) &&
                  (!need_ws || standin_check_operand(ws, need_ws, 1, 0, "cublasLtMatmul workspace"));
        if (!ok) return;
        for (int bt = 0; bt < pr.batch; bt++) {
            int64_t ba = la.batch > 1 ? bt : 0, bb = lb.batch > 1 ? bt : 0, bc = lc.batch > 1 ? bt : 0;
            for (int64_t j = 0; j < pr.n; j++)
                for (int64_t i = 0; i < pr.m; i++) {
                    double acc = 0;   /* FP32 (or INT32) accumulation: exact products, summed in order */
                    float accf = 0;
                    int64_t acci = 0;
                    for (int64_t p = 0; p < pr.k; p++) {
                        double x = load(A, la.type, o.ta == CUBLAS_OP_N ? index_of(&la, ba, i, p) : index_of(&la, ba, p, i));
                        double y = load(B, lb.type, o.tb == CUBLAS_OP_N ? index_of(&lb, bb, p, j) : index_of(&lb, bb, j, p));
                        if (la.type == CUDA_R_8I) acci += (int64_t)x * (int64_t)y;
                        else accf += (float)(x * y);
                    }
                    acc = la.type == CUDA_R_8I ? (double)(int32_t)acci : accf;
                    double v = al * acc;
                    if (be != 0) v += be * load(C, lc.type, index_of(&lc, bc, i, j));
                    if (has_bias) v += load(o.bias, bias_t, (int64_t)bt * o.bias_stride + i);
                    if (o.epi == CUBLASLT_EPILOGUE_RELU || o.epi == CUBLASLT_EPILOGUE_RELU_BIAS) v = v > 0 ? v : 0;
                    if (o.epi == CUBLASLT_EPILOGUE_GELU || o.epi == CUBLASLT_EPILOGUE_GELU_BIAS) v = gelu_tanh((float)v);
                    if (la.type != CUDA_R_8I) v = (float)v;
                    store(D, ldd.type, index_of(&ldd, bt, i, j), v);
                }
        }
    });
    return e == cudaSuccess ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_EXECUTION_FAILED;
}
