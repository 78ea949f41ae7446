/*
 * strbuf.h — a growable NUL-terminated string for code that builds text
 * (infotext, style merging, the safetensors header).
 *
 * Appends never fail loudly: running out of memory sets the sticky `oom`
 * flag and later appends do nothing, so a writer appends everything and
 * checks `oom` once at the end. Start with `t2i_sbuf b = {0};`; b.p is NULL
 * until the first append, then always NUL-terminated; the caller owns b.p
 * (free() it).
 */
#ifndef T2I_STRBUF_H
#define T2I_STRBUF_H

#include <stddef.h>

typedef struct t2i_sbuf { char *p; size_t n, cap; int oom; } t2i_sbuf;

void t2i_sb_put(t2i_sbuf *b, const char *s, size_t n);   /* n bytes of s */
void t2i_sb_str(t2i_sbuf *b, const char *s);             /* a C string */

/* Hand over the string: b.p ("" when nothing was appended), or NULL after
 * freeing it when an append ran out of memory. */
char *t2i_sb_finish(t2i_sbuf *b);

#endif
