/*
 * added_tokens.h — the "added tokens" of a HuggingFace tokenizer folder
 * (special tokens such as <|endoftext|> or [CLS], and tokenizer_config.json's
 * added_tokens_decoder), shared by clip_bpe.c and wordpiece.c: their list,
 * how they are cut out of text, how tokenizer_config.json /
 * special_tokens_map.json spell them, and how a padded id sequence is framed.
 *
 * An added token is matched as a whole code-point sequence, leftmost-longest,
 * case-sensitively; those with `normalized` false are cut from the raw text,
 * those with `normalized` true from the normalized text (the tokenizer stores
 * their normalized form). Which id a token gets and when a second spelling
 * of the same content is accepted stays with each tokenizer.
 */
#ifndef T2I_ADDED_TOKENS_H
#define T2I_ADDED_TOKENS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include "t2i.h"
#include "tokenizer/utf8.h"

#define T2I_MAX_ADDED_TOKENS 4096

typedef struct t2i_added_token {
    uint32_t *cps;   /* content (normalized when `normalized`) */
    int n;
    int32_t id;
    int normalized;  /* 1, 0, or -1: never matched */
} t2i_added_token;

typedef struct t2i_added_tokens { t2i_added_token *v; int n; } t2i_added_tokens;   /* starts as {0} */

void t2i_added_free(t2i_added_tokens *a);   /* the list and every token's cps */

/* The index of the token whose content is exactly cps[0..n), or -1. */
int t2i_added_find(const t2i_added_tokens *a, const uint32_t *cps, size_t n);

/* Append a token owning cps (malloc'd); 0 when out of memory (cps is then
 * still the caller's). */
int t2i_added_append(t2i_added_tokens *a, uint32_t *cps, size_t n, int32_t id, int normalized);

/* The index of the longest token of the given kind starting at v[0..n), or -1. */
int t2i_added_match(const t2i_added_tokens *a, const uint32_t *v, size_t n, int normalized);

/* Walk v[0..n): every token of the given kind found (leftmost-longest)
 * appends its id to out, and every non-empty run of text before, between
 * and after them goes to segment(ctx, run, len, out). Returns
 * 0 as soon as segment or a push fails (out of memory). */
typedef int (*t2i_segment_fn)(void *ctx, const uint32_t *v, size_t n, t2i_id_buf *out);
int t2i_added_split(const t2i_added_tokens *a, const uint32_t *v, size_t n, int normalized,
                    t2i_segment_fn segment, void *ctx, t2i_id_buf *out);

/* The text -> ids driver of both tokenizers: check utf8 (at most
 * T2I_MAX_PROMPT_BYTES, valid UTF-8, else T2I_ERR_INVALID_ARG naming
 * "prompt"), decode it, and t2i_added_split the raw text with the
 * non-normalized tokens, appending to out. A failing segment ->
 * T2I_ERR_NOMEM "<who>: out of memory"; more than INT_MAX ids ->
 * T2I_ERR_INVALID_ARG. */
#define T2I_MAX_PROMPT_BYTES (64u << 20)
t2i_status t2i_added_encode(const t2i_added_tokens *a, const char *utf8, const char *who,
                            t2i_segment_fn segment, void *ctx, t2i_id_buf *out);

/* A special token (key "bos_token", "unk_token", ...) as transformers reads
 * it: tokenizer_config.json (tc) wins over special_tokens_map.json (stm);
 * the value is a string or an AddedToken object {"content", "normalized"};
 * absent or null in both -> dflt, not normalized. tc / stm may be NULL.
 * Sets *content (borrowed from the JSON or dflt), *normalized, and writes
 * "where: key" naming its source into what[0..what_size). A value of another
 * type -> T2I_ERR_FORMAT naming the file and key. */
t2i_status t2i_special_token(const cJSON *tc, const cJSON *stm, const char *key, const char *dflt,
                             const char *tc_path, const char *stm_path, const char **content,
                             int *normalized, char *what, size_t what_size);

/* tokenizer_config.json's "added_tokens_decoder" ({"id": {"content", "normalized",
 * "special"}}; normalized defaults to !special): add(ctx, content, id,
 * normalized, path) for each entry. Absent -> nothing; not an object or an
 * entry without an integer key and a string content -> T2I_ERR_FORMAT
 * naming path; the first error of add is returned. */
typedef t2i_status (*t2i_add_token_fn)(void *ctx, const char *content, int32_t id, int normalized,
                                       const char *where);
t2i_status t2i_added_tokens_decoder(const cJSON *tc, const char *path, t2i_add_token_fn add, void *ctx);

/* The padded encoding of `ids`: first, ids truncated to max_len - 2, last,
 * then pad up to max_len, written to out[0..max_len); max_len >= 2. */
void t2i_frame_ids(const t2i_id_buf *ids, int32_t first, int32_t last, int32_t pad, int32_t *out,
                   int max_len);

#endif
