/*
 * cpu_norm.c — GROUPNORM and LAYERNORM (torch semantics: biased variance,
 * eps inside the square root, per-channel affine), with an optional fused
 * activation (GroupNorm + SiLU in every ResNet block).
 *
 * GROUPNORM  x[N,C,...] (any trailing spatial dims, S = their product),
 *            gamma[C], beta[C]. Group g of image n is the contiguous run of
 *            (C/groups)·S floats starting at channel g·C/groups, so one pool
 *            task per (n, g) reads one contiguous block twice: once for the
 *            statistics, once to normalise.
 * LAYERNORM  x[..., C] over the last dim; one pool task per chunk of rows.
 *
 * Statistics are two-pass in double (mean, then Σ(x-mean)²): exact enough
 * for any FP32 input and free of the catastrophic cancellation of
 * E[x²] - E[x]² on activations with a large mean. No workspace.
 */
#include <math.h>
#include "kernels/cpu/cpu_kernels.h"

/* Mean and 1/sqrt(var + eps) of n floats. */
static void stats(const float *x, int64_t n, float eps, float *mean, float *rstd)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += x[i];
    double m = s / (double)n, v = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double d = x[i] - m;
        v += d * d;
    }
    *mean = (float)m;
    *rstd = (float)(1.0 / sqrt(v / (double)n + (double)eps));
}

/* ---- GROUPNORM -------------------------------------------------------------- */

typedef struct gn_ctx {
    const float *x, *gamma, *beta;
    float *y;
    int64_t C, S, cpg, groups;
    float eps;
    t2i_act act;
} gn_ctx;

static void groupnorm_task(void *vctx, int64_t t, int tid)
{
    (void)tid;
    const gn_ctx *c = vctx;
    int64_t n = t / c->groups, g = t % c->groups;
    int64_t off = (n * c->C + g * c->cpg) * c->S;
    float mean, rstd;
    stats(c->x + off, c->cpg * c->S, c->eps, &mean, &rstd);
    for (int64_t k = 0; k < c->cpg; k++) {
        int64_t ch = g * c->cpg + k;
        /* (x - mean)·sc + beta, not x·sc + (beta - mean·sc): the latter loses
         * digits to cancellation when |mean| ≫ std (VAE activations) */
        float sc = c->gamma[ch] * rstd, sh = c->beta[ch];
        const float *x = c->x + off + k * c->S;
        float *y = c->y + off + k * c->S;
        for (int64_t i = 0; i < c->S; i++) y[i] = (x[i] - mean) * sc + sh;
        cpu_act_inplace(y, c->S, c->act);
    }
}

t2i_status cpu_op_groupnorm(t2i_backend *be, const t2i_op_args *a)
{
    const t2i_tensor *x = a->in[0];
    const t2i_attr_norm *at = &a->node->attr.norm;
    int64_t S = 1;
    for (int d = 2; d < x->ndim; d++) S *= x->ne[d];
    gn_ctx c = {a->in_data[0], a->in_data[1], a->in_data[2], a->out_data, x->ne[1], S, x->ne[1] / at->groups,
                at->groups, at->eps, at->act};
    cpu_parallel_for(cpu_pool_of(be), x->ne[0] * at->groups, groupnorm_task, &c);
    return T2I_OK;
}

/* ---- LAYERNORM -------------------------------------------------------------- */

typedef struct ln_ctx {
    const float *x, *gamma, *beta;
    float *y;
    int64_t rows, C, rows_per_chunk;
    float eps;
    t2i_act act;
} ln_ctx;

static void layernorm_task(void *vctx, int64_t t, int tid)
{
    (void)tid;
    const ln_ctx *c = vctx;
    int64_t r0 = t * c->rows_per_chunk, r1 = r0 + c->rows_per_chunk < c->rows ? r0 + c->rows_per_chunk : c->rows;
    for (int64_t r = r0; r < r1; r++) {
        const float *x = c->x + r * c->C;
        float *y = c->y + r * c->C;
        float mean, rstd;
        stats(x, c->C, c->eps, &mean, &rstd);
        for (int64_t i = 0; i < c->C; i++) y[i] = (x[i] - mean) * rstd * c->gamma[i] + c->beta[i];
        cpu_act_inplace(y, c->C, c->act);
    }
}

t2i_status cpu_op_layernorm(t2i_backend *be, const t2i_op_args *a)
{
    const t2i_tensor *x = a->in[0];
    const t2i_attr_norm *at = &a->node->attr.norm;
    int64_t C = x->ne[x->ndim - 1], rows = t2i_tensor_numel(x) / C;
    int64_t chunks = cpu_chunks(rows * C, 16384, cpu_threads_of(be));
    if (chunks > rows) chunks = rows;
    ln_ctx c = {a->in_data[0], a->in_data[1], a->in_data[2], a->out_data, rows, C, (rows + chunks - 1) / chunks,
                at->eps, at->act};
    cpu_parallel_for(cpu_pool_of(be), (rows + c.rows_per_chunk - 1) / c.rows_per_chunk, layernorm_task, &c);
    return T2I_OK;
}
