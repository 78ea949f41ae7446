/*
 * dtype.h — element types of tensors in files, graphs and backends.
 * Sizes and safetensors names ("F32", "F16", "BF16", ...) live in one table.
 */
#ifndef T2I_DTYPE_H
#define T2I_DTYPE_H

#include <stddef.h>
#include <stdint.h>

typedef enum t2i_dtype {
    T2I_F32 = 0,
    T2I_F16,
    T2I_BF16,
    T2I_F64,
    T2I_I64,
    T2I_I32,
    T2I_I16,
    T2I_I8,
    T2I_U8,
    T2I_BOOL,
    T2I_DTYPE_COUNT
} t2i_dtype;

size_t t2i_dtype_size(t2i_dtype t);
/* safetensors spelling, e.g. "BF16" */
const char *t2i_dtype_name(t2i_dtype t);
/* Parse a safetensors dtype string; returns -1 if unknown. */
int t2i_dtype_from_name(const char *name);

float t2i_f16_to_f32(uint16_t h);
uint16_t t2i_f32_to_f16(float f);      /* round to nearest even */
float t2i_bf16_to_f32(uint16_t h);
uint16_t t2i_f32_to_bf16(float f);     /* round to nearest even */

/* Convert n elements of type `src_type` (any dtype) to FP32. */
void t2i_convert_to_f32(t2i_dtype src_type, const void *src, float *dst, size_t n);

#endif
