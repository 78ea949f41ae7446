/*
 * cpu_threads.h — a small persistent thread pool for the CPU kernels.
 *
 * The pool is created once with the backend and destroyed with it; a kernel
 * never creates threads. cpu_parallel_for(pool, n, fn, ctx) runs fn(ctx, i,
 * tid) for every task index i in [0, n) on the pool's workers plus the
 * calling thread, handing out indices dynamically (an atomic counter), and
 * returns when all n have finished. `tid` is in [0, cpu_pool_threads(pool))
 * and is stable for the duration of one call, so a kernel can give each
 * thread its own slice of the workspace.
 *
 * Idle workers block on a condition variable (no spinning), so they do not
 * compete with OpenBLAS's threads while a GEMM runs on the calling thread.
 * A parallel_for issued from inside a task, or while another thread is using
 * the pool, runs serially on the caller (tid 0 is then NOT exclusive — such
 * callers must not rely on per-thread workspace; the executor runs one node
 * at a time, so this only matters for misuse).
 */
#ifndef T2I_CPU_THREADS_H
#define T2I_CPU_THREADS_H

#include <stdint.h>
#include "t2i.h"

typedef struct cpu_pool cpu_pool;

typedef void (*cpu_task_fn)(void *ctx, int64_t i, int tid);

/* threads >= 1 (the caller counts as one: threads - 1 workers are started).
 * Returns T2I_ERR_NOMEM / T2I_ERR_INTERNAL with a message on failure. */
t2i_status cpu_pool_create(int threads, cpu_pool **out);
void cpu_pool_destroy(cpu_pool *p);            /* accepts NULL */
int cpu_pool_threads(const cpu_pool *p);

void cpu_parallel_for(cpu_pool *p, int64_t n, cpu_task_fn fn, void *ctx);

#endif
