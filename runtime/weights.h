/*
 * weights.h — a model component's weights, uploaded once to a backend.
 *
 * The set of weights is the set of WEIGHT tensors of a graph built for the
 * component (their names are diffusers' safetensors keys); each is looked up
 * in the component's safetensors files, its shape checked against the shape
 * the builder derived from config.json, converted to the backend's weight
 * dtype and copied into one device block — except on the CPU, where an
 * aligned FP32 tensor is used in place in the file's mapping (weights.c).
 * Plans of the same component at
 * other resolutions or batch sizes look weights up here by name, so weights
 * are never uploaded twice.
 */
#ifndef T2I_WEIGHTS_H
#define T2I_WEIGHTS_H

#include "graph/graph.h"
#include "kernels/backend.h"
#include "formats/safetensors.h"

typedef struct t2i_weights t2i_weights;

/* `component` names the model part in messages ("unet", "vae", ...).
 * `optional_prefix` (or NULL): a leading part of the graph's names that a
 * file may omit — transformers 4 saves CLIPTextModel keys as
 * "text_model.encoder...", transformers 5 as "encoder...". */
t2i_status t2i_weights_load(t2i_backend *be, const t2i_st_set *src, const t2i_graph *g,
                            const char *component, const char *optional_prefix, t2i_weights **out);
void t2i_weights_destroy(t2i_weights *w);

/* Device pointer of a weight, or NULL if the store does not hold it (or
 * holds it with another shape). */
const void *t2i_weights_find(const t2i_weights *w, const t2i_tensor *t);
/* All weight bytes of the store; of them, the ones used in place in the
 * files' mappings (file-backed pages, not copied; 0 off the CPU). */
size_t t2i_weights_bytes(const t2i_weights *w);
size_t t2i_weights_mapped_bytes(const t2i_weights *w);
/* Storage type of weight t: the backend's weight_dtype, or T2I_I8 for a
 * weight quantised per output channel (kernels/quant.h; int8w rung). */
t2i_dtype t2i_weights_dtype(const t2i_weights *w, const t2i_tensor *t);
/* Bytes of the INT8 weights (data + scales), and in *f32_equivalent (may be
 * NULL) what the same weights take in FP32. */
size_t t2i_weights_q8_bytes(const t2i_weights *w, size_t *f32_equivalent);

/* Internal (runtime/lora.c): the store's entries in name order, 0 <= i <
 * t2i_weights_count(w): name, shape and device pointer of entry i. */
int t2i_weights_count(const t2i_weights *w);
const char *t2i_weights_entry(const t2i_weights *w, int i, int *ndim, const int64_t **ne, void **data);
t2i_backend *t2i_weights_backend(const t2i_weights *w);
/* Call before writing into entry i's data: a mapped entry's pages are made
 * copy-on-write writable (the file never changes). T2I_ERR_IO if that fails. */
t2i_status t2i_weights_entry_writable(t2i_weights *w, int i);
t2i_dtype t2i_weights_entry_dtype(const t2i_weights *w, int i);

/* Seeded random weights for every WEIGHT tensor of g (runtime/
 * weights_random.c), for speed and memory figures of full-size
 * architectures without checkpoints. A tensor's values depend only on
 * (seed, its name, its shape), so graphs of any size, and every backend,
 * get the same weights. Scales keep activations finite through a full
 * UNet: matrices and convolution kernels uniform with std 1/sqrt(fan_in),
 * norm scales 1 ± 0.02·u, biases and norm shifts ± 0.02·u, embedding
 * tables std 0.02. */
t2i_status t2i_weights_random(t2i_backend *be, const t2i_graph *g, uint64_t seed, t2i_weights **out);

/* Internal (for stores in runtime/): a store holding every WEIGHT tensor of
 * g, each written in FP32 by fill (t2i_tensor_numel(t) floats into dst),
 * then converted to the backend's weight dtype and uploaded. */
typedef t2i_status (*t2i_weights_fill_fn)(void *user, const t2i_tensor *t, float *dst);
t2i_status t2i_weights_create_filled(t2i_backend *be, const t2i_graph *g, const char *component,
                                     t2i_weights_fill_fn fill, void *user, t2i_weights **out);

#endif
