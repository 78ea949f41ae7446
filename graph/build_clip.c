/*
 * build_clip.c — the two towers of transformers' CLIP as graphs.
 *
 * CLIPTextModel:
 *   h = token_embedding[ids] + position_embedding[0..L)
 *   per layer: h += out_proj(attn(layer_norm1(h)))   (causal, biased q/k/v)
 *              h += fc2(act(fc1(layer_norm2(h))))
 *   hidden = final_layer_norm(h)
 *
 * Clip skip (t2i_clip_outputs.skip = A1111 clip_skip - 1): the last `skip`
 * layers are not built, so "hidden" is final_layer_norm(hidden_states[-1 -
 * skip]) as A1111 and diffusers' clip_skip compute it; "penultimate" is taken
 * `skip` layers earlier.
 *
 * CLIPVisionModelWithProjection (also ChineseCLIP's image tower), pixels
 * [B,3,S,S] already preprocessed, S = image_size, P = patch_size:
 *   x = patch_embedding(pixels)                conv P×P stride P, no bias → [B,C,S/P,S/P]
 *   h = [class_embedding; tokens(x)] + position_embedding   [B,1+(S/P)²,C]
 *   h = pre_layrnorm(h)                        (transformers' spelling)
 *   the same encoder layers as the text tower, without the causal mask
 *   image_embeds = visual_projection(post_layernorm(h[:, 0]))   [B,projection_dim]
 * The class token is gathered with EMBEDDING from class_embedding viewed as
 * a one-row table, with the "class_ids" input (zeros, [B,1]) as the ids.
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
#include <stdio.h>
#include "graph/build.h"
#include "graph/build_common.h"
#include "base/error.h"

/* One pre-norm encoder layer, shared by both towers (causal for text). */
static int clip_encoder_layer(t2i_graph *g, int l, int h, int C, int heads, int inter, t2i_act act, float eps,
                              bool causal)
{
    int s = t2i_graph_scope_push(g, "encoder.layers.%d", l);
    int x = b_layernorm(g, "layer_norm1", h, C, eps);
    int sa = t2i_graph_scope_push(g, "self_attn");
    int o = b_qkv_attention(g, (const char *const[]){"q_proj", "k_proj", "v_proj"}, x, x, C, C, heads, true, causal);
    o = b_linear(g, "out_proj", o, C, C, true, T2I_ACT_NONE);
    t2i_graph_scope_pop(g, sa);
    h = b_add(g, "residual1", h, o);
    x = b_layernorm(g, "layer_norm2", h, C, eps);
    x = b_linear(g, "mlp.fc1", x, C, inter, true, act);
    x = b_linear(g, "mlp.fc2", x, inter, C, true, T2I_ACT_NONE);
    h = b_add(g, "residual2", h, x);
    t2i_graph_scope_pop(g, s);
    return h;
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
    const int skip = o ? o->skip : 0;
    const int max_skip = c->layers - (o && o->penultimate ? 1 : 0);   /* down to the embeddings */
    if (skip < 0 || skip > max_skip)
        return t2i_fail(T2I_ERR_INVALID_ARG, "text encoder: clip skip %d is outside 1..%d (the encoder has %d layers)",
                        skip + 1, max_skip + 1, c->layers);
    const int run = o && o->pooled ? c->layers : c->layers - skip;   /* layers built */
    if (seq_len > c->max_positions)
        return t2i_fail(T2I_ERR_INVALID_ARG, "text encoder: %d tokens exceed max_position_embeddings %d", seq_len,
                        c->max_positions);
    t2i_graph *g = t2i_graph_create();
    if (!g) return t2i_fail(T2I_ERR_NOMEM, "text encoder: out of memory");
    int C = c->hidden_size;
    const bool embeds = o && o->token_embeds;
    int ids = embeds ? t2i_graph_input(g, "token_embeds", T2I_F32, 3, (int64_t[]){batch, seq_len, C})
                     : t2i_graph_input(g, "ids", T2I_I32, 2, (int64_t[]){batch, seq_len});
    t2i_graph_scope_push(g, "text_model");
    int s = t2i_graph_scope_push(g, "embeddings");
    int h = ids;
    if (!embeds) {
        int tok = t2i_graph_weight2(g, "token_embedding.weight", c->vocab_size, C);
        h = t2i_graph_op(g, T2I_OP_EMBEDDING, "token_embedding", (int[]){ids, tok}, 2, NULL);
    }
    int pos = t2i_graph_weight2(g, "position_embedding.weight", c->max_positions, C);
    if (seq_len < c->max_positions)
        pos = t2i_graph_op(g, T2I_OP_SLICE, "position_ids", (int[]){pos}, 1,
                           &(t2i_op_attrs){.slice = {.axis = 0, .start = 0, .len = seq_len}});
    h = b_add(g, "add_position", h, pos);
    t2i_graph_scope_pop(g, s);
    for (int l = 0; l < run; l++) {
        if (o && o->penultimate && l == c->layers - 1 - skip) t2i_graph_output(g, h, "penultimate");
        h = clip_encoder_layer(g, l, h, C, c->heads, c->intermediate_size, c->act, c->layer_norm_eps, true);
    }
    h = b_layernorm(g, "final_layer_norm", h, C, c->layer_norm_eps);
    t2i_graph_output(g, h, "hidden");
    t2i_graph_scope_pop(g, 0);
    if (o && o->pooled) {
        int idx = t2i_graph_input(g, "pool_index", T2I_I32, 2, (int64_t[]){batch, 1});
        int rows = b_reshape(g, "hidden_rows", h, 2, (int64_t[]){(int64_t)batch * seq_len, C});
        int p = t2i_graph_op(g, T2I_OP_EMBEDDING, "pool_gather", (int[]){idx, rows}, 2, NULL);
        p = b_linear(g, "text_projection", p, C, c->projection_dim, false, T2I_ACT_NONE);
        p = b_reshape(g, "pooled_2d", p, 2, (int64_t[]){batch, c->projection_dim});
        t2i_graph_output(g, p, "pooled");
    }
    return b_finish(g, "text encoder", out);
}

t2i_status t2i_build_clip_vision(const t2i_clip_vision_config *c, int batch, t2i_graph **out)
{
    *out = NULL;
    t2i_graph *g = t2i_graph_create();
    if (!g) return t2i_fail(T2I_ERR_NOMEM, "image encoder: out of memory");
    const int C = c->hidden_size, S = c->image_size, P = c->patch_size, n = (S / P) * (S / P);
    int px = t2i_graph_input(g, "pixel_values", T2I_F32, 4, (int64_t[]){batch, c->num_channels, S, S});
    int cls_ids = t2i_graph_input(g, "class_ids", T2I_I32, 2, (int64_t[]){batch, 1});
    t2i_graph_scope_push(g, "vision_model");
    int s = t2i_graph_scope_push(g, "embeddings");
    int w = t2i_graph_weight4(g, "patch_embedding.weight", C, c->num_channels, P, P);
    int x = t2i_graph_op(g, T2I_OP_CONV2D, "patch_embedding", (int[]){px, w}, 2,
                         &(t2i_op_attrs){.conv2d = {.stride = P}});
    x = t2i_graph_op(g, T2I_OP_TO_TOKENS, "patch_tokens", (int[]){x}, 1, NULL);
    int cls = t2i_graph_weight1(g, "class_embedding", C);
    cls = b_reshape(g, "class_row", cls, 2, (int64_t[]){1, C});
    cls = t2i_graph_op(g, T2I_OP_EMBEDDING, "class_token", (int[]){cls_ids, cls}, 2, NULL);
    int h = t2i_graph_op(g, T2I_OP_CONCAT, "tokens", (int[]){cls, x}, 2, &(t2i_op_attrs){.axis = {.axis = 1}});
    int pos = t2i_graph_weight2(g, "position_embedding.weight", n + 1, C);
    h = b_add(g, "add_position", h, pos);
    t2i_graph_scope_pop(g, s);
    h = b_layernorm(g, "pre_layrnorm", h, C, c->layer_norm_eps);
    for (int l = 0; l < c->layers; l++)
        h = clip_encoder_layer(g, l, h, C, c->heads, c->intermediate_size, c->act, c->layer_norm_eps, false);
    h = t2i_graph_op(g, T2I_OP_SLICE, "class_out", (int[]){h}, 1,
                     &(t2i_op_attrs){.slice = {.axis = 1, .start = 0, .len = 1}});
    h = b_layernorm(g, "post_layernorm", h, C, c->layer_norm_eps);
    t2i_graph_scope_pop(g, 0);
    h = b_linear(g, "visual_projection", h, C, c->projection_dim, false, T2I_ACT_NONE);
    h = b_reshape(g, "image_embeds_2d", h, 2, (int64_t[]){batch, c->projection_dim});
    t2i_graph_output(g, h, "image_embeds");
    return b_finish(g, "image encoder", out);
}

t2i_status t2i_build_aesthetic_head(int in_dim, int batch, t2i_graph **out)
{
    *out = NULL;
    t2i_graph *g = t2i_graph_create();
    if (!g) return t2i_fail(T2I_ERR_NOMEM, "aesthetic head: out of memory");
    static const int widths[] = {1024, 128, 64, 16, 1}, index[] = {0, 2, 4, 6, 7};
    int x = t2i_graph_input(g, "embeds", T2I_F32, 2, (int64_t[]){batch, in_dim});
    for (int i = 0, d = in_dim; i < 5; d = widths[i++]) {
        char name[32];
        snprintf(name, sizeof name, "layers.%d", index[i]);
        x = b_linear(g, name, x, d, widths[i], true, T2I_ACT_NONE);
    }
    t2i_graph_output(g, x, "score");
    return b_finish(g, "aesthetic head", out);
}
