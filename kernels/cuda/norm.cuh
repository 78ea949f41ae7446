/*
 * norm.cuh — GROUPNORM (+ fused activation) and LAYERNORM on the CUDA
 * backend (norm.cu), and the block reduction they share. The entry points
 * are declared in cuda_kernels.h.
 */
#ifndef T2I_CUDA_NORM_CUH
#define T2I_CUDA_NORM_CUH

#include "kernels/cuda/cuda_kernels.h"

#define NORM_BLOCK 256

/* Sum of v over the block (blockDim.x a multiple of 32, at most 1024);
 * every thread gets the total. `red` is 32 floats of shared memory; the
 * function ends with a barrier so red can be reused at once. */
__device__ __forceinline__ float block_sum(float v, float *red)
{
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    int lane = (int)threadIdx.x & 31, w = (int)threadIdx.x >> 5, nw = (int)blockDim.x >> 5;
    if (lane == 0) red[w] = v;
    __syncthreads();
    v = lane < nw ? red[lane] : 0.0f;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    __syncthreads();
    return v;
}

#endif
