/*
 * build_clip.c — transformers CLIPTextModel as a graph.
 *
 *   h = token_embedding[ids] + position_embedding[0..L)
 *   per layer: h += out_proj(attn(layer_norm1(h)))   (causal, biased q/k/v)
 *              h += fc2(act(fc1(layer_norm2(h))))
 *   hidden = final_layer_norm(h)
 *
 * Optional outputs (SDXL, t2i_build_clip_text_ex):
 *   penultimate = h before the last layer (transformers' hidden_states[-2],
 *                 without the final norm)
 *   pooled      = text_projection(hidden[b, pool_index[b] mod L]) for
 *                 CLIPTextModelWithProjection: the EOS row of each sequence,
 *                 gathered with EMBEDDING over hidden viewed as [B·L, C]; the
 *                 caller picks the position (t2i_clip_pool_position)
 *
 * Weights live under "text_model." as in the transformers state dict
 * (text_projection at the top level).
 */
#include "graph/build.h"
#include "graph/build_common.h"
#include "base/error.h"

static int clip_attention(t2i_graph *g, int x, int dim, int heads)
{
    int s = t2i_graph_scope_push(g, "self_attn");
    int o = t2i_b_qkv_attention(g, (const char *const[]){"q_proj", "k_proj", "v_proj"}, x, x, dim, dim, heads, true, true);
    o = t2i_b_linear(g, "out_proj", o, dim, dim, true, T2I_ACT_NONE);
    t2i_graph_scope_pop(g, s);
    return o;
}

t2i_status t2i_build_clip_text(const t2i_clip_text_config *c, int batch, int seq_len, t2i_graph **out)
{
    return t2i_build_clip_text_ex(c, batch, seq_len, NULL, out);
}

int t2i_clip_pool_position(const t2i_clip_text_config *c, const int32_t *ids, int seq_len)
{
    int best = 0;
    for (int i = 0; i < seq_len; i++) {
        if (c->eos_token_id == 2 ? ids[i] > ids[best] : ids[i] == c->eos_token_id) {
            best = i;
            if (c->eos_token_id != 2) break;
        }
    }
    return best;
}

t2i_status t2i_build_clip_text_ex(const t2i_clip_text_config *c, int batch, int seq_len, const t2i_clip_outputs *o,
                                  t2i_graph **out)
{
    *out = NULL;
    if (o && o->pooled && !c->with_projection)
        return t2i_fail(T2I_ERR_INVALID_ARG, "text encoder: a pooled output needs CLIPTextModelWithProjection");
    if (seq_len > c->max_positions)
        return t2i_fail(T2I_ERR_INVALID_ARG, "text encoder: %d tokens exceed max_position_embeddings %d", seq_len,
                        c->max_positions);
    t2i_graph *g = t2i_graph_create();
    if (!g) return t2i_fail(T2I_ERR_NOMEM, "text encoder: out of memory");
    int C = c->hidden_size;
    int ids = t2i_graph_input(g, "ids", T2I_I32, 2, (int64_t[]){batch, seq_len});
    t2i_graph_scope_push(g, "text_model");
    int s = t2i_graph_scope_push(g, "embeddings");
    int tok = t2i_graph_weight2(g, "token_embedding.weight", c->vocab_size, C);
    int pos = t2i_graph_weight2(g, "position_embedding.weight", c->max_positions, C);
    int h = t2i_graph_op(g, T2I_OP_EMBEDDING, "token_embedding", (int[]){ids, tok}, 2, NULL);
    if (seq_len < c->max_positions)
        pos = t2i_graph_op(g, T2I_OP_SLICE, "position_ids", (int[]){pos}, 1,
                           &(t2i_op_attrs){.slice = {.axis = 0, .start = 0, .len = seq_len}});
    h = t2i_b_add(g, "add_position", h, pos);
    t2i_graph_scope_pop(g, s);
    for (int l = 0; l < c->layers; l++) {
        if (o && o->penultimate && l == c->layers - 1) t2i_graph_output(g, h, "penultimate");
        s = t2i_graph_scope_push(g, "encoder.layers.%d", l);
        int x = t2i_b_layernorm(g, "layer_norm1", h, C, c->layer_norm_eps);
        h = t2i_b_add(g, "residual1", h, clip_attention(g, x, C, c->heads));
        x = t2i_b_layernorm(g, "layer_norm2", h, C, c->layer_norm_eps);
        x = t2i_b_linear(g, "mlp.fc1", x, C, c->intermediate_size, true, c->act);
        x = t2i_b_linear(g, "mlp.fc2", x, c->intermediate_size, C, true, T2I_ACT_NONE);
        h = t2i_b_add(g, "residual2", h, x);
        t2i_graph_scope_pop(g, s);
    }
    h = t2i_b_layernorm(g, "final_layer_norm", h, C, c->layer_norm_eps);
    t2i_graph_output(g, h, "hidden");
    t2i_graph_scope_pop(g, 0);
    if (o && o->pooled) {
        int idx = t2i_graph_input(g, "pool_index", T2I_I32, 2, (int64_t[]){batch, 1});
        int rows = t2i_b_reshape(g, "hidden_rows", h, 2, (int64_t[]){(int64_t)batch * seq_len, C});
        int p = t2i_graph_op(g, T2I_OP_EMBEDDING, "pool_gather", (int[]){idx, rows}, 2, NULL);
        p = t2i_b_linear(g, "text_projection", p, C, c->projection_dim, false, T2I_ACT_NONE);
        p = t2i_b_reshape(g, "pooled_2d", p, 2, (int64_t[]){batch, c->projection_dim});
        t2i_graph_output(g, p, "pooled");
    }
    return t2i_b_finish(g, "text encoder", out);
}
