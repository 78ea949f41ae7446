/*
 * build_bert.c — transformers BertModel (last_hidden_state) as a graph: the
 * text encoder of Chinese Stable Diffusion models such as Taiyi's.
 *
 *   h = LayerNorm(word_embeddings[ids] + position_embeddings[0..L)
 *                 + token_type_embeddings[0])          (token type 0 only)
 *   per layer (post-norm):
 *     h = LayerNorm(h + attention.output.dense(attn(h)))   (biased q/k/v,
 *                                                          no mask)
 *     h = LayerNorm(h + output.dense(act(intermediate.dense(h))))
 *   hidden = h
 *
 * No attention mask: diffusers' StableDiffusionPipeline passes none unless
 * the text encoder's config sets use_attention_mask, so padding tokens are
 * attended to like any other. The pooler is not part of the graph.
 * Weights are named as in a saved BertModel ("embeddings.…", "encoder.…").
 *
 * ChineseCLIP's text tower (t2i_build_bert_text_ex) is the same BERT under
 * "text_model.", and its text embedding is text_projection of the [CLS]
 * row: text_embeds = text_projection(hidden[:, 0]) (no pooler).
 */
#include "graph/build.h"
#include "graph/build_common.h"
#include "base/error.h"

static int bert_attention(t2i_graph *g, int x, int dim, int heads)
{
    int s = t2i_graph_scope_push(g, "attention.self");
    int o = b_qkv_attention(g, (const char *const[]){"query", "key", "value"}, x, x, dim, dim, heads, true, false);
    t2i_graph_scope_pop(g, s);
    return o;
}

t2i_status t2i_build_bert_text(const t2i_bert_config *c, int batch, int seq_len, t2i_graph **out)
{
    return t2i_build_bert_text_ex(c, batch, seq_len, NULL, 0, out);
}

t2i_status t2i_build_bert_text_ex(const t2i_bert_config *c, int batch, int seq_len, const char *scope,
                                  int projection_dim, t2i_graph **out)
{
    *out = NULL;
    if (seq_len > c->max_positions)
        return t2i_fail(T2I_ERR_INVALID_ARG, "text encoder: %d tokens exceed max_position_embeddings %d", seq_len,
                        c->max_positions);
    t2i_graph *g = t2i_graph_create();
    if (!g) return t2i_fail(T2I_ERR_NOMEM, "text encoder: out of memory");
    int C = c->hidden_size;
    int ids = t2i_graph_input(g, "ids", T2I_I32, 2, (int64_t[]){batch, seq_len});
    if (scope) t2i_graph_scope_push(g, "%s", scope);
    int s = t2i_graph_scope_push(g, "embeddings");
    int word = t2i_graph_weight2(g, "word_embeddings.weight", c->vocab_size, C);
    int pos = t2i_graph_weight2(g, "position_embeddings.weight", c->max_positions, C);
    int type = t2i_graph_weight2(g, "token_type_embeddings.weight", c->type_vocab_size, C);
    int h = t2i_graph_op(g, T2I_OP_EMBEDDING, "word_embeddings", (int[]){ids, word}, 2, NULL);
    type = t2i_graph_op(g, T2I_OP_SLICE, "token_type_0", (int[]){type}, 1,
                        &(t2i_op_attrs){.slice = {.axis = 0, .start = 0, .len = 1}});
    h = b_add(g, "add_token_type", h, type);
    if (seq_len < c->max_positions)
        pos = t2i_graph_op(g, T2I_OP_SLICE, "position_ids", (int[]){pos}, 1,
                           &(t2i_op_attrs){.slice = {.axis = 0, .start = 0, .len = seq_len}});
    h = b_add(g, "add_position", h, pos);
    h = b_layernorm(g, "LayerNorm", h, C, c->layer_norm_eps);
    t2i_graph_scope_pop(g, s);
    for (int l = 0; l < c->layers; l++) {
        s = t2i_graph_scope_push(g, "encoder.layer.%d", l);
        int a = bert_attention(g, h, C, c->heads);
        a = b_linear(g, "attention.output.dense", a, C, C, true, T2I_ACT_NONE);
        h = b_layernorm(g, "attention.output.LayerNorm", b_add(g, "attention.residual", a, h), C, c->layer_norm_eps);
        int x = b_linear(g, "intermediate.dense", h, C, c->intermediate_size, true, c->act);
        x = b_linear(g, "output.dense", x, c->intermediate_size, C, true, T2I_ACT_NONE);
        h = b_layernorm(g, "output.LayerNorm", b_add(g, "output.residual", x, h), C, c->layer_norm_eps);
        t2i_graph_scope_pop(g, s);
    }
    t2i_graph_output(g, h, "hidden");
    if (scope) t2i_graph_scope_pop(g, 0);
    if (projection_dim > 0) {
        int cls = t2i_graph_op(g, T2I_OP_SLICE, "cls_row", (int[]){h}, 1,
                               &(t2i_op_attrs){.slice = {.axis = 1, .start = 0, .len = 1}});
        cls = b_linear(g, "text_projection", cls, C, projection_dim, false, T2I_ACT_NONE);
        t2i_graph_output(g, b_reshape(g, "text_embeds_2d", cls, 2, (int64_t[]){batch, projection_dim}),
                         "text_embeds");
    }
    return b_finish(g, "text encoder", out);
}
