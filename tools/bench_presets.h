/*
 * bench_presets.h — what the perf tools (t2i-bench, t2i-plan) measure: a
 * preset name or a model folder, resolved to a diffusers-layout folder whose
 * config.json files give the architecture.
 *
 *   sd15, sd21, sdxl   perf/configs/<name>/ (full-size configs, no weights)
 *   tiny, tiny2, tinyxl  tests/fixtures/tiny-sd1, tiny-sd2, tiny-sdxl (small, for tests)
 *   --model DIR        any diffusers folder
 *
 * Header-only (static inline functions), included by both tools.
 */
#ifndef T2I_BENCH_PRESETS_H
#define T2I_BENCH_PRESETS_H

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "base/error.h"
#include "graph/model_config.h"
#include "runtime/scheduler.h"

#ifndef T2I_SOURCE_DIR
#define T2I_SOURCE_DIR "."
#endif

typedef struct bench_configs {
    char dir[1024];
    t2i_clip_text_config text;
    t2i_clip_text_config text2;   /* SDXL's text_encoder_2 (has_text2) */
    int has_text2;
    int force_zeros;              /* SDXL: an empty negative prompt is zeros, not encoded */
    t2i_unet_config unet;
    t2i_vae_config vae;
    t2i_sched_config sched;
    int ctx_len;              /* text tokens the UNet attends to (77) */
    int ctx_dim;              /* context channels: text (+ text2) hidden sizes */
    int pooled_dim;           /* SDXL: text2's projection_dim, else 0 */
} bench_configs;

/* The folder of a preset, or model_dir itself. configs_dir: where the
 * full-size presets live (NULL: <source>/perf/configs). */
static inline t2i_status bench_resolve(const char *preset, const char *model_dir, const char *configs_dir,
                                       char *dir, size_t n)
{
    struct stat sb;
    if (model_dir) snprintf(dir, n, "%s", model_dir);
    else if (strcmp(preset, "tiny") == 0) snprintf(dir, n, "%s/tests/fixtures/tiny-sd1", T2I_SOURCE_DIR);
    else if (strcmp(preset, "tiny2") == 0) snprintf(dir, n, "%s/tests/fixtures/tiny-sd2", T2I_SOURCE_DIR);
    else if (strcmp(preset, "tinyxl") == 0) snprintf(dir, n, "%s/tests/fixtures/tiny-sdxl", T2I_SOURCE_DIR);
    else snprintf(dir, n, "%s/%s", configs_dir ? configs_dir : T2I_SOURCE_DIR "/perf/configs", preset);
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return t2i_fail(T2I_ERR_INVALID_ARG, "%s '%s': no folder %s (presets: sd15, sd21, sdxl, tiny, tiny2, tinyxl)",
                        model_dir ? "model" : "preset", model_dir ? model_dir : preset, dir);
    return T2I_OK;
}

typedef enum bench_part { BENCH_TEXT = 0, BENCH_UNET, BENCH_VAE, BENCH_SCHED } bench_part;

/* Load one part's config from c->dir. SDXL's UNet (addition_embed_type
 * "text_time") and second text encoder are T2I_ERR_UNSUPPORTED until the
 * SDXL builder exists. */
static inline t2i_status bench_load_part(bench_configs *c, bench_part part)
{
    static const char *const rel[] = {"text_encoder/config.json", "unet/config.json", "vae/config.json",
                                      "scheduler/scheduler_config.json"};
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", c->dir, rel[part]);
    switch (part) {
    case BENCH_TEXT: {
        T2I_TRY(t2i_clip_text_config_load(path, &c->text));
        c->ctx_len = c->text.max_positions < 77 ? c->text.max_positions : 77;
        c->ctx_dim = c->text.hidden_size;
        snprintf(path, sizeof path, "%s/text_encoder_2/config.json", c->dir);
        struct stat sb;
        if (stat(path, &sb) != 0) return T2I_OK;
        /* StableDiffusionXLPipeline: context = both penultimate states side
         * by side; pooled = text_encoder_2's projection. */
        T2I_TRY(t2i_clip_text_config_load(path, &c->text2));
        c->has_text2 = 1;
        c->force_zeros = 1; /* the pipeline's default; perf/configs/sdxl says so too */
        c->ctx_dim += c->text2.hidden_size;
        c->pooled_dim = c->text2.projection_dim;
        return T2I_OK;
    }
    case BENCH_UNET: return t2i_unet_config_load(path, &c->unet);
    case BENCH_VAE: return t2i_vae_config_load(path, &c->vae);
    case BENCH_SCHED: return t2i_sched_config_load(path, &c->sched);
    }
    return T2I_ERR_INTERNAL;
}

/* The latent size for an image of W×H pixels; an error naming the multiple
 * it must be (the UNet's, once its config is loaded). */
static inline t2i_status bench_latent_size(const bench_configs *c, int W, int H, int *lw, int *lh)
{
    int f = t2i_vae_scale(&c->vae), mult = f << (c->unet.n_blocks > 0 ? c->unet.n_blocks - 1 : 0);
    if (W < mult || H < mult || W % mult || H % mult)
        return t2i_fail(T2I_ERR_INVALID_ARG, "size %dx%d: width and height must be positive multiples of %d",
                        W, H, mult);
    *lw = W / f;
    *lh = H / f;
    return T2I_OK;
}

#endif
