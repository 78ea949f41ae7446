/*
 * rng.h — seeded Gaussian noise, bit-compatible with the two sources users
 * expect from seeds: a CPU torch.Generator (diffusers' default when a
 * generator is passed) and the CUDA Philox stream the A1111 web UI imitates
 * for its "GPU" RNG source.
 *
 * torch CPU (T2I_NOISE_TORCH_CPU). One t2i_rng equals
 * torch.Generator().manual_seed(seed): an mt19937 seeded with the low 32 bits
 * of the seed (torch keeps only those; 2^32+5 draws like 5), plus the cached
 * second value of the scalar Box-Muller path. t2i_rng_randn(r, out, n) equals
 * torch.randn(n, generator=g) (float32) and consumes the stream the same way,
 * so consecutive calls continue it as torch does:
 *   n >= 16: n uniforms u = (rand32 & 0xffffff) / 2^24 are drawn into out,
 *     then every block of 16 becomes 8 Box-Muller pairs (radius from
 *     1-u[j], angle from u[j+8]: out[j] = r cos, out[j+8] = r sin). If n is
 *     not a multiple of 16, 16 fresh uniforms overwrite the last 16 slots and
 *     are transformed again ("recompute the last 16").
 *   n < 16: each value is a double-precision Box-Muller draw from two 53-bit
 *     uniforms (u1 angle, u2 radius via log1p(-u2)); the sine half is cached
 *     in the generator and returned by the next scalar draw, even in a later
 *     call. The vectorised path never touches that cache.
 * Accuracy: the scalar path is bit-exact. In the n >= 16 path torch runs
 * float32 log/sin/cos; on x86 builds with AVX2 it uses avx_mathfun's
 * polynomial log256_ps/sincos256_ps, here the C library's logf/sinf/cosf:
 * the uniforms are identical and results agree to a few float32 ulps
 * (observed max |diff| < 1e-6 for |x| < 6; tests/test_rng.c checks 1e-6
 * absolute + 2 ulps).
 *
 * Philox (T2I_NOISE_PHILOX): the A1111 algorithm (modules/rng_philox.py).
 * Element i of a call uses counter (offset, 0, i, 0) and key (seed low 32,
 * seed high 32), 10 Philox-4x32 rounds, then Box-Muller on the first two
 * output words with float32 constants and double arithmetic, keeping only
 * the sine branch. Each call advances offset by one, whatever its size.
 */
#ifndef T2I_RNG_H
#define T2I_RNG_H

#include <stddef.h>
#include <stdint.h>
#include "t2i.h"

typedef struct t2i_rng {
    uint32_t mt[624];       /* mt19937 state */
    int mt_next;            /* index of the next word; 624 = regenerate */
    int has_cached_normal;  /* scalar Box-Muller cache (torch's */
    double cached_normal;   /*   next_double_normal_sample) */
    uint64_t seed;
    uint64_t philox_offset; /* Philox calls made so far */
} t2i_rng;

/* (Re)seed like torch.Generator().manual_seed(seed); also resets the Philox
 * offset to 0 so one struct can serve either source. Never fails. */
void t2i_rng_seed(t2i_rng *r, uint64_t seed);

/* Next 32 bits of the mt19937 stream (torch's generator->random()). */
uint32_t t2i_rng_u32(t2i_rng *r);

/* out[0..n) = torch.randn(n, generator=g), advancing the stream. n = 0 is a
 * no-op. */
void t2i_rng_randn(t2i_rng *r, float *out, size_t n);

/* out[0..n) = A1111 rng_philox Generator(seed).randn((n,)) for the current
 * offset, then offset += 1. n must be < 2^32 (the counter word holding the
 * element index is 32 bits); returns T2I_ERR_INVALID_ARG otherwise. */
t2i_status t2i_rng_philox_randn(t2i_rng *r, float *out, size_t n);

/* Dispatch on the source. */
t2i_status t2i_rng_randn_from(t2i_rng *r, t2i_noise_source src, float *out,
                              size_t n);

#endif /* T2I_RNG_H */
