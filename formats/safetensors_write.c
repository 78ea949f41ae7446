/*
 * safetensors_write.c — the safetensors writer (see safetensors.h): tensors
 * and metadata are copied in, then written in one go with the header's
 * tensors in sorted-name order, data offsets following that order.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/error.h"
#include "formats/safetensors.h"
#include "formats/safetensors_internal.h"
#include "base/strbuf.h"

typedef struct st_wtensor {
    char *name;
    t2i_dtype dtype;
    int ndim;
    int64_t shape[T2I_ST_MAX_DIMS];
    void *data;
    size_t nbytes;
} st_wtensor;

struct t2i_st_writer {
    st_wtensor *t;
    int count, cap;
    t2i_st_meta *meta;
    int nmeta, meta_cap;
};

t2i_status t2i_st_writer_create(t2i_st_writer **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? T2I_OK : t2i_fail(T2I_ERR_NOMEM, "safetensors writer: out of memory");
}

void t2i_st_writer_destroy(t2i_st_writer *w)
{
    if (!w) return;
    for (int i = 0; i < w->count; i++) { free(w->t[i].name); free(w->t[i].data); }
    for (int i = 0; i < w->nmeta; i++) { free(w->meta[i].key); free(w->meta[i].value); }
    free(w->t);
    free(w->meta);
    free(w);
}

t2i_status t2i_st_writer_add(t2i_st_writer *w, const char *name, t2i_dtype dtype, int ndim,
                             const int64_t *shape, const void *data)
{
    if (!name || !t2i_st_utf8_valid((const unsigned char *)name, strlen(name)) ||
        strcmp(name, "__metadata__") == 0)
        return t2i_fail(T2I_ERR_INVALID_ARG, "safetensors writer: invalid tensor name");
    if ((unsigned)dtype >= T2I_DTYPE_COUNT || ndim < 0 || ndim > T2I_ST_MAX_DIMS)
        return t2i_fail(T2I_ERR_INVALID_ARG, "safetensors writer: tensor \"%s\": bad dtype or ndim",
                        name);
    uint64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (shape[i] && numel > (uint64_t)INT64_MAX / (uint64_t)shape[i]))
            return t2i_fail(T2I_ERR_INVALID_ARG, "safetensors writer: tensor \"%s\": bad shape",
                            name);
        numel *= (uint64_t)shape[i];
    }
    size_t esize = t2i_dtype_size(dtype);
    if (numel > SIZE_MAX / esize)
        return t2i_fail(T2I_ERR_INVALID_ARG, "safetensors writer: tensor \"%s\": too large", name);
    size_t nbytes = (size_t)numel * esize;
    if (nbytes && !data)
        return t2i_fail(T2I_ERR_INVALID_ARG, "safetensors writer: tensor \"%s\": no data", name);
    for (int i = 0; i < w->count; i++)
        if (strcmp(w->t[i].name, name) == 0)
            return t2i_fail(T2I_ERR_INVALID_ARG, "safetensors writer: duplicate tensor \"%s\"",
                            name);
    if (w->count == w->cap) {
        int cap = w->cap ? 2 * w->cap : 16;
        st_wtensor *t = realloc(w->t, (size_t)cap * sizeof *t);
        if (!t) return t2i_fail(T2I_ERR_NOMEM, "safetensors writer: out of memory");
        w->t = t;
        w->cap = cap;
    }
    st_wtensor *t = &w->t[w->count];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    t->data = malloc(nbytes ? nbytes : 1);
    if (!t->name || !t->data) {
        free(t->name);
        free(t->data);
        return t2i_fail(T2I_ERR_NOMEM, "safetensors writer: out of memory for \"%s\"", name);
    }
    if (nbytes) memcpy(t->data, data, nbytes);
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    t->nbytes = nbytes;
    w->count++;
    return T2I_OK;
}

t2i_status t2i_st_writer_set_metadata(t2i_st_writer *w, const char *key, const char *value)
{
    if (!key || !value || !t2i_st_utf8_valid((const unsigned char *)key, strlen(key)) ||
        !t2i_st_utf8_valid((const unsigned char *)value, strlen(value)))
        return t2i_fail(T2I_ERR_INVALID_ARG, "safetensors writer: metadata must be UTF-8");
    char *v = strdup(value);
    if (!v) return t2i_fail(T2I_ERR_NOMEM, "safetensors writer: out of memory");
    for (int i = 0; i < w->nmeta; i++)
        if (strcmp(w->meta[i].key, key) == 0) {
            free(w->meta[i].value);
            w->meta[i].value = v;
            return T2I_OK;
        }
    if (w->nmeta == w->meta_cap) {
        int cap = w->meta_cap ? 2 * w->meta_cap : 8;
        t2i_st_meta *m = realloc(w->meta, (size_t)cap * sizeof *m);
        if (!m) { free(v); return t2i_fail(T2I_ERR_NOMEM, "safetensors writer: out of memory"); }
        w->meta = m;
        w->meta_cap = cap;
    }
    char *k = strdup(key);
    if (!k) { free(v); return t2i_fail(T2I_ERR_NOMEM, "safetensors writer: out of memory"); }
    w->meta[w->nmeta].key = k;
    w->meta[w->nmeta].value = v;
    w->nmeta++;
    return T2I_OK;
}

static void sb_u64(t2i_sbuf *b, uint64_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
    t2i_sb_put(b, tmp, (size_t)n);
}

/* A JSON string literal; UTF-8 passes through, control bytes are escaped. */
static void sb_json_str(t2i_sbuf *b, const char *s)
{
    t2i_sb_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') { esc[0] = '\\'; esc[1] = (char)c; t2i_sb_put(b, esc, 2); }
        else if (c < 0x20) { snprintf(esc, sizeof esc, "\\u%04x", c); t2i_sb_put(b, esc, 6); }
        else t2i_sb_put(b, (const char *)&c, 1);
    }
    t2i_sb_put(b, "\"", 1);
}

static int cmp_wtensor_ptr(const void *a, const void *b)
{
    return strcmp((*(const st_wtensor *const *)a)->name, (*(const st_wtensor *const *)b)->name);
}

t2i_status t2i_st_writer_save(const t2i_st_writer *w, const char *path)
{
    t2i_status s = T2I_OK;
    t2i_sbuf h = {0};
    FILE *fp = NULL;
    const st_wtensor **order = malloc((w->count ? (size_t)w->count : 1) * sizeof *order);
    if (!order) return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", path);
    for (int i = 0; i < w->count; i++) order[i] = &w->t[i];
    qsort(order, (size_t)w->count, sizeof *order, cmp_wtensor_ptr);

    t2i_sb_str(&h, "{");
    if (w->nmeta) {
        t2i_sb_str(&h, "\"__metadata__\":{");
        for (int i = 0; i < w->nmeta; i++) {
            if (i) t2i_sb_str(&h, ",");
            sb_json_str(&h, w->meta[i].key);
            t2i_sb_str(&h, ":");
            sb_json_str(&h, w->meta[i].value);
        }
        t2i_sb_str(&h, "}");
    }
    uint64_t off = 0;
    for (int i = 0; i < w->count; i++) {
        const st_wtensor *t = order[i];
        if (i || w->nmeta) t2i_sb_str(&h, ",");
        sb_json_str(&h, t->name);
        t2i_sb_str(&h, ":{\"dtype\":\"");
        t2i_sb_str(&h, t2i_dtype_name(t->dtype));
        t2i_sb_str(&h, "\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++) {
            if (d) t2i_sb_str(&h, ",");
            sb_u64(&h, (uint64_t)t->shape[d]);
        }
        t2i_sb_str(&h, "],\"data_offsets\":[");
        sb_u64(&h, off);
        t2i_sb_str(&h, ",");
        off += t->nbytes;
        sb_u64(&h, off);
        t2i_sb_str(&h, "]}");
    }
    t2i_sb_str(&h, "}");
    while (!h.oom && h.n % 8) t2i_sb_str(&h, " ");
    if (h.oom) { s = t2i_fail(T2I_ERR_NOMEM, "%s: out of memory for the header", path); goto done; }

    fp = fopen(path, "wb");
    if (!fp) { s = t2i_fail(T2I_ERR_IO, "%s: cannot create: %s", path, strerror(errno)); goto done; }
    unsigned char len[8];
    for (int i = 0; i < 8; i++) len[i] = (unsigned char)((uint64_t)h.n >> (8 * i));
    int ok = fwrite(len, 1, 8, fp) == 8 && fwrite(h.p, 1, h.n, fp) == h.n;
    for (int i = 0; ok && i < w->count; i++)
        ok = fwrite(order[i]->data, 1, order[i]->nbytes, fp) == order[i]->nbytes;
    int err = errno;
    if (fclose(fp) != 0 && ok) { ok = 0; err = errno; }
    if (!ok) {
        remove(path);
        s = t2i_fail(T2I_ERR_IO, "%s: write failed: %s", path, strerror(err));
    }
done:
    free(h.p);
    free(order);
    return s;
}
