/*
 * quant.h — the INT8 weight format of the "int8w" precision rung, shared by
 * the weight store that writes it (runtime/weights.c) and the CPU GEMM and
 * convolution kernels that read it (kernels/cpu/cpu_gemm.c, cpu_conv.c).
 *
 * A weight of shape [N, K...] (LINEAR [N, K], CONV2D [O, C, kh, kw]: K =
 * product of the trailing dims) is quantised per output channel n,
 * symmetric, round to nearest (roundf: halves away from zero):
 *
 *   scale[n] = max_k |w[n,k]| / 127   (1 when the row is all zero)
 *   q[n,k]   = round(w[n,k] / scale[n]) in [-127, 127]
 *   w'[n,k]  = q[n,k] · scale[n]       |w - w'| <= scale[n] / 2
 *
 * Storage, one block per weight: q as N·K int8 row-major, then the N FP32
 * scales at byte offset t2i_q8_scales_offset(N·K) (64-byte aligned). Weight
 * bytes are N·K + 4·N (+ padding) instead of 4·N·K: a quarter for K >> 4.
 * A graph tensor stored this way has dtype T2I_I8 in a plan's graph. The
 * functions are in kernels/cpu/cpu_quant.c.
 */
#ifndef T2I_QUANT_H
#define T2I_QUANT_H

#include <stddef.h>
#include <stdint.h>

static inline size_t t2i_q8_scales_offset(size_t numel) { return (numel + 63) / 64 * 64; }
static inline size_t t2i_q8_bytes(size_t n, size_t k) { return t2i_q8_scales_offset(n * k) + n * sizeof(float); }

/* Quantise w[n, k] (FP32) into dst (t2i_q8_bytes(n, k) bytes, layout above). */
void t2i_q8_quantize_rows(const float *w, int64_t n, int64_t k, void *dst);

/* Rows [r0, r1) of a quantised weight back to FP32: out[(r - r0)·k + j]. */
void t2i_q8_dequantize_rows(const void *q8, int64_t n, int64_t k, int64_t r0, int64_t r1, float *out);

#endif
