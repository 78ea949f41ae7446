/*
 * brownian.h — the Brownian tree behind DPM++ SDE's noise: one Brownian
 * motion W(t) per image over t in [lo, hi] (sigma_min .. sigma_max of the
 * run), a deterministic function of (seed, lo, hi, t) only, so the path is
 * the same whichever times are asked and in whatever order (k-diffusion's
 * BrownianTreeNoiseSampler has the same property through torchsde's
 * BrownianTree; t2i's tree is its own, not torchsde's RNG stream).
 *
 * Construction (a Lévy / Brownian-bridge bisection): W(lo) = 0,
 * W(hi) = sqrt(hi - lo) · Z(0, 0). A node [a, b] at depth d, index i (the
 * root is [lo, hi] at depth 0) with W(a), W(b) known puts its midpoint m at
 *     W(m) = (W(a) + W(b)) / 2 + sqrt(b - a) / 2 · Z(d + 1, i)
 * (the bridge's exact law: mean the chord, variance (b - a) / 4). W(t)
 * descends from the root to the half holding t (left: index 2i, right:
 * 2i + 1) for T2I_BROWNIAN_DEPTH levels and interpolates linearly inside the
 * last interval, (hi - lo) / 2^DEPTH wide (2^-20 of the range: far below the
 * spacing of any schedule's sigmas). Each Z(d, i) is n independent standard
 * normals: torch.randn(n, generator=torch.Generator().manual_seed(
 * t2i_brownian_node_seed(seed, d, i))), t2i's torch-compatible CPU generator.
 * Hence: increments over disjoint intervals are independent, their variance
 * is the interval's length, and W(a→c) = W(a→b) + W(b→c) for any a < b < c
 * (tests/test_brownian.c checks all three).
 *
 * The noise of a step, as k-diffusion's noise sampler returns it, is
 *     (W(t1) - W(t0)) / sqrt|t1 - t0|    (a standard normal per element).
 * scripts/fixtures/fixtures_dpmpp_sde.py holds the same tree in Python.
 */
#ifndef T2I_BROWNIAN_H
#define T2I_BROWNIAN_H

#include <stddef.h>
#include <stdint.h>

#define T2I_BROWNIAN_DEPTH 20

/* The generator seed of node (depth, index) of the tree of `seed`:
 * splitmix64(seed ^ splitmix64(depth << 32 | index)), top bit cleared. */
uint64_t t2i_brownian_node_seed(uint64_t seed, int depth, uint64_t index);

/* out[0..n) = W(t) of the tree (seed, lo, hi); t is clamped to [lo, hi].
 * work: 3n floats of scratch. */
void t2i_brownian_at(uint64_t seed, double lo, double hi, double t, float *out, float *work, size_t n);

/* out[0..n) = (W(t1) - W(t0)) / sqrt|t1 - t0| (t0 != t1). work: 4n floats. */
void t2i_brownian_noise(uint64_t seed, double lo, double hi, double t0, double t1, float *out, float *work, size_t n);

#endif
