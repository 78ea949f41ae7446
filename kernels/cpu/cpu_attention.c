/*
 * cpu_attention.c — ATTENTION: out = softmax(scale·q·kᵀ [causal]) · v, per
 * batch and head.
 *
 * Layouts (the token-major tensors the projections produce, heads side by
 * side in the channel dim, as diffusers' Attention before its head split):
 *   q[B, Nq, H·D], k[B, Nk, H·D], v[B, Nk, H·Dv] -> out[B, Nq, H·Dv].
 * Head h of batch b is the column block h·D..h·D+D-1 of rows b·N..; it is
 * read in place through sgemm's leading dimension (lda = H·D), never copied.
 *
 * Blocked over query rows: a task is (b, h, block of CPU_ATTN_ROWS = 64 query
 * rows). It computes the score block S = scale·Q_blk·K_hᵀ [64 × Nk] with one
 * sgemm into its thread's workspace slice, applies the numerically stable
 * softmax row by row (subtract the row max, a vectorised exp, sum), multiplies
 * P·V_h with a second sgemm straight into the output's column block, and
 * scales each output row by 1/sum. The full Nq×Nk matrix never exists: the
 * workspace is threads × 64 × Nk floats (SD1.5 at 512², Nk = 4096: 1 MiB per
 * thread). With `causal` (CLIP text encoder) key j > query i is masked, and
 * keys past the block's last query are skipped altogether.
 *
 * Threads: tasks run on the pool (B·H·⌈Nq/64⌉ of them, 1024 for SD1.5 at
 * 512² with CFG batch 2), each calling sgemm itself, so OpenBLAS is switched
 * to one thread for the duration of the op and restored afterwards — a
 * multithreaded sgemm inside every pool thread would oversubscribe the cores.
 */
#include <cblas.h>
#include <float.h>
#include <math.h>
#include "kernels/cpu/cpu_kernels.h"
#include "base/error.h"

size_t cpu_attention_workspace(int threads, const t2i_tensor *k)
{
    return (size_t)threads * CPU_ATTN_ROWS * (size_t)k->ne[1] * sizeof(float);
}

typedef struct attn_ctx {
    const float *q, *k, *v;
    float *out, *ws;
    int64_t B, H, Nq, Nk, D, Dv, blocks;
    float scale;
    bool causal;
} attn_ctx;

/* exp(x) for x ≤ 0, written so that GCC vectorises the loop that calls it
 * (libm's expf is a scalar call; measured 607 → 456 ms for 8 heads × 4096²
 * with 2 threads). Cephes expf:
 * x = n·ln2 + r with |r| ≤ ln2/2, a degree-6 polynomial for e^r, and 2^n
 * built in the exponent bits; n is rounded with the 1.5·2^23 trick instead of
 * rintf (a libm call at SSE2). Relative error ≤ 2 ulp; x < -87 flushes to
 * e^-87 ≈ 1.6e-38, which is 0 next to the row's largest term, e^0 = 1. */
static inline float exp_nonpos(float x)
{
    x = x < -87.0f ? -87.0f : x;
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * r * r + r + 1.0f;
    union { int32_t i; float f; } scale = {.i = ((int32_t)n + 127) << 23};
    return y * scale.f;
}

/* Softmax numerator of one score row in place: s[j] = exp(s[j] - max) for
 * j < valid, 0 after; returns the sum. Max and sum use 16 independent lanes
 * so they vectorise without -ffast-math; lanes are combined in double. */
static float softmax_row(float *s, int64_t valid, int64_t nk)
{
    enum { L = 16 };
    float lane[L];
    for (int l = 0; l < L; l++) lane[l] = -FLT_MAX;
    int64_t j = 0;
    for (; j + L <= valid; j += L)
        for (int l = 0; l < L; l++) lane[l] = s[j + l] > lane[l] ? s[j + l] : lane[l];
    float m = -FLT_MAX;
    for (int l = 0; l < L; l++) m = lane[l] > m ? lane[l] : m;
    for (; j < valid; j++) m = s[j] > m ? s[j] : m;

    for (j = 0; j < valid; j++) s[j] = exp_nonpos(s[j] - m);
    for (j = valid; j < nk; j++) s[j] = 0.0f;

    for (int l = 0; l < L; l++) lane[l] = 0.0f;
    for (j = 0; j + L <= valid; j += L)
        for (int l = 0; l < L; l++) lane[l] += s[j + l];
    double sum = 0.0;
    for (int l = 0; l < L; l++) sum += lane[l];
    for (; j < valid; j++) sum += s[j];
    return (float)sum;
}

static void attention_task(void *vctx, int64_t t, int tid)
{
    const attn_ctx *c = vctx;
    int64_t blk = t % c->blocks, h = (t / c->blocks) % c->H, b = t / (c->blocks * c->H);
    int64_t r0 = blk * CPU_ATTN_ROWS, r1 = r0 + CPU_ATTN_ROWS < c->Nq ? r0 + CPU_ATTN_ROWS : c->Nq;
    int64_t rows = r1 - r0, HD = c->H * c->D, HDv = c->H * c->Dv;
    int64_t nk = c->causal && r1 < c->Nk ? r1 : c->Nk;   /* keys any row of the block can see */
    float *S = c->ws + (int64_t)tid * CPU_ATTN_ROWS * c->Nk;
    const float *q = c->q + (b * c->Nq + r0) * HD + h * c->D;
    const float *k = c->k + b * c->Nk * HD + h * c->D;
    const float *v = c->v + b * c->Nk * HDv + h * c->Dv;
    float *o = c->out + (b * c->Nq + r0) * HDv + h * c->Dv;

    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)nk, (int)c->D, c->scale, q, (int)HD, k,
                (int)HD, 0.0f, S, (int)nk);
    float inv_sum[CPU_ATTN_ROWS];
    for (int64_t i = 0; i < rows; i++) {
        int64_t valid = c->causal && r0 + i + 1 < nk ? r0 + i + 1 : nk;
        inv_sum[i] = 1.0f / softmax_row(S + i * nk, valid, nk);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)c->Dv, (int)nk, 1.0f, S, (int)nk, v,
                (int)HDv, 0.0f, o, (int)HDv);
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < c->Dv; j++) o[i * HDv + j] *= inv_sum[i];
}

t2i_status cpu_op_attention(t2i_backend *be, const t2i_op_args *a)
{
    const t2i_tensor *q = a->in[0], *k = a->in[1], *v = a->in[2];
    const t2i_attr_attention *at = &a->node->attr.attention;
    int threads = cpu_threads_of(be);
    T2I_ASSERT(cpu_attention_workspace(threads, k) <= a->workspace_bytes);
    attn_ctx c = {a->in_data[0], a->in_data[1], a->in_data[2], a->out_data, a->workspace,
                  q->ne[0], at->heads, q->ne[1], k->ne[1], q->ne[2] / at->heads, v->ne[2] / at->heads,
                  (q->ne[1] + CPU_ATTN_ROWS - 1) / CPU_ATTN_ROWS, at->scale, at->causal};
    if (threads > 1) openblas_set_num_threads(1);
    cpu_parallel_for(cpu_pool_of(be), c.B * c.H * c.blocks, attention_task, &c);
    if (threads > 1) openblas_set_num_threads(threads);
    return T2I_OK;
}
