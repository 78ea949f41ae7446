/*
 * build_common.h — layer helpers shared by the builders, t2i_b_* (the
 * library exports only t2i_-prefixed names). Each declares its weights
 * under the current scope plus `name` (e.g. "conv1") and appends its nodes;
 * all return the output tensor id or -1 (the graph's sticky error then
 * says why).
 */
#ifndef T2I_BUILD_COMMON_H
#define T2I_BUILD_COMMON_H

#include "graph/graph.h"

int t2i_b_linear(t2i_graph *g, const char *name, int x, int in_f, int out_f, bool bias, t2i_act act);
int t2i_b_conv(t2i_graph *g, const char *name, int x, int cin, int cout, int k, int stride, int pad);
int t2i_b_groupnorm(t2i_graph *g, const char *name, int x, int channels, int groups, float eps, t2i_act act);
int t2i_b_layernorm(t2i_graph *g, const char *name, int x, int channels, float eps);
int t2i_b_add(t2i_graph *g, const char *name, int a, int b);
int t2i_b_reshape(t2i_graph *g, const char *name, int x, int ndim, const int64_t *ne);

/* diffusers ResnetBlock2D (time_scale_shift "default", output_scale_factor 1):
 * norm1→SiLU→conv1 (+ time_emb_proj(SiLU(temb)) if temb ≥ 0) →norm2→SiLU→
 * conv2, plus x (through a 1×1 conv_shortcut when cin ≠ cout). */
int t2i_b_resnet(t2i_graph *g, const char *name, int x, int cin, int cout, int temb, int temb_dim, int groups,
             float eps);

/* The core every attention shares: q = names[0](x), k = names[1](ctx),
 * v = names[2](ctx) (linears dim/ctx_dim -> dim, bias optional), then one
 * ATTENTION node "sdpa" over `heads` with scale 1/sqrt(dim/heads). No output
 * projection: callers name and scope it differently (diffusers to_out.0,
 * CLIP out_proj, BERT attention.output.dense outside "attention.self"). */
int t2i_b_qkv_attention(t2i_graph *g, const char *const names[3], int x, int ctx, int dim, int ctx_dim, int heads,
                    bool qkv_bias, bool causal);

/* diffusers Attention on token sequences x[B,N,C]: to_q/to_k/to_v (bias
 * optional), scaled dot-product over `heads`, to_out.0 (with bias). ctx is
 * the key/value source (x itself for self-attention). */
int t2i_b_attention(t2i_graph *g, const char *name, int x, int ctx, int dim, int ctx_dim, int heads, bool qkv_bias,
                bool causal);

/* The end of every builder: on the graph's sticky error destroy g and
 * return that status with "what: " in front of its message; otherwise
 * *out = g. */
t2i_status t2i_b_finish(t2i_graph *g, const char *what, t2i_graph **out);

#endif
