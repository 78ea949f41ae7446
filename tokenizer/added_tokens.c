/*
 * added_tokens.c — added / special tokens of a tokenizer folder (see
 * added_tokens.h).
 */
#include "tokenizer/added_tokens.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

void t2i_added_free(t2i_added_tokens *a)
{
    for (int i = 0; i < a->n; i++) free(a->v[i].cps);
    free(a->v);
    a->v = NULL;
    a->n = 0;
}

int t2i_added_find(const t2i_added_tokens *a, const uint32_t *cps, size_t n)
{
    for (int i = 0; i < a->n; i++)
        if ((size_t)a->v[i].n == n && !memcmp(a->v[i].cps, cps, n * sizeof *cps)) return i;
    return -1;
}

int t2i_added_append(t2i_added_tokens *a, uint32_t *cps, size_t n, int32_t id, int normalized)
{
    t2i_added_token *p = realloc(a->v, (size_t)(a->n + 1) * sizeof *p);
    if (!p) return 0;
    a->v = p;
    a->v[a->n++] = (t2i_added_token){cps, (int)n, id, normalized};
    return 1;
}

int t2i_added_match(const t2i_added_tokens *a, const uint32_t *v, size_t n, int normalized)
{
    int best = -1;
    for (int i = 0; i < a->n; i++) {
        const t2i_added_token *at = &a->v[i];
        if (at->normalized != normalized || (size_t)at->n > n) continue;
        if (best >= 0 && at->n <= a->v[best].n) continue;
        if (memcmp(at->cps, v, (size_t)at->n * sizeof *v) == 0) best = i;
    }
    return best;
}

int t2i_added_split(const t2i_added_tokens *a, const uint32_t *v, size_t n, int normalized,
                    t2i_segment_fn segment, void *ctx, t2i_id_buf *out)
{
    /* Empty runs are not passed on: v is NULL for empty text, and NULL + 0
     * is undefined behaviour. */
    size_t start = 0;
    for (size_t i = 0; i < n;) {
        int k = t2i_added_match(a, v + i, n - i, normalized);
        if (k < 0) { i++; continue; }
        if (i > start && !segment(ctx, v + start, i - start, out)) return 0;
        if (!t2i_id_push(out, a->v[k].id)) return 0;
        i += (size_t)a->v[k].n;
        start = i;
    }
    return n > start ? segment(ctx, v + start, n - start, out) : 1;
}

t2i_status t2i_added_encode(const t2i_added_tokens *a, const char *utf8, const char *who,
                            t2i_segment_fn segment, void *ctx, t2i_id_buf *out)
{
    size_t len = strlen(utf8);
    if (len > T2I_MAX_PROMPT_BYTES)
        return t2i_fail(T2I_ERR_INVALID_ARG, "prompt: %zu bytes, more than the limit of %u",
                        len, T2I_MAX_PROMPT_BYTES);
    t2i_cp_buf text = {0};
    t2i_status st = t2i_utf8_to_cps(utf8, len, &text, "prompt");
    if (st != T2I_OK) { free(text.v); return st; }
    int ok = t2i_added_split(a, text.v, text.n, 0, segment, ctx, out);
    free(text.v);
    if (!ok) return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", who);
    if (out->n > INT_MAX) return t2i_fail(T2I_ERR_INVALID_ARG, "prompt: too many tokens");
    return T2I_OK;
}

t2i_status t2i_special_token(const cJSON *tc, const cJSON *stm, const char *key, const char *dflt,
                             const char *tc_path, const char *stm_path, const char **content,
                             int *normalized, char *what, size_t what_size)
{
    const cJSON *v = tc ? cJSON_GetObjectItemCaseSensitive(tc, key) : NULL;
    const char *where = tc_path;
    if (!v || cJSON_IsNull(v)) {
        v = stm ? cJSON_GetObjectItemCaseSensitive(stm, key) : NULL;
        where = stm_path;
    }
    *content = dflt;
    *normalized = 0;
    if (v && !cJSON_IsNull(v)) {
        const cJSON *c = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, "content") : v;
        if (!cJSON_IsString(c))
            return t2i_fail(T2I_ERR_FORMAT, "%s: %s is neither a string nor {\"content\": string}", where, key);
        *content = c->valuestring;
        if (cJSON_IsObject(v)) *normalized = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "normalized"));
    } else {
        where = "default special tokens";
    }
    snprintf(what, what_size, "%s: %s", where, key);
    return T2I_OK;
}

t2i_status t2i_added_tokens_decoder(const cJSON *tc, const char *path, t2i_add_token_fn add, void *ctx)
{
    const cJSON *dec = tc ? cJSON_GetObjectItemCaseSensitive(tc, "added_tokens_decoder") : NULL;
    if (!dec) return T2I_OK;
    if (!cJSON_IsObject(dec)) return t2i_fail(T2I_ERR_FORMAT, "%s: added_tokens_decoder is not an object", path);
    const cJSON *e;
    cJSON_ArrayForEach(e, dec) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "content");
        char *end;
        long id = strtol(e->string, &end, 10);
        if (!cJSON_IsString(c) || *end || end == e->string || id < 0 || id > INT32_MAX)
            return t2i_fail(T2I_ERR_FORMAT, "%s: added_tokens_decoder[\"%.40s\"] needs an integer key"
                            " and a string \"content\"", path, e->string);
        const cJSON *norm = cJSON_GetObjectItemCaseSensitive(e, "normalized");
        int special = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "special"));
        int normalized = norm ? cJSON_IsTrue(norm) : !special;
        T2I_TRY(add(ctx, c->valuestring, (int32_t)id, normalized, path));
    }
    return T2I_OK;
}

void t2i_frame_ids(const t2i_id_buf *ids, int32_t first, int32_t last, int32_t pad, int32_t *out,
                   int max_len)
{
    size_t keep = ids->n < (size_t)max_len - 2 ? ids->n : (size_t)max_len - 2;
    out[0] = first;
    if (keep) memcpy(out + 1, ids->v, keep * sizeof *out);
    out[keep + 1] = last;
    for (size_t i = keep + 2; i < (size_t)max_len; i++) out[i] = pad;
}
