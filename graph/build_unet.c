/*
 * build_unet.c — diffusers UNet2DConditionModel (SD 1.x / 2.x) as a graph.
 *
 *   temb = linear_2(SiLU(linear_1(timestep_embedding(t))))
 *   SDXL (addition_embed_type "text_time"): temb += add_embedding(concat(
 *          text_embeds, timestep_embedding(time_ids) per value, flattened))
 *   num_class_embeds (SD x4 upscaler): temb += class_embedding[class_labels]
 *   h = conv_in(sample); skips = [h]
 *   down blocks: resnet (+ transformer) × layers_per_block, each output
 *                pushed to skips; then a stride-2 conv (not in the last block)
 *   mid block:   resnet, transformer, resnet
 *   up blocks:   (layers_per_block + 1) × [concat(h, skips.pop()) → resnet
 *                (+ transformer)], then nearest ×2 + conv (not in the last)
 *   out = conv_out(SiLU(GroupNorm(h)))
 *
 * The transformer is Transformer2DModel: GroupNorm(eps 1e-6) → proj_in
 * (1×1 conv, or linear after flattening when use_linear_projection) →
 * BasicTransformerBlock × n (self-attn, cross-attn on the text context,
 * GEGLU feed-forward, each pre-LayerNorm with a residual) → proj_out → + x.
 * With only_cross_attention (the x4 upscaler's first blocks) attn1 attends
 * to the text context as attn2 does. "attention_head_dim" in SD configs is the number of heads (diffusers'
 * historical naming); the head size is channels / heads.
 */
#include "graph/build.h"
#include "graph/build_common.h"
#include "base/error.h"

typedef struct unet_ctx {
    const t2i_unet_config *c;
    t2i_graph *g;
    int temb, temb_dim, context, batch;
} unet_ctx;

static int transformer(unet_ctx *u, const char *name, int x, int ch, int heads, int layers, bool only_cross, int h,
                       int w)
{
    t2i_graph *g = u->g;
    const t2i_unet_config *c = u->c;
    int s = t2i_graph_scope_push(g, "%s", name);
    int y = t2i_b_groupnorm(g, "norm", x, ch, c->norm_num_groups, 1e-6f, T2I_ACT_NONE);
    if (c->use_linear_projection) {
        y = t2i_graph_op(g, T2I_OP_TO_TOKENS, "to_tokens", (int[]){y}, 1, NULL);
        y = t2i_b_linear(g, "proj_in", y, ch, ch, true, T2I_ACT_NONE);
    } else {
        y = t2i_b_conv(g, "proj_in", y, ch, ch, 1, 1, 0);
        y = t2i_graph_op(g, T2I_OP_TO_TOKENS, "to_tokens", (int[]){y}, 1, NULL);
    }
    for (int l = 0; l < layers; l++) {
        int sb = t2i_graph_scope_push(g, "transformer_blocks.%d", l);
        int n = t2i_b_layernorm(g, "norm1", y, ch, 1e-5f);
        int kv = only_cross ? u->context : n, kv_dim = only_cross ? c->cross_attention_dim : ch;
        y = t2i_b_add(g, "residual1", y, t2i_b_attention(g, "attn1", n, kv, ch, kv_dim, heads, false, false));
        n = t2i_b_layernorm(g, "norm2", y, ch, 1e-5f);
        y = t2i_b_add(g, "residual2", y,
                  t2i_b_attention(g, "attn2", n, u->context, ch, c->cross_attention_dim, heads, false, false));
        n = t2i_b_layernorm(g, "norm3", y, ch, 1e-5f);
        n = t2i_b_linear(g, "ff.net.0.proj", n, ch, 8 * ch, true, T2I_ACT_NONE);
        n = t2i_graph_op(g, T2I_OP_GEGLU, "ff.net.0.geglu", (int[]){n}, 1, NULL);
        n = t2i_b_linear(g, "ff.net.2", n, 4 * ch, ch, true, T2I_ACT_NONE);
        y = t2i_b_add(g, "residual3", y, n);
        t2i_graph_scope_pop(g, sb);
    }
    t2i_op_attrs hw = {.hw = {.h = h, .w = w}};
    if (c->use_linear_projection) {
        y = t2i_b_linear(g, "proj_out", y, ch, ch, true, T2I_ACT_NONE);
        y = t2i_graph_op(g, T2I_OP_FROM_TOKENS, "from_tokens", (int[]){y}, 1, &hw);
    } else {
        y = t2i_graph_op(g, T2I_OP_FROM_TOKENS, "from_tokens", (int[]){y}, 1, &hw);
        y = t2i_b_conv(g, "proj_out", y, ch, ch, 1, 1, 0);
    }
    y = t2i_b_add(g, "residual", y, x);
    t2i_graph_scope_pop(g, s);
    return y;
}

static int resnet(unet_ctx *u, const char *name, int x, int cin, int cout)
{
    return t2i_b_resnet(u->g, name, x, cin, cout, u->temb, u->temb_dim, u->c->norm_num_groups, u->c->norm_eps);
}

t2i_status t2i_build_unet(const t2i_unet_config *c, int batch, int h, int w, int ctx_len, t2i_graph **out)
{
    *out = NULL;
    if (c->n_blocks < 1 || c->n_blocks > T2I_MAX_BLOCKS || c->layers_per_block < 1 ||
        c->layers_per_block > T2I_MAX_LAYERS_PER_BLOCK)
        return t2i_fail(T2I_ERR_INVALID_ARG, "unet: %d blocks of %d layers (1 to %d blocks of 1 to %d layers)",
                        c->n_blocks, c->layers_per_block, T2I_MAX_BLOCKS, T2I_MAX_LAYERS_PER_BLOCK);
    int nb = c->n_blocks, down = 1 << (nb - 1);
    if (h % down || w % down)
        return t2i_fail(T2I_ERR_INVALID_ARG, "unet: latent size %dx%d is not a multiple of %d", w, h, down);
    t2i_graph *g = t2i_graph_create();
    if (!g) return t2i_fail(T2I_ERR_NOMEM, "unet: out of memory");
    const int *boc = c->block_out_channels;
    unet_ctx u = {.c = c, .g = g, .batch = batch, .temb_dim = 4 * boc[0]};

    int sample = t2i_graph_input(g, "sample", T2I_F32, 4, (int64_t[]){batch, c->in_channels, h, w});
    int t = t2i_graph_input(g, "timestep", T2I_F32, 1, (int64_t[]){batch});
    u.context = t2i_graph_input(g, "context", T2I_F32, 3, (int64_t[]){batch, ctx_len, c->cross_attention_dim});

    t2i_op_attrs ta = {.timestep = {.dim = boc[0], .flip_sin_to_cos = c->flip_sin_to_cos, .freq_shift = c->freq_shift}};
    int temb = t2i_graph_op(g, T2I_OP_TIMESTEP, "time_proj", (int[]){t}, 1, &ta);
    temb = t2i_b_linear(g, "time_embedding.linear_1", temb, boc[0], u.temb_dim, true, T2I_ACT_SILU);
    u.temb = t2i_b_linear(g, "time_embedding.linear_2", temb, u.temb_dim, u.temb_dim, true, T2I_ACT_NONE);
    if (c->add_text_time) {
        const int D = c->addition_time_embed_dim, P = c->projection_class_embeddings_input_dim - 6 * D;
        int te = t2i_graph_input(g, "text_embeds", T2I_F32, 2, (int64_t[]){batch, P});
        int ti = t2i_graph_input(g, "time_ids", T2I_F32, 2, (int64_t[]){batch, 6});
        ti = t2i_b_reshape(g, "time_ids_flat", ti, 1, (int64_t[]){(int64_t)batch * 6});
        t2i_op_attrs at = {.timestep = {.dim = D, .flip_sin_to_cos = c->flip_sin_to_cos, .freq_shift = c->freq_shift}};
        ti = t2i_graph_op(g, T2I_OP_TIMESTEP, "add_time_proj", (int[]){ti}, 1, &at);
        ti = t2i_b_reshape(g, "time_embeds", ti, 2, (int64_t[]){batch, 6 * D});
        int a = t2i_graph_op(g, T2I_OP_CONCAT, "add_embeds", (int[]){te, ti}, 2, &(t2i_op_attrs){.axis = {.axis = 1}});
        a = t2i_b_linear(g, "add_embedding.linear_1", a, P + 6 * D, u.temb_dim, true, T2I_ACT_SILU);
        a = t2i_b_linear(g, "add_embedding.linear_2", a, u.temb_dim, u.temb_dim, true, T2I_ACT_NONE);
        u.temb = t2i_b_add(g, "add_aug_emb", u.temb, a);
    }

    if (c->num_class_embeds) {
        int cl = t2i_graph_input(g, "class_labels", T2I_I32, 2, (int64_t[]){batch, 1});
        int tab = t2i_graph_weight2(g, "class_embedding.weight", c->num_class_embeds, u.temb_dim);
        int ce = t2i_graph_op(g, T2I_OP_EMBEDDING, "class_embedding", (int[]){cl, tab}, 2, NULL);
        ce = t2i_b_reshape(g, "class_emb", ce, 2, (int64_t[]){batch, u.temb_dim});
        u.temb = t2i_b_add(g, "add_class_emb", u.temb, ce);
    }

    int x = t2i_b_conv(g, "conv_in", sample, c->in_channels, boc[0], 3, 1, 1);
    /* conv_in, every down-block layer, every downsampler */
    enum { MAX_SKIPS = 1 + T2I_MAX_BLOCKS * (T2I_MAX_LAYERS_PER_BLOCK + 1) };
    int skips[MAX_SKIPS], skip_ch[MAX_SKIPS], n_skips = 0;
    skips[n_skips] = x;
    skip_ch[n_skips++] = boc[0];

    int ch = boc[0], hh = h, ww = w;
    for (int i = 0; i < nb; i++) {
        int s = t2i_graph_scope_push(g, "down_blocks.%d", i);
        for (int l = 0; l < c->layers_per_block; l++) {
            char name[32];
            snprintf(name, sizeof name, "resnets.%d", l);
            x = resnet(&u, name, x, ch, boc[i]);
            ch = boc[i];
            if (c->down_cross[i]) {
                snprintf(name, sizeof name, "attentions.%d", l);
                x = transformer(&u, name, x, ch, c->heads[i], c->transformer_layers[i], c->only_cross[i], hh, ww);
            }
            skips[n_skips] = x;
            skip_ch[n_skips++] = ch;
        }
        if (i < nb - 1) {
            x = t2i_b_conv(g, "downsamplers.0.conv", x, ch, ch, 3, 2, 1);
            hh /= 2;
            ww /= 2;
            skips[n_skips] = x;
            skip_ch[n_skips++] = ch;
        }
        t2i_graph_scope_pop(g, s);
    }

    int s = t2i_graph_scope_push(g, "mid_block");
    x = resnet(&u, "resnets.0", x, ch, ch);
    x = transformer(&u, "attentions.0", x, ch, c->heads[nb - 1], c->transformer_layers[nb - 1], false, hh, ww);
    x = resnet(&u, "resnets.1", x, ch, ch);
    t2i_graph_scope_pop(g, s);

    for (int i = 0; i < nb; i++) {
        int bi = nb - 1 - i; /* the matching down block */
        s = t2i_graph_scope_push(g, "up_blocks.%d", i);
        for (int l = 0; l < c->layers_per_block + 1; l++) {
            char name[32];
            T2I_ASSERT(n_skips > 0);
            int skip = skips[--n_skips];
            int cat = t2i_graph_op(g, T2I_OP_CONCAT, "cat", (int[]){x, skip}, 2, &(t2i_op_attrs){.axis = {.axis = 1}});
            snprintf(name, sizeof name, "resnets.%d", l);
            x = resnet(&u, name, cat, ch + skip_ch[n_skips], boc[bi]);
            ch = boc[bi];
            if (c->up_cross[i]) {
                snprintf(name, sizeof name, "attentions.%d", l);
                x = transformer(&u, name, x, ch, c->heads[bi], c->transformer_layers[bi], c->only_cross[bi], hh, ww);
            }
        }
        if (i < nb - 1) {
            x = t2i_graph_op(g, T2I_OP_UPSAMPLE, "upsamplers.0.nearest", (int[]){x}, 1, NULL);
            x = t2i_b_conv(g, "upsamplers.0.conv", x, ch, ch, 3, 1, 1);
            hh *= 2;
            ww *= 2;
        }
        t2i_graph_scope_pop(g, s);
    }
    x = t2i_b_groupnorm(g, "conv_norm_out", x, ch, c->norm_num_groups, c->norm_eps, T2I_ACT_SILU);
    x = t2i_b_conv(g, "conv_out", x, ch, c->out_channels, 3, 1, 1);
    t2i_graph_output(g, x, "out");
    return t2i_b_finish(g, "unet", out);
}
