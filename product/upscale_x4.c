/*
 * upscale_x4.c — the public t2i_upscale_x4: diffusers'
 * StableDiffusionUpscalePipeline on a model folder of that pipeline.
 *
 * The input (RGB8, alpha composited on white) becomes [3][h][w] floats in
 * [-1, 1] (v / 127.5 − 1, what VaeImageProcessor.preprocess gives for a PIL
 * image of a size already on the model's grid); the engine's pipeline
 * (runtime/pipeline.c, mode "x4 up") noises it with the low_res_scheduler,
 * runs the sampler loop on latents of the input's size with the image as
 * three extra UNet channels and the noise level as class label, and decodes
 * with the VAE (factor 4, latents / scaling_factor), so the output is 4× the
 * input. The product layer adds prompt resolution (styles, expansion) and
 * the infotext.
 */
#include <stdlib.h>
#include <string.h>
#include "base/error.h"
#include "graph/model_config.h"
#include "product/infotext.h"
#include "product/txt2img.h"
#include "runtime/model.h"
#include "runtime/pipeline.h"

void t2i_upscale_x4_params_init(t2i_upscale_x4_params *p)
{
    memset(p, 0, sizeof *p);
    t2i_txt2img_params_init(&p->base);
    p->base.steps = 75;              /* StableDiffusionUpscalePipeline.__call__ defaults */
    p->base.guidance_scale = 9.0f;
    p->noise_level = 20;
}

int t2i_model_is_upscaler_x4(const t2i_model *m) { return m && m->upscale_x4; }

/* [3][h][w] in [-1, 1] from an 8-bit image of 1, 3 or 4 channels. */
static float *to_planes(const t2i_image *im)
{
    const size_t px = (size_t)im->width * im->height;
    float *f = malloc(3 * px * sizeof *f);
    if (!f) return NULL;
    for (size_t i = 0; i < px; i++)
        for (int c = 0; c < 3; c++) {
            const uint8_t *s = im->pixels + i * im->channels;
            int v = im->channels == 1 ? s[0] : s[c];
            if (im->channels == 4)   /* on white, as PIL's convert("RGB") after alpha_composite */
                v = (v * s[3] + 255 * (255 - s[3]) + 127) / 255;
            f[c * px + i] = 2.0f * (v / 255.0f) - 1.0f;
        }
    return f;
}

t2i_status t2i_upscale_x4(t2i_model *m, const t2i_upscale_x4_params *p, t2i_image **images, int *count)
{
    *images = NULL;
    *count = 0;
    if (!m || !p) return t2i_fail(T2I_ERR_INVALID_ARG, "upscale_x4: model and parameters are required");
    if (!m->upscale_x4)
        return t2i_fail(T2I_ERR_INVALID_ARG, "upscale_x4: %s is not an x4 upscaler model (StableDiffusionUpscalePipeline)",
                        m->name);
    const t2i_image *im = p->image;
    if (!im || !im->pixels || im->width < 1 || im->height < 1)
        return t2i_fail(T2I_ERR_INVALID_ARG, "upscale_x4: image is required");
    if (im->channels != 1 && im->channels != 3 && im->channels != 4)
        return t2i_fail(T2I_ERR_INVALID_ARG, "upscale_x4: image has %d channels (1, 3 or 4)", im->channels);
    const int f = t2i_vae_scale(&m->vae_cfg), grid = t2i_model_size_multiple(m) / f;
    if (im->width % grid || im->height % grid || im->width > 8192 / f || im->height > 8192 / f)
        return t2i_fail(T2I_ERR_INVALID_ARG, "upscale_x4: image %dx%d: width and height must be multiples of %d up to %d",
                        im->width, im->height, grid, 8192 / f);
    t2i_txt2img_params base = p->base;
    base.width = im->width * f;
    base.height = im->height * f;
    float *planes = to_planes(im);
    if (!planes) return t2i_fail(T2I_ERR_NOMEM, "upscale_x4: out of memory");
    char *prompt = NULL, *negative = NULL;
    t2i_image *out = NULL;
    int n = 0;
    t2i_status st = t2i_prompt_resolve(m, &base, &prompt, &negative);
    if (st == T2I_OK) {
        t2i_pipeline_edit e = {.image = planes, .upscale = 1, .noise_level = p->noise_level};
        st = t2i_pipeline_run(m, &base, prompt, negative, &e, &out, &n);
    }
    char level[16];
    snprintf(level, sizeof level, "%d", p->noise_level);
    const t2i_infotext_kv kv[1] = {{"Noise level", level}};
    for (int i = 0; st == T2I_OK && i < n; i++) {
        out[i].infotext = t2i_make_infotext(m, &base, prompt, negative, out[i].seed, out[i].width, out[i].height, kv, 1);
        if (!out[i].infotext) st = t2i_fail(T2I_ERR_NOMEM, "upscale_x4: out of memory for the infotext");
    }
    free(planes);
    t2i_free(prompt);
    t2i_free(negative);
    if (st != T2I_OK) {
        t2i_images_free(out, n);
        return st;
    }
    *images = out;
    *count = n;
    return T2I_OK;
}
