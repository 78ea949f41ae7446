/* sched_ddpm.c — DDPM and LCM as diffusers 0.42's DDPMScheduler
 * (variance_type "fixed_small") and LCMScheduler compute them: both work on
 * alphas_cumprod and add fresh noise after every step but the last, drawn
 * per image from that image's generator as diffusers' randn_tensor does
 * with a list of generators. Float32 expressions mirror torch's ops. */
#include <math.h>
#include <stdlib.h>
#include "base/error.h"
#include "runtime/sched_internal.h"

/* alphas_cumprod[t] with Python's negative indexing */
static float ac_at(const t2i_sched *s, int t)
{
    return s->alphas_cumprod[t < 0 ? t + s->n_train : t];
}

static float clip(const t2i_sched *s, float x0)
{
    if (!s->c.clip_sample) return x0;
    float lim = (float)s->c.clip_sample_range;
    return x0 < -lim ? -lim : (x0 > lim ? lim : x0);
}

static t2i_status need_rngs(t2i_rng **rngs, int batch, const char *who)
{
    for (int b = 0; b < batch; b++)
        if (!rngs || !rngs[b])
            return t2i_fail(T2I_ERR_INVALID_ARG, "scheduler: %s step needs a generator per image (image %d)", who, b);
    return T2I_OK;
}

t2i_status t2i_sched_step_ddpm(t2i_sched *s, int k, const float *m, float *x, size_t n_img, int batch,
                               t2i_rng **rngs)
{
    const int t = (int)s->timesteps[k];
    const int prev_t = k + 1 < s->nsteps ? (int)s->timesteps[k + 1] : -1;
    const float a_t = ac_at(s, t), a_prev = prev_t >= 0 ? ac_at(s, prev_t) : 1.0f;
    const float beta_t = 1.0f - a_t, beta_prev = 1.0f - a_prev;
    const float cur_alpha = a_t / a_prev, cur_beta = 1.0f - cur_alpha;
    const float sa = sqrtf(a_t), sb = sqrtf(beta_t);
    const float c_x0 = (sqrtf(a_prev) * cur_beta) / beta_t;
    const float c_x = sqrtf(cur_alpha) * beta_prev / beta_t;
    float var = (1.0f - a_prev) / (1.0f - a_t) * cur_beta;   /* _get_variance, fixed_small */
    var = var < 1e-20f ? 1e-20f : var;
    const float sd = sqrtf(var);
    if (t > 0) T2I_TRY(need_rngs(rngs, batch, "DDPM"));
    const size_t n = n_img * (size_t)batch;
    for (size_t i = 0; i < n; i++) {
        float x0 = s->c.prediction_type == T2I_PRED_EPSILON ? (x[i] - sb * m[i]) / sa : sa * x[i] - sb * m[i];
        x0 = clip(s, x0);
        x[i] = c_x0 * x0 + c_x * x[i];
    }
    if (t > 0) {
        for (int b = 0; b < batch; b++) {
            float *xb = x + (size_t)b * n_img;
            t2i_rng_randn(rngs[b], s->noise, n_img);
            for (size_t i = 0; i < n_img; i++) xb[i] = xb[i] + sd * s->noise[i];
        }
    }
    return T2I_OK;
}

t2i_status t2i_sched_lcm_timesteps(t2i_sched *s)
{
    const int N = s->n_train, orig = s->c.original_inference_steps, steps = s->steps;
    if (orig > N)
        return t2i_fail(T2I_ERR_INVALID_ARG,
                        "scheduler config: \"original_inference_steps\" = %d exceeds num_train_timesteps (%d)", orig, N);
    if (steps > orig)
        return t2i_fail(T2I_ERR_INVALID_ARG,
                        "scheduler: LCM takes at most original_inference_steps = %d steps, not %d", orig, steps);
    const int kstep = N / orig;
    s->nsteps = s->nevals = steps;
    s->timesteps = malloc(sizeof(float) * (size_t)steps);
    if (!s->timesteps) return t2i_fail(T2I_ERR_NOMEM, "scheduler: out of memory");
    /* lcm_origin_timesteps reversed, indexed by floor(linspace(0, orig,
     * steps, endpoint=False)) */
    const double step = (double)orig / steps;
    for (int j = 0; j < steps; j++) {
        int idx = (int)floor(j * step);
        s->timesteps[j] = (float)((orig - idx) * kstep - 1);
    }
    return T2I_OK;
}

t2i_status t2i_sched_step_lcm(t2i_sched *s, int k, const float *m, float *x, size_t n_img, int batch,
                              t2i_rng **rngs)
{
    const int t = (int)s->timesteps[k];
    const int last = k == s->nsteps - 1;
    const int prev_t = !last ? (int)s->timesteps[k + 1] : t;
    const float a_t = ac_at(s, t), a_prev = prev_t >= 0 ? ac_at(s, prev_t) : s->final_alpha_cumprod;
    const float beta_t = 1.0f - a_t, beta_prev = 1.0f - a_prev;
    /* get_scalings_for_boundary_condition_discrete, sigma_data = 0.5 */
    const float st = (float)t * (float)s->c.timestep_scaling;
    const float c_skip = 0.25f / (st * st + 0.25f);
    const float c_out = st / sqrtf(st * st + 0.25f);
    const float sa = sqrtf(a_t), sb = sqrtf(beta_t);
    if (!last) T2I_TRY(need_rngs(rngs, batch, "LCM"));
    const size_t n = n_img * (size_t)batch;
    for (size_t i = 0; i < n; i++) {
        float x0 = s->c.prediction_type == T2I_PRED_EPSILON ? (x[i] - sb * m[i]) / sa : sa * x[i] - sb * m[i];
        x0 = clip(s, x0);
        x[i] = c_out * x0 + c_skip * x[i];   /* denoised */
    }
    if (!last) {
        const float ca = sqrtf(a_prev), cb = sqrtf(beta_prev);
        for (int b = 0; b < batch; b++) {
            float *xb = x + (size_t)b * n_img;
            t2i_rng_randn(rngs[b], s->noise, n_img);
            for (size_t i = 0; i < n_img; i++) xb[i] = ca * xb[i] + cb * s->noise[i];
        }
    }
    return T2I_OK;
}
