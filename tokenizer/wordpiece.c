/*
 * wordpiece.c — BERT WordPiece: loading vocab.txt / tokenizer_config.json and
 * the text → ids pipeline described in wordpiece.h.
 *
 * Data layout: the vocabulary is an open-addressing hash table (UTF-8 string
 * → id) whose keys live in one string pool, sized to a power of two at least
 * twice the line count. Text is handled as arrays of code points; a word is
 * encoded to UTF-8 once, with the byte offset of every code point, and the
 * greedy longest-match loop looks up byte ranges (with "##" in front after
 * the first piece). Words are at most 100 code points, so the quadratic
 * search is bounded.
 */
#include "tokenizer/wordpiece.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/error.h"
#include "tokenizer/bert_unicode.h"
#include "tokenizer/unicode_tables.h"

#define MAX_FILE_BYTES     (64u << 20)   /* vocab.txt / JSON size limit */
#define MAX_TEXT_BYTES     (64u << 20)   /* prompt size limit */
#define MAX_ADDED_TOKENS   4096
#define MAX_CHARS_PER_WORD 100           /* tokenizers' WordPiece default */

typedef struct vocab_slot { uint32_t off, len; int32_t id; } vocab_slot;   /* id < 0: empty */

typedef struct added_token {
    uint32_t *cps;   /* content (normalized when `normalized`) */
    int n;
    int32_t id;
    int normalized;
} added_token;

struct t2i_wordpiece {
    char *pool; size_t pool_len, pool_cap;
    vocab_slot *vocab; uint32_t vocab_mask; int n_lines;
    added_token *added; int n_added;
    int32_t unk, sep, pad, cls;
    int lower, strip, chinese;
    int max_length;
};

/* ---- buffers, UTF-8 ---------------------------------------------------------- */

typedef struct { uint32_t *v; size_t n, cap; } cp_buf;
typedef struct { int32_t *v; size_t n, cap; } id_buf;

static int cp_push(cp_buf *b, uint32_t c)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        uint32_t *v = realloc(b->v, cap * sizeof *v);
        if (!v) return 0;
        b->v = v; b->cap = cap;
    }
    b->v[b->n++] = c;
    return 1;
}

static int id_push(id_buf *b, int32_t id)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        int32_t *v = realloc(b->v, cap * sizeof *v);
        if (!v) return 0;
        b->v = v; b->cap = cap;
    }
    b->v[b->n++] = id;
    return 1;
}

/* Strict decoding (no overlongs, surrogates or values above U+10FFFF).
 * Returns the sequence length, or 0 if s[0..n) does not start a valid one. */
static int utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80) { *cp = s[0]; return 1; }
    int len; uint32_t c, min;
    if ((s[0] & 0xE0) == 0xC0) { len = 2; c = s[0] & 0x1F; min = 0x80; }
    else if ((s[0] & 0xF0) == 0xE0) { len = 3; c = s[0] & 0x0F; min = 0x800; }
    else if ((s[0] & 0xF8) == 0xF0) { len = 4; c = s[0] & 0x07; min = 0x10000; }
    else return 0;
    if ((size_t)len > n) return 0;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    *cp = c;
    return len;
}

static int utf8_encode(uint32_t c, char out[4])
{
    if (c < 0x80) { out[0] = (char)c; return 1; }
    if (c < 0x800) { out[0] = (char)(0xC0 | (c >> 6)); out[1] = (char)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12)); out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F)); return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18)); out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F)); out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

static t2i_status utf8_to_cps(const char *s, size_t n, cp_buf *out, const char *what)
{
    for (size_t i = 0; i < n;) {
        uint32_t c;
        int len = utf8_decode((const unsigned char *)s + i, n - i, &c);
        if (!len)
            return t2i_fail(T2I_ERR_INVALID_ARG, "%s: invalid UTF-8 at byte offset %zu (0x%02X)", what, i,
                            (unsigned)(unsigned char)s[i]);
        if (!cp_push(out, c)) return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", what);
        i += (size_t)len;
    }
    return T2I_OK;
}

/* ---- vocabulary ------------------------------------------------------------- */

static uint32_t hash_bytes(const char *s, size_t n)
{
    uint32_t h = 2166136261u;   /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static int32_t vocab_find(const t2i_wordpiece *t, const char *s, size_t n)
{
    for (uint32_t i = hash_bytes(s, n) & t->vocab_mask;; i = (i + 1) & t->vocab_mask) {
        const vocab_slot *e = &t->vocab[i];
        if (e->id < 0) return -1;
        if (e->len == n && memcmp(t->pool + e->off, s, n) == 0) return e->id;
    }
}

/* Insert or overwrite: a later duplicate line wins, as in tokenizers. */
static int vocab_put(t2i_wordpiece *t, const char *s, size_t n, int32_t id)
{
    uint32_t i = hash_bytes(s, n) & t->vocab_mask;
    for (;; i = (i + 1) & t->vocab_mask) {
        vocab_slot *e = &t->vocab[i];
        if (e->id < 0) break;
        if (e->len == n && memcmp(t->pool + e->off, s, n) == 0) { e->id = id; return 1; }
    }
    if (t->pool_len + n > t->pool_cap) {
        size_t cap = t->pool_cap ? t->pool_cap : 1 << 16;
        while (cap < t->pool_len + n) cap *= 2;
        char *p = realloc(t->pool, cap);
        if (!p) return 0;
        t->pool = p; t->pool_cap = cap;
    }
    memcpy(t->pool + t->pool_len, s, n);
    t->vocab[i] = (vocab_slot){(uint32_t)t->pool_len, (uint32_t)n, id};
    t->pool_len += n;
    return 1;
}

static t2i_status read_file(const char *path, char **out, size_t *len, int *missing)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (missing) { *missing = 1; return T2I_OK; }
        return t2i_fail(T2I_ERR_IO, "%s: cannot open", path);
    }
    if (missing) *missing = 0;
    char *buf = NULL; size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_FILE_BYTES) {
                free(buf); fclose(f);
                return t2i_fail(T2I_ERR_FORMAT, "%s: larger than %u bytes", path, MAX_FILE_BYTES);
            }
            cap = cap ? cap * 2 : 1 << 16;
            char *p = realloc(buf, cap + 1);
            if (!p) { free(buf); fclose(f); return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", path); }
            buf = p;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) { free(buf); return t2i_fail(T2I_ERR_IO, "%s: read error", path); }
    buf[n] = '\0';
    *out = buf; *len = n;
    return T2I_OK;
}

/* vocab.txt: one token per line (split at "\n", a final line without one
 * counts), trailing white space removed (Rust's trim_end: "\r" included). */
static t2i_status load_vocab(t2i_wordpiece *t, const char *path)
{
    char *text; size_t len;
    T2I_TRY(read_file(path, &text, &len, NULL));
    size_t lines = 0;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    if (len && text[len - 1] != '\n') lines++;
    t2i_status st = T2I_OK;
    if (lines == 0 || lines > INT32_MAX / 2) {
        st = t2i_fail(T2I_ERR_FORMAT, "%s: %s", path, lines ? "too many lines" : "empty vocabulary");
        goto done;
    }
    uint32_t cap = 16;
    while (cap < 2 * lines) cap *= 2;
    t->vocab_mask = cap - 1;
    t->vocab = malloc((size_t)cap * sizeof *t->vocab);
    if (!t->vocab) { st = t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", path); goto done; }
    for (uint32_t i = 0; i < cap; i++) t->vocab[i].id = -1;
    int32_t id = 0;
    for (size_t pos = 0; pos < len; id++) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + 1;
        size_t keep = 0;   /* bytes up to the end of the last non-white code point */
        for (size_t i = 0; i < n;) {
            uint32_t c;
            int k = utf8_decode((const unsigned char *)line + i, n - i, &c);
            if (!k) {
                st = t2i_fail(T2I_ERR_FORMAT, "%s:%d: invalid UTF-8 at byte %zu of the line", path, id + 1, i);
                goto done;
            }
            i += (size_t)k;
            if (!t2i_bert_is_white(c)) keep = i;
        }
        if (!vocab_put(t, line, keep, id)) { st = t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", path); goto done; }
    }
    t->n_lines = id;
done:
    free(text);
    return st;
}

/* ---- normalization ------------------------------------------------------------ */

enum { S_BASE = 0xAC00, L_BASE = 0x1100, V_BASE = 0x1161, T_BASE = 0x11A7,
       L_COUNT = 19, V_COUNT = 21, T_COUNT = 28, N_COUNT = V_COUNT * T_COUNT,
       S_COUNT = L_COUNT * N_COUNT };

/* NFD of in[0..n) appended to out: full decomposition (Hangul included),
 * then canonical ordering of each run of non-starters. */
static int nfd(const uint32_t *in, size_t n, cp_buf *out)
{
    size_t base = out->n;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = in[i], d[T2I_UC_MAX_SEQ];
        if (c >= S_BASE && c < S_BASE + S_COUNT) {
            uint32_t s = c - S_BASE;
            if (!cp_push(out, L_BASE + s / N_COUNT) || !cp_push(out, V_BASE + (s % N_COUNT) / T_COUNT)) return 0;
            if (s % T_COUNT && !cp_push(out, T_BASE + s % T_COUNT)) return 0;
            continue;
        }
        int k = t2i_uc_decompose(c, d);
        if (!k) { if (!cp_push(out, c)) return 0; continue; }
        for (int j = 0; j < k; j++) if (!cp_push(out, d[j])) return 0;
    }
    uint32_t *v = out->v + base;
    for (size_t i = 1, m = out->n - base; i < m; i++) {   /* stable insertion sort by class */
        int cc = t2i_uc_ccc(v[i]);
        if (!cc) continue;
        uint32_t c = v[i];
        size_t j = i;
        while (j > 0 && t2i_uc_ccc(v[j - 1]) > cc) { v[j] = v[j - 1]; j--; }
        v[j] = c;
    }
    return 1;
}

/* BertNormalizer on in[0..n) into out (cleared first); a and b are scratch. */
static int normalize(const t2i_wordpiece *t, const uint32_t *in, size_t n, cp_buf *out, cp_buf *a, cp_buf *b)
{
    a->n = 0;
    for (size_t i = 0; i < n; i++) {   /* clean_text (always on in BertTokenizer), Chinese chars */
        uint32_t c = in[i];
        if (t2i_bert_is_removed(c)) continue;
        if (t2i_bert_is_to_space(c)) c = ' ';
        if (t->chinese && t2i_bert_is_chinese(c)) {
            if (!cp_push(a, ' ') || !cp_push(a, c) || !cp_push(a, ' ')) return 0;
        } else if (!cp_push(a, c)) {
            return 0;
        }
    }
    cp_buf *cur = a;
    if (t->strip) {
        b->n = 0;
        if (!nfd(a->v, a->n, b)) return 0;
        size_t w = 0;
        for (size_t i = 0; i < b->n; i++)
            if (!t2i_bert_is_mark_nonspacing(b->v[i])) b->v[w++] = b->v[i];
        b->n = w;
        cur = b;
    }
    out->n = 0;
    for (size_t i = 0; i < cur->n; i++) {
        uint32_t lo[T2I_UC_MAX_SEQ];
        int k = t->lower ? t2i_uc_lower(cur->v[i], lo) : (lo[0] = cur->v[i], 1);
        for (int j = 0; j < k; j++) if (!cp_push(out, lo[j])) return 0;
    }
    return 1;
}

/* ---- pre-tokenizer and WordPiece ---------------------------------------------- */

typedef struct tok_state {
    cp_buf norm, a, b;
    char *bytes; size_t bytes_cap;     /* a word's UTF-8, then room for "##" + a piece */
    size_t off[MAX_CHARS_PER_WORD + 1];
    id_buf pieces;
} tok_state;

static void tok_state_free(tok_state *s)
{
    free(s->norm.v); free(s->a.v); free(s->b.v);
    free(s->bytes);
    free(s->pieces.v);
}

/* WordPiece of one word v[0..n), n > 0; ids appended to out. */
static int wordpiece(const t2i_wordpiece *t, tok_state *s, const uint32_t *v, size_t n, id_buf *out)
{
    if (n > MAX_CHARS_PER_WORD) return id_push(out, t->unk);
    if (6 + 8 * n > s->bytes_cap) {
        char *p = realloc(s->bytes, 6 + 8 * n);
        if (!p) return 0;
        s->bytes = p; s->bytes_cap = 6 + 8 * n;
    }
    char *w = s->bytes, *key = s->bytes + 4 * n + 4;   /* the word; "##" + a piece */
    s->off[0] = 0;
    for (size_t i = 0; i < n; i++) s->off[i + 1] = s->off[i] + (size_t)utf8_encode(v[i], w + s->off[i]);
    s->pieces.n = 0;
    for (size_t start = 0; start < n;) {
        int32_t id = -1;
        size_t end = n;
        for (; end > start; end--) {
            size_t len = s->off[end] - s->off[start];
            if (start == 0) {
                id = vocab_find(t, w, len);
            } else {
                memcpy(key, "##", 2);
                memcpy(key + 2, w + s->off[start], len);
                id = vocab_find(t, key, len + 2);
            }
            if (id >= 0) break;
        }
        if (id < 0) return id_push(out, t->unk);
        if (!id_push(&s->pieces, id)) return 0;
        start = end;
    }
    for (size_t i = 0; i < s->pieces.n; i++)
        if (!id_push(out, s->pieces.v[i])) return 0;
    return 1;
}

/* BertPreTokenizer: white space splits (dropped), punctuation is isolated. */
static int pretokenize(const t2i_wordpiece *t, tok_state *s, const uint32_t *v, size_t n, id_buf *out)
{
    for (size_t i = 0; i < n;) {
        if (t2i_bert_is_white(v[i])) { i++; continue; }
        size_t k = 1;
        if (!t2i_bert_is_punct(v[i]))
            while (i + k < n && !t2i_bert_is_white(v[i + k]) && !t2i_bert_is_punct(v[i + k])) k++;
        if (!wordpiece(t, s, v + i, k, out)) return 0;
        i += k;
    }
    return 1;
}

/* The longest added token (of the given kind) starting at v[0..n), or -1. */
static int match_added(const t2i_wordpiece *t, const uint32_t *v, size_t n, int normalized)
{
    int best = -1;
    for (int a = 0; a < t->n_added; a++) {
        const added_token *at = &t->added[a];
        if (at->normalized != normalized || (size_t)at->n > n) continue;
        if (best >= 0 && at->n <= t->added[best].n) continue;
        if (memcmp(at->cps, v, (size_t)at->n * sizeof *v) == 0) best = a;
    }
    return best;
}

/* Normalize a raw segment, cut normalized added tokens, pre-tokenize + WordPiece. */
static int encode_segment(const t2i_wordpiece *t, tok_state *s, const uint32_t *v, size_t n, id_buf *out)
{
    if (n == 0) return 1;
    if (!normalize(t, v, n, &s->norm, &s->a, &s->b)) return 0;
    const uint32_t *nv = s->norm.v;
    size_t nn = s->norm.n, start = 0;
    for (size_t i = 0; i < nn;) {
        int a = match_added(t, nv + i, nn - i, 1);
        if (a < 0) { i++; continue; }
        if (!pretokenize(t, s, nv + start, i - start, out) || !id_push(out, t->added[a].id)) return 0;
        i += (size_t)t->added[a].n;
        start = i;
    }
    return pretokenize(t, s, nv + start, nn - start, out);
}

static t2i_status encode(const t2i_wordpiece *t, const char *utf8, id_buf *out)
{
    if (!t || !utf8) return t2i_fail(T2I_ERR_INVALID_ARG, "wordpiece tokenizer: NULL argument");
    size_t len = strlen(utf8);
    if (len > MAX_TEXT_BYTES)
        return t2i_fail(T2I_ERR_INVALID_ARG, "prompt: %zu bytes, more than the limit of %u", len, MAX_TEXT_BYTES);
    cp_buf text = {0};
    t2i_status st = utf8_to_cps(utf8, len, &text, "prompt");
    if (st != T2I_OK) { free(text.v); return st; }
    tok_state s;
    memset(&s, 0, sizeof s);
    int ok = 1;
    size_t start = 0;
    for (size_t i = 0; ok && i < text.n;) {
        int a = match_added(t, text.v + i, text.n - i, 0);
        if (a < 0) { i++; continue; }
        ok = encode_segment(t, &s, text.v + start, i - start, out) && id_push(out, t->added[a].id);
        i += (size_t)t->added[a].n;
        start = i;
    }
    if (ok) ok = encode_segment(t, &s, text.v + start, text.n - start, out);
    tok_state_free(&s);
    free(text.v);
    if (!ok) return t2i_fail(T2I_ERR_NOMEM, "wordpiece tokenizer: out of memory");
    if (out->n > INT_MAX) return t2i_fail(T2I_ERR_INVALID_ARG, "prompt: too many tokens");
    return T2I_OK;
}

t2i_status t2i_wordpiece_tokenize(const t2i_wordpiece *t, const char *utf8, int32_t **ids, int *n)
{
    if (!ids || !n) return t2i_fail(T2I_ERR_INVALID_ARG, "wordpiece tokenizer: NULL argument");
    *ids = NULL; *n = 0;
    id_buf out = {0};
    t2i_status st = encode(t, utf8, &out);
    if (st != T2I_OK || out.n == 0) { free(out.v); return st; }
    *ids = out.v;
    *n = (int)out.n;
    return T2I_OK;
}

t2i_status t2i_wordpiece_encode_padded(const t2i_wordpiece *t, const char *utf8, int32_t *out_ids, int max_len)
{
    if (!out_ids || max_len < 2)
        return t2i_fail(T2I_ERR_INVALID_ARG, "wordpiece tokenizer: max_len %d < 2 or NULL output", max_len);
    id_buf ids = {0};
    t2i_status st = encode(t, utf8, &ids);
    if (st != T2I_OK) { free(ids.v); return st; }
    size_t keep = ids.n < (size_t)max_len - 2 ? ids.n : (size_t)max_len - 2;
    out_ids[0] = t->cls;
    if (keep) memcpy(out_ids + 1, ids.v, keep * sizeof *out_ids);
    out_ids[keep + 1] = t->sep;
    for (size_t i = keep + 2; i < (size_t)max_len; i++) out_ids[i] = t->pad;
    free(ids.v);
    return T2I_OK;
}

int32_t t2i_wordpiece_cls(const t2i_wordpiece *t) { return t->cls; }
int32_t t2i_wordpiece_sep(const t2i_wordpiece *t) { return t->sep; }
int32_t t2i_wordpiece_pad(const t2i_wordpiece *t) { return t->pad; }
int32_t t2i_wordpiece_unk(const t2i_wordpiece *t) { return t->unk; }
int t2i_wordpiece_max_length(const t2i_wordpiece *t) { return t->max_length; }
int t2i_wordpiece_vocab_size(const t2i_wordpiece *t) { return t->n_lines; }

/* ---- tokenizer_config.json ------------------------------------------------------ */

/* Register an added token (or update the flags of an existing one with the
 * same content). id_hint is used when the content is not in vocab.txt. */
static t2i_status add_token(t2i_wordpiece *t, const char *content, int32_t id_hint, int normalized, int32_t *id_out,
                            const char *where)
{
    size_t len = strlen(content);
    if (len == 0) return t2i_fail(T2I_ERR_FORMAT, "%s: empty token", where);
    cp_buf raw = {0};
    t2i_status st = utf8_to_cps(content, len, &raw, where);
    if (st != T2I_OK) { free(raw.v); return st; }
    int32_t id = vocab_find(t, content, len);
    if (id < 0) id = id_hint;
    for (int a = 0; a < t->n_added; a++) {
        added_token *at = &t->added[a];
        if ((size_t)at->n == raw.n && !memcmp(at->cps, raw.v, raw.n * sizeof *raw.v)) {
            at->normalized = normalized;
            free(raw.v);
            if (id_out) *id_out = at->id;
            return T2I_OK;
        }
    }
    if (id < 0) {
        free(raw.v);
        return t2i_fail(T2I_ERR_FORMAT, "%s: token \"%.60s\" is not in vocab.txt", where, content);
    }
    if (t->n_added >= MAX_ADDED_TOKENS) {
        free(raw.v);
        return t2i_fail(T2I_ERR_FORMAT, "%s: more than %d added tokens", where, MAX_ADDED_TOKENS);
    }
    added_token *p = realloc(t->added, (size_t)(t->n_added + 1) * sizeof *p);
    if (!p) { free(raw.v); return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", where); }
    t->added = p;
    t->added[t->n_added++] = (added_token){raw.v, (int)raw.n, id, normalized};
    if (id_out) *id_out = id;
    return T2I_OK;
}

static t2i_status load_optional_json(const char *path, cJSON **root)
{
    char *text; size_t len; int missing;
    *root = NULL;
    T2I_TRY(read_file(path, &text, &len, &missing));
    if (missing) return T2I_OK;
    *root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!*root || !cJSON_IsObject(*root)) {
        cJSON_Delete(*root);
        *root = NULL;
        return t2i_fail(T2I_ERR_FORMAT, "%s: malformed JSON (expected an object)", path);
    }
    return T2I_OK;
}

/* unk/sep/pad/cls/mask: a string, or an AddedToken object {"content", "normalized"}. */
static t2i_status special_token(t2i_wordpiece *t, const cJSON *tc, const cJSON *stm, const char *key,
                                const char *dflt, const char *tc_path, const char *stm_path, int32_t *id)
{
    const cJSON *v = tc ? cJSON_GetObjectItemCaseSensitive(tc, key) : NULL;
    const char *where = tc_path;
    if (!v || cJSON_IsNull(v)) {
        v = stm ? cJSON_GetObjectItemCaseSensitive(stm, key) : NULL;
        where = stm_path;
    }
    const char *content = dflt;
    int normalized = 0;
    if (v && !cJSON_IsNull(v)) {
        const cJSON *c = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, "content") : v;
        if (!cJSON_IsString(c))
            return t2i_fail(T2I_ERR_FORMAT, "%s: %s is neither a string nor {\"content\": string}", where, key);
        content = c->valuestring;
        if (cJSON_IsObject(v)) normalized = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "normalized"));
    } else {
        where = "default special tokens";
    }
    char what[600];
    snprintf(what, sizeof what, "%s: %s", where, key);
    return add_token(t, content, -1, normalized, id, what);
}

static t2i_status load_added_tokens_decoder(t2i_wordpiece *t, const cJSON *tc, const char *path)
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
        T2I_TRY(add_token(t, c->valuestring, (int32_t)id, normalized, NULL, path));
    }
    return T2I_OK;
}

static int json_flag(const cJSON *tc, const char *key, int dflt)
{
    const cJSON *v = tc ? cJSON_GetObjectItemCaseSensitive(tc, key) : NULL;
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

/* Added tokens with normalized = true are matched in normalized text: store
 * their normalized form. */
static t2i_status normalize_added(t2i_wordpiece *t)
{
    for (int a = 0; a < t->n_added; a++) {
        added_token *at = &t->added[a];
        if (!at->normalized) continue;
        cp_buf out = {0}, x = {0}, y = {0};
        int ok = normalize(t, at->cps, (size_t)at->n, &out, &x, &y);
        free(x.v);
        free(y.v);
        if (!ok) { free(out.v); return t2i_fail(T2I_ERR_NOMEM, "wordpiece tokenizer: out of memory"); }
        free(at->cps);
        at->cps = out.v;
        at->n = (int)out.n;
        if (at->n == 0) at->normalized = -1;   /* normalizes to nothing: never matches */
    }
    return T2I_OK;
}

static t2i_status load_config(t2i_wordpiece *t, const char *dir)
{
    char tc_path[4096], stm_path[4096];
    snprintf(tc_path, sizeof tc_path, "%s/tokenizer_config.json", dir);
    snprintf(stm_path, sizeof stm_path, "%s/special_tokens_map.json", dir);
    cJSON *tc = NULL, *stm = NULL;
    t2i_status st = load_optional_json(tc_path, &tc);
    if (st == T2I_OK) st = load_optional_json(stm_path, &stm);
    int32_t mask;
    if (st == T2I_OK) st = special_token(t, tc, stm, "pad_token", "[PAD]", tc_path, stm_path, &t->pad);
    if (st == T2I_OK) st = special_token(t, tc, stm, "unk_token", "[UNK]", tc_path, stm_path, &t->unk);
    if (st == T2I_OK) st = special_token(t, tc, stm, "cls_token", "[CLS]", tc_path, stm_path, &t->cls);
    if (st == T2I_OK) st = special_token(t, tc, stm, "sep_token", "[SEP]", tc_path, stm_path, &t->sep);
    if (st == T2I_OK) st = special_token(t, tc, stm, "mask_token", "[MASK]", tc_path, stm_path, &mask);
    if (st == T2I_OK) st = load_added_tokens_decoder(t, tc, tc_path);
    if (st == T2I_OK) {
        t->lower = json_flag(tc, "do_lower_case", 1);
        t->strip = json_flag(tc, "strip_accents", t->lower);   /* null: follows lower-casing */
        t->chinese = json_flag(tc, "tokenize_chinese_chars", 1);
        const cJSON *ml = tc ? cJSON_GetObjectItemCaseSensitive(tc, "model_max_length") : NULL;
        t->max_length = cJSON_IsNumber(ml) && ml->valuedouble >= 2 && ml->valuedouble <= 1 << 20
                            ? (int)ml->valuedouble : 0;
        st = normalize_added(t);
    }
    cJSON_Delete(tc);
    cJSON_Delete(stm);
    return st;
}

t2i_status t2i_wordpiece_load(const char *dir, t2i_wordpiece **out)
{
    if (!dir || !out) return t2i_fail(T2I_ERR_INVALID_ARG, "t2i_wordpiece_load: NULL argument");
    *out = NULL;
    t2i_wordpiece *t = calloc(1, sizeof *t);
    if (!t) return t2i_fail(T2I_ERR_NOMEM, "wordpiece tokenizer: out of memory");
    char path[4096];
    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    t2i_status st = load_vocab(t, path);
    if (st == T2I_OK) st = load_config(t, dir);
    if (st != T2I_OK) {
        t2i_wordpiece_destroy(t);
        return st;
    }
    *out = t;
    return T2I_OK;
}

void t2i_wordpiece_destroy(t2i_wordpiece *t)
{
    if (!t) return;
    for (int a = 0; a < t->n_added; a++) free(t->added[a].cps);
    free(t->added);
    free(t->pool);
    free(t->vocab);
    free(t);
}
