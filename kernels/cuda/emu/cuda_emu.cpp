/*
 * cuda_emu.cpp — the scheduler behind the host emulation of cuda_compat.cuh.
 *
 * A launch runs its blocks one after the other on the calling OS thread.
 * Each CUDA thread of a block is a fiber (ucontext) with its own stack;
 * fibers run round-robin by linear thread index and switch only at a
 * barrier (block or warp) that is not yet complete, so a schedule is
 * deterministic. A barrier is a generation counter: the last live thread to
 * arrive bumps the generation and resets the count; the others yield until
 * they see the bump. A thread that returns leaves the block's (and its
 * warp's) live count, which may complete a barrier the others wait at.
 *
 * Stacks (EMU_STACK bytes per thread) are allocated once per OS thread and
 * grown to the largest block seen; nothing else is allocated per launch.
 * A deadlock (every live thread waiting on barriers nobody else can reach,
 * i.e. a __syncthreads inside divergent code) aborts with a message naming
 * the block — a kernel bug, not an input error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>
#include <vector>
#include "kernels/cuda/cuda_compat.cuh"

#define EMU_STACK (256 * 1024)

struct emu_fiber {
    ucontext_t ctx;
    dim3 tid;
    unsigned lane, warp;
    bool done;
    int waiting;         /* 0: runnable; 1: at a block barrier; 2: at a warp barrier */
    unsigned wait_gen;
};

struct emu_warp {
    int live, arrived;
    unsigned gen;
    uint64_t slots[32];
    uint32_t scratch[32 * 8];
};

struct emu_block {
    int n, live, arrived;
    unsigned gen;
    std::vector<emu_fiber> f;
    std::vector<emu_warp> w;
    std::vector<char> stacks;
    ucontext_t sched;
    void (*body)(void *);
    void *ctx;
};

thread_local emu_fiber *emu_cur;
thread_local dim3 emu_grid_dim, emu_block_idx, emu_block_dim;
static thread_local emu_block *blk;

const dim3 &emu_thread_idx(void) { return emu_cur->tid; }
unsigned emu_lane(void) { return emu_cur->lane; }
uint64_t *emu_warp_slots(void) { return blk->w[emu_cur->warp].slots; }
uint32_t *emu_warp_scratch(void) { return blk->w[emu_cur->warp].scratch; }

/* Is fiber i still blocked? (a barrier it waits at may have completed) */
static bool blocked(const emu_fiber &f)
{
    if (f.done) return true;
    if (f.waiting == 1) return blk->gen == f.wait_gen;
    if (f.waiting == 2) return blk->w[f.warp].gen == f.wait_gen;
    return false;
}

/* Switch from the running fiber to the next one that can run. */
static void yield(void)
{
    emu_fiber *self = emu_cur;
    int me = (int)(self - blk->f.data());
    for (int k = 1; k <= blk->n; k++) {
        int j = (me + k) % blk->n;
        if (blocked(blk->f[j])) continue;
        if (j == me) return;
        emu_cur = &blk->f[j];
        swapcontext(&self->ctx, &emu_cur->ctx);
        emu_cur = self;
        return;
    }
    fprintf(stderr, "cuda emulation: deadlock in block (%u,%u,%u): a barrier not reached by every live thread\n",
            emu_block_idx.x, emu_block_idx.y, emu_block_idx.z);
    abort();
}

void emu_syncthreads(void)
{
    emu_fiber *self = emu_cur;
    if (++blk->arrived == blk->live) {
        blk->arrived = 0;
        blk->gen++;
        return;
    }
    self->waiting = 1;
    self->wait_gen = blk->gen;
    while (blk->gen == self->wait_gen) yield();
    self->waiting = 0;
}

void emu_warp_sync(void)
{
    emu_fiber *self = emu_cur;
    emu_warp &w = blk->w[self->warp];
    if (++w.arrived == w.live) {
        w.arrived = 0;
        w.gen++;
        return;
    }
    self->waiting = 2;
    self->wait_gen = w.gen;
    while (w.gen == self->wait_gen) yield();
    self->waiting = 0;
}

static void trampoline(void)
{
    blk->body(blk->ctx);
    emu_fiber *self = emu_cur;
    self->done = true;
    emu_warp &w = blk->w[self->warp];
    if (--w.live > 0 && w.arrived == w.live) {
        w.arrived = 0;
        w.gen++;
    }
    if (--blk->live > 0 && blk->arrived == blk->live) {
        blk->arrived = 0;
        blk->gen++;
    }
    /* returning resumes uc_link: the scheduler loop in run_block */
}

static void run_block(emu_block &b)
{
    b.live = b.n;
    b.arrived = 0;
    for (size_t i = 0; i < b.w.size(); i++) {
        b.w[i].arrived = 0;
        b.w[i].live = (int)(i + 1 < b.w.size() ? 32 : b.n - 32 * (int)i);
    }
    for (int i = 0; i < b.n; i++) {
        emu_fiber &f = b.f[i];
        f.done = false;
        f.waiting = 0;
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = b.stacks.data() + (size_t)i * EMU_STACK;
        f.ctx.uc_stack.ss_size = EMU_STACK;
        f.ctx.uc_link = &b.sched;
        makecontext(&f.ctx, trampoline, 0);
    }
    /* Start fiber 0; whenever a fiber finishes we land back here and start
     * the next runnable one. */
    for (;;) {
        int next = -1;
        for (int i = 0; i < b.n && next < 0; i++)
            if (!blocked(b.f[i])) next = i;
        if (next < 0) {
            if (b.live > 0) {
                fprintf(stderr, "cuda emulation: deadlock in block (%u,%u,%u)\n", emu_block_idx.x, emu_block_idx.y,
                        emu_block_idx.z);
                abort();
            }
            return;
        }
        emu_cur = &b.f[next];
        swapcontext(&b.sched, &emu_cur->ctx);
    }
}

void emu_run_grid(dim3 grid, dim3 block, void (*body)(void *), void *ctx)
{
    static thread_local emu_block b;
    int n = (int)(block.x * block.y * block.z);
    if (n <= 0 || n > 1024 || grid.x == 0 || grid.y == 0 || grid.z == 0) {
        fprintf(stderr, "cuda emulation: invalid launch grid (%u,%u,%u) block (%u,%u,%u)\n", grid.x, grid.y, grid.z,
                block.x, block.y, block.z);
        abort();
    }
    emu_block *saved = blk;
    blk = &b;
    b.n = n;
    b.body = body;
    b.ctx = ctx;
    if ((int)b.f.size() < n) {
        b.f.resize((size_t)n);
        b.stacks.resize((size_t)n * EMU_STACK);
    }
    b.w.resize((size_t)(n + 31) / 32);
    for (int i = 0; i < n; i++) {
        unsigned x = (unsigned)i % block.x, y = ((unsigned)i / block.x) % block.y, z = (unsigned)i / (block.x * block.y);
        b.f[i].tid = dim3(x, y, z);
        b.f[i].lane = (unsigned)i % 32;
        b.f[i].warp = (unsigned)i / 32;
    }
    emu_grid_dim = grid;
    emu_block_dim = block;
    for (unsigned z = 0; z < grid.z; z++)
        for (unsigned y = 0; y < grid.y; y++)
            for (unsigned x = 0; x < grid.x; x++) {
                emu_block_idx = dim3(x, y, z);
                run_block(b);
            }
    blk = saved;
    emu_cur = NULL;
}
