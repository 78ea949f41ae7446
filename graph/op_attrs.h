/*
 * op_attrs.h — the parameter structs of the ops listed in graph/ops.def.
 * Plain data, copied into each node; zero-initialised means "defaults".
 */
#ifndef T2I_OP_ATTRS_H
#define T2I_OP_ATTRS_H

#include <stdbool.h>

/* Elementwise activations; fused into LINEAR, CONV2D and GROUPNORM epilogues. */
typedef enum t2i_act {
    T2I_ACT_NONE = 0,
    T2I_ACT_SILU,        /* x·sigmoid(x) */
    T2I_ACT_GELU,        /* exact, erf form (torch gelu) */
    T2I_ACT_GELU_TANH,   /* tanh approximation */
    T2I_ACT_QUICK_GELU,  /* x·sigmoid(1.702x) (CLIP ViT-L) */
    T2I_ACT_LEAKY_RELU,  /* x ≥ 0 ? x : 0.2·x (ESRGAN's LeakyReLU(0.2)) */
} t2i_act;

typedef struct t2i_attr_none { int unused; } t2i_attr_none;
typedef struct t2i_attr_act { t2i_act act; } t2i_attr_act;
typedef struct t2i_attr_linear { t2i_act act; } t2i_attr_linear;

typedef struct t2i_attr_conv2d {
    int stride;                               /* same in both directions */
    int pad_top, pad_left, pad_bottom, pad_right;
    t2i_act act;
} t2i_attr_conv2d;

typedef struct t2i_attr_norm {
    int groups;                               /* GROUPNORM only */
    float eps;
    t2i_act act;
} t2i_attr_norm;

typedef struct t2i_attr_attention {
    int heads;
    float scale;                              /* usually 1/sqrt(head_dim) */
    bool causal;                              /* mask keys after the query */
} t2i_attr_attention;

typedef struct t2i_attr_timestep {
    int dim;
    bool flip_sin_to_cos;
    float freq_shift;                         /* downscale_freq_shift */
} t2i_attr_timestep;

typedef struct t2i_attr_axis { int axis; } t2i_attr_axis;
typedef struct t2i_attr_hw { int h, w; } t2i_attr_hw;
typedef struct t2i_attr_slice { int axis; int start, len; } t2i_attr_slice;
typedef struct t2i_attr_shape { int ndim; long long ne[4]; } t2i_attr_shape;
typedef struct t2i_attr_scale { float alpha; } t2i_attr_scale;
typedef struct t2i_attr_factor { int r; } t2i_attr_factor;

#endif
