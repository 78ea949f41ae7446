/*
 * t2i_upscale_x4.h — the CLI's `--upscale X4_FOLDER[:4]` with a Stable
 * Diffusion x4 upscaler folder (tools/t2i.c): each drawn image goes through
 * t2i_upscale_x4 with the run's prompt, negative prompt, sampler, steps and
 * CFG and the image's own seed, and is replaced by the 4× result.
 * `--upscale-noise N` is the pipeline's noise_level (default 20).
 */
#ifndef T2I_UPSCALE_X4_OPTS_H
#define T2I_UPSCALE_X4_OPTS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "t2i.h"

#define T2I_UPSCALE_X4_USAGE                                                                                     \
    "\nUpscaling and large images:\n"                                                                            \
    "  --upscale X4_DIR[:4]     a Stable Diffusion x4 upscaler folder instead: each image 4x\n"                 \
    "                           (same prompt, sampler, steps, CFG and seed)\n"                                   \
    "  --upscale-noise N        the x4 upscaler's noise level 0..350 (default 20)\n"                             \
    "  --vae-tiling[=TILE]      decode/encode in TILE-pixel tiles (default 512) with whole-image\n"              \
    "                           GroupNorm statistics: VAE memory bounded by the tile\n"                          \
    "  --vae-tile-overlap N     pixels neighbouring tiles share (default 64; less than TILE)\n"                  \
    "  --max-memory BYTES       cap on the VAE's planned activation arena: tiles chosen to fit\n"

/* Whether --upscale names a Stable Diffusion x4 upscaler pipeline folder
 * (a diffusers folder with model_index.json) rather than an RRDBNet. */
static int upscale_is_x4(const char *path)
{
    char f[4200];
    snprintf(f, sizeof f, "%s/model_index.json", path);
    FILE *fp = path[0] ? fopen(f, "rb") : NULL;
    if (fp) fclose(fp);
    return fp != NULL;
}

/* Load the x4 upscaler at `dir` on eng and replace each of imgs[0..n) by
 * its upscaled image (infotext: the upscaler's) (p: the run's parameters; batch 1, the image's seed).
 * Returns the status of the first failure (message in t2i_last_error());
 * images not reached stay as they were. */
static t2i_status upscale_with_x4(t2i_engine *eng, const char *dir, const t2i_txt2img_params *p, int noise_level,
                                  t2i_image *imgs, int n)
{
    t2i_model *x4 = NULL;
    t2i_status st = t2i_model_load(eng, dir, &x4);   /* t2i_upscale_x4 refuses other models */
    for (int i = 0; st == T2I_OK && i < n; i++) {
        t2i_upscale_x4_params u;
        t2i_upscale_x4_params_init(&u);
        u.base = *p;
        u.base.batch_size = 1;
        u.base.seed = imgs[i].seed;
        u.base.init_noise = NULL;
        u.base.stages_path = NULL;
        u.image = &imgs[i];
        u.noise_level = noise_level;
        t2i_image *big = NULL;
        int k = 0;
        st = t2i_upscale_x4(x4, &u, &big, &k);
        if (st == T2I_OK) {
            t2i_image_clear(&imgs[i]);
            imgs[i] = big[0];
            big[0] = (t2i_image){0};
        }
        t2i_images_free(big, k);
    }
    t2i_model_destroy(x4);
    return st;
}

#endif
