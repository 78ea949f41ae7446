/*
 * txt2img.c — the public t2i_txt2img: the user's request as the product
 * sees it, on top of the engine's pipeline (runtime/pipeline.h).
 *
 *   prompt, styles, expansion ─ t2i_prompt_resolve ─ final prompt, negative
 *                                                   └─ t2i_pipeline_txt2img ─ images
 *   each image ─ infotext (A1111 "parameters": the final prompts, sampler,
 *                steps, CFG, its own seed, size, model)
 *
 * The expansion picks a style only when the user picked none; that style's
 * negative prompt is merged into the negative prompt. Editing, upscaling and
 * judging compose the engine the same way, each in a file of its own here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/error.h"
#include "product/expand.h"
#include "product/infotext.h"
#include "product/lora_tags.h"
#include "product/styles.h"
#include "product/txt2img.h"
#include "runtime/model.h"
#include "tokenizer/prompt_parse.h"
#include "kernels/comm.h"
#include "runtime/pipeline.h"

void t2i_txt2img_params_init(t2i_txt2img_params *p)
{
    memset(p, 0, sizeof *p);
    p->steps = 20;
    p->guidance_scale = 7.5f;
    p->batch_size = 1;
    p->sampler = T2I_SAMPLER_EULER_A;
    p->noise = T2I_NOISE_TORCH_CPU;
    p->vae_tile_overlap = 64;
}

t2i_status t2i_prompt_resolve(const t2i_model *m, const t2i_txt2img_params *p, char **prompt, char **negative)
{
    *prompt = *negative = NULL;
    if (!p || !p->prompt) return t2i_fail(T2I_ERR_INVALID_ARG, "prompt is required");
    char *expanded = NULL;
    const char *style_id = NULL;
    if (p->expand)   /* the expansion picks a style only when the user picked none */
        T2I_TRY(t2i_prompt_expand_prefs(m, p->prompt, p->seed, p->expand_max_tokens, p->n_styles == 0,
                                        p->style_prefs, p->n_style_prefs, &expanded, &style_id));
    char *pr = NULL, *ng = NULL;
    t2i_status st = t2i_styles_apply(p->style_catalog, p->styles, p->n_styles, expanded ? expanded : p->prompt,
                                     p->negative_prompt, &pr, &ng);
    free(expanded);
    if (st == T2I_OK && style_id) {   /* its prompt text is in the expansion; add its negative */
        const t2i_style *sty = t2i_styles_find(t2i_styles_builtin(), style_id);
        char *n2 = sty ? t2i_style_merge(sty->negative_prompt, ng, 1.0) : NULL;
        if (sty && !n2) st = t2i_fail(T2I_ERR_NOMEM, "prompt: out of memory");
        if (n2) {
            free(ng);
            ng = n2;
        }
    }
    if (st != T2I_OK) {
        free(pr);
        free(ng);
        return st;
    }
    *prompt = pr;
    *negative = ng;
    return T2I_OK;
}

t2i_status t2i_prompt_expansion_style(const t2i_model *m, const t2i_txt2img_params *p, const char **style_id)
{
    *style_id = NULL;
    if (!p || !p->prompt) return t2i_fail(T2I_ERR_INVALID_ARG, "prompt is required");
    if (!p->expand || p->n_styles > 0) return T2I_OK;
    char *expanded = NULL;
    T2I_TRY(t2i_prompt_expand_prefs(m, p->prompt, p->seed, p->expand_max_tokens, 1, p->style_prefs,
                                    p->n_style_prefs, &expanded, style_id));
    free(expanded);
    return T2I_OK;
}

char *t2i_make_infotext(const t2i_model *m, const t2i_txt2img_params *p, const char *prompt, const char *negative,
                        uint64_t seed, int W, int H, const t2i_infotext_kv *extra_in, int n_extra)
{
    t2i_infotext it;
    t2i_infotext_init(&it);
    it.prompt = prompt;
    it.negative = negative;
    it.steps = p->steps;
    it.sampler = t2i_sampler_name(p->sampler);
    it.has_cfg = 1;
    it.cfg = p->guidance_scale;
    it.has_seed = 1;
    it.seed = seed;
    it.width = W;
    it.height = H;
    it.model = m->name;
    char skip[16];
    snprintf(skip, sizeof skip, "%d", p->clip_skip);
    t2i_infotext_kv extra[12];   /* the caller's (editing), then what A1111 writes for these settings */
    int n = 0;
    for (int i = 0; i < n_extra && n < 8; i++) extra[n++] = extra_in[i];
    if (p->schedule == T2I_SCHEDULE_KARRAS) extra[n++] = (t2i_infotext_kv){"Schedule type", "Karras"};
    if (p->schedule == T2I_SCHEDULE_EXPONENTIAL) extra[n++] = (t2i_infotext_kv){"Schedule type", "Exponential"};
    if (p->clip_skip > 1) extra[n++] = (t2i_infotext_kv){"Clip skip", skip};   /* A1111 writes it when not 1 */
    if (p->noise == T2I_NOISE_PHILOX) extra[n++] = (t2i_infotext_kv){"RNG", "NV"};
    it.extra = extra;
    it.n_extra = n;
    char *s = NULL;
    return t2i_infotext_format(&it, &s) == T2I_OK ? s : NULL;
}

/* The run's LoRAs (p->loras, then the tags of both prompts) merged, and the
 * pipeline run on the prompts without their tags; the infotext keeps them. */
static t2i_status apply_loras(t2i_model *m, const t2i_txt2img_params *p, const char *prompt, const char *negative,
                              t2i_pipeline_ranks *ranks, t2i_image **out, int *n)
{
    t2i_lora_list list = {0};
    char *pr = NULL, *ng = NULL;
    t2i_status st = T2I_OK;
    if (p->n_loras < 0 || (p->n_loras > 0 && !p->loras))
        st = t2i_fail(T2I_ERR_INVALID_ARG, "txt2img: n_loras %d without a list", p->n_loras);
    for (int i = 0; st == T2I_OK && i < p->n_loras; i++)
        st = p->loras[i].path ? t2i_lora_list_add(&list, p->loras[i].path, p->loras[i].weight)
                              : t2i_fail(T2I_ERR_INVALID_ARG, "txt2img: lora %d has no file", i);
    if (st == T2I_OK) st = t2i_lora_tags_extract(prompt, p->lora_dir, "prompt", &pr, &list);
    if (st == T2I_OK && negative) st = t2i_lora_tags_extract(negative, p->lora_dir, "negative prompt", &ng, &list);
    if (st == T2I_OK) st = t2i_model_set_loras(m, list.v, list.n);
    if (st == T2I_OK) st = t2i_pipeline_run_ranked(m, p, pr, ng, NULL, ranks, out, n);
    else if (ranks && ranks->comm) t2i_comm_abort(ranks->comm, t2i_last_error());
    free(pr);
    free(ng);
    t2i_lora_list_free(&list);
    return st;
}

t2i_status t2i_prompt_check(const char *prompt)
{
    /* <lora:…> tags are taken out before parsing (product/lora_tags.h); here
     * they become spaces, so columns still count in the text given */
    char *text = strdup(prompt ? prompt : "");
    if (!text) return t2i_fail(T2I_ERR_NOMEM, "prompt: out of memory");
    for (char *q = text; (q = strstr(q, "<lora:")) != NULL;) {
        char *close = strchr(q + 6, '>');
        if (!close) break;
        memset(q, ' ', (size_t)(close - q + 1));
        q = close + 1;
    }
    t2i_prompt_schedule sched = {0};
    t2i_status st = t2i_prompt_parse(text, 1000, &sched, NULL);
    t2i_prompt_schedule_free(&sched);
    free(text);
    return st;
}

t2i_status t2i_txt2img(t2i_model *m, const t2i_txt2img_params *p, t2i_image **images, int *count)
{
    return t2i_txt2img_ranked(m, p, NULL, images, count);
}

t2i_status t2i_txt2img_ranked(t2i_model *m, const t2i_txt2img_params *p, t2i_pipeline_ranks *ranks,
                              t2i_image **images, int *count)
{
    *images = NULL;
    *count = 0;
    t2i_status st = T2I_OK;
    if (!m || !p) st = t2i_fail(T2I_ERR_INVALID_ARG, "txt2img: model and parameters are required");
    char *prompt = NULL, *negative = NULL;
    if (st == T2I_OK) st = t2i_prompt_resolve(m, p, &prompt, &negative);
    if (st != T2I_OK) {
        if (ranks && ranks->comm) t2i_comm_abort(ranks->comm, t2i_last_error());
        return st;
    }
    t2i_image *out = NULL;
    int n = 0;
    st = apply_loras(m, p, prompt, negative, ranks, &out, &n);
    for (int i = 0; st == T2I_OK && i < n; i++) {
        out[i].infotext =
            t2i_make_infotext(m, p, prompt, negative, out[i].seed, out[i].width, out[i].height, NULL, 0);
        if (!out[i].infotext) st = t2i_fail(T2I_ERR_NOMEM, "txt2img: out of memory for the infotext");
    }
    free(prompt);
    free(negative);
    if (st != T2I_OK) {
        t2i_images_free(out, n);
        return st;
    }
    *images = out;
    *count = n;
    return T2I_OK;
}
