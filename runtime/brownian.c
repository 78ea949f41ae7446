/* brownian.c — the Brownian tree of DPM++ SDE (brownian.h). */
#include "runtime/brownian.h"

#include <math.h>
#include <string.h>
#include "runtime/rng.h"

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

uint64_t t2i_brownian_node_seed(uint64_t seed, int depth, uint64_t index)
{
    return splitmix64(seed ^ splitmix64((uint64_t)depth << 32 | index)) & 0x7FFFFFFFFFFFFFFFull;
}

static void node_normals(uint64_t seed, int depth, uint64_t index, float *z, size_t n)
{
    t2i_rng r;
    t2i_rng_seed(&r, t2i_brownian_node_seed(seed, depth, index));
    t2i_rng_randn(&r, z, n);
}

void t2i_brownian_at(uint64_t seed, double lo, double hi, double t, float *out, float *work, size_t n)
{
    float *wa = work, *wb = work + n, *z = work + 2 * n;
    if (t <= lo || !(hi > lo)) {
        memset(out, 0, n * sizeof *out);
        return;
    }
    node_normals(seed, 0, 0, z, n);
    const float c0 = (float)sqrt(hi - lo);
    for (size_t k = 0; k < n; k++) wa[k] = 0.0f, wb[k] = c0 * z[k];
    double a = lo, b = hi;
    uint64_t index = 0;
    for (int d = 1; d <= T2I_BROWNIAN_DEPTH && t < b; d++) {
        const double m = 0.5 * (a + b);
        const float c = (float)(0.5 * sqrt(b - a));
        node_normals(seed, d, index, z, n);
        float *move = t < m ? wb : wa;   /* the end that becomes the midpoint */
        for (size_t k = 0; k < n; k++) move[k] = 0.5f * (wa[k] + wb[k]) + c * z[k];
        if (t < m) b = m, index = 2 * index;
        else a = m, index = 2 * index + 1;
        if (t == a) {
            memcpy(out, wa, n * sizeof *out);
            return;
        }
    }
    if (t >= b) {
        memcpy(out, wb, n * sizeof *out);
        return;
    }
    const float w = (float)((t - a) / (b - a));
    for (size_t k = 0; k < n; k++) out[k] = wa[k] + (wb[k] - wa[k]) * w;
}

void t2i_brownian_noise(uint64_t seed, double lo, double hi, double t0, double t1, float *out, float *work, size_t n)
{
    float *w0 = work + 3 * n;
    t2i_brownian_at(seed, lo, hi, t0, w0, work, n);
    t2i_brownian_at(seed, lo, hi, t1, out, work, n);
    const float inv = (float)(1.0 / sqrt(fabs(t1 - t0)));
    for (size_t k = 0; k < n; k++) out[k] = (out[k] - w0[k]) * inv;
}
