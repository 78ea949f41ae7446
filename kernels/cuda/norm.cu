/*
 * norm.cu — GROUPNORM and LAYERNORM (torch semantics: biased variance, eps
 * inside the square root, per-channel affine) with statistics in FP32 and an
 * optional fused activation (GroupNorm + SiLU of every ResNet block): one
 * read of the input for the statistics' two passes each and one for the
 * output, one rounding at the store.
 *
 * GROUPNORM  x[N,C,S] (S = product of the trailing dims, NCHW): group g of
 *            image n is the contiguous run of (C/groups)·S elements starting
 *            at channel g·C/groups; one block of NORM_BLOCK threads per
 *            (n, g). Two passes (mean, then Σ(x-mean)²) in FP32 avoid the
 *            cancellation of E[x²]-E[x]²; each thread sums its strided
 *            elements, then block_sum. SD1.5 at 512²: groups of 40,960.
 * LAYERNORM  x[..., C] over the last dim; one block per row, same passes.
 */
#include "kernels/cuda/norm.cuh"

template <class T>
static __global__ void __launch_bounds__(NORM_BLOCK)
groupnorm_kernel(const T *x, const T *gamma, const T *beta, T *y, int64_t C, int64_t S, int64_t cpg, int groups,
                 float eps, int act)
{
    __shared__ float red[32];
    int64_t n = blockIdx.x / groups, g = blockIdx.x % groups, len = cpg * S;
    const T *xg = x + (n * C + g * cpg) * S;
    T *yg = y + (n * C + g * cpg) * S;
    float s = 0.0f;
    for (int64_t i = threadIdx.x; i < len; i += blockDim.x) s += to_f32(xg[i]);
    float mean = block_sum(s, red) / (float)len;
    float v = 0.0f;
    for (int64_t i = threadIdx.x; i < len; i += blockDim.x) {
        float d = to_f32(xg[i]) - mean;
        v += d * d;
    }
    float rstd = rsqrtf(block_sum(v, red) / (float)len + eps);
    for (int64_t i = threadIdx.x; i < len; i += blockDim.x) {
        int64_t c = g * cpg + i / S;
        float o = (to_f32(xg[i]) - mean) * rstd * to_f32(gamma[c]) + to_f32(beta[c]);
        yg[i] = from_f32<T>(act_f32(o, act));
    }
}

template <class T>
static t2i_status groupnorm_launch(const t2i_op_args *a, int64_t N, int64_t C, int64_t S, cudaStream_t s)
{
    const t2i_attr_norm *at = &a->node->attr.norm;
    CUDA_LAUNCH(groupnorm_kernel<T>, (unsigned)(N * at->groups), NORM_BLOCK, s, (const T *)a->in_data[0],
                (const T *)a->in_data[1], (const T *)a->in_data[2], (T *)a->out_data, C, S, C / at->groups,
                at->groups, at->eps, (int)at->act);
    return T2I_OK;
}

extern "C" t2i_status cuda_op_groupnorm(t2i_backend *be, const t2i_op_args *a)
{
    const t2i_tensor *x = a->in[0];
    int64_t N = x->ne[0], C = x->ne[1], S = t2i_tensor_numel(x) / (N * C);
    if (N * a->node->attr.norm.groups > 0x7fffffff)
        return t2i_fail(T2I_ERR_UNSUPPORTED, "%s: groupnorm grid too large", a->node->name);
    return CUDA_DISPATCH_DTYPE(be, groupnorm_launch, a, N, C, S, cuda_stream_of(be));
}

template <class T>
static __global__ void __launch_bounds__(NORM_BLOCK)
layernorm_kernel(const T *x, const T *gamma, const T *beta, T *y, int64_t C, float eps, int act)
{
    __shared__ float red[32];
    const T *xr = x + (int64_t)blockIdx.x * C;
    T *yr = y + (int64_t)blockIdx.x * C;
    float s = 0.0f;
    for (int64_t i = threadIdx.x; i < C; i += blockDim.x) s += to_f32(xr[i]);
    float mean = block_sum(s, red) / (float)C;
    float v = 0.0f;
    for (int64_t i = threadIdx.x; i < C; i += blockDim.x) {
        float d = to_f32(xr[i]) - mean;
        v += d * d;
    }
    float rstd = rsqrtf(block_sum(v, red) / (float)C + eps);
    for (int64_t i = threadIdx.x; i < C; i += blockDim.x)
        yr[i] = from_f32<T>(act_f32((to_f32(xr[i]) - mean) * rstd * to_f32(gamma[i]) + to_f32(beta[i]), act));
}

template <class T> static t2i_status layernorm_launch(const t2i_op_args *a, int64_t rows, int64_t C, cudaStream_t s)
{
    const t2i_attr_norm *at = &a->node->attr.norm;
    CUDA_LAUNCH(layernorm_kernel<T>, (unsigned)rows, NORM_BLOCK, s, (const T *)a->in_data[0], (const T *)a->in_data[1],
                (const T *)a->in_data[2], (T *)a->out_data, C, at->eps, (int)at->act);
    return T2I_OK;
}

extern "C" t2i_status cuda_op_layernorm(t2i_backend *be, const t2i_op_args *a)
{
    const t2i_tensor *x = a->in[0];
    int64_t C = x->ne[x->ndim - 1], rows = t2i_tensor_numel(x) / C;
    if (rows > 0x7fffffff) return t2i_fail(T2I_ERR_UNSUPPORTED, "%s: layernorm grid too large", a->node->name);
    return CUDA_DISPATCH_DTYPE(be, layernorm_launch, a, rows, C, cuda_stream_of(be));
}
