/*
 * cudnn.cpp — the cuDNN stand-in (cudnn.h of this folder): descriptors,
 * the forward algorithm ranking and a direct FP32-accumulating convolution
 * enqueued on the handle's stream (recorded while it captures).
 */
#include <string.h>
#include <cudnn.h>
#include "standin.h"

struct standin_dnn_handle { cudaStream_t stream; };
struct standin_dnn_tensor { cudnnDataType_t type; int n, c, h, w; int ns, cs, hs, ws; bool set; };
struct standin_dnn_filter { cudnnDataType_t type; cudnnTensorFormat_t format; int k, c, h, w; bool set; };
struct standin_dnn_conv {
    int ph, pw, u, v, dh, dw;
    cudnnConvolutionMode_t mode;
    cudnnDataType_t compute;
    int groups;
    cudnnMathType_t math;
    bool set;
};

static size_t dsize(cudnnDataType_t t)
{
    switch (t) {
    case CUDNN_DATA_FLOAT: case CUDNN_DATA_INT32: return 4;
    case CUDNN_DATA_HALF: case CUDNN_DATA_BFLOAT16: return 2;
    case CUDNN_DATA_INT8: return 1;
    default: return 0;
    }
}
static float dload(const void *p, cudnnDataType_t t, int64_t i)
{
    switch (t) {
    case CUDNN_DATA_HALF: return __half2float(((const __half *)p)[i]);
    case CUDNN_DATA_BFLOAT16: return __bfloat162float(((const __nv_bfloat16 *)p)[i]);
    default: return ((const float *)p)[i];
    }
}
static void dstore(void *p, cudnnDataType_t t, int64_t i, float v)
{
    switch (t) {
    case CUDNN_DATA_HALF: ((__half *)p)[i] = __float2half_rn(v); break;
    case CUDNN_DATA_BFLOAT16: ((__nv_bfloat16 *)p)[i] = __float2bfloat16_rn(v); break;
    default: ((float *)p)[i] = v; break;
    }
}

extern "C" const char *cudnnGetErrorString(cudnnStatus_t s)
{
    switch (s) {
    case CUDNN_STATUS_SUCCESS: return "CUDNN_STATUS_SUCCESS";
    case CUDNN_STATUS_NOT_INITIALIZED: return "CUDNN_STATUS_NOT_INITIALIZED";
    case CUDNN_STATUS_ALLOC_FAILED: return "CUDNN_STATUS_ALLOC_FAILED";
    case CUDNN_STATUS_BAD_PARAM: return "CUDNN_STATUS_BAD_PARAM";
    case CUDNN_STATUS_INTERNAL_ERROR: return "CUDNN_STATUS_INTERNAL_ERROR";
    case CUDNN_STATUS_INVALID_VALUE: return "CUDNN_STATUS_INVALID_VALUE";
    case CUDNN_STATUS_EXECUTION_FAILED: return "CUDNN_STATUS_EXECUTION_FAILED";
    case CUDNN_STATUS_NOT_SUPPORTED: return "CUDNN_STATUS_NOT_SUPPORTED";
    }
    return "CUDNN_STATUS_UNKNOWN";
}
extern "C" size_t cudnnGetVersion(void) { return 90000; }
extern "C" cudnnStatus_t cudnnCreate(cudnnHandle_t *h)
{
    *h = new standin_dnn_handle{NULL};
    return CUDNN_STATUS_SUCCESS;
}
extern "C" cudnnStatus_t cudnnDestroy(cudnnHandle_t h)
{
    if (!h) return CUDNN_STATUS_BAD_PARAM;
    delete h;
    return CUDNN_STATUS_SUCCESS;
}
extern "C" cudnnStatus_t cudnnSetStream(cudnnHandle_t h, cudaStream_t s)
{
    if (!h) return CUDNN_STATUS_BAD_PARAM;
    h->stream = s;
    return CUDNN_STATUS_SUCCESS;
}
extern "C" cudnnStatus_t cudnnGetStream(cudnnHandle_t h, cudaStream_t *s)
{
    if (!h) return CUDNN_STATUS_BAD_PARAM;
    *s = h->stream;
    return CUDNN_STATUS_SUCCESS;
}

extern "C" cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t *d)
{
    *d = new standin_dnn_tensor();
    return CUDNN_STATUS_SUCCESS;
}
extern "C" cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t d)
{
    delete d;
    return CUDNN_STATUS_SUCCESS;
}
extern "C" cudnnStatus_t cudnnSetTensor4dDescriptorEx(cudnnTensorDescriptor_t d, cudnnDataType_t type, int n, int c,
                                                      int h, int w, int ns, int cs, int hs, int ws)
{
    if (!d || n <= 0 || c <= 0 || h <= 0 || w <= 0 || ns <= 0 || cs <= 0 || hs <= 0 || ws <= 0 || !dsize(type))
        return CUDNN_STATUS_BAD_PARAM;
    *d = standin_dnn_tensor{type, n, c, h, w, ns, cs, hs, ws, true};
    return CUDNN_STATUS_SUCCESS;
}
extern "C" cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t d, cudnnTensorFormat_t format,
                                                    cudnnDataType_t type, int n, int c, int h, int w)
{
    if (format == CUDNN_TENSOR_NCHW) return cudnnSetTensor4dDescriptorEx(d, type, n, c, h, w, c * h * w, h * w, w, 1);
    if (format == CUDNN_TENSOR_NHWC) return cudnnSetTensor4dDescriptorEx(d, type, n, c, h, w, h * w * c, 1, w * c, c);
    return CUDNN_STATUS_BAD_PARAM;
}
extern "C" cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t *d)
{
    *d = new standin_dnn_filter();
    return CUDNN_STATUS_SUCCESS;
}
extern "C" cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t d)
{
    delete d;
    return CUDNN_STATUS_SUCCESS;
}
extern "C" cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t d, cudnnDataType_t type,
                                                    cudnnTensorFormat_t format, int k, int c, int h, int w)
{
    if (!d || k <= 0 || c <= 0 || h <= 0 || w <= 0 || !dsize(type) ||
        (format != CUDNN_TENSOR_NCHW && format != CUDNN_TENSOR_NHWC))
        return CUDNN_STATUS_BAD_PARAM;
    *d = standin_dnn_filter{type, format, k, c, h, w, true};
    return CUDNN_STATUS_SUCCESS;
}
extern "C" cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t *d)
{
    *d = new standin_dnn_conv{0, 0, 1, 1, 1, 1, CUDNN_CONVOLUTION, CUDNN_DATA_FLOAT, 1, CUDNN_DEFAULT_MATH, false};
    return CUDNN_STATUS_SUCCESS;
}
extern "C" cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t d)
{
    delete d;
    return CUDNN_STATUS_SUCCESS;
}
extern "C" cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t d, int pad_h, int pad_w, int u,
                                                         int v, int dil_h, int dil_w, cudnnConvolutionMode_t mode,
                                                         cudnnDataType_t compute)
{
    if (!d || pad_h < 0 || pad_w < 0 || u <= 0 || v <= 0 || dil_h <= 0 || dil_w <= 0 ||
        (mode != CUDNN_CONVOLUTION && mode != CUDNN_CROSS_CORRELATION))
        return CUDNN_STATUS_BAD_PARAM;
    d->ph = pad_h, d->pw = pad_w, d->u = u, d->v = v, d->dh = dil_h, d->dw = dil_w;
    d->mode = mode, d->compute = compute, d->set = true;
    return CUDNN_STATUS_SUCCESS;
}
extern "C" cudnnStatus_t cudnnSetConvolutionGroupCount(cudnnConvolutionDescriptor_t d, int groups)
{
    if (!d || groups < 1) return CUDNN_STATUS_BAD_PARAM;
    d->groups = groups;
    return CUDNN_STATUS_SUCCESS;
}
extern "C" cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t d, cudnnMathType_t math)
{
    if (!d || math < CUDNN_DEFAULT_MATH || math > CUDNN_FMA_MATH) return CUDNN_STATUS_BAD_PARAM;
    d->math = math;
    return CUDNN_STATUS_SUCCESS;
}
extern "C" cudnnStatus_t cudnnGetConvolution2dForwardOutputDim(cudnnConvolutionDescriptor_t cd,
                                                               cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w,
                                                               int *n, int *c, int *h, int *wo)
{
    if (!cd || !cd->set || !x || !x->set || !w || !w->set || x->c != w->c * cd->groups) return CUDNN_STATUS_BAD_PARAM;
    int eh = (w->h - 1) * cd->dh + 1, ew = (w->w - 1) * cd->dw + 1;
    *n = x->n, *c = w->k;
    *h = (x->h + 2 * cd->ph - eh) / cd->u + 1;
    *wo = (x->w + 2 * cd->pw - ew) / cd->v + 1;
    if (*h <= 0 || *wo <= 0) return CUDNN_STATUS_BAD_PARAM;
    return CUDNN_STATUS_SUCCESS;
}

/* Descriptors consistent with each other (the reference's BAD_PARAM cases). */
static cudnnStatus_t check_conv(cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w, cudnnConvolutionDescriptor_t cd,
                                cudnnTensorDescriptor_t y)
{
    int n, c, h, wo;
    if (!y || !y->set) return CUDNN_STATUS_BAD_PARAM;
    cudnnStatus_t s = cudnnGetConvolution2dForwardOutputDim(cd, x, w, &n, &c, &h, &wo);
    if (s != CUDNN_STATUS_SUCCESS) return s;
    if (y->n != n || y->c != c || y->h != h || y->w != wo || w->k % cd->groups) return CUDNN_STATUS_BAD_PARAM;
    if (x->type != w->type || x->type != y->type) return CUDNN_STATUS_BAD_PARAM;
    bool half = x->type == CUDNN_DATA_HALF || x->type == CUDNN_DATA_BFLOAT16;
    if (half && cd->compute != CUDNN_DATA_FLOAT && !(x->type == CUDNN_DATA_HALF && cd->compute == CUDNN_DATA_HALF))
        return CUDNN_STATUS_NOT_SUPPORTED;
    if (x->type == CUDNN_DATA_FLOAT && cd->compute != CUDNN_DATA_FLOAT) return CUDNN_STATUS_BAD_PARAM;
    return CUDNN_STATUS_SUCCESS;
}

/* An algorithm's workspace and whether it supports the shape. */
static cudnnStatus_t algo_need(cudnnConvolutionFwdAlgo_t a, cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w,
                               cudnnConvolutionDescriptor_t cd, cudnnTensorDescriptor_t y, size_t *bytes)
{
    size_t es = dsize(x->type), cols = (size_t)y->h * y->w;
    bool unit = cd->u == 1 && cd->v == 1 && cd->dh == 1 && cd->dw == 1, k3 = w->h == 3 && w->w == 3;
    *bytes = 0;
    switch (a) {
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM: return CUDNN_STATUS_SUCCESS;
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM:   /* an index table per output position and tap */
        *bytes = cols * (size_t)w->h * w->w * sizeof(int);
        return CUDNN_STATUS_SUCCESS;
    case CUDNN_CONVOLUTION_FWD_ALGO_GEMM:                    /* im2col of one image */
        *bytes = cols * (size_t)w->c * w->h * w->w * es;
        return CUDNN_STATUS_SUCCESS;
    case CUDNN_CONVOLUTION_FWD_ALGO_DIRECT: return CUDNN_STATUS_NOT_SUPPORTED;
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT:
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING:
        if (!unit || cd->groups != 1) return CUDNN_STATUS_NOT_SUPPORTED;
        *bytes = (size_t)(x->h + 2 * cd->ph) * (x->w + 2 * cd->pw) * ((size_t)x->c + w->k) * x->n * 8;
        return CUDNN_STATUS_SUCCESS;
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD: return unit && k3 ? CUDNN_STATUS_SUCCESS : CUDNN_STATUS_NOT_SUPPORTED;
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED:
        if (!unit || !k3) return CUDNN_STATUS_NOT_SUPPORTED;
        *bytes = (size_t)36 * ((cols + 15) / 16) * ((size_t)x->c + w->k) * x->n * 4;
        return CUDNN_STATUS_SUCCESS;
    default: return CUDNN_STATUS_BAD_PARAM;
    }
}

extern "C" cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(cudnnHandle_t h, cudnnTensorDescriptor_t x,
                                                                cudnnFilterDescriptor_t w,
                                                                cudnnConvolutionDescriptor_t cd,
                                                                cudnnTensorDescriptor_t y, int requested,
                                                                int *returned, cudnnConvolutionFwdAlgoPerf_t *perf)
{
    /* The ranking the real heuristic tends to give FP16 tensor-op convolutions:
     * transforms first where they apply, then the GEMM forms. */
    static const cudnnConvolutionFwdAlgo_t rank[] = {
        CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM,
        CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING,         CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM,
        CUDNN_CONVOLUTION_FWD_ALGO_GEMM,               CUDNN_CONVOLUTION_FWD_ALGO_FFT,
        CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD,           CUDNN_CONVOLUTION_FWD_ALGO_DIRECT,
    };
    *returned = 0;
    if (!h) return CUDNN_STATUS_NOT_INITIALIZED;
    if (requested < 1 || !perf) return CUDNN_STATUS_BAD_PARAM;
    cudnnStatus_t s = check_conv(x, w, cd, y);
    if (s != CUDNN_STATUS_SUCCESS) return s;
    int n = 0;
    for (int i = 0; i < CUDNN_CONVOLUTION_FWD_ALGO_COUNT && n < requested; i++, n++) {
        memset(&perf[n], 0, sizeof perf[n]);
        perf[n].algo = rank[i];
        perf[n].status = algo_need(rank[i], x, w, cd, y, &perf[n].memory);
        perf[n].time = -1;
        perf[n].determinism = CUDNN_DETERMINISTIC;
        perf[n].mathType = cd->math;
    }
    *returned = n;
    return CUDNN_STATUS_SUCCESS;
}

extern "C" cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(cudnnHandle_t h, cudnnTensorDescriptor_t x,
                                                                 cudnnFilterDescriptor_t w,
                                                                 cudnnConvolutionDescriptor_t cd,
                                                                 cudnnTensorDescriptor_t y,
                                                                 cudnnConvolutionFwdAlgo_t algo, size_t *bytes)
{
    if (!h) return CUDNN_STATUS_NOT_INITIALIZED;
    cudnnStatus_t s = check_conv(x, w, cd, y);
    return s != CUDNN_STATUS_SUCCESS ? s : algo_need(algo, x, w, cd, y, bytes);
}

static size_t tensor_span(const standin_dnn_tensor *t)
{
    return ((size_t)(t->n - 1) * t->ns + (size_t)(t->c - 1) * t->cs + (size_t)(t->h - 1) * t->hs +
            (size_t)(t->w - 1) * t->ws + 1) * dsize(t->type);
}

extern "C" cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t h, const void *alpha, cudnnTensorDescriptor_t xd,
                                                 const void *x, cudnnFilterDescriptor_t wd, const void *w,
                                                 cudnnConvolutionDescriptor_t cd, cudnnConvolutionFwdAlgo_t algo,
                                                 void *ws, size_t ws_bytes, const void *beta,
                                                 cudnnTensorDescriptor_t yd, void *y)
{
    if (!h) return CUDNN_STATUS_NOT_INITIALIZED;
    if (!alpha || !beta || !x || !w || !y) return CUDNN_STATUS_BAD_PARAM;
    cudnnStatus_t s = check_conv(xd, wd, cd, yd);
    if (s != CUDNN_STATUS_SUCCESS) return s;
    size_t need = 0;
    s = algo_need(algo, xd, wd, cd, yd, &need);
    if (s != CUDNN_STATUS_SUCCESS) return s;
    if (standin_get_fault() == STANDIN_FAULT_NO_WORKSPACE) ws = NULL, ws_bytes = 0;
    if ((!ws && ws_bytes) || ws_bytes < need) return CUDNN_STATUS_BAD_PARAM;
    /* alpha/beta are float for FP16/BF16/FP32 data (the reference's scaling-parameter rule) */
    float al = *(const float *)alpha, be = *(const float *)beta;
    standin_dnn_tensor X = *xd, Y = *yd;
    standin_dnn_filter W = *wd;
    standin_dnn_conv C = *cd;
    cudaError_t e = standin_enqueue(h->stream, "cudnnConvolutionForward", [=]() {
        size_t es = dsize(X.type), wbytes = (size_t)W.k * W.c * W.h * W.w * es;
        bool ok = standin_check_operand(x, tensor_span(&X), (int)es, 1, "cudnnConvolutionForward x") &&
                  standin_check_operand(w, wbytes, (int)es, 1, "cudnnConvolutionForward w") &&
                  standin_check_operand(y, tensor_span(&Y), (int)es, be != 0, "cudnnConvolutionForward y") &&
                  (!need || standin_check_operand(ws, need, 1, 0, "cudnnConvolutionForward workspace"));
        if (!ok) return;
        int cpg = W.c, kpg = W.k / C.groups;
        for (int n = 0; n < Y.n; n++)
            for (int k = 0; k < Y.c; k++) {
                int g = k / kpg;
                for (int oh = 0; oh < Y.h; oh++)
                    for (int ow = 0; ow < Y.w; ow++) {
                        float acc = 0;
                        for (int c = 0; c < cpg; c++)
                            for (int r = 0; r < W.h; r++)
                                for (int q = 0; q < W.w; q++) {
                                    int ih = oh * C.u - C.ph + r * C.dh, iw = ow * C.v - C.pw + q * C.dw;
                                    if (ih < 0 || ih >= X.h || iw < 0 || iw >= X.w) continue;
                                    int fr = C.mode == CUDNN_CONVOLUTION ? W.h - 1 - r : r;
                                    int fq = C.mode == CUDNN_CONVOLUTION ? W.w - 1 - q : q;
                                    int64_t wi = W.format == CUDNN_TENSOR_NCHW
                                                     ? (((int64_t)k * W.c + c) * W.h + fr) * W.w + fq
                                                     : (((int64_t)k * W.h + fr) * W.w + fq) * W.c + c;
                                    int64_t xi = (int64_t)n * X.ns + (int64_t)(g * cpg + c) * X.cs +
                                                 (int64_t)ih * X.hs + (int64_t)iw * X.ws;
                                    acc += dload(x, X.type, xi) * dload(w, W.type, wi);
                                }
                        int64_t yi = (int64_t)n * Y.ns + (int64_t)k * Y.cs + (int64_t)oh * Y.hs + (int64_t)ow * Y.ws;
                        float v = al * acc;
                        if (be != 0) v += be * dload(y, Y.type, yi);
                        dstore(y, Y.type, yi, v);
                    }
            }
    });
    return e == cudaSuccess ? CUDNN_STATUS_SUCCESS : CUDNN_STATUS_EXECUTION_FAILED;
}
