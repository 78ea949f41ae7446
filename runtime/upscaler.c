/*
 * upscaler.c — RRDBNet upscalers (see upscaler.h): architecture from the
 * weight shapes, one weight upload, a plan for the last window size, and
 * the tile loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/error.h"
#include "runtime/model.h"
#include "runtime/plan.h"
#include "runtime/upscaler.h"
#include "runtime/weights.h"

struct t2i_rrdb {
    t2i_engine *eng;
    char *path;
    t2i_rrdbnet_config cfg;
    bool residual_bicubic;
    t2i_weights *w;
    t2i_plan *plan;
    int plan_h, plan_w;
    float *tile_in, *tile_out;    /* host staging for tiled runs */
};

static const t2i_st_tensor *conv_weight(const t2i_st_file *f, const char *name, int64_t cin)
{
    const t2i_st_tensor *t = t2i_st_find(f, name);
    if (!t || t->ndim != 4 || t->shape[2] != 3 || t->shape[3] != 3 || (cin > 0 && t->shape[1] != cin) ||
        t->shape[0] < 1 || t->shape[0] > 4096)
        return NULL;
    return t;
}

t2i_status t2i_rrdb_config_from_file(const t2i_st_file *f, t2i_rrdbnet_config *c)
{
    const char *path = t2i_st_path(f);
    memset(c, 0, sizeof *c);
    const t2i_st_tensor *t = conv_weight(f, "conv_first.weight", 0);
    if (!t)
        return t2i_fail(T2I_ERR_FORMAT, "%s: no 4-D 3x3 tensor 'conv_first.weight' (not an RRDBNet / ESRGAN model)",
                        path);
    if (t->shape[1] == 3) c->scale = 4;
    else if (t->shape[1] == 12) c->scale = 2;
    else
        return t2i_fail(T2I_ERR_FORMAT,
                        "%s: conv_first.weight has %lld input channels (3 for a x4 model, 12 for x2); "
                        "x1 and other variants are not supported",
                        path, (long long)t->shape[1]);
    c->num_feat = (int)t->shape[0];
    const t2i_st_tensor *g = conv_weight(f, "body.0.rdb1.conv1.weight", c->num_feat);
    if (g) c->num_grow_ch = (int)g->shape[0];
    else if (t2i_st_find(f, "body.0.rdb1.conv1.weight"))
        return t2i_fail(T2I_ERR_FORMAT, "%s: body.0.rdb1.conv1.weight is not [grow, %d, 3, 3]", path, c->num_feat);
    else c->num_grow_ch = 32;  /* no blocks at all: the value does not matter */
    int n = 0;
    char name[64];
    for (;;) {
        snprintf(name, sizeof name, "body.%d.rdb1.conv1.weight", n);
        if (!t2i_st_find(f, name) || n >= 1000) break;
        n++;
    }
    c->num_block = n;
    return T2I_OK;
}

const t2i_rrdbnet_config *t2i_rrdb_config(const t2i_rrdb *r) { return &r->cfg; }
bool t2i_rrdb_residual_bicubic(const t2i_rrdb *r) { return r->residual_bicubic; }

void t2i_rrdb_destroy(t2i_rrdb *r)
{
    if (!r) return;
    t2i_plan_destroy(r->plan);
    t2i_weights_destroy(r->w);
    free(r->tile_in);
    free(r->tile_out);
    free(r->path);
    free(r);
}

t2i_status t2i_rrdb_load(t2i_engine *e, const char *path, t2i_rrdb **out)
{
    *out = NULL;
    t2i_st_file *f = NULL;
    T2I_TRY(t2i_st_open(path, &f));
    t2i_rrdbnet_config cfg;
    t2i_status st = t2i_rrdb_config_from_file(f, &cfg);
    const char *res = t2i_st_metadata(f, "t2i.residual");
    bool bicubic = res && strcmp(res, "bicubic") == 0;
    if (st == T2I_OK && res && !bicubic)
        st = t2i_fail(T2I_ERR_FORMAT, "%s: metadata t2i.residual is '%.40s' (only 'bicubic' is known)", path, res);
    t2i_st_close(f);
    if (st != T2I_OK) return st;
    t2i_rrdb *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        free(r);
        return t2i_fail(T2I_ERR_NOMEM, "out of memory");
    }
    r->eng = e;
    r->cfg = cfg;
    r->residual_bicubic = bicubic;
    t2i_graph *g = NULL;
    t2i_st_set *set = NULL;
    /* The smallest graph of this architecture declares every weight. */
    st = t2i_build_rrdbnet(&cfg, 1, 2, 2, &g);
    if (st == T2I_OK) st = t2i_st_set_open_file(path, &set);
    if (st == T2I_OK) st = t2i_weights_load(e->be, set, g, path, NULL, &r->w);
    t2i_st_set_destroy(set);
    t2i_graph_destroy(g);
    if (st != T2I_OK) {
        t2i_rrdb_destroy(r);
        return st;
    }
    *out = r;
    return T2I_OK;
}

/* One pass over a whole h×w image through the plan for that size (unclamped). */
static t2i_status run_whole(t2i_rrdb *r, const float *x, int h, int w, float *y)
{
    if (!r->plan || r->plan_h != h || r->plan_w != w) {
        t2i_plan_destroy(r->plan);
        r->plan = NULL;
        t2i_graph *g = NULL;
        T2I_TRY(t2i_build_rrdbnet(&r->cfg, 1, h, w, &g));
        T2I_TRY(t2i_plan_create(g, r->eng->be, r->w, &r->plan));
        r->plan_h = h;
        r->plan_w = w;
    }
    int s = r->cfg.scale;
    size_t in_n = (size_t)3 * h * w, out_n = in_n * s * s;
    T2I_TRY(t2i_plan_set_input(r->plan, "image", x, in_n * sizeof(float)));
    T2I_TRY(t2i_plan_run(r->plan));
    return t2i_plan_get_output(r->plan, "upscaled", y, out_n * sizeof(float));
}

/* The window [start, start+len) of size len around [a, b) with pad, kept
 * inside [0, n) by shifting (len <= n). */
static int window_start(int a, int pad, int len, int n)
{
    int s = a - pad;
    if (s + len > n) s = n - len;
    return s < 0 ? 0 : s;
}

static t2i_status run_tiles(t2i_rrdb *r, const float *x, int h, int w, int tile, int tile_pad, float *y);

t2i_status t2i_rrdb_run(t2i_rrdb *r, const float *x, int h, int w, int tile, int tile_pad, const float *base,
                        float *y)
{
    int s = r->cfg.scale;
    if (h < 1 || w < 1 || h > 16384 || w > 16384)
        return t2i_fail(T2I_ERR_INVALID_ARG, "upscaler: image %dx%d outside 1..16384", w, h);
    if (tile < 0 || tile_pad < 0)
        return t2i_fail(T2I_ERR_INVALID_ARG, "upscaler: tile %d, tile pad %d (both must be >= 0)", tile, tile_pad);
    if (s == 2 && (h % 2 || w % 2 || tile % 2 || tile_pad % 2))
        return t2i_fail(T2I_ERR_INVALID_ARG,
                        "upscaler: a x2 model needs an even image size, tile and tile pad (got %dx%d, %d, %d)", w, h,
                        tile, tile_pad);
    if (tile == 0 || (tile >= h && tile >= w)) T2I_TRY(run_whole(r, x, h, w, y));
    else T2I_TRY(run_tiles(r, x, h, w, tile, tile_pad, y));
    size_t n = (size_t)3 * h * w * s * s;
    for (size_t i = 0; i < n; i++) {
        float v = base ? y[i] + base[i] : y[i];
        y[i] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    }
    return T2I_OK;
}

/* Real-ESRGAN's tile loop with fixed-size windows (upscaler.h). */
static t2i_status run_tiles(t2i_rrdb *r, const float *x, int h, int w, int tile, int tile_pad, float *y)
{
    int s = r->cfg.scale;

    int wh = tile + 2 * tile_pad < h ? tile + 2 * tile_pad : h;
    int ww = tile + 2 * tile_pad < w ? tile + 2 * tile_pad : w;
    size_t win = (size_t)3 * wh * ww;
    float *ti = realloc(r->tile_in, win * sizeof *ti);
    if (ti) r->tile_in = ti;
    float *to = ti ? realloc(r->tile_out, win * s * s * sizeof *to) : NULL;
    if (to) r->tile_out = to;
    if (!ti || !to) return t2i_fail(T2I_ERR_NOMEM, "upscaler: out of memory for a %dx%d tile", ww, wh);
    int W = w * s;
    for (int ty = 0; ty < h; ty += tile) {
        int y1 = ty + tile < h ? ty + tile : h;
        int oy = window_start(ty, tile_pad, wh, h);
        for (int tx = 0; tx < w; tx += tile) {
            int x1 = tx + tile < w ? tx + tile : w;
            int ox = window_start(tx, tile_pad, ww, w);
            for (int c = 0; c < 3; c++)
                for (int i = 0; i < wh; i++)
                    memcpy(ti + ((size_t)c * wh + i) * ww, x + ((size_t)c * h + oy + i) * w + ox, ww * sizeof *ti);
            T2I_TRY(run_whole(r, ti, wh, ww, to));
            /* keep the piece [ty,y1)×[tx,x1) of this window's output */
            int tw = ww * s;
            for (int c = 0; c < 3; c++)
                for (int i = ty * s; i < y1 * s; i++)
                    memcpy(y + ((size_t)c * h * s + i) * W + (size_t)tx * s,
                           to + ((size_t)c * wh * s + i - oy * s) * tw + (size_t)(tx - ox) * s,
                           (size_t)(x1 - tx) * s * sizeof *y);
        }
    }
    return T2I_OK;
}
