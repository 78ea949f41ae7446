/*
 * lora_ldm.c — the original (LDM / SGM) UNet module names that kohya's
 * SDXL LoRAs use, mapped to diffusers' (both in kohya's '_' form):
 *
 *   input_blocks_0_0                 conv_in
 *   input_blocks_<a>_0_<res>         down_blocks_<i>_resnets_<j>_<res'>   a = 1 + i·(L+1) + j, j < L
 *   input_blocks_<a>_1_<rest>        down_blocks_<i>_attentions_<j>_<rest>
 *   input_blocks_<a>_0_op            down_blocks_<i>_downsamplers_0_conv   j = L
 *   middle_block_0/2_<res>           mid_block_resnets_0/1_<res'>
 *   middle_block_1_<rest>            mid_block_attentions_0_<rest>
 *   output_blocks_<a>_0_<res>        up_blocks_<i>_resnets_<j>_<res'>      a = i·(L+1) + j
 *   output_blocks_<a>_1_<rest>       up_blocks_<i>_attentions_<j>_<rest>   (cross-attention up blocks)
 *   output_blocks_<a>_1|2_conv       up_blocks_<i>_upsamplers_0_conv
 *   time_embed_0/2                   time_embedding_linear_1/2
 *   label_emb_0_0/2                  add_embedding_linear_1/2
 *   out_2                            conv_out
 *
 * with L = layers_per_block and, inside resnets, in_layers_2 → conv1,
 * out_layers_3 → conv2, emb_layers_1 → time_emb_proj, skip_connection →
 * conv_shortcut (diffusers' convert_from_ckpt / A1111's
 * convert_diffusers_name_to_compvis, read backwards).
 */
#include "runtime/lora.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *res_name(const char *rest)
{
    static const struct { const char *ldm, *diffusers; } map[] = {
        {"in_layers_2", "conv1"}, {"out_layers_3", "conv2"}, {"emb_layers_1", "time_emb_proj"},
        {"skip_connection", "conv_shortcut"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(rest, map[i].ldm) == 0) return map[i].diffusers;
    return NULL;
}

/* "<a>_<b>_<rest>" or "<a>_<b>" after a prefix: returns 1 with rest ("" if none). */
static int two_numbers(const char *s, int *a, int *b, const char **rest)
{
    char *end;
    long x = strtol(s, &end, 10);
    if (end == s || *end != '_') return 0;
    const char *p = end + 1;
    long y = strtol(p, &end, 10);
    if (end == p || (*end && *end != '_') || x < 0 || y < 0 || x > 99 || y > 9) return 0;
    *a = (int)x, *b = (int)y;
    *rest = *end ? end + 1 : "";
    return 1;
}

int t2i_lora_ldm_name(const t2i_unet_config *c, const char *key, char *out, size_t n)
{
    const int L = c->layers_per_block;
    int a, b, w = -1;
    const char *rest, *r;
    if (strncmp(key, "input_blocks_", 13) == 0 && two_numbers(key + 13, &a, &b, &rest)) {
        if (a == 0) {
            if (b == 0 && !*rest) w = snprintf(out, n, "conv_in");
        } else {
            int i = (a - 1) / (L + 1), j = (a - 1) % (L + 1);
            if (i >= c->n_blocks) return 0;
            if (j < L && b == 0 && (r = res_name(rest))) w = snprintf(out, n, "down_blocks_%d_resnets_%d_%s", i, j, r);
            else if (j < L && b == 1 && *rest && c->down_cross[i])
                w = snprintf(out, n, "down_blocks_%d_attentions_%d_%s", i, j, rest);
            else if (j == L && b == 0 && strcmp(rest, "op") == 0)
                w = snprintf(out, n, "down_blocks_%d_downsamplers_0_conv", i);
        }
    } else if (strncmp(key, "middle_block_", 13) == 0) {
        char *end;
        b = (int)strtol(key + 13, &end, 10);
        if (end == key + 13 || *end != '_') return 0;
        rest = end + 1;
        if ((b == 0 || b == 2) && (r = res_name(rest))) w = snprintf(out, n, "mid_block_resnets_%d_%s", b / 2, r);
        else if (b == 1) w = snprintf(out, n, "mid_block_attentions_0_%s", rest);
    } else if (strncmp(key, "output_blocks_", 14) == 0 && two_numbers(key + 14, &a, &b, &rest)) {
        int i = a / (L + 1), j = a % (L + 1);
        if (i >= c->n_blocks) return 0;
        if (b == 0 && (r = res_name(rest))) w = snprintf(out, n, "up_blocks_%d_resnets_%d_%s", i, j, r);
        else if (b == 1 && c->up_cross[i] && strcmp(rest, "conv") != 0 && *rest)
            w = snprintf(out, n, "up_blocks_%d_attentions_%d_%s", i, j, rest);
        else if ((b == 1 || b == 2) && j == L && strcmp(rest, "conv") == 0)
            w = snprintf(out, n, "up_blocks_%d_upsamplers_0_conv", i);
    } else if (strcmp(key, "time_embed_0") == 0 || strcmp(key, "time_embed_2") == 0) {
        w = snprintf(out, n, "time_embedding_linear_%c", key[11] == '0' ? '1' : '2');
    } else if (strcmp(key, "label_emb_0_0") == 0 || strcmp(key, "label_emb_0_2") == 0) {
        w = snprintf(out, n, "add_embedding_linear_%c", key[12] == '0' ? '1' : '2');
    } else if (strcmp(key, "out_2") == 0) {
        w = snprintf(out, n, "conv_out");
    }
    return w > 0 && (size_t)w < n;
}
