/*
 * cpu_comm.c — CPU ranks: the collectives of kernels/comm.h between threads
 * of one process, with NCCL's semantics, a timeout and an abort.
 *
 * Every collective is three steps under the group's mutex:
 *   1. publish: rank r stores its pointers in slot[r] and waits until all
 *      `size` ranks have published for this round (generation counter);
 *   2. compute: each rank reads every slot and writes only its own output
 *      (all_reduce sums into a private scratch in rank order, so all ranks
 *      get identical bits; all_gather/broadcast copy directly);
 *   3. release: a second rendezvous, so no rank overwrites its in-place
 *      buffer (all_reduce) or returns while another still reads it.
 * A wait that passes the deadline, or finds the group aborted, fails with
 * T2I_ERR_PEER naming the ranks that did not arrive.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "base/error.h"
#include "kernels/comm.h"

typedef struct slot {
    const void *send;
    void *recv;
    size_t n;
    int root;
} slot;

struct t2i_cpu_comm_group {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int size, timeout_ms;
    int refs;                 /* rank communicators handed out + the group handle */
    unsigned char *taken;
    slot *slots;
    unsigned long long *arrived_gen;   /* per rank: the last rendezvous it reached */
    unsigned long long gen;            /* rendezvous completed so far */
    int arrived;
    int aborted;
    char why[256];
};

typedef struct cpu_comm {
    t2i_comm base;
    t2i_cpu_comm_group *g;
    unsigned long long next;   /* this rank's next rendezvous number */
    float *scratch;
    size_t scratch_n;
} cpu_comm;

static void group_unref(t2i_cpu_comm_group *g)
{
    pthread_mutex_lock(&g->mu);
    int last = --g->refs == 0;
    pthread_mutex_unlock(&g->mu);
    if (!last) return;
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    free(g->taken);
    free(g->slots);
    free(g->arrived_gen);
    free(g);
}

/* Wait (mutex held) until every rank reached rendezvous `want`. */
static t2i_status rendezvous(cpu_comm *c, const char *what)
{
    t2i_cpu_comm_group *g = c->g;
    const unsigned long long want = ++c->next;
    g->arrived_gen[c->base.rank] = want;
    if (++g->arrived == g->size) {
        g->arrived = 0;
        g->gen = want;
        pthread_cond_broadcast(&g->cv);
    }
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += g->timeout_ms / 1000;
    dl.tv_nsec += (long)(g->timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) dl.tv_sec++, dl.tv_nsec -= 1000000000L;
    while (g->gen < want && !g->aborted) {
        if (pthread_cond_timedwait(&g->cv, &g->mu, &dl) == ETIMEDOUT && g->gen < want && !g->aborted) {
            int n = 0;
            n += snprintf(g->why + n, sizeof g->why - (size_t)n, "%s: rank %d timed out after %d ms waiting for rank",
                          what, c->base.rank, g->timeout_ms);
            for (int r = 0; r < g->size && n < (int)sizeof g->why - 8; r++)
                if (g->arrived_gen[r] < want) n += snprintf(g->why + n, sizeof g->why - (size_t)n, " %d", r);
            g->aborted = 1;
            pthread_cond_broadcast(&g->cv);
        }
    }
    if (g->gen >= want) return T2I_OK;
    return t2i_fail(T2I_ERR_PEER, "comm: %s", g->why);
}

/* The three steps around `compute`, which reads the published slots. */
static t2i_status collective(cpu_comm *c, const char *what, slot mine,
                             void (*compute)(cpu_comm *c, const slot *slots, int size))
{
    t2i_cpu_comm_group *g = c->g;
    pthread_mutex_lock(&g->mu);
    t2i_status st = g->aborted ? t2i_fail(T2I_ERR_PEER, "comm: %s", g->why) : T2I_OK;
    if (st == T2I_OK) {
        g->slots[c->base.rank] = mine;
        st = rendezvous(c, what);
    }
    if (st == T2I_OK && compute) {
        pthread_mutex_unlock(&g->mu);   /* slots stay valid until the release rendezvous */
        compute(c, g->slots, g->size);
        pthread_mutex_lock(&g->mu);
    }
    if (st == T2I_OK) st = rendezvous(c, what);
    pthread_mutex_unlock(&g->mu);
    return st;
}

static void sum_into_scratch(cpu_comm *c, const slot *s, int size)
{
    const size_t n = s[c->base.rank].n;
    for (size_t i = 0; i < n; i++) {
        float acc = 0;
        for (int r = 0; r < size; r++) acc += ((const float *)s[r].send)[i];
        c->scratch[i] = acc;
    }
}

static t2i_status cpu_all_reduce(t2i_comm *base, float *buf, size_t n)
{
    cpu_comm *c = (cpu_comm *)base;
    if (n > c->scratch_n) {
        float *s = realloc(c->scratch, n * sizeof *s);
        if (!s) {
            t2i_comm_abort(base, "out of memory");
            return t2i_fail(T2I_ERR_NOMEM, "comm: all_reduce of %zu floats: out of memory", n);
        }
        c->scratch = s;
        c->scratch_n = n;
    }
    T2I_TRY(collective(c, "all_reduce", (slot){buf, NULL, n, 0}, sum_into_scratch));
    memcpy(buf, c->scratch, n * sizeof *buf);
    return T2I_OK;
}

static void gather(cpu_comm *c, const slot *s, int size)
{
    float *recv = s[c->base.rank].recv;
    const size_t n = s[c->base.rank].n;
    for (int r = 0; r < size; r++) memcpy(recv + (size_t)r * n, s[r].send, n * sizeof(float));
}

static t2i_status cpu_all_gather(t2i_comm *base, const float *send, size_t n, float *recv)
{
    return collective((cpu_comm *)base, "all_gather", (slot){send, recv, n, 0}, gather);
}

static void bcast(cpu_comm *c, const slot *s, int size)
{
    (void)size;
    const slot *me = &s[c->base.rank];
    if (c->base.rank != me->root) memcpy(me->recv, s[me->root].send, me->n);
}

static t2i_status cpu_broadcast(t2i_comm *base, void *buf, size_t bytes, int root)
{
    if (root < 0 || root >= base->size)
        return t2i_fail(T2I_ERR_INVALID_ARG, "comm: broadcast root %d outside 0..%d", root, base->size - 1);
    return collective((cpu_comm *)base, "broadcast", (slot){buf, buf, bytes, root}, bcast);
}

static t2i_status cpu_barrier(t2i_comm *base)
{
    return collective((cpu_comm *)base, "barrier", (slot){0}, NULL);
}

static void cpu_abort(t2i_comm *base, const char *why)
{
    t2i_cpu_comm_group *g = ((cpu_comm *)base)->g;
    pthread_mutex_lock(&g->mu);
    if (!g->aborted) {
        snprintf(g->why, sizeof g->why, "rank %d aborted: %s", base->rank, why ? why : "");
        g->aborted = 1;
    }
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void cpu_destroy(t2i_comm *base)
{
    cpu_comm *c = (cpu_comm *)base;
    t2i_cpu_comm_group *g = c->g;
    free(c->scratch);
    free(c);
    group_unref(g);
}

static const t2i_comm_vt cpu_vt = {cpu_all_reduce, cpu_all_gather, cpu_broadcast, cpu_barrier, cpu_abort,
                                   cpu_destroy};

t2i_status t2i_cpu_comm_group_create(int size, int timeout_ms, t2i_cpu_comm_group **out)
{
    *out = NULL;
    if (size < 1 || size > 1024) return t2i_fail(T2I_ERR_INVALID_ARG, "comm: %d ranks outside 1..1024", size);
    if (timeout_ms < 1) return t2i_fail(T2I_ERR_INVALID_ARG, "comm: timeout %d ms < 1", timeout_ms);
    t2i_cpu_comm_group *g = calloc(1, sizeof *g);
    if (g) {
        g->taken = calloc((size_t)size, 1);
        g->slots = calloc((size_t)size, sizeof *g->slots);
        g->arrived_gen = calloc((size_t)size, sizeof *g->arrived_gen);
    }
    if (!g || !g->taken || !g->slots || !g->arrived_gen) {
        if (g) free(g->taken), free(g->slots), free(g->arrived_gen);
        free(g);
        return t2i_fail(T2I_ERR_NOMEM, "comm: out of memory");
    }
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->size = size;
    g->timeout_ms = timeout_ms;
    g->refs = 1;
    *out = g;
    return T2I_OK;
}

t2i_comm *t2i_cpu_comm_rank(t2i_cpu_comm_group *g, int rank)
{
    if (!g || rank < 0 || rank >= g->size) return NULL;
    cpu_comm *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    pthread_mutex_lock(&g->mu);
    int ok = !g->taken[rank];
    if (ok) g->taken[rank] = 1, g->refs++;
    pthread_mutex_unlock(&g->mu);
    if (!ok) {
        free(c);
        return NULL;
    }
    c->base = (t2i_comm){&cpu_vt, rank, g->size};
    c->g = g;
    return &c->base;
}

void t2i_cpu_comm_group_release(t2i_cpu_comm_group *g)
{
    if (g) group_unref(g);
}
