/* rng.c — torch CPU generator (mt19937 + torch's normal paths) and the A1111
 * Philox source. See rng.h for the exact semantics reproduced. */
#include <math.h>
#include <string.h>
#include "base/error.h"
#include "runtime/rng.h"

#define MT_N 624
#define MT_M 397

void t2i_rng_seed(t2i_rng *r, uint64_t seed)
{
    memset(r, 0, sizeof *r);
    r->seed = seed;
    /* torch: state[0] = seed & 0xffffffff, the usual 1812433253 recurrence */
    r->mt[0] = (uint32_t)(seed & 0xffffffffu);
    for (int j = 1; j < MT_N; j++)
        r->mt[j] = 1812433253u * (r->mt[j - 1] ^ (r->mt[j - 1] >> 30)) + (uint32_t)j;
    r->mt_next = MT_N;
}

static void mt_regenerate(uint32_t *mt)
{
    for (int k = 0; k < MT_N; k++) {
        uint32_t y = (mt[k] & 0x80000000u) | (mt[(k + 1) % MT_N] & 0x7fffffffu);
        mt[k] = mt[(k + MT_M) % MT_N] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
    }
}

uint32_t t2i_rng_u32(t2i_rng *r)
{
    if (r->mt_next >= MT_N) {
        mt_regenerate(r->mt);
        r->mt_next = 0;
    }
    uint32_t y = r->mt[r->mt_next++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

/* torch random64(): first word high, second word low. */
static uint64_t rng_u64(t2i_rng *r)
{
    uint64_t hi = t2i_rng_u32(r);
    uint64_t lo = t2i_rng_u32(r);
    return (hi << 32) | lo;
}

/* uniform_real_distribution<float>(0,1): low 24 bits / 2^24, in float. */
static float uniform_f32(t2i_rng *r)
{
    return (float)(t2i_rng_u32(r) & 0xffffffu) * (1.0f / 16777216.0f);
}

/* uniform_real_distribution<double>(0,1): low 53 bits / 2^53. */
static double uniform_f64(t2i_rng *r)
{
    return (double)(rng_u64(r) & ((UINT64_C(1) << 53) - 1)) *
           (1.0 / 9007199254740992.0);
}

/* torch NormalFill16 (mean 0, std 1) on 16 uniforms in place. */
static void normal_fill_16(float *d)
{
    const float two_pi = (float)(2.0 * 3.14159265358979323846);
    for (int j = 0; j < 8; j++) {
        float u1 = 1.0f - d[j];
        float u2 = d[j + 8];
        float radius = sqrtf(-2.0f * logf(u1));
        float theta = two_pi * u2;
        d[j] = radius * cosf(theta);
        d[j + 8] = radius * sinf(theta);
    }
}

/* at::normal_distribution<double>(0, 1) with the generator's cache. */
static double normal_f64(t2i_rng *r)
{
    if (r->has_cached_normal) {
        r->has_cached_normal = 0;
        return r->cached_normal;
    }
    double u1 = uniform_f64(r);
    double u2 = uniform_f64(r);
    double radius = sqrt(-2.0 * log1p(-u2));
    double theta = 2.0 * 3.14159265358979323846 * u1;
    r->cached_normal = radius * sin(theta);
    r->has_cached_normal = 1;
    return radius * cos(theta);
}

void t2i_rng_randn(t2i_rng *r, float *out, size_t n)
{
    if (n < 16) {
        for (size_t i = 0; i < n; i++)
            out[i] = (float)normal_f64(r);
        return;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = uniform_f32(r);
    for (size_t i = 0; i + 16 <= n; i += 16)
        normal_fill_16(out + i);
    if (n % 16 != 0) {
        float *tail = out + n - 16;
        for (int i = 0; i < 16; i++)
            tail[i] = uniform_f32(r);
        normal_fill_16(tail);
    }
}

/* ---- Philox 4x32-10 ------------------------------------------------------ */

static void philox4x32_10(uint32_t c[4], uint32_t k0, uint32_t k1)
{
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)c[0] * 0xD2511F53u;
        uint64_t p2 = (uint64_t)c[2] * 0xCD9E8D57u;
        uint32_t n0 = (uint32_t)(p2 >> 32) ^ c[1] ^ k0;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c[3] ^ k1;
        c[0] = n0;
        c[1] = (uint32_t)p2;
        c[2] = n2;
        c[3] = (uint32_t)p0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
}

t2i_status t2i_rng_philox_randn(t2i_rng *r, float *out, size_t n)
{
    if ((uint64_t)n > UINT32_MAX)
        return t2i_fail(T2I_ERR_INVALID_ARG,
                        "philox randn: %zu values in one call (max 2^32-1)", n);
    /* A1111 keeps these as float32 arrays; numpy then promotes the uint32
     * operands and the arithmetic to float64. */
    const float inv_f = 2.3283064e-10f;
    const float inv2pi_f = (float)(2.3283064e-10 * 6.2831855);
    const double inv = inv_f, half = inv_f / 2.0f;
    const double inv2pi = inv2pi_f, half2pi = inv2pi_f / 2.0f;
    uint32_t k0 = (uint32_t)r->seed, k1 = (uint32_t)(r->seed >> 32);
    uint32_t off = (uint32_t)r->philox_offset;
    for (size_t i = 0; i < n; i++) {
        uint32_t c[4] = {off, 0, (uint32_t)i, 0};
        philox4x32_10(c, k0, k1);
        double u = (double)c[0] * inv + half;
        double v = (double)c[1] * inv2pi + half2pi;
        out[i] = (float)(sqrt(-2.0 * log(u)) * sin(v));
    }
    r->philox_offset++;
    return T2I_OK;
}

t2i_status t2i_rng_randn_from(t2i_rng *r, t2i_noise_source src, float *out,
                              size_t n)
{
    switch (src) {
    case T2I_NOISE_TORCH_CPU: t2i_rng_randn(r, out, n); return T2I_OK;
    case T2I_NOISE_PHILOX: return t2i_rng_philox_randn(r, out, n);
    }
    return t2i_fail(T2I_ERR_INVALID_ARG, "noise source %d is unknown", (int)src);
}
