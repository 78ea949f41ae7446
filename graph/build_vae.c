/*
 * build_vae.c — diffusers AutoencoderKL encoder and decoder as graphs.
 *
 * Decoder: post_quant_conv (1×1) → conv_in → mid (resnet, attention,
 * resnet) → up blocks ((layers_per_block + 1) resnets, then nearest ×2 +
 * conv except in the last) → GroupNorm+SiLU → conv_out.
 * Encoder: conv_in → down blocks (layers_per_block resnets, then a stride-2
 * conv with (0,1,0,1) padding except in the last) → mid → GroupNorm+SiLU →
 * conv_out (2·latent channels) → quant_conv (1×1) → first half = mean.
 * All norms use eps 1e-6; the mid attention is one head over all channels,
 * with biased q/k/v and its own GroupNorm, plus the residual.
 */
#include "graph/build.h"
#include "graph/build_common.h"
#include "base/error.h"

#define VAE_EPS 1e-6f

static int vae_attention(t2i_graph *g, const t2i_vae_config *c, int x, int ch)
{
    int s = t2i_graph_scope_push(g, "attentions.0");
    const t2i_tensor *xt = &g->tensors[x];
    int h = (int)xt->ne[2], w = (int)xt->ne[3];
    int y = t2i_b_groupnorm(g, "group_norm", x, ch, c->norm_num_groups, VAE_EPS, T2I_ACT_NONE);
    y = t2i_graph_op(g, T2I_OP_TO_TOKENS, "to_tokens", (int[]){y}, 1, NULL);
    y = t2i_b_attention(g, "", y, y, ch, ch, 1, true, false);
    y = t2i_graph_op(g, T2I_OP_FROM_TOKENS, "from_tokens", (int[]){y}, 1, &(t2i_op_attrs){.hw = {.h = h, .w = w}});
    y = t2i_b_add(g, "residual", y, x);
    t2i_graph_scope_pop(g, s);
    return y;
}

static int vae_mid(t2i_graph *g, const t2i_vae_config *c, int x, int ch)
{
    int s = t2i_graph_scope_push(g, "mid_block");
    x = t2i_b_resnet(g, "resnets.0", x, ch, ch, -1, 0, c->norm_num_groups, VAE_EPS);
    if (c->mid_block_add_attention) x = vae_attention(g, c, x, ch);
    x = t2i_b_resnet(g, "resnets.1", x, ch, ch, -1, 0, c->norm_num_groups, VAE_EPS);
    t2i_graph_scope_pop(g, s);
    return x;
}

/* The block counts the config parser accepts (block_out_channels is a
 * fixed array). */
static t2i_status check_blocks(const t2i_vae_config *c, const char *who)
{
    if (c->n_blocks < 1 || c->n_blocks > T2I_MAX_BLOCKS || c->layers_per_block < 1 ||
        c->layers_per_block > T2I_MAX_LAYERS_PER_BLOCK)
        return t2i_fail(T2I_ERR_INVALID_ARG, "%s: %d blocks of %d layers (1 to %d blocks of 1 to %d layers)", who,
                        c->n_blocks, c->layers_per_block, T2I_MAX_BLOCKS, T2I_MAX_LAYERS_PER_BLOCK);
    return T2I_OK;
}

static t2i_status decoder(const t2i_vae_config *c, int batch, int h, int w, bool gn_external, t2i_graph **out)
{
    *out = NULL;
    T2I_TRY(check_blocks(c, "vae decoder"));
    t2i_graph *g = t2i_graph_create();
    if (!g) return t2i_fail(T2I_ERR_NOMEM, "vae decoder: out of memory");
    g->gn_external = gn_external;
    int nb = c->n_blocks, L = c->latent_channels;
    int x = t2i_graph_input(g, "latents", T2I_F32, 4, (int64_t[]){batch, L, h, w});
    x = t2i_b_conv(g, "post_quant_conv", x, L, L, 1, 1, 0);
    t2i_graph_scope_push(g, "decoder");
    int ch = c->block_out_channels[nb - 1];
    x = t2i_b_conv(g, "conv_in", x, L, ch, 3, 1, 1);
    x = vae_mid(g, c, x, ch);
    for (int i = 0; i < nb; i++) {
        int s = t2i_graph_scope_push(g, "up_blocks.%d", i);
        int cout = c->block_out_channels[nb - 1 - i];
        for (int l = 0; l < c->layers_per_block + 1; l++) {
            char name[32];
            snprintf(name, sizeof name, "resnets.%d", l);
            x = t2i_b_resnet(g, name, x, ch, cout, -1, 0, c->norm_num_groups, VAE_EPS);
            ch = cout;
        }
        if (i < nb - 1) {
            x = t2i_graph_op(g, T2I_OP_UPSAMPLE, "upsamplers.0.nearest", (int[]){x}, 1, NULL);
            x = t2i_b_conv(g, "upsamplers.0.conv", x, ch, ch, 3, 1, 1);
        }
        t2i_graph_scope_pop(g, s);
    }
    x = t2i_b_groupnorm(g, "conv_norm_out", x, ch, c->norm_num_groups, VAE_EPS, T2I_ACT_SILU);
    x = t2i_b_conv(g, "conv_out", x, ch, c->out_channels, 3, 1, 1);
    t2i_graph_output(g, x, "image");
    return t2i_b_finish(g, "vae decoder", out);
}

static t2i_status encoder(const t2i_vae_config *c, int batch, int h, int w, bool gn_external, t2i_graph **out)
{
    *out = NULL;
    T2I_TRY(check_blocks(c, "vae encoder"));
    int nb = c->n_blocks, L = c->latent_channels, f = t2i_vae_scale(c);
    if (h % f || w % f)
        return t2i_fail(T2I_ERR_INVALID_ARG, "vae encoder: image size %dx%d is not a multiple of %d", w, h, f);
    t2i_graph *g = t2i_graph_create();
    if (!g) return t2i_fail(T2I_ERR_NOMEM, "vae encoder: out of memory");
    g->gn_external = gn_external;
    int x = t2i_graph_input(g, "image", T2I_F32, 4, (int64_t[]){batch, c->in_channels, h, w});
    int s0 = t2i_graph_scope_push(g, "encoder");
    int ch = c->block_out_channels[0];
    x = t2i_b_conv(g, "conv_in", x, c->in_channels, ch, 3, 1, 1);
    for (int i = 0; i < nb; i++) {
        int s = t2i_graph_scope_push(g, "down_blocks.%d", i);
        int cout = c->block_out_channels[i];
        for (int l = 0; l < c->layers_per_block; l++) {
            char name[32];
            snprintf(name, sizeof name, "resnets.%d", l);
            x = t2i_b_resnet(g, name, x, ch, cout, -1, 0, c->norm_num_groups, VAE_EPS);
            ch = cout;
        }
        if (i < nb - 1) {
            int ss = t2i_graph_scope_push(g, "downsamplers.0.conv");
            int wt = t2i_graph_weight4(g, "weight", ch, ch, 3, 3);
            int bi = t2i_graph_weight1(g, "bias", ch);
            t2i_op_attrs a = {.conv2d = {.stride = 2, .pad_bottom = 1, .pad_right = 1}};
            x = t2i_graph_op(g, T2I_OP_CONV2D, "", (int[]){x, wt, bi}, 3, &a);
            t2i_graph_scope_pop(g, ss);
        }
        t2i_graph_scope_pop(g, s);
    }
    x = vae_mid(g, c, x, ch);
    x = t2i_b_groupnorm(g, "conv_norm_out", x, ch, c->norm_num_groups, VAE_EPS, T2I_ACT_SILU);
    x = t2i_b_conv(g, "conv_out", x, ch, 2 * L, 3, 1, 1);
    t2i_graph_scope_pop(g, s0);
    x = t2i_b_conv(g, "quant_conv", x, 2 * L, 2 * L, 1, 1, 0);
    int moments = x;
    x = t2i_graph_op(g, T2I_OP_SLICE, "mean", (int[]){moments}, 1, &(t2i_op_attrs){.slice = {.axis = 1, .start = 0, .len = L}});
    t2i_graph_output(g, x, "mean");
    x = t2i_graph_op(g, T2I_OP_SLICE, "logvar", (int[]){moments}, 1,
                     &(t2i_op_attrs){.slice = {.axis = 1, .start = L, .len = L}});
    t2i_graph_output(g, x, "logvar");
    return t2i_b_finish(g, "vae encoder", out);
}

t2i_status t2i_build_vae_decoder(const t2i_vae_config *c, int batch, int h, int w, t2i_graph **out)
{
    return decoder(c, batch, h, w, false, out);
}

t2i_status t2i_build_vae_encoder(const t2i_vae_config *c, int batch, int h, int w, t2i_graph **out)
{
    return encoder(c, batch, h, w, false, out);
}

t2i_status t2i_build_vae_decoder_gn(const t2i_vae_config *c, int h, int w, t2i_graph **out)
{
    return decoder(c, 1, h, w, true, out);
}

t2i_status t2i_build_vae_encoder_gn(const t2i_vae_config *c, int h, int w, t2i_graph **out)
{
    return encoder(c, 1, h, w, true, out);
}
