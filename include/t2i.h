/*
 * t2i.h — the public C API of the t2i text-to-image engine.
 *
 * Objects are opaque handles with create/destroy pairs; every destroy accepts
 * NULL. Every function that can fail returns a t2i_status; on failure a
 * message naming what was wrong (file, tensor, config key, argument) is
 * available from t2i_last_error() in the same thread until the next failing
 * call. The library never calls exit() or abort() on bad input.
 *
 * Typical use:
 *
 *   t2i_engine *eng; t2i_model *m; t2i_image *imgs; int n;
 *   t2i_engine_create(NULL, &eng);
 *   t2i_model_load(eng, "models/default", &m);
 *   t2i_txt2img_params p; t2i_txt2img_params_init(&p);
 *   p.prompt = "a red circle on a blue background";
 *   t2i_txt2img(m, &p, &imgs, &n);
 *   t2i_image_write_png(&imgs[0], "out.png");
 *   t2i_images_free(imgs, n); t2i_model_destroy(m); t2i_engine_destroy(eng);
 */
#ifndef T2I_H
#define T2I_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status ------------------------------------------------------------ */

typedef enum t2i_status {
    T2I_OK = 0,
    T2I_ERR_INVALID_ARG,   /* a parameter or option is out of range */
    T2I_ERR_IO,            /* a file could not be opened, read or written */
    T2I_ERR_FORMAT,        /* a file's content is malformed */
    T2I_ERR_UNSUPPORTED,   /* valid input this build does not handle */
    T2I_ERR_NOMEM,         /* host or device memory exhausted */
    T2I_ERR_DEVICE,        /* a device (CUDA) call failed */
    T2I_ERR_CANCELLED,     /* the progress callback asked to stop */
    T2I_ERR_INTERNAL,      /* a bug: please report */
} t2i_status;

/* The message of the last failure in this thread ("" if none). The string is
 * owned by the library and valid until the next failing call in the thread. */
const char *t2i_last_error(void);

/* A short constant name for a status, e.g. "T2I_ERR_FORMAT". */
const char *t2i_status_name(t2i_status s);

/* ---- engine: a backend on one device ----------------------------------- */

typedef enum t2i_backend_kind {
    T2I_BACKEND_CPU = 0,   /* FP32 reference, OpenBLAS */
    T2I_BACKEND_CUDA = 1,  /* FP16/BF16 on an NVIDIA GPU (when built with it) */
} t2i_backend_kind;

typedef struct t2i_engine_options {
    t2i_backend_kind backend;
    int device;            /* CUDA device ordinal */
    int threads;           /* CPU worker threads; 0 = number of cores */
} t2i_engine_options;

typedef struct t2i_engine t2i_engine;

void t2i_engine_options_init(t2i_engine_options *o);
/* opts may be NULL for the defaults (CPU backend). */
t2i_status t2i_engine_create(const t2i_engine_options *opts, t2i_engine **out);
void t2i_engine_destroy(t2i_engine *e);

/* ---- model: a diffusers-layout folder ----------------------------------- */

typedef struct t2i_model t2i_model;

/* Load the model folder `dir` (model_index.json, text_encoder/, tokenizer/,
 * unet/, vae/, scheduler/). Architecture comes from the config.json files;
 * every tensor's shape is checked against it. The engine must outlive the
 * model. */
t2i_status t2i_model_load(t2i_engine *e, const char *dir, t2i_model **out);
void t2i_model_destroy(t2i_model *m);

/* The model's native image size in pixels (unet sample_size × VAE factor). */
int t2i_model_default_size(const t2i_model *m);

/* ---- samplers ----------------------------------------------------------- */

typedef enum t2i_sampler {
    T2I_SAMPLER_EULER = 0,        /* EulerDiscreteScheduler */
    T2I_SAMPLER_EULER_A,          /* EulerAncestralDiscreteScheduler */
    T2I_SAMPLER_DDIM,             /* DDIMScheduler (eta = 0) */
    T2I_SAMPLER_DPMPP_2M,         /* DPMSolverMultistepScheduler, order 2 */
    T2I_SAMPLER_DPMPP_2M_KARRAS,  /* the same with Karras sigmas */
    T2I_SAMPLER_COUNT
} t2i_sampler;

/* A1111 display name ("Euler a", "DPM++ 2M Karras", ...). */
const char *t2i_sampler_name(t2i_sampler s);
/* Parse an A1111 name or a short id ("euler_a", "dpmpp_2m_karras", "ddim");
 * case-insensitive. Returns T2I_ERR_INVALID_ARG for an unknown name. */
t2i_status t2i_sampler_from_name(const char *name, t2i_sampler *out);

typedef enum t2i_noise_source {
    T2I_NOISE_TORCH_CPU = 0,  /* torch.randn with a CPU torch.Generator */
    T2I_NOISE_PHILOX,         /* CUDA Philox (A1111 "GPU" RNG source) */
} t2i_noise_source;

/* ---- txt2img ------------------------------------------------------------ */

/* Called after every denoising step; return non-zero to cancel the run
 * (t2i_txt2img then returns T2I_ERR_CANCELLED). */
typedef int (*t2i_progress_fn)(void *user, int step, int steps);

typedef struct t2i_txt2img_params {
    const char *prompt;            /* required, UTF-8 */
    const char *negative_prompt;   /* NULL or "" for none */
    uint64_t seed;                 /* image i of the batch uses seed + i */
    int steps;                     /* 1..1000, default 20 */
    float guidance_scale;          /* CFG; <= 1 disables the negative pass */
    int width, height;             /* multiples of 8; 0 = model default */
    int batch_size;                /* 1..64 */
    t2i_sampler sampler;
    t2i_noise_source noise;
    /* Optional: initial latents [batch, 4, height/8, width/8] in FP32 (not yet
     * scaled by the sampler's init sigma). Replaces the seeded noise. */
    const float *init_noise;
    /* Optional: write stage outputs (token ids, text embeddings, final
     * latents, decoded image tensor) to this safetensors file. */
    const char *stages_path;
    t2i_progress_fn progress;
    void *progress_user;
} t2i_txt2img_params;

void t2i_txt2img_params_init(t2i_txt2img_params *p);

typedef struct t2i_image {
    int width, height, channels;   /* channels = 3 (RGB) */
    uint8_t *pixels;               /* row-major, width*height*channels bytes */
    uint64_t seed;
    char *infotext;                /* A1111 "parameters" text */
} t2i_image;

/* Generate p->batch_size images. On success *images is an array of *count
 * images owned by the caller (free with t2i_images_free). */
t2i_status t2i_txt2img(t2i_model *m, const t2i_txt2img_params *p,
                       t2i_image **images, int *count);
void t2i_images_free(t2i_image *images, int count);

/* Write an RGB PNG with img->infotext in a "parameters" tEXt chunk. */
t2i_status t2i_image_write_png(const t2i_image *img, const char *path);

#ifdef __cplusplus
}
#endif
#endif /* T2I_H */
