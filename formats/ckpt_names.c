/* ckpt_names.c — diffusers name -> original single-file name (ckpt_names.h). */
#include "formats/ckpt_names.h"

#include <stdio.h>
#include <string.h>

typedef struct name_rename { const char *from, *to; } name_rename;

/* Whole module paths that only move (the ".weight" / ".bias" suffix follows). */
static const name_rename unet_fixed[] = {
    {"time_embedding.linear_1", "time_embed.0"}, {"time_embedding.linear_2", "time_embed.2"},
    {"conv_in", "input_blocks.0.0"},             {"conv_norm_out", "out.0"},
    {"conv_out", "out.2"},                       {"add_embedding.linear_1", "label_emb.0.0"},
    {"add_embedding.linear_2", "label_emb.0.2"},
};

/* The first component of a resnet's sub-path. */
static const name_rename unet_resnet[] = {
    {"norm1", "in_layers.0"},   {"conv1", "in_layers.2"},         {"norm2", "out_layers.0"},
    {"conv2", "out_layers.3"},  {"time_emb_proj", "emb_layers.1"}, {"conv_shortcut", "skip_connection"},
};

static const name_rename vae_fixed[] = {
    {"encoder.conv_norm_out", "encoder.norm_out"}, {"decoder.conv_norm_out", "decoder.norm_out"},
};
static const name_rename vae_resnet[] = {{"conv_shortcut", "nin_shortcut"}};
static const name_rename vae_attention[] = {
    {"group_norm", "norm"}, {"to_q", "q"}, {"to_k", "k"}, {"to_v", "v"}, {"to_out.0", "proj_out"},
};

static const name_rename openclip_fixed[] = {
    {"text_model.embeddings.position_embedding.weight", "positional_embedding"},
    {"text_model.embeddings.token_embedding.weight", "token_embedding.weight"},
    {"text_model.final_layer_norm.weight", "ln_final.weight"},
    {"text_model.final_layer_norm.bias", "ln_final.bias"},
};
static const name_rename openclip_layer[] = {
    {"layer_norm1", "ln_1"}, {"layer_norm2", "ln_2"}, {"self_attn.out_proj", "attn.out_proj"},
    {"mlp.fc1", "mlp.c_fc"}, {"mlp.fc2", "mlp.c_proj"},
};

#define COUNT(a) (sizeof a / sizeof a[0])

/* s starts with module path `from` followed by '.' or the end: the length of
 * `from`, else 0. */
static size_t starts_module(const char *s, const char *from)
{
    size_t n = strlen(from);
    return strncmp(s, from, n) == 0 && (s[n] == '.' || s[n] == '\0') ? n : 0;
}

/* rest with its first module path renamed by the table (unchanged if none
 * applies), appended to out. */
static void put_renamed(char *out, size_t cap, const char *rest, const name_rename *t, size_t n)
{
    size_t len = strlen(out);
    for (size_t i = 0; i < n; i++) {
        size_t k = starts_module(rest, t[i].from);
        if (k) {
            snprintf(out + len, cap - len, "%s%s", t[i].to, rest + k);
            return;
        }
    }
    snprintf(out + len, cap - len, "%s", rest);
}

/* "pattern" with two %d and the rest after a final '.': *rest points there. */
static int scan2(const char *name, const char *fmt, int *a, int *b, const char **rest)
{
    int n = -1;
    if (sscanf(name, fmt, a, b, &n) != 2 || n < 0) return 0;
    *rest = name + n;
    return 1;
}

static int scan1(const char *name, const char *fmt, int *a, const char **rest)
{
    int n = -1;
    if (sscanf(name, fmt, a, &n) != 1 || n < 0) return 0;
    *rest = name + n;
    return 1;
}

static int unet_name(const t2i_ckpt_layout *l, const char *name, char *out, size_t cap)
{
    int b, k;
    const char *rest;
    int L = l->unet_layers_per_block;
    for (size_t i = 0; i < COUNT(unet_fixed); i++) {
        size_t n = starts_module(name, unet_fixed[i].from);
        if (n) return snprintf(out, cap, "%s%s", unet_fixed[i].to, name + n), 1;
    }
    if (scan2(name, "down_blocks.%d.resnets.%d.%n", &b, &k, &rest)) {
        snprintf(out, cap, "input_blocks.%d.0.", 1 + b * (L + 1) + k);
        return put_renamed(out, cap, rest, unet_resnet, COUNT(unet_resnet)), 1;
    }
    if (scan2(name, "down_blocks.%d.attentions.%d.%n", &b, &k, &rest))
        return snprintf(out, cap, "input_blocks.%d.1.%s", 1 + b * (L + 1) + k, rest), 1;
    if (scan1(name, "down_blocks.%d.downsamplers.0.conv.%n", &b, &rest))
        return snprintf(out, cap, "input_blocks.%d.0.op.%s", (b + 1) * (L + 1), rest), 1;
    if (scan1(name, "mid_block.resnets.%d.%n", &k, &rest)) {
        snprintf(out, cap, "middle_block.%d.", 2 * k);
        return put_renamed(out, cap, rest, unet_resnet, COUNT(unet_resnet)), 1;
    }
    if (strncmp(name, "mid_block.attentions.0.", 23) == 0)
        return snprintf(out, cap, "middle_block.1.%s", name + 23), 1;
    if (scan2(name, "up_blocks.%d.resnets.%d.%n", &b, &k, &rest)) {
        snprintf(out, cap, "output_blocks.%d.0.", b * (L + 1) + k);
        return put_renamed(out, cap, rest, unet_resnet, COUNT(unet_resnet)), 1;
    }
    if (scan2(name, "up_blocks.%d.attentions.%d.%n", &b, &k, &rest))
        return snprintf(out, cap, "output_blocks.%d.1.%s", b * (L + 1) + k, rest), 1;
    if (scan1(name, "up_blocks.%d.upsamplers.0.conv.%n", &b, &rest)) {
        int cross = b >= 0 && b < T2I_CKPT_MAX_BLOCKS && l->unet_up_cross[b];
        return snprintf(out, cap, "output_blocks.%d.%d.conv.%s", b * (L + 1) + L, cross ? 2 : 1, rest), 1;
    }
    return 0;
}

static int vae_name(const t2i_ckpt_layout *l, const char *name, char *out, size_t cap)
{
    int i, j;
    const char *rest;
    for (size_t t = 0; t < COUNT(vae_fixed); t++) {
        size_t n = starts_module(name, vae_fixed[t].from);
        if (n) return snprintf(out, cap, "%s%s", vae_fixed[t].to, name + n), 1;
    }
    const char *coder = strncmp(name, "encoder.", 8) == 0 ? "encoder" : strncmp(name, "decoder.", 8) == 0 ? "decoder" : NULL;
    const char *in = coder ? name + 8 : name;
    if (coder && scan2(in, "down_blocks.%d.resnets.%d.%n", &i, &j, &rest)) {
        snprintf(out, cap, "%s.down.%d.block.%d.", coder, i, j);
        return put_renamed(out, cap, rest, vae_resnet, COUNT(vae_resnet)), 1;
    }
    if (coder && scan1(in, "down_blocks.%d.downsamplers.0.conv.%n", &i, &rest))
        return snprintf(out, cap, "%s.down.%d.downsample.conv.%s", coder, i, rest), 1;
    if (coder && scan2(in, "up_blocks.%d.resnets.%d.%n", &i, &j, &rest)) {
        snprintf(out, cap, "%s.up.%d.block.%d.", coder, l->vae_blocks - 1 - i, j);
        return put_renamed(out, cap, rest, vae_resnet, COUNT(vae_resnet)), 1;
    }
    if (coder && scan1(in, "up_blocks.%d.upsamplers.0.conv.%n", &i, &rest))
        return snprintf(out, cap, "%s.up.%d.upsample.conv.%s", coder, l->vae_blocks - 1 - i, rest), 1;
    if (coder && scan1(in, "mid_block.resnets.%d.%n", &i, &rest)) {
        snprintf(out, cap, "%s.mid.block_%d.", coder, i + 1);
        return put_renamed(out, cap, rest, vae_resnet, COUNT(vae_resnet)), 1;
    }
    if (coder && strncmp(in, "mid_block.attentions.0.", 23) == 0) {
        snprintf(out, cap, "%s.mid.attn_1.", coder);
        return put_renamed(out, cap, in + 23, vae_attention, COUNT(vae_attention)), 1;
    }
    /* conv_in, conv_out, quant_conv, post_quant_conv keep their names */
    return snprintf(out, cap, "%s", name), 1;
}

static int openclip_name(const char *name, t2i_ckpt_src *o)
{
    size_t cap = sizeof o->name;
    int n;
    const char *rest;
    for (size_t t = 0; t < COUNT(openclip_fixed); t++)
        if (strcmp(name, openclip_fixed[t].from) == 0) return snprintf(o->name, cap, "%s", openclip_fixed[t].to), 1;
    if (strcmp(name, "text_projection.weight") == 0) {
        o->xform = T2I_CKPT_TRANSPOSE;
        return snprintf(o->name, cap, "text_projection"), 1;
    }
    if (!scan1(name, "text_model.encoder.layers.%d.%n", &n, &rest)) return 0;
    static const char *const qkv[3] = {"self_attn.q_proj.", "self_attn.k_proj.", "self_attn.v_proj."};
    for (int k = 0; k < 3; k++)
        if (strncmp(rest, qkv[k], strlen(qkv[k])) == 0) {
            o->xform = T2I_CKPT_ROWS;
            o->index = k;
            return snprintf(o->name, cap, "transformer.resblocks.%d.attn.in_proj_%s", n, rest + strlen(qkv[k])), 1;
        }
    snprintf(o->name, cap, "transformer.resblocks.%d.", n);
    put_renamed(o->name, cap, rest, openclip_layer, COUNT(openclip_layer));
    return 1;
}

const char *t2i_ckpt_prefix(const t2i_ckpt_layout *l, t2i_ckpt_part part)
{
    switch (part) {
    case T2I_CKPT_UNET: return "model.diffusion_model.";
    case T2I_CKPT_VAE: return "first_stage_model.";
    case T2I_CKPT_TEXT: return l->text_prefix;
    default: return l->text2_prefix;
    }
}

int t2i_ckpt_original_name(const t2i_ckpt_layout *l, t2i_ckpt_part part, const char *name, t2i_ckpt_src *out)
{
    char local[256];
    int ok;
    memset(out, 0, sizeof *out);
    local[0] = '\0';
    if (part == T2I_CKPT_UNET) ok = unet_name(l, name, local, sizeof local);
    else if (part == T2I_CKPT_VAE) ok = vae_name(l, name, local, sizeof local);
    else if ((part == T2I_CKPT_TEXT ? l->text_naming : l->text2_naming) == T2I_CKPT_TEXT_OPENCLIP) {
        ok = openclip_name(name, out);
        snprintf(local, sizeof local, "%s", out->name);
    } else {
        ok = snprintf(local, sizeof local, "%s", name) > 0;
    }
    if (!ok) return 0;
    const char *prefix = t2i_ckpt_prefix(l, part);
    return snprintf(out->name, sizeof out->name, "%s%s", prefix ? prefix : "", local) < (int)sizeof out->name;
}
