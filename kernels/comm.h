/*
 * comm.h — collective communication between the ranks of a multi-device run
 * (one rank per device), behind one interface with two implementations:
 *
 *   CPU ranks   threads of one process, each rank with its own backend and
 *               memory (kernels/cpu/cpu_comm.c); buffers are host memory.
 *               Used by CI to run every parallel mode without GPUs.
 *   NCCL        one communicator per device (kernels/cuda/nccl_comm.cu),
 *               ncclCommInitRank across processes or ncclCommInitAll within
 *               one; buffers are device memory of the rank's device.
 *
 * Semantics, the same for both (those of NCCL's collectives): every rank
 * calls the same collectives in the same order with the same sizes.
 *   all_reduce   buf[i] = Σ over ranks of buf[i] (in place), FP32; the CPU
 *                ranks sum in rank order, so every rank gets the same bits
 *   all_gather   recv[r·n + i] = send_r[i]  (recv holds size·n floats)
 *   broadcast    buf = root's buf (bytes)
 *   barrier      returns when every rank has entered it
 * A collective that is not completed by every rank within the timeout given
 * at creation fails with T2I_ERR_PEER on every rank that is waiting, naming
 * the ranks missing; t2i_comm_abort makes every rank's current and later
 * collectives fail the same way (a rank that hit an error calls it so the
 * others do not wait for it). After a failure the communicator is unusable;
 * destroy it.
 */
#ifndef T2I_COMM_H
#define T2I_COMM_H

#include <stddef.h>
#include "t2i.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct t2i_comm t2i_comm;

typedef struct t2i_comm_vt {
    t2i_status (*all_reduce)(t2i_comm *c, float *buf, size_t n);
    t2i_status (*all_gather)(t2i_comm *c, const float *send, size_t n, float *recv);
    t2i_status (*broadcast)(t2i_comm *c, void *buf, size_t bytes, int root);
    t2i_status (*barrier)(t2i_comm *c);
    void (*abort)(t2i_comm *c, const char *why);
    void (*destroy)(t2i_comm *c);
} t2i_comm_vt;

struct t2i_comm {
    const t2i_comm_vt *vt;
    int rank, size;
};

static inline int t2i_comm_rank(const t2i_comm *c) { return c->rank; }
static inline int t2i_comm_size(const t2i_comm *c) { return c->size; }
static inline t2i_status t2i_comm_all_reduce(t2i_comm *c, float *buf, size_t n) { return c->vt->all_reduce(c, buf, n); }
static inline t2i_status t2i_comm_all_gather(t2i_comm *c, const float *send, size_t n, float *recv)
{
    return c->vt->all_gather(c, send, n, recv);
}
static inline t2i_status t2i_comm_broadcast(t2i_comm *c, void *buf, size_t bytes, int root)
{
    return c->vt->broadcast(c, buf, bytes, root);
}
static inline t2i_status t2i_comm_barrier(t2i_comm *c) { return c->vt->barrier(c); }
static inline void t2i_comm_abort(t2i_comm *c, const char *why) { c->vt->abort(c, why); }
static inline void t2i_comm_destroy(t2i_comm *c)
{
    if (c) c->vt->destroy(c);
}

/* ---- CPU ranks (kernels/cpu/cpu_comm.c) ------------------------------------ */

/* A group of `size` ranks in this process; rank r's communicator is
 * t2i_cpu_comm_rank(group, r), used by one thread. timeout_ms bounds every
 * collective. The group is freed when the last rank's communicator is
 * destroyed (t2i_comm_destroy) and the group handle released
 * (t2i_cpu_comm_group_release), in any order. */
typedef struct t2i_cpu_comm_group t2i_cpu_comm_group;
t2i_status t2i_cpu_comm_group_create(int size, int timeout_ms, t2i_cpu_comm_group **out);
t2i_comm *t2i_cpu_comm_rank(t2i_cpu_comm_group *g, int rank);   /* NULL if out of range or taken */
void t2i_cpu_comm_group_release(t2i_cpu_comm_group *g);

/* ---- NCCL (kernels/cuda/nccl_comm.cu; T2I_ERR_UNSUPPORTED without CUDA) ---- */

/* One process per device: rank `rank` of `size` with the 128-byte unique id
 * rank 0 made with t2i_nccl_unique_id and the launcher passed to everyone
 * (environment, file, MPI). Collectives run on `stream` (a cudaStream_t; 0 =
 * the default stream) and are waited for, with the timeout, before return. */
t2i_status t2i_nccl_unique_id(unsigned char id[128]);
t2i_status t2i_nccl_comm_create(const unsigned char id[128], int rank, int size, int device, void *stream,
                                int timeout_ms, t2i_comm **out);

#ifdef __cplusplus
}
#endif
#endif /* T2I_COMM_H */
