/*
 * graph.c — graph storage, scoped names and per-op shape inference.
 *
 * Shape inference is the one place that knows what each op produces; it also
 * validates that the inputs agree (a weight whose config-derived shape does
 * not fit its input is reported here, naming the node).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "graph/graph.h"
#include "base/error.h"

#define T2I_IS_VIEW_KERNEL false
#define T2I_IS_VIEW_LIBRARY false
#define T2I_IS_VIEW_VIEW true
static const struct { const char *name; int min_in, max_in; bool view; } op_table[T2I_OP_COUNT] = {
#define T2I_OP(id, name, min_in, max_in, attr, impl) [T2I_OP_##id] = {#name, min_in, max_in, T2I_IS_VIEW_##impl},
#include "graph/ops.def"
};

const char *t2i_op_name(t2i_op op) { return (unsigned)op < T2I_OP_COUNT ? op_table[op].name : "?"; }
int t2i_op_min_inputs(t2i_op op) { return op_table[op].min_in; }
int t2i_op_max_inputs(t2i_op op) { return op_table[op].max_in; }
bool t2i_op_is_view(t2i_op op) { return op_table[op].view; }

t2i_graph *t2i_graph_create(void)
{
    return calloc(1, sizeof(t2i_graph));
}

void t2i_graph_destroy(t2i_graph *g)
{
    if (!g) return;
    for (int i = 0; i < g->n_tensors; i++) free(g->tensors[i].name);
    for (int i = 0; i < g->n_nodes; i++) free(g->nodes[i].name);
    free(g->tensors);
    free(g->nodes);
    free(g);
}

static int graph_error(t2i_graph *g, t2i_status s, const char *fmt, ...) T2I_PRINTF(3, 4);
static int graph_error(t2i_graph *g, t2i_status s, const char *fmt, ...)
{
    if (g->status == T2I_OK) {
        char msg[768];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        g->status = t2i_fail(s, "%s", msg);
    }
    return -1;
}

int t2i_graph_scope_push(t2i_graph *g, const char *fmt, ...)
{
    int saved = (int)strlen(g->scope);
    char part[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(part, sizeof part, fmt, ap);
    va_end(ap);
    snprintf(g->scope + saved, sizeof g->scope - (size_t)saved, "%s%s", saved && part[0] ? "." : "", part);
    return saved;
}

void t2i_graph_scope_pop(t2i_graph *g, int saved_len) { g->scope[saved_len] = '\0'; }

static char *scoped_name(const t2i_graph *g, const char *name)
{
    size_t n = strlen(g->scope) + strlen(name) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s%s%s", g->scope, g->scope[0] && name[0] ? "." : "", name);
    return s;
}

static int add_tensor(t2i_graph *g, t2i_tensor_kind kind, t2i_dtype dt, int ndim, const int64_t *ne,
                      char *name)
{
    if (g->n_tensors == g->cap_tensors) {
        int cap = g->cap_tensors ? 2 * g->cap_tensors : 256;
        t2i_tensor *t = realloc(g->tensors, (size_t)cap * sizeof *t);
        if (!t) {
            free(name);
            return graph_error(g, T2I_ERR_NOMEM, "graph: out of memory");
        }
        g->tensors = t;
        g->cap_tensors = cap;
    }
    t2i_tensor *t = &g->tensors[g->n_tensors];
    memset(t, 0, sizeof *t);
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->ne[i] = ne[i];
    t->dtype = dt;
    t->kind = kind;
    t->name = name;
    t->producer = -1;
    t->view_of = -1;
    return g->n_tensors++;
}

int t2i_graph_find(const t2i_graph *g, const char *name)
{
    for (int i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].name && strcmp(g->tensors[i].name, name) == 0) return i;
    return -1;
}

int t2i_graph_weight(t2i_graph *g, const char *name, int ndim, const int64_t *ne)
{
    if (g->status != T2I_OK) return -1;
    char *full = scoped_name(g, name);
    if (!full) return graph_error(g, T2I_ERR_NOMEM, "graph: out of memory");
    int prev = t2i_graph_find(g, full);
    if (prev >= 0) {
        const t2i_tensor *t = &g->tensors[prev];
        bool same = t->kind == T2I_TENSOR_WEIGHT && t->ndim == ndim;
        for (int i = 0; same && i < ndim; i++) same = t->ne[i] == ne[i];
        if (!same) graph_error(g, T2I_ERR_FORMAT, "weight '%s' declared twice with different shapes", full);
        free(full);
        return same ? prev : -1;
    }
    return add_tensor(g, T2I_TENSOR_WEIGHT, T2I_F32, ndim, ne, full);
}

int t2i_graph_weight1(t2i_graph *g, const char *name, int64_t a)
{
    return t2i_graph_weight(g, name, 1, (int64_t[]){a});
}
int t2i_graph_weight2(t2i_graph *g, const char *name, int64_t a, int64_t b)
{
    return t2i_graph_weight(g, name, 2, (int64_t[]){a, b});
}
int t2i_graph_weight4(t2i_graph *g, const char *name, int64_t a, int64_t b, int64_t c, int64_t d)
{
    return t2i_graph_weight(g, name, 4, (int64_t[]){a, b, c, d});
}

int t2i_graph_input(t2i_graph *g, const char *name, t2i_dtype dtype, int ndim, const int64_t *ne)
{
    if (g->status != T2I_OK) return -1;
    char *copy = strdup(name);
    if (!copy) return graph_error(g, T2I_ERR_NOMEM, "graph: out of memory");
    return add_tensor(g, T2I_TENSOR_INPUT, dtype, ndim, ne, copy);
}

void t2i_graph_output(t2i_graph *g, int t, const char *name)
{
    if (g->status != T2I_OK || t < 0) return;
    t2i_tensor *tt = &g->tensors[t];
    T2I_ASSERT(tt->kind == T2I_TENSOR_ACT && !tt->name);
    tt->name = strdup(name);
    if (!tt->name) graph_error(g, T2I_ERR_NOMEM, "graph: out of memory");
    tt->is_output = true;
}

int64_t t2i_tensor_numel(const t2i_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->ne[i];
    return n;
}

size_t t2i_tensor_bytes(const t2i_tensor *t)
{
    return (size_t)t2i_tensor_numel(t) * t2i_dtype_size(t->dtype);
}

const char *t2i_shape_str(const t2i_tensor *t, char *buf, size_t n)
{
    size_t len = 0;
    len += (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < t->ndim && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%lld", i ? "," : "", (long long)t->ne[i]);
    if (len < n) snprintf(buf + len, n - len, "]");
    return buf;
}

/* ---- shape inference ------------------------------------------------------ */

typedef struct shape { int ndim; int64_t ne[T2I_MAX_DIMS]; } shape;

static bool broadcastable(const t2i_tensor *a, const t2i_tensor *b)
{
    if (b->ndim > a->ndim) return false;
    for (int i = 1; i <= b->ndim; i++) {
        int64_t da = a->ne[a->ndim - i], db = b->ne[b->ndim - i];
        if (db != da && db != 1) return false;
    }
    return true;
}

/* Fills *out; returns NULL on success or a description of the mismatch. */
static const char *infer_shape(const t2i_graph *g, t2i_op op, const int *in, const t2i_op_attrs *a,
                               shape *out)
{
    const t2i_tensor *x = &g->tensors[in[0]];
    const t2i_tensor *w = op_table[op].max_in > 1 && in[1] >= 0 ? &g->tensors[in[1]] : NULL;
    out->ndim = x->ndim;
    memcpy(out->ne, x->ne, sizeof out->ne);
    switch (op) {
    case T2I_OP_EMBEDDING:
        if (x->ndim != 2 || x->dtype != T2I_I32 || w->ndim != 2) return "embedding wants ids[B,L] (I32) and table[V,C]";
        out->ndim = 3;
        out->ne[2] = w->ne[1];
        return NULL;
    case T2I_OP_LINEAR:
        if (w->ndim != 2 || x->ne[x->ndim - 1] != w->ne[1]) return "linear: x[...,K] and w[N,K] disagree on K";
        if (in[2] >= 0 && (g->tensors[in[2]].ndim != 1 || g->tensors[in[2]].ne[0] != w->ne[0]))
            return "linear: bias must be [N]";
        out->ne[x->ndim - 1] = w->ne[0];
        break;
    case T2I_OP_CONV2D: {
        const t2i_attr_conv2d *c = &a->conv2d;
        if (x->ndim != 4 || w->ndim != 4 || x->ne[1] != w->ne[1]) return "conv2d: x[N,C,H,W] and w[O,C,kh,kw] disagree on C";
        if (in[2] >= 0 && (g->tensors[in[2]].ndim != 1 || g->tensors[in[2]].ne[0] != w->ne[0]))
            return "conv2d: bias must be [O]";
        int s = c->stride > 0 ? c->stride : 1;
        int64_t h = x->ne[2] + c->pad_top + c->pad_bottom - w->ne[2];
        int64_t wd = x->ne[3] + c->pad_left + c->pad_right - w->ne[3];
        if (h < 0 || wd < 0) return "conv2d: kernel larger than padded input";
        out->ne[1] = w->ne[0];
        out->ne[2] = h / s + 1;
        out->ne[3] = wd / s + 1;
        break;
    }
    case T2I_OP_GROUPNORM:
        if (x->ndim < 2 || a->norm.groups <= 0 || x->ne[1] % a->norm.groups) return "groupnorm: channels not divisible by groups";
        if (g->tensors[in[1]].ne[0] != x->ne[1] || g->tensors[in[2]].ne[0] != x->ne[1]) return "groupnorm: gamma/beta must be [C]";
        return NULL;
    case T2I_OP_LAYERNORM:
        if (g->tensors[in[1]].ne[0] != x->ne[x->ndim - 1] || g->tensors[in[2]].ne[0] != x->ne[x->ndim - 1])
            return "layernorm: gamma/beta must be [C] of the last dim";
        return NULL;
    case T2I_OP_ACT:
        return NULL;
    case T2I_OP_ADD:
    case T2I_OP_MUL:
        return broadcastable(x, w) ? NULL : "b does not broadcast to a's shape";
    case T2I_OP_GEGLU:
        if (x->ne[x->ndim - 1] % 2) return "geglu: last dim must be even";
        out->ne[x->ndim - 1] /= 2;
        return NULL;
    case T2I_OP_ATTENTION: {
        const t2i_tensor *k = &g->tensors[in[1]], *v = &g->tensors[in[2]];
        int h = a->attention.heads;
        if (x->ndim != 3 || k->ndim != 3 || v->ndim != 3) return "attention wants [B,N,H*D] tensors";
        if (k->ne[0] != x->ne[0] || v->ne[0] != x->ne[0] || k->ne[1] != v->ne[1]) return "attention: q/k/v batch or key count disagree";
        if (h <= 0 || x->ne[2] % h || v->ne[2] % h || x->ne[2] != k->ne[2]) return "attention: width not divisible by heads or q/k widths differ";
        out->ne[2] = v->ne[2];
        return NULL;
    }
    case T2I_OP_TIMESTEP:
        if (x->ndim != 1 || a->timestep.dim <= 0) return "timestep wants t[B] and dim > 0";
        out->ndim = 2;
        out->ne[1] = a->timestep.dim;
        return NULL;
    case T2I_OP_UPSAMPLE:
        if (x->ndim != 4) return "upsample wants [N,C,H,W]";
        out->ne[2] *= 2;
        out->ne[3] *= 2;
        return NULL;
    case T2I_OP_CONCAT: {
        int ax = a->axis.axis;
        if (ax < 0 || ax >= x->ndim || w->ndim != x->ndim) return "concat: bad axis or rank";
        for (int i = 0; i < x->ndim; i++)
            if (i != ax && x->ne[i] != w->ne[i]) return "concat: shapes differ off the axis";
        out->ne[ax] += w->ne[ax];
        return NULL;
    }
    case T2I_OP_TO_TOKENS:
        if (x->ndim != 4) return "to_tokens wants [N,C,H,W]";
        out->ndim = 3;
        out->ne[1] = x->ne[2] * x->ne[3];
        out->ne[2] = x->ne[1];
        return NULL;
    case T2I_OP_FROM_TOKENS:
        if (x->ndim != 3 || (int64_t)a->hw.h * a->hw.w != x->ne[1]) return "from_tokens: h*w differs from the token count";
        out->ndim = 4;
        out->ne[1] = x->ne[2];
        out->ne[2] = a->hw.h;
        out->ne[3] = a->hw.w;
        return NULL;
    case T2I_OP_SLICE: {
        const t2i_attr_slice *s = &a->slice;
        if (s->axis < 0 || s->axis >= x->ndim || s->start < 0 || s->len <= 0 || s->start + s->len > x->ne[s->axis])
            return "slice out of range";
        out->ne[s->axis] = s->len;
        return NULL;
    }
    case T2I_OP_SCALE_ADD:
        if (w->ndim != x->ndim) return "scale_add: a and b differ in shape";
        for (int i = 0; i < x->ndim; i++)
            if (w->ne[i] != x->ne[i]) return "scale_add: a and b differ in shape";
        return NULL;
    case T2I_OP_PIXEL_UNSHUFFLE: {
        int r = a->factor.r;
        if (x->ndim != 4 || r < 1 || x->ne[2] % r || x->ne[3] % r)
            return "pixel_unshuffle wants [N,C,H,W] with H and W multiples of the factor";
        out->ne[1] *= (int64_t)r * r;
        out->ne[2] /= r;
        out->ne[3] /= r;
        return NULL;
    }
    case T2I_OP_RESHAPE: {
        int64_t n = 1;
        out->ndim = a->shape.ndim;
        for (int i = 0; i < out->ndim; i++) n *= out->ne[i] = a->shape.ne[i];
        return n == t2i_tensor_numel(x) ? NULL : "reshape changes the element count";
    }
    case T2I_OP_COUNT:
        break;
    }
    /* LINEAR and CONV2D: optional residual must match the output. */
    int res = in[3];
    if (res >= 0) {
        const t2i_tensor *r = &g->tensors[res];
        if (r->ndim != out->ndim) return "residual rank differs from the output";
        for (int i = 0; i < r->ndim; i++)
            if (r->ne[i] != out->ne[i]) return "residual shape differs from the output";
    }
    return NULL;
}

int t2i_graph_op(t2i_graph *g, t2i_op op, const char *name, const int *inputs, int n_in,
                 const t2i_op_attrs *attr)
{
    if (g->status != T2I_OK) return -1;
    T2I_ASSERT((unsigned)op < T2I_OP_COUNT);
    T2I_ASSERT(n_in >= op_table[op].min_in && n_in <= op_table[op].max_in);
    char *full = scoped_name(g, name);
    if (!full) return graph_error(g, T2I_ERR_NOMEM, "graph: out of memory");
    int in[T2I_MAX_INPUTS] = {-1, -1, -1, -1};
    for (int i = 0; i < n_in; i++) {
        in[i] = inputs[i];
        if (i < op_table[op].min_in && in[i] < 0) {
            free(full);
            return -1; /* an earlier error already recorded */
        }
        T2I_ASSERT(in[i] < g->n_tensors);
    }
    t2i_op_attrs a;
    if (attr) a = *attr;
    else memset(&a, 0, sizeof a);

    shape s;
    const char *why = infer_shape(g, op, in, &a, &s);
    if (why) {
        char b0[64], b1[64];
        graph_error(g, T2I_ERR_FORMAT, "%s (%s): %s; input %s, second %s", full, t2i_op_name(op), why,
                    t2i_shape_str(&g->tensors[in[0]], b0, sizeof b0),
                    in[1] >= 0 ? t2i_shape_str(&g->tensors[in[1]], b1, sizeof b1) : "-");
        free(full);
        return -1;
    }
    if (g->n_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? 2 * g->cap_nodes : 256;
        t2i_node *n = realloc(g->nodes, (size_t)cap * sizeof *n);
        if (!n) {
            free(full);
            return graph_error(g, T2I_ERR_NOMEM, "graph: out of memory");
        }
        g->nodes = n;
        g->cap_nodes = cap;
    }
    t2i_dtype dt = t2i_op_is_view(op) ? g->tensors[in[0]].dtype : T2I_F32;
    int out = add_tensor(g, T2I_TENSOR_ACT, dt, s.ndim, s.ne, NULL);
    if (out < 0) {
        free(full);
        return -1;
    }
    t2i_node *n = &g->nodes[g->n_nodes];
    n->op = op;
    n->n_in = n_in;
    memcpy(n->in, in, sizeof in);
    n->out = out;
    n->attr = a;
    n->name = full;
    g->tensors[out].producer = g->n_nodes;
    if (op == T2I_OP_TIMESTEP) {
        /* the op reads FP32 timesteps on every backend: keep the source
         * (and, for a view, its root) in FP32 storage */
        int src = g->tensors[in[0]].view_of >= 0 ? g->tensors[in[0]].view_of : in[0];
        g->tensors[in[0]].f32_storage = g->tensors[src].f32_storage = true;
    }
    if (t2i_op_is_view(op)) {
        int root = g->tensors[in[0]].view_of;
        g->tensors[out].view_of = root >= 0 ? root : in[0];
    }
    g->n_nodes++;
    return out;
}

t2i_status t2i_graph_merge_weights(t2i_graph *dst, const t2i_graph *src)
{
    char saved[sizeof dst->scope];
    memcpy(saved, dst->scope, sizeof saved);
    dst->scope[0] = '\0';
    for (int t = 0; t < src->n_tensors; t++) {
        const t2i_tensor *tt = &src->tensors[t];
        if (tt->kind == T2I_TENSOR_WEIGHT) t2i_graph_weight(dst, tt->name, tt->ndim, tt->ne);
    }
    memcpy(dst->scope, saved, sizeof saved);
    return dst->status;
}
