/*
 * scheduler.h — the samplers, step for step identical to diffusers 0.42:
 *   T2I_SAMPLER_DDIM            DDIMScheduler, eta = 0
 *   T2I_SAMPLER_EULER           EulerDiscreteScheduler
 *   T2I_SAMPLER_EULER_A         EulerAncestralDiscreteScheduler
 *   T2I_SAMPLER_DPMPP_2M        DPMSolverMultistepScheduler (dpmsolver++, 2M)
 *   T2I_SAMPLER_DPMPP_2M_KARRAS the same with use_karras_sigmas = True
 *   T2I_SAMPLER_HEUN            HeunDiscreteScheduler
 *   T2I_SAMPLER_DPM2            KDPM2DiscreteScheduler
 *   T2I_SAMPLER_DPM2_A          KDPM2AncestralDiscreteScheduler
 *   T2I_SAMPLER_LMS             LMSDiscreteScheduler (order 4)
 *   T2I_SAMPLER_DDPM            DDPMScheduler (variance_type fixed_small)
 *   T2I_SAMPLER_LCM             LCMScheduler
 *   T2I_SAMPLER_UNIPC           UniPCMultistepScheduler (predict_x0, bh1/bh2,
 *                               order 1 or 2)
 *   T2I_SAMPLER_DPMPP_2S        DPMSolverSinglestepScheduler (dpmsolver++)
 *   T2I_SAMPLER_DPMPP_2S_A      DPMSolverSinglestepScheduler with
 *                               algorithm_type = "sde-dpmsolver++"
 * each as diffusers builds it for a pipeline:
 * XScheduler.from_config(pipe.scheduler.config[, use_karras_sigmas=True]).
 *
 * Config semantics (from_config): a key written in scheduler_config.json is
 * honoured whatever class wrote it (clip_sample from a PNDM config reaches
 * DDIM); a key absent from the file takes the *target* class's default, not
 * the source class's (diffusers records defaulted keys in _use_default_values
 * and drops them). So an SD1.5 file without timestep_spacing gives DDIM
 * "leading" but Euler/DPM++ "linspace".
 *
 * Precision follows diffusers: betas/alphas_cumprod/sigmas tables in float32
 * (torch), timesteps and sigma interpolation/Karras in float64 (numpy) then
 * float32; each step in float32 with the same operation order.
 *
 * Steps and evaluations: Heun, DPM2 and DPM2 a call the model twice per
 * sampling step except the last; like diffusers, t2i counts model
 * evaluations (2n - 1 for n steps), and t2i_sched_timestep,
 * t2i_sched_scale_model_input and t2i_sched_step take the evaluation index.
 * For every other sampler evaluations and steps are the same.
 *
 * Per run (n = elements of one image's latent, e.g. 4*64*64):
 *
 *   t2i_sched *s;
 *   T2I_TRY(t2i_sched_create(&cfg, sampler, steps, &s));
 *   T2I_TRY(t2i_sched_reserve(s, n, batch));        // all buffers, once
 *   latents[b] = randn(rngs[b], n) * t2i_sched_init_noise_sigma(s)  (float32)
 *   for (int k = 0; k < t2i_sched_num_evals(s); k++) {
 *       float t = t2i_sched_timestep(s, k);          // UNet timestep
 *       t2i_sched_scale_model_input(s, k, latents, unet_in, n * batch);
 *       eps = UNet(unet_in, t) with CFG combined     // [batch, n]
 *       T2I_TRY(t2i_sched_step(s, k, eps, latents, n, batch, rngs));
 *   }   // step t2i_sched_eval_step(s, k) of t2i_sched_num_steps(s)
 *   t2i_sched_destroy(s);
 *
 * rngs: one generator per image, used by the samplers that add noise (Euler
 * a, DPM2 a, DDPM, LCM; may be NULL for the others); they must be the
 * generators that drew the initial latents, as diffusers continues their
 * streams.
 */
#ifndef T2I_SCHEDULER_H
#define T2I_SCHEDULER_H

#include <stddef.h>
#include "t2i.h"
#include "runtime/rng.h"

struct cJSON;

typedef enum t2i_beta_schedule {
    T2I_BETA_LINEAR = 0,
    T2I_BETA_SCALED_LINEAR,
    T2I_BETA_SQUAREDCOS_CAP_V2,
} t2i_beta_schedule;

typedef enum t2i_prediction {
    T2I_PRED_EPSILON = 0,
    T2I_PRED_V,            /* "v_prediction" */
} t2i_prediction;

typedef enum t2i_solver_type {   /* "solver_type" */
    T2I_SOLVER_MIDPOINT = 0,     /* DPM++ (UniPC reads it as bh2) */
    T2I_SOLVER_HEUN,             /* DPM++ (UniPC: bh2) */
    T2I_SOLVER_BH1,              /* UniPC (DPM++ reads it as midpoint) */
    T2I_SOLVER_BH2,              /* UniPC (DPM++: midpoint) */
} t2i_solver_type;

typedef enum t2i_spacing {
    T2I_SPACING_CLASS_DEFAULT = -1,  /* absent: the sampler class decides */
    T2I_SPACING_LEADING = 0,
    T2I_SPACING_TRAILING,
    T2I_SPACING_LINSPACE,
} t2i_spacing;

/* A parsed scheduler_config.json. Fields marked "-1 = class default" are
 * resolved per sampler at t2i_sched_create. */
typedef struct t2i_sched_config {
    int num_train_timesteps;        /* 1000; 2..100000 */
    double beta_start, beta_end;    /* 0.0001, 0.02 */
    t2i_beta_schedule beta_schedule;/* linear */
    t2i_prediction prediction_type; /* epsilon */
    int timestep_spacing;           /* t2i_spacing; -1 = class default */
    int steps_offset;               /* 0 */
    int set_alpha_to_one;           /* DDIM; -1 = class default (true) */
    int clip_sample;                /* DDIM; -1 = class default (true) */
    double clip_sample_range;       /* 1.0 */
    int rescale_betas_zero_snr;     /* false */
    int use_karras_sigmas;          /* Euler, Heun, DPM2 (a), LMS, DPM++; false */
    int use_exponential_sigmas;     /* the same samplers; false */
    double sigma_min, sigma_max;    /* Euler Karras bounds; NAN = none */
    int final_sigmas_min;           /* final_sigmas_type: 0 zero, 1 sigma_min */
    int solver_order;               /* DPM++: 1 or 2 (default 2) */
    int solver_heun;                /* DPM++ solver_type: 0 midpoint, 1 heun */
    int solver_type;                /* t2i_solver_type as written (default midpoint) */
    int lower_order_final;          /* DPM++, UniPC: true; -1 = class default (singlestep: false) */
    int euler_at_final;             /* DPM++: false */
    double lambda_min_clipped;      /* DPM++: -inf */
    int original_inference_steps;   /* LCM: 50 */
    double timestep_scaling;        /* LCM: 10 */
} t2i_sched_config;

/* The defaults above. */
void t2i_sched_config_init(t2i_sched_config *c);

/* Parse a scheduler config object. Unknown keys are ignored; a known key with
 * a wrong type is T2I_ERR_FORMAT, a value this engine does not implement
 * (trained_betas, thresholding, prediction_type "sample", other
 * algorithm_types, ...) is T2I_ERR_UNSUPPORTED; the message names key and
 * value. */
t2i_status t2i_sched_config_parse(const struct cJSON *json, t2i_sched_config *out);

/* Read and parse `path` (at most 1 MiB). T2I_ERR_IO if unreadable, errors of
 * t2i_sched_config_parse prefixed with the path. */
t2i_status t2i_sched_config_load(const char *path, t2i_sched_config *out);

typedef struct t2i_sched t2i_sched;

/* Whether the sampler takes use_karras_sigmas / use_exponential_sigmas. */
int t2i_sched_takes_sigma_schedule(t2i_sampler kind);

/* Build the sampler for `steps` inference steps (1..num_train_timesteps,
 * else T2I_ERR_INVALID_ARG naming num_inference_steps). Allocates the
 * timestep/sigma tables. */
t2i_status t2i_sched_create(const t2i_sched_config *c, t2i_sampler kind, int steps,
                            t2i_sched **out);

/* Allocate the per-run buffers (DPM++ model-output history, Euler a noise)
 * for batches of up to `batch` images of `n_per_image` floats. Call once
 * before the first step; t2i_sched_step allocates nothing. */
t2i_status t2i_sched_reserve(t2i_sched *s, size_t n_per_image, int batch);

/* NULL is accepted. */
void t2i_sched_destroy(t2i_sched *s);

/* Number of sampling steps. Equal to `steps` except where diffusers' own
 * arithmetic differs: "trailing" spacing uses numpy.arange with a float step
 * and yields steps+1 timesteps for some counts (61, 103, 121, ...). */
int t2i_sched_num_steps(const t2i_sched *s);

/* Number of model evaluations (t2i_sched_step calls): the number of steps,
 * or 2 * steps - 1 for Heun, DPM2 and DPM2 a (diffusers' len(timesteps)). */
int t2i_sched_num_evals(const t2i_sched *s);

/* The sampling step evaluation k belongs to (0..num_steps-1; -1 when k is
 * out of range): what a progress display or a prompt-editing schedule
 * counts. */
int t2i_sched_eval_step(const t2i_sched *s, int k);

/* The timestep diffusers passes to the UNet at evaluation k (integer-valued
 * for DDIM/DPM++/DDPM/LCM, possibly fractional for the sigma samplers with
 * linspace or Karras, and for the DPM2 samplers' second evaluations). */
float t2i_sched_timestep(const t2i_sched *s, int k);

/* sigmas[i] of sampling step i, i in 0..num_steps (the last is the final
 * sigma, 0 by default); NAN for DDIM, DDPM and LCM, which have none. (For
 * Heun/DPM2 diffusers' own table repeats each inner sigma; this is the
 * table before that.) */
float t2i_sched_sigma(const t2i_sched *s, int i);

/* Multiplier of the initial unit-variance noise (diffusers'
 * init_noise_sigma): latents = noise * init (float32). */
float t2i_sched_init_noise_sigma(const t2i_sched *s);

/* diffusers' scheduler.add_noise(orig, noise, t) for the noise level of
 * step i (0 <= i <= num_steps - 1), as img2img and inpainting call it with
 * a begin index set: DDIM, DDPM, LCM sqrt(ac[t])·orig + sqrt(1 - ac[t])·noise;
 * Euler, Euler a, Heun, DPM2 (a), LMS orig + noise·sigma_i; DPM++ 2M, 2S (a)
 * and UniPC alpha_i·orig + sigma_t,i·noise (_sigma_to_alpha_sigma_t).
 * Float32, element by element; out may be orig. */
void t2i_sched_add_noise(const t2i_sched *s, int i, const float *orig, const float *noise, float *out, size_t n);

/* DDPMScheduler(config).add_noise(orig, noise, t) at train timestep t
 * (0 <= t < num_train_timesteps, else T2I_ERR_INVALID_ARG): sqrt(ac[t])·orig
 * + sqrt(1 − ac[t])·noise, float32 — the x4 upscaler's low_res_scheduler
 * noising the low-resolution image at its noise level. out may be orig. */
t2i_status t2i_sched_ddpm_add_noise(const t2i_sched_config *c, int t, const float *orig, const float *noise,
                                    float *out, size_t n);

/* Start the run at sampling step `begin` instead of 0 (img2img's t_start),
 * as diffusers' set_begin_index(t_start * scheduler.order) does: returns
 * the first evaluation (2 · begin for Heun and DPM2 (a)). The samplers then
 * start as diffusers' do from an empty history: DPM++ 2M and UniPC at first
 * order with no corrector, DPM++ 2S (a) at first order if its order list
 * says 2, LMS with the coefficients of order min(begin + 1, 4) applied to
 * the derivatives it has. */
int t2i_sched_set_begin(t2i_sched *s, int begin);

/* scale_model_input divides the sample by this at evaluation i (1 for
 * DDIM, DPM++, DDPM, LCM; sqrt(sigma^2 + 1) in float32 for the sigma
 * samplers, sigma being the evaluation's). */
float t2i_sched_input_divisor(const t2i_sched *s, int i);

/* out[k] = in[k] / t2i_sched_input_divisor(s, i), k < n (in == out is fine). */
void t2i_sched_scale_model_input(const t2i_sched *s, int i, const float *in, float *out,
                                 size_t n);

/* One scheduler.step at evaluation i: `sample` ([batch][n_per_image], FP32)
 * is replaced by the next sample. model_output is the guided UNet output of
 * the same shape. The noise-adding samplers draw n_per_image normals per
 * image from rngs[b] (b = 0..batch-1, in order) where diffusers does. DPM++,
 * Heun, DPM2 (a) and LMS keep state and need i = 0, 1, 2, ... in order.
 * Errors: T2I_ERR_INVALID_ARG for i out of range, out-of-order evaluations,
 * sizes beyond t2i_sched_reserve, missing rngs. */
t2i_status t2i_sched_step(t2i_sched *s, int i, const float *model_output, float *sample,
                          size_t n_per_image, int batch, t2i_rng **rngs);

#endif /* T2I_SCHEDULER_H */
