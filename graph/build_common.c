/* build_common.c — the layers every builder uses. */
#include <math.h>
#include <stdio.h>
#include "graph/build_common.h"
#include "base/error.h"

int t2i_b_linear(t2i_graph *g, const char *name, int x, int in_f, int out_f, bool bias, t2i_act act)
{
    int s = t2i_graph_scope_push(g, "%s", name);
    int w = t2i_graph_weight2(g, "weight", out_f, in_f);
    int bi = bias ? t2i_graph_weight1(g, "bias", out_f) : -1;
    t2i_op_attrs a = {.linear = {.act = act}};
    int y = t2i_graph_op(g, T2I_OP_LINEAR, "", (int[]){x, w, bi}, 3, &a);
    t2i_graph_scope_pop(g, s);
    return y;
}

int t2i_b_conv(t2i_graph *g, const char *name, int x, int cin, int cout, int k, int stride, int pad)
{
    int s = t2i_graph_scope_push(g, "%s", name);
    int w = t2i_graph_weight4(g, "weight", cout, cin, k, k);
    int bi = t2i_graph_weight1(g, "bias", cout);
    t2i_op_attrs a = {.conv2d = {.stride = stride, .pad_top = pad, .pad_left = pad, .pad_bottom = pad, .pad_right = pad}};
    int y = t2i_graph_op(g, T2I_OP_CONV2D, "", (int[]){x, w, bi}, 3, &a);
    t2i_graph_scope_pop(g, s);
    return y;
}

static int norm(t2i_graph *g, t2i_op op, const char *name, int x, int channels, int groups, float eps, t2i_act act)
{
    int s = t2i_graph_scope_push(g, "%s", name);
    int gamma = t2i_graph_weight1(g, "weight", channels);
    int beta = t2i_graph_weight1(g, "bias", channels);
    t2i_op_attrs a = {.norm = {.groups = groups, .eps = eps, .act = act}};
    int y = t2i_graph_op(g, op, "", (int[]){x, gamma, beta}, 3, &a);
    t2i_graph_scope_pop(g, s);
    return y;
}

/* GroupNorm k with statistics from outside (g->gn_external): see
 * build_common.h. x is [1,C,H,W]. */
static int groupnorm_external(t2i_graph *g, const char *name, int x, int channels, t2i_act act)
{
    if (x < 0 || g->status != T2I_OK) return -1;
    const int k = g->gn_count++;
    const int64_t C = channels, H = g->tensors[x].ne[2], W = g->tensors[x].ne[3];
    char nm[32];
    int s = t2i_graph_scope_push(g, "%s", name);
    snprintf(nm, sizeof nm, "gn%d.mask", k);
    int mask = t2i_graph_input(g, nm, T2I_F32, 2, (int64_t[]){1, H * W});
    int xr = t2i_b_reshape(g, "x_rows", x, 2, (int64_t[]){C, H * W});
    int sum = t2i_graph_op(g, T2I_OP_LINEAR, "sum", (int[]){xr, mask}, 2, &(t2i_op_attrs){.linear = {0}});
    int sq = t2i_graph_op(g, T2I_OP_MUL, "square", (int[]){x, x}, 2, NULL);
    sq = t2i_b_reshape(g, "square_rows", sq, 2, (int64_t[]){C, H * W});
    int sqsum = t2i_graph_op(g, T2I_OP_LINEAR, "sqsum", (int[]){sq, mask}, 2, &(t2i_op_attrs){.linear = {0}});
    snprintf(nm, sizeof nm, "gn%d.sum", k);
    t2i_graph_output(g, sum, nm);
    snprintf(nm, sizeof nm, "gn%d.sqsum", k);
    t2i_graph_output(g, sqsum, nm);
    snprintf(nm, sizeof nm, "gn%d.a", k);
    int a = t2i_graph_input(g, nm, T2I_F32, 3, (int64_t[]){C, 1, 1});
    snprintf(nm, sizeof nm, "gn%d.b", k);
    int b = t2i_graph_input(g, nm, T2I_F32, 3, (int64_t[]){C, 1, 1});
    int gamma = t2i_b_reshape(g, "gamma", t2i_graph_weight1(g, "weight", channels), 3, (int64_t[]){C, 1, 1});
    int beta = t2i_b_reshape(g, "beta", t2i_graph_weight1(g, "bias", channels), 3, (int64_t[]){C, 1, 1});
    int y = t2i_graph_op(g, T2I_OP_MUL, "scale", (int[]){x, a}, 2, NULL);
    y = t2i_b_add(g, "shift", y, b);
    y = t2i_graph_op(g, T2I_OP_MUL, "gamma_mul", (int[]){y, gamma}, 2, NULL);
    y = t2i_b_add(g, "beta_add", y, beta);
    if (act != T2I_ACT_NONE) y = t2i_graph_op(g, T2I_OP_ACT, "act", (int[]){y}, 1, &(t2i_op_attrs){.act = {.act = act}});
    t2i_graph_scope_pop(g, s);
    return y;
}

int t2i_b_groupnorm(t2i_graph *g, const char *name, int x, int channels, int groups, float eps, t2i_act act)
{
    if (g->gn_external) return groupnorm_external(g, name, x, channels, act);
    return norm(g, T2I_OP_GROUPNORM, name, x, channels, groups, eps, act);
}

int t2i_b_layernorm(t2i_graph *g, const char *name, int x, int channels, float eps)
{
    return norm(g, T2I_OP_LAYERNORM, name, x, channels, 1, eps, T2I_ACT_NONE);
}

int t2i_b_add(t2i_graph *g, const char *name, int a, int b)
{
    return t2i_graph_op(g, T2I_OP_ADD, name, (int[]){a, b}, 2, NULL);
}

int t2i_b_reshape(t2i_graph *g, const char *name, int x, int ndim, const int64_t *ne)
{
    t2i_op_attrs a = {.shape = {.ndim = ndim}};
    for (int i = 0; i < ndim; i++) a.shape.ne[i] = ne[i];
    return t2i_graph_op(g, T2I_OP_RESHAPE, name, (int[]){x}, 1, &a);
}

int t2i_b_resnet(t2i_graph *g, const char *name, int x, int cin, int cout, int temb, int temb_dim, int groups,
             float eps)
{
    int s = t2i_graph_scope_push(g, "%s", name);
    int h = t2i_b_groupnorm(g, "norm1", x, cin, groups, eps, T2I_ACT_SILU);
    h = t2i_b_conv(g, "conv1", h, cin, cout, 3, 1, 1);
    if (temb >= 0) {
        int t = t2i_graph_op(g, T2I_OP_ACT, "time_emb_act", (int[]){temb}, 1,
                             &(t2i_op_attrs){.act = {.act = T2I_ACT_SILU}});
        t = t2i_b_linear(g, "time_emb_proj", t, temb_dim, cout, true, T2I_ACT_NONE);
        int64_t batch = temb >= 0 && t >= 0 ? g->tensors[t].ne[0] : 1;
        t = t2i_b_reshape(g, "time_emb_4d", t, 4, (int64_t[]){batch, cout, 1, 1});
        h = t2i_b_add(g, "add_temb", h, t);
    }
    h = t2i_b_groupnorm(g, "norm2", h, cout, groups, eps, T2I_ACT_SILU);
    h = t2i_b_conv(g, "conv2", h, cout, cout, 3, 1, 1);
    int sc = cin != cout ? t2i_b_conv(g, "conv_shortcut", x, cin, cout, 1, 1, 0) : x;
    int y = t2i_b_add(g, "residual", sc, h);
    t2i_graph_scope_pop(g, s);
    return y;
}

int t2i_b_qkv_attention(t2i_graph *g, const char *const names[3], int x, int ctx, int dim, int ctx_dim, int heads,
                    bool qkv_bias, bool causal)
{
    int q = t2i_b_linear(g, names[0], x, dim, dim, qkv_bias, T2I_ACT_NONE);
    int k = t2i_b_linear(g, names[1], ctx, ctx_dim, dim, qkv_bias, T2I_ACT_NONE);
    int v = t2i_b_linear(g, names[2], ctx, ctx_dim, dim, qkv_bias, T2I_ACT_NONE);
    t2i_op_attrs a = {.attention = {.heads = heads, .scale = 1.0f / sqrtf((float)(dim / heads)), .causal = causal}};
    return t2i_graph_op(g, T2I_OP_ATTENTION, "sdpa", (int[]){q, k, v}, 3, &a);
}

int t2i_b_attention(t2i_graph *g, const char *name, int x, int ctx, int dim, int ctx_dim, int heads, bool qkv_bias,
                bool causal)
{
    int s = t2i_graph_scope_push(g, "%s", name);
    int o = t2i_b_qkv_attention(g, (const char *const[]){"to_q", "to_k", "to_v"}, x, ctx, dim, ctx_dim, heads, qkv_bias,
                            causal);
    o = t2i_b_linear(g, "to_out.0", o, dim, dim, true, T2I_ACT_NONE);
    t2i_graph_scope_pop(g, s);
    return o;
}

t2i_status t2i_b_finish(t2i_graph *g, const char *what, t2i_graph **out)
{
    if (g->status != T2I_OK) {
        t2i_status st = g->status;
        t2i_graph_destroy(g);
        return t2i_fail_context(st, "%s", what);
    }
    *out = g;
    return T2I_OK;
}
