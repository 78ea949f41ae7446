/*
 * conv.cu — CONV2D through cuDNN's convolution API:
 * y = act(conv(x, w) + bias) + residual.
 *
 * x[N,C,H,W], w[O,C,kh,kw], y[N,O,Ho,Wo], NCHW FP16/BF16 with FP32
 * accumulation (CUDNN_DATA_FLOAT compute) and tensor-op math allowed.
 * cuDNN takes one padding per dimension; asymmetric padding (diffusers'
 * Downsample2D in the VAE encoder pads (0,1,0,1)) is done by cuda_pad2d
 * into the plan's workspace first, then the convolution runs unpadded.
 * The algorithm is the first of cudnnGetConvolutionForwardAlgorithm_v7's
 * ranking that fits the backend's cuDNN workspace and is a GEMM form
 * (implicit, precomputed-implicit or explicit GEMM): those accumulate each
 * output as one FP32 dot product, like the CPU twin, whereas the FFT and
 * Winograd forms round their transformed tiles and may exceed the FP16
 * tolerance rule of test_cuda_backend; they can be admitted once measured. Bias, activation and
 * residual run as cuda_epilogue afterwards (cuDNN's fused
 * ConvolutionBiasActivation has no SiLU and no separate residual).
 * Descriptors are created per call, as in gemm.cu.
 */
#include "kernels/cuda/cuda_libs.h"

/* Workspace of a CONV2D node: the padded input when padding is asymmetric. */
extern "C" size_t cuda_conv_workspace(const t2i_tensor *x, const t2i_attr_conv2d *c, size_t elem)
{
    if (c->pad_top == c->pad_bottom && c->pad_left == c->pad_right) return 0;
    return (size_t)(x->ne[0] * x->ne[1]) * (size_t)(x->ne[2] + c->pad_top + c->pad_bottom) *
           (size_t)(x->ne[3] + c->pad_left + c->pad_right) * elem;
}

extern "C" t2i_status cuda_op_conv2d(t2i_backend *be, const t2i_op_args *a)
{
    const t2i_tensor *x = a->in[0], *w = a->in[1], *y = a->out;
    const t2i_attr_conv2d *c = &a->node->attr.conv2d;
    cudnnDataType_t dt = cuda_dnn_type(be);
    cudnnTensorDescriptor_t xd = NULL, yd = NULL;
    cudnnFilterDescriptor_t wd = NULL;
    cudnnConvolutionDescriptor_t cd = NULL;
    t2i_status st = T2I_OK;
    int64_t N = x->ne[0], C = x->ne[1], H = x->ne[2], W = x->ne[3];
    int ph = c->pad_top, pw = c->pad_left;
    const void *xin = a->in_data[0];
    int stride = c->stride > 0 ? c->stride : 1;
    cudnnConvolutionFwdAlgoPerf_t perf[8];
    int n_perf = 0, pick = -1;
    float alpha = 1.0f, beta = 0.0f;

    if (c->pad_top != c->pad_bottom || c->pad_left != c->pad_right) {
        size_t need = cuda_conv_workspace(x, c, t2i_dtype_size(be->act_dtype));
        if (a->workspace_bytes < need) return t2i_fail(T2I_ERR_INTERNAL, "%s: conv workspace too small", a->node->name);
        T2I_TRY(cuda_pad2d(be, xin, a->workspace, N * C, H, W, c->pad_top, c->pad_left, c->pad_bottom, c->pad_right));
        xin = a->workspace;
        H += c->pad_top + c->pad_bottom, W += c->pad_left + c->pad_right;
        ph = pw = 0;
    }
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&xd));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&yd));
    CUDNN_CHECK(cudnnCreateFilterDescriptor(&wd));
    CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&cd));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(xd, CUDNN_TENSOR_NCHW, dt, (int)N, (int)C, (int)H, (int)W));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(yd, CUDNN_TENSOR_NCHW, dt, (int)y->ne[0], (int)y->ne[1], (int)y->ne[2],
                                           (int)y->ne[3]));
    CUDNN_CHECK(cudnnSetFilter4dDescriptor(wd, dt, CUDNN_TENSOR_NCHW, (int)w->ne[0], (int)w->ne[1], (int)w->ne[2],
                                           (int)w->ne[3]));
    CUDNN_CHECK(cudnnSetConvolution2dDescriptor(cd, ph, pw, stride, stride, 1, 1, CUDNN_CROSS_CORRELATION,
                                                CUDNN_DATA_FLOAT));
    CUDNN_CHECK(cudnnSetConvolutionMathType(cd, CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION));
    CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(cuda_dnn_of(be), xd, wd, cd, yd, 8, &n_perf, perf));
    for (int i = 0; i < n_perf && pick < 0; i++)
        if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].memory <= CUDA_DNN_WORKSPACE &&
            (perf[i].algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM ||
             perf[i].algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM ||
             perf[i].algo == CUDNN_CONVOLUTION_FWD_ALGO_GEMM))
            pick = i;
    if (pick < 0) {
        st = t2i_fail(T2I_ERR_UNSUPPORTED, "%s: cuDNN has no GEMM-form convolution algorithm within %zu MiB of workspace",
                      a->node->name, CUDA_DNN_WORKSPACE >> 20);
        goto fail;
    }
    CUDNN_CHECK(cudnnConvolutionForward(cuda_dnn_of(be), &alpha, xd, xin, wd, a->in_data[1], cd, perf[pick].algo,
                                        ((cuda_backend *)be)->libs->dnn_ws, CUDA_DNN_WORKSPACE, &beta, yd,
                                        a->out_data));
    st = cuda_epilogue(be, a->out_data, a->in_data[2], a->in_data[3], t2i_tensor_numel(y), y->ne[2] * y->ne[3],
                       y->ne[1], c->act);
fail:
    if (cd) cudnnDestroyConvolutionDescriptor(cd);
    if (wd) cudnnDestroyFilterDescriptor(wd);
    if (yd) cudnnDestroyTensorDescriptor(yd);
    if (xd) cudnnDestroyTensorDescriptor(xd);
    return st;
}
