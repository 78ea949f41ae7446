/*
 * layout.cu — ops that move data without arithmetic; exact (bit copies of
 * the 16-bit elements, so they are templated on the element size only).
 *
 * EMBEDDING   ids[B,L] (I32), table[V,C] -> [B,L,C]: one block row per id.
 *             An id outside [0,V) writes a zero row and sets the backend's
 *             error flag, which the next sync() reports as
 *             T2I_ERR_INVALID_ARG (a kernel cannot return a status).
 * UPSAMPLE    [N,C,H,W] -> [N,C,2H,2W], nearest: y[2i+a][2j+b] = x[i][j].
 * PIXEL_UNSHUFFLE [N,C,H,W] -> [N,C·r²,H/r,W/r]: one thread per output
 *             element, y[n][c·r²+i·r+j][h][w] = x[n][c][h·r+i][w·r+j].
 * CONCAT      along any axis: as [outer, ne[axis]·inner] rows, the output row
 *             is a's row followed by b's; one pass over the output.
 * SLICE       [outer, len·inner] rows copied from [outer, ne[axis]·inner].
 * TO_TOKENS   [N,C,HW] -> [N,HW,C] and FROM_TOKENS, its inverse: batched
 *             transposes through a 32×33 shared-memory tile (the extra
 *             column avoids bank conflicts), so that both the read and the
 *             write are coalesced.
 * pad2d       zero padding on four sides (for CONV2D, see conv.cu).
 */
#include "kernels/cuda/layout.cuh"

#define LY_BLOCK 256

/* ---- EMBEDDING -------------------------------------------------------------- */
static __global__ void embedding_kernel(const int32_t *ids, const uint16_t *table, uint16_t *y, int64_t n, int64_t V,
                                        int64_t C, int *err)
{
    for (int64_t r = blockIdx.x; r < n; r += gridDim.x) {
        int32_t id = ids[r];
        bool ok = id >= 0 && id < V;
        if (!ok && threadIdx.x == 0) *err = CUDA_ERR_EMBEDDING_ID;
        for (int64_t j = threadIdx.x; j < C; j += blockDim.x) y[r * C + j] = ok ? table[(int64_t)id * C + j] : 0;
    }
}

extern "C" t2i_status cuda_op_embedding(t2i_backend *be, const t2i_op_args *a)
{
    int64_t n = t2i_tensor_numel(a->in[0]), V = a->in[1]->ne[0], C = a->in[1]->ne[1];
    unsigned grid = (unsigned)(n < 65535 ? (n > 0 ? n : 1) : 65535);
    CUDA_LAUNCH(embedding_kernel, grid, 128, cuda_stream_of(be), (const int32_t *)a->in_data[0],
                (const uint16_t *)a->in_data[1], (uint16_t *)a->out_data, n, V, C, ((cuda_backend *)be)->err_flag);
    return T2I_OK;
}

/* ---- UPSAMPLE ----------------------------------------------------------------- */
static __global__ void upsample_kernel(const uint16_t *x, uint16_t *y, int64_t n_out, int64_t H, int64_t W)
{
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n_out; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t ox = i % (2 * W), oy = (i / (2 * W)) % (2 * H), p = i / (4 * H * W);
        y[i] = x[(p * H + oy / 2) * W + ox / 2];
    }
}

extern "C" t2i_status cuda_op_upsample(t2i_backend *be, const t2i_op_args *a)
{
    int64_t n = t2i_tensor_numel(a->out);
    CUDA_LAUNCH(upsample_kernel, cuda_grid_for(n, LY_BLOCK), LY_BLOCK, cuda_stream_of(be),
                (const uint16_t *)a->in_data[0], (uint16_t *)a->out_data, n, a->in[0]->ne[2], a->in[0]->ne[3]);
    return T2I_OK;
}

/* ---- PIXEL_UNSHUFFLE ---------------------------------------------------------- */
static __global__ void pixel_unshuffle_kernel(const uint16_t *x, uint16_t *y, int64_t n_out, int64_t Ho, int64_t Wo,
                                              int r)
{
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n_out; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t w = i % Wo, h = (i / Wo) % Ho, oc = i / (Wo * Ho);   /* oc = (n·C + c)·r² + k */
        int64_t k = oc % (r * r), plane = oc / (r * r);
        int64_t di = k / r, dj = k % r;
        y[i] = x[(plane * Ho * r + h * r + di) * (Wo * r) + w * r + dj];
    }
}

extern "C" t2i_status cuda_op_pixel_unshuffle(t2i_backend *be, const t2i_op_args *a)
{
    int64_t n = t2i_tensor_numel(a->out);
    CUDA_LAUNCH(pixel_unshuffle_kernel, cuda_grid_for(n, LY_BLOCK), LY_BLOCK, cuda_stream_of(be),
                (const uint16_t *)a->in_data[0], (uint16_t *)a->out_data, n, a->out->ne[2], a->out->ne[3],
                a->node->attr.factor.r);
    return T2I_OK;
}

/* ---- CONCAT / SLICE ----------------------------------------------------------------- */
static void outer_inner(const t2i_tensor *t, int axis, int64_t *outer, int64_t *inner)
{
    *outer = 1;
    *inner = 1;
    for (int d = 0; d < axis; d++) *outer *= t->ne[d];
    for (int d = axis + 1; d < t->ndim; d++) *inner *= t->ne[d];
}

static __global__ void concat_kernel(const uint16_t *a, const uint16_t *b, uint16_t *y, int64_t n, int64_t la,
                                     int64_t lb)
{
    int64_t lo = la + lb;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t r = i / lo, j = i % lo;
        y[i] = j < la ? a[r * la + j] : b[r * lb + (j - la)];
    }
}

extern "C" t2i_status cuda_op_concat(t2i_backend *be, const t2i_op_args *a)
{
    int ax = a->node->attr.axis.axis;
    int64_t outer, inner;
    outer_inner(a->out, ax, &outer, &inner);
    int64_t la = a->in[0]->ne[ax] * inner, lb = a->in[1]->ne[ax] * inner, n = outer * (la + lb);
    CUDA_LAUNCH(concat_kernel, cuda_grid_for(n, LY_BLOCK), LY_BLOCK, cuda_stream_of(be),
                (const uint16_t *)a->in_data[0], (const uint16_t *)a->in_data[1], (uint16_t *)a->out_data, n, la, lb);
    return T2I_OK;
}

static __global__ void slice_kernel(const uint16_t *x, uint16_t *y, int64_t n, int64_t len, int64_t src_row,
                                    int64_t start)
{
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        y[i] = x[(i / len) * src_row + start + i % len];
}

extern "C" t2i_status cuda_op_slice(t2i_backend *be, const t2i_op_args *a)
{
    const t2i_attr_slice *s = &a->node->attr.slice;
    int64_t outer, inner;
    outer_inner(a->in[0], s->axis, &outer, &inner);
    int64_t len = (int64_t)s->len * inner, n = outer * len;
    CUDA_LAUNCH(slice_kernel, cuda_grid_for(n, LY_BLOCK), LY_BLOCK, cuda_stream_of(be), (const uint16_t *)a->in_data[0],
                (uint16_t *)a->out_data, n, len, a->in[0]->ne[s->axis] * inner, (int64_t)s->start * inner);
    return T2I_OK;
}

/* ---- TO_TOKENS / FROM_TOKENS ------------------------------------------------------------ */
/* y[img][j][i] = x[img][i][j] for x [rows, cols]. Block (32, 8) moves one
 * 32×32 tile: grid (⌈cols/32⌉, ⌈rows/32⌉, images). */
static __global__ void transpose_kernel(const uint16_t *x, uint16_t *y, int64_t rows, int64_t cols)
{
    __shared__ uint16_t tile[LAYOUT_TILE][LAYOUT_TILE + 1];
    const uint16_t *xi = x + (int64_t)blockIdx.z * rows * cols;
    uint16_t *yi = y + (int64_t)blockIdx.z * rows * cols;
    int64_t c0 = (int64_t)blockIdx.x * LAYOUT_TILE, r0 = (int64_t)blockIdx.y * LAYOUT_TILE;
    for (int k = threadIdx.y; k < LAYOUT_TILE; k += blockDim.y) {
        int64_t r = r0 + k, c = c0 + threadIdx.x;
        if (r < rows && c < cols) tile[k][threadIdx.x] = xi[r * cols + c];
    }
    __syncthreads();
    for (int k = threadIdx.y; k < LAYOUT_TILE; k += blockDim.y) {
        int64_t c = c0 + k, r = r0 + threadIdx.x;   /* output row c, column r */
        if (r < rows && c < cols) yi[c * rows + r] = tile[threadIdx.x][k];
    }
}

static t2i_status transpose_launch(const void *x, void *y, int64_t n, int64_t rows, int64_t cols, cudaStream_t s)
{
    if (n > 65535 || (cols + LAYOUT_TILE - 1) / LAYOUT_TILE > 0x7fffffff || (rows + LAYOUT_TILE - 1) / LAYOUT_TILE > 65535)
        return t2i_fail(T2I_ERR_UNSUPPORTED, "transpose of %lld × [%lld,%lld] exceeds the launch grid", (long long)n,
                        (long long)rows, (long long)cols);
    dim3 grid((unsigned)((cols + LAYOUT_TILE - 1) / LAYOUT_TILE), (unsigned)((rows + LAYOUT_TILE - 1) / LAYOUT_TILE),
              (unsigned)n);
    CUDA_LAUNCH(transpose_kernel, grid, dim3(LAYOUT_TILE, 8), s, (const uint16_t *)x, (uint16_t *)y, rows, cols);
    return T2I_OK;
}

extern "C" t2i_status cuda_op_to_tokens(t2i_backend *be, const t2i_op_args *a)
{
    const t2i_tensor *x = a->in[0];
    return transpose_launch(a->in_data[0], a->out_data, x->ne[0], x->ne[1], x->ne[2] * x->ne[3], cuda_stream_of(be));
}

extern "C" t2i_status cuda_op_from_tokens(t2i_backend *be, const t2i_op_args *a)
{
    const t2i_tensor *x = a->in[0];
    return transpose_launch(a->in_data[0], a->out_data, x->ne[0], x->ne[1], x->ne[2], cuda_stream_of(be));
}

/* ---- zero padding (CONV2D with asymmetric padding, which cuDNN lacks) ------------ */
static __global__ void pad2d_kernel(const uint16_t *x, uint16_t *y, int64_t n_out, int64_t H, int64_t W, int pt,
                                    int pl, int64_t Hp, int64_t Wp)
{
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n_out; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t ox = i % Wp, oy = (i / Wp) % Hp, p = i / (Hp * Wp), ix = ox - pl, iy = oy - pt;
        y[i] = iy >= 0 && iy < H && ix >= 0 && ix < W ? x[(p * H + iy) * W + ix] : (uint16_t)0;
    }
}

extern "C" t2i_status cuda_pad2d(t2i_backend *be, const void *x, void *y, int64_t planes, int64_t H, int64_t W,
                                 int pt, int pl, int pb, int pr)
{
    int64_t Hp = H + pt + pb, Wp = W + pl + pr, n = planes * Hp * Wp;
    CUDA_LAUNCH(pad2d_kernel, cuda_grid_for(n, LY_BLOCK), LY_BLOCK, cuda_stream_of(be), (const uint16_t *)x,
                (uint16_t *)y, n, H, W, pt, pl, Hp, Wp);
    return T2I_OK;
}
