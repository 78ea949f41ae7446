/*
 * aesthetic.c — the aesthetic head (see aesthetic.h): one weight upload, a
 * plan per batch size (the last one kept).
 */
#include <stdlib.h>
#include <string.h>
#include "base/error.h"
#include "graph/build.h"
#include "runtime/aesthetic.h"
#include "runtime/model.h"

struct t2i_aesthetic {
    t2i_engine *eng;
    int dim;
    t2i_weights *w;
    t2i_plan *plan;
    int batch;
};

void t2i_aesthetic_destroy(t2i_aesthetic *a)
{
    if (!a) return;
    t2i_plan_destroy(a->plan);
    t2i_weights_destroy(a->w);
    free(a);
}

int t2i_aesthetic_dim(const t2i_aesthetic *a) { return a->dim; }

t2i_status t2i_aesthetic_load(t2i_engine *e, const char *path, t2i_aesthetic **out)
{
    *out = NULL;
    t2i_st_file *f = NULL;
    T2I_TRY(t2i_st_open(path, &f));
    const t2i_st_tensor *t = t2i_st_find(f, "layers.0.weight");
    int dim = t && t->ndim == 2 && t->shape[1] > 0 && t->shape[1] <= (1 << 16) ? (int)t->shape[1] : 0;
    t2i_st_close(f);
    if (!dim)
        return t2i_fail(T2I_ERR_FORMAT, "%s: no 2-D tensor 'layers.0.weight' (not an aesthetic predictor head)", path);
    t2i_aesthetic *a = calloc(1, sizeof *a);
    if (!a) return t2i_fail(T2I_ERR_NOMEM, "out of memory");
    a->eng = e;
    a->dim = dim;
    t2i_graph *g = NULL;
    t2i_st_set *set = NULL;
    t2i_status st = t2i_build_aesthetic_head(dim, 1, &g);
    if (st == T2I_OK) st = t2i_st_set_open_file(path, &set);
    if (st == T2I_OK) st = t2i_weights_load(e->be, set, g, path, NULL, &a->w);
    t2i_st_set_destroy(set);
    t2i_graph_destroy(g);
    if (st != T2I_OK) {
        t2i_aesthetic_destroy(a);
        return st;
    }
    *out = a;
    return T2I_OK;
}

t2i_status t2i_aesthetic_run(t2i_aesthetic *a, const float *embeds, int batch, float *scores)
{
    if (batch < 1 || batch > 4096) return t2i_fail(T2I_ERR_INVALID_ARG, "aesthetic: batch %d outside 1..4096", batch);
    if (!a->plan || a->batch != batch) {
        t2i_plan_destroy(a->plan);
        a->plan = NULL;
        t2i_graph *g = NULL;
        T2I_TRY(t2i_build_aesthetic_head(a->dim, batch, &g));
        T2I_TRY(t2i_plan_create(g, a->eng->be, a->w, &a->plan));
        a->batch = batch;
    }
    T2I_TRY(t2i_plan_set_input(a->plan, "embeds", embeds, (size_t)batch * a->dim * sizeof(float)));
    T2I_TRY(t2i_plan_run(a->plan));
    return t2i_plan_get_output(a->plan, "score", scores, (size_t)batch * sizeof(float));
}
