/*
 * quant_policy.h — which weights the INT8 rungs quantise, and which stay in
 * the backend's float type.
 *
 * A weight is quantised only if every node reading it is a LINEAR or CONV2D
 * that reads it as its weight (input 1): embeddings tables, norm scales,
 * biases and anything read through a view stay float. Of those, these stay
 * float too, by name (diffusers/transformers state-dict names):
 *
 *   conv_in.*, conv_out.*               the UNet's first and last convolution
 *                                       (4 latent channels: few bytes, and
 *                                       their error reaches every pixel)
 *   time_embedding.*, add_embedding.*,  the timestep / SDXL size embedding MLPs
 *   class_embedding.*                   (their error shifts every block's bias)
 *   text_projection*                    the pooled text projection (SDXL)
 *   the VAE (encoder.* / decoder.*      4 % of SD1.5's weights, and every
 *     except BERT's encoder.layer.*,    decoded pixel goes through it
 *     quant_conv, post_quant_conv)
 *
 * The attention softmax path and the normalisations have no weights to
 * quantise; on the CPU all activations stay FP32 (int8w is weight-only).
 * tests/test_quant.c checks this list on the default model's graphs.
 */
#ifndef T2I_QUANT_POLICY_H
#define T2I_QUANT_POLICY_H

#include <stdbool.h>
#include "graph/graph.h"

/* Whether the weight named `name`, read only as a GEMM weight, may be INT8. */
bool t2i_quant_int8_name_allowed(const char *name);

/* Per tensor of g: 1 for a weight to quantise, else 0 (malloc'd,
 * g->n_tensors bytes; NULL when out of memory). */
unsigned char *t2i_quant_int8_select(const t2i_graph *g);

#endif
