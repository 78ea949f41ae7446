/*
 * pipeline.c — the engine side of txt2img, step for step as diffusers'
 * StableDiffusionPipeline, for prompts already resolved by the product layer
 * (product/txt2img.c applies styles and expansion and writes the infotext):
 *
 *   ctx   = conditioning(negative), conditioning(prompt) [2,77·k,C] → per image
 *           (runtime/conditioning.h: prompt language, 75-token chunks,
 *           weights; for a plain prompt of <= 75 tokens exactly
 *           text_encoder(tokenizer(text, padding to 77)))
 *   x     = randn(seed + i) · init_noise_sigma         per image i
 *   per model evaluation t (one a step; two for Heun and DPM2):
 *                eps = unet(scale(x), t, ctx) on the batch [uncond…, cond…]
 *                eps = eps_u + g·(eps_c − eps_u);  x = scheduler.step(eps, x)
 *   image = vae.decode(x / scaling_factor) → (v/2 + 0.5) clamped → 8 bits
 *
 * With an init image (t2i_pipeline_edit) the start differs, as diffusers'
 * StableDiffusionImg2ImgPipeline / StableDiffusionInpaintPipeline /
 * StableDiffusionInstructPix2PixPipeline do it, and the loop is the same:
 *   img2img   z = sf · (mean + std · randn(gen_b))        (retrieve_latents)
 *             t_start = steps − min(int(steps · strength), steps)
 *             x = add_noise(z, randn(gen_b), t[t_start]); loop from t_start
 *   inpaint   mask binarised at 0.5, nearest-downsampled to the latents;
 *             masked image = image · (mask < 0.5) encoded after the noise;
 *             4-channel UNet: after each step x = (1−m)·add_noise(z, noise,
 *             t[i+1]) + m·x; 9-channel UNet: input [x, m, masked latents];
 *             strength 1: x = noise · init_sigma (no image encode for 9)
 *   pix2pix   image latents = latent_dist.mean (unscaled); UNet input
 *             [x, image latents], batches [text, image, uncond] with
 *             eps = u + g·(t − i) + ig·(i − u); pure noise start
 *   x4 up     StableDiffusionUpscalePipeline: the low-resolution image
 *             (latent size) noised by low_res_scheduler.add_noise(image,
 *             randn(gen_b), noise_level) (drawn before the latents); UNet
 *             input [scale(x), noised image], class_labels = noise_level;
 *             pure noise start
 * Every draw comes from image b's own generator in diffusers' order (image
 * encode, noise, masked-image encode, then Euler a's steps), as diffusers
 * does with one generator per image and one init image per prompt.
 *
 * Image i of a batch uses seed + i with its own generator, as the A1111 web
 * UI does and as diffusers does when given a list of generators, so an image
 * is reproducible from its own seed whatever the batch size. The UNet plan
 * is compiled once for the batch and context length; every conditioning the
 * prompt-editing schedule needs is encoded before the loop, which only copies
 * the one due at a step into the context input when it changes; the loop
 * allocates nothing.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/conditioning.h"
#include "base/error.h"
#include "kernels/comm.h"
#include "runtime/embeddings.h"
#include "runtime/model.h"
#include "runtime/pipeline.h"
#include "runtime/rng.h"
#include "formats/safetensors.h"
#include "runtime/text_encoder.h"
#include "runtime/vae_tiled.h"

static t2i_status validate(const t2i_model *m, const t2i_txt2img_params *p, int *W, int *H)
{
    if (!p->prompt) return t2i_fail(T2I_ERR_INVALID_ARG, "prompt is required");
    if (p->steps < 1 || p->steps > 1000) return t2i_fail(T2I_ERR_INVALID_ARG, "steps %d outside 1..1000", p->steps);
    if (p->batch_size < 1 || p->batch_size > 64)
        return t2i_fail(T2I_ERR_INVALID_ARG, "batch size %d outside 1..64", p->batch_size);
    if (!isfinite(p->guidance_scale) || p->guidance_scale < 0 || p->guidance_scale > 100)
        return t2i_fail(T2I_ERR_INVALID_ARG, "guidance scale %g outside 0..100", p->guidance_scale);
    if ((unsigned)p->sampler >= T2I_SAMPLER_COUNT) return t2i_fail(T2I_ERR_INVALID_ARG, "unknown sampler %d", p->sampler);
    if (p->clip_skip < 0 || p->clip_skip > (m->text_kind == T2I_TEXT_BERT ? 1 : m->text_cfg.layers))
        return t2i_fail(T2I_ERR_INVALID_ARG, "clip_skip %d outside 0..%d for this text encoder", p->clip_skip,
                        m->text_kind == T2I_TEXT_BERT ? 1 : m->text_cfg.layers);
    if ((unsigned)p->schedule > T2I_SCHEDULE_EXPONENTIAL)
        return t2i_fail(T2I_ERR_INVALID_ARG, "unknown schedule type %d", (int)p->schedule);
    if ((p->schedule != T2I_SCHEDULE_AUTOMATIC && !t2i_sched_takes_sigma_schedule(p->sampler)) ||
        (p->schedule == T2I_SCHEDULE_EXPONENTIAL && p->sampler == T2I_SAMPLER_DPMPP_2M_KARRAS))
        return t2i_fail(T2I_ERR_INVALID_ARG, "schedule type %s is not available with sampler %s",
                        p->schedule == T2I_SCHEDULE_KARRAS ? "Karras" : "Exponential", t2i_sampler_name(p->sampler));
    if (p->noise != T2I_NOISE_TORCH_CPU && p->noise != T2I_NOISE_PHILOX)
        return t2i_fail(T2I_ERR_INVALID_ARG, "unknown noise source %d", p->noise);
    int def = t2i_model_default_size(m);
    *W = p->width ? p->width : def;
    *H = p->height ? p->height : def;
    const int mult = t2i_model_size_multiple(m);
    if (*W < mult || *H < mult || *W > 8192 || *H > 8192 || *W % mult || *H % mult)
        return t2i_fail(T2I_ERR_INVALID_ARG, "size %dx%d: width and height must be multiples of %d in %d..8192",
                        *W, *H, mult, mult);
    return T2I_OK;
}

/* Everything one run allocates, freed in one place. */
typedef struct run {
    const char *prompt, *negative;   /* resolved by the caller: styles applied, expansion done */
    t2i_conditioning cond;
    int32_t *ids;        /* [n_cond][L] at step 0, for stage dumps */
    float *ctx1;         /* [n_cond][L][C] text embeddings at step 0, negative first */
    float *ctx;          /* [unet_batch][L][C] */
    float *x, *x_in, *eps, *t, *init;
    float *eps_mine;     /* CFG parallel: this rank's group of the noise predictions */
    float *img_lat;      /* [B][per] scaled image latents (img2img, 4-channel inpaint) */
    float *extra;        /* [B][per_extra] the UNet's extra input channels per image and group */
    float *mask_lat;     /* [h][w] binary latent mask */
    int32_t *class_labels;   /* x4 upscaler: [unet_batch] noise level */
    float *enc_in, *enc_mean, *enc_logvar;   /* one image through the VAE encoder */
    float *pooled, *time_ids;   /* SDXL: [unet_batch][P], [unet_batch][6] */
    float *dec;          /* decoder output, one image [3][H][W] */
    int enc_tile, dec_tile, tile_overlap;   /* tiled VAE (runtime/vae_tiled.h); 0 = whole image */
    float *images;       /* all decoded images (for stage dumps) */
    t2i_rng *rngs;
    t2i_rng **rng_ptrs;
    t2i_sched *sched;
    t2i_image *out;
} run;

static void run_free(run *r, int batch)
{
    t2i_conditioning_free(&r->cond);
    free(r->ids);
    free(r->ctx1);
    free(r->ctx);
    free(r->x);
    free(r->x_in);
    free(r->eps);
    free(r->eps_mine);
    free(r->t);
    free(r->pooled);
    free(r->time_ids);
    free(r->init);
    free(r->img_lat);
    free(r->extra);
    free(r->mask_lat);
    free(r->class_labels);
    free(r->enc_in);
    free(r->enc_mean);
    free(r->enc_logvar);
    free(r->dec);
    free(r->images);
    free(r->rngs);
    free(r->rng_ptrs);
    t2i_sched_destroy(r->sched);
    t2i_images_free(r->out, batch);
}

/* All conditionings of the run (runtime/conditioning.h) and the step-0 pair
 * for stage dumps; k = 0 is the negative prompt when guidance is on. */
static t2i_status encode_prompts(t2i_model *m, const t2i_txt2img_params *p, int n_cond, int steps, run *r)
{
    T2I_TRY(t2i_embeddings_prepare(m, p->embedding_dir, r->prompt, n_cond >= 2 ? r->negative : NULL));
    T2I_TRY(t2i_conditioning_build(m, r->prompt, n_cond >= 2 ? r->negative : NULL, steps, &r->cond));
    if (n_cond > 2) n_cond = 2;   /* the dump holds [negative, prompt] */
    const int L = r->cond.ctx_len, C = r->cond.hidden;
    r->ids = malloc((size_t)n_cond * L * sizeof *r->ids);
    r->ctx1 = malloc((size_t)n_cond * L * C * sizeof *r->ctx1);
    if (!r->ids || !r->ctx1) return t2i_fail(T2I_ERR_NOMEM, "txt2img: out of memory for the text embeddings");
    for (int k = 0; k < n_cond; k++) {
        int d = (n_cond == 2 && k == 0) ? r->cond.neg_at_step[0] : r->cond.pos_at_step[0];
        memcpy(r->ids + (size_t)k * L, r->cond.ids + (size_t)d * L, (size_t)L * sizeof *r->ids);
        memcpy(r->ctx1 + (size_t)k * L * C, r->cond.emb + (size_t)d * L * C, (size_t)L * C * sizeof *r->ctx1);
    }
    return T2I_OK;
}

/* Copy the conditionings due at step i into the UNet's context input when
 * they differ from the ones loaded (*loaded: [neg, pos], -1 = none). Group k
 * of the UNet batch gets the prompt (role[k] = 1) or the negative (0). */
static t2i_status load_context(t2i_plan *up, run *r, int n_cond, const int *role, int B, int i, int *loaded)
{
    const t2i_conditioning *c = &r->cond;
    const int s = i < c->steps ? i : c->steps - 1;
    const int has_neg = role[0] == 0 || (n_cond > 1 && role[1] == 0);
    const int want[2] = {has_neg ? c->neg_at_step[s] : -1, c->pos_at_step[s]};
    if (want[0] == loaded[0] && want[1] == loaded[1]) return T2I_OK;
    const size_t ctx_n = (size_t)c->ctx_len * c->hidden;
    for (int k = 0; k < n_cond; k++) {
        const float *src = c->emb + (size_t)want[role[k]] * ctx_n;
        for (int b = 0; b < B; b++) memcpy(r->ctx + ((size_t)k * B + b) * ctx_n, src, ctx_n * sizeof(float));
    }
    loaded[0] = want[0];
    loaded[1] = want[1];
    if (c->pooled_dim) {   /* SDXL: the pooled embeddings go with their contexts */
        const size_t P = (size_t)c->pooled_dim;
        for (int k = 0; k < n_cond; k++)
            for (int b = 0; b < B; b++)
                memcpy(r->pooled + ((size_t)k * B + b) * P, c->pooled + (size_t)want[role[k]] * P,
                       P * sizeof(float));
        T2I_TRY(t2i_plan_set_input(up, "text_embeds", r->pooled, (size_t)n_cond * B * P * sizeof(float)));
    }
    return t2i_plan_set_input(up, "context", r->ctx, (size_t)n_cond * B * ctx_n * sizeof(float));
}

/* SDXL: add_time_ids (H, W, 0, 0, H, W) for every image, both halves. */
static t2i_status set_time_ids(t2i_plan *up, run *r, int UB, int H, int W)
{
    r->time_ids = malloc((size_t)UB * 6 * sizeof *r->time_ids);
    r->pooled = malloc((size_t)UB * r->cond.pooled_dim * sizeof *r->pooled);
    if (!r->time_ids || !r->pooled) return t2i_fail(T2I_ERR_NOMEM, "txt2img: out of memory");
    for (int b = 0; b < UB; b++) t2i_text_time_ids(H, W, r->time_ids + (size_t)b * 6);
    return t2i_plan_set_input(up, "time_ids", r->time_ids, (size_t)UB * 6 * sizeof(float));
}

static t2i_status dump_stages(const char *path, const run *r, int n_cond, int B, int L, int C, int lc, int h,
                              int w, int H, int W)
{
    t2i_st_writer *wr = NULL;
    T2I_TRY(t2i_st_writer_create(&wr));
    t2i_status st = t2i_st_writer_add(wr, "ids", T2I_I32, 2, (int64_t[]){n_cond, L}, r->ids);
    if (st == T2I_OK)
        st = t2i_st_writer_add(wr, "text_embeddings", T2I_F32, 3, (int64_t[]){n_cond, L, C}, r->ctx1);
    if (st == T2I_OK) st = t2i_st_writer_add(wr, "init_noise", T2I_F32, 4, (int64_t[]){B, lc, h, w}, r->init);
    if (st == T2I_OK) st = t2i_st_writer_add(wr, "latents", T2I_F32, 4, (int64_t[]){B, lc, h, w}, r->x);
    if (st == T2I_OK && r->img_lat)   /* editing: the init image's latents (scaled; pix2pix: the mean) */
        st = t2i_st_writer_add(wr, "image_latents", T2I_F32, 4, (int64_t[]){B, lc, h, w}, r->img_lat);
    if (st == T2I_OK && r->class_labels)   /* x4 upscaler: the noised low-resolution input of group 0 */
        st = t2i_st_writer_add(wr, "noised_image", T2I_F32, 4, (int64_t[]){B, 3, h, w}, r->extra);
    if (st == T2I_OK) st = t2i_st_writer_add(wr, "image", T2I_F32, 4, (int64_t[]){B, 3, H, W}, r->images);
    if (st == T2I_OK) st = t2i_st_writer_save(wr, path);
    t2i_st_writer_destroy(wr);
    return st;
}

/* Encode the [3][H][W] image r->enc_in for image b: mean and std of
 * latent_dist, then sample = mean + std · randn(gen_b) (retrieve_latents)
 * or the mean itself (sample = 0, "argmax"), times `scale`, into out. */
static t2i_status encode_image(t2i_model *m, run *r, int h, int w, int sample, float scale, t2i_rng *rng,
                               t2i_noise_source src, float *out)
{
    const int L = m->vae_cfg.latent_channels, H = h * t2i_vae_scale(&m->vae_cfg), W = w * t2i_vae_scale(&m->vae_cfg);
    const size_t per = (size_t)L * h * w;
    if (r->enc_tile) {
        T2I_TRY(t2i_vae_encode_tiled(m, r->enc_in, H, W, r->enc_tile, r->tile_overlap, r->enc_mean,
                                     sample ? r->enc_logvar : NULL));
    } else {
        t2i_plan *ep;
        T2I_TRY(t2i_model_vae_encoder_plan(m, 1, H, W, &ep));
        T2I_TRY(t2i_plan_set_input(ep, "image", r->enc_in, (size_t)3 * H * W * sizeof(float)));
        T2I_TRY(t2i_plan_run(ep));
        T2I_TRY(t2i_plan_get_output(ep, "mean", r->enc_mean, per * sizeof(float)));
        if (sample) T2I_TRY(t2i_plan_get_output(ep, "logvar", r->enc_logvar, per * sizeof(float)));
    }
    if (!sample) {
        for (size_t j = 0; j < per; j++) out[j] = r->enc_mean[j] * scale;
        return T2I_OK;
    }
    T2I_TRY(t2i_rng_randn_from(rng, src, out, per));
    for (size_t j = 0; j < per; j++) {
        float lv = r->enc_logvar[j];
        lv = lv < -30.0f ? -30.0f : lv > 20.0f ? 20.0f : lv;
        float std = expf(0.5f * lv);
        out[j] = (r->enc_mean[j] + std * out[j]) * scale;
    }
    return T2I_OK;
}

/* The double the user wrote when they wrote float f: the shortest decimal
 * that reads back as f (0.7f -> 0.7, not 0.699999988). diffusers computes
 * int(steps * strength) on a Python float; with 0.7f cast to double, 10
 * steps would give 6 instead of 7. */
static double float_as_written(float f)
{
    char buf[32];
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)f);
        if (strtof(buf, NULL) == f) break;
    }
    return strtod(buf, NULL);
}

/* The VAE tile of a run for an H × W image (0 = whole image): p->vae_tile,
 * or with p->max_memory the largest that keeps the planned arena under the
 * cap (runtime/vae_tiled.h). */
static t2i_status vae_tile_for(const t2i_model *m, const t2i_txt2img_params *p, int H, int W, int encode, int *tile)
{
    const t2i_vae_config *c = &m->vae_cfg;
    int t = p->vae_tile >= H && p->vae_tile >= W ? 0 : p->vae_tile;
    T2I_TRY(t2i_vae_tiling_check(c, p->vae_tile, p->vae_tile_overlap));
    if (p->max_memory) {
        const size_t act = t2i_dtype_size(m->eng->be->act_dtype);
        size_t need = encode ? t2i_vae_encoder_peak_bytes(c, H, W, t, act) : t2i_vae_decoder_peak_bytes(c, H, W, t, act);
        if (!need || need > p->max_memory) {
            t = t2i_vae_auto_tile(c, H, W, p->vae_tile_overlap, encode, p->max_memory, act);
            if (t < 0) return T2I_ERR_NOMEM;
        }
    }
    *tile = t;
    return T2I_OK;
}

typedef enum mode { MODE_TXT2IMG, MODE_IMG2IMG, MODE_INPAINT4, MODE_INPAINT9, MODE_PIX2PIX, MODE_UPSCALE } mode;

static t2i_status edit_mode(const t2i_model *m, const t2i_pipeline_edit *e, mode *md)
{
    const int L = m->vae_cfg.latent_channels, in = m->unet_cfg.in_channels;
    if (m->upscale_x4) {
        if (!e || !e->image || !e->upscale)
            return t2i_fail(T2I_ERR_INVALID_ARG, "%s: an x4 upscaler model draws only by upscaling an image "
                            "(t2i_upscale_x4)", m->name);
        if (e->mask) return t2i_fail(T2I_ERR_INVALID_ARG, "%s: an x4 upscaler model takes no mask", m->name);
        if (e->noise_level < 0 || e->noise_level > m->max_noise_level)
            return t2i_fail(T2I_ERR_INVALID_ARG, "noise level %d outside 0..%d (the model's max_noise_level)",
                            e->noise_level, m->max_noise_level);
        *md = MODE_UPSCALE;
        return T2I_OK;
    }
    if (e && e->upscale) return t2i_fail(T2I_ERR_INVALID_ARG, "%s: not an x4 upscaler model", m->name);
    if (!e || !e->image) {
        if (in != L)
            return t2i_fail(T2I_ERR_INVALID_ARG, "%s: an %s model needs an init image%s", m->name,
                            in == 2 * L ? "instruct-edit" : "inpainting", in == 2 * L ? "" : " and a mask");
        *md = MODE_TXT2IMG;
        return T2I_OK;
    }
    if (!isfinite(e->strength) || e->strength < 0 || e->strength > 1)
        return t2i_fail(T2I_ERR_INVALID_ARG, "strength %g outside [0, 1]", e->strength);
    if (!m->has_vae_encoder)
        return t2i_fail(T2I_ERR_UNSUPPORTED, "%s: the VAE has no encoder weights, so it cannot take an init image",
                        m->name);
    if (in == 2 * L) {
        if (e->mask) return t2i_fail(T2I_ERR_INVALID_ARG, "%s: an instruct-edit model takes no mask", m->name);
        if (!isfinite(e->image_guidance) || e->image_guidance < 0 || e->image_guidance > 100)
            return t2i_fail(T2I_ERR_INVALID_ARG, "image guidance scale %g outside 0..100", e->image_guidance);
        *md = MODE_PIX2PIX;
    } else if (in == 2 * L + 1) {
        if (!e->mask) return t2i_fail(T2I_ERR_INVALID_ARG, "%s: an inpainting model needs a mask", m->name);
        *md = MODE_INPAINT9;
    } else {
        *md = e->mask ? MODE_INPAINT4 : MODE_IMG2IMG;
    }
    return T2I_OK;
}

t2i_status t2i_pipeline_txt2img(t2i_model *m, const t2i_txt2img_params *p, const char *prompt,
                                const char *negative, t2i_image **images, int *count)
{
    return t2i_pipeline_run(m, p, prompt, negative, NULL, images, count);
}

t2i_status t2i_pipeline_run(t2i_model *m, const t2i_txt2img_params *p, const char *prompt, const char *negative,
                            const t2i_pipeline_edit *e, t2i_image **images, int *count)
{
    return t2i_pipeline_run_ranked(m, p, prompt, negative, e, NULL, images, count);
}

static t2i_status run_one(t2i_model *m, const t2i_txt2img_params *p, const char *prompt, const char *negative,
                          const t2i_pipeline_edit *e, t2i_pipeline_ranks *rk, t2i_image **images, int *count);

t2i_status t2i_pipeline_run_ranked(t2i_model *m, const t2i_txt2img_params *p, const char *prompt,
                                   const char *negative, const t2i_pipeline_edit *e, t2i_pipeline_ranks *rk,
                                   t2i_image **images, int *count)
{
    if (rk && (!rk->comm || t2i_comm_size(rk->comm) != 2)) {
        *images = NULL;
        *count = 0;
        t2i_status st = t2i_fail(T2I_ERR_UNSUPPORTED, "CFG parallel: the group has %d ranks; it takes 2",
                                 rk->comm ? t2i_comm_size(rk->comm) : 0);
        if (rk->comm) t2i_comm_abort(rk->comm, t2i_last_error());
        return st;
    }
    t2i_status st = run_one(m, p, prompt, negative, e, rk, images, count);
    if (st != T2I_OK && rk) t2i_comm_abort(rk->comm, t2i_last_error());   /* the peer must not wait for us */
    return st;
}

static t2i_status run_one(t2i_model *m, const t2i_txt2img_params *p, const char *prompt, const char *negative,
                          const t2i_pipeline_edit *e, t2i_pipeline_ranks *rk, t2i_image **images, int *count)
{
    int W = 0, H = 0;
    *images = NULL;
    *count = 0;
    if (!m || !p) return t2i_fail(T2I_ERR_INVALID_ARG, "txt2img: model and parameters are required");
    T2I_TRY(validate(m, p, &W, &H));
    mode md = MODE_TXT2IMG;
    T2I_TRY(edit_mode(m, e, &md));

    const int B = p->batch_size, f = t2i_vae_scale(&m->vae_cfg);
    const int h = H / f, w = W / f, lc = m->vae_cfg.latent_channels, cin = m->unet_cfg.in_channels;
    const int C = t2i_text_context_dim(m);
    /* UNet batch groups and the prompt each gets (1) or the negative (0) */
    int n_cond, role[3];
    if (md == MODE_PIX2PIX) {
        int cfg3 = p->guidance_scale > 1.0f && e->image_guidance >= 1.0f;
        n_cond = cfg3 ? 3 : 1;
        role[0] = 1, role[1] = 0, role[2] = 0;
    } else {
        n_cond = p->guidance_scale > 1.0f ? 2 : 1;
        role[0] = n_cond == 2 ? 0 : 1, role[1] = 1;
    }
    const int UB = B * n_cond;
    /* The groups this rank evaluates: all, or with CFG parallel group g0 = rank. */
    if (rk && n_cond > 2)
        return t2i_fail(T2I_ERR_UNSUPPORTED, "CFG parallel: InstructPix2Pix's three guidance groups do not split "
                        "over two ranks");
    const int split = rk && n_cond == 2;
    const int g0 = split ? t2i_comm_rank(rk->comm) : 0, ng = split ? 1 : n_cond, LB = B * ng;
    if (rk) rk->bytes_per_eval = split ? (size_t)B * lc * (H / f) * (W / f) * sizeof(float) : 0;
    const size_t per = (size_t)lc * h * w, per_in = (size_t)cin * h * w, per_x = per_in - per;
    const size_t pix = (size_t)3 * H * W;

    run r;
    memset(&r, 0, sizeof r);
    r.prompt = prompt;
    r.negative = negative;
    t2i_status st = T2I_OK;
    r.x = malloc((size_t)B * per * sizeof *r.x);
    r.init = malloc((size_t)B * per * sizeof *r.init);
    r.x_in = malloc((size_t)UB * (per_in > per ? per_in : per) * sizeof *r.x_in);
    r.eps = malloc((size_t)UB * per * sizeof *r.eps);
    r.eps_mine = split ? malloc((size_t)LB * per * sizeof *r.eps_mine) : NULL;
    r.t = malloc((size_t)UB * sizeof *r.t);
    r.dec = malloc(pix * sizeof *r.dec);
    r.images = p->stages_path ? malloc((size_t)B * pix * sizeof *r.images) : NULL;
    r.rngs = calloc((size_t)B, sizeof *r.rngs);
    r.rng_ptrs = calloc((size_t)B, sizeof *r.rng_ptrs);
    r.out = calloc((size_t)B, sizeof *r.out);
    int bad = !r.x || !r.init || !r.x_in || !r.eps || (split && !r.eps_mine) || !r.t || !r.dec || (p->stages_path && !r.images) || !r.rngs ||
              !r.rng_ptrs || !r.out;
    if (!bad && md != MODE_TXT2IMG) {
        r.img_lat = md == MODE_UPSCALE ? NULL : malloc((size_t)B * per * sizeof *r.img_lat);
        r.extra = per_x ? malloc((size_t)n_cond * B * per_x * sizeof *r.extra) : NULL;
        r.mask_lat = malloc((size_t)h * w * sizeof *r.mask_lat);
        r.enc_in = malloc(pix * sizeof *r.enc_in);
        r.enc_mean = malloc(per * sizeof *r.enc_mean);
        r.enc_logvar = malloc(per * sizeof *r.enc_logvar);
        r.class_labels = md == MODE_UPSCALE ? malloc((size_t)UB * sizeof *r.class_labels) : NULL;
        bad = (md != MODE_UPSCALE && !r.img_lat) || (md == MODE_UPSCALE && !r.class_labels) || (per_x && !r.extra) || !r.mask_lat || !r.enc_in || !r.enc_mean || !r.enc_logvar;
    }
    if (bad) {
        st = t2i_fail(T2I_ERR_NOMEM, "txt2img: out of memory for batch %d at %dx%d", B, W, H);
        goto done;
    }

    r.tile_overlap = p->vae_tile_overlap;
    if ((st = vae_tile_for(m, p, H, W, 0, &r.dec_tile)) != T2I_OK ||
        (md != MODE_TXT2IMG && md != MODE_UPSCALE && (st = vae_tile_for(m, p, H, W, 1, &r.enc_tile)) != T2I_OK))
        goto done;

    t2i_sched_config sc = m->sched_cfg;   /* from_config(..., use_*_sigmas=True) */
    if (p->schedule != T2I_SCHEDULE_AUTOMATIC) {
        sc.use_karras_sigmas = p->schedule == T2I_SCHEDULE_KARRAS;
        sc.use_exponential_sigmas = p->schedule == T2I_SCHEDULE_EXPONENTIAL;
    }
    st = t2i_sched_create(&sc, p->sampler, p->steps, &r.sched);
    if (st == T2I_OK) st = t2i_sched_reserve(r.sched, per, B);
    if (st != T2I_OK) goto done;
    /* steps for the prompt schedule and progress; Heun and DPM2 evaluate
     * the model twice in a step */
    const int steps = t2i_sched_num_steps(r.sched), evals = t2i_sched_num_evals(r.sched);
    /* StableDiffusionImg2ImgPipeline.get_timesteps (scheduler order 1) */
    int begin = 0, first_eval = 0;
    if (md == MODE_IMG2IMG || md == MODE_INPAINT4 || md == MODE_INPAINT9) {
        int init_t = (int)(p->steps * float_as_written(e->strength));
        if (init_t > p->steps) init_t = p->steps;
        begin = p->steps - init_t;
        if (begin >= steps) {
            st = t2i_fail(T2I_ERR_INVALID_ARG, "strength %g with %d steps leaves no denoising step", e->strength,
                          p->steps);
            goto done;
        }
        first_eval = t2i_sched_set_begin(r.sched, begin);
    }
    const int strength_max = md == MODE_INPAINT4 || md == MODE_INPAINT9 ? e->strength == 1.0f : 0;

    /* Binary mask at image and latent resolution (diffusers' mask processor
     * binarises at 0.5; F.interpolate "nearest" picks pixel floor(j · H/h)). */
    if (md == MODE_INPAINT4 || md == MODE_INPAINT9) {
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                r.mask_lat[y * w + x] = e->mask[(size_t)(y * H / h) * W + (size_t)(x * W / w)] < 0.5f ? 0.0f : 1.0f;
    }

    /* Per image b, every draw from generator b in diffusers' order. */
    const float sf = m->vae_cfg.scaling_factor;
    for (int b = 0; b < B; b++) {
        t2i_rng_seed(&r.rngs[b], p->seed + (uint64_t)b);
        r.rng_ptrs[b] = &r.rngs[b];
        float *zb = r.img_lat ? r.img_lat + b * per : NULL;
        if (md == MODE_UPSCALE) {   /* low_res_scheduler.add_noise, the same image in every group */
            if ((st = t2i_rng_randn_from(&r.rngs[b], p->noise, r.eps, per_x)) != T2I_OK ||
                (st = t2i_sched_ddpm_add_noise(&m->low_res_sched_cfg, e->noise_level, e->image, r.eps, r.extra + b * per_x,
                                               per_x)) != T2I_OK)
                goto done;
            for (int k = 1; k < n_cond; k++)
                memcpy(r.extra + ((size_t)k * B + b) * per_x, r.extra + b * per_x, per_x * sizeof(float));
        }
        if (md == MODE_IMG2IMG || md == MODE_INPAINT4 || (md == MODE_INPAINT9 && !strength_max)) {
            memcpy(r.enc_in, e->image, pix * sizeof(float));
            if ((st = encode_image(m, &r, h, w, 1, sf, &r.rngs[b], p->noise, zb)) != T2I_OK) goto done;
            if (e->latent_fill == 2 || e->latent_fill == 3) {   /* A1111 inpainting_fill inside the mask */
                t2i_rng fill;
                t2i_rng_seed(&fill, p->seed + (uint64_t)b);
                if (e->latent_fill == 2 && (st = t2i_rng_randn_from(&fill, p->noise, r.eps, per)) != T2I_OK)
                    goto done;
                for (size_t j = 0; j < per; j++) {
                    float mk = r.mask_lat[j % ((size_t)h * w)];
                    zb[j] = zb[j] * (1.0f - mk) + (e->latent_fill == 2 ? r.eps[j] * mk : 0.0f);
                }
            }
        }
        if (p->init_noise) memcpy(r.init + b * per, p->init_noise + b * per, per * sizeof(float));
        else if ((st = t2i_rng_randn_from(&r.rngs[b], p->noise, r.init + b * per, per)) != T2I_OK) goto done;
        if (md == MODE_INPAINT4 || md == MODE_INPAINT9) {   /* masked image, encoded after the noise */
            for (size_t j = 0; j < pix; j++)
                r.enc_in[j] = e->mask[j % ((size_t)H * W)] < 0.5f ? e->image[j] : 0.0f;
            float *ml = r.eps;   /* a 4-channel UNet does not use it, but its draw counts */
            if ((st = encode_image(m, &r, h, w, 1, sf, &r.rngs[b], p->noise, ml)) != T2I_OK) goto done;
            if (md == MODE_INPAINT9)   /* extra channels [mask, masked latents], the same in every group */
                for (int k = 0; k < n_cond; k++) {
                    float *ex = r.extra + ((size_t)k * B + b) * per_x;
                    memcpy(ex, r.mask_lat, (size_t)h * w * sizeof(float));
                    memcpy(ex + (size_t)h * w, ml, per * sizeof(float));
                }
        }
        if (md == MODE_PIX2PIX) {   /* image latents: the mean, unscaled; zeros for the uncond group */
            memcpy(r.enc_in, e->image, pix * sizeof(float));
            if ((st = encode_image(m, &r, h, w, 0, 1.0f, NULL, p->noise, r.img_lat + b * per)) != T2I_OK) goto done;
            for (int k = 0; k < n_cond; k++)
                for (size_t j = 0; j < per; j++)
                    r.extra[((size_t)k * B + b) * per_x + j] = k == 2 ? 0.0f : r.img_lat[b * per + j];
        }
    }
    if (md == MODE_TXT2IMG || md == MODE_PIX2PIX || md == MODE_UPSCALE || strength_max) {
        float sigma0 = t2i_sched_init_noise_sigma(r.sched);
        for (size_t i = 0; i < (size_t)B * per; i++) r.x[i] = r.init[i] * sigma0;
    } else {
        t2i_sched_add_noise(r.sched, begin, r.img_lat, r.init, r.x, (size_t)B * per);
    }

    /* Text: [uncond × B, cond × B] as diffusers concatenates them. */
    m->clip_skip = p->clip_skip;
    st = encode_prompts(m, p, n_cond, steps, &r);
    if (st != T2I_OK) goto done;
    const int L = r.cond.ctx_len;
    r.ctx = malloc((size_t)UB * L * C * sizeof *r.ctx);
    if (!r.ctx) {
        st = t2i_fail(T2I_ERR_NOMEM, "txt2img: out of memory for a context of %d tokens", L);
        goto done;
    }
    t2i_plan *up;
    st = t2i_model_unet_plan_ctx(m, LB, h, w, L, &up);
    if (st == T2I_OK && r.cond.pooled_dim) st = set_time_ids(up, &r, LB, H, W);
    if (st == T2I_OK && md == MODE_UPSCALE) {
        for (int b = 0; b < LB; b++) r.class_labels[b] = e->noise_level;
        st = t2i_plan_set_input(up, "class_labels", r.class_labels, (size_t)LB * sizeof *r.class_labels);
    }
    if (st != T2I_OK) goto done;

    int loaded[2] = {-1, -1};
    const size_t hw = (size_t)h * w;
    for (int i = first_eval; i < evals; i++) {
        const int step = t2i_sched_eval_step(r.sched, i);
        if ((st = load_context(up, &r, ng, role + g0, B, step, loaded)) != T2I_OK) goto done;
        for (int k = 0; k < ng; k++)
            for (int b = 0; b < B; b++) {
                float *dst = r.x_in + ((size_t)k * B + b) * per_in;
                t2i_sched_scale_model_input(r.sched, i, r.x + b * per, dst, per);
                if (per_x)
                    memcpy(dst + per, r.extra + ((size_t)(g0 + k) * B + b) * per_x, per_x * sizeof(float));
            }
        float t = t2i_sched_timestep(r.sched, i);
        for (int b = 0; b < LB; b++) r.t[b] = t;
        const size_t n = (size_t)B * per;
        if ((st = t2i_plan_set_input(up, "sample", r.x_in, (size_t)LB * per_in * sizeof(float))) != T2I_OK ||
            (st = t2i_plan_set_input(up, "timestep", r.t, (size_t)LB * sizeof(float))) != T2I_OK ||
            (st = t2i_plan_run(up)) != T2I_OK ||
            (st = t2i_plan_get_output(up, "out", split ? r.eps_mine : r.eps, (size_t)LB * per * sizeof(float))) !=
                T2I_OK)
            goto done;
        /* CFG parallel: [uncond (rank 0), cond (rank 1)], the layout of one device's batch */
        if (split && (st = t2i_comm_all_gather(rk->comm, r.eps_mine, n, r.eps)) != T2I_OK) goto done;
        if (n_cond == 2) {
            const float g = p->guidance_scale;
            const float *u = r.eps, *c = r.eps + n;
            for (size_t j = 0; j < n; j++) r.eps[j] = u[j] + g * (c[j] - u[j]);
        } else if (n_cond == 3) {   /* [text, image, uncond] */
            const float g = p->guidance_scale, ig = e->image_guidance;
            const float *tx = r.eps, *im = r.eps + n, *u = r.eps + 2 * n;
            for (size_t j = 0; j < n; j++) r.eps[j] = u[j] + g * (tx[j] - im[j]) + ig * (im[j] - u[j]);
        }
        st = t2i_sched_step(r.sched, i, r.eps, r.x, per, B, r.rng_ptrs);
        if (st != T2I_OK) goto done;
        const int mid_step = i + 1 < evals && t2i_sched_eval_step(r.sched, i + 1) == step;
        if (md == MODE_INPAINT4) {   /* the noised original outside the mask, after every evaluation as
                                      * diffusers (add_noise at the scheduler's step index: after either
                                      * evaluation of a two-evaluation step, the next step's sigma) */
            for (int b = 0; b < B; b++) {
                float *xb = r.x + b * per, *prop = r.eps;
                const float *zb = r.img_lat + b * per;
                if (step < steps - 1) t2i_sched_add_noise(r.sched, step + 1, zb, r.init + b * per, prop, per);
                else memcpy(prop, zb, per * sizeof(float));
                for (size_t j = 0; j < per; j++) {
                    float mk = r.mask_lat[j % hw];
                    xb[j] = (1.0f - mk) * prop[j] + mk * xb[j];
                }
            }
        }
        if (mid_step) continue;
        if (p->progress && p->progress(p->progress_user, step + 1 - begin, steps - begin)) {
            st = t2i_fail(T2I_ERR_CANCELLED, "txt2img: cancelled after step %d of %d", step + 1 - begin, steps - begin);
            goto done;
        }
    }

    /* Decode image by image (the decoder's activations dominate memory). */
    t2i_plan *dp = NULL;
    if (!r.dec_tile && (st = t2i_model_vae_decoder_plan(m, 1, h, w, &dp)) != T2I_OK) goto done;
    const float inv_sf = 1.0f / m->vae_cfg.scaling_factor;
    /* CFG parallel: the pair shares the decode, image b on rank b % 2, and
     * each image is then broadcast from its rank (not with a stage dump,
     * which holds every decoded image) */
    const int share_decode = split && !r.images;
    for (int b = 0; b < B; b++) {
        t2i_image *img = &r.out[b];
        img->width = W;
        img->height = H;
        img->channels = 3;
        img->seed = p->seed + (uint64_t)b;
        img->pixels = malloc(pix);
        if (!img->pixels) {
            st = t2i_fail(T2I_ERR_NOMEM, "txt2img: out of memory");
            goto done;
        }
        if (share_decode && b % 2 != g0) continue;
        for (size_t j = 0; j < per; j++) r.x_in[j] = r.x[b * per + j] * inv_sf;
        if (r.dec_tile) {
            if ((st = t2i_vae_decode_tiled(m, r.x_in, h, w, r.dec_tile, r.tile_overlap, r.dec)) != T2I_OK) goto done;
        } else if ((st = t2i_plan_set_input(dp, "latents", r.x_in, per * sizeof(float))) != T2I_OK ||
                   (st = t2i_plan_run(dp)) != T2I_OK ||
                   (st = t2i_plan_get_output(dp, "image", r.dec, pix * sizeof(float))) != T2I_OK) {
            goto done;
        }
        /* diffusers: (x / 2 + 0.5).clamp(0, 1), then (x * 255).round() */
        const size_t plane = (size_t)H * W;
        for (size_t j = 0; j < pix; j++) {
            float v = r.dec[j] / 2 + 0.5f;
            v = v < 0 ? 0 : v > 1 ? 1 : v;
            if (r.images) r.images[b * pix + j] = v;
            size_t c = j / plane, px = j % plane;
            img->pixels[px * 3 + c] = (uint8_t)lrintf(v * 255.0f);
        }
    }
    for (int b = 0; share_decode && b < B; b++)
        if ((st = t2i_comm_broadcast(rk->comm, r.out[b].pixels, pix, b % 2)) != T2I_OK) goto done;
    if (p->stages_path) {
        st = dump_stages(p->stages_path, &r, n_cond > 2 ? 2 : n_cond, B, L, C, lc, h, w, H, W);
        if (st != T2I_OK) goto done;
    }
    *images = r.out;
    *count = B;
    r.out = NULL;
done:
    run_free(&r, B);
    return st;
}
