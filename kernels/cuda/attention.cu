/*
 * attention.cu — ATTENTION as flash attention (FlashAttention-2 schedule):
 * out = softmax(scale·q·kᵀ [causal]) · v per (batch, head), never forming
 * the Nq×Nk matrix.
 *
 * Layout: q[B,Nq,H·D], k[B,Nk,H·D], v[B,Nk,H·Dv] -> out[B,Nq,H·Dv], heads side
 * by side in the channel dim (as the projections produce them); heads are
 * addressed in place through row strides, never copied.
 *
 * Schedule: a block of 4 warps owns 64 query rows of one (b, h); warp w owns
 * rows 16w..16w+15 and keeps them in registers for the whole key loop:
 *   - its Q rows as MMA A-fragments (DP/16 chunks of the head dim, DP = the
 *     head dim rounded up to 16: 40 → 48, 80 → 80, zero-padded);
 *   - the output accumulator O[16 × DP] in FP32 MMA C-fragments;
 *   - per row the running max m and the partial sum l (online softmax).
 * Keys go by tiles of 64: the block stages K and V tiles [64 × DP] in shared
 * memory (zero beyond Nk and beyond D), then each warp computes
 * S = Q·Kᵀ [16 × 64] with mma.m16n8k16, scales it, masks keys ≥ Nk (and,
 * causal, keys after the query), updates m, rescales O and l by
 * exp2(m_old - m_new), and multiplies P = exp2(S - m) — rounded to the
 * storage type, fed from the accumulators straight into A-fragments (see
 * mma.cuh) — by the V tile. At the end O / l is rounded once and stored.
 * With `causal`, tiles past the block's last query are skipped.
 *
 * Numerics: S, m, l and O in FP32; the only roundings are P (one per term,
 * relative 2^-11 in FP16) and the output. Shared memory per block:
 * 2·64·(DP+8)·2 bytes (DP = 160: 43 KB, under the 48 KB static limit).
 * Head dims up to 160 (SD 1.x: 40, 80, 160; SD 2.x / XL: 64; 128 for
 * others); larger ones are T2I_ERR_UNSUPPORTED.
 *
 * K/V tiles are staged with 16-byte loads when head dims and strides are
 * multiples of 8 elements (all SD models), element by element otherwise.
 * Not done yet (GPU-only tuning, measured on a device): ldmatrix and
 * cp.async double buffering of the K/V tiles, Hopper wgmma.
 */
#include <math.h>
#include "kernels/cuda/attention.cuh"

template <class T, int DP>
static __global__ void __launch_bounds__(ATTN_THREADS) flash_attn_kernel(attn_params p)
{
    constexpr int KC = DP / 16;        /* k-chunks of the head dim for S = Q·Kᵀ */
    constexpr int NT = ATTN_BC / 8;    /* n-tiles of S (8 keys each) */
    constexpr int PC = ATTN_BC / 16;   /* k-chunks of the key dim for O += P·V */
    constexpr int OT = DP / 8;         /* n-tiles of O */
    constexpr int LD = DP + 8;         /* shared row pitch in elements (keeps 4-byte alignment, skews banks) */
    __shared__ __align__(16) uint16_t ks[ATTN_BC * LD];   /* read as 32-bit words below */
    __shared__ __align__(16) uint16_t vs[ATTN_BC * LD];

    const int warp = (int)threadIdx.x / 32, lane = (int)threadIdx.x % 32, g = lane / 4, t = lane % 4;
    const int b = (int)blockIdx.z, h = (int)blockIdx.y;
    const int q0 = (int)blockIdx.x * ATTN_BR + warp * 16;
    const uint16_t *Q = (const uint16_t *)p.q + (int64_t)b * p.Nq * p.q_row + (int64_t)h * p.D;
    const uint16_t *K = (const uint16_t *)p.k + (int64_t)b * p.Nk * p.k_row + (int64_t)h * p.D;
    const uint16_t *V = (const uint16_t *)p.v + (int64_t)b * p.Nk * p.v_row + (int64_t)h * p.Dv;
    uint16_t *O = (uint16_t *)p.o + (int64_t)b * p.Nq * p.o_row + (int64_t)h * p.Dv;

    /* Q as A-fragments: a[i] = Q[g + 8(i&1)][16kc + 2t + 8(i>>1) + {0,1}] */
    uint32_t qa[KC][4];
    for (int kc = 0; kc < KC; kc++)
        for (int i = 0; i < 4; i++) {
            int row = q0 + g + 8 * (i & 1), col = 16 * kc + 2 * t + 8 * (i >> 1);
            uint32_t lo = 0, hi = 0;
            if (row < p.Nq) {
                if (col < p.D) lo = Q[(int64_t)row * p.q_row + col];
                if (col + 1 < p.D) hi = Q[(int64_t)row * p.q_row + col + 1];
            }
            qa[kc][i] = lo | hi << 16;
        }

    float o[OT][4];
    for (int j = 0; j < OT; j++) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.0f;
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};   /* rows g and g+8 */

    int kmax = p.Nk;
    if (p.causal && (int)(blockIdx.x + 1) * ATTN_BR < kmax) kmax = (int)(blockIdx.x + 1) * ATTN_BR;
    for (int k0 = 0; k0 < kmax; k0 += ATTN_BC) {
        __syncthreads();   /* every warp is done with the previous tile */
        if (p.vec16) {
            /* 16-byte loads: 8 elements per thread and step (see vec16) */
            for (int idx = (int)threadIdx.x; idx < ATTN_BC * DP / 8; idx += ATTN_THREADS) {
                int r = idx / (DP / 8), c = idx % (DP / 8) * 8, key = k0 + r;
                uint4 kv = make_uint4(0, 0, 0, 0), vv = make_uint4(0, 0, 0, 0);
                if (key < p.Nk && c < p.D) kv = *(const uint4 *)(K + (int64_t)key * p.k_row + c);
                if (key < p.Nk && c < p.Dv) vv = *(const uint4 *)(V + (int64_t)key * p.v_row + c);
                *(uint4 *)(ks + r * LD + c) = kv;
                *(uint4 *)(vs + r * LD + c) = vv;
            }
        } else {
            for (int idx = (int)threadIdx.x; idx < ATTN_BC * DP; idx += ATTN_THREADS) {
                int r = idx / DP, c = idx % DP, key = k0 + r;
                ks[r * LD + c] = key < p.Nk && c < p.D ? K[(int64_t)key * p.k_row + c] : (uint16_t)0;
                vs[r * LD + c] = key < p.Nk && c < p.Dv ? V[(int64_t)key * p.v_row + c] : (uint16_t)0;
            }
        }
        __syncthreads();

        /* S = Q·Kᵀ: B[k = d][n = key] = K[key][d], b[0] = K[8nt+g][16kc+2t..], b[1] = +8 */
        float s[NT][4];
        for (int nt = 0; nt < NT; nt++) {
            s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.0f;
            const uint16_t *kr = ks + (8 * nt + g) * LD + 2 * t;
            for (int kc = 0; kc < KC; kc++) {
                uint32_t bf[2] = {*(const uint32_t *)(kr + 16 * kc), *(const uint32_t *)(kr + 16 * kc + 8)};
                mma_m16n8k16(s[nt], qa[kc], bf, (T *)0);
            }
        }

        /* scale, mask, row max (a row's 64 values live in the 4 lanes of a quad) */
        float mx[2] = {-INFINITY, -INFINITY};
        for (int nt = 0; nt < NT; nt++)
            for (int i = 0; i < 4; i++) {
                int key = k0 + 8 * nt + 2 * t + (i & 1), row = q0 + g + 8 * (i >> 1);
                float v = s[nt][i] * p.scale_log2;
                if (key >= p.Nk || (p.causal && key > row)) v = -INFINITY;
                s[nt][i] = v;
                mx[i >> 1] = fmaxf(mx[i >> 1], v);
            }
        float alpha[2], mu[2];
        for (int r = 0; r < 2; r++) {
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
            float mn = fmaxf(m[r], mx[r]);
            mu[r] = mn == -INFINITY ? 0.0f : mn;      /* a row with no visible key yet */
            alpha[r] = exp2f(m[r] - mu[r]);
            m[r] = mn;
            l[r] *= alpha[r];
        }
        for (int j = 0; j < OT; j++) {
            o[j][0] *= alpha[0], o[j][1] *= alpha[0];
            o[j][2] *= alpha[1], o[j][3] *= alpha[1];
        }
        for (int nt = 0; nt < NT; nt++)
            for (int i = 0; i < 4; i++) {
                float e = exp2f(s[nt][i] - mu[i >> 1]);
                s[nt][i] = e;
                l[i >> 1] += e;
            }

        /* O += P·V: P's accumulators of n-tiles 2pc, 2pc+1 are the A-fragment
         * of key chunk pc; B[k = key][n = dv]: b[0] = V[16pc+2t..+1][8j+g], b[1] = +8 keys */
        for (int pc = 0; pc < PC; pc++) {
            uint32_t pa[4] = {pack2(s[2 * pc][0], s[2 * pc][1], (T *)0), pack2(s[2 * pc][2], s[2 * pc][3], (T *)0),
                              pack2(s[2 * pc + 1][0], s[2 * pc + 1][1], (T *)0),
                              pack2(s[2 * pc + 1][2], s[2 * pc + 1][3], (T *)0)};
            const uint16_t *vr = vs + (16 * pc + 2 * t) * LD + g;
            for (int j = 0; j < OT; j++) {
                const uint16_t *c = vr + 8 * j;
                uint32_t bf[2] = {(uint32_t)c[0] | (uint32_t)c[LD] << 16,
                                  (uint32_t)c[8 * LD] | (uint32_t)c[9 * LD] << 16};
                mma_m16n8k16(o[j], pa, bf, (T *)0);
            }
        }
    }

    /* the row sums are split over the quad's 4 lanes */
    for (int r = 0; r < 2; r++) {
        l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
        l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
        l[r] = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
    }
    for (int j = 0; j < OT; j++)
        for (int i = 0; i < 4; i++) {
            int row = q0 + g + 8 * (i >> 1), col = 8 * j + 2 * t + (i & 1);
            if (row < p.Nq && col < p.Dv) {
                T v = from_f32<T>(o[j][i] * l[i >> 1]);
                uint16_t bits;
                memcpy(&bits, &v, 2);
                O[(int64_t)row * p.o_row + col] = bits;
            }
        }
}

template <class T, int DP> static t2i_status attn_launch_dp(const attn_params &p, cudaStream_t s)
{
    dim3 grid((unsigned)((p.Nq + ATTN_BR - 1) / ATTN_BR), (unsigned)p.H, (unsigned)p.B);
    CUDA_LAUNCH((flash_attn_kernel<T, DP>), grid, ATTN_THREADS, s, p);
    return T2I_OK;
}

/* The runtime head dim → the template's padded one (one switch, as
 * flash-attention's static_switch.h). */
template <class T> static t2i_status attn_launch(const attn_params &p, cudaStream_t s)
{
    int d = p.D > p.Dv ? p.D : p.Dv;
    int dp = (d + 15) / 16 * 16;
    switch (dp) {
    case 16:
    case 32: return attn_launch_dp<T, 32>(p, s);
    case 48: return attn_launch_dp<T, 48>(p, s);
    case 64: return attn_launch_dp<T, 64>(p, s);
    case 80: return attn_launch_dp<T, 80>(p, s);
    case 96: return attn_launch_dp<T, 96>(p, s);
    case 112:
    case 128: return attn_launch_dp<T, 128>(p, s);
    case 144:
    case 160: return attn_launch_dp<T, 160>(p, s);
    default: return T2I_ERR_UNSUPPORTED;
    }
}

extern "C" t2i_status cuda_op_attention(t2i_backend *be, const t2i_op_args *a)
{
    const t2i_attr_attention *at = &a->node->attr.attention;
    const t2i_tensor *q = a->in[0], *k = a->in[1], *v = a->in[2];
    attn_params p;
    memset(&p, 0, sizeof p);
    p.q = a->in_data[0], p.k = a->in_data[1], p.v = a->in_data[2], p.o = a->out_data;
    p.B = (int)q->ne[0], p.H = at->heads, p.Nq = (int)q->ne[1], p.Nk = (int)k->ne[1];
    p.D = (int)(q->ne[2] / at->heads), p.Dv = (int)(v->ne[2] / at->heads);
    p.q_row = q->ne[2], p.k_row = k->ne[2], p.v_row = v->ne[2], p.o_row = v->ne[2];
    p.scale_log2 = at->scale * 1.4426950408889634f;
    p.causal = at->causal;
    /* 16-byte K/V loads need every row start 16-byte aligned: head dims and
     * row strides multiples of 8 elements, base pointers 16-aligned (arena
     * tensors are 256-aligned; a view could be offset). */
    p.vec16 = p.D % 8 == 0 && p.Dv % 8 == 0 && p.k_row % 8 == 0 && p.v_row % 8 == 0 &&
              (uintptr_t)p.k % 16 == 0 && (uintptr_t)p.v % 16 == 0;
    if (p.D > ATTN_MAX_HEAD_DIM || p.Dv > ATTN_MAX_HEAD_DIM || p.H > 65535 || p.B > 65535 || p.D < 1)
        return t2i_fail(T2I_ERR_UNSUPPORTED, "%s: attention with head dims %d/%d, %d heads, batch %d is not supported "
                        "(head dim at most %d)", a->node->name, p.D, p.Dv, p.H, p.B, ATTN_MAX_HEAD_DIM);
    if (p.Nq == 0) return T2I_OK;
    return CUDA_DISPATCH_DTYPE(be, attn_launch, p, cuda_stream_of(be));
}
