/*
 * vocab.c — tokenizer files and the string -> id table (see vocab.h).
 */
#include "tokenizer/vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

static uint32_t hash_bytes(const char *s, size_t n)
{
    uint32_t h = 2166136261u;   /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

uint32_t t2i_table_size_for(size_t n)
{
    uint32_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    return cap;
}

int t2i_vocab_init(t2i_vocab *v, size_t n)
{
    v->mask = t2i_table_size_for(n) - 1;
    v->slots = malloc(((size_t)v->mask + 1) * sizeof *v->slots);
    if (!v->slots) return 0;
    for (size_t i = 0; i <= v->mask; i++) v->slots[i].id = -1;
    return 1;
}

void t2i_vocab_free(t2i_vocab *v)
{
    free(v->pool);
    free(v->slots);
    v->pool = NULL;
    v->slots = NULL;
}

int32_t t2i_vocab_find(const t2i_vocab *v, const char *s, size_t n)
{
    for (uint32_t i = hash_bytes(s, n) & v->mask;; i = (i + 1) & v->mask) {
        const t2i_vocab_slot *e = &v->slots[i];
        if (e->id < 0) return -1;
        if (e->len == n && memcmp(v->pool + e->off, s, n) == 0) return e->id;
    }
}

int t2i_vocab_put(t2i_vocab *v, const char *s, size_t n, int32_t id)
{
    uint32_t i = hash_bytes(s, n) & v->mask;
    for (;; i = (i + 1) & v->mask) {
        t2i_vocab_slot *e = &v->slots[i];
        if (e->id < 0) break;
        if (e->len == n && memcmp(v->pool + e->off, s, n) == 0) { e->id = id; return 1; }
    }
    if (v->pool_len + n > v->pool_cap) {
        size_t cap = v->pool_cap ? v->pool_cap : 1 << 16;
        while (cap < v->pool_len + n) cap *= 2;
        char *p = realloc(v->pool, cap);
        if (!p) return 0;
        v->pool = p; v->pool_cap = cap;
    }
    memcpy(v->pool + v->pool_len, s, n);
    v->slots[i] = (t2i_vocab_slot){(uint32_t)v->pool_len, (uint32_t)n, id};
    v->pool_len += n;
    v->count++;
    return 1;
}

t2i_status t2i_read_file(const char *path, size_t max_bytes, char **out, size_t *len, int *missing)
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
            if (cap >= max_bytes) {
                free(buf); fclose(f);
                return t2i_fail(T2I_ERR_FORMAT, "%s: larger than %zu bytes", path, max_bytes);
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

t2i_status t2i_read_optional_json(const char *path, size_t max_bytes, cJSON **root)
{
    char *text; size_t len; int missing;
    *root = NULL;
    T2I_TRY(t2i_read_file(path, max_bytes, &text, &len, &missing));
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
