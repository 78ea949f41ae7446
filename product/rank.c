/*
 * rank.c — best-of-n: draw n candidates, judge each, drop near-duplicates,
 * keep the best k.
 *
 *   candidates: seeds seed … seed+n−1, drawn batch_size at a time
 *   score = w_rel · CLIPScore/100 + w_aes · aesthetic/10
 *         + w_sharp · min(log10(1 + sharpness) / 3, 1)
 *   order by score (ties: the lower seed first); walk down the order and
 *   keep an image unless a kept one is its near-duplicate: dHashes within
 *   dup_hash_bits bits, or CLIP image embeddings with cosine >= dup_cosine
 *
 * Relevance is judged against the prompt the run drew (styles and
 * expansion applied) or the user's own words (score_resolved = 0). Each
 * kept image's infotext gains "CLIP score", "Aesthetic" and "Rank score".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/error.h"
#include "product/judge.h"
#include "t2i.h"

void t2i_rank_options_init(t2i_rank_options *o)
{
    o->w_relevance = 1.0f;
    o->w_aesthetic = 0.5f;
    o->w_sharpness = 0.1f;
    o->dup_hash_bits = T2I_DUP_HASH_BITS;
    o->dup_cosine = T2I_DUP_COSINE;
    o->score_resolved = 1;
}

float t2i_rank_score(const t2i_rank_options *opts, const t2i_image_scores *s)
{
    t2i_rank_options o;
    if (opts) o = *opts;
    else t2i_rank_options_init(&o);
    const double sharp = fmin(log10(1.0 + s->quality.sharpness) / 3.0, 1.0);
    return (float)(o.w_relevance * s->clip_score / 100.0 +
                   (isnan(s->aesthetic) ? 0 : o.w_aesthetic * s->aesthetic / 10.0) + o.w_sharpness * sharp);
}

typedef struct cand {
    t2i_image img;
    t2i_image_scores s;
    float *emb;   /* normalised CLIP image embedding, for near-duplicates */
} cand;

static int by_score(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->s.score != y->s.score) return x->s.score > y->s.score ? -1 : 1;
    return x->img.seed < y->img.seed ? -1 : x->img.seed > y->img.seed;
}

static float dot(const float *a, const float *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)a[i] * b[i];
    return (float)s;
}

/* Judge one image: relevance, aesthetics and embedding from one pass of the
 * image tower, then the measures and the hash. */
static t2i_status judge(t2i_scorer *sc, const char *prompt, const t2i_rank_options *o, cand *c, int dim_max, int *dim)
{
    t2i_image_scores *s = &c->s;
    memset(s, 0, sizeof *s);
    T2I_TRY(t2i_scorer_judge(sc, &c->img, prompt, c->emb, dim_max, dim, &s->clip_score, &s->aesthetic));
    T2I_TRY(t2i_image_quality_measure(&c->img, &s->quality));
    T2I_TRY(t2i_image_dhash(&c->img, &s->dhash));
    s->score = t2i_rank_score(o, s);
    return T2I_OK;
}

static char *with_scores(const char *info, const t2i_image_scores *s)
{
    char extra[160];
    int n = snprintf(extra, sizeof extra, ", CLIP score: %.2f", s->clip_score);
    if (!isnan(s->aesthetic)) n += snprintf(extra + n, sizeof extra - (size_t)n, ", Aesthetic: %.3f", s->aesthetic);
    snprintf(extra + n, sizeof extra - (size_t)n, ", Rank score: %.4f", s->score);
    size_t len = (info ? strlen(info) : 0) + strlen(extra) + 1;
    char *out = malloc(len);
    if (out) snprintf(out, len, "%s%s", info ? info : "", extra);
    return out;
}

/* Best-of-n drawing with txt2img (edit NULL) or with img2img (edit's
 * request, its base being p). */
static t2i_status best_of(t2i_model *m, t2i_scorer *sc, const t2i_txt2img_params *p, const t2i_img2img_params *edit,
                          int n, int keep, const t2i_rank_options *opts, t2i_image **images, t2i_image_scores **scores,
                          int *count)
{
    *images = NULL;
    *scores = NULL;
    *count = 0;
    if (!m || !sc || !p) return t2i_fail(T2I_ERR_INVALID_ARG, "best-of: model, scorer and parameters are required");
    if (n < 1 || n > 256) return t2i_fail(T2I_ERR_INVALID_ARG, "best-of: %d candidates outside 1..256", n);
    if (keep < 1 || keep > n) return t2i_fail(T2I_ERR_INVALID_ARG, "best-of: keep %d outside 1..%d", keep, n);
    t2i_rank_options o;
    if (opts) o = *opts;
    else t2i_rank_options_init(&o);
    char *prompt = NULL, *negative = NULL;
    if (o.score_resolved) T2I_TRY(t2i_prompt_resolve(m, p, &prompt, &negative));
    free(negative);
    const char *judged = o.score_resolved ? prompt : p->prompt;

    enum { DIM_MAX = 4096 };
    cand *c = calloc((size_t)n, sizeof *c);
    float *embs = malloc((size_t)n * DIM_MAX * sizeof *embs);
    t2i_status st = c && embs ? T2I_OK : t2i_fail(T2I_ERR_NOMEM, "best-of: out of memory");
    int dim = 0, have = 0;
    const int per = p->batch_size > 0 ? p->batch_size : 1;
    while (st == T2I_OK && have < n) {
        t2i_txt2img_params q = *p;
        q.seed = p->seed + (uint64_t)have;
        q.batch_size = n - have < per ? n - have : per;
        t2i_image *imgs = NULL;
        int got = 0;
        if (edit) {
            t2i_img2img_params e = *edit;
            e.base = q;
            st = t2i_img2img(m, &e, &imgs, &got);
        } else {
            st = t2i_txt2img(m, &q, &imgs, &got);
        }
        for (int i = 0; st == T2I_OK && i < got; i++) {
            c[have].img = imgs[i];
            c[have].emb = embs + (size_t)have * DIM_MAX;
            memset(&imgs[i], 0, sizeof imgs[i]);
            st = judge(sc, judged, &o, &c[have++], DIM_MAX, &dim);
        }
        t2i_images_free(imgs, got);
    }
    free(prompt);

    t2i_image *out = st == T2I_OK ? calloc((size_t)keep, sizeof *out) : NULL;
    t2i_image_scores *os = st == T2I_OK ? calloc((size_t)keep, sizeof *os) : NULL;
    int *kept = st == T2I_OK ? calloc((size_t)keep, sizeof *kept) : NULL;
    if (st == T2I_OK && (!out || !os || !kept)) st = t2i_fail(T2I_ERR_NOMEM, "best-of: out of memory");
    int k = 0;
    if (st == T2I_OK) {
        qsort(c, (size_t)have, sizeof *c, by_score);
        for (int i = 0; i < have && k < keep; i++) {
            int dup = 0;
            for (int j = 0; j < k && !dup; j++)
                dup = t2i_hash_distance(c[i].s.dhash, c[kept[j]].s.dhash) <= o.dup_hash_bits ||
                      dot(c[i].emb, c[kept[j]].emb, dim) >= o.dup_cosine;
            if (!dup) kept[k++] = i;
        }
        for (int j = 0; j < k && st == T2I_OK; j++) {
            cand *ci = &c[kept[j]];
            char *info = with_scores(ci->img.infotext, &ci->s);
            if (!info) {
                st = t2i_fail(T2I_ERR_NOMEM, "best-of: out of memory");
                break;
            }
            free(ci->img.infotext);
            ci->img.infotext = info;
            out[j] = ci->img;
            os[j] = ci->s;
            memset(&ci->img, 0, sizeof ci->img);
        }
    }
    free(kept);
    for (int i = 0; c && i < have; i++) {
        free(c[i].img.pixels);
        free(c[i].img.infotext);
    }
    free(c);
    free(embs);
    if (st != T2I_OK) {
        t2i_images_free(out, k);
        free(os);
        return st;
    }
    *images = out;
    *scores = os;
    *count = k;
    return T2I_OK;
}

t2i_status t2i_best_of(t2i_model *m, t2i_scorer *sc, const t2i_txt2img_params *p, int n, int keep,
                       const t2i_rank_options *opts, t2i_image **images, t2i_image_scores **scores, int *count)
{
    return best_of(m, sc, p, NULL, n, keep, opts, images, scores, count);
}

t2i_status t2i_best_of_img2img(t2i_model *m, t2i_scorer *sc, const t2i_img2img_params *p, int n, int keep,
                               const t2i_rank_options *opts, t2i_image **images, t2i_image_scores **scores,
                               int *count)
{
    *images = NULL;
    *scores = NULL;
    *count = 0;
    if (!p) return t2i_fail(T2I_ERR_INVALID_ARG, "best-of: model, scorer and parameters are required");
    return best_of(m, sc, &p->base, p, n, keep, opts, images, scores, count);
}
