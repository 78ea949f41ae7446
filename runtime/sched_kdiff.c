/* sched_kdiff.c — Heun, DPM2, DPM2 ancestral and LMS as diffusers 0.42's
 * HeunDiscreteScheduler, KDPM2DiscreteScheduler,
 * KDPM2AncestralDiscreteScheduler and LMSDiscreteScheduler compute them
 * (the k-diffusion samplers of the A1111 web UI), and the second-evaluation
 * tables of DPM++ SDE (sched_sde.c). Float32 expressions mirror
 * torch's float32 ops in diffusers' order. Evaluation k of a two-evaluation
 * sampler belongs to step j = k / 2 (see sched_internal.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/error.h"
#include "runtime/sched_internal.h"

/* _sigma_to_t on a float32 torch sigma and the float32 log-sigma tensor, as
 * the DPM2 samplers call it for their interpolated sigmas: all float32. */
static float sigma_to_t_f32(float sigma, const float *log_sigmas, int n)
{
    float ls = logf(sigma > 1e-10f ? sigma : 1e-10f);
    int low = 0;
    for (int k = 0; k < n; k++)
        if (ls - log_sigmas[k] >= 0) low = k;
    if (low > n - 2) low = n - 2;
    float lo = log_sigmas[low], hi = log_sigmas[low + 1];
    float w = (lo - ls) / (lo - hi);
    w = w < 0 ? 0 : (w > 1 ? 1 : w);
    return (1 - w) * (float)low + w * (float)(low + 1);
}

/* exp(lerp(log a, log b, 0.5)) with torch's lerp for weight >= 0.5:
 * end - (end - self) * (1 - weight). log 0 = -inf gives 0. */
static float log_mid(float a, float b)
{
    float la = logf(a), lb = logf(b);
    return expf(lb - (lb - la) * 0.5f);
}

/* LMS: integral over [s0, s1] of the Lagrange basis polynomial `cur` on the
 * nodes sig[0..order-1] (sig[k] = sigmas[j - k]); diffusers integrates it
 * with scipy's quad, exact for these degree <= 3 polynomials; here
 * 4-point Gauss-Legendre (exact to degree 7), float64. */
static double lms_coefficient(const float *sig, int order, int cur, double s0, double s1)
{
    static const double x[4] = {-0.8611363115940526, -0.3399810435848563, 0.3399810435848563,
                                0.8611363115940526};
    static const double w[4] = {0.3478548451374538, 0.6521451548625461, 0.6521451548625461,
                                0.3478548451374538};
    double half = 0.5 * (s1 - s0), mid = 0.5 * (s1 + s0), sum = 0;
    for (int q = 0; q < 4; q++) {
        double tau = mid + half * x[q], prod = 1.0;
        for (int k = 0; k < order; k++)
            if (k != cur) prod *= (tau - sig[k]) / ((double)sig[cur] - sig[k]);
        sum += w[q] * prod;
    }
    return sum * half;
}

t2i_status t2i_sched_kdiff_tables(t2i_sched *s, const float *log_sigmas)
{
    const int n = s->nsteps, N = s->n_train;
    const float *sg = s->sigmas;
    if (s->kind == T2I_SAMPLER_LMS) {
        s->lms_coef = calloc((size_t)n * 4, sizeof *s->lms_coef);
        if (!s->lms_coef) return t2i_fail(T2I_ERR_NOMEM, "scheduler: out of memory");
        for (int j = 0; j < n; j++) {
            int order = j + 1 < 4 ? j + 1 : 4;
            float nodes[4];
            for (int k = 0; k < order; k++) nodes[k] = sg[j - k];
            for (int cur = 0; cur < order; cur++)
                s->lms_coef[j * 4 + cur] = lms_coefficient(nodes, order, cur, sg[j], sg[j + 1]);
        }
        return T2I_OK;
    }
    if (!s->two_evals) return T2I_OK;
    s->nevals = 2 * n - 1;
    s->sde_lo = INFINITY, s->sde_hi = 0;   /* DPM++ SDE's Brownian tree: [min positive sigma, max sigma] */
    for (int j = 0; j <= n; j++) {
        if (sg[j] > 0 && sg[j] < s->sde_lo) s->sde_lo = sg[j];
        if (sg[j] > s->sde_hi) s->sde_hi = sg[j];
    }
    s->sig2 = calloc((size_t)n, sizeof(float));
    s->t2 = calloc((size_t)n, sizeof(float));
    s->sig_mid = calloc((size_t)n, sizeof(float));
    s->sig_up = calloc((size_t)n, sizeof(float));
    s->sig_down = calloc((size_t)n, sizeof(float));
    if (!s->sig2 || !s->t2 || !s->sig_mid || !s->sig_up || !s->sig_down)
        return t2i_fail(T2I_ERR_NOMEM, "scheduler: out of memory");
    for (int j = 0; j < n; j++) {
        switch (s->kind) {
        case T2I_SAMPLER_HEUN:   /* second evaluation at the next sigma */
            s->sig2[j] = sg[j + 1];
            s->t2[j] = j + 1 < n ? s->timesteps[j + 1] : NAN;
            break;
        case T2I_SAMPLER_DPMPP_SDE:
        case T2I_SAMPLER_DPMPP_SDE_KARRAS:   /* midpoint in t = -log sigma; none before sigma 0 */
            s->sig2[j] = j + 1 < n && sg[j + 1] > 0 ? t2i_sched_sde_midpoint(sg[j], sg[j + 1]) : 0.0f;
            s->t2[j] = j + 1 < n && sg[j + 1] > 0 ? sigma_to_t_f32(s->sig2[j], log_sigmas, N) : NAN;
            break;
        case T2I_SAMPLER_DPM2:   /* midpoint in log sigma of s_j and s_j+1 */
            s->sig_mid[j] = j + 1 < n ? log_mid(sg[j + 1], sg[j]) : 0.0f;
            s->sig2[j] = s->sig_mid[j];
            s->t2[j] = j + 1 < n ? sigma_to_t_f32(s->sig_mid[j], log_sigmas, N) : NAN;
            break;
        default: {               /* DPM2 a: midpoint of s_j and sigma_down */
            float sig = sg[j], next = sg[j + 1];
            float up = sqrtf(next * next * (sig * sig - next * next) / (sig * sig));
            float down = sqrtf(next * next - up * up);
            s->sig_up[j] = up;
            s->sig_down[j] = down;
            s->sig_mid[j] = j + 1 < n ? log_mid(sig, down) : 0.0f;
            s->sig2[j] = s->sig_mid[j];
            s->t2[j] = j + 1 < n ? sigma_to_t_f32(s->sig_mid[j], log_sigmas, N) : NAN;
            break;
        }
        }
    }
    return T2I_OK;
}

static float clip(const t2i_sched *s, float x0)
{
    if (!s->c.clip_sample) return x0;
    float lim = (float)s->c.clip_sample_range;
    return x0 < -lim ? -lim : (x0 > lim ? lim : x0);
}

void t2i_sched_step_heun(t2i_sched *s, int k, const float *m, float *x, size_t n)
{
    const int j = k / 2;
    const float sigma = s->sigmas[j], next = s->sigmas[j + 1];
    const float sigma_hat = sigma * (0.0f + 1.0f);  /* gamma = 0 */
    const float dt = next - sigma_hat;
    const t2i_prediction pred = s->c.prediction_type;
    if (!(k & 1)) {
        for (size_t i = 0; i < n; i++) {
            float x0 = clip(s, t2i_kdiff_x0(pred, sigma_hat, m[i], x[i]));
            float d = (x[i] - x0) / sigma_hat;
            s->deriv[i] = d;
            s->saved[i] = x[i];
            x[i] = x[i] + d * dt;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            float x0 = clip(s, t2i_kdiff_x0(pred, next, m[i], x[i]));
            float d = (x[i] - x0) / next;
            d = (s->deriv[i] + d) / 2;
            x[i] = s->saved[i] + d * dt;
        }
    }
}

void t2i_sched_step_dpm2(t2i_sched *s, int k, const float *m, float *x, size_t n)
{
    const int j = k / 2;
    const float sigma = s->sigmas[j], mid = s->sig_mid[j], next = s->sigmas[j + 1];
    const float sigma_hat = sigma * (0.0f + 1.0f);
    const t2i_prediction pred = s->c.prediction_type;
    if (!(k & 1)) {   /* Euler to the midpoint sigma */
        const float dt = mid - sigma_hat;
        for (size_t i = 0; i < n; i++) {
            float x0 = t2i_kdiff_x0(pred, sigma_hat, m[i], x[i]);
            float d = (x[i] - x0) / sigma_hat;
            s->saved[i] = x[i];
            x[i] = x[i] + d * dt;
        }
    } else {          /* the whole step with the midpoint's derivative */
        const float dt = next - sigma_hat;
        for (size_t i = 0; i < n; i++) {
            float x0 = t2i_kdiff_x0(pred, mid, m[i], x[i]);
            float d = (x[i] - x0) / mid;
            x[i] = s->saved[i] + d * dt;
        }
    }
}

t2i_status t2i_sched_step_dpm2_a(t2i_sched *s, int k, const float *m, float *x, size_t n_img, int batch,
                                 t2i_rng **rngs)
{
    const int j = k / 2;
    const float sigma = s->sigmas[j], mid = s->sig_mid[j];
    const float sigma_hat = sigma * (0.0f + 1.0f);
    const t2i_prediction pred = s->c.prediction_type;
    const size_t n = n_img * (size_t)batch;
    if (!(k & 1)) {
        const float dt = mid - sigma_hat;
        for (size_t i = 0; i < n; i++) {
            float x0 = t2i_kdiff_x0(pred, sigma_hat, m[i], x[i]);
            float d = (x[i] - x0) / sigma_hat;
            s->saved[i] = x[i];
            x[i] = x[i] + d * dt;
        }
        return T2I_OK;
    }
    const float dt = s->sig_down[j] - sigma_hat, up = s->sig_up[j];
    for (int b = 0; b < batch; b++)
        if (!rngs || !rngs[b])
            return t2i_fail(T2I_ERR_INVALID_ARG, "scheduler: DPM2 a step needs a generator per image (image %d)", b);
    for (size_t i = 0; i < n; i++) {
        float x0 = t2i_kdiff_x0(pred, mid, m[i], x[i]);
        float d = (x[i] - x0) / mid;
        x[i] = s->saved[i] + d * dt;
    }
    for (int b = 0; b < batch; b++) {
        float *xb = x + (size_t)b * n_img;
        t2i_rng_randn(rngs[b], s->noise, n_img);
        for (size_t i = 0; i < n_img; i++) xb[i] = xb[i] + s->noise[i] * up;
    }
    return T2I_OK;
}

void t2i_sched_step_lms(t2i_sched *s, int k, const float *m, float *x, size_t n)
{
    const float sigma = s->sigmas[k];
    const int order = k + 1 < 4 ? k + 1 : 4;
    /* diffusers zips the order's coefficients with the derivatives it has:
     * fewer than the order when the run began at a later step (img2img) */
    const int have = k - s->begin + 1 < order ? k - s->begin + 1 : order;
    float coef[4];
    const float *d[4];   /* newest first */
    for (int c = 0; c < have; c++) {
        coef[c] = (float)s->lms_coef[k * 4 + c];
        d[c] = s->hist[(k - c) & 3];
    }
    float *dk = s->hist[k & 3];
    const t2i_prediction pred = s->c.prediction_type;
    for (size_t i = 0; i < n; i++) {
        float x0 = t2i_kdiff_x0(pred, sigma, m[i], x[i]);
        dk[i] = (x[i] - x0) / sigma;
        float acc = coef[0] * dk[i];
        for (int c = 1; c < have; c++) acc = acc + coef[c] * d[c][i];
        x[i] = x[i] + acc;
    }
}
