/*
 * weights_random.c — seeded random weights for full-size architectures.
 *
 * No real checkpoint can be downloaded on our machines, so speed and memory
 * are measured on the real architectures (perf/configs/) with random
 * weights: the same FLOPs and bytes as the real thing. The values only have
 * to keep activations finite and of ordinary magnitude through a whole UNet
 * (FP16 included), so the scales follow the usual initialisations:
 *
 *   2-d matrices, 4-d conv kernels   U(-a, a), a = sqrt(3 / fan_in)
 *                                    (std 1/sqrt(fan_in): unit-variance
 *                                    inputs give unit-variance outputs)
 *   embedding tables (name has
 *   "embedding")                     U with std 0.02 (CLIP initializer_range)
 *   1-d "*.weight" (norm scales)     1 + U(-0.02, 0.02)
 *   other 1-d (biases, norm shifts)  U(-0.02, 0.02)
 *
 * Uniform rather than normal: a 2.6 B-parameter SDXL UNet is generated in
 * seconds, and only the variance matters here. Each tensor has its own
 * generator (splitmix64) seeded from hash(seed, name), so values do not
 * depend on the order or size of the graph nor on the backend.
 */
#include <math.h>
#include <string.h>
#include "runtime/weights.h"

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* FNV-1a over the name, mixed with the seed. */
static uint64_t tensor_seed(uint64_t seed, const char *name)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) h = (h ^ *p) * 0x100000001b3ULL;
    uint64_t s = seed ^ h;
    return splitmix64(&s);
}

/* dst[i] = center + U(-half, half). */
static void fill_uniform(uint64_t state, float *dst, size_t n, float center, float half)
{
    const float scale = 2.0f * half / 16777216.0f; /* 24-bit mantissa steps */
    size_t i = 0;
    for (; i + 1 < n; i += 2) {
        uint64_t r = splitmix64(&state);
        dst[i] = center - half + scale * (float)(r >> 40);
        dst[i + 1] = center - half + scale * (float)((r >> 8) & 0xffffff);
    }
    if (i < n) dst[i] = center - half + scale * (float)(splitmix64(&state) >> 40);
}

static t2i_status fill_random(void *user, const t2i_tensor *t, float *dst)
{
    const uint64_t seed = *(const uint64_t *)user;
    const size_t n = (size_t)t2i_tensor_numel(t);
    const uint64_t state = tensor_seed(seed, t->name);
    const float sqrt3 = 1.7320508f;
    size_t len = strlen(t->name);
    if (t->ndim == 1) {
        int is_scale = len >= 7 && strcmp(t->name + len - 7, ".weight") == 0;
        fill_uniform(state, dst, n, is_scale ? 1.0f : 0.0f, 0.02f);
    } else if (strstr(t->name, "embedding")) {
        fill_uniform(state, dst, n, 0.0f, 0.02f * sqrt3);
    } else {
        int64_t fan_in = 1;
        for (int i = 1; i < t->ndim; i++) fan_in *= t->ne[i];
        fill_uniform(state, dst, n, 0.0f, sqrt3 / sqrtf((float)fan_in));
    }
    return T2I_OK;
}

t2i_status t2i_weights_random(t2i_backend *be, const t2i_graph *g, uint64_t seed, t2i_weights **out)
{
    return t2i_weights_create_filled(be, g, "random weights", fill_random, &seed, out);
}
