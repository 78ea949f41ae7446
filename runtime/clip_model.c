/*
 * clip_model.c — CLIPModel / ChineseCLIPModel folders on the engine (see
 * clip_model.h). Each tower's weights are uploaded once from a graph of
 * batch 1; plans for other batches or text lengths reuse them by name, and
 * the last plan of each tower is kept.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/error.h"
#include "base/json_util.h"
#include "graph/build.h"
#include "graph/fuse.h"
#include "runtime/clip_model.h"
#include "runtime/model.h"
#include "tokenizer/clip_bpe.h"
#include "tokenizer/wordpiece.h"

typedef struct tower {
    t2i_weights *w;
    t2i_plan *plan;
    int batch, len;   /* of the cached plan */
} tower;

struct t2i_clip_model {
    t2i_engine *eng;
    char *dir;
    t2i_clip_model_config cfg;
    t2i_clip_preprocess pre;
    t2i_clip_tokenizer *tok;   /* CLIP */
    t2i_wordpiece *wp;         /* ChineseCLIP */
    tower text, vision;
};

static void tower_free(tower *t)
{
    t2i_plan_destroy(t->plan);
    t2i_weights_destroy(t->w);
    memset(t, 0, sizeof *t);
}

void t2i_clip_model_destroy(t2i_clip_model *m)
{
    if (!m) return;
    tower_free(&m->text);
    tower_free(&m->vision);
    t2i_clip_tokenizer_destroy(m->tok);
    t2i_wordpiece_destroy(m->wp);
    free(m->dir);
    free(m);
}

const t2i_clip_model_config *t2i_clip_model_config_of(const t2i_clip_model *m) { return &m->cfg; }
const t2i_clip_preprocess *t2i_clip_model_preprocess(const t2i_clip_model *m) { return &m->pre; }
int t2i_clip_model_dim(const t2i_clip_model *m) { return m->cfg.projection_dim; }

/* A size entry: an int, {"shortest_edge": n} or {"height": h, "width": w}. */
static void size_entry(t2i_jctx *c, const cJSON *j, const char *key, int *shortest, int *h, int *w)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v) return;
    if (cJSON_IsNumber(v)) {
        int n = t2i_jint(c, j, key, 224, 1, 8192);
        if (shortest) *shortest = n;
        if (h) *h = *w = n;
        return;
    }
    if (!cJSON_IsObject(v)) {
        t2i_jerror(c, T2I_ERR_FORMAT, key, "not a number or an object");
        return;
    }
    if (shortest && cJSON_GetObjectItemCaseSensitive(v, "shortest_edge")) {
        *shortest = t2i_jint(c, v, "shortest_edge", 224, 1, 8192);
        return;
    }
    int hh = t2i_jint(c, v, "height", 0, 1, 8192), ww = t2i_jint(c, v, "width", 0, 1, 8192);
    if (c->status != T2I_OK) return;
    if (h) {
        *h = hh;
        *w = ww;
    } else if (hh != ww) {
        t2i_jerror(c, T2I_ERR_UNSUPPORTED, key, "only a shortest edge or a square size is supported");
    } else {
        *shortest = hh;
    }
}

static void float3(t2i_jctx *c, const cJSON *j, const char *key, float *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v) return;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 3) {
        t2i_jerror(c, T2I_ERR_FORMAT, key, "not an array of 3 numbers");
        return;
    }
    for (int i = 0; i < 3; i++) {
        const cJSON *e = cJSON_GetArrayItem(v, i);
        if (!cJSON_IsNumber(e)) {
            t2i_jerror(c, T2I_ERR_FORMAT, key, "not an array of 3 numbers");
            return;
        }
        out[i] = (float)e->valuedouble;
    }
}

/* preprocessor_config.json; CLIPImageProcessor's defaults where absent
 * (also when the file is). */
static t2i_status load_preprocess(const char *dir, t2i_clip_preprocess *p)
{
    *p = (t2i_clip_preprocess){true, true, true, true, true, 224, 224, 224, 3, 1.0 / 255,
                               {0.48145466f, 0.4578275f, 0.40821073f}, {0.26862954f, 0.26130258f, 0.27577711f}};
    char *path = t2i_path_join(dir, "preprocessor_config.json");
    if (!path) return t2i_fail(T2I_ERR_NOMEM, "out of memory");
    FILE *f = fopen(path, "rb");
    if (!f) {
        free(path);
        return T2I_OK;
    }
    fclose(f);
    cJSON *j;
    t2i_status st = t2i_json_load(path, &j);
    if (st != T2I_OK) {
        free(path);
        return st;
    }
    t2i_jctx c = {path, T2I_OK};
    p->do_convert_rgb = t2i_jbool(&c, j, "do_convert_rgb", true);
    p->do_resize = t2i_jbool(&c, j, "do_resize", true);
    p->do_center_crop = t2i_jbool(&c, j, "do_center_crop", true);
    p->do_rescale = t2i_jbool(&c, j, "do_rescale", true);
    p->do_normalize = t2i_jbool(&c, j, "do_normalize", true);
    size_entry(&c, j, "size", &p->shortest_edge, NULL, NULL);
    size_entry(&c, j, "crop_size", NULL, &p->crop_height, &p->crop_width);
    p->resample = t2i_jint(&c, j, "resample", 3, 0, 5);
    if (c.status == T2I_OK && (p->resample == 4 || p->resample == 5))
        t2i_jerror(&c, T2I_ERR_UNSUPPORTED, "resample", "box and hamming filters are not supported");
    p->rescale_factor = t2i_jnum(&c, j, "rescale_factor", 1.0 / 255);
    float3(&c, j, "image_mean", p->mean);
    float3(&c, j, "image_std", p->std);
    for (int i = 0; i < 3 && c.status == T2I_OK; i++)
        if (!(p->std[i] > 0)) t2i_jerror(&c, T2I_ERR_FORMAT, "image_std", "values must be positive");
    cJSON_Delete(j);
    free(path);
    return c.status;
}

static t2i_status build_text(const t2i_clip_model *m, int batch, int len, t2i_graph **g)
{
    if (m->cfg.chinese) return t2i_build_bert_text_ex(&m->cfg.bert, batch, len, "text_model", m->cfg.projection_dim, g);
    return t2i_build_clip_text_ex(&m->cfg.text, batch, len, &(t2i_clip_outputs){.pooled = true}, g);
}

/* Upload a tower's weights through a batch-1 graph. */
static t2i_status load_tower(t2i_clip_model *m, const t2i_st_set *set, bool vision)
{
    t2i_graph *g = NULL;
    if (vision) T2I_TRY(t2i_build_clip_vision(&m->cfg.vision, 1, &g));
    else T2I_TRY(build_text(m, 1, 2, &g));
    t2i_status st = t2i_weights_load(m->eng->be, set, g, vision ? "image encoder" : "text encoder", NULL,
                                     vision ? &m->vision.w : &m->text.w);
    t2i_graph_destroy(g);
    return st;
}

t2i_status t2i_clip_model_load(t2i_engine *e, const char *dir, t2i_clip_model **out)
{
    *out = NULL;
    if (!e || !dir) return t2i_fail(T2I_ERR_INVALID_ARG, "clip model: engine and folder are required");
    t2i_clip_model *m = calloc(1, sizeof *m);
    if (!m || !(m->dir = strdup(dir))) {
        free(m);
        return t2i_fail(T2I_ERR_NOMEM, "out of memory");
    }
    m->eng = e;
    char *cfg = t2i_path_join(dir, "config.json");
    t2i_status st = cfg ? t2i_clip_model_config_load(cfg, &m->cfg) : t2i_fail(T2I_ERR_NOMEM, "out of memory");
    free(cfg);
    if (st == T2I_OK) st = load_preprocess(dir, &m->pre);
    if (st == T2I_OK && m->pre.do_center_crop &&
        (m->pre.crop_height != m->cfg.vision.image_size || m->pre.crop_width != m->cfg.vision.image_size))
        st = t2i_fail(T2I_ERR_FORMAT, "%s: preprocessor crop %dx%d differs from the vision tower's image_size %d",
                      dir, m->pre.crop_width, m->pre.crop_height, m->cfg.vision.image_size);
    if (st == T2I_OK) {   /* the tokenizer files in the folder, or in its tokenizer/ (shared by a link) */
        char *sub = t2i_path_join(dir, "tokenizer"), *probe = t2i_path_join(dir, m->cfg.chinese ? "vocab.txt" : "vocab.json");
        const char *tdir = probe && access(probe, R_OK) != 0 && sub && access(sub, R_OK) == 0 ? sub : dir;
        st = !sub || !probe ? t2i_fail(T2I_ERR_NOMEM, "out of memory")
             : m->cfg.chinese ? t2i_wordpiece_load(tdir, &m->wp)
                              : t2i_clip_tokenizer_load(tdir, &m->tok);
        free(sub);
        free(probe);
    }
    t2i_st_set *set = NULL;
    if (st == T2I_OK) st = t2i_st_set_open_dir(dir, &set);
    if (st == T2I_OK) st = load_tower(m, set, false);
    if (st == T2I_OK) st = load_tower(m, set, true);
    t2i_st_set_destroy(set);
    if (st != T2I_OK) {
        t2i_clip_model_destroy(m);
        return st;
    }
    *out = m;
    return T2I_OK;
}

/* The tower's plan for (batch, len), compiled when it differs from the last. */
static t2i_status tower_plan(t2i_clip_model *m, tower *t, bool vision, int batch, int len, t2i_plan **out)
{
    if (t->plan && t->batch == batch && t->len == len) {
        *out = t->plan;
        return T2I_OK;
    }
    t2i_plan_destroy(t->plan);
    t->plan = NULL;
    t2i_graph *g = NULL;
    if (vision) T2I_TRY(t2i_build_clip_vision(&m->cfg.vision, batch, &g));
    else T2I_TRY(build_text(m, batch, len, &g));
    t2i_status st = t2i_graph_optimize(g);
    if (st != T2I_OK) {
        t2i_graph_destroy(g);
        return st;
    }
    T2I_TRY(t2i_plan_create(g, m->eng->be, t->w, &t->plan));
    t->batch = batch;
    t->len = len;
    *out = t->plan;
    return T2I_OK;
}

t2i_status t2i_clip_model_image_embeds(t2i_clip_model *m, const float *pixels, int batch, float *out)
{
    if (batch < 1 || batch > 256) return t2i_fail(T2I_ERR_INVALID_ARG, "image embeddings: batch %d outside 1..256", batch);
    const int S = m->cfg.vision.image_size;
    t2i_plan *p;
    T2I_TRY(tower_plan(m, &m->vision, true, batch, 0, &p));
    int32_t *zeros = calloc((size_t)batch, sizeof *zeros);
    if (!zeros) return t2i_fail(T2I_ERR_NOMEM, "out of memory");
    t2i_status st = t2i_plan_set_input(p, "class_ids", zeros, (size_t)batch * sizeof *zeros);
    free(zeros);
    if (st == T2I_OK) st = t2i_plan_set_input(p, "pixel_values", pixels, (size_t)batch * 3 * S * S * sizeof(float));
    if (st == T2I_OK) st = t2i_plan_run(p);
    if (st == T2I_OK)
        st = t2i_plan_get_output(p, "image_embeds", out, (size_t)batch * m->cfg.projection_dim * sizeof(float));
    return st;
}

t2i_status t2i_clip_model_tokenize(const t2i_clip_model *m, const char *text, int32_t **ids, int *n)
{
    *ids = NULL;
    *n = 0;
    int32_t *raw = NULL;
    int nr = 0;
    const int max = m->cfg.chinese ? m->cfg.bert.max_positions : m->cfg.text.max_positions;
    T2I_TRY(m->cfg.chinese ? t2i_wordpiece_tokenize(m->wp, text ? text : "", &raw, &nr)
                           : t2i_clip_tokenize(m->tok, text ? text : "", &raw, &nr));
    if (nr > max - 2) nr = max - 2;   /* truncation=True, as the processors do */
    int32_t *o = malloc((size_t)(nr + 2) * sizeof *o);
    if (!o) {
        free(raw);
        return t2i_fail(T2I_ERR_NOMEM, "out of memory");
    }
    o[0] = m->cfg.chinese ? t2i_wordpiece_cls(m->wp) : t2i_clip_bos(m->tok);
    if (nr) memcpy(o + 1, raw, (size_t)nr * sizeof *o);
    o[nr + 1] = m->cfg.chinese ? t2i_wordpiece_sep(m->wp) : t2i_clip_eos(m->tok);
    free(raw);
    *ids = o;
    *n = nr + 2;
    return T2I_OK;
}

t2i_status t2i_clip_model_text_embeds_ids(t2i_clip_model *m, const int32_t *ids, int n, float *out)
{
    const int max = m->cfg.chinese ? m->cfg.bert.max_positions : m->cfg.text.max_positions;
    if (n < 1 || n > max) return t2i_fail(T2I_ERR_INVALID_ARG, "text embeddings: %d tokens outside 1..%d", n, max);
    t2i_plan *p;
    T2I_TRY(tower_plan(m, &m->text, false, 1, n, &p));
    T2I_TRY(t2i_plan_set_input(p, "ids", ids, (size_t)n * sizeof *ids));
    if (!m->cfg.chinese) {
        int32_t at = t2i_clip_pool_position(&m->cfg.text, ids, n);
        T2I_TRY(t2i_plan_set_input(p, "pool_index", &at, sizeof at));
    }
    T2I_TRY(t2i_plan_run(p));
    return t2i_plan_get_output(p, m->cfg.chinese ? "text_embeds" : "pooled", out,
                               (size_t)m->cfg.projection_dim * sizeof(float));
}

t2i_status t2i_clip_model_text_embeds(t2i_clip_model *m, const char *text, float *out)
{
    int32_t *ids = NULL;
    int n = 0;
    T2I_TRY(t2i_clip_model_tokenize(m, text, &ids, &n));
    t2i_status st = t2i_clip_model_text_embeds_ids(m, ids, n, out);
    free(ids);
    return st;
}
