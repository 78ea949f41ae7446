/*
 * safetensors.c — the mmap reader, with the reference implementation's
 * validation (see safetensors.h). The writer is safetensors_write.c, the
 * per-folder (possibly sharded) weight set safetensors_set.c.
 *
 * Reader: header bytes -> strict UTF-8 check -> cJSON tree -> one
 * t2i_st_tensor per entry (names copied) -> sort by offsets and check that
 * they tile the data section -> a second index sorted by name for lookups
 * (which also exposes duplicate names). The cJSON tree is freed before
 * returning; all strings live in the t2i_st_file.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "base/error.h"
#include "formats/safetensors.h"
#include "formats/safetensors_internal.h"

struct t2i_st_file {
    char *path;
    void *map;                 /* NULL when the file is empty of data */
    size_t map_size;
    t2i_st_tensor *tensors;    /* sorted by data offset */
    int count;
    const t2i_st_tensor **by_name;  /* into tensors, sorted by name */
    t2i_st_meta *meta;
    int nmeta;
};

/* Strict UTF-8 (as Rust's str::from_utf8): no overlongs, no surrogates,
 * nothing above U+10FFFF. */
int t2i_st_utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) { i++; continue; }
        size_t len; unsigned cp, min;
        if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; min = 0x80; }
        else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; min = 0x800; }
        else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; min = 0x10000; }
        else return 0;
        if (n - i < len) return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        i += len;
    }
    return 1;
}

/* ---- reader ----------------------------------------------------------- */

void t2i_st_close(t2i_st_file *f)
{
    if (!f) return;
    if (f->map) munmap(f->map, f->map_size);
    for (int i = 0; i < f->count; i++) free((char *)f->tensors[i].name);
    for (int i = 0; i < f->nmeta; i++) { free(f->meta[i].key); free(f->meta[i].value); }
    free(f->tensors);
    free(f->by_name);
    free(f->meta);
    free(f->path);
    free(f);
}

/* A JSON number that is an exact non-negative integer below 2^53. */
static int json_u64(const cJSON *j, uint64_t *out)
{
    if (!cJSON_IsNumber(j)) return 0;
    double d = j->valuedouble;
    if (!(d >= 0) || d >= 9007199254740992.0 || d != floor(d)) return 0;
    *out = (uint64_t)d;
    return 1;
}

/* Count children of object `o` named `key` (cJSON keeps duplicates). */
static int json_key_count(const cJSON *o, const char *key)
{
    int n = 0;
    for (const cJSON *c = o->child; c; c = c->next)
        if (c->string && strcmp(c->string, key) == 0) n++;
    return n;
}

typedef struct st_entry { uint64_t begin, end; int index; } st_entry;

static int cmp_entry(const void *a, const void *b)
{
    const st_entry *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

static int cmp_by_name(const void *a, const void *b)
{
    return strcmp((*(const t2i_st_tensor *const *)a)->name,
                  (*(const t2i_st_tensor *const *)b)->name);
}

static int cmp_meta(const void *a, const void *b)
{
    return strcmp(((const t2i_st_meta *)a)->key, ((const t2i_st_meta *)b)->key);
}

/* Parse the metadata object into f->meta (sorted by key). */
static t2i_status parse_metadata(t2i_st_file *f, const cJSON *m)
{
    if (cJSON_IsNull(m)) return T2I_OK;
    if (!cJSON_IsObject(m))
        return t2i_fail(T2I_ERR_FORMAT, "%s: __metadata__ is not an object", f->path);
    int n = cJSON_GetArraySize(m);
    f->meta = calloc(n ? (size_t)n : 1, sizeof *f->meta);
    if (!f->meta) return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", f->path);
    for (const cJSON *c = m->child; c; c = c->next) {
        if (!cJSON_IsString(c))
            return t2i_fail(T2I_ERR_FORMAT, "%s: __metadata__ value \"%s\" is not a string",
                            f->path, c->string);
        t2i_st_meta *e = &f->meta[f->nmeta];
        e->key = strdup(c->string);
        e->value = strdup(c->valuestring);
        f->nmeta++;
        if (!e->key || !e->value) return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", f->path);
    }
    qsort(f->meta, (size_t)f->nmeta, sizeof *f->meta, cmp_meta);
    for (int i = 1; i < f->nmeta; i++)
        if (strcmp(f->meta[i - 1].key, f->meta[i].key) == 0)
            return t2i_fail(T2I_ERR_FORMAT, "%s: duplicate __metadata__ key \"%s\"",
                            f->path, f->meta[i].key);
    return T2I_OK;
}

/* Fill tensor `t` from header entry `e`; offsets go to *begin and *end. */
static t2i_status parse_entry(const char *path, const cJSON *e, t2i_st_tensor *t,
                              uint64_t *begin, uint64_t *end)
{
    const char *name = e->string;
    if (!cJSON_IsObject(e))
        return t2i_fail(T2I_ERR_FORMAT, "%s: tensor \"%s\": entry is not an object", path, name);
    static const char *const fields[] = {"dtype", "shape", "data_offsets"};
    for (int k = 0; k < 3; k++) {
        int n = json_key_count(e, fields[k]);
        if (n != 1)
            return t2i_fail(T2I_ERR_FORMAT, "%s: tensor \"%s\": %s field \"%s\"", path, name,
                            n ? "duplicate" : "missing", fields[k]);
    }
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");

    if (!cJSON_IsString(dt))
        return t2i_fail(T2I_ERR_FORMAT, "%s: tensor \"%s\": dtype is not a string", path, name);
    int d = t2i_dtype_from_name(dt->valuestring);
    if (d < 0) {
        static const char *const known_elsewhere[] = {"U16", "U32", "U64", "F8_E4M3",
                                                      "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3",
                                                      "F6_E3M2", "C64"};
        for (size_t k = 0; k < sizeof known_elsewhere / sizeof *known_elsewhere; k++)
            if (strcmp(dt->valuestring, known_elsewhere[k]) == 0)
                return t2i_fail(T2I_ERR_UNSUPPORTED, "%s: tensor \"%s\": dtype %s is not supported",
                                path, name, dt->valuestring);
        return t2i_fail(T2I_ERR_FORMAT, "%s: tensor \"%s\": unknown dtype \"%.32s\"", path,
                        name, dt->valuestring);
    }
    t->dtype = (t2i_dtype)d;

    if (!cJSON_IsArray(sh))
        return t2i_fail(T2I_ERR_FORMAT, "%s: tensor \"%s\": shape is not an array", path, name);
    int ndim = cJSON_GetArraySize(sh);
    if (ndim > T2I_ST_MAX_DIMS)
        return t2i_fail(T2I_ERR_UNSUPPORTED, "%s: tensor \"%s\": %d dimensions (at most %d)",
                        path, name, ndim, T2I_ST_MAX_DIMS);
    t->ndim = ndim;
    uint64_t numel = 1;
    int overflow = 0;
    int i = 0;
    for (const cJSON *c = sh->child; c; c = c->next, i++) {
        uint64_t v;
        if (!json_u64(c, &v))
            return t2i_fail(T2I_ERR_FORMAT,
                            "%s: tensor \"%s\": shape[%d] is not a non-negative integer", path,
                            name, i);
        t->shape[i] = (int64_t)v;
        if (v != 0 && numel > UINT64_MAX / v) overflow = 1;
        else numel *= v;
    }
    /* The reference folds with checked_mul in order, so [2^40, 2^40, 0]
     * overflows there too. */
    if (overflow)
        return t2i_fail(T2I_ERR_FORMAT, "%s: tensor \"%s\": shape product overflows", path, name);
    size_t esize = t2i_dtype_size(t->dtype);
    if (numel > UINT64_MAX / esize || numel * esize > SIZE_MAX)
        return t2i_fail(T2I_ERR_FORMAT, "%s: tensor \"%s\": byte size overflows", path, name);
    t->nbytes = (size_t)(numel * esize);

    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 || !json_u64(off->child, begin) ||
        !json_u64(off->child->next, end))
        return t2i_fail(T2I_ERR_FORMAT,
                        "%s: tensor \"%s\": data_offsets is not [begin, end] of integers", path,
                        name);
    return T2I_OK;
}

static t2i_status parse_header(t2i_st_file *f, const unsigned char *hdr, uint64_t n,
                               uint64_t data_size)
{
    const char *path = f->path;
    if (!t2i_st_utf8_valid(hdr, (size_t)n))
        return t2i_fail(T2I_ERR_FORMAT, "%s: header is not valid UTF-8", path);
    if (n == 0 || hdr[0] != '{')
        return t2i_fail(T2I_ERR_FORMAT, "%s: header does not start with '{'", path);
    if (memchr(hdr, 0, (size_t)n))
        return t2i_fail(T2I_ERR_FORMAT, "%s: header contains a NUL byte", path);

    char *text = malloc((size_t)n + 1);
    if (!text) return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory for the header", path);
    memcpy(text, hdr, (size_t)n);
    text[n] = 0;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    t2i_status s = T2I_OK;
    st_entry *ent = NULL;
    if (!root) {
        size_t at = end ? (size_t)(end - text) : 0;
        s = t2i_fail(T2I_ERR_FORMAT, "%s: header is not valid JSON (near byte %zu)", path, at);
        goto done;
    }
    if (!cJSON_IsObject(root)) {
        s = t2i_fail(T2I_ERR_FORMAT, "%s: header is not a JSON object", path);
        goto done;
    }

    int nmeta_keys = json_key_count(root, "__metadata__");
    if (nmeta_keys > 1) {
        s = t2i_fail(T2I_ERR_FORMAT, "%s: duplicate __metadata__", path);
        goto done;
    }
    if (nmeta_keys && (s = parse_metadata(f, cJSON_GetObjectItemCaseSensitive(root, "__metadata__"))))
        goto done;

    int total = cJSON_GetArraySize(root) - nmeta_keys;
    f->tensors = calloc(total ? (size_t)total : 1, sizeof *f->tensors);
    f->by_name = calloc(total ? (size_t)total : 1, sizeof *f->by_name);
    ent = calloc(total ? (size_t)total : 1, sizeof *ent);
    if (!f->tensors || !f->by_name || !ent) {
        s = t2i_fail(T2I_ERR_NOMEM, "%s: out of memory for %d tensors", path, total);
        goto done;
    }
    t2i_st_tensor *tmp = calloc(total ? (size_t)total : 1, sizeof *tmp);
    if (!tmp) {
        s = t2i_fail(T2I_ERR_NOMEM, "%s: out of memory for %d tensors", path, total);
        goto done;
    }
    int k = 0;
    for (const cJSON *e = root->child; e; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) continue;
        if ((s = parse_entry(path, e, &tmp[k], &ent[k].begin, &ent[k].end))) break;
        if (!(tmp[k].name = strdup(e->string))) {
            s = t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", path);
            break;
        }
        ent[k].index = k;
        k++;
    }
    if (s) {
        for (int i = 0; i < k; i++) free((char *)tmp[i].name);
        free(tmp);
        goto done;
    }
    /* File order = sorted by offsets; ownership of names moves to f. */
    qsort(ent, (size_t)total, sizeof *ent, cmp_entry);
    for (int i = 0; i < total; i++) f->tensors[i] = tmp[ent[i].index];
    f->count = total;
    free(tmp);

    uint64_t pos = 0;
    const unsigned char *data = hdr + n;
    for (int i = 0; i < total; i++) {
        t2i_st_tensor *t = &f->tensors[i];
        if (ent[i].begin != pos || ent[i].end < ent[i].begin) {
            s = t2i_fail(T2I_ERR_FORMAT,
                         "%s: tensor \"%s\": data_offsets [%llu, %llu] %s (expected begin %llu)",
                         path, t->name, (unsigned long long)ent[i].begin,
                         (unsigned long long)ent[i].end,
                         ent[i].end < ent[i].begin ? "are reversed"
                         : ent[i].begin < pos      ? "overlap the previous tensor"
                                                   : "leave a gap after the previous tensor",
                         (unsigned long long)pos);
            goto done;
        }
        if (ent[i].end - ent[i].begin != t->nbytes) {
            s = t2i_fail(T2I_ERR_FORMAT,
                         "%s: tensor \"%s\": byte size %llu does not match shape x dtype "
                         "(%zu bytes)",
                         path, t->name, (unsigned long long)(ent[i].end - ent[i].begin),
                         t->nbytes);
            goto done;
        }
        pos = ent[i].end;
        t->data = data + ent[i].begin;
    }
    if (pos != data_size) {
        s = t2i_fail(T2I_ERR_FORMAT,
                     "%s: tensors cover %llu data bytes but the file holds %llu (%s)", path,
                     (unsigned long long)pos, (unsigned long long)data_size,
                     pos > data_size ? "truncated file" : "trailing bytes");
        goto done;
    }

    for (int i = 0; i < total; i++) f->by_name[i] = &f->tensors[i];
    qsort(f->by_name, (size_t)total, sizeof *f->by_name, cmp_by_name);
    for (int i = 1; i < total; i++) {
        const char *a = f->by_name[i - 1]->name, *b = f->by_name[i]->name;
        if (strcmp(a, b) == 0) {
            s = t2i_fail(T2I_ERR_FORMAT, "%s: duplicate tensor name \"%s\"", path, b);
            goto done;
        }
    }
done:
    free(ent);
    cJSON_Delete(root);
    free(text);
    return s;
}

t2i_status t2i_st_open(const char *path, t2i_st_file **out)
{
    *out = NULL;
    t2i_st_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", path);
    }
    t2i_status s = T2I_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        s = t2i_fail(T2I_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        s = t2i_fail(T2I_ERR_IO, "%s: not a regular file", path);
        close(fd);
        goto fail;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size < 8) {
        close(fd);
        s = t2i_fail(T2I_ERR_FORMAT, "%s: file of %llu bytes is too small for a header "
                     "(truncated file)", path, (unsigned long long)size);
        goto fail;
    }
    if (size > SIZE_MAX) {
        close(fd);
        s = t2i_fail(T2I_ERR_UNSUPPORTED, "%s: file too large to map", path);
        goto fail;
    }
    f->map = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (f->map == MAP_FAILED) {
        f->map = NULL;
        s = t2i_fail(T2I_ERR_IO, "%s: mmap failed: %s", path, strerror(errno));
        goto fail;
    }
    f->map_size = (size_t)size;

    const unsigned char *p = f->map;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | p[i];
    if (n > T2I_ST_MAX_HEADER) {
        s = t2i_fail(T2I_ERR_FORMAT, "%s: header length %llu exceeds the limit of %u bytes",
                     path, (unsigned long long)n, T2I_ST_MAX_HEADER);
        goto fail;
    }
    if (8 + n > size) {
        s = t2i_fail(T2I_ERR_FORMAT,
                     "%s: header length %llu runs past the end of the %llu-byte file "
                     "(truncated file)", path, (unsigned long long)n, (unsigned long long)size);
        goto fail;
    }
    if ((s = parse_header(f, p + 8, n, size - 8 - n))) goto fail;
    *out = f;
    return T2I_OK;
fail:
    t2i_st_close(f);
    return s;
}

const char *t2i_st_path(const t2i_st_file *f) { return f->path; }
int t2i_st_count(const t2i_st_file *f) { return f->count; }

const t2i_st_tensor *t2i_st_get(const t2i_st_file *f, int i)
{
    return i >= 0 && i < f->count ? &f->tensors[i] : NULL;
}

const t2i_st_tensor *t2i_st_find(const t2i_st_file *f, const char *name)
{
    int lo = 0, hi = f->count - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const t2i_st_tensor *t = f->by_name[mid];
        int c = strcmp(name, t->name);
        if (c == 0) return t;
        if (c < 0) hi = mid - 1;
        else lo = mid + 1;
    }
    return NULL;
}

const char *t2i_st_metadata(const t2i_st_file *f, const char *key)
{
    int lo = 0, hi = f->nmeta - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(key, f->meta[mid].key);
        if (c == 0) return f->meta[mid].value;
        if (c < 0) hi = mid - 1;
        else lo = mid + 1;
    }
    return NULL;
}

/* The reader checked that product(shape) * dtype size is the tensor's byte
 * count, so the product fits, unless a dimension is 0: then the others may
 * be as large as the reader allows ([2^52, 2048, 0]) and their product must
 * not be formed (signed overflow). */
int64_t t2i_st_numel(const t2i_st_tensor *t)
{
    for (int i = 0; i < t->ndim; i++)
        if (t->shape[i] == 0) return 0;
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

void t2i_st_read_f32(const t2i_st_tensor *t, float *dst)
{
    t2i_convert_to_f32(t->dtype, t->data, dst, (size_t)t2i_st_numel(t));
}

t2i_status t2i_st_tensor_make_writable(const t2i_st_tensor *t)
{
    if (!t->nbytes) return T2I_OK;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = (uintptr_t)t->data & ~(page - 1);
    uintptr_t hi = ((uintptr_t)t->data + t->nbytes + page - 1) & ~(page - 1);
    if (mprotect((void *)lo, hi - lo, PROT_READ | PROT_WRITE) != 0)
        return t2i_fail(T2I_ERR_IO, "tensor '%s': cannot make its mapped pages writable: %s", t->name,
                        strerror(errno));
    return T2I_OK;
}

void t2i_st_tensor_drop_pages(const t2i_st_tensor *t)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)t->data + page - 1) & ~(page - 1);
    uintptr_t hi = ((uintptr_t)t->data + t->nbytes) & ~(page - 1);
    if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

t2i_status t2i_tensor_file_read_f32(const char *path, const char *name, float *out, size_t count)
{
    t2i_st_file *f = NULL;
    T2I_TRY(t2i_st_open(path, &f));
    const t2i_st_tensor *t = name ? t2i_st_find(f, name) : NULL;
    if (!t && t2i_st_count(f) == 1) t = t2i_st_get(f, 0);
    t2i_status st = T2I_OK;
    if (!t)
        st = t2i_fail(T2I_ERR_INVALID_ARG, "%s: no tensor '%s' (and not exactly one tensor)", path,
                      name ? name : "");
    else if ((uint64_t)t2i_st_numel(t) != (uint64_t)count)
        st = t2i_fail(T2I_ERR_INVALID_ARG, "%s: tensor '%s' has %lld elements, need %zu", path, t->name,
                      (long long)t2i_st_numel(t), count);
    else
        t2i_st_read_f32(t, out);
    t2i_st_close(f);
    return st;
}
