/*
 * vae_tiled.c — tiled VAE decode and encode (see vae_tiled.h).
 *
 * Along one axis of n units (latent or pixel) a tile of t units with
 * overlap o starts at min(i·(t − o), n − t), i = 0 … ceil((n − t)/(t − o)).
 * Blending: a tile's weight along the axis rises linearly over the first o
 * output units after an inner edge, (k + 0.5)/o, and falls the same way
 * before its inner far edge (edges on the image border keep weight 1), so
 * two neighbours' weights over their overlap sum to one. The 2-D weight is
 * w_x·w_y; since the tiles form a grid, the weight sum at (y, x) is
 * S_y(y)·S_x(x), and the blended value is the weighted sum divided by it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/error.h"
#include "graph/build.h"
#include "graph/fuse.h"
#include "graph/planner.h"
#include "runtime/vae_tiled.h"

#define ARENA_ALIGN 256   /* runtime/plan.c's */

t2i_status t2i_vae_tiling_check(const t2i_vae_config *c, int tile, int overlap)
{
    const int f = t2i_vae_scale(c);
    if (overlap < 0 || overlap % f)
        return t2i_fail(T2I_ERR_INVALID_ARG, "vae tile overlap %d: must be a multiple of %d (the VAE factor) >= 0",
                        overlap, f);
    if (tile == 0) return T2I_OK;
    if (tile < 0 || tile % f)
        return t2i_fail(T2I_ERR_INVALID_ARG, "vae tile size %d: must be a positive multiple of %d (the VAE factor)",
                        tile, f);
    if (tile <= overlap)
        return t2i_fail(T2I_ERR_INVALID_ARG, "vae tile size %d must exceed the tile overlap %d", tile, overlap);
    return T2I_OK;
}

/* Tile starts along an axis of n units; returns the count (<= max). */
static int tile_starts(int n, int t, int o, int *start, int max)
{
    if (n <= t) {
        start[0] = 0;
        return 1;
    }
    const int s = t - o, k = (n - t + s - 1) / s + 1;
    T2I_ASSERT(k <= max);
    for (int i = 0; i < k; i++) start[i] = i * s < n - t ? i * s : n - t;
    return k;
}

/* Weight along an axis at position k (0 <= k < t, output units) of a tile
 * starting at a, image size n, overlap r: at an inner edge the first r/4
 * units (whose receptive field reaches past the tile's zero padding) get
 * weight 0, the next r/2 a linear ramp, (k − r/4 + 0.5)/(r/2); two
 * neighbours' weights over an overlap of exactly r sum to one. */
static float ramp(int k, int a, int t, int n, int r)
{
    const int m = r / 4, rr = r - 2 * m;
    float w = 1.0f;
    if (rr <= 0) return w;
    if (a > 0) w = k < m ? 0.0f : k < m + rr ? (k - m + 0.5f) / rr : 1.0f;
    if (a + t < n) {
        const int d = t - 1 - k;
        float v = d < m ? 0.0f : d < m + rr ? (d - m + 0.5f) / rr : 1.0f;
        if (v < w) w = v;
    }
    return w;
}

/* One axis of the tiling: tiles chosen in latent units (n, t, o), cut from
 * the input at in_scale units per latent unit and placed in the output at
 * out_scale (decode: 1 and f; encode: f and 1), with the output weights
 * [k][t_out] and their sums [n_out]. */
typedef struct axis {
    int k;
    int n_in, t_in, n_out, t_out;
    int *start_in, *start_out;
    float *w, *sum;
} axis;

static t2i_status axis_init(axis *a, int n, int t, int o, int in_scale, int out_scale)
{
    memset(a, 0, sizeof *a);
    if (t > n) t = n;
    const int max = n / (t - o > 0 ? t - o : 1) + 2;
    a->n_in = n * in_scale, a->t_in = t * in_scale, a->n_out = n * out_scale, a->t_out = t * out_scale;
    a->start_in = malloc((size_t)max * sizeof *a->start_in);
    a->start_out = malloc((size_t)max * sizeof *a->start_out);
    a->w = malloc((size_t)max * a->t_out * sizeof *a->w);
    a->sum = calloc((size_t)a->n_out, sizeof *a->sum);
    if (!a->start_in || !a->start_out || !a->w || !a->sum) return t2i_fail(T2I_ERR_NOMEM, "vae tiles: out of memory");
    a->k = tile_starts(n, t, o, a->start_out, max);
    for (int i = 0; i < a->k; i++) {
        const int s0 = a->start_out[i];
        a->start_in[i] = s0 * in_scale;
        a->start_out[i] = s0 * out_scale;
        for (int x = 0; x < a->t_out; x++) {
            float w = ramp(x, a->start_out[i], a->t_out, a->n_out, o * out_scale);
            a->w[(size_t)i * a->t_out + x] = w;
            a->sum[a->start_out[i] + x] += w;
        }
    }
    return T2I_OK;
}

static void axis_free(axis *a)
{
    free(a->start_in);
    free(a->start_out);
    free(a->w);
    free(a->sum);
}

/* The GroupNorms of a tile graph built with external statistics
 * (graph/build.h, t2i_build_vae_*_gn): per norm its channels and the
 * tile's size at its layer, and the whole image's statistics so far. */
typedef struct gn_norms {
    int n;
    int *C, *H, *W;          /* [n] */
    float **a, **b;          /* [n][C]: rstd, −mean·rstd per channel */
    float *mask;             /* one mask, the largest layer */
    float *part;             /* [C] partial sums of one tile */
    double *sum, *sqsum;     /* [C] of the norm being gathered */
} gn_norms;

static void gn_free(gn_norms *q)
{
    for (int k = 0; k < q->n; k++) {
        if (q->a) free(q->a[k]);
        if (q->b) free(q->b[k]);
    }
    free(q->C), free(q->H), free(q->W), free(q->a), free(q->b), free(q->mask), free(q->part), free(q->sum),
        free(q->sqsum);
}

/* Read the norms' shapes from g (before it is planned). */
static t2i_status gn_init(gn_norms *q, const t2i_graph *g)
{
    memset(q, 0, sizeof *q);
    q->n = g->gn_count;
    const size_t n = (size_t)(q->n ? q->n : 1);
    q->C = calloc(n, sizeof *q->C), q->H = calloc(n, sizeof *q->H), q->W = calloc(n, sizeof *q->W);
    q->a = calloc(n, sizeof *q->a), q->b = calloc(n, sizeof *q->b);
    if (!q->C || !q->H || !q->W || !q->a || !q->b) return t2i_fail(T2I_ERR_NOMEM, "vae tiles: out of memory");
    size_t most = 1, most_c = 1;
    for (int t = 0; t < g->n_tensors; t++) {
        const t2i_tensor *tt = &g->tensors[t];
        int k;
        char kind[8];
        if (!tt->name || sscanf(tt->name, "gn%d.%7s", &k, kind) != 2 || k < 0 || k >= q->n) continue;
        if (!strcmp(kind, "mask")) {
            q->H[k] = 0;   /* set from "a" below; the mask gives H·W */
            q->W[k] = (int)tt->ne[1];
        } else if (!strcmp(kind, "a")) {
            q->C[k] = (int)tt->ne[0];
        }
    }
    for (int k = 0; k < q->n; k++) {
        if (!q->C[k] || !q->W[k]) return t2i_fail(T2I_ERR_INTERNAL, "vae tiles: GroupNorm %d has no inputs", k);
        q->a[k] = malloc((size_t)q->C[k] * sizeof(float));
        q->b[k] = malloc((size_t)q->C[k] * sizeof(float));
        if (!q->a[k] || !q->b[k]) return t2i_fail(T2I_ERR_NOMEM, "vae tiles: out of memory");
        for (int c = 0; c < q->C[k]; c++) q->a[k][c] = 1.0f, q->b[k][c] = 0.0f;
        if ((size_t)q->W[k] > most) most = (size_t)q->W[k];
        if ((size_t)q->C[k] > most_c) most_c = (size_t)q->C[k];
    }
    q->mask = malloc(most * sizeof *q->mask);
    q->part = malloc(most_c * sizeof *q->part);
    q->sum = malloc(most_c * sizeof *q->sum);
    q->sqsum = malloc(most_c * sizeof *q->sqsum);
    if (!q->mask || !q->part || !q->sum || !q->sqsum) return t2i_fail(T2I_ERR_NOMEM, "vae tiles: out of memory");
    return T2I_OK;
}

/* The rows [lo, hi) of an axis that tile i owns at a layer of `s` units per
 * latent unit, in tile coordinates: the overlaps are split at their middle,
 * so the tiles' owned parts cover the image once. */
static void owned(const axis *a, const int *lat_start, int t_lat, int i, int s, int *lo, int *hi)
{
    const int st = lat_start[i];
    int g_lo = i == 0 ? 0 : ((st + lat_start[i - 1] + t_lat) * s) / 2;
    int g_hi = i == a->k - 1 ? (st + t_lat) * s : ((lat_start[i + 1] + st + t_lat) * s) / 2;
    *lo = g_lo - st * s;
    *hi = g_hi - st * s;
}

/* Run `plan` (a tile graph with external GroupNorm statistics, norms q)
 * over the tiles of `in` [C_in][ty.n_in][tx.n_in]: one pass per GroupNorm
 * gathers the whole image's statistics of that norm (the earlier ones
 * applied with their whole-image figures), then a last pass blends output
 * `out_name` into out [C_out][ty.n_out][tx.n_out] (out2 / out2_name
 * likewise when out2 is non-NULL). lat_y/lat_x: the tile starts in latent
 * units, t_lat_y/x the tile's latent size; groups and eps of the norms. */
static t2i_status run_tiles(t2i_plan *plan, gn_norms *q, const char *in_name, const float *in, int C_in,
                            const axis *ty, const axis *tx, const int *lat_y, const int *lat_x, int t_lat_y, int t_lat_x,
                            int groups, float eps, const char *out_name, float *out, const char *out2_name, float *out2,
                            int C_out)
{
    const int th = ty->t_in, tw = tx->t_in, Hi = ty->n_in, Wi = tx->n_in;
    const int TH = ty->t_out, TW = tx->t_out, Ho = ty->n_out, Wo = tx->n_out;
    const size_t n_in = (size_t)C_in * th * tw, n_out = (size_t)C_out * TH * TW;
    const int n_outs = out2 ? 2 : 1;
    float *tin = malloc(n_in * sizeof *tin), *tout = malloc(n_out * sizeof *tout);
    t2i_status st = tin && tout ? T2I_OK : t2i_fail(T2I_ERR_NOMEM, "vae tiles: out of memory");
    for (int o = 0; o < n_outs && st == T2I_OK; o++) memset(o ? out2 : out, 0, (size_t)C_out * Ho * Wo * sizeof(float));
    char nm[32];
    for (int pass = 0; pass <= q->n && st == T2I_OK; pass++) {
        const int k = pass < q->n ? pass : -1;   /* the norm gathered in this pass; -1: the output pass */
        if (k >= 0) {
            memset(q->sum, 0, (size_t)q->C[k] * sizeof *q->sum);
            memset(q->sqsum, 0, (size_t)q->C[k] * sizeof *q->sqsum);
        }
        for (int j = 0; j < ty->k && st == T2I_OK; j++)
            for (int i = 0; i < tx->k && st == T2I_OK; i++) {
                const int yi = ty->start_in[j], xi = tx->start_in[i], yo = ty->start_out[j], xo = tx->start_out[i];
                for (int c = 0; c < C_in; c++)
                    for (int y = 0; y < th; y++)
                        memcpy(tin + ((size_t)c * th + y) * tw, in + ((size_t)c * Hi + yi + y) * Wi + xi,
                               (size_t)tw * sizeof *tin);
                st = t2i_plan_set_input(plan, in_name, tin, n_in * sizeof *tin);
                for (int n = 0; n < q->n && st == T2I_OK; n++) {
                    /* layer size: the mask's H·W over the tile's latent aspect */
                    const int s = (int)lrint(sqrt((double)q->W[n] / ((double)t_lat_y * t_lat_x)));
                    const int lh = t_lat_y * s, lw = t_lat_x * s;
                    int y0, y1, x0, x1;
                    owned(ty, lat_y, t_lat_y, j, s, &y0, &y1);
                    owned(tx, lat_x, t_lat_x, i, s, &x0, &x1);
                    for (int y = 0; y < lh; y++)
                        for (int x = 0; x < lw; x++)
                            q->mask[(size_t)y * lw + x] = y >= y0 && y < y1 && x >= x0 && x < x1 ? 1.0f : 0.0f;
                    snprintf(nm, sizeof nm, "gn%d.mask", n);
                    st = t2i_plan_set_input(plan, nm, q->mask, (size_t)lh * lw * sizeof(float));
                    snprintf(nm, sizeof nm, "gn%d.a", n);
                    if (st == T2I_OK) st = t2i_plan_set_input(plan, nm, q->a[n], (size_t)q->C[n] * sizeof(float));
                    snprintf(nm, sizeof nm, "gn%d.b", n);
                    if (st == T2I_OK) st = t2i_plan_set_input(plan, nm, q->b[n], (size_t)q->C[n] * sizeof(float));
                }
                if (st == T2I_OK) st = t2i_plan_run(plan);
                if (k >= 0) {
                    snprintf(nm, sizeof nm, "gn%d.sum", k);
                    if (st == T2I_OK) st = t2i_plan_get_output(plan, nm, q->part, (size_t)q->C[k] * sizeof(float));
                    for (int c = 0; st == T2I_OK && c < q->C[k]; c++) q->sum[c] += q->part[c];
                    snprintf(nm, sizeof nm, "gn%d.sqsum", k);
                    if (st == T2I_OK) st = t2i_plan_get_output(plan, nm, q->part, (size_t)q->C[k] * sizeof(float));
                    for (int c = 0; st == T2I_OK && c < q->C[k]; c++) q->sqsum[c] += q->part[c];
                    continue;
                }
                for (int o = 0; o < n_outs && st == T2I_OK; o++) {
                    float *dst = o ? out2 : out;
                    st = t2i_plan_get_output(plan, o ? out2_name : out_name, tout, n_out * sizeof *tout);
                    const float *wy = ty->w + (size_t)j * TH, *wx = tx->w + (size_t)i * TW;
                    for (int c = 0; st == T2I_OK && c < C_out; c++)
                        for (int y = 0; y < TH; y++) {
                            float *row = dst + ((size_t)c * Ho + yo + y) * Wo + xo;
                            const float *src = tout + ((size_t)c * TH + y) * TW;
                            for (int x = 0; x < TW; x++) row[x] += src[x] * wy[y] * wx[x];
                        }
                }
            }
        if (k >= 0 && st == T2I_OK) {   /* the whole image's figures of norm k (biased variance, as torch) */
            const int C = q->C[k], cpg = C / groups;
            const int s = (int)lrint(sqrt((double)q->W[k] / ((double)t_lat_y * t_lat_x)));
            const double count = (double)cpg * (ty->n_out / (double)ty->t_out * t_lat_y * s) *
                                 (tx->n_out / (double)tx->t_out * t_lat_x * s);
            for (int gi = 0; gi < groups; gi++) {
                double m1 = 0, m2 = 0;
                for (int c = gi * cpg; c < (gi + 1) * cpg; c++) m1 += q->sum[c], m2 += q->sqsum[c];
                m1 /= count;
                m2 = m2 / count - m1 * m1;
                const double rstd = 1.0 / sqrt((m2 > 0 ? m2 : 0) + eps);
                for (int c = gi * cpg; c < (gi + 1) * cpg; c++) q->a[k][c] = (float)rstd, q->b[k][c] = (float)(-m1 * rstd);
            }
        }
    }
    for (int o = 0; o < n_outs && st == T2I_OK; o++) {
        float *dst = o ? out2 : out;
        for (int c = 0; c < C_out; c++)
            for (int y = 0; y < Ho; y++)
                for (int x = 0; x < Wo; x++) dst[((size_t)c * Ho + y) * Wo + x] /= ty->sum[y] * tx->sum[x];
    }
    free(tin);
    free(tout);
    return st;
}

/* The tile plan with external GroupNorm statistics (not cached: a tiled
 * run compiles it once), its norms read from the graph. */
static t2i_status gn_plan(t2i_model *m, int encode, int h, int w, t2i_plan **plan, gn_norms *q)
{
    t2i_graph *g = NULL;
    *plan = NULL;
    memset(q, 0, sizeof *q);
    T2I_TRY(encode ? t2i_build_vae_encoder_gn(&m->vae_cfg, h, w, &g) : t2i_build_vae_decoder_gn(&m->vae_cfg, h, w, &g));
    t2i_status st = gn_init(q, g);
    if (st == T2I_OK) st = t2i_graph_optimize(g);   /* as the model's plans (runtime/model.c) */
    if (st == T2I_OK) return t2i_plan_create(g, m->eng->be, m->vae_w, plan);
    t2i_graph_destroy(g);
    return st;
}

/* The latent tile starts of an axis (its output or input starts / scale). */
static int *lat_starts(const axis *a, int scale, int from_out)
{
    int *s = malloc((size_t)a->k * sizeof *s);
    for (int i = 0; s && i < a->k; i++) s[i] = (from_out ? a->start_out[i] : a->start_in[i]) / scale;
    return s;
}

#define VAE_EPS 1e-6f   /* graph/build_vae.c: every VAE norm */

t2i_status t2i_vae_decode_tiled(t2i_model *m, const float *latents, int h, int w, int tile, int overlap, float *image)
{
    const t2i_vae_config *c = &m->vae_cfg;
    T2I_TRY(t2i_vae_tiling_check(c, tile, overlap));
    const int f = t2i_vae_scale(c);
    if (tile == 0) tile = (h > w ? h : w) * f, overlap = 0;
    axis ty, tx;
    gn_norms q;
    memset(&tx, 0, sizeof tx);
    memset(&q, 0, sizeof q);
    t2i_status st = axis_init(&ty, h, tile / f, overlap / f, 1, f);
    if (st == T2I_OK) st = axis_init(&tx, w, tile / f, overlap / f, 1, f);
    t2i_plan *plan = NULL;
    if (st == T2I_OK && ty.k == 1 && tx.k == 1) {   /* one tile: the whole-image plan, exactly */
        st = t2i_model_vae_decoder_plan(m, 1, h, w, &plan);
        if (st == T2I_OK) st = t2i_plan_set_input(plan, "latents", latents, (size_t)c->latent_channels * h * w * 4);
        if (st == T2I_OK) st = t2i_plan_run(plan);
        if (st == T2I_OK) st = t2i_plan_get_output(plan, "image", image, (size_t)3 * h * w * f * f * sizeof(float));
        plan = NULL;
    } else if (st == T2I_OK) {
        int *ly = lat_starts(&ty, 1, 0), *lx = lat_starts(&tx, 1, 0);
        st = ly && lx ? gn_plan(m, 0, ty.t_in, tx.t_in, &plan, &q) : t2i_fail(T2I_ERR_NOMEM, "vae tiles: out of memory");
        if (st == T2I_OK)
            st = run_tiles(plan, &q, "latents", latents, c->latent_channels, &ty, &tx, ly, lx, ty.t_in, tx.t_in,
                           c->norm_num_groups, VAE_EPS, "image", image, NULL, NULL, 3);
        free(ly), free(lx);
        t2i_plan_destroy(plan);
    }
    gn_free(&q);
    axis_free(&ty);
    axis_free(&tx);
    return st;
}

t2i_status t2i_vae_encode_tiled(t2i_model *m, const float *image, int H, int W, int tile, int overlap, float *mean,
                                float *logvar)
{
    const t2i_vae_config *c = &m->vae_cfg;
    T2I_TRY(t2i_vae_tiling_check(c, tile, overlap));
    const int f = t2i_vae_scale(c), L = c->latent_channels;
    if (H % f || W % f)
        return t2i_fail(T2I_ERR_INVALID_ARG, "vae encode: image %dx%d is not a multiple of %d", W, H, f);
    if (tile == 0) tile = H > W ? H : W, overlap = 0;
    axis ty, tx;
    gn_norms q;
    memset(&tx, 0, sizeof tx);
    memset(&q, 0, sizeof q);
    t2i_status st = axis_init(&ty, H / f, tile / f, overlap / f, f, 1);
    if (st == T2I_OK) st = axis_init(&tx, W / f, tile / f, overlap / f, f, 1);
    t2i_plan *plan = NULL;
    const size_t nl = (size_t)L * (H / f) * (W / f);
    if (st == T2I_OK && ty.k == 1 && tx.k == 1) {   /* one tile: the whole-image plan, exactly */
        st = t2i_model_vae_encoder_plan(m, 1, H, W, &plan);
        if (st == T2I_OK) st = t2i_plan_set_input(plan, "image", image, (size_t)3 * H * W * sizeof(float));
        if (st == T2I_OK) st = t2i_plan_run(plan);
        if (st == T2I_OK) st = t2i_plan_get_output(plan, "mean", mean, nl * sizeof(float));
        if (st == T2I_OK && logvar) st = t2i_plan_get_output(plan, "logvar", logvar, nl * sizeof(float));
        plan = NULL;
    } else if (st == T2I_OK) {
        int *ly = lat_starts(&ty, 1, 1), *lx = lat_starts(&tx, 1, 1);
        st = ly && lx ? gn_plan(m, 1, ty.t_in, tx.t_in, &plan, &q) : t2i_fail(T2I_ERR_NOMEM, "vae tiles: out of memory");
        if (st == T2I_OK)
            st = run_tiles(plan, &q, "image", image, 3, &ty, &tx, ly, lx, ty.t_out, tx.t_out, c->norm_num_groups,
                           VAE_EPS, "mean", mean, logvar ? "logvar" : NULL, logvar, L);
        free(ly), free(lx);
        t2i_plan_destroy(plan);
    }
    gn_free(&q);
    axis_free(&ty);
    axis_free(&tx);
    return st;
}

/* The planner's arena for a graph (consumed); 0 after an error. */
static size_t arena_of(t2i_status st, t2i_graph *g, size_t act_size)
{
    size_t peak = 0;
    t2i_memory_plan mp;
    if (st == T2I_OK) st = t2i_graph_optimize(g);   /* the graphs plans are made from */
    if (st == T2I_OK && t2i_plan_memory(g, act_size, ARENA_ALIGN, &mp) == T2I_OK) {
        peak = mp.peak_bytes;
        t2i_memory_plan_free(&mp);
    }
    t2i_graph_destroy(g);
    return peak;
}

static int tile_side(int n, int tile) { return tile && tile < n ? tile : n; }

size_t t2i_vae_decoder_peak_bytes(const t2i_vae_config *c, int H, int W, int tile, size_t act_size)
{
    const int f = t2i_vae_scale(c), th = tile_side(H, tile), tw = tile_side(W, tile);
    t2i_graph *g = NULL;
    t2i_status st = th == H && tw == W ? t2i_build_vae_decoder(c, 1, H / f, W / f, &g)
                                       : t2i_build_vae_decoder_gn(c, th / f, tw / f, &g);
    return arena_of(st, g, act_size);
}

size_t t2i_vae_encoder_peak_bytes(const t2i_vae_config *c, int H, int W, int tile, size_t act_size)
{
    const int th = tile_side(H, tile), tw = tile_side(W, tile);
    t2i_graph *g = NULL;
    t2i_status st = th == H && tw == W ? t2i_build_vae_encoder(c, 1, H, W, &g) : t2i_build_vae_encoder_gn(c, th, tw, &g);
    return arena_of(st, g, act_size);
}

int t2i_vae_auto_tile(const t2i_vae_config *c, int H, int W, int overlap, int encode, size_t max_bytes,
                      size_t act_size)
{
    size_t (*peak)(const t2i_vae_config *, int, int, int, size_t) =
        encode ? t2i_vae_encoder_peak_bytes : t2i_vae_decoder_peak_bytes;
    size_t whole = peak(c, H, W, 0, act_size);
    if (whole && whole <= max_bytes) return 0;
    const int f = t2i_vae_scale(c), step = 64 % f ? f : 64;
    int t = (H > W ? H : W) / step * step;
    for (; t > overlap && t >= step; t -= step) {
        if (t >= H && t >= W) continue;   /* no tiling: the whole image, which does not fit */
        size_t b = peak(c, H, W, t, act_size);
        if (b && b <= max_bytes) return t;
    }
    t2i_fail(T2I_ERR_NOMEM, "vae: no tile above the overlap %d fits a memory cap of %zu bytes (whole image: %zu)",
             overlap, max_bytes, whole);
    return -1;
}
