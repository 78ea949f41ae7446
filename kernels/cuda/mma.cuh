/*
 * mma.cuh — the one place where kernels touch tensor-core instructions.
 *
 * Every architecture-specific instruction our kernels use goes through a
 * wrapper here with two implementations: inline PTX under nvcc, and an
 * emulation of the PTX ISA's per-lane semantics under the host build
 * (cuda_compat.cuh), so that the same kernel source runs in both.
 *
 * mma_m16n8k16(d, a, b):  D[16×8] += A[16×16] · B[16×8], FP16 or BF16
 * inputs, FP32 accumulators — `mma.sync.aligned.m16n8k16.row.col.f32.{f16,bf16}`.
 * Fragment layout (PTX ISA, "Matrix fragments for mma.m16n8k16 with
 * floating point type"), with g = lane/4 (groupID) and t = lane%4
 * (threadID_in_group); a 32-bit register holds two 16-bit elements, the
 * lower-indexed one in the low half:
 *   A (row-major 16×16), 4 registers:  a[0] = A[g  ][2t..2t+1]
 *                                      a[1] = A[g+8][2t..2t+1]
 *                                      a[2] = A[g  ][2t+8..2t+9]
 *                                      a[3] = A[g+8][2t+8..2t+9]
 *   B (col-major 16×8), 2 registers:   b[0] = B[2t..2t+1  ][g]
 *                                      b[1] = B[2t+8..2t+9][g]
 *   C/D (16×8 FP32), 4 floats:         d[0..1] = D[g  ][2t..2t+1]
 *                                      d[2..3] = D[g+8][2t..2t+1]
 * Note the accumulator layout of two adjacent n-tiles equals the A layout of
 * one k-chunk, which is what lets flash attention feed P = softmax(S) back
 * into the next MMA from registers.
 *
 * The emulation is a warp collective: every lane stores its registers in the
 * warp's scratch, the warp synchronises, and each lane computes its four
 * outputs from the gathered fragments (products exact in FP32, summed in k
 * order; a GPU's tensor core sums in an unspecified order with at least FP32
 * precision, so results agree to FP32 rounding, not bit for bit).
 *
 * Not wrapped (not used yet): ldmatrix, cp.async, wgmma; a kernel that
 * starts using one adds its wrapper here, with its emulation.
 */
#ifndef T2I_MMA_CUH
#define T2I_MMA_CUH

#include "kernels/cuda/cuda_compat.cuh"

/* Two floats → one register of two FP16 / BF16 (lo in the low half). */
__device__ __forceinline__ uint32_t pack2(float lo, float hi, __half *)
{
    return (uint32_t)__half_as_ushort(__float2half_rn(lo)) | ((uint32_t)__half_as_ushort(__float2half_rn(hi)) << 16);
}
__device__ __forceinline__ uint32_t pack2(float lo, float hi, __nv_bfloat16 *)
{
    return (uint32_t)__bfloat16_as_ushort(__float2bfloat16_rn(lo)) |
           ((uint32_t)__bfloat16_as_ushort(__float2bfloat16_rn(hi)) << 16);
}

#if !T2I_CUDA_EMU
__device__ __forceinline__ void mma_m16n8k16(float d[4], const uint32_t a[4], const uint32_t b[2], __half *)
{
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
                 "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
__device__ __forceinline__ void mma_m16n8k16(float d[4], const uint32_t a[4], const uint32_t b[2], __nv_bfloat16 *)
{
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                 "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
#else
static inline float emu_elem(uint32_t reg, int hi, __half *)
{
    return __half2float(__ushort_as_half((unsigned short)(hi ? reg >> 16 : reg & 0xffff)));
}
static inline float emu_elem(uint32_t reg, int hi, __nv_bfloat16 *)
{
    __nv_bfloat16 h;
    h.__x = (uint16_t)(hi ? reg >> 16 : reg & 0xffff);
    return __bfloat162float(h);
}
template <class T> static inline void emu_mma_m16n8k16(float d[4], const uint32_t a[4], const uint32_t b[2])
{
    uint32_t *s = emu_warp_scratch();   /* lane L: s[8L..8L+3] = a, s[8L+4..8L+5] = b */
    unsigned lane = emu_lane();
    for (int i = 0; i < 4; i++) s[8 * lane + i] = a[i];
    s[8 * lane + 4] = b[0];
    s[8 * lane + 5] = b[1];
    emu_warp_sync();
    int g = (int)lane / 4, t = (int)lane % 4;
    for (int i = 0; i < 4; i++) {
        int row = g + (i >= 2 ? 8 : 0), col = 2 * t + (i & 1);
        float acc = d[i];
        for (int k = 0; k < 16; k++) {
            int al = (row % 8) * 4 + (k % 8) / 2, ar = (row >= 8 ? 1 : 0) + (k >= 8 ? 2 : 0);
            int bl = col * 4 + (k % 8) / 2, br = k >= 8 ? 1 : 0;
            acc += emu_elem(s[8 * al + ar], k & 1, (T *)0) * emu_elem(s[8 * bl + 4 + br], k & 1, (T *)0);
        }
        d[i] = acc;
    }
    emu_warp_sync();
}
static inline void mma_m16n8k16(float d[4], const uint32_t a[4], const uint32_t b[2], __half *)
{
    emu_mma_m16n8k16<__half>(d, a, b);
}
static inline void mma_m16n8k16(float d[4], const uint32_t a[4], const uint32_t b[2], __nv_bfloat16 *)
{
    emu_mma_m16n8k16<__nv_bfloat16>(d, a, b);
}
#endif

#endif
