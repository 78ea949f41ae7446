/*
 * job.h — one generation request as the server carries it: its validated
 * parameters (gen_params), its state, progress and results. The queue
 * (queue.h) owns the lock that guards a job's fields and its reference
 * count; the records (records.h) write it to SQLite; the routes show it.
 */
#ifndef T2I_SERVER_JOB_H
#define T2I_SERVER_JOB_H

#include <stdint.h>
#include "server/server.h"
#include "t2i.h"

/* The editing part of a request (server/edit.h fills it): the decoded init
 * image and mask and the A1111 options, handed to t2i_img2img. */
typedef struct gen_edit {
    t2i_image init;              /* RGBA8 as decoded */
    t2i_image mask;              /* pixels NULL: no mask */
    double strength;             /* denoising strength 0..1 (as given: reported back in info) */
    t2i_resize_mode resize_mode;
    int mask_blur;
    t2i_inpaint_fill fill;
    int full_res, full_res_padding;
    int invert;
    float image_cfg;             /* InstructPix2Pix image guidance */
} gen_edit;

void gen_edit_free(gen_edit *e);   /* accepts NULL */

/* An A1111 extras request (server/routes_extras.c): decoded images, each
 * upscaled by one upscaler on the worker. */
typedef struct gen_extras {
    t2i_image *images;           /* RGBA8 as decoded */
    int n;
    int upscaler;                /* index into g_upscalers, or UPSCALER_NONE (returned as given) */
    float scale;                 /* resize_mode 0: upscaling_resize */
    int to_w, to_h;              /* resize_mode 1: the target (centre-cropped), else 0 */
} gen_extras;

void gen_extras_free(gen_extras *x);   /* accepts NULL */

typedef struct gen_params {
    char *prompt;
    char *negative_prompt;
    char **styles;
    int n_styles;
    int64_t seed;                /* -1 = random */
    t2i_sampler sampler;
    int steps;
    float cfg;
    int width, height;           /* 0 = model default */
    int batch_size, n_iter;
    int expand;                  /* prompt expansion (t2i_txt2img_params.expand) */
    int model;                   /* index into g_models: the model to draw with */
    gen_edit *edit;              /* an editing request, NULL for txt2img */
    int expand_liked;            /* expansion favours styles users liked (records_style_prefs) */
    int best_of, keep;           /* best-of-n: draw best_of, return keep (batch_size = keep); 0 = off */
    float w_relevance, w_aesthetic, w_sharpness;   /* best-of weights (t2i_rank_options) */
    int hr;                      /* enable_hr: drawn with t2i_txt2img_hires (server/upscalers.h) */
    float hr_scale, hr_strength;
    int hr_resize_x, hr_resize_y, hr_steps;
    char *hr_prompt, *hr_negative;   /* NULL: the first pass's */
    int hr_upscaler;             /* index into g_upscalers, or UPSCALER_LANCZOS */
    gen_extras *extras;          /* an extras request (no drawing), NULL otherwise */
} gen_params;

void gen_params_free(gen_params *p);

typedef enum job_state {
    JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED, JOB_CANCELLED
} job_state;

const char *job_state_name(job_state s);

typedef struct job_image {
    char id[SRV_ID_LEN + 1];
    uint64_t seed;
    int width, height;
    char *png_b64;
    char *infotext;
    char *prompt;                /* the prompt drawn (styles applied, expanded) */
    int scored;                  /* scores below are set (a scorer judged it) */
    t2i_image_scores scores;     /* judging.h: CLIPScore against `prompt`, measures */
    const char *expand_style;    /* the style the expansion picked (static), or NULL */
} job_image;

typedef struct job {
    char id[SRV_ID_LEN + 1];
    const char *api;             /* "sdapi", "openai", "jobs" (static strings) */
    char *request_json;          /* the request body as received (records) */
    gen_params p;
    uint64_t base_seed;          /* resolved seed of image 0 */
    char model[128];             /* model that drew it */
    char *final_prompt;          /* what iteration 0 draws (styles, expansion) */
    char *final_negative;
    job_state state;
    int step, steps;             /* across all iterations */
    int iter;                    /* current iteration (0-based) */
    int cancel;                  /* set by cancel/interrupt/shutdown */
    int interrupted;             /* cancelled by /sdapi/v1/interrupt */
    int skip;                    /* /sdapi/v1/skip: end the current iteration */
    int timed_out;               /* ran past its deadline (--job-timeout) */
    double deadline;             /* srv_now() time it must end by; 0 = none */
    job_image *images;
    int n_images;
    char *error;
    char *warning;               /* e.g. a size far from the model's native one; NULL if none */
    int error_status;            /* HTTP status for synchronous routes */
    double t_submit, t_start, t_end;
    unsigned version;
    int refs;
    struct job *next;            /* queue link */
    struct job *reg_next;        /* registry link */
} job;

/* Free a job and everything it owns (the queue calls it on the last
 * reference). */
void job_free(job *j);

#endif
