/* sched_single.c — DPM++ 2S and DPM++ 2S a as diffusers 0.42's
 * DPMSolverSinglestepScheduler computes them (solver_order 2, algorithm_type
 * "dpmsolver++" and "sde-dpmsolver++"): steps alternate first order (the
 * sample is kept) and second order (from that kept sample over two sigma
 * intervals, with the model outputs at both ends of the first); the SDE form
 * adds fresh noise at every step. Timesteps and sigmas are DPM-Solver's
 * (scheduler.c). Float32 expressions mirror diffusers' torch ops. */
#include <math.h>
#include <stdlib.h>
#include "base/error.h"
#include "runtime/sched_internal.h"

static void coeffs(float sigma, float *alpha, float *sigma_t, float *lambda)
{
    *alpha = 1.0f / sqrtf(sigma * sigma + 1.0f);
    *sigma_t = sigma * *alpha;
    *lambda = logf(*alpha) - logf(*sigma_t);
}

t2i_status t2i_sched_single_orders(t2i_sched *s)
{
    const int n = s->nsteps, order = s->c.solver_order;
    /* set_timesteps forces lower_order_final with a zero final sigma or a
     * step count the order does not divide */
    const int lower = s->c.lower_order_final || n % order != 0 || !s->c.final_sigmas_min;
    s->orders = malloc((size_t)n * sizeof *s->orders);
    if (!s->orders) return t2i_fail(T2I_ERR_NOMEM, "scheduler: out of memory");
    for (int k = 0; k < n; k++) s->orders[k] = order == 1 ? 1 : (k % 2) + 1;   /* [1, 2] * ... */
    if (order == 2 && lower && n % 2 == 0 && n >= 2) s->orders[n - 1] = 1;      /* ... + [1, 1] */
    if (!s->c.final_sigmas_min) s->orders[n - 1] = 1;
    return T2I_OK;
}

t2i_status t2i_sched_step_single(t2i_sched *s, int k, const float *m, float *x, size_t n_img, int batch,
                                 t2i_rng **rngs)
{
    const t2i_sched_config *c = &s->c;
    const int sde = s->kind == T2I_SAMPLER_DPMPP_2S_A;
    const size_t n = n_img * (size_t)batch;
    if (sde)
        for (int b = 0; b < batch; b++)
            if (!rngs || !rngs[b])
                return t2i_fail(T2I_ERR_INVALID_ARG, "scheduler: DPM++ 2S a step needs a generator per image (image %d)", b);

    /* convert_model_output into the newest history slot */
    float *t = s->hist[0];
    s->hist[0] = s->hist[1];
    s->hist[1] = t;
    float *m0 = s->hist[1];
    const float *m1 = s->hist[0];
    float a_s, s_s, l_s;
    coeffs(s->sigmas[k], &a_s, &s_s, &l_s);
    for (size_t i = 0; i < n; i++)
        m0[i] = c->prediction_type == T2I_PRED_EPSILON ? (x[i] - s_s * m[i]) / a_s : a_s * x[i] - s_s * m[i];

    int order = s->orders[k];
    if (order == 2 && k == s->begin) order = 1;   /* model_outputs[-2] is None (also when img2img begins later) */
    if (order == 1)
        for (size_t i = 0; i < n; i++) s->saved[i] = x[i];

    float a_t, s_t, l_t;
    coeffs(s->sigmas[k + 1], &a_t, &s_t, &l_t);
    float A, B, C = 0, Nz = 0;   /* x = A * saved + B * D0 (+ C * D1) (+ Nz * noise) */
    float from_s = s_s, l_from = l_s, inv_r0 = 0;
    if (order == 2) {
        float a_s1, s_s1, l_s1;
        coeffs(s->sigmas[k - 1], &a_s1, &s_s1, &l_s1);
        from_s = s_s1;
        l_from = l_s1;
        const float h0 = l_s - l_s1, h = l_t - l_s1;
        inv_r0 = 1.0f / (h0 / h);
    }
    const float h = l_t - l_from;
    if (!sde) {
        A = s_t / from_s;
        B = -(a_t * (expf(-h) - 1.0f));
        if (order == 2)
            C = c->solver_heun ? a_t * ((expf(-h) - 1.0f) / h + 1.0f) : -(0.5f * (a_t * (expf(-h) - 1.0f)));
    } else {
        A = s_t / from_s * expf(-h);
        B = a_t * (1.0f - expf(-2.0f * h));
        if (order == 2)
            C = c->solver_heun ? a_t * ((1.0f - expf(-2.0f * h)) / (-2.0f * h) + 1.0f)
                               : 0.5f * (a_t * (1.0f - expf(-2.0f * h)));
        Nz = s_t * sqrtf(1.0f - expf(-2 * h));
    }
    for (int b = 0; b < batch; b++) {
        if (sde) t2i_rng_randn(rngs[b], s->noise, n_img);
        for (size_t j = 0; j < n_img; j++) {
            const size_t i = (size_t)b * n_img + j;
            const float D0 = order == 2 ? m1[i] : m0[i];
            /* diffusers: A * x - B' * D0 [- / +] C' * D1 (dpmsolver++), or
             * A * x + B * D0 + C * D1 + Nz * noise (sde); B, C carry the sign */
            float v = sde ? A * s->saved[i] + B * D0 : A * s->saved[i] - (-B) * D0;
            if (order == 2) {
                const float D1 = inv_r0 * (m0[i] - m1[i]);
                v = sde || c->solver_heun ? v + C * D1 : v - (-C) * D1;
            }
            if (sde) v = v + Nz * s->noise[j];
            x[i] = v;
        }
    }
    return T2I_OK;
}
