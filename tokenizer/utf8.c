/*
 * utf8.c — code-point / id buffers and strict UTF-8 (see utf8.h).
 */
#include "tokenizer/utf8.h"

#include <stdlib.h>

#include "base/error.h"

int t2i_cp_push(t2i_cp_buf *b, uint32_t c)
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

int t2i_id_push(t2i_id_buf *b, int32_t id)
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

int t2i_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
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

int t2i_utf8_encode(uint32_t c, char out[4])
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

t2i_status t2i_utf8_to_cps(const char *s, size_t n, t2i_cp_buf *out, const char *what)
{
    for (size_t i = 0; i < n;) {
        uint32_t c;
        int len = t2i_utf8_decode((const unsigned char *)s + i, n - i, &c);
        if (!len)
            return t2i_fail(T2I_ERR_INVALID_ARG, "%s: invalid UTF-8 at byte offset %zu (0x%02X)", what, i,
                            (unsigned)(unsigned char)s[i]);
        if (!t2i_cp_push(out, c)) return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", what);
        i += (size_t)len;
    }
    return T2I_OK;
}
