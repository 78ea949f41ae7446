/*
 * safetensors_internal.h — what the reader (safetensors.c) and the writer
 * (safetensors_write.c) share; not part of the API (that is safetensors.h).
 */
#ifndef T2I_SAFETENSORS_INTERNAL_H
#define T2I_SAFETENSORS_INTERNAL_H

#include <stddef.h>

/* One "__metadata__" entry; both strings malloc'd. */
typedef struct t2i_st_meta { char *key, *value; } t2i_st_meta;

/* Strict UTF-8 (as Rust's str::from_utf8, which the reference implementation
 * applies to the header): 1 if s[0..n) is valid. */
int t2i_st_utf8_valid(const unsigned char *s, size_t n);

#endif
