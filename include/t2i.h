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

/* The model's native image size in pixels (unet sample_size × VAE factor). */
int t2i_model_default_size(const t2i_model *m);

/* The shape of one image's latents for a width × height image (0 = the
 * default size): [channels, height / f, width / f] with f the VAE factor —
 * what t2i_txt2img_params.init_noise holds per image. */
void t2i_model_latent_shape(const t2i_model *m, int width, int height, int *channels, int *h, int *w);

/* ---- samplers ----------------------------------------------------------- */

typedef enum t2i_sampler {
    T2I_SAMPLER_EULER = 0,        /* EulerDiscreteScheduler */
    T2I_SAMPLER_EULER_A,          /* EulerAncestralDiscreteScheduler */
    T2I_SAMPLER_DDIM,             /* DDIMScheduler (eta = 0) */
    T2I_SAMPLER_DPMPP_2M,         /* DPMSolverMultistepScheduler, order 2 */
    T2I_SAMPLER_DPMPP_2M_KARRAS,  /* the same with Karras sigmas */
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
    uint64_t seed;                 /* image i of the batch uses seed + i */
    int steps;                     /* 1..1000, default 20 */
    float guidance_scale;          /* CFG; <= 1 disables the negative pass */
    int width, height;             /* multiples of 8; 0 = model default */
    int batch_size;                /* 1..64 */
    t2i_sampler sampler;
    t2i_noise_source noise;
    /* Optional: initial latents [batch, C, h, w] in FP32 (see
     * t2i_model_latent_shape; [batch, 4, height/8, width/8] for SD), not yet
     * scaled by the sampler's init sigma. Replaces the seeded noise. */
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

/* The prompt and negative prompt a run with these parameters actually draws
 * (styles applied, expansion done) — what the server returns as
 * revised_prompt. m may be NULL (expansion then estimates token counts
 * instead of using the model's tokenizer). On success *prompt and *negative
 * are malloc'd strings the caller frees with t2i_free; a syntax error in
 * the result is not checked here (t2i_txt2img does). */
t2i_status t2i_prompt_resolve(const t2i_model *m, const t2i_txt2img_params *p, char **prompt, char **negative);

/* Free memory the library returned (strings of t2i_prompt_resolve,
 * t2i_styles_apply, t2i_prompt_expand). Accepts NULL. */
void t2i_free(void *ptr);

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

#ifdef __cplusplus
}
#endif
#endif /* T2I_H */
