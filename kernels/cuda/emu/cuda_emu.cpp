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
 *
 * Context switch: on x86-64 a 14-instruction switch of the callee-saved
 * registers and the stack pointer (the System V ABI makes everything else
 * caller-saved at a call) instead of swapcontext, which makes a sigprocmask
 * system call every time (test_cuda_emu: 14 s of CPU time with swapcontext,
 * 2.6 s with this; under AddressSanitizer, whose swapcontext interceptor
 * clears a whole stack's shadow at every switch, it runs past the test's
 * time limit); elsewhere ucontext.
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

/* Under AddressSanitizer (GCC says __SANITIZE_ADDRESS__, clang
 * __has_feature(address_sanitizer)) a fiber that switches away for good
 * leaves the redzones of its frames poisoned on its stack: the stacks are
 * unpoisoned before each block reuses them. */
#if defined(__SANITIZE_ADDRESS__)
#define EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EMU_ASAN 1
#endif
#endif
#ifdef EMU_ASAN
#include <sanitizer/asan_interface.h>
#define EMU_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define EMU_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#if defined(__x86_64__)
#define EMU_FAST_SWITCH 1
/* Save rbp, rbx, r12-r15 on the current stack, store rsp in *from, load
 * `to` as rsp, restore its registers and return into it. */
extern "C" void emu_ctx_switch(void **from, void *to);
__asm__(".text\n"
        ".globl emu_ctx_switch\n"
        ".type emu_ctx_switch,@function\n"
        "emu_ctx_switch:\n"
        "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
        "  movq %rsp, (%rdi)\n"
        "  movq %rsi, %rsp\n"
        "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n"
        "  ret\n"
        ".size emu_ctx_switch,.-emu_ctx_switch\n");
#else
#define EMU_FAST_SWITCH 0
#endif

struct emu_fiber {
#if EMU_FAST_SWITCH
    void *sp;
#else
    ucontext_t ctx;
#endif
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
#if EMU_FAST_SWITCH
    void *sched;
#else
    ucontext_t sched;
#endif
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
#if EMU_FAST_SWITCH
        emu_ctx_switch(&self->sp, emu_cur->sp);
#else
        swapcontext(&self->ctx, &emu_cur->ctx);
#endif
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
#if EMU_FAST_SWITCH
    void *dead;
    emu_ctx_switch(&dead, blk->sched);   /* back to run_block's loop; never resumed */
    __builtin_unreachable();
#endif
    /* returning resumes uc_link: the scheduler loop in run_block */
}

static void run_block(emu_block &b)
{
    b.live = b.n;
    b.arrived = 0;
    EMU_UNPOISON(b.stacks.data(), (size_t)b.n * EMU_STACK);
    for (size_t i = 0; i < b.w.size(); i++) {
        b.w[i].arrived = 0;
        b.w[i].live = (int)(i + 1 < b.w.size() ? 32 : b.n - 32 * (int)i);
    }
    for (int i = 0; i < b.n; i++) {
        emu_fiber &f = b.f[i];
        f.done = false;
        f.waiting = 0;
#if EMU_FAST_SWITCH
        /* a fresh stack as emu_ctx_switch expects it: six zero registers,
         * then the entry as return address, then a zero "return address" of
         * the entry itself, so that it starts with rsp ≡ 8 (mod 16) like
         * any called function */
        uintptr_t top = ((uintptr_t)(b.stacks.data() + (size_t)(i + 1) * EMU_STACK)) & ~(uintptr_t)15;
        void **sp = (void **)top;
        *--sp = NULL;
        *--sp = (void *)trampoline;
        for (int r = 0; r < 6; r++) *--sp = NULL;
        f.sp = sp;
#else
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = b.stacks.data() + (size_t)i * EMU_STACK;
        f.ctx.uc_stack.ss_size = EMU_STACK;
        f.ctx.uc_link = &b.sched;
        makecontext(&f.ctx, trampoline, 0);
#endif
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
#if EMU_FAST_SWITCH
        emu_ctx_switch(&b.sched, emu_cur->sp);
#else
        swapcontext(&b.sched, &emu_cur->ctx);
#endif
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
        EMU_UNPOISON(b.stacks.data(), b.stacks.size());
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
