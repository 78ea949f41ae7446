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

#endif /* T2I_PIPELINE_H */
