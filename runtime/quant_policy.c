/* quant_policy.c — which weights the INT8 rungs quantise (quant_policy.h). */
#include <stdlib.h>
#include <string.h>
#include "runtime/quant_policy.h"

static bool starts(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

bool t2i_quant_int8_name_allowed(const char *name)
{
    static const char *const keep[] = {"conv_in.", "conv_out.", "time_embedding.", "add_embedding.",
                                       "class_embedding.", "text_projection", "quant_conv.", "post_quant_conv."};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        if (starts(name, keep[i])) return false;
    if (starts(name, "decoder.")) return false;
    if (starts(name, "encoder.") && !starts(name, "encoder.layer.")) return false;   /* VAE, not BERT */
    return true;
}

unsigned char *t2i_quant_int8_select(const t2i_graph *g)
{
    unsigned char *use = calloc((size_t)g->n_tensors + 1, 1);   /* bit 0: GEMM weight, bit 1: other reader */
    if (!use) return NULL;
    for (int n = 0; n < g->n_nodes; n++) {
        const t2i_node *node = &g->nodes[n];
        for (int i = 0; i < node->n_in; i++) {
            int t = node->in[i];
            if (t < 0 || g->tensors[t].kind != T2I_TENSOR_WEIGHT) continue;
            bool gemm = i == 1 && (node->op == T2I_OP_LINEAR || node->op == T2I_OP_CONV2D);
            use[t] |= gemm ? 1 : 2;
        }
    }
    for (int t = 0; t < g->n_tensors; t++)
        use[t] = use[t] == 1 && g->tensors[t].ndim >= 2 && t2i_quant_int8_name_allowed(g->tensors[t].name);
    return use;
}
