/*
 * judge.c — judging an image against its prompt: CLIPScore (English CLIP or
 * ChineseCLIP), the aesthetic head, and the image embedding near-duplicate
 * checks use.
 *
 *   image ─ CLIPImageProcessor (resize the shortest edge with Pillow's filter,
 *           centre crop, rescale, normalise) ─ image tower ─ e_img
 *   prompt ─ tokenizer ─ text tower ─ e_txt
 *   CLIPScore = 100 · max(cos(e_img, e_txt), 0)          (torchmetrics)
 *   aesthetic = head(e_img / |e_img|)                     (LAION predictor)
 *
 * Preprocessing follows transformers' PIL backend step for step (image_
 * transforms.py): new short side = shortest_edge, long side =
 * int(shortest_edge · long / short); crop offsets (size − crop) // 2 with
 * zero padding where the image is smaller than the crop; x·rescale_factor
 * in double then FP32; (x − mean) / std in FP32.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/error.h"
#include "product/expand.h"
#include "product/image_resize.h"
#include "product/judge.h"
#include "runtime/aesthetic.h"
#include "runtime/clip_model.h"

#define MIN_SIDE 16

struct t2i_scorer {
    t2i_clip_model *en, *zh;
    t2i_aesthetic *aesthetic;
};

void t2i_scorer_destroy(t2i_scorer *s)
{
    if (!s) return;
    t2i_clip_model_destroy(s->en);
    t2i_clip_model_destroy(s->zh);
    t2i_aesthetic_destroy(s->aesthetic);
    free(s);
}

t2i_status t2i_scorer_load(t2i_engine *e, const char *clip_dir, const char *zh_clip_dir, const char *aesthetic_path,
                           t2i_scorer **out)
{
    *out = NULL;
    if (!e || (!clip_dir && !zh_clip_dir && !aesthetic_path))
        return t2i_fail(T2I_ERR_INVALID_ARG, "scorer: an engine and at least one model are required");
    if (aesthetic_path && !clip_dir)
        return t2i_fail(T2I_ERR_INVALID_ARG, "scorer: the aesthetic head needs a CLIP model for its embeddings");
    t2i_scorer *s = calloc(1, sizeof *s);
    if (!s) return t2i_fail(T2I_ERR_NOMEM, "out of memory");
    t2i_status st = clip_dir ? t2i_clip_model_load(e, clip_dir, &s->en) : T2I_OK;
    if (st == T2I_OK && zh_clip_dir) st = t2i_clip_model_load(e, zh_clip_dir, &s->zh);
    if (st == T2I_OK && aesthetic_path) st = t2i_aesthetic_load(e, aesthetic_path, &s->aesthetic);
    if (st == T2I_OK && s->aesthetic && t2i_aesthetic_dim(s->aesthetic) != t2i_clip_model_dim(s->en))
        st = t2i_fail(T2I_ERR_FORMAT, "%s: the head takes %d-wide embeddings, %s gives %d", aesthetic_path,
                      t2i_aesthetic_dim(s->aesthetic), clip_dir, t2i_clip_model_dim(s->en));
    if (st != T2I_OK) {
        t2i_scorer_destroy(s);
        return st;
    }
    *out = s;
    return T2I_OK;
}

/* The tower that judges `lang` (AUTO decided by the prompt, if any). */
static t2i_status pick(t2i_scorer *s, t2i_text_lang lang, const char *prompt, t2i_clip_model **m)
{
    if (lang == T2I_LANG_AUTO) lang = (prompt && s->zh && t2i_expand_is_cjk(prompt)) || !s->en ? T2I_LANG_ZH : T2I_LANG_EN;
    *m = lang == T2I_LANG_ZH ? s->zh : s->en;
    if (!*m)
        return t2i_fail(T2I_ERR_INVALID_ARG, "scorer: no %s CLIP model loaded", lang == T2I_LANG_ZH ? "Chinese" : "English");
    return T2I_OK;
}

static t2i_status check_image(const t2i_image *img)
{
    if (!img || !img->pixels || img->channels != 3)
        return t2i_fail(T2I_ERR_INVALID_ARG, "scorer: an RGB image is required");
    if (img->width < MIN_SIDE || img->height < MIN_SIDE)
        return t2i_fail(T2I_ERR_INVALID_ARG, "scorer: image %dx%d is too small to judge (at least %dx%d)", img->width,
                        img->height, MIN_SIDE, MIN_SIDE);
    return T2I_OK;
}

t2i_status t2i_clip_preprocess_image(const t2i_clip_preprocess *p, const t2i_image *img, int size, float *out)
{
    int w = img->width, h = img->height;
    uint8_t *buf = NULL;
    const uint8_t *px = img->pixels;
    if (p->do_resize) {
        const int short_side = w <= h ? w : h, long_side = w <= h ? h : w;
        const int nl = (int)((double)p->shortest_edge * long_side / short_side);
        const int nw = w <= h ? p->shortest_edge : nl, nh = w <= h ? nl : p->shortest_edge;
        if ((buf = malloc((size_t)nw * nh * 3)) == NULL) return t2i_fail(T2I_ERR_NOMEM, "out of memory");
        t2i_status st = t2i_image_resize(px, w, h, 3, buf, nw, nh, (t2i_resample)p->resample);
        if (st != T2I_OK) {
            free(buf);
            return st;
        }
        px = buf, w = nw, h = nh;
    }
    const int ch = p->do_center_crop ? p->crop_height : h, cw = p->do_center_crop ? p->crop_width : w;
    if (ch != size || cw != size) {
        free(buf);
        return t2i_fail(T2I_ERR_INVALID_ARG, "scorer: preprocessing gives %dx%d, the model takes %dx%d", cw, ch, size,
                        size);
    }
    /* transformers center_crop: offsets (h − ch) // 2, zero padding where
     * the image is smaller (the padded image centres it at ceil(pad / 2)). */
    const int top = (int)floor((h - ch) / 2.0), left = (int)floor((w - cw) / 2.0);
    const int pad_t = h < ch ? (ch - h + 1) / 2 : 0, pad_l = w < cw ? (cw - w + 1) / 2 : 0;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < ch; y++)
            for (int x = 0; x < cw; x++) {
                int sy = y + (h < ch ? -pad_t : top), sx = x + (w < cw ? -pad_l : left);
                double v = (sy >= 0 && sy < h && sx >= 0 && sx < w) ? px[((size_t)sy * w + sx) * 3 + c] : 0;
                float f = p->do_rescale ? (float)(v * p->rescale_factor) : (float)v;
                if (p->do_normalize) f = (f - p->mean[c]) / p->std[c];
                out[((size_t)c * ch + y) * cw + x] = f;
            }
    free(buf);
    return T2I_OK;
}

static void normalise(float *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)v[i] * v[i];
    const float inv = s > 0 ? (float)(1.0 / sqrt(s)) : 0.0f;
    for (int i = 0; i < n; i++) v[i] *= inv;
}

/* The normalised image embedding of m into out[dim]. */
static t2i_status image_embedding(t2i_clip_model *m, const t2i_image *img, float *out)
{
    T2I_TRY(check_image(img));
    const int S = t2i_clip_model_config_of(m)->vision.image_size;
    float *px = malloc((size_t)3 * S * S * sizeof *px);
    if (!px) return t2i_fail(T2I_ERR_NOMEM, "out of memory");
    t2i_status st = t2i_clip_preprocess_image(t2i_clip_model_preprocess(m), img, S, px);
    if (st == T2I_OK) st = t2i_clip_model_image_embeds(m, px, 1, out);
    free(px);
    if (st == T2I_OK) normalise(out, t2i_clip_model_dim(m));
    return st;
}

t2i_status t2i_scorer_image_embedding(t2i_scorer *s, const t2i_image *img, t2i_text_lang lang, float *out, int max,
                                      int *dim)
{
    t2i_clip_model *m;
    T2I_TRY(pick(s, lang, NULL, &m));
    *dim = t2i_clip_model_dim(m);
    if (max < *dim) return t2i_fail(T2I_ERR_INVALID_ARG, "scorer: room for %d values, the embedding has %d", max, *dim);
    return image_embedding(m, img, out);
}

t2i_status t2i_clip_score(t2i_scorer *s, const t2i_image *img, const char *prompt, t2i_text_lang lang, float *score)
{
    t2i_clip_model *m;
    T2I_TRY(pick(s, lang, prompt, &m));
    const int d = t2i_clip_model_dim(m);
    float *e = malloc((size_t)2 * d * sizeof *e);
    if (!e) return t2i_fail(T2I_ERR_NOMEM, "out of memory");
    t2i_status st = image_embedding(m, img, e);
    if (st == T2I_OK) st = t2i_clip_model_text_embeds(m, prompt ? prompt : "", e + d);
    if (st == T2I_OK) {
        normalise(e + d, d);
        double dot = 0;
        for (int i = 0; i < d; i++) dot += (double)e[i] * e[d + i];
        *score = (float)(100.0 * (dot > 0 ? dot : 0));
    }
    free(e);
    return st;
}

t2i_status t2i_scorer_judge(t2i_scorer *s, const t2i_image *img, const char *prompt, float *emb, int max, int *dim,
                            float *clip_score, float *aesthetic)
{
    t2i_clip_model *m;
    T2I_TRY(pick(s, T2I_LANG_AUTO, prompt, &m));
    const int d = t2i_clip_model_dim(m);
    *dim = d;
    if (max < d) return t2i_fail(T2I_ERR_INVALID_ARG, "scorer: room for %d values, the embedding has %d", max, d);
    T2I_TRY(image_embedding(m, img, emb));
    float *te = malloc((size_t)d * sizeof *te);
    if (!te) return t2i_fail(T2I_ERR_NOMEM, "out of memory");
    t2i_status st = t2i_clip_model_text_embeds(m, prompt ? prompt : "", te);
    if (st == T2I_OK) {
        normalise(te, d);
        double dot = 0;
        for (int i = 0; i < d; i++) dot += (double)emb[i] * te[i];
        *clip_score = (float)(100.0 * (dot > 0 ? dot : 0));
        *aesthetic = NAN;
        if (s->aesthetic && m == s->en) st = t2i_aesthetic_run(s->aesthetic, emb, 1, aesthetic);
    }
    free(te);
    return st;
}

t2i_status t2i_aesthetic_score(t2i_scorer *s, const t2i_image *img, float *score)
{
    if (!s->aesthetic) return t2i_fail(T2I_ERR_INVALID_ARG, "scorer: no aesthetic head loaded");
    const int d = t2i_clip_model_dim(s->en);
    float *e = malloc((size_t)d * sizeof *e);
    if (!e) return t2i_fail(T2I_ERR_NOMEM, "out of memory");
    t2i_status st = image_embedding(s->en, img, e);
    if (st == T2I_OK) st = t2i_aesthetic_run(s->aesthetic, e, 1, score);
    free(e);
    return st;
}
