/*
 * strbuf.c — growable string with a sticky out-of-memory flag (see strbuf.h).
 */
#include "base/strbuf.h"

#include <stdlib.h>
#include <string.h>

void t2i_sb_put(t2i_sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->oom = 1; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

void t2i_sb_str(t2i_sbuf *b, const char *s) { t2i_sb_put(b, s, strlen(s)); }

char *t2i_sb_finish(t2i_sbuf *b)
{
    if (!b->oom && !b->p) t2i_sb_put(b, "", 0);
    if (b->oom) {
        free(b->p);
        return NULL;
    }
    return b->p;
}
