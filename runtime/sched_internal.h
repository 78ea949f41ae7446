/*
 * sched_internal.h — the scheduler's state, shared by the files that
 * implement its samplers (scheduler.c: config, tables, DDIM, Euler, Euler a,
 * DPM++ 2M; sched_kdiff.c: Heun, DPM2, DPM2 a, LMS; sched_ddpm.c: DDPM,
 * LCM; sched_unipc.c: UniPC; sched_single.c: DPM++ 2S (a)). Not part of any other file's interface.
 *
 * Steps and evaluations. Heun, DPM2 and DPM2 a evaluate the model twice per
 * sampling step; diffusers flattens that into its timestep list (2n - 1
 * entries for n steps: the last step is a single Euler evaluation) and calls
 * step() once per evaluation. t2i keeps that flattening: evaluation k belongs
 * to sampling step k / 2 and is its second evaluation when k is odd. All
 * other samplers evaluate once per step (k = step).
 */
#ifndef T2I_SCHED_INTERNAL_H
#define T2I_SCHED_INTERNAL_H

#include <math.h>
#include "runtime/scheduler.h"

struct t2i_sched {
    t2i_sampler kind;
    t2i_sched_config c;         /* class defaults resolved */
    int n_train;
    float *alphas_cumprod;      /* [n_train] */
    float *sigtab;              /* [n_train] ((1-ac)/ac)^0.5, float32 */
    int steps;                  /* as requested (DDIM's step ratio) */
    int nsteps;                 /* sampling steps produced (n) */
    int nevals;                 /* model evaluations (n, or 2n - 1) */
    int two_evals;              /* Heun, DPM2, DPM2 a */
    float *timesteps;           /* [n]: timestep of each step's first evaluation */
    float *sigmas;              /* [n+1]; NULL for DDIM, DDPM, LCM */
    /* two-evaluation samplers, [n] each: sigma and timestep of step j's
     * second evaluation; DPM2/DPM2 a: the step's interpolated sigma (the
     * first evaluation moves to it), DPM2 a: sigma_up, sigma_down */
    float *sig2, *t2, *sig_mid, *sig_up, *sig_down;
    int *orders;                /* DPM++ 2S (a): each step's order (get_order_list) */
    double *lms_coef;           /* LMS: [n][4], step j's coefficients, newest first */
    float init_noise_sigma;
    float final_alpha_cumprod;  /* DDIM, LCM */
    /* run state */
    size_t cap;                 /* reserved floats per buffer */
    size_t cap_image;
    float *hist[4];             /* DPM++, UniPC: x0 [0] older, [1] newer ([2] UniPC's new one);
                                   LMS: derivatives */
    float *saved;               /* Heun, DPM2, DPM2 a: the sample before a step's first evaluation */
    float *deriv;               /* Heun: the first evaluation's derivative */
    float *noise;               /* ancestral samplers: one image of noise */
    int lower_order_nums;
    int unipc_order;            /* UniPC: the order of the last prediction (its corrector's) */
    int next_step;              /* next evaluation expected (stateful samplers) */
    int begin;                  /* first sampling step of the run (t2i_sched_set_begin; img2img) */
    double sde_lo, sde_hi;      /* DPM++ SDE: the Brownian tree's interval (min positive, max sigma) */
    float *sde_work;            /* DPM++ SDE: the tree's scratch, 4 images */
};

/* Whether the sampler keeps state between evaluations (and so needs
 * t2i_sched_reserve and evaluations in order). */
int t2i_sched_stateful(t2i_sampler kind);

/* sched_kdiff.c: the second-evaluation tables and LMS coefficients, from
 * timesteps/sigmas already built (log_sigmas: float32 log of sigtab). */
t2i_status t2i_sched_kdiff_tables(t2i_sched *s, const float *log_sigmas);
/* sched_sde.c: DPM++ SDE (Karras) evaluation k; its second evaluation's
 * sigma, the midpoint exp(-(t + h/2)) in t = -log sigma. */
t2i_status t2i_sched_step_dpmpp_sde(t2i_sched *s, int k, const float *m, float *x, size_t n_img, int batch,
                                    t2i_rng **rngs);
float t2i_sched_sde_midpoint(float sigma, float next);
void t2i_sched_step_heun(t2i_sched *s, int k, const float *m, float *x, size_t n);
void t2i_sched_step_dpm2(t2i_sched *s, int k, const float *m, float *x, size_t n);
t2i_status t2i_sched_step_dpm2_a(t2i_sched *s, int k, const float *m, float *x, size_t n_img, int batch,
                                 t2i_rng **rngs);
void t2i_sched_step_lms(t2i_sched *s, int k, const float *m, float *x, size_t n);

/* sched_unipc.c */
void t2i_sched_step_unipc(t2i_sched *s, int k, const float *m, float *x, size_t n);

/* sched_single.c */
t2i_status t2i_sched_single_orders(t2i_sched *s);
t2i_status t2i_sched_step_single(t2i_sched *s, int k, const float *m, float *x, size_t n_img, int batch,
                                 t2i_rng **rngs);

/* sched_ddpm.c */
t2i_status t2i_sched_lcm_timesteps(t2i_sched *s);
t2i_status t2i_sched_step_ddpm(t2i_sched *s, int k, const float *m, float *x, size_t n_img, int batch,
                               t2i_rng **rngs);
t2i_status t2i_sched_step_lcm(t2i_sched *s, int k, const float *m, float *x, size_t n_img, int batch,
                              t2i_rng **rngs);

/* The x0 prediction of the k-diffusion samplers at sigma (epsilon:
 * x - sigma * m; v: m * (-sigma / (sigma^2 + 1)^0.5) + x / (sigma^2 + 1)),
 * float32 as diffusers. */
static inline float t2i_kdiff_x0(t2i_prediction pred, float sigma, float m, float x)
{
    if (pred == T2I_PRED_EPSILON) return x - sigma * m;
    return m * (-sigma / sqrtf(sigma * sigma + 1.0f)) + x / (sigma * sigma + 1.0f);
}

#endif /* T2I_SCHED_INTERNAL_H */
