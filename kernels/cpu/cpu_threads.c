/*
 * cpu_threads.c — the persistent pthread pool behind cpu_parallel_for.
 *
 * One job at a time: the caller publishes (fn, ctx, n), bumps a generation
 * counter and broadcasts; every worker that wakes claims indices from an
 * atomic counter until it runs past n, then reports done. The caller works on
 * the same counter, then waits until all workers have reported, so when
 * cpu_parallel_for returns no worker still touches the job's memory.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include "kernels/cpu/cpu_threads.h"
#include "base/error.h"

struct cpu_pool {
    int threads;                 /* workers + the caller */
    pthread_t *workers;
    int n_started;
    pthread_mutex_t mu;
    pthread_cond_t wake;         /* caller -> workers: new job or quit */
    pthread_cond_t done;         /* workers -> caller: one finished */
    uint64_t generation;
    bool quit;
    int active;                  /* workers still on the current job */
    /* the current job */
    cpu_task_fn fn;
    void *ctx;
    int64_t n;
    atomic_llong next;
    atomic_flag busy;            /* a parallel_for is in progress */
};

static _Thread_local bool in_pool_task;

typedef struct worker_arg { cpu_pool *p; int tid; } worker_arg;

static void run_tasks(cpu_pool *p, int tid)
{
    in_pool_task = true;
    for (;;) {
        int64_t i = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (i >= p->n) break;
        p->fn(p->ctx, i, tid);
    }
    in_pool_task = false;
}

static void *worker_main(void *arg)
{
    cpu_pool *p = ((worker_arg *)arg)->p;
    int tid = ((worker_arg *)arg)->tid;
    free(arg);
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->generation == seen) pthread_cond_wait(&p->wake, &p->mu);
        if (p->quit) break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        run_tasks(p, tid);
        pthread_mutex_lock(&p->mu);
        if (--p->active == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

t2i_status cpu_pool_create(int threads, cpu_pool **out)
{
    *out = NULL;
    if (threads < 1) threads = 1;
    cpu_pool *p = calloc(1, sizeof *p);
    if (!p) return t2i_fail(T2I_ERR_NOMEM, "cpu backend: out of memory for the thread pool");
    p->threads = threads;
    atomic_init(&p->next, 0);
    atomic_flag_clear(&p->busy);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    if (threads > 1) {
        p->workers = calloc((size_t)threads - 1, sizeof *p->workers);
        if (!p->workers) goto fail_nomem;
        for (int t = 1; t < threads; t++) {
            worker_arg *wa = malloc(sizeof *wa);
            if (!wa) goto fail_nomem;
            wa->p = p;
            wa->tid = t;
            if (pthread_create(&p->workers[t - 1], NULL, worker_main, wa) != 0) {
                free(wa);
                cpu_pool_destroy(p);
                return t2i_fail(T2I_ERR_INTERNAL, "cpu backend: pthread_create failed for worker %d of %d", t,
                                threads - 1);
            }
            p->n_started++;
        }
    }
    *out = p;
    return T2I_OK;
fail_nomem:
    cpu_pool_destroy(p);
    return t2i_fail(T2I_ERR_NOMEM, "cpu backend: out of memory for the thread pool");
}

void cpu_pool_destroy(cpu_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n_started; i++) pthread_join(p->workers[i], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p->workers);
    free(p);
}

int cpu_pool_threads(const cpu_pool *p) { return p ? p->threads : 1; }

void cpu_parallel_for(cpu_pool *p, int64_t n, cpu_task_fn fn, void *ctx)
{
    if (n <= 0) return;
    /* Serial: no workers, a single task, a nested call, or a concurrent one. */
    if (!p || p->n_started == 0 || n == 1 || in_pool_task || atomic_flag_test_and_set(&p->busy)) {
        for (int64_t i = 0; i < n; i++) fn(ctx, i, 0);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    p->active = p->n_started;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);

    run_tasks(p, 0);

    pthread_mutex_lock(&p->mu);
    while (p->active > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
    atomic_flag_clear(&p->busy);
}
