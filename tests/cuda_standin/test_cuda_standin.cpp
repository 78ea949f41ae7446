/*
 * test_cuda_standin.cpp — the CUDA stand-ins themselves (tests/cuda_standin)
 * against naive references written independently of them, on odd shapes:
 *
 *   - cuBLASLt: every (transa, transb) × (COL, ROW order) × padded leading
 *     dimensions × strided batches × epilogue (none, BIAS, RELU_BIAS,
 *     GELU_BIAS) × (alpha, beta) on m, n, k in {1, 7, 33, 130}-ish shapes,
 *     FP16 and BF16 (FP32 accumulation) and FP32, INT8 → INT32 exactly;
 *     the reference multiplies dense logical matrices in double and the test
 *     stores them into each layout itself. Rule: one rounding of the output
 *     to the storage type, u = 2^-11 (FP16), 2^-8 (BF16), 2^-24 (FP32), so
 *     |got − ref| ≤ 2u·|ref| + 2^-24·k·Σ|a·b| (the FP32 sum's own error);
 *     INT8 exact. Then the rules the real library enforces: ld < rows,
 *     workspace smaller than the algorithm's, operands less aligned than the
 *     algorithm assumed, the heuristic honouring MIN_ALIGNMENT and the
 *     workspace limit.
 *   - cuDNN: NCHW and NHWC tensors, KCRS and KRSC filters, padding, stride,
 *     dilation, groups, convolution and cross-correlation, alpha/beta, against
 *     a direct convolution over dense NCHW arrays; the algorithm query and
 *     the workspace rule; inconsistent descriptors are BAD_PARAM.
 *   - the runtime: allocation alignment and guard zones, the never-written
 *     check, copy directions, out of memory (not sticky), launch
 *     configuration errors, stream capture (recorded, not run; prohibited
 *     calls invalidate it), graph replay in order, events.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vector>
#include <cublasLt.h>
#include <cudnn.h>
#include "standin.h"

static int passed, failed;
#define CHECK(cond, ...)                                          \
    do {                                                          \
        if (cond) passed++;                                       \
        else {                                                    \
            failed++;                                             \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);           \
            printf(__VA_ARGS__);                                  \
            printf("\n");                                         \
        }                                                         \
    } while (0)

static uint64_t lcg = 0x2545F4914F6CDD1Dull;
static float frand(void)
{
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((lcg >> 40) * (1.0 / 8388608.0)) - 1.0f;
}

/* Storage of one element of type t and its value back. */
static void put(void *p, cudaDataType_t t, size_t i, double v)
{
    if (t == CUDA_R_16F) ((__half *)p)[i] = __float2half_rn((float)v);
    else if (t == CUDA_R_16BF) ((__nv_bfloat16 *)p)[i] = __float2bfloat16_rn((float)v);
    else if (t == CUDA_R_32F) ((float *)p)[i] = (float)v;
    else if (t == CUDA_R_8I) ((int8_t *)p)[i] = (int8_t)v;
    else ((int32_t *)p)[i] = (int32_t)v;
}
static double get(const void *p, cudaDataType_t t, size_t i)
{
    if (t == CUDA_R_16F) return __half2float(((const __half *)p)[i]);
    if (t == CUDA_R_16BF) return __bfloat162float(((const __nv_bfloat16 *)p)[i]);
    if (t == CUDA_R_32F) return ((const float *)p)[i];
    if (t == CUDA_R_8I) return ((const int8_t *)p)[i];
    return ((const int32_t *)p)[i];
}
static size_t tsize(cudaDataType_t t) { return t == CUDA_R_32F || t == CUDA_R_32I ? 4 : t == CUDA_R_8I ? 1 : 2; }

/* A device matrix holding the logical rows×cols matrix L (row-major dense,
 * per batch) in the given order with leading dimension ld and batch stride. */
struct dmat {
    void *p;
    cublasLtMatrixLayout_t l;
};
static dmat upload(const std::vector<double> &L, int batch, int rows, int cols, cudaDataType_t t, cublasLtOrder_t order,
                   int64_t ld, int64_t stride)
{
    size_t n = (size_t)(batch - 1) * stride + (size_t)ld * (order == CUBLASLT_ORDER_COL ? cols : rows);
    std::vector<unsigned char> host(n * tsize(t), 0);
    for (int b = 0; b < batch; b++)
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) {
                size_t at = (size_t)b * stride + (order == CUBLASLT_ORDER_COL ? r + (size_t)c * ld : (size_t)r * ld + c);
                put(host.data(), t, at, L[((size_t)b * rows + r) * cols + c]);
            }
    dmat m;
    cudaMalloc(&m.p, host.size());
    cudaMemcpy(m.p, host.data(), host.size(), cudaMemcpyHostToDevice);
    cublasLtMatrixLayoutCreate(&m.l, t, rows, cols, ld);
    cublasLtMatrixLayoutSetAttribute(m.l, CUBLASLT_MATRIX_LAYOUT_ORDER, &order, sizeof order);
    cublasLtMatrixLayoutSetAttribute(m.l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch, sizeof batch);
    cublasLtMatrixLayoutSetAttribute(m.l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof stride);
    return m;
}
static std::vector<double> rand_matrix(size_t n, cudaDataType_t t)
{
    std::vector<double> v(n);
    for (double &x : v) {
        x = t == CUDA_R_8I ? (double)(int)(frand() * 100) : frand();
        if (t != CUDA_R_8I) {   /* representable in the storage type */
            unsigned char tmp[4];
            put(tmp, t, 0, x);
            x = get(tmp, t, 0);
        }
    }
    return v;
}

static double gelu_tanh(double x) { return 0.5 * x * (1.0 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))); }

/* One cublasLtMatmul case against the dense reference; returns the worst
 * error relative to the rule's bound (≤ 1 passes). */
static double lt_case(cublasLtHandle_t h, int m, int n, int k, int batch, cublasOperation_t ta, cublasOperation_t tb,
                      cublasLtOrder_t order, int pad, cublasLtEpilogue_t epi, float alpha, float beta,
                      cudaDataType_t t)
{
    bool i8 = t == CUDA_R_8I;
    cudaDataType_t ct = i8 ? CUDA_R_32I : t;
    /* op(A) is m×k: A is stored m×k (N) or k×m (T) */
    int ar = ta == CUBLAS_OP_N ? m : k, ac = ta == CUBLAS_OP_N ? k : m;
    int br = tb == CUBLAS_OP_N ? k : n, bc = tb == CUBLAS_OP_N ? n : k;
    auto ld_of = [&](int rows, int cols) { return (int64_t)(order == CUBLASLT_ORDER_COL ? rows : cols) + pad; };
    auto st_of = [&](int rows, int cols) { return ld_of(rows, cols) * (order == CUBLASLT_ORDER_COL ? cols : rows) + 5; };
    std::vector<double> A = rand_matrix((size_t)batch * ar * ac, t), B = rand_matrix((size_t)batch * br * bc, t);
    std::vector<double> C = rand_matrix((size_t)batch * m * n, i8 ? CUDA_R_8I : t), bias = rand_matrix((size_t)m, t);
    dmat da = upload(A, batch, ar, ac, t, order, ld_of(ar, ac), st_of(ar, ac));
    dmat db = upload(B, batch, br, bc, t, order, ld_of(br, bc), st_of(br, bc));
    dmat dc = upload(C, batch, m, n, ct, order, ld_of(m, n), st_of(m, n));
    dmat dd = upload(std::vector<double>((size_t)batch * m * n, 0), batch, m, n, ct, order, ld_of(m, n), st_of(m, n));
    void *dbias = NULL;
    cudaMalloc(&dbias, (size_t)m * tsize(t));
    std::vector<unsigned char> hb((size_t)m * tsize(t));
    for (int i = 0; i < m; i++) put(hb.data(), t, (size_t)i, bias[(size_t)i]);
    cudaMemcpy(dbias, hb.data(), hb.size(), cudaMemcpyHostToDevice);

    cublasLtMatmulDesc_t op;
    cublasLtMatmulDescCreate(&op, i8 ? CUBLAS_COMPUTE_32I : CUBLAS_COMPUTE_32F, i8 ? CUDA_R_32I : CUDA_R_32F);
    cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta);
    cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb);
    cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi);
    cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &dbias, sizeof dbias);
    cublasLtMatmulPreference_t pref;
    cublasLtMatmulPreferenceCreate(&pref);
    size_t ws_max = 1 << 20;
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws_max, sizeof ws_max);
    cublasLtMatmulHeuristicResult_t heur;
    int found = 0;
    cublasStatus_t s = cublasLtMatmulAlgoGetHeuristic(h, op, da.l, db.l, dc.l, dd.l, pref, 1, &heur, &found);
    void *ws = NULL;
    cudaMalloc(&ws, ws_max);
    int32_t ia = (int32_t)alpha, ib = (int32_t)beta;
    const void *pa = i8 ? (const void *)&ia : (const void *)&alpha, *pb = i8 ? (const void *)&ib : (const void *)&beta;
    if (s == CUBLAS_STATUS_SUCCESS && found)
        s = cublasLtMatmul(h, op, pa, da.p, da.l, db.p, db.l, pb, dc.p, dc.l, dd.p, dd.l, &heur.algo, ws, ws_max, NULL);
    double worst = 0;
    if (s != CUBLAS_STATUS_SUCCESS) worst = 1e30;
    else {
        size_t nd = (size_t)(batch - 1) * st_of(m, n) + (size_t)ld_of(m, n) * (order == CUBLASLT_ORDER_COL ? n : m);
        std::vector<unsigned char> hd(nd * tsize(ct));
        cudaMemcpy(hd.data(), dd.p, hd.size(), cudaMemcpyDeviceToHost);
        double u = t == CUDA_R_16F ? 1.0 / 2048 : t == CUDA_R_16BF ? 1.0 / 256 : 1.0 / 16777216;
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double acc = 0, mag = 0;
                    for (int p = 0; p < k; p++) {
                        double a = ta == CUBLAS_OP_N ? A[((size_t)b * ar + i) * ac + p] : A[((size_t)b * ar + p) * ac + i];
                        double bb = tb == CUBLAS_OP_N ? B[((size_t)b * br + p) * bc + j] : B[((size_t)b * br + j) * bc + p];
                        acc += a * bb, mag += fabs(a * bb);
                    }
                    double v = alpha * acc + beta * C[((size_t)b * m + i) * n + j];
                    if (epi == CUBLASLT_EPILOGUE_BIAS || epi == CUBLASLT_EPILOGUE_RELU_BIAS || epi == CUBLASLT_EPILOGUE_GELU_BIAS)
                        v += bias[(size_t)i];
                    if (epi == CUBLASLT_EPILOGUE_RELU_BIAS) v = v > 0 ? v : 0;
                    if (epi == CUBLASLT_EPILOGUE_GELU_BIAS) v = gelu_tanh(v);
                    size_t at = (size_t)b * st_of(m, n) + (order == CUBLASLT_ORDER_COL ? i + (size_t)j * ld_of(m, n)
                                                                                         : (size_t)i * ld_of(m, n) + j);
                    double got = get(hd.data(), ct, at), err = fabs(got - v);
                    double bound = i8 ? 0 : 2 * u * fabs(v) + k * ldexp(1.0, -24) * (fabs(alpha) * mag + 1) + 1e-30;
                    double r = i8 ? (err == 0 ? 0 : 1e30) : err / bound;
                    if (r > worst) worst = r;
                }
    }
    cublasLtMatmulPreferenceDestroy(pref);
    cublasLtMatmulDescDestroy(op);
    dmat all[4] = {da, db, dc, dd};
    for (dmat &x : all) {
        cublasLtMatrixLayoutDestroy(x.l);
        cudaFree(x.p);
    }
    cudaFree(dbias), cudaFree(ws);
    return worst;
}

static void test_cublaslt(void)
{
    cublasLtHandle_t h;
    cublasLtCreate(&h);
    const int shapes[][3] = {{1, 1, 1}, {7, 5, 3}, {33, 17, 130}, {5, 129, 64}};
    const cublasLtEpilogue_t epis[] = {CUBLASLT_EPILOGUE_DEFAULT, CUBLASLT_EPILOGUE_BIAS, CUBLASLT_EPILOGUE_RELU_BIAS,
                                       CUBLASLT_EPILOGUE_GELU_BIAS};
    const cudaDataType_t types[] = {CUDA_R_16F, CUDA_R_16BF, CUDA_R_32F};
    int cases = 0;
    double worst = 0;
    for (cudaDataType_t t : types)
        for (auto &sh : shapes)
            for (int ta = 0; ta < 2; ta++)
                for (int tb = 0; tb < 2; tb++)
                    for (int order = 0; order < 2; order++) {
                        int pad = (ta + tb + order) % 2 ? 3 : 0, batch = order ? 3 : 1;
                        cublasLtEpilogue_t e = epis[(ta * 2 + tb + order + sh[0]) % 4];
                        float al = (ta ^ tb) ? 0.5f : 1.0f, be = order ? 2.0f : 0.0f;
                        double r = lt_case(h, sh[0], sh[1], sh[2], batch, (cublasOperation_t)ta, (cublasOperation_t)tb,
                                           (cublasLtOrder_t)order, pad, e, al, be, t);
                        CHECK(r <= 1, "cublasLt type %d m%d n%d k%d ta%d tb%d order%d pad%d epi%d: error %.3g of the bound",
                              (int)t, sh[0], sh[1], sh[2], ta, tb, order, pad, (int)e, r);
                        if (r > worst) worst = r;
                        cases++;
                    }
    for (auto &sh : shapes)
        for (int order = 0; order < 2; order++) {
            double r = lt_case(h, sh[0], sh[1], sh[2], 2, CUBLAS_OP_T, CUBLAS_OP_N, (cublasLtOrder_t)order, 4,
                               CUBLASLT_EPILOGUE_DEFAULT, 1, order ? 1 : 0, CUDA_R_8I);
            CHECK(r == 0, "cublasLt INT8 m%d n%d k%d order%d not exact", sh[0], sh[1], sh[2], order);
            cases++;
        }
    printf("cuBLASLt: %d cases, worst error %.3f of the rule's bound\n", cases, worst);

    /* The rules of the real library. */
    void *a = NULL, *w = NULL;
    cudaMalloc(&a, 1 << 16);
    cudaMalloc(&w, 1 << 20);
    cublasLtMatmulDesc_t op;
    cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F);
    cublasLtMatrixLayout_t l64, lbad;
    cublasLtMatrixLayoutCreate(&l64, CUDA_R_16F, 128, 128, 128);
    cublasLtMatrixLayoutCreate(&lbad, CUDA_R_16F, 128, 128, 100);
    float one = 1, zero = 0;
    cublasLtMatmulHeuristicResult_t hr[4];
    int found = 0;
    cublasLtMatmulPreference_t pref;
    cublasLtMatmulPreferenceCreate(&pref);
    size_t ws = 1 << 20;
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    CHECK(cublasLtMatmulAlgoGetHeuristic(h, op, lbad, l64, l64, l64, pref, 4, hr, &found) == CUBLAS_STATUS_INVALID_VALUE,
          "ld < rows is INVALID_VALUE");
    /* a 128³ FP16 GEMM needs 64 KiB of split-K partials */
    CHECK(cublasLtMatmulAlgoGetHeuristic(h, op, l64, l64, l64, l64, pref, 4, hr, &found) == CUBLAS_STATUS_SUCCESS &&
              found == 2 && hr[0].workspaceSize == 128 * 128 * 4 && hr[1].workspaceSize == 0,
          "heuristic: split-K with workspace, then without (%d found)", found);
    void *d = (char *)a;
    CHECK(cublasLtMatmul(h, op, &one, a, l64, a, l64, &zero, d, l64, d, l64, &hr[0].algo, w, 1024, NULL) ==
              CUBLAS_STATUS_INVALID_VALUE, "workspace smaller than the algorithm's is INVALID_VALUE");
    CHECK(cublasLtMatmul(h, op, &one, a, l64, a, l64, &zero, d, l64, d, l64, &hr[0].algo, NULL, 0, NULL) ==
              CUBLAS_STATUS_INVALID_VALUE, "no workspace for an algorithm that needs one is INVALID_VALUE");
    standin_clear_violations();
    void *mis = (char *)a + 2;
    CHECK(cublasLtMatmul(h, op, &one, mis, l64, a, l64, &zero, d, l64, d, l64, &hr[0].algo, w, ws, NULL) ==
              CUBLAS_STATUS_NOT_SUPPORTED, "an operand less aligned than the algorithm assumed is NOT_SUPPORTED");
    uint32_t al2 = 2;
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &al2, 4);
    ws = 0;
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    CHECK(cublasLtMatmulAlgoGetHeuristic(h, op, l64, l64, l64, l64, pref, 4, hr, &found) == CUBLAS_STATUS_SUCCESS &&
              found == 1 && hr[0].workspaceSize == 0, "MIN_ALIGNMENT_A 2 and no workspace: one scalar algorithm");
    cudaMemset(a, 0, 1 << 16);
    CHECK(cublasLtMatmul(h, op, &one, mis, l64, a, l64, &zero, d, l64, d, l64, &hr[0].algo, NULL, 0, NULL) ==
              CUBLAS_STATUS_SUCCESS, "the scalar algorithm runs on a 2-byte aligned operand");
    cublasLtMatmulPreferenceDestroy(pref);
    cublasLtMatrixLayoutDestroy(l64), cublasLtMatrixLayoutDestroy(lbad);
    cublasLtMatmulDescDestroy(op);
    cudaFree(a), cudaFree(w);
    cublasLtDestroy(h);
}

/* ---- cuDNN ------------------------------------------------------------------------- */
static double dnn_case(cudnnHandle_t h, int N, int C, int H, int W, int K, int R, int S, int pad, int stride, int dil,
                       int groups, cudnnTensorFormat_t fmt, cudnnConvolutionMode_t mode, float alpha, float beta)
{
    int Cg = C / groups, Ho = (H + 2 * pad - ((R - 1) * dil + 1)) / stride + 1,
        Wo = (W + 2 * pad - ((S - 1) * dil + 1)) / stride + 1;
    std::vector<double> x = rand_matrix((size_t)N * C * H * W, CUDA_R_16F), w = rand_matrix((size_t)K * Cg * R * S, CUDA_R_16F),
                        y0 = rand_matrix((size_t)N * K * Ho * Wo, CUDA_R_16F);
    bool nhwc = fmt == CUDNN_TENSOR_NHWC;
    auto xi = [&](int n, int c, int hh, int ww) {
        return nhwc ? (((size_t)n * H + hh) * W + ww) * C + c : (((size_t)n * C + c) * H + hh) * W + ww;
    };
    auto yi = [&](int n, int c, int hh, int ww) {
        return nhwc ? (((size_t)n * Ho + hh) * Wo + ww) * K + c : (((size_t)n * K + c) * Ho + hh) * Wo + ww;
    };
    auto wi = [&](int k, int c, int r, int s) {
        return nhwc ? (((size_t)k * R + r) * S + s) * Cg + c : (((size_t)k * Cg + c) * R + r) * S + s;
    };
    std::vector<__half> hx(x.size()), hw(w.size()), hy(y0.size());
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int a = 0; a < H; a++)
                for (int b = 0; b < W; b++) hx[xi(n, c, a, b)] = __float2half_rn((float)x[(((size_t)n * C + c) * H + a) * W + b]);
    for (int k = 0; k < K; k++)
        for (int c = 0; c < Cg; c++)
            for (int r = 0; r < R; r++)
                for (int s = 0; s < S; s++) hw[wi(k, c, r, s)] = __float2half_rn((float)w[(((size_t)k * Cg + c) * R + r) * S + s]);
    for (int n = 0; n < N; n++)
        for (int k = 0; k < K; k++)
            for (int a = 0; a < Ho; a++)
                for (int b = 0; b < Wo; b++) hy[yi(n, k, a, b)] = __float2half_rn((float)y0[(((size_t)n * K + k) * Ho + a) * Wo + b]);
    void *dx, *dw, *dy, *ws;
    cudaMalloc(&dx, hx.size() * 2), cudaMalloc(&dw, hw.size() * 2), cudaMalloc(&dy, hy.size() * 2);
    cudaMemcpy(dx, hx.data(), hx.size() * 2, cudaMemcpyHostToDevice);
    cudaMemcpy(dw, hw.data(), hw.size() * 2, cudaMemcpyHostToDevice);
    cudaMemcpy(dy, hy.data(), hy.size() * 2, cudaMemcpyHostToDevice);
    cudnnTensorDescriptor_t xd, yd;
    cudnnFilterDescriptor_t wd;
    cudnnConvolutionDescriptor_t cd;
    cudnnCreateTensorDescriptor(&xd), cudnnCreateTensorDescriptor(&yd);
    cudnnCreateFilterDescriptor(&wd), cudnnCreateConvolutionDescriptor(&cd);
    cudnnSetTensor4dDescriptor(xd, fmt, CUDNN_DATA_HALF, N, C, H, W);
    cudnnSetTensor4dDescriptor(yd, fmt, CUDNN_DATA_HALF, N, K, Ho, Wo);
    cudnnSetFilter4dDescriptor(wd, CUDNN_DATA_HALF, fmt, K, Cg, R, S);
    cudnnSetConvolution2dDescriptor(cd, pad, pad, stride, stride, dil, dil, mode, CUDNN_DATA_FLOAT);
    cudnnSetConvolutionGroupCount(cd, groups);
    int n_out = -1, c_out, h_out, w_out;
    cudnnGetConvolution2dForwardOutputDim(cd, xd, wd, &n_out, &c_out, &h_out, &w_out);
    CHECK(n_out == N && c_out == K && h_out == Ho && w_out == Wo, "output dims");
    cudnnConvolutionFwdAlgoPerf_t perf[8];
    int n = 0;
    cudnnStatus_t s = cudnnGetConvolutionForwardAlgorithm_v7(h, xd, wd, cd, yd, 8, &n, perf);
    CHECK(s == CUDNN_STATUS_SUCCESS && n == 8, "algorithm query ranks all 8");
    int pick = -1;
    for (int i = 0; i < n && pick < 0; i++)
        if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].algo == CUDNN_CONVOLUTION_FWD_ALGO_GEMM) pick = i;
    size_t need = perf[pick].memory;
    cudaMalloc(&ws, need + 1);
    if (need) CHECK(cudnnConvolutionForward(h, &alpha, xd, dx, wd, dw, cd, perf[pick].algo, ws, need - 1, &beta, yd, dy) ==
                        CUDNN_STATUS_BAD_PARAM, "workspace one byte short is BAD_PARAM");
    s = cudnnConvolutionForward(h, &alpha, xd, dx, wd, dw, cd, perf[pick].algo, ws, need, &beta, yd, dy);
    double worst = s == CUDNN_STATUS_SUCCESS ? 0 : 1e30;
    cudaMemcpy(hy.data(), dy, hy.size() * 2, cudaMemcpyDeviceToHost);
    for (int nn = 0; s == CUDNN_STATUS_SUCCESS && nn < N; nn++)
        for (int k = 0; k < K; k++)
            for (int a = 0; a < Ho; a++)
                for (int b = 0; b < Wo; b++) {
                    int g = k / (K / groups);
                    double acc = 0, mag = 0;
                    for (int c = 0; c < Cg; c++)
                        for (int r = 0; r < R; r++)
                            for (int q = 0; q < S; q++) {
                                int ih = a * stride - pad + r * dil, iw = b * stride - pad + q * dil;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                int fr = mode == CUDNN_CONVOLUTION ? R - 1 - r : r, fq = mode == CUDNN_CONVOLUTION ? S - 1 - q : q;
                                double t = x[(((size_t)nn * C + g * Cg + c) * H + ih) * W + iw] *
                                           w[(((size_t)k * Cg + c) * R + fr) * S + fq];
                                acc += t, mag += fabs(t);
                            }
                    double v = alpha * acc + beta * y0[(((size_t)nn * K + k) * Ho + a) * Wo + b];
                    double got = __half2float(hy[yi(nn, k, a, b)]);
                    double bound = 2.0 / 2048 * fabs(v) + Cg * R * S * ldexp(1.0, -24) * (mag + 1) + 1e-30;
                    if (fabs(got - v) / bound > worst) worst = fabs(got - v) / bound;
                }
    cudnnDestroyTensorDescriptor(xd), cudnnDestroyTensorDescriptor(yd);
    cudnnDestroyFilterDescriptor(wd), cudnnDestroyConvolutionDescriptor(cd);
    cudaFree(dx), cudaFree(dw), cudaFree(dy), cudaFree(ws);
    return worst;
}

static void test_cudnn(void)
{
    cudnnHandle_t h;
    cudnnCreate(&h);
    /* N C H W K R S pad stride dil groups */
    const int cases[][11] = {{1, 3, 7, 5, 4, 3, 3, 1, 1, 1, 1}, {2, 6, 9, 11, 4, 3, 3, 1, 2, 1, 2},
                             {1, 5, 8, 8, 7, 1, 1, 0, 1, 1, 1}, {2, 4, 10, 7, 6, 3, 2, 2, 1, 2, 2},
                             {1, 8, 6, 6, 8, 3, 3, 1, 1, 1, 8}};
    int n = 0;
    double worst = 0;
    for (auto &c : cases)
        for (int f = 0; f < 2; f++)
            for (int mode = 0; mode < 2; mode++) {
                float al = mode ? 1.0f : 0.75f, be = f ? 0.5f : 0.0f;
                double r = dnn_case(h, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10],
                                    (cudnnTensorFormat_t)f, (cudnnConvolutionMode_t)mode, al, be);
                CHECK(r <= 1, "cudnn case N%d C%d H%d W%d K%d %dx%d pad%d stride%d dil%d groups%d fmt%d mode%d: %.3g of the bound",
                      c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], f, mode, r);
                if (r > worst) worst = r;
                n++;
            }
    printf("cuDNN: %d cases, worst error %.3f of the rule's bound\n", n, worst);
    /* inconsistent descriptors */
    cudnnTensorDescriptor_t xd, yd;
    cudnnFilterDescriptor_t wd;
    cudnnConvolutionDescriptor_t cd;
    cudnnCreateTensorDescriptor(&xd), cudnnCreateTensorDescriptor(&yd);
    cudnnCreateFilterDescriptor(&wd), cudnnCreateConvolutionDescriptor(&cd);
    cudnnSetTensor4dDescriptor(xd, CUDNN_TENSOR_NCHW, CUDNN_DATA_HALF, 1, 4, 8, 8);
    cudnnSetTensor4dDescriptor(yd, CUDNN_TENSOR_NCHW, CUDNN_DATA_HALF, 1, 4, 7, 8);
    cudnnSetFilter4dDescriptor(wd, CUDNN_DATA_HALF, CUDNN_TENSOR_NCHW, 4, 4, 3, 3);
    cudnnSetConvolution2dDescriptor(cd, 1, 1, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT);
    cudnnConvolutionFwdAlgoPerf_t perf[8];
    int got = 0;
    CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, xd, wd, cd, yd, 8, &got, perf) == CUDNN_STATUS_BAD_PARAM,
          "y of the wrong height is BAD_PARAM");
    cudnnSetTensor4dDescriptor(yd, CUDNN_TENSOR_NCHW, CUDNN_DATA_HALF, 1, 4, 8, 8);
    cudnnSetFilter4dDescriptor(wd, CUDNN_DATA_HALF, CUDNN_TENSOR_NCHW, 4, 3, 3, 3);
    CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, xd, wd, cd, yd, 8, &got, perf) == CUDNN_STATUS_BAD_PARAM,
          "filter channels ≠ input channels / groups is BAD_PARAM");
    CHECK(cudnnSetConvolution2dDescriptor(cd, -1, 1, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT) ==
              CUDNN_STATUS_BAD_PARAM, "negative padding is BAD_PARAM");
    cudnnDestroyTensorDescriptor(xd), cudnnDestroyTensorDescriptor(yd);
    cudnnDestroyFilterDescriptor(wd), cudnnDestroyConvolutionDescriptor(cd);
    cudnnDestroy(h);
}

/* ---- runtime ------------------------------------------------------------------------ */
static __global__ void add_one(int *p, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) p[i] += 1;
}
static __global__ void times_two(int *p, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) p[i] *= 2;
}

static void test_runtime(void)
{
    standin_clear_violations();
    void *p = NULL, *q = NULL;
    CHECK(cudaMalloc(&p, 1000) == cudaSuccess && (uintptr_t)p % 256 == 0, "cudaMalloc is 256-byte aligned");
    CHECK(((unsigned char *)p)[999] == 0xFF, "new device memory holds the never-written fill");
    CHECK(standin_check_operand(p, 1000, 2, 1, "test") == 0, "a never-written operand is a finding");
    CHECK(cudaGetLastError() == cudaErrorIllegalAddress && cudaMalloc(&q, 16) == cudaErrorIllegalAddress,
          "a finding is sticky");
    standin_clear_violations();
    ((unsigned char *)p)[1000] = 0;   /* one byte past the end */
    standin_check_guards("the test");
    CHECK(strstr(standin_first_violation(), "1 bytes past the end of a 1000-byte allocation") != NULL,
          "an overrun of the allocation is found: %s", standin_first_violation());
    ((unsigned char *)p)[1000] = 0xA5;
    standin_clear_violations();
    ((unsigned char *)p)[-1] = 0;
    standin_check_guards("the test");
    CHECK(standin_get_stats ? strstr(standin_first_violation(), "before") != NULL : 0, "an underrun is found");
    ((unsigned char *)p)[-1] = 0xA5;
    standin_clear_violations();
    int host[300];
    CHECK(cudaMemcpy(host, p, 1000, cudaMemcpyHostToDevice) == cudaErrorInvalidValue, "a copy of the wrong direction fails");
    CHECK(cudaGetLastError() == cudaErrorInvalidValue && cudaGetLastError() == cudaSuccess, "cudaGetLastError clears");
    CHECK(cudaMemcpy(p, host, 1001, cudaMemcpyHostToDevice) == cudaErrorInvalidValue, "a copy past the allocation fails");
    standin_set_device_memory((size_t)1 << 30);
    CHECK(cudaMalloc(&q, (size_t)2 << 30) == cudaErrorMemoryAllocation && q == NULL, "out of memory");
    CHECK(cudaGetLastError() == cudaErrorMemoryAllocation && cudaMalloc(&q, 16) == cudaSuccess,
          "out of memory is not sticky");
    cudaFree(q);
    standin_set_device_memory((size_t)8 << 30);

    int *d = (int *)p;
    for (int i = 0; i < 250; i++) host[i] = i;
    cudaMemcpy(d, host, 1000, cudaMemcpyHostToDevice);
    cudaStream_t s;
    cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
    CUDA_LAUNCH(add_one, 1, 2048, s, d, 250);
    CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration, "a 2048-thread block is an invalid configuration");
    CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal) == cudaSuccess, "begin capture");
    CUDA_LAUNCH(add_one, 4, 64, s, d, 250);
    CUDA_LAUNCH(times_two, 4, 64, s, d, 250);
    cudaMemcpyAsync(host, d, 1000, cudaMemcpyDeviceToHost, s);
    CHECK(((int *)p)[7] == 7, "captured work does not run");
    cudaGraph_t g;
    CHECK(cudaStreamEndCapture(s, &g) == cudaSuccess && g, "end capture");
    cudaGraphExec_t ex;
    CHECK(cudaGraphInstantiate(&ex, g, 0) == cudaSuccess, "instantiate");
    cudaGraphDestroy(g);
    cudaGraphLaunch(ex, s);
    cudaGraphLaunch(ex, s);
    cudaStreamSynchronize(s);
    CHECK(host[7] == ((7 + 1) * 2 + 1) * 2 && host[249] == ((249 + 1) * 2 + 1) * 2,
          "two replays in recording order: %d", host[7]);
    cudaGraphExecDestroy(ex);

    cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal);
    CHECK(cudaMalloc(&q, 64) == cudaErrorStreamCaptureUnsupported, "cudaMalloc while capturing is refused");
    CHECK(cudaStreamEndCapture(s, &g) == cudaErrorStreamCaptureInvalidated && !g, "and it invalidates the capture");
    cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal);
    CHECK(cudaStreamSynchronize(s) == cudaErrorStreamCaptureUnsupported, "synchronizing a capturing stream is refused");
    CHECK(cudaStreamEndCapture(s, &g) == cudaErrorStreamCaptureInvalidated, "and it invalidates the capture");
    (void)cudaGetLastError();

    cudaEvent_t e0, e1;
    cudaEventCreate(&e0), cudaEventCreate(&e1);
    cudaEventRecord(e0, s);
    CUDA_LAUNCH(add_one, 4, 64, s, d, 250);
    cudaEventRecord(e1, s);
    cudaEventSynchronize(e1);
    float ms = -1;
    CHECK(cudaEventElapsedTime(&ms, e0, e1) == cudaSuccess && ms >= 0, "event timing");
    cudaEventDestroy(e0), cudaEventDestroy(e1);
    cudaStreamDestroy(s);
    CHECK(cudaFree(p) == cudaSuccess && cudaFree(p) == cudaErrorInvalidValue, "double free is an error");
    (void)cudaGetLastError();
    standin_stats st;
    standin_get_stats(&st);
    CHECK(st.live_allocs == 0 && st.violations == 0, "everything freed (%lld live)", (long long)st.live_allocs);
}

int main(void)
{
    test_runtime();
    test_cublaslt();
    test_cudnn();
    standin_stats st;
    standin_get_stats(&st);
    CHECK(st.live_allocs == 0, "no allocation left (%lld)", (long long)st.live_allocs);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
