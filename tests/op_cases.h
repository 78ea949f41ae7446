/*
 * op_cases.h — the op cases every backend test runs, and a reference in
 * double for every op. The list (tests/op_cases.c) is shared by
 *   test_cpu_ops      the CPU kernel against the reference in double
 *                     (and the check that every op of graph/ops.def has a
 *                     case that CI runs);
 *   test_cuda_emu     the CUDA kernel, host-emulated, against the CPU kernel
 *                     (KERNEL ops; LIBRARY ops are nvcc-only glue);
 *   test_cuda_backend the CUDA backend on a GPU against the CPU backend,
 *                     through one-node plans, SD-sized cases included.
 * A case is data: the op, its inputs' shapes and value ranges, its
 * attributes and the two tolerances its assertions use (below). Each test
 * builds a one-node graph from it with t2i_op_case_graph, so shape inference
 * runs as in a real build.
 *
 * Inputs: input i holds values uniform in offset ± scale (scale 0 means 1),
 * drawn by each test's own seeded generator; with `ids`, input 0 is I32
 * token ids, id j = (j·7919) mod (rows of input 1).
 */
#ifndef T2I_OP_CASES_H
#define T2I_OP_CASES_H

#include <stdbool.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
#include "graph/graph.h"

typedef struct t2i_case_in {
    int nd;
    int64_t ne[T2I_MAX_DIMS];
    float scale, offset;
} t2i_case_in;

typedef struct t2i_op_case {
    const char *name;
    t2i_op op;
    int n_in;                       /* inputs given; absent optional ones are not listed */
    t2i_case_in in[T2I_MAX_INPUTS];
    t2i_op_attrs at;
    bool ids;                       /* input 0 is I32 token ids */
    /* test_cpu_ops: an output that is a K-term FP32 sum may be off by
     * eps32·sqrt(K) relative to its scale, so
     *     max |cpu - ref| ≤ 1e-5 · (1 + max |ref|) · sqrt(cpu_terms);
     * 1 for elementwise ops, 0 for data movement (exact). */
    double cpu_terms;
    /* the CUDA tests: each 16-bit rounding on the data path adds at most u²
     * in NMSE (u = 2^-11 FP16, 2^-8 BF16), with a factor 4 for FP32
     * summation order and device-vs-libm function error:
     *     NMSE ≤ 4·u²·depth;  0 for data movement (exact). */
    int depth;
    bool sd_size;                   /* SD-sized: too slow for the double reference
                                     * and the emulation; test_cuda_backend only */
} t2i_op_case;

extern const t2i_op_case t2i_op_cases[];
extern const int t2i_n_op_cases;

/* The graph of case c: inputs "in0".."in3" (I32 for ids), then the op's node
 * with its output marked "out". Returns NULL, with the library's message, if
 * shape inference rejects the case. The caller destroys it. */
t2i_graph *t2i_op_case_graph(const t2i_op_case *c);

/* The reference of node n of g in double: in[i] is the FP32 data of its
 * input i (int32_t for token ids; NULL for an absent optional input), out
 * gets every output element. ref_<name> of each op in graph/ops.def. */
typedef void (*t2i_op_ref_fn)(const t2i_graph *g, const t2i_node *n, const void *const *in, double *out);
extern const t2i_op_ref_fn t2i_op_refs[T2I_OP_COUNT];

/* The activations of graph/op_attrs.h in double. */
double t2i_act_ref(double x, t2i_act act);

#ifdef __cplusplus
}
#endif
#endif
