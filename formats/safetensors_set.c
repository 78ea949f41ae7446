/*
 * safetensors_set.c — the weights of one diffusers component folder (see
 * safetensors.h): a single "<name>.safetensors" or the shards listed by
 * "<name>.safetensors.index.json", each opened with the reader.
 */
#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "base/error.h"
#include "formats/safetensors.h"

struct t2i_st_set {
    t2i_st_file **files;
    int nfiles;
    atomic_int extra_refs;   /* t2i_st_set_retain calls not yet matched by a destroy */
};

t2i_st_set *t2i_st_set_retain(t2i_st_set *s)
{
    if (s) atomic_fetch_add(&s->extra_refs, 1);
    return s;
}

void t2i_st_set_destroy(t2i_st_set *s)
{
    if (!s) return;
    if (atomic_fetch_sub(&s->extra_refs, 1) > 0) return;
    for (int i = 0; i < s->nfiles; i++) t2i_st_close(s->files[i]);
    free(s->files);
    free(s);
}

int t2i_st_set_file_count(const t2i_st_set *s) { return s->nfiles; }
const t2i_st_file *t2i_st_set_file(const t2i_st_set *s, int i)
{
    return i >= 0 && i < s->nfiles ? s->files[i] : NULL;
}

const t2i_st_tensor *t2i_st_set_find(const t2i_st_set *s, const char *name)
{
    for (int i = 0; i < s->nfiles; i++) {
        const t2i_st_tensor *t = t2i_st_find(s->files[i], name);
        if (t) return t;
    }
    return NULL;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Does file name `fn` match "<stem><.variant>" + suffix, the stem holding no
 * dot? Returns the stem length, or 0. */
static size_t match_name(const char *fn, const char *variant, const char *suffix)
{
    if (!ends_with(fn, suffix)) return 0;
    size_t n = strlen(fn) - strlen(suffix);
    size_t vn = variant ? strlen(variant) : 0;
    if (vn) {
        if (n < vn + 2 || fn[n - vn - 1] != '.' || strncmp(fn + n - vn, variant, vn) != 0)
            return 0;
        n -= vn + 1;
    }
    if (fn[0] == '.' || memchr(fn, '.', n)) return 0;
    return n;
}

/* Pick the one file in `dir` matching suffix/variant: *pick is the
 * malloc'ed name, or NULL when there is none. */
static t2i_status pick_file(const char *dir, const char *variant, const char *suffix, char **pick)
{
    *pick = NULL;
    DIR *d = opendir(dir);
    if (!d) return t2i_fail(T2I_ERR_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    int count = 0, preferred = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t stem = match_name(e->d_name, variant, suffix);
        if (!stem) continue;
        int pref = (stem == 23 && strncmp(e->d_name, "diffusion_pytorch_model", 23) == 0) ||
                   (stem == 5 && strncmp(e->d_name, "model", 5) == 0);
        count++;
        if (pref) preferred++;
        if (!*pick || (pref && preferred == 1)) {
            free(*pick);
            if (!(*pick = strdup(e->d_name))) {
                closedir(d);
                return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", dir);
            }
        }
    }
    closedir(d);
    if (count > 1 && preferred != 1) {
        free(*pick);
        *pick = NULL;
        return t2i_fail(T2I_ERR_FORMAT, "%s: %d candidate *%s files and none is preferred", dir,
                        count, suffix);
    }
    return T2I_OK;
}

static char *join_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Read a whole small file (limit bytes) as a NUL-terminated string. */
static t2i_status read_text(const char *path, size_t limit, char **out)
{
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) return t2i_fail(T2I_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    t2i_status s = T2I_OK;
    while (buf) {
        if (n + 1 == cap) {
            if (cap > limit) { s = t2i_fail(T2I_ERR_FORMAT, "%s: larger than %zu bytes", path, limit); break; }
            char *nb = realloc(buf, cap * 2);
            if (!nb) break;
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, fp);
        n += got;
        if (got == 0) {
            if (ferror(fp)) s = t2i_fail(T2I_ERR_IO, "%s: read failed", path);
            break;
        }
    }
    fclose(fp);
    if (!buf) return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", path);
    if (s) { free(buf); return s; }
    buf[n] = 0;
    *out = buf;
    return T2I_OK;
}

static t2i_status set_add_file(t2i_st_set *s, const char *dir, const char *name)
{
    char *p = join_path(dir, name);
    if (!p) return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", dir);
    t2i_st_file **nf = realloc(s->files, (size_t)(s->nfiles + 1) * sizeof *nf);
    if (!nf) { free(p); return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", dir); }
    s->files = nf;
    t2i_status st = t2i_st_open(p, &s->files[s->nfiles]);
    free(p);
    if (st) return st;
    s->nfiles++;
    return T2I_OK;
}

static t2i_status open_index(t2i_st_set *s, const char *dir, const char *index_name)
{
    char *path = join_path(dir, index_name), *text = NULL;
    if (!path) return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", dir);
    cJSON *root = NULL;
    t2i_status st = read_text(path, 64u << 20, &text);
    if (st) goto done;
    root = cJSON_Parse(text);
    const cJSON *wm = root ? cJSON_GetObjectItemCaseSensitive(root, "weight_map") : NULL;
    if (!cJSON_IsObject(wm)) {
        st = t2i_fail(T2I_ERR_FORMAT, "%s: not JSON with a \"weight_map\" object", path);
        goto done;
    }
    for (const cJSON *e = wm->child; e; e = e->next) {
        if (!cJSON_IsString(e)) {
            st = t2i_fail(T2I_ERR_FORMAT, "%s: weight_map[\"%s\"] is not a string", path, e->string);
            goto done;
        }
        const char *fn = e->valuestring;
        /* A shard must be a plain file name in this folder. */
        if (!fn[0] || strchr(fn, '/') || strcmp(fn, ".") == 0 || strcmp(fn, "..") == 0 ||
            !ends_with(fn, ".safetensors")) {
            st = t2i_fail(T2I_ERR_FORMAT, "%s: weight_map[\"%s\"]: bad shard name \"%s\"", path,
                          e->string, fn);
            goto done;
        }
        int seen = 0;
        for (int i = 0; i < s->nfiles && !seen; i++) {
            const char *p = t2i_st_path(s->files[i]);
            seen = strcmp(p + strlen(dir) + 1, fn) == 0;
        }
        if (!seen && (st = set_add_file(s, dir, fn))) goto done;
    }
    /* Every listed tensor is in its shard; no tensor is in two shards. */
    for (const cJSON *e = wm->child; e; e = e->next) {
        const t2i_st_tensor *t = NULL;
        for (int i = 0; i < s->nfiles && !t; i++)
            if (strcmp(t2i_st_path(s->files[i]) + strlen(dir) + 1, e->valuestring) == 0)
                t = t2i_st_find(s->files[i], e->string);
        if (!t) {
            st = t2i_fail(T2I_ERR_FORMAT, "%s: tensor \"%s\" is not in shard %s", path, e->string,
                          e->valuestring);
            goto done;
        }
    }
    for (int i = 1; i < s->nfiles; i++)
        for (int k = 0; k < t2i_st_count(s->files[i]); k++) {
            const char *name = t2i_st_get(s->files[i], k)->name;
            for (int j = 0; j < i; j++)
                if (t2i_st_find(s->files[j], name)) {
                    st = t2i_fail(T2I_ERR_FORMAT, "%s: tensor \"%s\" is in both %s and %s", path,
                                  name, t2i_st_path(s->files[j]), t2i_st_path(s->files[i]));
                    goto done;
                }
        }
done:
    cJSON_Delete(root);
    free(text);
    free(path);
    return st;
}

t2i_status t2i_st_set_open_variant(const char *dir, const char *variant, t2i_st_set **out)
{
    *out = NULL;
    if (variant && !variant[0]) variant = NULL;
    t2i_st_set *s = calloc(1, sizeof *s);
    if (!s) return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", dir);
    char *name = NULL;
    t2i_status st = T2I_OK;
    if ((st = pick_file(dir, variant, ".safetensors.index.json", &name))) goto fail;
    if (name) {
        if ((st = open_index(s, dir, name))) goto fail;
    } else {
        if ((st = pick_file(dir, variant, ".safetensors", &name))) goto fail;
        if (!name) {
            st = t2i_fail(T2I_ERR_IO, "%s: no *%s%s.safetensors weights", dir, variant ? "." : "",
                          variant ? variant : "");
            goto fail;
        }
        if ((st = set_add_file(s, dir, name))) goto fail;
    }
    free(name);
    *out = s;
    return T2I_OK;
fail:
    free(name);
    t2i_st_set_destroy(s);
    return st;
}

t2i_status t2i_st_set_open_dir(const char *dir, t2i_st_set **out)
{
    return t2i_st_set_open_variant(dir, NULL, out);
}

/* Does dir hold weights of this variant (a single file or an index)? */
static t2i_status has_weights(const char *dir, const char *variant, int *found)
{
    char *name = NULL;
    T2I_TRY(pick_file(dir, variant, ".safetensors.index.json", &name));
    if (!name) T2I_TRY(pick_file(dir, variant, ".safetensors", &name));
    *found = name != NULL;
    free(name);
    return T2I_OK;
}

t2i_status t2i_st_set_open_preferred(const char *dir, t2i_st_set **out, const char **variant)
{
    static const char *const order[] = {NULL, "fp16"};
    *out = NULL;
    for (int i = 0; i < 2; i++) {
        int found = 0;
        T2I_TRY(has_weights(dir, order[i], &found));
        if (found) {
            if (variant) *variant = order[i];
            return t2i_st_set_open_variant(dir, order[i], out);
        }
    }
    return t2i_fail(T2I_ERR_IO, "%s: no *.safetensors weights (neither plain nor the fp16 variant)", dir);
}

t2i_status t2i_st_set_open_file(const char *path, t2i_st_set **out)
{
    *out = NULL;
    t2i_st_set *s = calloc(1, sizeof *s);
    if (!s || !(s->files = calloc(1, sizeof *s->files))) {
        free(s);
        return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", path);
    }
    t2i_status st = t2i_st_open(path, &s->files[0]);
    if (st != T2I_OK) {
        t2i_st_set_destroy(s);
        return st;
    }
    s->nfiles = 1;
    *out = s;
    return T2I_OK;
}
