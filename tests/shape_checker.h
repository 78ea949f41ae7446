/*
 * shape_checker.h — deterministic plain image analysis (no neural network) of
 * the procedural "shapes" scenes the embedded default model is trained on
 * (scripts/train/make_dataset.py): one flat-coloured shape on a flat background.
 *
 * On an RGB8 image it decides
 *   - the background colour: the majority vote of the border pixels' nearest
 *     named colour;
 *   - the object: the largest 4-connected component of pixels that are far
 *     from the background colour; its colour is the majority vote of its
 *     interior pixels' nearest named colours;
 *   - its shape: ring if the component encloses a hole (background pixels not
 *     reachable from the border) of at least 8% of its area; else star if it
 *     is clearly non-convex (area / convex hull area < 0.75); else by the fill
 *     ratio of its bounding box: square > 0.885 (ideal 1.0), circle > 0.64
 *     (ideal 0.785), triangle below (ideal 0.5);
 *   - its position: the centre of its bounding box relative to the image centre; within 1/6 of
 *     the size on both axes = centre, else the axis with the larger offset
 *     decides left/right/top/bottom.
 *
 * Everything is static so that each test program can include it.
 */
#ifndef T2I_SHAPE_CHECKER_H
#define T2I_SHAPE_CHECKER_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { SC_NCOLOURS = 8, SC_NSHAPES = 5, SC_NPOS = 5 };

/* Same names and RGB values as COLOURS in scripts/train/make_dataset.py. */
static const char *const sc_colour_names[SC_NCOLOURS] = {
    "red", "green", "blue", "yellow", "orange", "purple", "white", "black"};
static const uint8_t sc_palette[SC_NCOLOURS][3] = {
    {220, 20, 30}, {20, 160, 40}, {20, 50, 220}, {250, 220, 20},
    {250, 130, 0}, {130, 30, 170}, {245, 245, 245}, {15, 15, 15}};
static const char *const sc_shape_names[SC_NSHAPES] = {"circle", "square", "triangle", "star", "ring"};
static const char *const sc_pos_names[SC_NPOS] = {"left", "right", "top", "bottom", "centre"};

typedef struct sc_result {
    int background;  /* index into sc_colour_names, -1 if undecided */
    int colour;      /* object colour, -1 if no object */
    int shape;       /* index into sc_shape_names, -1 if no object */
    int position;    /* index into sc_pos_names, -1 if no object */
    int area;        /* pixels in the object's component */
    int hole;        /* enclosed background pixels */
    double fill;     /* area / bounding box area */
    double solidity; /* area / convex hull area */
    double cx, cy;   /* bounding box centre, 0..1 */
} sc_result;

static int sc_index(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0) return i;
    return -1;
}

static int sc_nearest(const uint8_t *p)
{
    int best = 0;
    long bd = -1;
    for (int c = 0; c < SC_NCOLOURS; c++) {
        long d = 0;
        for (int k = 0; k < 3; k++) {
            long e = (long)p[k] - sc_palette[c][k];
            d += e * e;
        }
        if (bd < 0 || d < bd) { bd = d; best = c; }
    }
    return best;
}

static double sc_dist(const uint8_t *p, const double *q)
{
    double d = 0;
    for (int k = 0; k < 3; k++) d += (p[k] - q[k]) * (p[k] - q[k]);
    return sqrt(d);
}

typedef struct { int x, y; } sc_pt;

static long sc_cross(sc_pt o, sc_pt a, sc_pt b)
{
    return (long)(a.x - o.x) * (b.y - o.y) - (long)(a.y - o.y) * (b.x - o.x);
}

static int sc_pt_cmp(const void *a, const void *b)
{
    const sc_pt *p = a, *q = b;
    return p->x != q->x ? (p->x < q->x ? -1 : 1) : (p->y < q->y ? -1 : p->y > q->y);
}

/* Area of the convex hull of the given points (Andrew's monotone chain). */
static double sc_hull_area(sc_pt *p, int n)
{
    if (n < 3) return 0;
    qsort(p, (size_t)n, sizeof *p, sc_pt_cmp);
    sc_pt *h = malloc(sizeof *h * (size_t)(2 * n));
    if (!h) return 0;
    int k = 0;
    for (int i = 0; i < n; i++) {
        while (k >= 2 && sc_cross(h[k - 2], h[k - 1], p[i]) <= 0) k--;
        h[k++] = p[i];
    }
    for (int i = n - 2, t = k + 1; i >= 0; i--) {
        while (k >= t && sc_cross(h[k - 2], h[k - 1], p[i]) <= 0) k--;
        h[k++] = p[i];
    }
    double a = 0;
    for (int i = 0; i + 1 < k; i++) a += (double)h[i].x * h[i + 1].y - (double)h[i + 1].x * h[i].y;
    free(h);
    return fabs(a) / 2;
}

/* Analyse an RGB8 image (w*h*3 bytes, row-major). Returns 0, or -1 when out
 * of memory (then *r has background only). */
static int sc_analyse(const uint8_t *px, int w, int h, sc_result *r)
{
    memset(r, 0, sizeof *r);
    r->background = r->colour = r->shape = r->position = -1;
    int n = w * h;

    /* background: vote of the 2-pixel border, then the mean of the winners */
    int votes[SC_NCOLOURS] = {0};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (x < 2 || y < 2 || x >= w - 2 || y >= h - 2) votes[sc_nearest(px + 3 * (y * w + x))]++;
    int bg = 0;
    for (int c = 1; c < SC_NCOLOURS; c++)
        if (votes[c] > votes[bg]) bg = c;
    r->background = bg;
    double bgm[3] = {0, 0, 0};
    int nb = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if ((x < 2 || y < 2 || x >= w - 2 || y >= h - 2) && sc_nearest(px + 3 * (y * w + x)) == bg) {
                for (int k = 0; k < 3; k++) bgm[k] += px[3 * (y * w + x) + k];
                nb++;
            }
    for (int k = 0; k < 3; k++) bgm[k] /= nb;

    /* foreground: far from the background colour and not nearest to it */
    uint8_t *fg = calloc((size_t)n, 1);
    int *lab = malloc(sizeof *lab * (size_t)n), *stack = malloc(sizeof *stack * (size_t)n);
    if (!fg || !lab || !stack) { free(fg); free(lab); free(stack); return -1; }
    for (int i = 0; i < n; i++)
        fg[i] = sc_dist(px + 3 * i, bgm) > 60.0 && sc_nearest(px + 3 * i) != bg;

    /* largest 4-connected component */
    for (int i = 0; i < n; i++) lab[i] = 0;
    int nlab = 0, best = 0, best_size = 0;
    for (int i = 0; i < n; i++) {
        if (!fg[i] || lab[i]) continue;
        int sp = 0, size = 0;
        lab[i] = ++nlab;
        stack[sp++] = i;
        while (sp) {
            int j = stack[--sp], x = j % w, y = j / w;
            size++;
            int nb4[4] = {x > 0 ? j - 1 : -1, x < w - 1 ? j + 1 : -1, y > 0 ? j - w : -1, y < h - 1 ? j + w : -1};
            for (int k = 0; k < 4; k++)
                if (nb4[k] >= 0 && fg[nb4[k]] && !lab[nb4[k]]) { lab[nb4[k]] = nlab; stack[sp++] = nb4[k]; }
        }
        if (size > best_size) { best_size = size; best = nlab; }
    }
    if (best_size < 16) { free(fg); free(lab); free(stack); return 0; }

    /* statistics of the component; colour from interior pixels */
    int x0 = w, y0 = h, x1 = -1, y1 = -1, cvotes[SC_NCOLOURS] = {0}, call[SC_NCOLOURS] = {0};
    for (int i = 0; i < n; i++) {
        if (lab[i] != best) continue;
        int x = i % w, y = i / w;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
        int c = sc_nearest(px + 3 * i);
        call[c]++;
        if (x > 0 && x < w - 1 && y > 0 && y < h - 1 && lab[i - 1] == best && lab[i + 1] == best &&
            lab[i - w] == best && lab[i + w] == best)
            cvotes[c]++;
    }
    int tot = 0;
    for (int c = 0; c < SC_NCOLOURS; c++) tot += cvotes[c];
    int *v = tot ? cvotes : call, col = 0;
    for (int c = 1; c < SC_NCOLOURS; c++)
        if (v[c] > v[col]) col = c;
    r->colour = col;
    r->area = best_size;
    r->cx = (x0 + x1 + 1) / 2.0 / w; /* bounding box centre: a triangle's centroid */
    r->cy = (y0 + y1 + 1) / 2.0 / h; /* sits low, its box centre does not */
    r->fill = (double)best_size / ((double)(x1 - x0 + 1) * (y1 - y0 + 1));

    /* holes: pixels outside the component not reachable from the border */
    for (int i = 0; i < n; i++) fg[i] = 0; /* reuse as "reached" */
    int sp = 0;
    for (int i = 0; i < n; i++) {
        int x = i % w, y = i / w;
        if ((x == 0 || y == 0 || x == w - 1 || y == h - 1) && lab[i] != best) { fg[i] = 1; stack[sp++] = i; }
    }
    while (sp) {
        int j = stack[--sp], x = j % w, y = j / w;
        int nb4[4] = {x > 0 ? j - 1 : -1, x < w - 1 ? j + 1 : -1, y > 0 ? j - w : -1, y < h - 1 ? j + w : -1};
        for (int k = 0; k < 4; k++)
            if (nb4[k] >= 0 && !fg[nb4[k]] && lab[nb4[k]] != best) { fg[nb4[k]] = 1; stack[sp++] = nb4[k]; }
    }
    for (int i = 0; i < n; i++) r->hole += !fg[i] && lab[i] != best;

    /* convex hull of the corners of the component's pixels (boundary pixels suffice) */
    sc_pt *pts = malloc(sizeof *pts * (size_t)best_size * 4);
    int np = 0;
    if (pts) {
        for (int i = 0; i < n; i++) {
            if (lab[i] != best) continue;
            int x = i % w, y = i / w;
            if (x > 0 && x < w - 1 && y > 0 && y < h - 1 && lab[i - 1] == best && lab[i + 1] == best &&
                lab[i - w] == best && lab[i + w] == best)
                continue;
            pts[np++] = (sc_pt){x, y};
            pts[np++] = (sc_pt){x + 1, y};
            pts[np++] = (sc_pt){x, y + 1};
            pts[np++] = (sc_pt){x + 1, y + 1};
        }
        double ha = sc_hull_area(pts, np);
        r->solidity = ha > 0 ? (best_size + r->hole) / ha : 1.0;
        free(pts);
    } else {
        r->solidity = 1.0;
    }

    if (r->hole >= 0.08 * best_size) r->shape = 4;         /* ring */
    else if (r->solidity < 0.75) r->shape = 3;             /* star */
    else if (r->fill > 0.885) r->shape = 1;                /* square */
    else if (r->fill > 0.64) r->shape = 0;                 /* circle */
    else r->shape = 2;                                     /* triangle */

    double dx = r->cx - 0.5, dy = r->cy - 0.5;
    if (fabs(dx) < 1.0 / 6 && fabs(dy) < 1.0 / 6) r->position = 4;
    else if (fabs(dx) >= fabs(dy)) r->position = dx < 0 ? 0 : 1;
    else r->position = dy < 0 ? 2 : 3;

    free(fg);
    free(lab);
    free(stack);
    return 0;
}

#endif /* T2I_SHAPE_CHECKER_H */
