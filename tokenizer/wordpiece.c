/*
 * wordpiece.c — BERT WordPiece: loading vocab.txt / tokenizer_config.json and
 * the text → ids pipeline described in wordpiece.h.
 *
 * Data layout: the vocabulary is tokenizer/vocab.h's string → id table,
 * sized for the line count. Text is handled as arrays of code points; a word is
 * encoded to UTF-8 once, with the byte offset of every code point, and the
 * greedy longest-match loop looks up byte ranges (with "##" in front after
 * the first piece). Words are at most 100 code points, so the quadratic
 * search is bounded.
 */
#include "tokenizer/wordpiece.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/hf_json.h"
#include "tokenizer/bert_unicode.h"
#include "tokenizer/text_norm.h"
#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocab.h"

#define MAX_FILE_BYTES     (64u << 20)   /* vocab.txt / JSON size limit */
#define MAX_CHARS_PER_WORD 100           /* tokenizers' WordPiece default */

struct t2i_wordpiece {
    t2i_vocab vocab; int n_lines;
    t2i_added_tokens added;
    int32_t unk, sep, pad, cls;
    int lower, strip, chinese;
    int max_length;
};

/* ---- vocabulary ------------------------------------------------------------- */

/* vocab.txt: one token per line (split at "\n", a final line without one
 * counts), trailing white space removed (Rust's trim_end: "\r" included). */
static t2i_status load_vocab(t2i_wordpiece *t, const char *path)
{
    char *text; size_t len;
    T2I_TRY(t2i_read_file(path, MAX_FILE_BYTES, &text, &len, NULL));
    size_t lines = 0;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    if (len && text[len - 1] != '\n') lines++;
    t2i_status st = T2I_OK;
    if (lines == 0 || lines > INT32_MAX / 2) {
        st = t2i_fail(T2I_ERR_FORMAT, "%s: %s", path, lines ? "too many lines" : "empty vocabulary");
        goto done;
    }
    if (!t2i_vocab_init(&t->vocab, lines)) { st = t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", path); goto done; }
    int32_t id = 0;
    for (size_t pos = 0; pos < len; id++) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + 1;
        size_t keep = 0;   /* bytes up to the end of the last non-white code point */
        for (size_t i = 0; i < n;) {
            uint32_t c;
            int k = t2i_utf8_decode((const unsigned char *)line + i, n - i, &c);
            if (!k) {
                st = t2i_fail(T2I_ERR_FORMAT, "%s:%d: invalid UTF-8 at byte %zu of the line", path, id + 1, i);
                goto done;
            }
            i += (size_t)k;
            if (!t2i_bert_is_white(c)) keep = i;
        }
        if (!t2i_vocab_put(&t->vocab, line, keep, id)) { st = t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", path); goto done; }
    }
    t->n_lines = id;
done:
    free(text);
    return st;
}

/* ---- normalization ------------------------------------------------------------ */

/* BertNormalizer on in[0..n) into out (cleared first); a and b are scratch. */
static int normalize(const t2i_wordpiece *t, const uint32_t *in, size_t n, t2i_cp_buf *out, t2i_cp_buf *a, t2i_cp_buf *b)
{
    a->n = 0;
    for (size_t i = 0; i < n; i++) {   /* clean_text (always on in BertTokenizer), Chinese chars */
        uint32_t c = in[i];
        if (t2i_bert_is_removed(c)) continue;
        if (t2i_bert_is_to_space(c)) c = ' ';
        if (t->chinese && t2i_bert_is_chinese(c)) {
            if (!t2i_cp_push(a, ' ') || !t2i_cp_push(a, c) || !t2i_cp_push(a, ' ')) return 0;
        } else if (!t2i_cp_push(a, c)) {
            return 0;
        }
    }
    t2i_cp_buf *cur = a;
    if (t->strip) {
        b->n = 0;
        if (!t2i_nfd_append(a->v, a->n, b)) return 0;
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
        for (int j = 0; j < k; j++) if (!t2i_cp_push(out, lo[j])) return 0;
    }
    return 1;
}

/* ---- pre-tokenizer and WordPiece ---------------------------------------------- */

typedef struct tok_state {
    const t2i_wordpiece *t;
    t2i_cp_buf norm, a, b;
    char *bytes; size_t bytes_cap;     /* a word's UTF-8, then room for "##" + a piece */
    size_t off[MAX_CHARS_PER_WORD + 1];
    t2i_id_buf pieces;
} tok_state;

static void tok_state_free(tok_state *s)
{
    free(s->norm.v); free(s->a.v); free(s->b.v);
    free(s->bytes);
    free(s->pieces.v);
}

/* WordPiece of one word v[0..n), n > 0; ids appended to out. */
static int wordpiece(const t2i_wordpiece *t, tok_state *s, const uint32_t *v, size_t n, t2i_id_buf *out)
{
    if (n > MAX_CHARS_PER_WORD) return t2i_id_push(out, t->unk);
    if (6 + 8 * n > s->bytes_cap) {
        char *p = realloc(s->bytes, 6 + 8 * n);
        if (!p) return 0;
        s->bytes = p; s->bytes_cap = 6 + 8 * n;
    }
    char *w = s->bytes, *key = s->bytes + 4 * n + 4;   /* the word; "##" + a piece */
    s->off[0] = 0;
    for (size_t i = 0; i < n; i++) s->off[i + 1] = s->off[i] + (size_t)t2i_utf8_encode(v[i], w + s->off[i]);
    s->pieces.n = 0;
    for (size_t start = 0; start < n;) {
        int32_t id = -1;
        size_t end = n;
        for (; end > start; end--) {
            size_t len = s->off[end] - s->off[start];
            if (start == 0) {
                id = t2i_vocab_find(&t->vocab, w, len);
            } else {
                memcpy(key, "##", 2);
                memcpy(key + 2, w + s->off[start], len);
                id = t2i_vocab_find(&t->vocab, key, len + 2);
            }
            if (id >= 0) break;
        }
        if (id < 0) return t2i_id_push(out, t->unk);
        if (!t2i_id_push(&s->pieces, id)) return 0;
        start = end;
    }
    for (size_t i = 0; i < s->pieces.n; i++)
        if (!t2i_id_push(out, s->pieces.v[i])) return 0;
    return 1;
}

/* BertPreTokenizer: white space splits (dropped), punctuation is isolated. */
static int pretokenize(const t2i_wordpiece *t, tok_state *s, const uint32_t *v, size_t n, t2i_id_buf *out)
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

/* A run of normalized text between normalized added tokens: pre-tokenize + WordPiece. */
static int pretokenize_segment(void *ctx, const uint32_t *v, size_t n, t2i_id_buf *out)
{
    tok_state *s = ctx;
    return pretokenize(s->t, s, v, n, out);
}

/* A run of raw text between added tokens: normalize, cut normalized added
 * tokens, pre-tokenize + WordPiece. */
static int encode_segment(void *ctx, const uint32_t *v, size_t n, t2i_id_buf *out)
{
    tok_state *s = ctx;
    if (n == 0) return 1;
    if (!normalize(s->t, v, n, &s->norm, &s->a, &s->b)) return 0;
    return t2i_added_split(&s->t->added, s->norm.v, s->norm.n, 1, pretokenize_segment, s, out);
}

static t2i_status encode(const t2i_wordpiece *t, const char *utf8, t2i_id_buf *out)
{
    if (!t || !utf8) return t2i_fail(T2I_ERR_INVALID_ARG, "wordpiece tokenizer: NULL argument");
    tok_state s;
    memset(&s, 0, sizeof s);
    s.t = t;
    t2i_status st = t2i_added_encode(&t->added, utf8, "wordpiece tokenizer", encode_segment, &s, out);
    tok_state_free(&s);
    return st;
}

t2i_status t2i_wordpiece_tokenize(const t2i_wordpiece *t, const char *utf8, int32_t **ids, int *n)
{
    if (!ids || !n) return t2i_fail(T2I_ERR_INVALID_ARG, "wordpiece tokenizer: NULL argument");
    *ids = NULL; *n = 0;
    t2i_id_buf out = {0};
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
    t2i_id_buf ids = {0};
    t2i_status st = encode(t, utf8, &ids);
    if (st != T2I_OK) { free(ids.v); return st; }
    t2i_frame_ids(&ids, t->cls, t->sep, t->pad, out_ids, max_len);
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
    t2i_cp_buf raw = {0};
    t2i_status st = t2i_utf8_to_cps(content, len, &raw, where);
    if (st != T2I_OK) { free(raw.v); return st; }
    int32_t id = t2i_vocab_find(&t->vocab, content, len);
    if (id < 0) id = id_hint;
    int a = t2i_added_find(&t->added, raw.v, raw.n);
    if (a >= 0) {
        t->added.v[a].normalized = normalized;
        free(raw.v);
        if (id_out) *id_out = t->added.v[a].id;
        return T2I_OK;
    }
    if (id < 0) {
        free(raw.v);
        return t2i_fail(T2I_ERR_FORMAT, "%s: token \"%.60s\" is not in vocab.txt", where, content);
    }
    if (t->added.n >= T2I_MAX_ADDED_TOKENS) {
        free(raw.v);
        return t2i_fail(T2I_ERR_FORMAT, "%s: more than %d added tokens", where, T2I_MAX_ADDED_TOKENS);
    }
    if (!t2i_added_append(&t->added, raw.v, raw.n, id, normalized)) {
        free(raw.v);
        return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", where);
    }
    if (id_out) *id_out = id;
    return T2I_OK;
}

/* unk/sep/pad/cls/mask: a string, or an AddedToken object {"content", "normalized"}. */
static t2i_status special_token(t2i_wordpiece *t, const cJSON *tc, const cJSON *stm, const char *key,
                                const char *dflt, const char *tc_path, const char *stm_path, int32_t *id)
{
    const char *content;
    int normalized;
    char what[600];
    T2I_TRY(t2i_special_token(tc, stm, key, dflt, tc_path, stm_path, &content, &normalized, what, sizeof what));
    return add_token(t, content, -1, normalized, id, what);
}

static t2i_status add_decoder_token(void *ctx, const char *content, int32_t id, int normalized, const char *where)
{
    return add_token(ctx, content, id, normalized, NULL, where);
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
    for (int a = 0; a < t->added.n; a++) {
        t2i_added_token *at = &t->added.v[a];
        if (!at->normalized) continue;
        t2i_cp_buf out = {0}, x = {0}, y = {0};
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

/* norm: tokenizer.json's BertNormalizer, which then decides the flags; NULL
 * for a vocab.txt folder (tokenizer_config.json decides). */
static t2i_status load_config(t2i_wordpiece *t, const char *dir, const cJSON *norm)
{
    char tc_path[4096], stm_path[4096];
    snprintf(tc_path, sizeof tc_path, "%s/tokenizer_config.json", dir);
    snprintf(stm_path, sizeof stm_path, "%s/special_tokens_map.json", dir);
    cJSON *tc = NULL, *stm = NULL;
    t2i_status st = t2i_read_optional_json(tc_path, MAX_FILE_BYTES, &tc);
    if (st == T2I_OK) st = t2i_read_optional_json(stm_path, MAX_FILE_BYTES, &stm);
    int32_t mask;
    if (st == T2I_OK) st = special_token(t, tc, stm, "pad_token", "[PAD]", tc_path, stm_path, &t->pad);
    if (st == T2I_OK) st = special_token(t, tc, stm, "unk_token", "[UNK]", tc_path, stm_path, &t->unk);
    if (st == T2I_OK) st = special_token(t, tc, stm, "cls_token", "[CLS]", tc_path, stm_path, &t->cls);
    if (st == T2I_OK) st = special_token(t, tc, stm, "sep_token", "[SEP]", tc_path, stm_path, &t->sep);
    if (st == T2I_OK) st = special_token(t, tc, stm, "mask_token", "[MASK]", tc_path, stm_path, &mask);
    if (st == T2I_OK) st = t2i_added_tokens_decoder(tc, tc_path, add_decoder_token, t);
    if (st == T2I_OK) {
        const cJSON *src = norm ? norm : tc;
        t->lower = json_flag(src, norm ? "lowercase" : "do_lower_case", 1);
        t->strip = json_flag(src, "strip_accents", t->lower);   /* null: follows lower-casing */
        t->chinese = json_flag(src, norm ? "handle_chinese_chars" : "tokenize_chinese_chars", 1);
        const cJSON *ml = tc ? cJSON_GetObjectItemCaseSensitive(tc, "model_max_length") : NULL;
        t->max_length = cJSON_IsNumber(ml) && ml->valuedouble >= 2 && ml->valuedouble <= 1 << 20
                            ? (int)ml->valuedouble : 0;
        st = normalize_added(t);
    }
    cJSON_Delete(tc);
    cJSON_Delete(stm);
    return st;
}

/* ---- tokenizer.json ------------------------------------------------------------ */

static t2i_status put_vocab(void *ctx, const char *token, int32_t id)
{
    t2i_wordpiece *t = ctx;
    if (!t2i_vocab_put(&t->vocab, token, strlen(token), id))
        return t2i_fail(T2I_ERR_NOMEM, "wordpiece tokenizer: out of memory");
    return T2I_OK;
}

static t2i_status add_json_token(void *ctx, const char *content, int32_t id, int normalized, const char *where)
{
    return add_token(ctx, content, id, normalized, NULL, where);
}

/* model.vocab and added_tokens; the model, normalizer and pre-tokenizer
 * settings checked against this file's pipeline (clean_text is always on). */
static t2i_status load_tokenizer_json(t2i_wordpiece *t, const cJSON *root, const char *path, const cJSON **norm)
{
    const cJSON *model;
    int32_t max_id;
    T2I_TRY(t2i_hf_json_model(root, path, "WordPiece", &model));
    T2I_TRY(t2i_hf_json_expect(model, path, "continuing_subword_prefix", "\"##\"", NULL));
    T2I_TRY(t2i_hf_json_expect(model, path, "max_input_chars_per_word", "100", NULL));
    T2I_TRY(t2i_hf_json_expect(root, path, "pre_tokenizer", "{\"type\":\"BertPreTokenizer\"}", NULL));
    *norm = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(*norm, "type");
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "BertNormalizer") != 0)
        return t2i_fail(T2I_ERR_UNSUPPORTED, "%s: key 'normalizer.type': unsupported normalizer \"%.40s\" "
                        "(supported here: BertNormalizer)", path, cJSON_IsString(type) ? type->valuestring : "?");
    T2I_TRY(t2i_hf_json_expect(*norm, path, "clean_text", "true", NULL));
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    if (!t2i_vocab_init(&t->vocab, (size_t)cJSON_GetArraySize(vocab)))
        return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", path);
    T2I_TRY(t2i_hf_json_vocab(model, path, put_vocab, t, &max_id));
    t->n_lines = max_id + 1;
    return t2i_hf_json_added(root, path, add_json_token, t);
}

t2i_status t2i_wordpiece_load(const char *dir, t2i_wordpiece **out)
{
    if (!dir || !out) return t2i_fail(T2I_ERR_INVALID_ARG, "t2i_wordpiece_load: NULL argument");
    *out = NULL;
    t2i_wordpiece *t = calloc(1, sizeof *t);
    if (!t) return t2i_fail(T2I_ERR_NOMEM, "wordpiece tokenizer: out of memory");
    char path[4096], json_path[4096];
    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    cJSON *root = NULL;
    const cJSON *norm = NULL;
    t2i_status st = T2I_OK;
    /* vocab.txt when present (the Hub layout), else tokenizer.json */
    if (access(path, F_OK) != 0) {
        st = t2i_hf_json_open(dir, json_path, sizeof json_path, &root);
        if (st == T2I_OK && !root)
            st = t2i_fail(T2I_ERR_IO, "%s: no vocabulary: neither vocab.txt nor tokenizer.json", dir);
    }
    if (st == T2I_OK) st = root ? load_tokenizer_json(t, root, json_path, &norm) : load_vocab(t, path);
    if (st == T2I_OK) st = load_config(t, dir, norm);
    cJSON_Delete(root);
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
    t2i_added_free(&t->added);
    t2i_vocab_free(&t->vocab);
    free(t);
}