/*
 * test_comm.c — the collectives of kernels/comm.h on CPU ranks (threads):
 *
 *  - all_reduce on 2, 3 and 4 ranks equals the sum in rank order, bit for
 *    bit, and every rank holds the same bits; all_gather, broadcast from a
 *    non-zero root and barrier exactly;
 *  - many rounds back to back (no rank overtakes the others);
 *  - a rank that stops answering: the others fail with T2I_ERR_PEER naming
 *    it, after about the timeout (checked only as "no hang": < 10× it);
 *  - an abort wakes a rank blocked in a collective, with the reason;
 *  - the NCCL entry points fail cleanly where there is no CUDA/NCCL or no
 *    device (the NCCL collectives themselves need GPUs: docs/multi_gpu.md).
 */
#include <pthread.h>
#include <time.h>
#include "kernels/comm.h"
#include "test_util.h"

enum { N = 1000, MAXR = 4 };

typedef struct job {
    t2i_comm *c;
    int mode;            /* 0 collectives, 1 silent rank, 2 abort */
    t2i_status st;
    char err[256];
    float reduced[N], gathered[MAXR * N], bcast[N];
    double ms;
} job;

static float value(int rank, int i) { return (float)((rank + 1) * 0.1 + i * 1e-3 + (rank * 7919 + i) % 13 * 1e-7); }

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *run(void *arg)
{
    job *j = arg;
    const int r = t2i_comm_rank(j->c), size = t2i_comm_size(j->c);
    const double t0 = now_ms();
    j->st = T2I_OK;
    if (j->mode == 1 && r == size - 1) return NULL;   /* never shows up */
    if (j->mode == 2 && r == 0) {
        struct timespec nap = {0, 50 * 1000000L};
        nanosleep(&nap, NULL);
        t2i_comm_abort(j->c, "rank 0 hit an error");
        return NULL;
    }
    for (int i = 0; i < N; i++) j->reduced[i] = value(r, i), j->bcast[i] = (float)(r * 1000 + i);
    float send[N];
    for (int i = 0; i < N; i++) send[i] = value(r, i);
    for (int round = 0; round < 50 && j->st == T2I_OK; round++) {
        if (round == 49) j->st = t2i_comm_all_reduce(j->c, j->reduced, N);
        else j->st = t2i_comm_barrier(j->c);
    }
    if (j->st == T2I_OK) j->st = t2i_comm_all_gather(j->c, send, N, j->gathered);
    if (j->st == T2I_OK && size > 1) j->st = t2i_comm_broadcast(j->c, j->bcast, sizeof j->bcast, 1);
    if (j->st != T2I_OK) snprintf(j->err, sizeof j->err, "%s", t2i_last_error());
    j->ms = now_ms() - t0;
    return NULL;
}

static void launch(int size, int mode, int timeout_ms, job *jobs)
{
    t2i_cpu_comm_group *g = NULL;
    CHECK_OK(t2i_cpu_comm_group_create(size, timeout_ms, &g));
    if (!g) return;
    pthread_t th[MAXR];
    for (int r = 0; r < size; r++) {
        jobs[r].c = t2i_cpu_comm_rank(g, r);
        jobs[r].mode = mode;
        CHECK(jobs[r].c != NULL, "rank %d", r);
    }
    CHECK(t2i_cpu_comm_rank(g, 0) == NULL, "rank 0 handed out twice");
    t2i_cpu_comm_group_release(g);
    for (int r = 0; r < size; r++) pthread_create(&th[r], NULL, run, &jobs[r]);
    for (int r = 0; r < size; r++) pthread_join(th[r], NULL);
    for (int r = 0; r < size; r++) t2i_comm_destroy(jobs[r].c);
}

int main(void)
{
    static job jobs[MAXR];
    for (int size = 2; size <= 4; size++) {
        memset(jobs, 0, sizeof jobs);
        launch(size, 0, 5000, jobs);
        int exact = 1;
        for (int r = 0; r < size; r++) {
            CHECK(jobs[r].st == T2I_OK, "%d ranks, rank %d: %s", size, r, jobs[r].err);
            for (int i = 0; i < N; i++) {
                float want = 0;
                for (int q = 0; q < size; q++) want += value(q, i);   /* rank order */
                exact &= jobs[r].reduced[i] == want && jobs[r].reduced[i] == jobs[0].reduced[i];
                for (int q = 0; q < size; q++) exact &= jobs[r].gathered[q * N + i] == value(q, i);
                exact &= jobs[r].bcast[i] == (float)(1000 + i);
            }
        }
        printf("  %d CPU ranks: all_reduce, all_gather, broadcast(root 1), 49 barriers: %s\n", size,
               exact ? "exact" : "DIFFERENT");
        CHECK(exact, "%d ranks: collectives not exact", size);
    }

    memset(jobs, 0, sizeof jobs);
    launch(3, 1, 300, jobs);
    for (int r = 0; r < 2; r++) {
        printf("  silent rank 2, rank %d: %s after %.0f ms\n", r, jobs[r].err, jobs[r].ms);
        CHECK(jobs[r].st == T2I_ERR_PEER && strstr(jobs[r].err, "rank 2") && jobs[r].ms < 3000,
              "rank %d: status %d '%s' after %.0f ms", r, jobs[r].st, jobs[r].err, jobs[r].ms);
    }

    memset(jobs, 0, sizeof jobs);
    launch(2, 2, 60000, jobs);
    printf("  abort by rank 0, rank 1: %s after %.0f ms\n", jobs[1].err, jobs[1].ms);
    CHECK(jobs[1].st == T2I_ERR_PEER && strstr(jobs[1].err, "rank 0 hit an error") && jobs[1].ms < 30000,
          "abort: status %d '%s'", jobs[1].st, jobs[1].err);

    t2i_cpu_comm_group *g = NULL;
    CHECK(t2i_cpu_comm_group_create(0, 100, &g) == T2I_ERR_INVALID_ARG && !g, "0 ranks accepted");
    unsigned char id[128];
    t2i_status st = t2i_nccl_unique_id(id);
    printf("  NCCL here: %s\n", st == T2I_OK ? "unique id made" : t2i_last_error());
    if (st == T2I_OK) {
        t2i_comm *c = NULL;
        st = t2i_nccl_comm_create(id, 0, 1, 0, NULL, 2000, &c);
        printf("  NCCL single-rank communicator: %s\n", st == T2I_OK ? "made" : t2i_last_error());
        CHECK(st == T2I_OK || st == T2I_ERR_DEVICE || st == T2I_ERR_PEER, "nccl create: %d", st);
        t2i_comm_destroy(c);
    } else {
        CHECK(st == T2I_ERR_UNSUPPORTED || st == T2I_ERR_DEVICE, "nccl unique id: %d", st);
    }
    return test_finish();
}
