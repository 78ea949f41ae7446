/*
 * pipeline.h — the engine's txt2img: conditioning, seeded noise, the sampler
 * loop with classifier-free guidance, and the VAE decode, for a prompt and
 * negative prompt that are already final (styles applied, expansion done).
 *
 * The public t2i_txt2img (product/txt2img.c) resolves the user's prompt and
 * adds each image's infotext; tools that need the bare engine call this.
 */
#ifndef T2I_PIPELINE_H
#define T2I_PIPELINE_H

#include "t2i.h"

/* Draw p->batch_size images for `prompt` / `negative` (negative may be NULL);
 * p->prompt, p->styles and p->expand are not read. Images come back with
 * pixels and seed set and infotext NULL; free with t2i_images_free.
 * Errors: T2I_ERR_INVALID_ARG (parameters, prompt syntax), T2I_ERR_NOMEM,
 * T2I_ERR_CANCELLED (the progress callback asked), backend errors. */
t2i_status t2i_pipeline_txt2img(t2i_model *m, const t2i_txt2img_params *p, const char *prompt,
                                const char *negative, t2i_image **images, int *count);

/* The editing inputs of a run (see pipeline.c for each mode's steps). The
 * mode follows from the model's UNet: in_channels = latent channels gives
 * img2img (inpainting with a mask), 2·latent + 1 inpainting (mask required),
 * 2·latent InstructPix2Pix (no mask); an upscale pipeline's model (latent +
 * 3, class labels) upscales `image` (edit required). Sizes are p->width × p->height. */
typedef struct t2i_pipeline_edit {
    const float *image;    /* [3][H][W] in [-1, 1] (v / 127.5 − 1), the same for every image */
    const float *mask;     /* NULL or [H][W] in [0, 1], >= 0.5 = repaint */
    float strength;        /* img2img / inpainting: 0..1 */
    float image_guidance;  /* InstructPix2Pix image_guidance_scale */
    int latent_fill;       /* A1111 inpainting_fill 2 (latent noise) or 3 (latent nothing); else 0 */
    /* x4 upscaler models (m->upscale_x4): `image` is the low-resolution
     * image, [3][H/f][W/f] in [-1, 1] (f the VAE factor), noised by the
     * low_res_scheduler at noise_level (0..max_noise_level), which is also
     * the UNet's class label; strength and mask are not read. */
    int upscale;       /* set for an x4 upscaler model, and only then */
    int noise_level;
} t2i_pipeline_edit;

/* t2i_pipeline_txt2img with an optional edit (NULL = txt2img). Errors as
 * t2i_pipeline_txt2img, plus T2I_ERR_INVALID_ARG for strength outside [0, 1]
 * or one leaving no step, a missing/extra mask for the model's kind, and
 * T2I_ERR_UNSUPPORTED for a VAE without encoder weights. */
t2i_status t2i_pipeline_run(t2i_model *m, const t2i_txt2img_params *p, const char *prompt, const char *negative,
                            const t2i_pipeline_edit *edit, t2i_image **images, int *count);

/* CFG parallelism (docs/multi_gpu.md): the two guidance groups of the UNet
 * batch on the two ranks of `comm` — rank 0 the negative prompt, rank 1 the
 * prompt —, each rank evaluating the UNet on its p->batch_size images only
 * and the noise predictions all-gathered after every evaluation, so both
 * ranks hold [uncond…, cond…] and step the same latents; image b is decoded
 * on rank b % 2 and broadcast. Both ranks are called with the same
 * parameters and return the same images. comm's
 * buffers must be host memory (CPU ranks). */
typedef struct t2i_pipeline_ranks {
    struct t2i_comm *comm;      /* size 2 */
    size_t bytes_per_eval;      /* out: bytes this rank received per UNet evaluation */
} t2i_pipeline_ranks;

/* t2i_pipeline_run on one rank of a CFG-parallel group (ranks NULL = alone).
 * On any failure the rank aborts the communicator with its message, so its
 * peer fails at its next exchange instead of waiting out the timeout.
 * Errors: those of t2i_pipeline_run; T2I_ERR_UNSUPPORTED for a comm of size
 * other than 2 or a three-group (InstructPix2Pix) run; T2I_ERR_PEER when the
 * peer failed or did not answer within the communicator's timeout. */
t2i_status t2i_pipeline_run_ranked(t2i_model *m, const t2i_txt2img_params *p, const char *prompt,
                                   const char *negative, const t2i_pipeline_edit *edit, t2i_pipeline_ranks *ranks,
                                   t2i_image **images, int *count);

#endif /* T2I_PIPELINE_H */
