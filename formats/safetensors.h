/*
 * safetensors.h — read and write .safetensors files, the weight format of
 * every diffusers model folder.
 *
 * File layout (huggingface/safetensors):
 *
 *   [8 bytes: N, u64 little-endian][N bytes: UTF-8 JSON header][data]
 *
 * The header is a JSON object: an optional "__metadata__" object of
 * string -> string, and one entry per tensor
 *   "name": {"dtype": "F16", "shape": [320, 4, 3, 3], "data_offsets": [b, e]}
 * where [b, e) is relative to the start of the data section, tensors are
 * row-major, little-endian and not aligned.
 *
 * The reader treats the file as hostile and enforces the rules of the
 * reference implementation (Rust SafeTensors::deserialize/validate):
 * N <= 100,000,000; 8 + N <= file size; the header is valid UTF-8, starts
 * with '{' and parses as a JSON object; every entry has a known dtype, a shape
 * of non-negative integers and [begin, end] offsets; product(shape) * dtype
 * size (overflow-checked) equals end - begin; the offsets, sorted, tile the
 * data section from 0 with no gap or overlap and end exactly at its end.
 * Stricter than the reference: duplicate tensor names or duplicate fields are
 * rejected (the reference's JSON map keeps one silently), shape entries must
 * be below 2^53 (cJSON reads numbers as doubles), at most 8 dimensions.
 *
 * The file is mmapped (read-only, private); tensor data pointers point into
 * the mapping and may be unaligned: read them with memcpy (or
 * t2i_st_read_f32), or check their alignment before casting to float *
 * (runtime/weights.c uses aligned F32 tensors in place on the CPU).
 */
#ifndef T2I_SAFETENSORS_H
#define T2I_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include "t2i.h"
#include "base/dtype.h"

#define T2I_ST_MAX_DIMS 8
#define T2I_ST_MAX_HEADER 100000000u   /* as the reference implementation */

typedef struct t2i_st_tensor {
    const char *name;
    t2i_dtype dtype;
    int ndim;                          /* 0 for a scalar */
    int64_t shape[T2I_ST_MAX_DIMS];
    const void *data;                  /* into the mapping; maybe unaligned */
    size_t nbytes;
} t2i_st_tensor;

/* ---- reader ----------------------------------------------------------- */

typedef struct t2i_st_file t2i_st_file;

/* Map and validate `path`. Errors: T2I_ERR_IO (cannot open/map),
 * T2I_ERR_FORMAT (malformed; the message names the file and tensor/field),
 * T2I_ERR_UNSUPPORTED (a valid dtype this build lacks, > 8 dims),
 * T2I_ERR_NOMEM. */
t2i_status t2i_st_open(const char *path, t2i_st_file **out);
void t2i_st_close(t2i_st_file *f);     /* accepts NULL */

const char *t2i_st_path(const t2i_st_file *f);
/* Tensors in file order (sorted by data offset). */
int t2i_st_count(const t2i_st_file *f);
const t2i_st_tensor *t2i_st_get(const t2i_st_file *f, int i);
/* Binary search over the names; NULL if absent. */
const t2i_st_tensor *t2i_st_find(const t2i_st_file *f, const char *name);
/* A "__metadata__" value, NULL if absent. Owned by f. */
const char *t2i_st_metadata(const t2i_st_file *f, const char *key);

int64_t t2i_st_numel(const t2i_st_tensor *t);
/* Convert the tensor to FP32; dst holds t2i_st_numel(t) floats. */
void t2i_st_read_f32(const t2i_st_tensor *t, float *dst);
/* Make the pages holding t's bytes writable in this process. The mapping is
 * private, so a write makes a private copy of the page (copy-on-write) and
 * never reaches the file; pages never written stay shared with the page
 * cache. For stores that point into the mapping and must be changed in
 * place (LoRA merges). T2I_ERR_IO if mprotect fails. */
t2i_status t2i_st_tensor_make_writable(const t2i_st_tensor *t);
/* Drop the pages lying wholly inside t's bytes from this process's resident
 * set (madvise MADV_DONTNEED on the private mapping: they stay in the page
 * cache and a later read faults them back from the file). For loaders that
 * have copied or converted t and will not read it again, so that loading
 * does not hold the whole file resident; a hint, it cannot fail. */
void t2i_st_tensor_drop_pages(const t2i_st_tensor *t);

/* ---- writer ----------------------------------------------------------- */

typedef struct t2i_st_writer t2i_st_writer;

t2i_status t2i_st_writer_create(t2i_st_writer **out);
void t2i_st_writer_destroy(t2i_st_writer *w);  /* accepts NULL */
/* Copy a tensor of product(shape) elements of `dtype` from `data` (may be
 * NULL when the tensor is empty). T2I_ERR_INVALID_ARG for a duplicate or
 * non-UTF-8 name, ndim outside 0..8, a negative dimension, "__metadata__". */
t2i_status t2i_st_writer_add(t2i_st_writer *w, const char *name, t2i_dtype dtype,
                             int ndim, const int64_t *shape, const void *data);
/* Set (or replace) a "__metadata__" entry; key and value are UTF-8. */
t2i_status t2i_st_writer_set_metadata(t2i_st_writer *w, const char *key,
                                      const char *value);
/* Write the file: header padded with spaces to a multiple of 8 bytes (as the
 * reference writer does), tensors in sorted-name order. T2I_ERR_IO on write
 * failure (no partial file is left behind). */
t2i_status t2i_st_writer_save(const t2i_st_writer *w, const char *path);

/* ---- a model component folder ------------------------------------------ */

/* The weights of one diffusers component folder (unet/, vae/, ...): either a
 * single "<name>.safetensors" or a sharded set described by
 * "<name>.safetensors.index.json" ({"weight_map": {tensor: shard file}}).
 * Names are looked up across all shards. */
typedef struct t2i_st_set t2i_st_set;

/* Open the weights in `dir`. Which file: an index json if present, else a
 * single .safetensors file. Variant files ("model.fp16.safetensors") are
 * ignored here; several candidates without a preferred name
 * (diffusion_pytorch_model / model) is an error. */
t2i_status t2i_st_set_open_dir(const char *dir, t2i_st_set **out);
/* The same for a variant, e.g. "fp16" selects "*.fp16.safetensors" and
 * "*.fp16.safetensors.index.json"; variant NULL or "" = no variant. */
t2i_status t2i_st_set_open_variant(const char *dir, const char *variant,
                                   t2i_st_set **out);
/* What a model folder's component loads: the plain weights when present,
 * else the "fp16" variant (diffusion_pytorch_model.fp16.safetensors, as
 * `save_pretrained(variant="fp16")` writes it; the values are converted at
 * upload like any F16 file). Plain first because it is the full-precision
 * original when both exist. *variant (may be NULL) = NULL or "fp16". Neither
 * present -> T2I_ERR_IO naming the folder. */
t2i_status t2i_st_set_open_preferred(const char *dir, t2i_st_set **out, const char **variant);

/* A set of one file (a single-file model, a LoRA, an aesthetic head). */
t2i_status t2i_st_set_open_file(const char *path, t2i_st_set **out);
/* Sets are reference-counted so that a weight store can keep the mapping
 * its weights point into (runtime/weights.c): t2i_st_set_retain adds an
 * owner and returns s; each owner calls t2i_st_set_destroy once, and the
 * last one closes the files. */
t2i_st_set *t2i_st_set_retain(t2i_st_set *s);
void t2i_st_set_destroy(t2i_st_set *s);        /* accepts NULL */

const t2i_st_tensor *t2i_st_set_find(const t2i_st_set *s, const char *name);
int t2i_st_set_file_count(const t2i_st_set *s);
const t2i_st_file *t2i_st_set_file(const t2i_st_set *s, int i);

#endif /* T2I_SAFETENSORS_H */
