/* weights.c — shape-checked upload of a component's weights into one block. */
#include <stdlib.h>
#include <string.h>
#include "base/error.h"
#include "runtime/weights.h"

typedef struct entry {
    const char *name;       /* points into the graph that was loaded: copied below */
    int ndim;
    int64_t ne[T2I_MAX_DIMS];
    size_t offset;
} entry;

struct t2i_weights {
    t2i_backend *be;
    void *block;
    size_t bytes;
    int n;
    entry *e;               /* sorted by name */
    char *names;            /* storage for all names */
};

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
    t2i_st_read_f32(find_in_file(fs->set, t->name, fs->prefix), dst);
    return T2I_OK;
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
    return t2i_weights_create_filled(be, g, component, fill_from_file, &fs, out);
}

t2i_status t2i_weights_create_filled(t2i_backend *be, const t2i_graph *g, const char *component,
                                     t2i_weights_fill_fn fill, void *user, t2i_weights **out)
{
    t2i_status st = T2I_OK;
    float *f32 = NULL;
    void *conv = NULL;
    int *ids = NULL;
    *out = NULL;
    t2i_weights *w = calloc(1, sizeof *w);
    if (!w) return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", component);
    w->be = be;

    size_t name_bytes = 0, max_numel = 0;
    for (int t = 0; t < g->n_tensors; t++) {
        const t2i_tensor *tt = &g->tensors[t];
        if (tt->kind != T2I_TENSOR_WEIGHT) continue;
        w->n++;
        name_bytes += strlen(tt->name) + 1;
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
        e->offset = w->bytes;
        size_t numel = (size_t)t2i_tensor_numel(tt);
        if (numel > max_numel) max_numel = numel;
        w->bytes += (numel * esize + 63) / 64 * 64;
    }

    st = be->vt->alloc(be, w->bytes ? w->bytes : 64, &w->block);
    if (st != T2I_OK) {
        t2i_fail_context(st, "%s: weights (%zu bytes)", component, w->bytes);
        goto fail;
    }
    f32 = malloc(max_numel * sizeof *f32 + 1);
    conv = be->weight_dtype == T2I_F32 ? NULL : malloc(max_numel * esize + 1);
    if (!f32 || (be->weight_dtype != T2I_F32 && !conv)) {
        st = t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", component);
        goto fail;
    }
    /* Entries are still in graph order here: entry i is tensor ids[i]. */
    for (int i = 0; i < w->n; i++) {
        const entry *e = &w->e[i];
        const t2i_tensor *tt = &g->tensors[ids[i]];
        size_t numel = (size_t)t2i_tensor_numel(tt);
        if ((st = fill(user, tt, f32)) != T2I_OK) goto fail;
        const void *payload = f32;
        if (be->weight_dtype == T2I_F16 || be->weight_dtype == T2I_BF16) {
            uint16_t *h = conv;
            for (size_t j = 0; j < numel; j++)
                h[j] = be->weight_dtype == T2I_F16 ? t2i_f32_to_f16(f32[j]) : t2i_f32_to_bf16(f32[j]);
            payload = h;
        }
        st = be->vt->upload(be, (char *)w->block + e->offset, payload, numel * esize);
        if (st != T2I_OK) goto fail;
    }
    qsort(w->e, (size_t)w->n, sizeof *w->e, by_name);
    free(ids);
    free(f32);
    free(conv);
    *out = w;
    return T2I_OK;
fail:
    free(ids);
    free(f32);
    free(conv);
    t2i_weights_destroy(w);
    return st;
}

void t2i_weights_destroy(t2i_weights *w)
{
    if (!w) return;
    if (w->block) w->be->vt->free(w->be, w->block);
    free(w->e);
    free(w->names);
    free(w);
}

const void *t2i_weights_find(const t2i_weights *w, const t2i_tensor *t)
{
    entry key = {.name = t->name};
    const entry *e = bsearch(&key, w->e, (size_t)w->n, sizeof *w->e, by_name);
    if (!e || e->ndim != t->ndim) return NULL;
    for (int i = 0; i < t->ndim; i++)
        if (e->ne[i] != t->ne[i]) return NULL;
    return (const char *)w->block + e->offset;
}

size_t t2i_weights_bytes(const t2i_weights *w) { return w ? w->bytes : 0; }

int t2i_weights_count(const t2i_weights *w) { return w ? w->n : 0; }

const char *t2i_weights_entry(const t2i_weights *w, int i, int *ndim, const int64_t **ne, void **data)
{
    const entry *e = &w->e[i];
    *ndim = e->ndim;
    *ne = e->ne;
    *data = (char *)w->block + e->offset;
    return e->name;
}

t2i_backend *t2i_weights_backend(const t2i_weights *w) { return w->be; }
