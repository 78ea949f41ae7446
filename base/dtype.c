/* dtype.c — element type table and conversions to FP32. */
#include <math.h>
#include <string.h>
#include "base/dtype.h"

static const struct { const char *name; size_t size; } dtype_table[T2I_DTYPE_COUNT] = {
    [T2I_F32] = {"F32", 4},  [T2I_F16] = {"F16", 2}, [T2I_BF16] = {"BF16", 2},
    [T2I_F64] = {"F64", 8},  [T2I_I64] = {"I64", 8}, [T2I_I32] = {"I32", 4},
    [T2I_I16] = {"I16", 2},  [T2I_I8] = {"I8", 1},   [T2I_U8] = {"U8", 1},
    [T2I_BOOL] = {"BOOL", 1},
};

size_t t2i_dtype_size(t2i_dtype t) { return (unsigned)t < T2I_DTYPE_COUNT ? dtype_table[t].size : 0; }
const char *t2i_dtype_name(t2i_dtype t) { return (unsigned)t < T2I_DTYPE_COUNT ? dtype_table[t].name : "?"; }

int t2i_dtype_from_name(const char *name)
{
    for (int i = 0; i < T2I_DTYPE_COUNT; i++)
        if (strcmp(name, dtype_table[i].name) == 0) return i;
    return -1;
}

static float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

float t2i_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    if (exp == 0x1f) return bits_f32(sign | 0x7f800000u | (man << 13));
    if (exp == 0) {
        float v = ldexpf((float)man, -24);
        return sign ? -v : v;
    }
    return bits_f32(sign | ((exp + 112) << 23) | (man << 13));
}

uint16_t t2i_f32_to_f16(float f)
{
    uint32_t u = f32_bits(f), sign = (u >> 16) & 0x8000;
    uint32_t a = u & 0x7fffffffu;
    if (a >= 0x7f800000u) return (uint16_t)(sign | 0x7c00 | (a > 0x7f800000u ? 0x200 : 0));
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00);           /* overflow -> inf */
    if (a < 0x38800000u) {                                            /* subnormal or zero */
        float v = bits_f32(a) * 16777216.0f;                          /* scale by 2^24 */
        return (uint16_t)(sign | (uint32_t)nearbyintf(v));
    }
    uint32_t r = a + 0xfffu + ((a >> 13) & 1u);                       /* round to nearest even */
    return (uint16_t)(sign | ((r - 0x38000000u) >> 13));
}

float t2i_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

uint16_t t2i_f32_to_bf16(float f)
{
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

void t2i_convert_to_f32(t2i_dtype t, const void *src, float *dst, size_t n)
{
    const unsigned char *p = src;
    for (size_t i = 0; i < n; i++) {
        switch (t) {
        case T2I_F32: { float v; memcpy(&v, p + 4 * i, 4); dst[i] = v; break; }
        case T2I_F16: { uint16_t v; memcpy(&v, p + 2 * i, 2); dst[i] = t2i_f16_to_f32(v); break; }
        case T2I_BF16: { uint16_t v; memcpy(&v, p + 2 * i, 2); dst[i] = t2i_bf16_to_f32(v); break; }
        case T2I_F64: { double v; memcpy(&v, p + 8 * i, 8); dst[i] = (float)v; break; }
        case T2I_I64: { int64_t v; memcpy(&v, p + 8 * i, 8); dst[i] = (float)v; break; }
        case T2I_I32: { int32_t v; memcpy(&v, p + 4 * i, 4); dst[i] = (float)v; break; }
        case T2I_I16: { int16_t v; memcpy(&v, p + 2 * i, 2); dst[i] = (float)v; break; }
        case T2I_I8: dst[i] = (float)(int8_t)p[i]; break;
        case T2I_U8: case T2I_BOOL: dst[i] = (float)p[i]; break;
        default: dst[i] = 0; break;
        }
    }
}
