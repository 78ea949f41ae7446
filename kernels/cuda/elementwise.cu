/*
 * elementwise.cu — ACT, ADD, MUL, SCALE_ADD, GEGLU, TIMESTEP and the LINEAR/CONV2D
 * epilogue, on FP16/BF16 storage with FP32 arithmetic.
 *
 * ACT       y = act(x), grid-stride over all elements.
 * ADD/MUL   c = a ⊕ b, b broadcast against a aligned at the last dim (numpy
 *           rules, as cpu_elementwise.c). b's index is computed from a's
 *           shape padded to 4 dims and b's strides in that space (stride 0
 *           on broadcast dims): four div/mods per element, which the
 *           memory-bound loop hides; the common "b is a per-row vector"
 *           case is detected and skips them.
 * SCALE_ADD c = alpha·a + b, same shapes.
 * GEGLU     x[...,2D] -> x[...,:D] * gelu_erf(x[...,D:]).
 * TIMESTEP  t[B] (FP32 storage, see ops.def) -> [B,dim]: diffusers get_timestep_embedding, every step
 *           rounded to FP32 as cpu_elementwise.c does.
 * epilogue  y = act(y + bias[(i/inner) % C]) + residual, in place.
 *
 * All kernels are memory-bound; 256 threads per block, grid-stride loops.
 */
#include "kernels/cuda/elementwise.cuh"

#define EW_BLOCK 256

/* ---- ACT -------------------------------------------------------------------- */
template <class T> static __global__ void act_kernel(const T *x, T *y, int64_t n, int act)
{
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        y[i] = from_f32<T>(act_f32(to_f32(x[i]), act));
}

template <class T> static t2i_status act_launch(const void *x, void *y, int64_t n, t2i_act act, cudaStream_t s)
{
    CUDA_LAUNCH(act_kernel<T>, cuda_grid_for(n, EW_BLOCK), EW_BLOCK, s, (const T *)x, (T *)y, n, (int)act);
    return T2I_OK;
}

extern "C" t2i_status cuda_op_act(t2i_backend *be, const t2i_op_args *a)
{
    return CUDA_DISPATCH_DTYPE(be, act_launch, a->in_data[0], a->out_data, t2i_tensor_numel(a->out),
                               a->node->attr.act.act, cuda_stream_of(be));
}

/* ---- SCALE_ADD -------------------------------------------------------------- */
template <class T> static __global__ void scale_add_kernel(const T *a, const T *b, T *c, int64_t n, float alpha)
{
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        c[i] = from_f32<T>(to_f32(a[i]) * alpha + to_f32(b[i]));
}

template <class T> static t2i_status scale_add_launch(const void *a, const void *b, void *c, int64_t n, float alpha,
                                                      cudaStream_t s)
{
    CUDA_LAUNCH(scale_add_kernel<T>, cuda_grid_for(n, EW_BLOCK), EW_BLOCK, s, (const T *)a, (const T *)b, (T *)c, n,
                alpha);
    return T2I_OK;
}

extern "C" t2i_status cuda_op_scale_add(t2i_backend *be, const t2i_op_args *a)
{
    return CUDA_DISPATCH_DTYPE(be, scale_add_launch, a->in_data[0], a->in_data[1], a->out_data,
                               t2i_tensor_numel(a->out), a->node->attr.scale.alpha, cuda_stream_of(be));
}

/* ---- ADD / MUL -------------------------------------------------------------- */
typedef struct bcast {
    int64_t n;
    int64_t vec;          /* > 0: b is a vector over the last `vec` elements (index i % vec) */
    int64_t ne[4], bstride[4];
} bcast;

template <class T> static __global__ void binary_kernel(const T *a, const T *b, T *c, bcast p, int mul)
{
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < p.n; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t off;
        if (p.vec > 0) {
            off = i % p.vec;
        } else {
            int64_t r = i;
            off = 0;
            for (int d = 3; d >= 0; d--) {
                off += (r % p.ne[d]) * p.bstride[d];
                r /= p.ne[d];
            }
        }
        float x = to_f32(a[i]), y = to_f32(b[off]);
        c[i] = from_f32<T>(mul ? x * y : x + y);
    }
}

template <class T> static t2i_status binary_launch(const void *a, const void *b, void *c, bcast p, bool mul,
                                                   cudaStream_t s)
{
    CUDA_LAUNCH(binary_kernel<T>, cuda_grid_for(p.n, EW_BLOCK), EW_BLOCK, s, (const T *)a, (const T *)b, (T *)c, p,
                (int)mul);
    return T2I_OK;
}

static t2i_status binary(t2i_backend *be, const t2i_op_args *a, bool mul)
{
    const t2i_tensor *ta = a->in[0], *tb = a->in[1];
    int nd = ta->ndim, off = ta->ndim - tb->ndim;
    bcast p;
    memset(&p, 0, sizeof p);
    p.n = t2i_tensor_numel(ta);
    int64_t stride = 1;
    for (int d = 3; d >= 0; d--) {
        int sd = d - (4 - nd);                       /* the dim of a this padded dim stands for */
        p.ne[d] = sd >= 0 ? ta->ne[sd] : 1;
        int64_t bdim = sd >= 0 && sd - off >= 0 ? tb->ne[sd - off] : 1;
        p.bstride[d] = bdim == 1 ? 0 : stride;
        stride *= bdim;
    }
    /* b, without its leading 1s, equal to a's trailing dims (bias [C]
     * against [B,L,C], or the same shape): b's index is i mod numel(b). */
    int k = 0;
    while (k < tb->ndim && tb->ne[k] == 1) k++;
    bool trailing = true;
    for (int d = k; d < tb->ndim; d++)
        if (tb->ne[d] != ta->ne[d + off]) trailing = false;
    if (trailing) p.vec = t2i_tensor_numel(tb);
    return CUDA_DISPATCH_DTYPE(be, binary_launch, a->in_data[0], a->in_data[1], a->out_data, p, mul,
                               cuda_stream_of(be));
}

extern "C" t2i_status cuda_op_add(t2i_backend *be, const t2i_op_args *a) { return binary(be, a, false); }
extern "C" t2i_status cuda_op_mul(t2i_backend *be, const t2i_op_args *a) { return binary(be, a, true); }

/* ---- GEGLU ------------------------------------------------------------------ */
template <class T> static __global__ void geglu_kernel(const T *x, T *y, int64_t n, int64_t d)
{
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t r = i / d, j = i % d;
        float h = to_f32(x[r * 2 * d + j]), g = to_f32(x[r * 2 * d + d + j]);
        y[i] = from_f32<T>(h * act_f32(g, T2I_ACT_GELU));
    }
}

template <class T> static t2i_status geglu_launch(const void *x, void *y, int64_t n, int64_t d, cudaStream_t s)
{
    CUDA_LAUNCH(geglu_kernel<T>, cuda_grid_for(n, EW_BLOCK), EW_BLOCK, s, (const T *)x, (T *)y, n, d);
    return T2I_OK;
}

extern "C" t2i_status cuda_op_geglu(t2i_backend *be, const t2i_op_args *a)
{
    int64_t d = a->out->ne[a->out->ndim - 1];
    return CUDA_DISPATCH_DTYPE(be, geglu_launch, a->in_data[0], a->out_data, t2i_tensor_numel(a->out), d,
                               cuda_stream_of(be));
}

/* ---- TIMESTEP ----------------------------------------------------------------- */
/* One thread per output element; see timestep_row in cpu_elementwise.c for
 * why each step is rounded to FP32 in this order. */
template <class T> static __global__ void timestep_kernel(const float *t, T *y, int B, int dim, int flip, float shift)
{
    int half = dim / 2;
    for (int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; idx < (int64_t)B * dim;
         idx += (int64_t)gridDim.x * blockDim.x) {
        int b = (int)(idx / dim), j = (int)(idx % dim);
        float v = 0.0f;
        if (j < 2 * half) {
            int i = j < half ? j : j - half;
            bool first = j < half;
            const float neg_log = -9.210340371976184f;
            const float denom = (float)half - shift;
            float e = (neg_log * (float)i) / denom;
            float arg = t[b] * expf(e);
            bool use_cos = first == (flip != 0);
            v = use_cos ? cosf(arg) : sinf(arg);
        }
        y[idx] = from_f32<T>(v);
    }
}

template <class T> static t2i_status timestep_launch(const void *t, void *y, int B, const t2i_attr_timestep *at,
                                                     cudaStream_t s)
{
    CUDA_LAUNCH(timestep_kernel<T>, cuda_grid_for((int64_t)B * at->dim, EW_BLOCK), EW_BLOCK, s, (const float *)t, (T *)y,
                B, at->dim, (int)at->flip_sin_to_cos, at->freq_shift);
    return T2I_OK;
}

extern "C" t2i_status cuda_op_timestep(t2i_backend *be, const t2i_op_args *a)
{
    return CUDA_DISPATCH_DTYPE(be, timestep_launch, a->in_data[0], a->out_data, (int)a->in[0]->ne[0],
                               &a->node->attr.timestep, cuda_stream_of(be));
}

/* ---- LINEAR / CONV2D epilogue ------------------------------------------------------ */
template <class T>
static __global__ void epilogue_kernel(T *y, const T *bias, const T *res, int64_t n, int64_t inner, int64_t ch, int act)
{
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        float v = to_f32(y[i]);
        if (bias) v += to_f32(bias[(i / inner) % ch]);
        v = act_f32(v, act);
        if (res) v += to_f32(res[i]);
        y[i] = from_f32<T>(v);
    }
}

template <class T>
static t2i_status epilogue_launch(void *y, const void *bias, const void *res, int64_t n, int64_t inner, int64_t ch,
                                  t2i_act act, cudaStream_t s)
{
    CUDA_LAUNCH(epilogue_kernel<T>, cuda_grid_for(n, EW_BLOCK), EW_BLOCK, s, (T *)y, (const T *)bias, (const T *)res,
                n, inner, ch, (int)act);
    return T2I_OK;
}

extern "C" t2i_status cuda_epilogue(t2i_backend *be, void *y, const void *bias, const void *residual, int64_t n,
                                    int64_t inner, int64_t channels, t2i_act act)
{
    if (!bias && !residual && act == T2I_ACT_NONE) return T2I_OK;
    return CUDA_DISPATCH_DTYPE(be, epilogue_launch, y, bias, residual, n, inner, channels, act, cuda_stream_of(be));
}
