/*
 * utf8.h — the text plumbing both tokenizers (clip_bpe.c, wordpiece.c) share:
 * growable arrays of code points and of token ids, and strict UTF-8
 * decoding / encoding.
 *
 * Tokenizers work on arrays of code points (uint32_t) so that Unicode
 * properties, normalization and splitting never re-decode; a piece is turned
 * back into UTF-8 bytes only for vocabulary lookups. A buffer starts as
 * {0} and owns its `v` (free it with free()); pushing doubles the capacity
 * from 64 entries.
 */
#ifndef T2I_TOKENIZER_UTF8_H
#define T2I_TOKENIZER_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include "t2i.h"

typedef struct t2i_cp_buf { uint32_t *v; size_t n, cap; } t2i_cp_buf;   /* code points */
typedef struct t2i_id_buf { int32_t *v; size_t n, cap; } t2i_id_buf;    /* token ids */

/* Append one entry; 0 when out of memory (the buffer is left unchanged). */
int t2i_cp_push(t2i_cp_buf *b, uint32_t c);
int t2i_id_push(t2i_id_buf *b, int32_t id);

/* Strict decoding (no overlongs, surrogates or values above U+10FFFF) of the
 * sequence starting s[0..n), n > 0. Returns its length (1..4), or 0 if
 * s[0..n) does not start a valid one. */
int t2i_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* UTF-8 of the code point c (at most U+10FFFF) into out; returns its length. */
int t2i_utf8_encode(uint32_t c, char out[4]);

/* Decode the whole string s[0..n), appending its code points to out. Invalid
 * UTF-8 -> T2I_ERR_INVALID_ARG naming `what` and the byte offset;
 * T2I_ERR_NOMEM. On error out may hold a prefix (the caller frees it). */
t2i_status t2i_utf8_to_cps(const char *s, size_t n, t2i_cp_buf *out, const char *what);

#endif
