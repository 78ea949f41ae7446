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
    T2I_ERR_PEER,          /* another rank of a multi-device run failed or timed out */
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

/* The precision ladder (docs/precision.md): what weights are stored as and
 * what the GEMMs compute in. Per backend:
 *   cpu:  fp32 (default), int8w
 *   cuda: fp16 (default), bf16
 * Any other pair is T2I_ERR_UNSUPPORTED from t2i_engine_create. */
typedef enum t2i_precision {
    T2I_PRECISION_DEFAULT = 0,   /* the backend's own: fp32 on the CPU, fp16 on CUDA */
    T2I_PRECISION_FP32,
    T2I_PRECISION_FP16,
    T2I_PRECISION_BF16,
    T2I_PRECISION_INT8W,         /* GEMM weights INT8 per output channel, float compute */
    T2I_PRECISION_W8A8,          /* INT8 weights and activations (not yet on any backend) */
} t2i_precision;

/* "fp32", "fp16", "bf16", "int8w", "w8a8" ("default" for DEFAULT). */
const char *t2i_precision_name(t2i_precision p);
/* Parse one of those names; T2I_ERR_INVALID_ARG (message lists them) otherwise. */
t2i_status t2i_precision_parse(const char *name, t2i_precision *out);
/* T2I_OK when `backend` offers `p` (as t2i_engine_create would accept it);
 * else T2I_ERR_UNSUPPORTED naming the rungs it offers (INVALID_ARG for an
 * out-of-range value). Lets a program reject a pair before starting. */
t2i_status t2i_precision_check(t2i_backend_kind backend, t2i_precision p);

typedef struct t2i_engine_options {
    t2i_backend_kind backend;
    int device;            /* CUDA device ordinal */
    int threads;           /* CPU worker threads; 0 = number of cores */
    t2i_precision precision;
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
 * model. A single-file checkpoint path is loaded as t2i_model_load_ex does
 * with default options. */
t2i_status t2i_model_load(t2i_engine *e, const char *dir, t2i_model **out);
void t2i_model_destroy(t2i_model *m);

/* ---- model: single-file checkpoints, options (docs/formats.md) ----------- */

typedef enum t2i_prediction_choice {
    T2I_PREDICT_AUTO = 0,   /* scheduler_config.json / "<file>.yaml" / the SD 2.x rule */
    T2I_PREDICT_EPSILON,
    T2I_PREDICT_V,
} t2i_prediction_choice;

typedef struct t2i_model_options {
    /* A separate VAE .safetensors in the original naming (with or without
     * the "first_stage_model." prefix) replacing a single-file checkpoint's
     * VAE; NULL: none. With a folder: T2I_ERR_UNSUPPORTED. */
    const char *vae_path;
    /* The CLIP tokenizer folder for a single-file checkpoint (which holds
     * none); NULL: the project's models/default/tokenizer (the real CLIP
     * vocabulary), or $T2I_CLIP_TOKENIZER when set. */
    const char *tokenizer_dir;
    t2i_prediction_choice prediction;   /* single files: overrides the detection */
} t2i_model_options;

void t2i_model_options_init(t2i_model_options *o);

/* t2i_model_load for a diffusers folder OR a single-file checkpoint
 * ("*.safetensors" in the original LDM / A1111 naming: SD 1.x, SD 2.x, SDXL base),
 * whose architecture is inferred from its tensor names and shapes. opts may
 * be NULL. A PyTorch pickle (.ckpt, .pt, .pth, .bin) is refused with
 * T2I_ERR_UNSUPPORTED saying how to convert it safely; a file that is not a
 * checkpoint of a known kind, or lacks a tensor, is T2I_ERR_FORMAT naming
 * the tensor. */
t2i_status t2i_model_load_ex(t2i_engine *e, const char *path, const t2i_model_options *opts, t2i_model **out);

/* Convert between a single-file checkpoint and a diffusers folder: `in` a
 * .safetensors file -> `out` a new folder (model_index.json, configs,
 * weights in their stored dtypes, the tokenizer used, scheduler; SDXL
 * files: T2I_ERR_UNSUPPORTED for now); `in` an
 * SD 1.x folder -> `out` a .safetensors file in the original naming (SD 2.x
 * / SDXL folders: T2I_ERR_UNSUPPORTED). opts as for t2i_model_load_ex
 * (NULL: defaults). `out` must not exist (T2I_ERR_INVALID_ARG). */
t2i_status t2i_convert(const char *in, const char *out, const t2i_model_options *opts);

/* ---- model listing --------------------------------------------------------- */

typedef enum t2i_model_kind {
    T2I_MODEL_FOLDER = 0,   /* a diffusers folder (has model_index.json) */
    T2I_MODEL_SINGLE_FILE,  /* a .safetensors checkpoint in the original naming */
} t2i_model_kind;

typedef struct t2i_model_entry {
    char *name;             /* file or folder name without ".safetensors" */
    char *path;             /* what t2i_model_load_ex takes */
    t2i_model_kind kind;
    int64_t bytes;          /* file size; a folder's *.safetensors sizes summed */
} t2i_model_entry;

/* The models directly inside `dir`, sorted by name: diffusers folders and
 * single-file checkpoints side by side (a .safetensors file counts when its
 * header names UNet tensors in the original naming; VAE, LoRA and embedding
 * files are left out). *out is malloc'd with *n entries; free it with
 * t2i_model_list_free. Unreadable entries are skipped; only an unreadable
 * `dir` is an error (T2I_ERR_IO). */
t2i_status t2i_model_list(const char *dir, t2i_model_entry **out, int *n);
void t2i_model_list_free(t2i_model_entry *list, int n);

/* A LoRA or textual-inversion file of a folder (t2i_list_loras,
 * t2i_list_embeddings): what A1111's /sdapi/v1/loras and /sdapi/v1/embeddings
 * report. */
typedef struct t2i_asset_entry {
    char *name;             /* file name without ".safetensors": <lora:name:w>, or the prompt word */
    char *alias;            /* LoRA: the kohya ss_output_name metadata, else name */
    char *path;             /* dir/name.safetensors */
    int64_t bytes;
    int vectors, width;     /* embeddings: rows and their width (SDXL: clip_l's); 0 otherwise */
    char *error;            /* NULL, or why the file cannot be used (header unreadable, no usable
                             * tensor), naming the file */
} t2i_asset_entry;

/* The *.safetensors files directly inside `dir`, sorted by name, as LoRAs /
 * as embeddings. Only headers are read; a broken file is an entry with
 * `error` set, never an error of the call. *out is malloc'd with *n
 * entries; free it with t2i_asset_list_free. Errors: T2I_ERR_IO (`dir`
 * unreadable), T2I_ERR_NOMEM, T2I_ERR_INVALID_ARG (NULL argument). */
t2i_status t2i_list_loras(const char *dir, t2i_asset_entry **out, int *n);
t2i_status t2i_list_embeddings(const char *dir, t2i_asset_entry **out, int *n);
void t2i_asset_list_free(t2i_asset_entry *list, int n);

/* The model's native image size in pixels (unet sample_size × VAE factor). */
int t2i_model_default_size(const t2i_model *m);

/* The shape of one image's latents for a width × height image (0 = the
 * default size): [channels, height / f, width / f] with f the VAE factor —
 * what t2i_txt2img_params.init_noise holds per image. */
void t2i_model_latent_shape(const t2i_model *m, int width, int height, int *channels, int *h, int *w);

/* The size rule of a model: width and height must be multiples of this (the
 * VAE's factor × 2^(UNet blocks − 1): 64 for SD 1.x/2.x/SDXL), between it
 * and 8192. The CLI, the server and t2i_txt2img all apply this rule. */
int t2i_model_size_multiple(const t2i_model *m);

/* Check a prompt's syntax (the A1111 prompt language of t2i_txt2img_params)
 * without drawing: T2I_OK, or T2I_ERR_INVALID_ARG with t2i_last_error()
 * "prompt: column C (byte B): …" counted in the text given. */
t2i_status t2i_prompt_check(const char *prompt);

/* ---- LoRA ---------------------------------------------------------------- */

/* One LoRA of a set: a .safetensors file in the kohya/A1111 naming
 * (lora_unet_*, lora_te_*, lora_te1_/lora_te2_, lora_down/lora_up/alpha,
 * LoCon convolutions) or the diffusers/PEFT naming (unet.*, text_encoder.*,
 * lora_A/lora_B), and its multiplier (A1111's <lora:name:weight>). See
 * docs/lora.md. */
typedef struct t2i_lora {
    const char *path;
    float weight;          /* 1 = as trained; any finite value */
} t2i_lora;

/* Merge loras[0..n) into m's text encoder(s) and UNet, replacing the set
 * merged before (n = 0: back to the loaded weights, bit for bit). The same
 * list as last time costs nothing. Every file is checked before any weight
 * changes, so on failure the previous set stays. t2i_txt2img calls this
 * with the run's list (params.loras plus the prompt's <lora:…> tags).
 * Errors, naming the file and tensor: T2I_ERR_IO, T2I_ERR_FORMAT,
 * T2I_ERR_INVALID_ARG (shapes that do not fit, a tensor naming no weight of
 * the model, an SDXL LoRA on a model with one text encoder),
 * T2I_ERR_UNSUPPORTED (LoHa/LoKr, DoRA). */
t2i_status t2i_model_set_loras(t2i_model *m, const t2i_lora *loras, int n);

/* ---- samplers ----------------------------------------------------------- */

typedef enum t2i_sampler {
    T2I_SAMPLER_EULER = 0,        /* EulerDiscreteScheduler */
    T2I_SAMPLER_EULER_A,          /* EulerAncestralDiscreteScheduler */
    T2I_SAMPLER_DDIM,             /* DDIMScheduler (eta = 0) */
    T2I_SAMPLER_DPMPP_2M,         /* DPMSolverMultistepScheduler, order 2 */
    T2I_SAMPLER_DPMPP_2M_KARRAS,  /* the same with Karras sigmas */
    T2I_SAMPLER_HEUN,             /* HeunDiscreteScheduler (2 UNet calls a step) */
    T2I_SAMPLER_DPM2,             /* KDPM2DiscreteScheduler (2 UNet calls a step) */
    T2I_SAMPLER_DPM2_A,           /* KDPM2AncestralDiscreteScheduler (2 calls) */
    T2I_SAMPLER_LMS,              /* LMSDiscreteScheduler (order 4) */
    T2I_SAMPLER_DDPM,             /* DDPMScheduler (fixed_small variance) */
    T2I_SAMPLER_LCM,              /* LCMScheduler (LCM / LCM-LoRA models) */
    T2I_SAMPLER_UNIPC,            /* UniPCMultistepScheduler (bh2, order 2) */
    T2I_SAMPLER_DPMPP_2S,         /* DPMSolverSinglestepScheduler, order 2 */
    T2I_SAMPLER_DPMPP_2S_A,       /* the same with algorithm_type sde-dpmsolver++ */
    T2I_SAMPLER_DPMPP_SDE,        /* k-diffusion sample_dpmpp_sde, Brownian-tree noise (2 calls) */
    T2I_SAMPLER_DPMPP_SDE_KARRAS, /* the same with Karras sigmas */
    T2I_SAMPLER_COUNT
} t2i_sampler;

/* A sampler's names, from the library's one table: the A1111 display name,
 * the short id the CLI takes, the aliases the A1111 API lists (NULL-padded)
 * and the A1111 "scheduler" the name implies ("karras", or NULL). */
typedef struct t2i_sampler_info {
    const char *name;         /* "DPM++ 2M Karras" */
    const char *id;           /* "dpmpp_2m_karras" */
    const char *aliases[2];   /* "k_dpmpp_2m_ka" */
    const char *scheduler;    /* "karras" */
} t2i_sampler_info;

/* Static; NULL when s is out of range. */
const t2i_sampler_info *t2i_sampler_get_info(t2i_sampler s);
/* A1111 display name ("Euler a", "DPM++ 2M Karras", ...); "?" if out of range. */
const char *t2i_sampler_name(t2i_sampler s);
/* Parse an A1111 name, a short id ("euler_a", "dpmpp_2m_karras", "ddim") or
 * an A1111 alias ("k_euler_a"); case-insensitive. Returns
 * T2I_ERR_INVALID_ARG for an unknown name. */
t2i_status t2i_sampler_from_name(const char *name, t2i_sampler *out);

/* A1111's "Schedule type": the sigmas of the samplers that take them
 * (Euler, Heun, DPM2, DPM2 a, LMS, DPM++ 2M, UniPC, DPM++ 2S, 2S a), as
 * diffusers' from_config(..., use_karras_sigmas / use_exponential_sigmas =
 * True). AUTOMATIC keeps the model's scheduler_config.json. */
typedef enum t2i_schedule {
    T2I_SCHEDULE_AUTOMATIC = 0,
    T2I_SCHEDULE_KARRAS,
    T2I_SCHEDULE_EXPONENTIAL,
} t2i_schedule;

typedef enum t2i_noise_source {
    T2I_NOISE_TORCH_CPU = 0,  /* torch.randn with a CPU torch.Generator */
    T2I_NOISE_PHILOX,         /* CUDA Philox (A1111 "GPU" RNG source) */
} t2i_noise_source;

/* ---- txt2img ------------------------------------------------------------ */

/* Called after every denoising step; return non-zero to cancel the run
 * (t2i_txt2img then returns T2I_ERR_CANCELLED). */
typedef int (*t2i_progress_fn)(void *user, int step, int steps);

typedef struct t2i_styles t2i_styles;

typedef struct t2i_txt2img_params {
    /* Prompts use the A1111 prompt language: (word) ×1.1, (word:1.5),
     * [word] ÷1.1, \( \) escapes, BREAK, prompt editing [from:to:when],
     * alternation [a|b]; any length (75-token chunks). A syntax error is
     * T2I_ERR_INVALID_ARG naming the column. */
    const char *prompt;            /* required, UTF-8 */
    const char *negative_prompt;   /* NULL or "" for none */
    /* Optional styles from the catalog, each "id", "English name", "中文名"
     * or any of them with a weight: "cyberpunk:1.2". Applied in id order,
     * so the order given does not matter (see t2i_styles_apply). */
    const char *const *styles;
    int n_styles;
    const t2i_styles *style_catalog;   /* NULL = the built-in catalog */
    /* Prompt expansion: a short prompt becomes a richer one (details, scene,
     * lighting, composition, a style), the same for the same seed, within
     * expand_max_tokens text tokens (0 = 75). See t2i_prompt_expand. */
    int expand;
    int expand_max_tokens;
    /* Feedback: styles users liked for a subject class. With liked styles of
     * total weight W for the prompt's subject, the expansion picks one of
     * them with probability W / (W + 1), ∝ its weight, else explores as
     * without preferences (deterministic for the same list and seed).
     * NULL/0: none. */
    const struct t2i_style_pref *style_prefs;
    int n_style_prefs;
    uint64_t seed;                 /* image i of the batch uses seed + i */
    int steps;                     /* 1..1000, default 20 */
    float guidance_scale;          /* CFG; <= 1 disables the negative pass */
    int width, height;             /* multiples of 8; 0 = model default */
    int batch_size;                /* 1..64 */
    t2i_sampler sampler;
    /* A1111's "Clip skip": 0 or 1 = the text encoder's last layer; N = the
     * hidden state N layers from the end, through the final layer norm (SD
     * 1.x/2.x; diffusers' clip_skip = N - 1), for SDXL the penultimate
     * state moved N - 1 layers earlier in both encoders; at most the
     * encoder's layer count. BERT encoders (Taiyi) have none: must be 0 or 1. */
    int clip_skip;
    /* Karras / exponential sigmas for this run; another value than
     * AUTOMATIC with a sampler that has no sigmas (DDIM, DDPM, LCM, Euler a)
     * is T2I_ERR_INVALID_ARG. */
    t2i_schedule schedule;
    t2i_noise_source noise;
    /* Optional: initial latents [batch, C, h, w] in FP32 (see
     * t2i_model_latent_shape; [batch, 4, height/8, width/8] for SD), not yet
     * scaled by the sampler's init sigma. Replaces the seeded noise. */
    const float *init_noise;
    /* Optional: write stage outputs (token ids, text embeddings, final
     * latents, decoded image tensor) to this safetensors file. */
    const char *stages_path;
    /* LoRAs merged for this run (see t2i_model_set_loras), applied before
     * those of <lora:name:weight> tags. Tags in the prompt and negative
     * prompt are removed from the text (as A1111 does) and name
     * lora_dir/name.safetensors; a tag without lora_dir is
     * T2I_ERR_INVALID_ARG. The set stays merged until a run asks for another. */
    const t2i_lora *loras;
    int n_loras;
    const char *lora_dir;
    /* Textual-inversion embeddings (A1111 .safetensors with emb_params or
     * clip_l/clip_g, diffusers {"<token>": [n, C]}): a word of the prompt or
     * negative prompt equal to the name of embedding_dir/NAME.safetensors
     * stands for its vectors (docs/lora.md). NULL = none. */
    const char *embedding_dir;
    t2i_progress_fn progress;
    void *progress_user;
    /* Tiled VAE (docs/upscaling.md): decode and encode in overlapping tiles
     * of vae_tile × vae_tile pixels (a multiple of the VAE factor; 0 = the
     * whole image), blended over vae_tile_overlap pixels (default 64, a
     * multiple of the factor, smaller than the tile, else
     * T2I_ERR_INVALID_ARG), so the VAE's memory is bounded by the tile.
     * Each tile normalises with its own GroupNorm statistics: the result is
     * close to the whole-image one, not equal (measured in the doc). */
    int vae_tile, vae_tile_overlap;
    /* Cap in bytes on the VAE's planned activation arena: when the plan
     * (whole image, or vae_tile) would exceed it, the largest tile (in
     * 64-pixel steps) whose plan fits is used; none fitting is
     * T2I_ERR_NOMEM. 0 = no cap. */
    size_t max_memory;
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

/* The prompt and negative prompt a run with these parameters actually draws
 * (styles applied, expansion done) — what the server returns as
 * revised_prompt. m may be NULL (expansion then estimates token counts
 * instead of using the model's tokenizer). On success *prompt and *negative
 * are malloc'd strings the caller frees with t2i_free; a syntax error in
 * the result is not checked here (t2i_txt2img does). */
t2i_status t2i_prompt_resolve(const t2i_model *m, const t2i_txt2img_params *p, char **prompt, char **negative);

/* The built-in style the prompt expansion picks for these parameters (the
 * draw t2i_prompt_resolve makes, style preferences included): *style_id
 * gets its id (static), or NULL when p->expand is 0, the user gave styles,
 * or no style fits the budget. Errors: those of t2i_prompt_resolve. */
t2i_status t2i_prompt_expansion_style(const t2i_model *m, const t2i_txt2img_params *p, const char **style_id);

/* Free memory the library returned (strings of t2i_prompt_resolve,
 * t2i_styles_apply, t2i_prompt_expand). Accepts NULL. */
void t2i_free(void *ptr);

/* ---- image editing: img2img, inpainting, outpainting, instruct edits ----- */

/* How an init image of another size becomes width × height (A1111 names). */
typedef enum t2i_resize_mode {
    T2I_RESIZE_JUST = 0,   /* "Just resize": stretch (Lanczos) */
    T2I_RESIZE_CROP,       /* "Crop and resize": fill the frame, crop the excess */
    T2I_RESIZE_FILL,       /* "Resize and fill": fit inside, stretch the edges into the gap */
} t2i_resize_mode;

/* What the masked area starts from (A1111 inpainting_fill). */
typedef enum t2i_inpaint_fill {
    T2I_FILL_FILL = 0,          /* "fill": colours smeared in from around the mask */
    T2I_FILL_ORIGINAL,          /* "original": the init image as it is */
    T2I_FILL_LATENT_NOISE,      /* "latent noise": seeded noise in the latents */
    T2I_FILL_LATENT_NOTHING,    /* "latent nothing": zero latents */
} t2i_inpaint_fill;

typedef struct t2i_img2img_params {
    /* Prompt, seed, steps, sampler, CFG, batch, styles, progress: as for
     * txt2img. width/height 0 = the init image's size (after outpainting)
     * rounded down to the model's size multiple. */
    t2i_txt2img_params base;
    /* Required: RGB (3), RGBA (4; composited on white) or grey (1), e.g.
     * from t2i_image_read. Borrowed for the call. */
    const t2i_image *init_image;
    /* Optional inpainting mask, the init image's size: with alpha (channels
     * 4, some pixel not opaque) alpha > 128 marks what to repaint, else
     * luma > 128 (A1111 create_binary_mask). All or nothing marked is
     * T2I_ERR_INVALID_ARG. */
    const t2i_image *mask;
    float strength;                /* denoising strength 0..1, default 0.75 */
    t2i_resize_mode resize_mode;   /* default T2I_RESIZE_JUST */
    int mask_blur;                 /* Gaussian sigma in pixels, default 4 */
    t2i_inpaint_fill inpainting_fill;   /* default T2I_FILL_ORIGINAL */
    int inpaint_full_res;          /* "only masked": work on the mask's box at full size */
    int inpaint_full_res_padding;  /* pixels around that box, default 32 */
    int mask_invert;               /* repaint what the mask leaves unmarked */
    float image_guidance_scale;    /* InstructPix2Pix models, default 1.5 */
    /* Outpainting: grow the canvas by these many pixels (left, top, right,
     * bottom; 0..2048), new area filled with the nearest edge colours and
     * inpainted (mask = the new area, blurred by mask_blur; strength 1 is
     * typical). Cannot be combined with a mask. */
    int outpaint[4];
} t2i_img2img_params;

void t2i_img2img_params_init(t2i_img2img_params *p);

/* Edit p->init_image; the model decides the kind: an ordinary model does
 * img2img (inpainting with a mask), an inpainting model (UNet in_channels
 * 9) needs a mask or outpainting, an InstructPix2Pix model (in_channels 8)
 * follows the prompt as an instruction. Pixels outside the (blurred) mask
 * come back exactly as in the resized init image. Images as t2i_txt2img
 * returns them, infotext with A1111's "Denoising strength", "Mask blur",
 * "Image CFG scale". Errors: T2I_ERR_INVALID_ARG naming the field (strength
 * outside [0, 1], mask size differs, empty/full mask, bad sizes),
 * T2I_ERR_UNSUPPORTED (the model's VAE has no encoder weights), and those of
 * t2i_txt2img. */
t2i_status t2i_img2img(t2i_model *m, const t2i_img2img_params *p, t2i_image **images, int *count);

/* ---- Stable Diffusion x4 upscaler ------------------------------------------ */

/* A model folder of diffusers' StableDiffusionUpscalePipeline (e.g.
 * stabilityai/stable-diffusion-x4-upscaler) loads with t2i_model_load; it
 * draws only through t2i_upscale_x4 (t2i_txt2img and t2i_img2img refuse it). */
typedef struct t2i_upscale_x4_params {
    /* Prompt, negative prompt, seed, steps, sampler, CFG, batch, styles,
     * progress: as for txt2img (init: 75 steps, CFG 9, as diffusers' call).
     * width/height are not read: the output is the VAE factor (4) times the
     * input's size. */
    t2i_txt2img_params base;
    /* Required, borrowed: RGB (3), RGBA (4; composited on white) or grey
     * (1); width and height multiples of t2i_model_size_multiple / 4. */
    const t2i_image *image;
    int noise_level;   /* noise added to the input, 0..max_noise_level (350); default 20 */
} t2i_upscale_x4_params;

void t2i_upscale_x4_params_init(t2i_upscale_x4_params *p);

/* Whether m is an x4 upscaler model (StableDiffusionUpscalePipeline). */
int t2i_model_is_upscaler_x4(const t2i_model *m);

/* Upscale p->image as diffusers' StableDiffusionUpscalePipeline does with a
 * list of one generator per image (image i: seed + i draws the input's
 * noise, then the latents): base.batch_size images, each of 4× the input's
 * width and height, infotext with "Noise level". Errors:
 * T2I_ERR_INVALID_ARG (no image, a size off the model's rule or beyond 8192
 * out, noise_level outside 0..max_noise_level, not an x4 upscaler model), and
 * those of t2i_txt2img. */
t2i_status t2i_upscale_x4(t2i_model *m, const t2i_upscale_x4_params *p, t2i_image **images, int *count);

/* Read a PNG or JPEG (by content) as RGBA8: channels = 4, alpha 255 where
 * the file has none; JPEG EXIF orientation applied. The size is checked
 * before decoding (at most 16384 per side, 2^28 pixels). Free with
 * t2i_image_clear. Errors: T2I_ERR_IO, T2I_ERR_FORMAT (not an image,
 * truncated, corrupt, too large), T2I_ERR_UNSUPPORTED (CMYK JPEG),
 * T2I_ERR_NOMEM. */
t2i_status t2i_image_read(const char *path, t2i_image *img);
t2i_status t2i_image_decode_memory(const void *buf, size_t n, t2i_image *img);

/* ---- style catalog ------------------------------------------------------ */

/* One style: A1111 styles.csv's name/prompt/negative_prompt plus an id, a
 * Chinese name and a category. `prompt` and `negative_prompt` are templates:
 * "{prompt}" is replaced by the user's text; a template without it is
 * appended after ", ". */
typedef struct t2i_style {
    const char *id;                /* "oil_painting": [a-z0-9_]+, unique */
    const char *name_en;           /* "Oil Painting" */
    const char *name_zh;           /* "油画" ("" in A1111 csv files) */
    const char *category;          /* a key of t2i_styles_category */
    const char *prompt;
    const char *negative_prompt;
} t2i_style;

/* The catalog compiled into the library (data/styles.tsv, 1,000+ styles);
 * static, never NULL, never destroyed. */
const t2i_styles *t2i_styles_builtin(void);

/* Load a catalog file: data/styles.tsv's layout (tab-separated, header
 * "id name_en name_zh category prompt negative_prompt") or an A1111
 * styles.csv (header name,prompt,negative_prompt; quoted fields; ids made
 * from the names, category "user"). Duplicate ids or names are
 * T2I_ERR_FORMAT naming the line. Destroy with t2i_styles_destroy. */
t2i_status t2i_styles_load(const char *path, t2i_styles **out);
void t2i_styles_destroy(t2i_styles *s);   /* accepts NULL and the built-in */

int t2i_styles_count(const t2i_styles *s);
const t2i_style *t2i_styles_get(const t2i_styles *s, int i);   /* NULL if out of range */

/* Look a style up by id or English name (both case-insensitive) or Chinese
 * name (exact); NULL if none. */
const t2i_style *t2i_styles_find(const t2i_styles *s, const char *name);

/* Categories of the built-in catalog: key ("medium") and Chinese name
 * ("绘画媒介") of category i, 0 <= i < t2i_styles_category_count(). */
int t2i_styles_category_count(void);
const char *t2i_styles_category(int i, const char **name_zh);

/* Apply styles (entries as in t2i_txt2img_params.styles) to a prompt and a
 * negative prompt (either may be NULL = ""). The styles are sorted by id and
 * applied one after another, A1111's way (template with {prompt} replaced,
 * otherwise appended with ", "); a weight w != 1 wraps the style's own text
 * as "(text:w)". Unknown style, bad weight (outside (0, 10]) or a style given
 * twice: T2I_ERR_INVALID_ARG naming it. Results malloc'd (t2i_free). */
t2i_status t2i_styles_apply(const t2i_styles *s, const char *const *styles, int n_styles, const char *prompt,
                            const char *negative, char **out_prompt, char **out_negative);

/* ---- prompt expansion --------------------------------------------------- */

/* Expand a short prompt into a richer one: the user's text first, unchanged,
 * then phrases for subject details, scene, lighting, composition and a
 * style from the built-in catalog, drawn by a PRNG seeded with `seed` from
 * phrase tables (Chinese ones when the prompt contains CJK characters).
 * The result never exceeds max_tokens CLIP tokens (counted with the model's
 * tokenizer when m is given, else estimated from words and CJK characters);
 * a prompt already over the budget comes back unchanged. *style_id (may be
 * NULL) receives the chosen style's id or NULL. Result: t2i_free. */
/* A style's liking for a subject class, from user feedback: subject is a
 * t2i_prompt_subject name, weight >= 0 the odds of choosing it against
 * exploring other styles (0 = no preference). */
typedef struct t2i_style_pref {
    const char *subject;
    const char *style_id;
    float weight;
} t2i_style_pref;

/* The subject class the expansion sees in a prompt: "generic", "person",
 * "animal", "landscape", "city", "food", "object" or "fantasy" (static). */
const char *t2i_prompt_subject(const char *prompt);

t2i_status t2i_prompt_expand(const t2i_model *m, const char *prompt, uint64_t seed, int max_tokens, char **out,
                             const char **style_id);

/* ---- tensor files ----------------------------------------------------------- */

/* Read one tensor of a safetensors file as FP32 (F32, F16 and BF16 are
 * converted) into out[0..count): the tensor named `name`, or, when the file
 * holds no such tensor and exactly one tensor, that one. Errors: T2I_ERR_IO,
 * T2I_ERR_FORMAT (not a valid safetensors file), T2I_ERR_INVALID_ARG (no such
 * tensor, or its element count is not `count`), naming file and tensor. */
t2i_status t2i_tensor_file_read_f32(const char *path, const char *name, float *out, size_t count);

/* ---- PNG files and infotext ---------------------------------------------- */

/* Write an RGB PNG with img->infotext in a "parameters" tEXt chunk. */
t2i_status t2i_image_write_png(const t2i_image *img, const char *path);

/* t2i_image_write_png (declared in t2i.h) writes a file. This encodes to a
 * malloc'ed buffer (*out, *out_size; free with free()). Errors:
 * T2I_ERR_INVALID_ARG (bad size/channels/pixels, infotext not UTF-8),
 * T2I_ERR_NOMEM. */
t2i_status t2i_png_encode_memory(const t2i_image *img, void **out, size_t *out_size);

/* Decode a PNG file / buffer into *img: width, height, channels = 3,
 * pixels (malloc'ed RGB8), infotext (malloc'ed UTF-8 "parameters" text, NULL
 * if absent), seed 0. Free with t2i_image_clear (or t2i_images_free(img, 1)
 * for a malloc'ed one). On failure *img is zeroed. Errors: T2I_ERR_IO,
 * T2I_ERR_FORMAT (not a PNG, corrupt, truncated, too large), T2I_ERR_NOMEM. */
t2i_status t2i_png_read(const char *path, t2i_image *img);
t2i_status t2i_png_decode_memory(const void *buf, size_t n, t2i_image *img);

/* Read a PNG buffer's "parameters" text without decoding its pixels: the
 * chunks are walked and CRC-checked up to IEND, the first tEXt / zTXt /
 * iTXt chunk with the keyword "parameters" is taken (compressed text
 * inflated up to 8 MiB), as UTF-8 (tEXt and zTXt are Latin-1). Memory used
 * is bounded by the text, whatever size the image declares. *text: malloc'ed
 * (free with t2i_free), NULL when there is no such chunk (still T2I_OK).
 * *width / *height (may be NULL): from IHDR. Errors: T2I_ERR_FORMAT (not a
 * PNG, IHDR not first, a chunk past the end or with a bad CRC, no IEND,
 * corrupt or oversized compressed text), T2I_ERR_NOMEM; *text is then NULL. */
t2i_status t2i_png_read_text_memory(const void *buf, size_t n, char **text, int *width, int *height);

/* Free one image's pixels and infotext and zero it (accepts NULL). */
void t2i_image_clear(t2i_image *img);

/* The A1111 "parameters" text (format and parsing rules: product/infotext.h,
 * which follows A1111's create_infotext / parse_generation_parameters). */
typedef struct t2i_infotext_kv {
    const char *key, *value;
} t2i_infotext_kv;

/* Strings are UTF-8. When built by a caller for t2i_infotext_format, the
 * caller owns them; when filled by t2i_infotext_parse, the struct owns them
 * (free with t2i_infotext_free). */
typedef struct t2i_infotext {
    const char *prompt;            /* NULL or "" = empty */
    const char *negative;          /* NULL or "" = none */
    int steps;                     /* <= 0: absent */
    const char *sampler;           /* NULL or "": absent (A1111 name, "Euler a") */
    int has_cfg;
    float cfg;
    int has_seed;
    uint64_t seed;
    int width, height;             /* either <= 0: Size absent */
    const char *model;             /* NULL or "": absent */
    int n_extra;
    const t2i_infotext_kv *extra;  /* appended after Model, in order */
} t2i_infotext;

/* All fields absent. */
void t2i_infotext_init(t2i_infotext *it);

/* Build the text; *out is malloc'ed (free with free()). T2I_ERR_NOMEM, or
 * T2I_ERR_INVALID_ARG for an extra with a NULL/empty key. */
t2i_status t2i_infotext_format(const t2i_infotext *it, char **out);

/* Parse `text` into *it (initialised here; owns its strings afterwards, also
 * on failure — call t2i_infotext_free either way). Never fails on content:
 * anything unrecognised ends up in the prompt or the extras, as in A1111.
 * T2I_ERR_NOMEM only. */
t2i_status t2i_infotext_parse(const char *text, t2i_infotext *it);

/* Free the strings of a parsed infotext and reset it (accepts NULL). */
void t2i_infotext_free(t2i_infotext *it);

/* ---- judging images ------------------------------------------------------- */

/* The models that judge images: a transformers CLIPModel folder (English
 * relevance; its image embedding also feeds the aesthetic head and
 * near-duplicate checks), a ChineseCLIPModel folder (Chinese relevance)
 * and a LAION-style aesthetic head (.safetensors). Any may be NULL, not
 * all three; the head needs the CLIP model whose embedding width it takes.
 * Errors name the file and key or tensor. Destroy with t2i_scorer_destroy. */
typedef struct t2i_scorer t2i_scorer;
t2i_status t2i_scorer_load(t2i_engine *e, const char *clip_dir, const char *zh_clip_dir,
                           const char *aesthetic_path, t2i_scorer **out);
void t2i_scorer_destroy(t2i_scorer *s);   /* accepts NULL */

/* Which text tower scores a prompt: AUTO takes the Chinese one when the
 * prompt contains a CJK ideograph and a Chinese model is loaded. */
typedef enum t2i_text_lang { T2I_LANG_AUTO = 0, T2I_LANG_EN, T2I_LANG_ZH } t2i_text_lang;

/* CLIPScore as torchmetrics defines it: 100 · max(cos(image, text), 0), in
 * [0, 100], for one RGB image (at least 16×16 pixels) and a prompt (used as
 * given: pass the prompt a run drew — t2i_prompt_resolve — to score styles
 * and expansion too, or the user's words to score those alone). The image
 * is preprocessed exactly as transformers' CLIPImageProcessor (PIL backend)
 * does with the folder's preprocessor_config.json. Errors:
 * T2I_ERR_INVALID_ARG (image too small, no model for the language). */
t2i_status t2i_clip_score(t2i_scorer *s, const t2i_image *img, const char *prompt, t2i_text_lang lang,
                          float *score);

/* The L2-normalised image embedding of the tower for `lang` (EN or AUTO:
 * the CLIP model, ZH: the Chinese one) into out[0..max); *dim gets its
 * width (an error when max is smaller). */
t2i_status t2i_scorer_image_embedding(t2i_scorer *s, const t2i_image *img, t2i_text_lang lang, float *out,
                                      int max, int *dim);

/* The aesthetic head over the CLIP model's normalised image embedding (the
 * LAION predictor's scale: about 1..10 with its published weights). */
t2i_status t2i_aesthetic_score(t2i_scorer *s, const t2i_image *img, float *score);

/* No-reference measures of an RGB image (definitions and ranges:
 * product/image_metrics.c and docs/judging.md): sharpness = variance of the
 * Laplacian of the grey image (0 = flat; blurry photos below ~100),
 * colourfulness = Hasler–Süsstrunk M (0 = grey; ~33 moderate, ~109
 * extreme), exposure = mean grey / 255 in [0, 1], contrast = RMS contrast in
 * [0, 0.5]. Errors: T2I_ERR_INVALID_ARG (not an RGB image), T2I_ERR_NOMEM. */
typedef struct t2i_image_quality {
    float sharpness, colourfulness, exposure, contrast;
} t2i_image_quality;
t2i_status t2i_image_quality_measure(const t2i_image *img, t2i_image_quality *q);

/* A 64-bit difference hash of the image (grey, 9×8 Lanczos, brighter-than-
 * left bits) and the number of bits two hashes differ in (0..64). */
t2i_status t2i_image_dhash(const t2i_image *img, uint64_t *hash);
int t2i_hash_distance(uint64_t a, uint64_t b);

/* ---- best-of-n ------------------------------------------------------------ */

/* Near-duplicate thresholds (docs/judging.md says how they were chosen):
 * two images are near-duplicates when their dHashes differ in at most
 * T2I_DUP_HASH_BITS bits or their CLIP image embeddings have a cosine of at
 * least T2I_DUP_COSINE. */
#define T2I_DUP_HASH_BITS 5
#define T2I_DUP_COSINE 0.95f

/* How candidates are ranked: score = w_relevance · CLIPScore/100 +
 * w_aesthetic · aesthetic/10 + w_sharpness · min(log10(1 + sharpness)/3, 1)
 * (the aesthetic term only when the scorer has a head). score_resolved: 1
 * judges relevance against the prompt drawn (styles, expansion), 0 against
 * the user's own words. */
typedef struct t2i_rank_options {
    float w_relevance, w_aesthetic, w_sharpness;
    int dup_hash_bits;
    float dup_cosine;
    int score_resolved;
} t2i_rank_options;
void t2i_rank_options_init(t2i_rank_options *o);   /* 1, 0.5, 0.1, the thresholds above, 1 */

/* One judged image. aesthetic is NaN without a head. */
typedef struct t2i_image_scores {
    float clip_score, aesthetic, score;
    t2i_image_quality quality;
    uint64_t dhash;
} t2i_image_scores;

/* The rank score of judged scores s (clip_score, aesthetic, quality) by the
 * weights of o (NULL: defaults): the formula above. */
float t2i_rank_score(const t2i_rank_options *o, const t2i_image_scores *s);

/* Draw n candidates (seeds p->seed … p->seed + n − 1, p->batch_size at a
 * time), judge each with s, drop near-duplicates of better ones, and return
 * the best `keep` (or fewer when duplicates were dropped), best first, with
 * their scores (also appended to each infotext: "CLIP score", "Aesthetic",
 * "Rank score"). o may be NULL (defaults). Free with t2i_images_free and
 * t2i_free. Errors: those of t2i_txt2img and the scorer; n outside 1..256,
 * keep outside 1..n: T2I_ERR_INVALID_ARG. */
t2i_status t2i_best_of(t2i_model *m, t2i_scorer *s, const t2i_txt2img_params *p, int n, int keep,
                       const t2i_rank_options *o, t2i_image **images, t2i_image_scores **scores, int *count);
/* The same for an edit: n candidates of t2i_img2img with p (seeds
 * p->base.seed …, the same init image, mask and options), judged against
 * p->base.prompt. Errors: those of t2i_img2img and t2i_best_of. */
t2i_status t2i_best_of_img2img(t2i_model *m, t2i_scorer *s, const t2i_img2img_params *p, int n, int keep,
                               const t2i_rank_options *o, t2i_image **images, t2i_image_scores **scores,
                               int *count);
/* ---- several devices --------------------------------------------------------- */

/* Data parallelism: p->batch_size images split across n_models models, each
 * loaded on its own engine (one per device; the same model folder), drawn
 * concurrently and returned in order — image i with seed p->seed + i, as
 * t2i_txt2img on one device draws it. The first model's rank reports
 * progress. A rank's failure fails the call naming the rank. Free with
 * t2i_images_free. docs/multi_gpu.md describes the other modes. */
t2i_status t2i_txt2img_parallel(t2i_model *const *models, int n_models, const t2i_txt2img_params *p,
                                t2i_image **images, int *count);

/* How t2i_txt2img_parallel_ex shares the work between the models (ranks):
 *   DATA  the batch split across the ranks (t2i_txt2img_parallel)
 *   CFG   ranks in pairs: rank 2j the negative prompt's UNet pass, 2j + 1 the
 *         prompt's, the noise predictions exchanged after every evaluation;
 *         the batch split across the pairs (4 ranks = 2 CFG × 2 data). The
 *         images equal one device's (docs/multi_gpu.md gives the rule).
 *   PATCH DistriFusion's patch parallelism: not yet (T2I_ERR_UNSUPPORTED). */
typedef enum t2i_parallel_mode { T2I_PARALLEL_DATA, T2I_PARALLEL_CFG, T2I_PARALLEL_PATCH } t2i_parallel_mode;

typedef struct t2i_parallel_options {
    t2i_parallel_mode mode;
    int timeout_ms;   /* how long a rank waits for its peers at an exchange; default 60000 */
    /* Called on every rank's thread after each step with the rank's index
     * (p->progress is called on rank 0 only); nonzero cancels that rank, and
     * its peers then fail with T2I_ERR_PEER. NULL = none. */
    int (*rank_progress)(void *user, int rank, int step, int steps);
    void *rank_progress_user;
    double *rank_seconds;    /* NULL, or n_models entries out: each rank's time from the call's start to
                                its return (tests check that a stuck peer's partners return within the timeout) */
    double bytes_per_eval;   /* out: bytes received by all ranks together per UNet evaluation */
    int failed_rank;         /* out: the rank whose error the call returns, or -1 */
} t2i_parallel_options;
void t2i_parallel_options_init(t2i_parallel_options *o);   /* DATA, 60000 ms, no callback */

/* t2i_txt2img_parallel with a mode (o NULL = defaults, data parallel). With
 * CFG, n_models must be even; p->batch_size images are split across the
 * n_models / 2 pairs. A rank that fails or stops answering for longer than
 * o->timeout_ms fails the call (T2I_ERR_PEER or the rank's own error) naming
 * the rank; no rank is left waiting and nothing is leaked. Errors as
 * t2i_txt2img_parallel; T2I_ERR_INVALID_ARG for an odd CFG rank count or a
 * bad timeout; T2I_ERR_UNSUPPORTED for PATCH and for CFG with
 * InstructPix2Pix models. */
t2i_status t2i_txt2img_parallel_ex(t2i_model *const *models, int n_models, const t2i_txt2img_params *p,
                                   t2i_parallel_options *o, t2i_image **images, int *count);

/* ---- upscalers (docs/upscaling.md) --------------------------------------- */

typedef struct t2i_upscaler t2i_upscaler;

/* Load an RRDBNet upscaler (ESRGAN, Real-ESRGAN x4plus / x2plus, the
 * embedded models/default/upscaler) from a .safetensors with the published
 * state-dict names, or from a folder holding model.safetensors. The
 * architecture (scale 4 or 2, num_feat, num_block, num_grow_ch) is read
 * from the tensor shapes. The engine must outlive the upscaler. Errors:
 * T2I_ERR_IO, T2I_ERR_FORMAT (not an RRDBNet, a missing tensor or a wrong
 * shape, named), T2I_ERR_NOMEM. */
t2i_status t2i_upscaler_load(t2i_engine *e, const char *path, t2i_upscaler **out);
void t2i_upscaler_free(t2i_upscaler *u);          /* accepts NULL */
/* The model's own factor (2 or 4). */
int t2i_upscaler_scale(const t2i_upscaler *u);

typedef struct t2i_upscale_params {
    float scale;     /* output size = input size × scale, rounded; 0: the model's
                      * factor. 1 ≤ scale ≤ the model's factor: one pass of the
                      * model, then a Lanczos resize to the target (A1111) */
    int tile;        /* 0: the whole image at once; else tiles of tile×tile
                      * input pixels (memory bounded by the tile) */
    int tile_pad;    /* context around each tile (Real-ESRGAN tile_pad) */
    int max_side;    /* 0: none; else a target side above it is an error */
} t2i_upscale_params;
void t2i_upscale_params_init(t2i_upscale_params *p);   /* scale 0, tile 0, pad 10 */

/* Upscale an RGB (or RGBA: alpha dropped) image into *out (RGB; free with
 * t2i_image_clear; the infotext is copied). p may be NULL for the defaults.
 * Errors: T2I_ERR_INVALID_ARG (a scale outside 1..the model's factor, a
 * target side beyond max_side or 16384, a bad tile), T2I_ERR_NOMEM, backend
 * errors. */
t2i_status t2i_upscale_image(t2i_upscaler *u, const t2i_image *in, const t2i_upscale_params *p, t2i_image *out);

/* Hires fix as the A1111 web UI does it with a pixel-space upscaler: the
 * txt2img pass at the base size, each image upscaled (the upscaler, then a
 * Lanczos resize to the target; or Lanczos alone), then an img2img pass at
 * the target size (A1111: hr_scale / hr_resize_x/y, hr_upscaler,
 * hr_second_pass_steps, denoising_strength, hr_prompt). Latent upscaling is
 * not implemented. */
typedef struct t2i_hires_params {
    float scale;                 /* target = base size × scale; default 2 */
    int resize_x, resize_y;      /* hr_resize_x/y: the target instead (0: from scale;
                                  * one of them 0: kept in proportion) */
    int steps;                   /* second pass steps; 0 = the first pass's */
    float denoising_strength;    /* 0..1, default 0.7 */
    const char *prompt;          /* hr_prompt; NULL = the first pass's */
    const char *negative_prompt; /* hr_negative_prompt; NULL = the first pass's */
    t2i_upscaler *upscaler;      /* NULL: Lanczos only (A1111 "Lanczos") */
    int max_side;                /* 0: none; else a larger target is an error */
} t2i_hires_params;
void t2i_hires_params_init(t2i_hires_params *h);

/* txt2img with hires fix: images at the target size (rounded down to the
 * model's size multiple), free with t2i_images_free. The progress callback
 * sees the first pass's steps, then each image's second pass. The infotext
 * adds A1111's "Hires upscale", "Hires steps", "Hires upscaler".
 * Errors: T2I_ERR_INVALID_ARG (scale outside 1..8, a target beyond
 * max_side or smaller than the base size, strength outside 0..1), and those
 * of t2i_txt2img, t2i_upscale_image and t2i_img2img. */
t2i_status t2i_txt2img_hires(t2i_model *m, const t2i_txt2img_params *p, const t2i_hires_params *h,
                             t2i_image **images, int *count);

#ifdef __cplusplus
}
#endif
#endif /* T2I_H */
