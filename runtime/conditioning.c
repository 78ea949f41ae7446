/*
 * conditioning.c — chunking, weighted encoding and the per-step conditioning
 * table described in conditioning.h.
 */
#include "runtime/conditioning.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "runtime/embeddings.h"
#include "runtime/text_encoder.h"

/* ---- chunks -------------------------------------------------------------- */

typedef struct chunker {
    const t2i_clip_tokenizer *tok;
    t2i_prompt_chunks *out;
    int cap;                           /* chunks allocated */
    int32_t cur[T2I_CHUNK_TOKENS];
    float cur_w[T2I_CHUNK_TOKENS];
    int n_cur, last_comma;
} chunker;

/* A1111 next_chunk(): pad the current tokens to 75, wrap in BOS/EOS. */
static t2i_status next_chunk(chunker *c)
{
    t2i_prompt_chunks *o = c->out;
    if (o->n_chunks == T2I_MAX_CHUNKS)
        return t2i_fail(T2I_ERR_INVALID_ARG, "prompt: longer than %d chunks of %d tokens", T2I_MAX_CHUNKS,
                        T2I_CHUNK_TOKENS);
    if (o->n_chunks == c->cap) {
        int cap = c->cap ? c->cap * 2 : 2;
        int32_t *ids = realloc(o->ids, (size_t)cap * o->chunk_len * sizeof *ids);
        if (ids) o->ids = ids;
        float *w = realloc(o->mult, (size_t)cap * o->chunk_len * sizeof *w);
        if (w) o->mult = w;
        if (!ids || !w) return t2i_fail(T2I_ERR_NOMEM, "prompt: out of memory");
        c->cap = cap;
    }
    int32_t *ids = o->ids + (size_t)o->n_chunks * o->chunk_len;
    float *w = o->mult + (size_t)o->n_chunks * o->chunk_len;
    const int32_t pad = t2i_clip_pad(c->tok);
    ids[0] = t2i_clip_bos(c->tok);
    w[0] = 1.0f;
    for (int i = 0; i < c->n_cur; i++) {
        ids[1 + i] = c->cur[i];
        w[1 + i] = c->cur_w[i];
    }
    ids[1 + c->n_cur] = t2i_clip_eos(c->tok);
    w[1 + c->n_cur] = 1.0f;
    for (int i = 2 + c->n_cur; i < o->chunk_len; i++) {
        ids[i] = pad;
        w[i] = 1.0f;
    }
    o->n_chunks++;
    c->n_cur = 0;
    c->last_comma = -1;
    return T2I_OK;
}

void t2i_prompt_chunks_free(t2i_prompt_chunks *c)
{
    if (!c) return;
    free(c->ids);
    free(c->mult);
    memset(c, 0, sizeof *c);
}

/* With m (may be NULL): textual-inversion names become their vectors
 * (runtime/embeddings.h), A1111's way: an embedding that does not fit in the
 * chunk moves whole to the next. */
static t2i_status chunks_build(const t2i_model *m, const t2i_clip_tokenizer *tok, const t2i_prompt_segments *segs,
                               t2i_prompt_chunks *out);

t2i_status t2i_prompt_chunks_build(const t2i_clip_tokenizer *tok, const t2i_prompt_segments *segs,
                                   t2i_prompt_chunks *out)
{
    return chunks_build(NULL, tok, segs, out);
}

static t2i_status chunks_build(const t2i_model *m, const t2i_clip_tokenizer *tok, const t2i_prompt_segments *segs,
                               t2i_prompt_chunks *out)
{
    memset(out, 0, sizeof *out);
    out->chunk_len = t2i_clip_max_length(tok);
    if (out->chunk_len != T2I_CHUNK_TOKENS + 2)
        return t2i_fail(T2I_ERR_UNSUPPORTED, "prompt: tokenizer model_max_length %d (chunks need 77)",
                        out->chunk_len);
    chunker c = {.tok = tok, .out = out, .last_comma = -1};
    int32_t comma = -1, *ids = NULL;
    int n = 0;
    t2i_status st = t2i_clip_tokenize(tok, ",", &ids, &n);
    if (st != T2I_OK) return st;
    if (n == 1) comma = ids[0];
    free(ids);

    for (int s = 0; s < segs->n && st == T2I_OK; s++) {
        const t2i_prompt_segment *g = &segs->v[s];
        if (g->is_break) {
            st = next_chunk(&c);
            continue;
        }
        ids = NULL;
        if ((st = t2i_clip_tokenize(tok, g->text, &ids, &n)) != T2I_OK) break;
        for (int i = 0; i < n && st == T2I_OK; i++) {
            int n_name, n_vec;
            int32_t first;
            t2i_status bad;
            if (ids[i] == comma) {
                c.last_comma = c.n_cur;
            } else if (c.n_cur == T2I_CHUNK_TOKENS && c.last_comma != -1 &&
                       c.n_cur - c.last_comma <= T2I_COMMA_BACKTRACK) {
                int from = c.last_comma + 1, moved = c.n_cur - from;
                int32_t rt[T2I_CHUNK_TOKENS];
                float rw[T2I_CHUNK_TOKENS];
                memcpy(rt, c.cur + from, (size_t)moved * sizeof *rt);
                memcpy(rw, c.cur_w + from, (size_t)moved * sizeof *rw);
                c.n_cur = from;
                if ((st = next_chunk(&c)) != T2I_OK) break;
                memcpy(c.cur, rt, (size_t)moved * sizeof *rt);
                memcpy(c.cur_w, rw, (size_t)moved * sizeof *rw);
                c.n_cur = moved;
            }
            if (c.n_cur == T2I_CHUNK_TOKENS && (st = next_chunk(&c)) != T2I_OK) break;
            if (m && t2i_embeddings_match(m, ids, n, i, &n_name, &n_vec, &first, &bad)) {
                if ((st = bad) != T2I_OK) break;
                if (c.n_cur + n_vec > T2I_CHUNK_TOKENS && (st = next_chunk(&c)) != T2I_OK) break;
                for (int j = 0; j < n_vec; j++, c.n_cur++) {
                    c.cur[c.n_cur] = first + j;
                    c.cur_w[c.n_cur] = (float)g->weight;
                }
                i += n_name - 1;
                continue;
            }
            c.cur[c.n_cur] = ids[i];
            c.cur_w[c.n_cur] = (float)g->weight;
            c.n_cur++;
        }
        free(ids);
    }
    if (st == T2I_OK && (c.n_cur > 0 || out->n_chunks == 0)) st = next_chunk(&c);
    if (st != T2I_OK) t2i_prompt_chunks_free(out);
    return st;
}

/* ---- encoding -------------------------------------------------------------- */

/* A1111 EmphasisOriginal on one chunk z [L, C]: z·w per token, then the
 * mean of z restored — for each encoder's channel range on its own. */
static void emphasis(const t2i_model *m, float *z, const float *w, int L)
{
    const int C = t2i_text_context_dim(m);
    int widths[2];
    const int n_parts = t2i_text_context_parts(m, widths);   /* SDXL: each encoder's channels */
    int weighted = 0;
    for (int i = 0; i < L; i++) weighted |= w[i] != 1.0f;
    for (int part = 0, c0 = 0; weighted && part < n_parts; c0 += widths[part++]) {
        const int c1 = c0 + widths[part];
        double before = 0, after = 0;
        for (int i = 0; i < L; i++)
            for (int j = c0; j < c1; j++) before += z[(size_t)i * C + j];
        for (int i = 0; i < L; i++)
            for (int j = c0; j < c1; j++) {
                z[(size_t)i * C + j] *= w[i];
                after += z[(size_t)i * C + j];
            }
        if (after == 0) continue;
        const double n = (double)L * (c1 - c0);
        const float scale = (float)((before / n) / (after / n));
        for (int i = 0; i < L; i++)
            for (int j = c0; j < c1; j++) z[(size_t)i * C + j] *= scale;
    }
}

t2i_status t2i_prompt_chunks_encode(t2i_model *m, const t2i_prompt_chunks *c, float *out)
{
    return t2i_prompt_chunks_encode_pooled(m, c, out, NULL);
}

t2i_status t2i_prompt_chunks_encode_pooled(t2i_model *m, const t2i_prompt_chunks *c, float *out, float *pooled)
{
    const int L = c->chunk_len, C = t2i_text_context_dim(m);
    if (L != t2i_text_len(m))
        return t2i_fail(T2I_ERR_INTERNAL, "prompt: chunks of %d tokens for a text encoder of %d", L, t2i_text_len(m));
    for (int k = 0; k < c->n_chunks; k++) {
        float *z = out + (size_t)k * L * C;
        const float *w = c->mult + (size_t)k * L;
        T2I_TRY(t2i_text_encode_ids(m, c->ids + (size_t)k * L, z, k == 0 ? pooled : NULL));
        emphasis(m, z, w, L);
    }
    return T2I_OK;
}

/* ---- the run's conditioning table ---------------------------------------- */

typedef struct distinct {
    const t2i_prompt_segments *segs;   /* borrowed from a schedule */
    t2i_prompt_chunks chunks;
} distinct;

static t2i_status add_schedule(const t2i_model *m, const t2i_prompt_schedule *s, distinct *d, int *n_d, int *map)
{
    for (int e = 0; e < s->n; e++) {
        int found = -1;
        for (int i = 0; i < *n_d && found < 0; i++)
            if (t2i_prompt_segments_equal(d[i].segs, &s->parts[e])) found = i;
        if (found < 0) {
            found = (*n_d)++;
            d[found].segs = &s->parts[e];
            T2I_TRY(chunks_build(m, m->tok, &s->parts[e], &d[found].chunks));
        }
        map[e] = found;
    }
    return T2I_OK;
}

void t2i_conditioning_free(t2i_conditioning *c)
{
    if (!c) return;
    free(c->emb);
    free(c->ids);
    free(c->pos_at_step);
    free(c->neg_at_step);
    free(c->pooled);
    memset(c, 0, sizeof *c);
}

/* BERT: one chunk of the tokenizer's length, [CLS] tokens [SEP] [PAD]…, each
 * segment tokenized on its own with its weight, tokens past L − 2 dropped
 * (diffusers truncates), BREAK ignored; emphasis as for CLIP. */
static t2i_status bert_entry(t2i_model *m, const t2i_prompt_segments *segs, int32_t *ids, float *w, float *z)
{
    const int L = t2i_text_len(m);
    int n = 1;
    ids[0] = t2i_wordpiece_cls(m->wp);
    w[0] = 1.0f;
    for (int s = 0; s < segs->n; s++) {
        if (segs->v[s].is_break) continue;
        int32_t *t = NULL;
        int k = 0;
        T2I_TRY(t2i_wordpiece_tokenize(m->wp, segs->v[s].text, &t, &k));
        for (int i = 0; i < k && n < L - 1; i++, n++) {
            ids[n] = t[i];
            w[n] = (float)segs->v[s].weight;
        }
        free(t);
    }
    ids[n] = t2i_wordpiece_sep(m->wp);
    w[n++] = 1.0f;
    for (; n < L; n++) {
        ids[n] = t2i_wordpiece_pad(m->wp);
        w[n] = 1.0f;
    }
    T2I_TRY(t2i_text_encode_ids(m, ids, z, NULL));
    emphasis(m, z, w, L);
    return T2I_OK;
}

/* The distinct entries of schedule s appended to d (deduplicated); map[e]
 * is entry e's index. */
static int bert_distinct(const t2i_prompt_schedule *s, const t2i_prompt_segments **d, int *n_d, int *map)
{
    for (int e = 0; e < s->n; e++) {
        int found = -1;
        for (int i = 0; i < *n_d && found < 0; i++)
            if (t2i_prompt_segments_equal(d[i], &s->parts[e])) found = i;
        if (found < 0) d[found = (*n_d)++] = &s->parts[e];
        map[e] = found;
    }
    return *n_d;
}

/* BERT (Taiyi): the prompt language in one chunk of model_max_length (512)
 * tokens; a plain prompt gives exactly diffusers' ids and embedding. */
static t2i_status build_bert(t2i_model *m, const char *prompt, const char *negative, int steps,
                             t2i_conditioning *out)
{
    const int L = t2i_text_len(m), C = t2i_text_context_dim(m);
    t2i_prompt_schedule sp = {0}, sn = {0};
    const t2i_prompt_segments **d = NULL;
    int n_d = 0, *map_p = NULL, *map_n = NULL;
    float *w = NULL;
    t2i_status st = t2i_prompt_parse(prompt, steps, &sp, NULL);
    if (st == T2I_OK && negative) {
        st = t2i_prompt_parse(negative, steps, &sn, NULL);
        if (st != T2I_OK) t2i_fail_context(st, "negative prompt");
    }
    if (st != T2I_OK) goto done;
    d = malloc((size_t)(sp.n + sn.n) * sizeof *d);
    map_p = malloc((size_t)sp.n * sizeof *map_p);
    map_n = malloc((size_t)(sn.n + 1) * sizeof *map_n);
    w = malloc((size_t)L * sizeof *w);
    if (!d || !map_p || !map_n || !w) {
        st = t2i_fail(T2I_ERR_NOMEM, "prompt: out of memory");
        goto done;
    }
    bert_distinct(&sp, d, &n_d, map_p);
    bert_distinct(&sn, d, &n_d, map_n);
    out->n_chunks = 1;
    out->ctx_len = L;
    out->hidden = C;
    out->n_distinct = n_d;
    out->steps = steps;
    out->emb = malloc((size_t)n_d * L * C * sizeof *out->emb);
    out->ids = malloc((size_t)n_d * L * sizeof *out->ids);
    out->pos_at_step = malloc((size_t)steps * sizeof *out->pos_at_step);
    out->neg_at_step = negative ? malloc((size_t)steps * sizeof *out->neg_at_step) : NULL;
    if (!out->emb || !out->ids || !out->pos_at_step || (negative && !out->neg_at_step)) {
        st = t2i_fail(T2I_ERR_NOMEM, "prompt: out of memory for %d conditionings of %d tokens", n_d, L);
        goto done;
    }
    for (int i = 0; i < n_d && st == T2I_OK; i++)
        st = bert_entry(m, d[i], out->ids + (size_t)i * L, w, out->emb + (size_t)i * L * C);
    for (int i = 0; i < steps && st == T2I_OK; i++) {
        out->pos_at_step[i] = map_p[t2i_prompt_schedule_entry(&sp, i)];
        if (negative) out->neg_at_step[i] = map_n[t2i_prompt_schedule_entry(&sn, i)];
    }
done:
    free(d);
    free(map_p);
    free(map_n);
    free(w);
    t2i_prompt_schedule_free(&sp);
    t2i_prompt_schedule_free(&sn);
    if (st != T2I_OK) t2i_conditioning_free(out);
    return st;
}

/* SDXL force_zeros_for_empty_prompt: one more entry, all zeros, for the
 * negative at every step. */
static t2i_status add_zero_negative(t2i_conditioning *c)
{
    const size_t per = (size_t)c->ctx_len * c->hidden, n = (size_t)c->n_distinct + 1;
    float *emb = realloc(c->emb, n * per * sizeof *emb);
    if (emb) c->emb = emb;
    int32_t *ids = realloc(c->ids, n * c->ctx_len * sizeof *ids);
    if (ids) c->ids = ids;
    float *pooled = realloc(c->pooled, n * c->pooled_dim * sizeof *pooled);
    if (pooled) c->pooled = pooled;
    c->neg_at_step = malloc((size_t)c->steps * sizeof *c->neg_at_step);
    if (!emb || !ids || !pooled || !c->neg_at_step) return t2i_fail(T2I_ERR_NOMEM, "prompt: out of memory");
    memset(c->emb + (n - 1) * per, 0, per * sizeof *emb);
    memset(c->ids + (n - 1) * c->ctx_len, 0, (size_t)c->ctx_len * sizeof *ids);
    memset(c->pooled + (n - 1) * c->pooled_dim, 0, (size_t)c->pooled_dim * sizeof *pooled);
    for (int i = 0; i < c->steps; i++) c->neg_at_step[i] = (int)n - 1;
    c->n_distinct = (int)n;
    return T2I_OK;
}

t2i_status t2i_conditioning_build(t2i_model *m, const char *prompt, const char *negative, int steps,
                                  t2i_conditioning *out)
{
    memset(out, 0, sizeof *out);
    if (m->text_kind == T2I_TEXT_BERT) return build_bert(m, prompt, negative, steps, out);
    const int zero_negative = negative && !*negative && m->force_zeros_for_empty_prompt;
    if (zero_negative) negative = NULL;
    t2i_prompt_schedule sp = {0}, sn = {0}, empty = {0};
    distinct *d = NULL;
    int n_d = 0, *map_p = NULL, *map_n = NULL;
    float *tmp = NULL;
    const int C = t2i_text_context_dim(m), P = t2i_text_pooled_dim(m);

    t2i_status st = t2i_prompt_parse(prompt, steps, &sp, NULL);
    if (st == T2I_OK && negative) {
        st = t2i_prompt_parse(negative, steps, &sn, NULL);
        if (st != T2I_OK) t2i_fail_context(st, "negative prompt");
    }
    if (st == T2I_OK) st = t2i_prompt_parse("", 1, &empty, NULL);
    if (st != T2I_OK) goto done;
    d = calloc((size_t)(sp.n + sn.n + 1), sizeof *d);
    map_p = malloc((size_t)sp.n * sizeof *map_p);
    map_n = malloc((size_t)(sn.n + 1) * sizeof *map_n);
    int map_e;
    if (!d || !map_p || !map_n) {
        st = t2i_fail(T2I_ERR_NOMEM, "prompt: out of memory");
        goto done;
    }
    if ((st = add_schedule(m, &sp, d, &n_d, map_p)) != T2I_OK ||
        (st = add_schedule(m, &sn, d, &n_d, map_n)) != T2I_OK)
        goto done;
    /* the empty prompt pads; it may already be a distinct entry */
    const int n_real = n_d;
    if ((st = add_schedule(m, &empty, d, &n_d, &map_e)) != T2I_OK) goto done;

    int K = 1;
    for (int i = 0; i < n_d; i++)
        if (d[i].chunks.n_chunks > K) K = d[i].chunks.n_chunks;
    const int L = d[0].chunks.chunk_len;
    const size_t per = (size_t)K * L * C;
    out->n_chunks = K;
    out->ctx_len = K * L;
    out->hidden = C;
    out->n_distinct = n_real;
    out->steps = steps;
    out->emb = malloc((size_t)n_real * per * sizeof *out->emb);
    out->ids = malloc((size_t)n_real * K * L * sizeof *out->ids);
    out->pos_at_step = malloc((size_t)steps * sizeof *out->pos_at_step);
    out->neg_at_step = negative ? malloc((size_t)steps * sizeof *out->neg_at_step) : NULL;
    out->pooled_dim = P;
    out->pooled = P ? malloc((size_t)n_real * P * sizeof *out->pooled) : NULL;
    tmp = malloc((size_t)L * C * sizeof *tmp);
    if (!out->emb || !out->ids || !out->pos_at_step || (negative && !out->neg_at_step) || !tmp || (P && !out->pooled)) {
        st = t2i_fail(T2I_ERR_NOMEM, "prompt: out of memory for %d conditionings of %d tokens", n_real, K * L);
        goto done;
    }
    /* the empty chunk's embedding, for padding */
    const distinct *de = &d[map_e];
    if ((st = t2i_prompt_chunks_encode(m, &de->chunks, tmp)) != T2I_OK) goto done;
    for (int i = 0; i < n_real; i++) {
        const t2i_prompt_chunks *c = &d[i].chunks;
        float *e = out->emb + (size_t)i * per;
        int32_t *ids = out->ids + (size_t)i * K * L;
        if ((st = t2i_prompt_chunks_encode_pooled(m, c, e, P ? out->pooled + (size_t)i * P : NULL)) != T2I_OK)
            goto done;
        memcpy(ids, c->ids, (size_t)c->n_chunks * L * sizeof *ids);
        for (int k = c->n_chunks; k < K; k++) {
            memcpy(e + (size_t)k * L * C, tmp, (size_t)L * C * sizeof *tmp);
            memcpy(ids + (size_t)k * L, de->chunks.ids, (size_t)L * sizeof *ids);
        }
    }
    for (int i = 0; i < steps; i++) {
        out->pos_at_step[i] = map_p[t2i_prompt_schedule_entry(&sp, i)];
        if (negative) out->neg_at_step[i] = map_n[t2i_prompt_schedule_entry(&sn, i)];
    }
    if (zero_negative) st = add_zero_negative(out);
done:
    for (int i = 0; i < n_d; i++) t2i_prompt_chunks_free(&d[i].chunks);
    free(d);
    free(map_p);
    free(map_n);
    free(tmp);
    t2i_prompt_schedule_free(&sp);
    t2i_prompt_schedule_free(&sn);
    t2i_prompt_schedule_free(&empty);
    if (st != T2I_OK) t2i_conditioning_free(out);
    return st;
}
