/*
 * build_rrdbnet.c — RRDBNet (ESRGAN, Real-ESRGAN) as a graph.
 *
 *   feat = conv_first(scale 2 ? pixel_unshuffle(x, 2) : x)
 *   body = feat -> num_block × RRDB -> conv_body;  feat = feat + body
 *   feat = lrelu(conv_up1(nearest×2(feat)));  feat = lrelu(conv_up2(nearest×2(feat)))
 *   out  = conv_last(lrelu(conv_hr(feat)))
 *
 * RRDB(x)  = 0.2 · rdb3(rdb2(rdb1(x))) + x
 * RDB(x)   = 0.2 · conv5(cat(x, x1, x2, x3, x4)) + x, where
 *            x_k = lrelu(conv_k(cat(x, x1, …, x_{k-1}))), each 3×3, pad 1,
 *            num_grow_ch outputs (conv5: num_feat).
 * lrelu is LeakyReLU(0.2), fused into the convolution; the 0.2 residual
 * scalings are SCALE_ADD nodes, so the arithmetic is PyTorch's
 * (x5 * 0.2 + x). The dense block's growing concatenation is a chain of
 * two-input CONCATs along the channel axis.
 */
#include <stdio.h>
#include "graph/build_rrdbnet.h"
#include "graph/build_common.h"
#include "base/error.h"

static int conv3(t2i_graph *g, const char *name, int x, int cin, int cout, t2i_act act)
{
    int s = t2i_graph_scope_push(g, "%s", name);
    int w = t2i_graph_weight4(g, "weight", cout, cin, 3, 3);
    int bi = t2i_graph_weight1(g, "bias", cout);
    t2i_op_attrs a = {.conv2d = {.stride = 1, .pad_top = 1, .pad_left = 1, .pad_bottom = 1, .pad_right = 1,
                                 .act = act}};
    int y = t2i_graph_op(g, T2I_OP_CONV2D, "", (int[]){x, w, bi}, 3, &a);
    t2i_graph_scope_pop(g, s);
    return y;
}

static int scale_add(t2i_graph *g, const char *name, int a, int b, float alpha)
{
    return t2i_graph_op(g, T2I_OP_SCALE_ADD, name, (int[]){a, b}, 2, &(t2i_op_attrs){.scale = {.alpha = alpha}});
}

static int rdb(t2i_graph *g, const char *name, int x, int nf, int gc)
{
    int s = t2i_graph_scope_push(g, "%s", name);
    int cat = x, ch = nf;
    for (int k = 1; k <= 4; k++) {
        char cn[8];
        snprintf(cn, sizeof cn, "conv%d", k);
        int xk = conv3(g, cn, cat, ch, gc, T2I_ACT_LEAKY_RELU);
        cat = t2i_graph_op(g, T2I_OP_CONCAT, "cat", (int[]){cat, xk}, 2, &(t2i_op_attrs){.axis = {.axis = 1}});
        ch += gc;
    }
    int x5 = conv3(g, "conv5", cat, ch, nf, T2I_ACT_NONE);
    int y = scale_add(g, "residual", x5, x, 0.2f);
    t2i_graph_scope_pop(g, s);
    return y;
}

static int rrdb(t2i_graph *g, int i, int x, int nf, int gc)
{
    int s = t2i_graph_scope_push(g, "body.%d", i);
    int y = rdb(g, "rdb1", x, nf, gc);
    y = rdb(g, "rdb2", y, nf, gc);
    y = rdb(g, "rdb3", y, nf, gc);
    y = scale_add(g, "residual", y, x, 0.2f);
    t2i_graph_scope_pop(g, s);
    return y;
}

t2i_status t2i_build_rrdbnet(const t2i_rrdbnet_config *c, int batch, int h, int w, t2i_graph **out)
{
    *out = NULL;
    if (c->scale != 2 && c->scale != 4)
        return t2i_fail(T2I_ERR_INVALID_ARG, "rrdbnet: scale %d (2 or 4)", c->scale);
    if (c->num_feat < 1 || c->num_feat > 4096 || c->num_grow_ch < 1 || c->num_grow_ch > 4096 || c->num_block < 0 ||
        c->num_block > 1000)
        return t2i_fail(T2I_ERR_INVALID_ARG, "rrdbnet: num_feat %d, num_grow_ch %d, num_block %d out of range",
                        c->num_feat, c->num_grow_ch, c->num_block);
    if (batch < 1 || h < 1 || w < 1 || (c->scale == 2 && (h % 2 || w % 2)))
        return t2i_fail(T2I_ERR_INVALID_ARG, "rrdbnet: input %dx%d (batch %d) not valid for scale %d", w, h, batch,
                        c->scale);
    t2i_graph *g = t2i_graph_create();
    if (!g) return t2i_fail(T2I_ERR_NOMEM, "rrdbnet: out of memory");
    int nf = c->num_feat, gc = c->num_grow_ch;
    int x = t2i_graph_input(g, "image", T2I_F32, 4, (int64_t[]){batch, 3, h, w});
    int cin = 3;
    if (c->scale == 2) {
        x = t2i_graph_op(g, T2I_OP_PIXEL_UNSHUFFLE, "pixel_unshuffle", (int[]){x}, 1,
                         &(t2i_op_attrs){.factor = {.r = 2}});
        cin = 12;
    }
    int feat = conv3(g, "conv_first", x, cin, nf, T2I_ACT_NONE);
    int y = feat;
    for (int i = 0; i < c->num_block; i++) y = rrdb(g, i, y, nf, gc);
    y = conv3(g, "conv_body", y, nf, nf, T2I_ACT_NONE);
    feat = t2i_b_add(g, "body_residual", feat, y);
    feat = t2i_graph_op(g, T2I_OP_UPSAMPLE, "up1.nearest", (int[]){feat}, 1, NULL);
    feat = conv3(g, "conv_up1", feat, nf, nf, T2I_ACT_LEAKY_RELU);
    feat = t2i_graph_op(g, T2I_OP_UPSAMPLE, "up2.nearest", (int[]){feat}, 1, NULL);
    feat = conv3(g, "conv_up2", feat, nf, nf, T2I_ACT_LEAKY_RELU);
    feat = conv3(g, "conv_hr", feat, nf, nf, T2I_ACT_LEAKY_RELU);
    int o = conv3(g, "conv_last", feat, nf, 3, T2I_ACT_NONE);
    t2i_graph_output(g, o, "upscaled");
    return t2i_b_finish(g, "rrdbnet", out);
}
