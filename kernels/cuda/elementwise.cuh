/*
 * elementwise.cuh — ACT, ADD, MUL, GEGLU, TIMESTEP and the LINEAR/CONV2D
 * epilogue on the CUDA backend (elementwise.cu). The op entry points are
 * declared in cuda_kernels.h; this header is what elementwise.cu and its
 * host-emulation build include.
 */
#ifndef T2I_CUDA_ELEMENTWISE_CUH
#define T2I_CUDA_ELEMENTWISE_CUH

#include <string.h>
#include "kernels/cuda/cuda_kernels.h"

#endif
