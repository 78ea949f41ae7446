/*
 * vocab.h — what both tokenizers (clip_bpe.c, wordpiece.c) need to read a
 * tokenizer folder: size-limited file reading, optional JSON files, and the
 * vocabulary itself, a string -> id hash table.
 *
 * The table is open-addressing with linear probing, FNV-1a hashed, sized to
 * a power of two at least twice the expected entry count (it never grows, so
 * the caller must not insert more than that); its keys live in one string
 * pool. Keys are byte strings (not NUL-terminated), ids are >= 0.
 */
#ifndef T2I_TOKENIZER_VOCAB_H
#define T2I_TOKENIZER_VOCAB_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include "t2i.h"

typedef struct t2i_vocab_slot { uint32_t off, len; int32_t id; } t2i_vocab_slot;   /* id < 0: empty */

typedef struct t2i_vocab {
    char *pool; size_t pool_len, pool_cap;
    t2i_vocab_slot *slots; uint32_t mask;
    int count;   /* distinct keys */
} t2i_vocab;

/* The smallest power of two >= 16 and >= 2n: a hash table size for n entries. */
uint32_t t2i_table_size_for(size_t n);

/* Allocate an empty table for up to n entries (v zeroed before); 0 when out
 * of memory. t2i_vocab_free releases it (accepts a zeroed one). */
int t2i_vocab_init(t2i_vocab *v, size_t n);
void t2i_vocab_free(t2i_vocab *v);

/* The id of s[0..n), or -1. */
int32_t t2i_vocab_find(const t2i_vocab *v, const char *s, size_t n);

/* Insert, or overwrite the id of an existing key (a later duplicate wins,
 * as in Python's json and in tokenizers). 0 when out of memory. */
int t2i_vocab_put(t2i_vocab *v, const char *s, size_t n, int32_t id);

/* Read a whole file into *out (malloc'd, NUL-terminated, *len bytes without
 * the NUL). When `missing` is non-NULL a file that cannot be opened is no
 * error: *missing = 1 and *out = NULL. Errors: T2I_ERR_IO (cannot open,
 * read error), T2I_ERR_FORMAT (larger than max_bytes), T2I_ERR_NOMEM; each
 * names the path. */
t2i_status t2i_read_file(const char *path, size_t max_bytes, char **out, size_t *len, int *missing);

/* An optional JSON file holding an object: *root = NULL when it does not
 * exist, else the parsed object (cJSON_Delete it). Malformed JSON or a
 * non-object -> T2I_ERR_FORMAT naming the path. */
t2i_status t2i_read_optional_json(const char *path, size_t max_bytes, cJSON **root);

#endif
