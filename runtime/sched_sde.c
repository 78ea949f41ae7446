/*
 * sched_sde.c — DPM++ SDE (and its Karras variant) as k-diffusion's
 * sample_dpmpp_sde (eta 1, s_noise 1, r = 1/2), the A1111 web UI's
 * "DPM++ SDE": per step from sigma to next, in t = -log sigma,
 *
 *   h = t_next - t, s = t + h/2                      (the midpoint)
 *   eval 1 at sigma:  denoised = D(x, sigma)
 *     sd, su = ancestral(sigma -> sigma_s)           (get_ancestral_step)
 *     x2 = (sd / sigma) x - expm1(t - t(sd)) denoised + noise(sigma, sigma_s) su
 *   eval 2 at sigma_s = exp(-s):  denoised2 = D(x2, sigma_s)
 *     sd, su = ancestral(sigma -> next)
 *     x = (sd / sigma) x - expm1(t - t(sd)) denoised2 + noise(sigma, next) su
 *
 * (fac = 1 / 2r = 1: the second stage uses denoised2 alone), and a plain
 * Euler step to sigma 0 at the end (one evaluation). noise(a, b) is
 * (W(b) - W(a)) / sqrt|b - a| of the image's Brownian tree (brownian.h),
 * seeded from the image's seed over [min positive sigma, max sigma], as
 * k-diffusion's BrownianTreeNoiseSampler. Scalars are float32, as
 * k-diffusion's torch float32 sigmas. Evaluations are flattened as Heun's
 * (sched_internal.h): 2n - 1 for n steps.
 */
#include <math.h>
#include "base/error.h"
#include "runtime/brownian.h"
#include "runtime/sched_internal.h"

/* k-diffusion get_ancestral_step(from, to, eta = 1) */
static void ancestral(float from, float to, float *down, float *up)
{
    float u = sqrtf(to * to * (from * from - to * to) / (from * from));
    *up = u < to ? u : to;
    *down = sqrtf(to * to - *up * *up);
}

float t2i_sched_sde_midpoint(float sigma, float next)
{
    float t = -logf(sigma), h = -logf(next) - t;
    return expf(-(t + h * 0.5f));
}

/* x = (sd / sigma) * base - expm1(t - t(sd)) * den + noise(sigma, to) * su, per image */
static void sde_stage(t2i_sched *s, float sigma, float to, const float *base, const float *den, float *x,
                      size_t n_img, int batch, t2i_rng **rngs)
{
    float sd, su;
    ancestral(sigma, to, &sd, &su);
    const float t = -logf(sigma), t_sd = -logf(sd);
    const float ratio = expf(-t_sd) / expf(-t), em = expm1f(t - t_sd);
    for (int b = 0; b < batch; b++) {
        const size_t o = (size_t)b * n_img;
        t2i_brownian_noise(rngs[b]->seed, s->sde_lo, s->sde_hi, sigma, to, s->noise, s->sde_work, n_img);
        for (size_t i = 0; i < n_img; i++) {
            float v = ratio * base[o + i] - em * den[o + i];
            x[o + i] = v + s->noise[i] * 1.0f * su;
        }
    }
}

t2i_status t2i_sched_step_dpmpp_sde(t2i_sched *s, int k, const float *m, float *x, size_t n_img, int batch,
                                    t2i_rng **rngs)
{
    const int j = k / 2;
    const float sigma = s->sigmas[j], next = s->sigmas[j + 1];
    const t2i_prediction pred = s->c.prediction_type;
    const size_t n = n_img * (size_t)batch;
    for (int b = 0; b < batch; b++)
        if (!rngs || !rngs[b])
            return t2i_fail(T2I_ERR_INVALID_ARG, "scheduler: DPM++ SDE needs a generator per image (image %d)", b);
    if (!(k & 1)) {
        if (next == 0.0f) {   /* Euler to sigma 0 */
            for (size_t i = 0; i < n; i++) {
                float x0 = t2i_kdiff_x0(pred, sigma, m[i], x[i]);
                float d = (x[i] - x0) / sigma;
                x[i] = x[i] + d * (next - sigma);
            }
            return T2I_OK;
        }
        for (size_t i = 0; i < n; i++) {
            s->saved[i] = x[i];
            s->deriv[i] = t2i_kdiff_x0(pred, sigma, m[i], x[i]);   /* denoised */
        }
        sde_stage(s, sigma, s->sig2[j], s->saved, s->deriv, x, n_img, batch, rngs);
        return T2I_OK;
    }
    const float mid = s->sig2[j];
    for (size_t i = 0; i < n; i++) s->deriv[i] = t2i_kdiff_x0(pred, mid, m[i], x[i]);   /* denoised_2 */
    sde_stage(s, sigma, next, s->saved, s->deriv, x, n_img, batch, rngs);
    return T2I_OK;
}
