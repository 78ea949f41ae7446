/*
 * weights.c — shape-checked upload of a component's weights into one block.
 *
 * On the CPU backend (FP32 weights in host memory) an FP32 tensor of the
 * file whose data is 4-byte aligned is not copied: its entry points into
 * the file's read-only private mapping, which the store keeps open
 * (t2i_st_set_retain). Its pages are then file-backed, clean and shared with
 * the page cache: read from disk on first use, and reclaimable by the
 * kernel instead of being anonymous memory. Every other tensor (F16/BF16
 * files, unaligned data, other backends) is converted and copied into the
 * block as before. A LoRA merge writes into a mapped entry after
 * t2i_weights_entry_writable (copy-on-write of the pages it touches).
 * T2I_WEIGHTS_COPY=1 in the environment turns mapping off (a debug switch,
 * and the "before" of memory measurements).
 *
 * On a backend with int8_weights set (the "int8w" rung), the weights that
 * runtime/quant_policy.h allows are quantised per output channel at load
 * (kernels/quant.h) and stored as T2I_I8; plans mark those graph tensors
 * T2I_I8 so the kernels read them as such.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "base/error.h"
#include "kernels/quant.h"
#include "runtime/quant_policy.h"
#include "runtime/weights.h"

typedef struct entry {
    const char *name;       /* points into the graph that was loaded: copied below */
    int ndim;
    int64_t ne[T2I_MAX_DIMS];
    size_t offset;          /* in the block, when not mapped */
    t2i_dtype dtype;        /* the backend's weight_dtype, or T2I_I8 (kernels/quant.h) */
    void *data;
    const t2i_st_tensor *mapped;   /* the file tensor data points into, or NULL */
} entry;

struct t2i_weights {
    t2i_backend *be;
    void *block;
    size_t bytes;           /* all weights, mapped or in the block */
    size_t mapped_bytes;
    t2i_st_set *src;        /* retained while entries point into it */
    int n;
    entry *e;               /* sorted by name */
    char *names;            /* storage for all names */
};

/* Where a weight may point into the file instead of being copied; NULL
 * when it must be copied. */
typedef const t2i_st_tensor *(*map_fn)(void *user, const t2i_tensor *t);

static t2i_status create_store(t2i_backend *be, const t2i_graph *g, const char *component,
                               t2i_weights_fill_fn fill, map_fn map, void *user, t2i_weights **out);

static int by_name(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

/* The file's shape may carry trailing 1s the config does not (old
 * checkpoints store attention projections as 1×1 convolutions). */
static int same_shape(const t2i_tensor *t, const t2i_st_tensor *s)
{
    int nd = s->ndim;
    while (nd > t->ndim && s->shape[nd - 1] == 1) nd--;
    if (nd != t->ndim) return 0;
    for (int i = 0; i < nd; i++)
        if (s->shape[i] != t->ne[i]) return 0;
    return 1;
}

static void st_shape_str(const t2i_st_tensor *s, char *buf, size_t n)
{
    size_t len = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < s->ndim && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%lld", i ? "," : "", (long long)s->shape[i]);
    if (len < n) snprintf(buf + len, n - len, "]");
}

static const t2i_st_tensor *find_in_file(const t2i_st_set *src, const char *name, const char *prefix)
{
    const t2i_st_tensor *s = t2i_st_set_find(src, name);
    size_t n = prefix ? strlen(prefix) : 0;
    if (!s && n && strncmp(name, prefix, n) == 0) s = t2i_st_set_find(src, name + n);
    return s;
}

/* A fill callback reading the tensor from the component's safetensors files. */
typedef struct file_src { const t2i_st_set *set; const char *prefix; } file_src;

static t2i_status fill_from_file(void *user, const t2i_tensor *t, float *dst)
{
    const file_src *fs = user;
    const t2i_st_tensor *s = find_in_file(fs->set, t->name, fs->prefix);
    t2i_st_read_f32(s, dst);
    t2i_st_tensor_drop_pages(s);   /* converted: its file pages need not stay resident */
    return T2I_OK;
}

static const t2i_st_tensor *map_from_file(void *user, const t2i_tensor *t)
{
    const file_src *fs = user;
    const t2i_st_tensor *s = find_in_file(fs->set, t->name, fs->prefix);
    return s->dtype == T2I_F32 && (uintptr_t)s->data % sizeof(float) == 0 ? s : NULL;
}

static int may_map(const t2i_backend *be)
{
    const char *env = getenv("T2I_WEIGHTS_COPY");
    return be->kind == T2I_BACKEND_CPU && be->weight_dtype == T2I_F32 && !(env && *env && strcmp(env, "0"));
}

t2i_status t2i_weights_load(t2i_backend *be, const t2i_st_set *src, const t2i_graph *g,
                            const char *component, const char *optional_prefix, t2i_weights **out)
{
    *out = NULL;
    /* Check every name and shape before allocating anything. */
    for (int t = 0; t < g->n_tensors; t++) {
        const t2i_tensor *tt = &g->tensors[t];
        if (tt->kind != T2I_TENSOR_WEIGHT) continue;
        const t2i_st_tensor *s = find_in_file(src, tt->name, optional_prefix);
        char b0[64], b1[64];
        if (!s)
            return t2i_fail(T2I_ERR_FORMAT, "%s: tensor '%s' (shape %s, implied by config.json) is missing from the weights",
                            component, tt->name, t2i_shape_str(tt, b0, sizeof b0));
        if (!same_shape(tt, s)) {
            st_shape_str(s, b1, sizeof b1);
            return t2i_fail(T2I_ERR_FORMAT, "%s: tensor '%s' has shape %s in the file but config.json implies %s",
                            component, tt->name, b1, t2i_shape_str(tt, b0, sizeof b0));
        }
    }
    file_src fs = {src, optional_prefix};
    t2i_status st = create_store(be, g, component, fill_from_file, may_map(be) ? map_from_file : NULL, &fs, out);
    if (st == T2I_OK && (*out)->mapped_bytes) (*out)->src = t2i_st_set_retain((t2i_st_set *)src);
    return st;
}

t2i_status t2i_weights_create_filled(t2i_backend *be, const t2i_graph *g, const char *component,
                                     t2i_weights_fill_fn fill, void *user, t2i_weights **out)
{
    return create_store(be, g, component, fill, NULL, user, out);
}

static t2i_status create_store(t2i_backend *be, const t2i_graph *g, const char *component,
                               t2i_weights_fill_fn fill, map_fn map, void *user, t2i_weights **out)
{
    t2i_status st = T2I_OK;
    float *f32 = NULL;
    void *conv = NULL, *qbuf = NULL;
    int *ids = NULL;
    unsigned char *q8 = NULL;
    *out = NULL;
    t2i_weights *w = calloc(1, sizeof *w);
    if (!w) return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", component);
    w->be = be;

    size_t name_bytes = 0, max_numel = 0, block_bytes = 0, max_q8 = 0;
    for (int t = 0; t < g->n_tensors; t++) {
        const t2i_tensor *tt = &g->tensors[t];
        if (tt->kind != T2I_TENSOR_WEIGHT) continue;
        w->n++;
        name_bytes += strlen(tt->name) + 1;
    }
    q8 = be->int8_weights ? t2i_quant_int8_select(g) : NULL;
    if (be->int8_weights && !q8) {
        st = t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", component);
        goto fail;
    }
    w->e = calloc((size_t)w->n + 1, sizeof *w->e);
    w->names = malloc(name_bytes + 1);
    ids = malloc(((size_t)w->n + 1) * sizeof *ids);
    if (!w->e || !w->names || !ids) {
        st = t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", component);
        goto fail;
    }
    size_t esize = t2i_dtype_size(be->weight_dtype);
    char *np = w->names;
    int k = 0;
    for (int t = 0; t < g->n_tensors; t++) {
        const t2i_tensor *tt = &g->tensors[t];
        if (tt->kind != T2I_TENSOR_WEIGHT) continue;
        ids[k] = t;
        entry *e = &w->e[k++];
        strcpy(np, tt->name);
        e->name = np;
        np += strlen(np) + 1;
        e->ndim = tt->ndim;
        memcpy(e->ne, tt->ne, sizeof e->ne);
        size_t numel = (size_t)t2i_tensor_numel(tt);
        e->dtype = q8 && q8[t] ? T2I_I8 : be->weight_dtype;
        e->mapped = map && e->dtype != T2I_I8 ? map(user, tt) : NULL;
        if (e->mapped) {
            e->data = (void *)e->mapped->data;
            w->mapped_bytes += numel * esize;
            continue;
        }
        e->offset = block_bytes;
        if (numel > max_numel) max_numel = numel;
        size_t bytes = numel * esize;
        if (e->dtype == T2I_I8) {
            bytes = t2i_q8_bytes((size_t)tt->ne[0], numel / (size_t)tt->ne[0]);
            if (bytes > max_q8) max_q8 = bytes;
        }
        block_bytes += (bytes + 63) / 64 * 64;
    }
    w->bytes = block_bytes + w->mapped_bytes;

    st = be->vt->alloc(be, block_bytes ? block_bytes : 64, &w->block);
    if (st != T2I_OK) {
        t2i_fail_context(st, "%s: weights (%zu bytes)", component, block_bytes);
        goto fail;
    }
    f32 = malloc(max_numel * sizeof *f32 + 1);
    conv = be->weight_dtype == T2I_F32 ? NULL : malloc(max_numel * esize + 1);
    qbuf = max_q8 ? malloc(max_q8) : NULL;
    if (!f32 || (be->weight_dtype != T2I_F32 && !conv) || (max_q8 && !qbuf)) {
        st = t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", component);
        goto fail;
    }
    /* Entries are still in graph order here: entry i is tensor ids[i]. */
    for (int i = 0; i < w->n; i++) {
        entry *e = &w->e[i];
        if (e->mapped) continue;
        e->data = (char *)w->block + e->offset;
        const t2i_tensor *tt = &g->tensors[ids[i]];
        size_t numel = (size_t)t2i_tensor_numel(tt);
        if ((st = fill(user, tt, f32)) != T2I_OK) goto fail;
        const void *payload = f32;
        size_t payload_bytes = numel * esize;
        if (e->dtype == T2I_I8) {
            int64_t rows = tt->ne[0], cols = (int64_t)numel / rows;
            t2i_q8_quantize_rows(f32, rows, cols, qbuf);
            payload = qbuf;
            payload_bytes = t2i_q8_bytes((size_t)rows, (size_t)cols);
        } else if (be->weight_dtype == T2I_F16 || be->weight_dtype == T2I_BF16) {
            uint16_t *h = conv;
            for (size_t j = 0; j < numel; j++)
                h[j] = be->weight_dtype == T2I_F16 ? t2i_f32_to_f16(f32[j]) : t2i_f32_to_bf16(f32[j]);
            payload = h;
        }
        st = be->vt->upload(be, e->data, payload, payload_bytes);
        if (st != T2I_OK) goto fail;
    }
    qsort(w->e, (size_t)w->n, sizeof *w->e, by_name);
    free(ids);
    free(f32);
    free(conv);
    free(qbuf);
    free(q8);
    *out = w;
    return T2I_OK;
fail:
    free(ids);
    free(f32);
    free(conv);
    free(qbuf);
    free(q8);
    t2i_weights_destroy(w);
    return st;
}

void t2i_weights_destroy(t2i_weights *w)
{
    if (!w) return;
    if (w->block) w->be->vt->free(w->be, w->block);
    t2i_st_set_destroy(w->src);
    free(w->e);
    free(w->names);
    free(w);
}

static const entry *find_entry(const t2i_weights *w, const t2i_tensor *t);

const void *t2i_weights_find(const t2i_weights *w, const t2i_tensor *t)
{
    const entry *e = find_entry(w, t);
    return e ? e->data : NULL;
}

size_t t2i_weights_bytes(const t2i_weights *w) { return w ? w->bytes : 0; }
size_t t2i_weights_mapped_bytes(const t2i_weights *w) { return w ? w->mapped_bytes : 0; }

static const entry *find_entry(const t2i_weights *w, const t2i_tensor *t)
{
    entry key = {.name = t->name};
    const entry *e = bsearch(&key, w->e, (size_t)w->n, sizeof *w->e, by_name);
    if (!e || e->ndim != t->ndim) return NULL;
    for (int i = 0; i < t->ndim; i++)
        if (e->ne[i] != t->ne[i]) return NULL;
    return e;
}

t2i_dtype t2i_weights_dtype(const t2i_weights *w, const t2i_tensor *t)
{
    const entry *e = find_entry(w, t);
    return e ? e->dtype : w->be->weight_dtype;
}

t2i_dtype t2i_weights_entry_dtype(const t2i_weights *w, int i) { return w->e[i].dtype; }

size_t t2i_weights_q8_bytes(const t2i_weights *w, size_t *f32_equivalent)
{
    size_t q = 0, f = 0;
    for (int i = 0; w && i < w->n; i++) {
        if (w->e[i].dtype != T2I_I8) continue;
        size_t numel = 1;
        for (int d = 0; d < w->e[i].ndim; d++) numel *= (size_t)w->e[i].ne[d];
        q += t2i_q8_bytes((size_t)w->e[i].ne[0], numel / (size_t)w->e[i].ne[0]);
        f += numel * sizeof(float);
    }
    if (f32_equivalent) *f32_equivalent = f;
    return q;
}

int t2i_weights_count(const t2i_weights *w) { return w ? w->n : 0; }

const char *t2i_weights_entry(const t2i_weights *w, int i, int *ndim, const int64_t **ne, void **data)
{
    const entry *e = &w->e[i];
    *ndim = e->ndim;
    *ne = e->ne;
    *data = e->data;
    return e->name;
}

t2i_status t2i_weights_entry_writable(t2i_weights *w, int i)
{
    return w->e[i].mapped ? t2i_st_tensor_make_writable(w->e[i].mapped) : T2I_OK;
}

t2i_backend *t2i_weights_backend(const t2i_weights *w) { return w->be; }
