/*
 * clip_bpe.c — CLIP byte-level BPE: loading vocab.json / merges.txt and the
 * text → ids pipeline described in clip_bpe.h.
 *
 * Data layout:
 *  - vocab: the string → id table of tokenizer/vocab.h.
 *  - merges: an open-addressing hash table keyed by the pair of symbol ids
 *    (left << 32 | right) → (rank, id of the merged symbol).
 *  - text is handled as arrays of code points (normalization, splitting);
 *    each pre-tokenized piece becomes UTF-8 bytes, one BPE symbol per byte.
 *  - BPE keeps the symbols of a piece in a linked list over an array and a
 *    binary min-heap of candidate merges ordered by (rank, position), the
 *    algorithm of HuggingFace tokenizers' Word::merge_all, so a hostile
 *    megabyte-long word costs O(n log n), not O(n²).
 */
#include "tokenizer/clip_bpe.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/hf_json.h"
#include "tokenizer/text_norm.h"
#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocab.h"

#define MAX_FILE_BYTES   (256u << 20)   /* vocab.json / merges.txt size limit */

typedef struct merge_slot { uint64_t key; int32_t rank, new_id; } merge_slot; /* rank < 0: empty */

struct t2i_clip_tokenizer {
    t2i_vocab vocab;
    merge_slot *merges; uint32_t merge_mask; int merge_count;
    int32_t byte_id[256], byte_end_id[256];   /* "x" and "x</w>" per byte, -1 if absent */
    t2i_added_tokens added;
    int32_t bos, eos, unk, pad;
    int max_length;
};

/* ---- merges hash table ----------------------------------------------------- */

static uint64_t pair_key(int32_t a, int32_t b) { return ((uint64_t)(uint32_t)a << 32) | (uint32_t)b; }

static uint32_t hash_u64(uint64_t k)
{
    k ^= k >> 33; k *= 0xff51afd7ed558ccdULL; k ^= k >> 33;
    return (uint32_t)k;
}

static const merge_slot *merge_find(const t2i_clip_tokenizer *t, int32_t a, int32_t b)
{
    uint64_t key = pair_key(a, b);
    for (uint32_t i = hash_u64(key) & t->merge_mask;; i = (i + 1) & t->merge_mask) {
        const merge_slot *e = &t->merges[i];
        if (e->rank < 0) return NULL;
        if (e->key == key) return e;
    }
}

static void merge_put(t2i_clip_tokenizer *t, int32_t a, int32_t b, int32_t rank, int32_t new_id)
{
    uint64_t key = pair_key(a, b);
    uint32_t i = hash_u64(key) & t->merge_mask;
    while (t->merges[i].rank >= 0 && t->merges[i].key != key) i = (i + 1) & t->merge_mask;
    if (t->merges[i].rank < 0) t->merge_count++;
    t->merges[i] = (merge_slot){key, rank, new_id};   /* a later duplicate wins */
}

/* ---- files --------------------------------------------------------------- */

static t2i_status load_vocab(t2i_clip_tokenizer *t, const char *path)
{
    char *text; size_t len;
    T2I_TRY(t2i_read_file(path, MAX_FILE_BYTES, &text, &len, NULL));
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!root) return t2i_fail(T2I_ERR_FORMAT, "%s: malformed JSON", path);
    t2i_status st = T2I_OK;
    if (!cJSON_IsObject(root)) { st = t2i_fail(T2I_ERR_FORMAT, "%s: not a JSON object", path); goto done; }
    int n = cJSON_GetArraySize(root);
    if (n <= 0) { st = t2i_fail(T2I_ERR_FORMAT, "%s: empty vocabulary", path); goto done; }
    if (!t2i_vocab_init(&t->vocab, (size_t)n)) { st = t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", path); goto done; }
    const cJSON *e;
    cJSON_ArrayForEach(e, root) {
        double v = e->valuedouble;
        if (!cJSON_IsNumber(e) || v < 0 || v > INT32_MAX || v != (double)(int32_t)v) {
            st = t2i_fail(T2I_ERR_FORMAT, "%s: token \"%.40s\": id is not an integer in [0, %d]",
                          path, e->string ? e->string : "", INT32_MAX);
            goto done;
        }
        if (!t2i_vocab_put(&t->vocab, e->string, strlen(e->string), (int32_t)v)) {
            st = t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
    }
done:
    cJSON_Delete(root);
    return st;
}

/* One merge "a b" of rank `rank`: both parts and their concatenation must
 * be vocabulary tokens. `where` names the file and line or entry. */
static t2i_status add_merge(t2i_clip_tokenizer *t, const char *a_s, size_t na, const char *b_s, size_t nb,
                            int32_t rank, char **joined, size_t *joined_cap, const char *where)
{
    int32_t a = t2i_vocab_find(&t->vocab, a_s, na), b = t2i_vocab_find(&t->vocab, b_s, nb);
    if (a < 0 || b < 0)
        return t2i_fail(T2I_ERR_FORMAT, "%s: merge part \"%.*s\" is not in the vocabulary", where,
                        a < 0 ? (int)(na > 60 ? 60 : na) : (int)(nb > 60 ? 60 : nb), a < 0 ? a_s : b_s);
    if (na + nb > *joined_cap) {
        size_t cap = (na + nb) * 2;
        char *p = realloc(*joined, cap);
        if (!p) return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", where);
        *joined = p;
        *joined_cap = cap;
    }
    memcpy(*joined, a_s, na);
    memcpy(*joined + na, b_s, nb);
    int32_t merged = t2i_vocab_find(&t->vocab, *joined, na + nb);
    if (merged < 0)
        return t2i_fail(T2I_ERR_FORMAT, "%s: merge result \"%.*s\" is not in the vocabulary", where,
                        (int)(na + nb > 60 ? 60 : na + nb), *joined);
    if (rank == INT32_MAX) return t2i_fail(T2I_ERR_FORMAT, "%s: too many merges", where);
    merge_put(t, a, b, rank, merged);
    return T2I_OK;
}

static t2i_status alloc_merges(t2i_clip_tokenizer *t, size_t n, const char *path)
{
    t->merge_mask = t2i_table_size_for(n) - 1;
    t->merges = malloc(((size_t)t->merge_mask + 1) * sizeof *t->merges);
    if (!t->merges) return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", path);
    for (size_t i = 0; i <= t->merge_mask; i++) t->merges[i].rank = -1;
    return T2I_OK;
}

/* merges.txt: "#version..." lines are skipped; every other line (a final
 * newline ends the last one) must be "left right", both vocabulary tokens
 * whose concatenation is one too. The rank is the index among merge lines. */
static t2i_status load_merges(t2i_clip_tokenizer *t, const char *path)
{
    char *text; size_t len;
    T2I_TRY(t2i_read_file(path, MAX_FILE_BYTES, &text, &len, NULL));
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    char *joined = NULL; size_t joined_cap = 0;
    t2i_status st = alloc_merges(t, lines, path);
    int32_t rank = 0;
    size_t lineno = 0;
    for (size_t pos = 0; pos < len && st == T2I_OK;) {
        char *line = text + pos;
        char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + 1;
        lineno++;
        if (n && line[n - 1] == '\r') n--;
        if (n >= 8 && memcmp(line, "#version", 8) == 0) continue;
        char where[4200];
        snprintf(where, sizeof where, "%s:%zu", path, lineno);
        char *sp = memchr(line, ' ', n);
        if (!sp || memchr(sp + 1, ' ', n - (size_t)(sp + 1 - line))) {
            st = t2i_fail(T2I_ERR_FORMAT, "%s: expected two space-separated tokens, got \"%.*s\"", where,
                          (int)(n > 60 ? 60 : n), line);
            break;
        }
        size_t na = (size_t)(sp - line);
        st = add_merge(t, line, na, sp + 1, n - na - 1, rank++, &joined, &joined_cap, where);
    }
    free(joined);
    free(text);
    return st;
}

/* ---- normalization: NFC, white space, lower case ---------------------- */

/* The normalizer: NFC, every run of White_Space -> " ", lower case. */
static int normalize(const uint32_t *in, size_t n, t2i_cp_buf *out, t2i_cp_buf *tmp)
{
    tmp->n = 0;
    if (!t2i_nfc_append(in, n, tmp)) return 0;
    for (size_t i = 0; i < tmp->n; i++) {
        uint32_t c = tmp->v[i], lo[T2I_UC_MAX_SEQ];
        if (t2i_uc_is_space(c)) {
            while (i + 1 < tmp->n && t2i_uc_is_space(tmp->v[i + 1])) i++;
            if (!t2i_cp_push(out, ' ')) return 0;
            continue;
        }
        int k = t2i_uc_lower(c, lo);
        for (int j = 0; j < k; j++) if (!t2i_cp_push(out, lo[j])) return 0;
    }
    return 1;
}

/* ---- BPE of one pre-tokenized piece -------------------------------------- */

typedef struct bpe_symbol { int32_t id; int prev, next; size_t len; } bpe_symbol;
typedef struct bpe_cand { int32_t rank, new_id; int pos; } bpe_cand;

typedef struct bpe_work {
    bpe_symbol *sym; size_t sym_cap;
    bpe_cand *heap; size_t heap_n, heap_cap;
} bpe_work;

static int cand_less(const bpe_cand *a, const bpe_cand *b)
{
    return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

static int heap_push(bpe_work *w, bpe_cand c)
{
    if (w->heap_n == w->heap_cap) {
        size_t cap = w->heap_cap ? w->heap_cap * 2 : 64;
        bpe_cand *h = realloc(w->heap, cap * sizeof *h);
        if (!h) return 0;
        w->heap = h; w->heap_cap = cap;
    }
    size_t i = w->heap_n++;
    while (i > 0 && cand_less(&c, &w->heap[(i - 1) / 2])) {
        w->heap[i] = w->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    w->heap[i] = c;
    return 1;
}

static bpe_cand heap_pop(bpe_work *w)
{
    bpe_cand top = w->heap[0], last = w->heap[--w->heap_n];
    size_t i = 0, n = w->heap_n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && cand_less(&w->heap[c + 1], &w->heap[c])) c++;
        if (!cand_less(&w->heap[c], &last)) break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    if (n) w->heap[i] = last;
    return top;
}

static int push_pair(const t2i_clip_tokenizer *t, bpe_work *w, int pos)
{
    int next = w->sym[pos].next;
    if (next < 0) return 1;
    const merge_slot *m = merge_find(t, w->sym[pos].id, w->sym[next].id);
    return !m || heap_push(w, (bpe_cand){m->rank, m->new_id, pos});
}

/* Byte-level BPE of the UTF-8 bytes s[0..n), n > 0; ids appended to out. */
static int bpe_piece(const t2i_clip_tokenizer *t, bpe_work *w, const unsigned char *s, size_t n,
                     t2i_id_buf *out)
{
    if (n > w->sym_cap) {
        bpe_symbol *p = realloc(w->sym, n * sizeof *p);
        if (!p) return 0;
        w->sym = p; w->sym_cap = n;
    }
    /* one symbol per byte; an unknown one becomes unk (never fused) */
    for (size_t i = 0; i < n; i++) {
        int32_t id = i + 1 == n ? t->byte_end_id[s[i]] : t->byte_id[s[i]];
        w->sym[i] = (bpe_symbol){id < 0 ? t->unk : id, (int)i - 1, i + 1 == n ? -1 : (int)i + 1, 1};
    }
    w->heap_n = 0;
    for (size_t i = 0; i + 1 < n; i++)
        if (!push_pair(t, w, (int)i)) return 0;
    while (w->heap_n) {
        bpe_cand c = heap_pop(w);
        bpe_symbol *left = &w->sym[c.pos];
        if (left->len == 0 || left->next < 0) continue;   /* stale entry */
        bpe_symbol *right = &w->sym[left->next];
        const merge_slot *m = merge_find(t, left->id, right->id);
        if (!m || m->new_id != c.new_id) continue;
        left->id = c.new_id;
        left->len += right->len;
        right->len = 0;
        left->next = right->next;
        if (left->next >= 0) w->sym[left->next].prev = c.pos;
        if (left->prev >= 0 && !push_pair(t, w, left->prev)) return 0;
        if (!push_pair(t, w, c.pos)) return 0;
    }
    for (int i = 0; i >= 0; i = w->sym[i].next)
        if (!t2i_id_push(out, w->sym[i].id)) return 0;
    return 1;
}

/* ---- pre-tokenizer -------------------------------------------------------- */

static const char *const special_words[2] = {"startoftext", "endoftext"};

static int match_ascii(const uint32_t *v, size_t n, const char *s)
{
    size_t k = strlen(s);
    if (k > n) return 0;
    for (size_t i = 0; i < k; i++) if (v[i] != (unsigned char)s[i]) return 0;
    return 1;
}

static int bpe_cps(const t2i_clip_tokenizer *t, bpe_work *w, const uint32_t *v, size_t n,
                   t2i_id_buf *out, char **bytes, size_t *bytes_cap)
{
    if (4 * n > *bytes_cap) {
        char *p = realloc(*bytes, 4 * n);
        if (!p) return 0;
        *bytes = p; *bytes_cap = 4 * n;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) m += (size_t)t2i_utf8_encode(v[i], *bytes + m);
    return bpe_piece(t, w, (const unsigned char *)*bytes, m, out);
}

static int is_other(uint32_t c)
{
    return !t2i_uc_is_space(c) && !t2i_uc_is_letter(c) && !t2i_uc_is_number(c);
}

/* Split normalized text v[0..n) with CLIP's regex and BPE every piece. */
static int pretokenize(const t2i_clip_tokenizer *t, bpe_work *w, const uint32_t *v, size_t n,
                       t2i_id_buf *out, char **bytes, size_t *bytes_cap)
{
    size_t i = 0;
    while (i < n) {
        uint32_t c = v[i];
        size_t k = 0;
        /* <|startoftext|> / <|endoftext|>: GPT-2's regex then splits them in 3 */
        for (int s = 0; s < 2 && !k; s++) {
            size_t wl = strlen(special_words[s]);
            if (c == '<' && i + 1 < n && v[i + 1] == '|' && match_ascii(v + i + 2, n - i - 2, special_words[s])
                && i + 4 + wl <= n && v[i + 2 + wl] == '|' && v[i + 3 + wl] == '>') {
                if (!bpe_cps(t, w, v + i, 2, out, bytes, bytes_cap) ||
                    !bpe_cps(t, w, v + i + 2, wl, out, bytes, bytes_cap) ||
                    !bpe_cps(t, w, v + i + 2 + wl, 2, out, bytes, bytes_cap))
                    return 0;
                k = 4 + wl;
            }
        }
        if (k) { i += k; continue; }
        if (c == '\'' && i + 1 < n) {
            uint32_t d = v[i + 1], e = i + 2 < n ? v[i + 2] : 0;
            if (d == 's' || d == 't' || d == 'm' || d == 'd') k = 2;
            else if ((d == 'r' && e == 'e') || (d == 'v' && e == 'e') || (d == 'l' && e == 'l')) k = 3;
        }
        if (!k) {
            if (t2i_uc_is_letter(c)) {
                k = 1;
                while (i + k < n && t2i_uc_is_letter(v[i + k])) k++;
            } else if (t2i_uc_is_number(c)) {
                k = 1;
            } else if (t2i_uc_is_space(c)) {
                i++;
                continue;
            } else {
                k = 1;
                while (i + k < n && is_other(v[i + k])) k++;
            }
        }
        if (!bpe_cps(t, w, v + i, k, out, bytes, bytes_cap)) return 0;
        i += k;
    }
    return 1;
}

/* ---- the whole pipeline --------------------------------------------------- */

typedef struct tok_state {
    const t2i_clip_tokenizer *t;
    t2i_cp_buf norm, tmp;
    bpe_work work;
    char *bytes; size_t bytes_cap;
} tok_state;

static void tok_state_free(tok_state *s)
{
    free(s->norm.v); free(s->tmp.v);
    free(s->work.sym); free(s->work.heap);
    free(s->bytes);
}

/* A run of normalized text between normalized added tokens: pre-tokenize + BPE. */
static int pretokenize_segment(void *ctx, const uint32_t *v, size_t n, t2i_id_buf *out)
{
    tok_state *s = ctx;
    return pretokenize(s->t, &s->work, v, n, out, &s->bytes, &s->bytes_cap);
}

/* A run of raw text between added tokens: normalize, cut normalized added
 * tokens, pre-tokenize + BPE. */
static int encode_segment(void *ctx, const uint32_t *v, size_t n, t2i_id_buf *out)
{
    tok_state *s = ctx;
    if (n == 0) return 1;
    s->norm.n = 0;
    if (!normalize(v, n, &s->norm, &s->tmp)) return 0;
    return t2i_added_split(&s->t->added, s->norm.v, s->norm.n, 1, pretokenize_segment, s, out);
}

static t2i_status encode(const t2i_clip_tokenizer *t, const char *utf8, t2i_id_buf *out)
{
    if (!t || !utf8) return t2i_fail(T2I_ERR_INVALID_ARG, "clip tokenizer: NULL argument");
    tok_state s;
    memset(&s, 0, sizeof s);
    s.t = t;
    t2i_status st = t2i_added_encode(&t->added, utf8, "clip tokenizer", encode_segment, &s, out);
    tok_state_free(&s);
    return st;
}

t2i_status t2i_clip_tokenize(const t2i_clip_tokenizer *t, const char *utf8, int32_t **ids, int *n)
{
    if (!ids || !n) return t2i_fail(T2I_ERR_INVALID_ARG, "clip tokenizer: NULL argument");
    *ids = NULL; *n = 0;
    t2i_id_buf out = {0};
    t2i_status st = encode(t, utf8, &out);
    if (st != T2I_OK) { free(out.v); return st; }
    if (out.n == 0) { free(out.v); return T2I_OK; }
    *ids = out.v;
    *n = (int)out.n;
    return T2I_OK;
}

t2i_status t2i_clip_encode_padded(const t2i_clip_tokenizer *t, const char *utf8, int32_t *out_ids,
                                  int max_len)
{
    if (!out_ids || max_len < 2)
        return t2i_fail(T2I_ERR_INVALID_ARG, "clip tokenizer: max_len %d < 2 or NULL output", max_len);
    t2i_id_buf ids = {0};
    t2i_status st = encode(t, utf8, &ids);
    if (st != T2I_OK) { free(ids.v); return st; }
    t2i_frame_ids(&ids, t->bos, t->eos, t->pad, out_ids, max_len);
    free(ids.v);
    return T2I_OK;
}

int32_t t2i_clip_bos(const t2i_clip_tokenizer *t) { return t->bos; }
int32_t t2i_clip_eos(const t2i_clip_tokenizer *t) { return t->eos; }
int32_t t2i_clip_pad(const t2i_clip_tokenizer *t) { return t->pad; }
int t2i_clip_max_length(const t2i_clip_tokenizer *t) { return t->max_length; }
int t2i_clip_vocab_size(const t2i_clip_tokenizer *t) { return t->vocab.count; }

/* ---- loading -------------------------------------------------------------- */

/* GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the
 * others, in order, to U+0100 onwards. */
static void init_byte_symbols(t2i_clip_tokenizer *t)
{
    int n = 0;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        uint32_t cp = printable ? (uint32_t)b : 256u + (uint32_t)n++;
        char buf[8];
        int k = t2i_utf8_encode(cp, buf);
        t->byte_id[b] = t2i_vocab_find(&t->vocab, buf, (size_t)k);
        memcpy(buf + k, "</w>", 4);
        t->byte_end_id[b] = t2i_vocab_find(&t->vocab, buf, (size_t)k + 4);
    }
}

static t2i_status add_token(t2i_clip_tokenizer *t, const char *content, int32_t id_hint, int normalized,
                            int *index, const char *where)
{
    size_t len = strlen(content);
    if (len == 0) return t2i_fail(T2I_ERR_FORMAT, "%s: empty token", where);
    t2i_cp_buf raw = {0};
    t2i_status st = t2i_utf8_to_cps(content, len, &raw, where);
    if (st != T2I_OK) { free(raw.v); return st; }
    int a = t2i_added_find(&t->added, raw.v, raw.n);
    if (a >= 0) {   /* the same content again: the later flags win */
        t->added.v[a].normalized = normalized;
        free(raw.v);
        if (index) *index = a;
        return T2I_OK;
    }
    if (t->added.n >= T2I_MAX_ADDED_TOKENS) {
        free(raw.v);
        return t2i_fail(T2I_ERR_FORMAT, "%s: more than %d added tokens", where, T2I_MAX_ADDED_TOKENS);
    }
    int32_t id = t2i_vocab_find(&t->vocab, content, len);
    if (id < 0) id = id_hint;
    if (id < 0) {
        free(raw.v);
        return t2i_fail(T2I_ERR_FORMAT, "%s: token \"%.60s\" is not in vocab.json", where, content);
    }
    a = t->added.n;
    if (!t2i_added_append(&t->added, raw.v, raw.n, id, normalized)) {
        free(raw.v);
        return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", where);
    }
    if (index) *index = a;
    return T2I_OK;
}

/* bos/eos/unk/pad: a string, or an AddedToken object {"content", "normalized"}. */
static t2i_status special_token(t2i_clip_tokenizer *t, const cJSON *tc, const cJSON *stm, const char *key,
                                const char *dflt, const char *tc_path, const char *stm_path,
                                int32_t *id)
{
    const char *content;
    int normalized, index = -1;
    char what[600];
    T2I_TRY(t2i_special_token(tc, stm, key, dflt, tc_path, stm_path, &content, &normalized, what, sizeof what));
    T2I_TRY(add_token(t, content, -1, normalized, &index, what));
    *id = index;   /* resolved to the id after added_tokens_decoder is read */
    return T2I_OK;
}

static t2i_status add_decoder_token(void *ctx, const char *content, int32_t id, int normalized, const char *where)
{
    return add_token(ctx, content, id, normalized, NULL, where);
}

/* Added tokens with normalized = true are matched in normalized text: store
 * their normalized form. */
static t2i_status normalize_added(t2i_clip_tokenizer *t)
{
    for (int a = 0; a < t->added.n; a++) {
        t2i_added_token *at = &t->added.v[a];
        if (!at->normalized) continue;
        t2i_cp_buf out = {0}, tmp = {0};
        int ok = normalize(at->cps, (size_t)at->n, &out, &tmp);
        free(tmp.v);
        if (!ok || out.n == 0) { free(out.v); return t2i_fail(T2I_ERR_NOMEM, "clip tokenizer: out of memory"); }
        free(at->cps);
        at->cps = out.v;
        at->n = (int)out.n;
    }
    return T2I_OK;
}

static t2i_status load_config(t2i_clip_tokenizer *t, const char *dir)
{
    char tc_path[4096], stm_path[4096];
    snprintf(tc_path, sizeof tc_path, "%s/tokenizer_config.json", dir);
    snprintf(stm_path, sizeof stm_path, "%s/special_tokens_map.json", dir);
    cJSON *tc = NULL, *stm = NULL;
    t2i_status st = t2i_read_optional_json(tc_path, MAX_FILE_BYTES, &tc);
    if (st == T2I_OK) st = t2i_read_optional_json(stm_path, MAX_FILE_BYTES, &stm);
    int32_t bos = -1, eos = -1, unk = -1, pad = -1;
    if (st == T2I_OK) st = special_token(t, tc, stm, "bos_token", "<|startoftext|>", tc_path, stm_path, &bos);
    if (st == T2I_OK) st = special_token(t, tc, stm, "eos_token", "<|endoftext|>", tc_path, stm_path, &eos);
    if (st == T2I_OK) st = special_token(t, tc, stm, "unk_token", "<|endoftext|>", tc_path, stm_path, &unk);
    if (st == T2I_OK) st = special_token(t, tc, stm, "pad_token", "<|endoftext|>", tc_path, stm_path, &pad);
    if (st == T2I_OK) st = t2i_added_tokens_decoder(tc, tc_path, add_decoder_token, t);
    if (st == T2I_OK) {
        t->bos = t->added.v[bos].id; t->eos = t->added.v[eos].id;
        t->unk = t->added.v[unk].id; t->pad = t->added.v[pad].id;
        t->max_length = 77;
        const cJSON *ml = tc ? cJSON_GetObjectItemCaseSensitive(tc, "model_max_length") : NULL;
        if (cJSON_IsNumber(ml) && ml->valuedouble >= 2 && ml->valuedouble <= 1 << 20)
            t->max_length = (int)ml->valuedouble;
        st = normalize_added(t);
    }
    cJSON_Delete(tc);
    cJSON_Delete(stm);
    return st;
}

/* ---- tokenizer.json ---------------------------------------------------------- */

/* What CLIPTokenizer's tokenizer.json holds; anything else changes the ids. */
#define CLIP_NORMALIZER \
    "{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFC\"},{\"type\":\"Replace\"," \
    "\"pattern\":{\"Regex\":\"\\\\s+\"},\"content\":\" \"},{\"type\":\"Lowercase\"}]}"
#define CLIP_PRETOKENIZER \
    "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":" \
    "\"<\\\\|startoftext\\\\|>|<\\\\|endoftext\\\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\\\p{L}]+|[\\\\p{N}]|[^\\\\s\\\\p{L}\\\\p{N}]+\"}," \
    "\"behavior\":\"Removed\",\"invert\":true},{\"type\":\"ByteLevel\",\"add_prefix_space\":false," \
    "\"use_regex\":true}]}"

static t2i_status put_vocab(void *ctx, const char *token, int32_t id)
{
    t2i_clip_tokenizer *t = ctx;
    if (!t2i_vocab_put(&t->vocab, token, strlen(token), id))
        return t2i_fail(T2I_ERR_NOMEM, "clip tokenizer: out of memory");
    return T2I_OK;
}

/* model.merges: "a b" strings (tokenizers < 0.20) or ["a", "b"] pairs. */
static t2i_status json_merges(t2i_clip_tokenizer *t, const cJSON *model, const char *path)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(model, "merges"), *e;
    if (!cJSON_IsArray(list)) return t2i_fail(T2I_ERR_FORMAT, "%s: key 'model.merges': missing or not a list", path);
    T2I_TRY(alloc_merges(t, (size_t)cJSON_GetArraySize(list), path));
    char *joined = NULL; size_t joined_cap = 0;
    int32_t rank = 0;
    t2i_status st = T2I_OK;
    cJSON_ArrayForEach(e, list) {
        char where[4200];
        snprintf(where, sizeof where, "%s: key 'model.merges[%d]'", path, rank);
        const char *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        if (cJSON_IsString(e)) {
            const char *sp = strchr(e->valuestring, ' ');
            if (sp && !strchr(sp + 1, ' ')) {
                a = e->valuestring, na = (size_t)(sp - a);
                b = sp + 1, nb = strlen(b);
            }
        } else if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 && cJSON_IsString(cJSON_GetArrayItem(e, 0)) &&
                   cJSON_IsString(cJSON_GetArrayItem(e, 1))) {
            a = cJSON_GetArrayItem(e, 0)->valuestring, na = strlen(a);
            b = cJSON_GetArrayItem(e, 1)->valuestring, nb = strlen(b);
        }
        if (!a) { st = t2i_fail(T2I_ERR_FORMAT, "%s: expected \"left right\" or [left, right]", where); break; }
        if ((st = add_merge(t, a, na, b, nb, rank++, &joined, &joined_cap, where)) != T2I_OK) break;
    }
    free(joined);
    return st;
}

static t2i_status add_json_token(void *ctx, const char *content, int32_t id, int normalized, const char *where)
{
    return add_token(ctx, content, id, normalized, NULL, where);
}

/* The vocabulary, merges and added tokens of tokenizer.json, its settings
 * checked against the pipeline of this file. */
static t2i_status load_tokenizer_json(t2i_clip_tokenizer *t, const cJSON *root, const char *path)
{
    const cJSON *model;
    int32_t max_id;
    T2I_TRY(t2i_hf_json_model(root, path, "BPE", &model));
    T2I_TRY(t2i_hf_json_expect(model, path, "end_of_word_suffix", "\"</w>\"", NULL));
    T2I_TRY(t2i_hf_json_expect(model, path, "continuing_subword_prefix", "\"\"", NULL));
    T2I_TRY(t2i_hf_json_expect(model, path, "dropout", "null", NULL));
    T2I_TRY(t2i_hf_json_expect(model, path, "fuse_unk", "false", NULL));
    T2I_TRY(t2i_hf_json_expect(model, path, "byte_fallback", "false", NULL));
    T2I_TRY(t2i_hf_json_expect(model, path, "ignore_merges", "false", NULL));
    T2I_TRY(t2i_hf_json_expect(root, path, "normalizer", CLIP_NORMALIZER, NULL));
    T2I_TRY(t2i_hf_json_expect(root, path, "pre_tokenizer", CLIP_PRETOKENIZER, "trim_offsets"));
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    if (!t2i_vocab_init(&t->vocab, (size_t)cJSON_GetArraySize(vocab)))
        return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", path);
    T2I_TRY(t2i_hf_json_vocab(model, path, put_vocab, t, &max_id));
    T2I_TRY(json_merges(t, model, path));
    return t2i_hf_json_added(root, path, add_json_token, t);
}

t2i_status t2i_clip_tokenizer_load(const char *dir, t2i_clip_tokenizer **out)
{
    if (!dir || !out) return t2i_fail(T2I_ERR_INVALID_ARG, "t2i_clip_tokenizer_load: NULL argument");
    *out = NULL;
    t2i_clip_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return t2i_fail(T2I_ERR_NOMEM, "clip tokenizer: out of memory");
    char vocab_path[4096], merges_path[4096], json_path[4096];
    snprintf(vocab_path, sizeof vocab_path, "%s/vocab.json", dir);
    snprintf(merges_path, sizeof merges_path, "%s/merges.txt", dir);
    cJSON *root = NULL;
    t2i_status st = T2I_OK;
    /* vocab.json + merges.txt when present (the Hub layout), else tokenizer.json */
    if (access(vocab_path, F_OK) != 0) {
        st = t2i_hf_json_open(dir, json_path, sizeof json_path, &root);
        if (st == T2I_OK && !root)
            st = t2i_fail(T2I_ERR_IO, "%s: no vocabulary: neither vocab.json + merges.txt nor tokenizer.json", dir);
    }
    if (st != T2I_OK) goto fail;
    if (root) {
        if ((st = load_tokenizer_json(t, root, json_path)) != T2I_OK) goto fail;
    } else {
        if ((st = load_vocab(t, vocab_path)) != T2I_OK) goto fail;
        if ((st = load_merges(t, merges_path)) != T2I_OK) goto fail;
    }
    init_byte_symbols(t);
    if ((st = load_config(t, dir)) != T2I_OK) goto fail;
    cJSON_Delete(root);
    *out = t;
    return T2I_OK;
fail:
    cJSON_Delete(root);
    t2i_clip_tokenizer_destroy(t);
    return st;
}

void t2i_clip_tokenizer_destroy(t2i_clip_tokenizer *t)
{
    if (!t) return;
    t2i_added_free(&t->added);
    t2i_vocab_free(&t->vocab);
    free(t->merges);
    free(t);
}
t2i_status t2i_clip_set_pad(t2i_clip_tokenizer *t, const char *content)
{
    /* as a pad_token entry of tokenizer_config.json: an added token, cut out
     * of the raw text, whose id pads */
    int index = -1;
    T2I_TRY(add_token(t, content, -1, 0, &index, "pad token"));
    t->pad = t->added.v[index].id;
    return T2I_OK;
}
