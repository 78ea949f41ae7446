/*
 * attention.cuh — ATTENTION on the CUDA backend (attention.cu): the
 * parameter struct of the flash-attention kernel and its tile sizes. The
 * entry point cuda_op_attention is declared in cuda_kernels.h.
 */
#ifndef T2I_CUDA_ATTENTION_CUH
#define T2I_CUDA_ATTENTION_CUH

#include "kernels/cuda/cuda_kernels.h"
#include "kernels/cuda/mma.cuh"

#define ATTN_BR 64        /* query rows per block: 4 warps × 16 */
#define ATTN_BC 64        /* keys per shared-memory tile */
#define ATTN_THREADS 128
#define ATTN_MAX_HEAD_DIM 160

/* One plain struct with explicit strides (in elements), as flash-attention
 * passes its kernels. Head h of batch b: q + b·Nq·q_row + h·D, row stride
 * q_row; likewise k, v, o. */
typedef struct attn_params {
    const void *q, *k, *v;
    void *o;
    int B, H, Nq, Nk, D, Dv;
    int64_t q_row, k_row, v_row, o_row;
    float scale_log2;     /* scale · log2(e): the softmax runs on exp2 */
    int causal;
    int vec16;            /* K/V rows can be read with 16-byte loads */
} attn_params;

#endif
