/*
 * embeddings.c — loading textual-inversion files and feeding their vectors
 * to the text encoder(s) (the rules are in embeddings.h).
 */
#define _GNU_SOURCE   /* strcasestr */
#include "runtime/embeddings.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "formats/safetensors.h"
#include "graph/fuse.h"
#include "runtime/text_encoder.h"

typedef struct emb {
    char *name;
    int32_t *name_ids;
    int n_name, n_vec, row0;
    t2i_status status;   /* a file that failed to load: reported when a prompt uses it */
    char *error;
} emb;

struct t2i_embeddings {
    emb *v;
    int n;
    float *rows[2];      /* [n_rows][C of encoder w] */
    int n_rows;
    t2i_plan *plan[2];
    int plan_len[2];
    int plan_skip[2];      /* the model's clip skip the plan was built for */
};

static void clear_list(struct t2i_embeddings *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->v[i].name);
        free(s->v[i].name_ids);
        free(s->v[i].error);
    }
    free(s->v);
    free(s->rows[0]);
    free(s->rows[1]);
    s->v = NULL;
    s->rows[0] = s->rows[1] = NULL;
    s->n = s->n_rows = 0;
}

void t2i_embeddings_free(t2i_model *m)
{
    struct t2i_embeddings *s = m ? m->emb : NULL;
    if (!s) return;
    clear_list(s);
    t2i_plan_destroy(s->plan[0]);
    t2i_plan_destroy(s->plan[1]);
    free(s);
    m->emb = NULL;
}

static int32_t base_id(const t2i_model *m) { return m->text_cfg.vocab_size; }

/* The [n, C] rows of tensor t for encoder `which`, checked. */
static t2i_status check_rows(const t2i_model *m, int which, const char *path, const t2i_st_tensor *t, int *n)
{
    const int C = which ? m->text2_cfg.hidden_size : m->text_cfg.hidden_size;
    if (t->dtype != T2I_F32 && t->dtype != T2I_F16 && t->dtype != T2I_BF16)
        return t2i_fail(T2I_ERR_FORMAT, "embedding %s: tensor '%s' has dtype %s (F32, F16 or BF16 expected)", path,
                        t->name, t2i_dtype_name(t->dtype));
    if (t->ndim < 1 || t->ndim > 2 || (t->ndim == 2 && (t->shape[0] < 1 || t->shape[0] > 75)))
        return t2i_fail(T2I_ERR_FORMAT, "embedding %s: tensor '%s' must be [C] or [n, C] with 1 <= n <= 75", path,
                        t->name);
    const int64_t width = t->shape[t->ndim - 1];
    if (width != C)
        return t2i_fail(T2I_ERR_INVALID_ARG,
                        "embedding %s: tensor '%s' is %lld wide, the token embedding of the model's %s is %d wide",
                        path, t->name, (long long)width, which ? "text_encoder_2" : "text_encoder", C);
    *n = t->ndim == 2 ? (int)t->shape[0] : 1;
    return T2I_OK;
}

/* The rows of file `path` appended to s->rows; *n_vec gets their count. */
static t2i_status load_rows(t2i_model *m, struct t2i_embeddings *s, const char *path, int *n_vec)
{
    t2i_st_file *f = NULL;
    T2I_TRY(t2i_st_open(path, &f));
    const int sdxl = m->text_kind == T2I_TEXT_SDXL;
    const t2i_st_tensor *t[2] = {NULL, NULL};
    t2i_status st = T2I_OK;
    if (sdxl) {
        t[0] = t2i_st_find(f, "clip_l");
        t[1] = t2i_st_find(f, "clip_g");
        if (!t[0] || !t[1])
            st = t2i_fail(T2I_ERR_INVALID_ARG, "embedding %s: SDXL needs tensors 'clip_l' and 'clip_g' (one per encoder)",
                          path);
    } else if (!(t[0] = t2i_st_find(f, "emb_params"))) {
        if (t2i_st_find(f, "clip_l") && t2i_st_find(f, "clip_g"))
            st = t2i_fail(T2I_ERR_INVALID_ARG, "embedding %s: an SDXL embedding (clip_l/clip_g) on a model with one "
                          "text encoder", path);
        else if (t2i_st_count(f) == 1) t[0] = t2i_st_get(f, 0);
        else st = t2i_fail(T2I_ERR_FORMAT, "embedding %s: no tensor 'emb_params' and not a single tensor", path);
    }
    int n[2] = {0, 0};
    for (int w = 0; w < 1 + sdxl && st == T2I_OK; w++) st = check_rows(m, w, path, t[w], &n[w]);
    if (st == T2I_OK && sdxl && n[0] != n[1])
        st = t2i_fail(T2I_ERR_FORMAT, "embedding %s: 'clip_l' has %d vectors, 'clip_g' %d", path, n[0], n[1]);
    for (int w = 0; w < 1 + sdxl && st == T2I_OK; w++) {
        const int C = w ? m->text2_cfg.hidden_size : m->text_cfg.hidden_size;
        float *r = realloc(s->rows[w], (size_t)(s->n_rows + n[0]) * C * sizeof *r);
        if (!r) {
            st = t2i_fail(T2I_ERR_NOMEM, "embedding %s: out of memory", path);
            break;
        }
        s->rows[w] = r;
        t2i_st_read_f32(t[w], r + (size_t)s->n_rows * C);
    }
    t2i_st_close(f);
    *n_vec = n[0];
    return st;
}

/* One file: its name's tokens and its rows, or (a broken file) the error
 * to report when a prompt uses the name. */
static t2i_status load_one(t2i_model *m, struct t2i_embeddings *s, const char *path, const char *stem)
{
    emb e = {.row0 = s->n_rows};
    t2i_status st = t2i_clip_tokenize(m->tok, stem, &e.name_ids, &e.n_name);
    if (st == T2I_OK && e.n_name == 0) {   /* nothing a prompt could match */
        free(e.name_ids);
        return T2I_OK;
    }
    if (st == T2I_OK) {
        e.status = load_rows(m, s, path, &e.n_vec);
        if (e.status == T2I_ERR_NOMEM) st = e.status;
        else if (e.status != T2I_OK && !(e.error = strdup(t2i_last_error())))
            st = t2i_fail(T2I_ERR_NOMEM, "embedding %s: out of memory", path);
    }
    emb *v = st == T2I_OK ? realloc(s->v, (size_t)(s->n + 1) * sizeof *v) : NULL;
    if (st == T2I_OK && v) s->v = v;
    e.name = st == T2I_OK ? strdup(stem) : NULL;
    if (st == T2I_OK && (!v || !e.name)) st = t2i_fail(T2I_ERR_NOMEM, "embedding %s: out of memory", path);
    if (st != T2I_OK) {
        free(e.name);
        free(e.name_ids);
        free(e.error);
        return st;
    }
    if (e.status == T2I_OK) s->n_rows += e.n_vec;
    s->v[s->n++] = e;
    return T2I_OK;
}

static int longest_first(const void *a, const void *b)
{
    const emb *x = a, *y = b;
    return y->n_name - x->n_name;
}

t2i_status t2i_embeddings_prepare(t2i_model *m, const char *dir, const char *prompt, const char *negative)
{
    if (m->emb) clear_list(m->emb);
    if (!dir || !*dir) return T2I_OK;
    if (m->text_kind == T2I_TEXT_BERT)
        return t2i_fail(T2I_ERR_UNSUPPORTED, "embeddings %s: textual-inversion embeddings need a CLIP text encoder",
                        dir);
    if (!m->emb && !(m->emb = calloc(1, sizeof *m->emb))) return t2i_fail(T2I_ERR_NOMEM, "embeddings: out of memory");
    DIR *d = opendir(dir);
    if (!d) return t2i_fail(T2I_ERR_IO, "embeddings %s: cannot open the folder", dir);
    t2i_status st = T2I_OK;
    struct dirent *de;
    while (st == T2I_OK && (de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len <= 12 || strcmp(de->d_name + len - 12, ".safetensors") != 0 || de->d_name[0] == '.') continue;
        char stem[256], *path;
        if (len - 12 >= sizeof stem) continue;
        memcpy(stem, de->d_name, len - 12);
        stem[len - 12] = '\0';
        if (!(prompt && strcasestr(prompt, stem)) && !(negative && strcasestr(negative, stem))) continue;
        if (!(path = t2i_path_join(dir, de->d_name))) st = t2i_fail(T2I_ERR_NOMEM, "embeddings: out of memory");
        else st = load_one(m, m->emb, path, stem);
        free(path);
    }
    closedir(d);
    if (st != T2I_OK) clear_list(m->emb);
    else if (m->emb->n > 1) qsort(m->emb->v, (size_t)m->emb->n, sizeof *m->emb->v, longest_first);   /* v is NULL when none matched */
    return st;
}

int t2i_embeddings_match(const t2i_model *m, const int32_t *ids, int n, int pos, int *n_name, int *n_vectors,
                         int32_t *first, t2i_status *err)
{
    const struct t2i_embeddings *s = m->emb;
    *err = T2I_OK;
    for (int i = 0; s && i < s->n; i++) {
        const emb *e = &s->v[i];
        if (pos + e->n_name > n || memcmp(ids + pos, e->name_ids, (size_t)e->n_name * sizeof *ids) != 0) continue;
        if (e->status != T2I_OK) *err = t2i_fail(e->status, "%s", e->error);
        *n_name = e->n_name;
        *n_vectors = e->n_vec;
        *first = base_id(m) + e->row0;
        return 1;
    }
    return 0;
}

int t2i_embeddings_in(const t2i_model *m, const int32_t *ids, int L)
{
    if (!m->emb || m->emb->n_rows == 0) return 0;
    for (int i = 0; i < L; i++)
        if (ids[i] >= base_id(m)) return 1;
    return 0;
}

void t2i_embeddings_mask(const t2i_model *m, int32_t *ids, int L)
{
    for (int i = 0; i < L; i++)
        if (ids[i] >= base_id(m)) ids[i] = 0;
}

t2i_status t2i_embeddings_plan(t2i_model *m, int which, const int32_t *ids, int L, t2i_plan **out)
{
    struct t2i_embeddings *s = m->emb;
    const t2i_weights *w = which ? m->text2_w : m->text_w;
    const t2i_clip_text_config *cfg = which ? &m->text2_cfg : &m->text_cfg;
    const int C = cfg->hidden_size;
    t2i_backend *be = m->eng->be;
    if (!s->plan[which] || s->plan_len[which] != L || s->plan_skip[which] != m->clip_skip) {
        t2i_plan_destroy(s->plan[which]);
        s->plan[which] = NULL;
        t2i_graph *g = NULL;
        T2I_TRY(t2i_text_build_embeds(m, which, 1, L, &g));
        t2i_status st = t2i_graph_optimize(g);
        if (st != T2I_OK) {
            t2i_graph_destroy(g);
            return st;
        }
        T2I_TRY(t2i_plan_create(g, be, w, &s->plan[which]));
        s->plan_len[which] = L;
        s->plan_skip[which] = m->clip_skip;
    }
    /* the token embedding rows: the weight's (read back) or the embeddings' */
    char name[] = "text_model.embeddings.token_embedding.weight";
    t2i_tensor key = {.ndim = 2, .ne = {cfg->vocab_size, C}, .dtype = T2I_F32, .name = name};
    const char *table = t2i_weights_find(w, &key);
    if (!table) return t2i_fail(T2I_ERR_INTERNAL, "embeddings: no token embedding weight");
    const size_t esize = t2i_dtype_size(be->weight_dtype);
    float *x = malloc((size_t)L * C * sizeof *x);
    void *row = malloc((size_t)C * esize);
    t2i_status st = x && row ? T2I_OK : t2i_fail(T2I_ERR_NOMEM, "embeddings: out of memory");
    for (int i = 0; i < L && st == T2I_OK; i++) {
        float *xi = x + (size_t)i * C;
        if (ids[i] >= base_id(m)) {
            memcpy(xi, s->rows[which] + (size_t)(ids[i] - base_id(m)) * C, (size_t)C * sizeof *xi);
            continue;
        }
        st = be->vt->download(be, row, table + (size_t)ids[i] * C * esize, (size_t)C * esize);
        if (st == T2I_OK) {
            if (be->weight_dtype == T2I_F32) memcpy(xi, row, (size_t)C * sizeof *xi);
            else t2i_convert_to_f32(be->weight_dtype, row, xi, (size_t)C);
        }
    }
    if (st == T2I_OK) st = t2i_plan_set_input(s->plan[which], "token_embeds", x, (size_t)L * C * sizeof *x);
    free(x);
    free(row);
    if (st == T2I_OK) *out = s->plan[which];
    return st;
}
