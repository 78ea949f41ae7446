/*
 * layout.cuh — EMBEDDING, UPSAMPLE, PIXEL_UNSHUFFLE, CONCAT, TO_TOKENS, FROM_TOKENS, SLICE on
 * the CUDA backend (layout.cu): ops that move data without arithmetic. The
 * entry points are declared in cuda_kernels.h.
 */
#ifndef T2I_CUDA_LAYOUT_CUH
#define T2I_CUDA_LAYOUT_CUH

#include "kernels/cuda/cuda_kernels.h"

/* Side of the square tile the transposes stage through shared memory. */
#define LAYOUT_TILE 32

#endif
