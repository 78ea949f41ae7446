/*
 * nccl_none.c — the NCCL entry points of kernels/comm.h in builds without
 * CUDA or without NCCL: they say so (the CPU ranks work everywhere).
 */
#include "base/error.h"
#include "kernels/comm.h"

t2i_status t2i_nccl_unique_id(unsigned char id[128])
{
    (void)id;
    return t2i_fail(T2I_ERR_UNSUPPORTED, "nccl: this build has no CUDA/NCCL support");
}

t2i_status t2i_nccl_comm_create(const unsigned char id[128], int rank, int size, int device, void *stream,
                                int timeout_ms, t2i_comm **out)
{
    (void)id, (void)rank, (void)size, (void)device, (void)stream, (void)timeout_ms;
    *out = NULL;
    return t2i_fail(T2I_ERR_UNSUPPORTED, "nccl: this build has no CUDA/NCCL support");
}
