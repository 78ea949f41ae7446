/*
 * test_util.h — the few helpers every test program uses: checks that count
 * failures, comparison of float tensors with a stated bound, and access to
 * reference tensors stored as safetensors under tests/fixtures/.
 *
 * Each test program ends with `return test_finish();`, which prints
 * "N passed, N failed" and returns 0 or 1 (77 = skipped, for ctest).
 */
#ifndef T2I_TEST_UTIL_H
#define T2I_TEST_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "formats/safetensors.h"
#include "t2i.h"

static int test_passed, test_failed;

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (cond) test_passed++;                                             \
        else {                                                               \
            test_failed++;                                                   \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);  \
            fprintf(stderr, __VA_ARGS__);                                    \
            fprintf(stderr, "\n");                                           \
        }                                                                    \
    } while (0)

/* Check a call returned T2I_OK, printing the library's message otherwise. */
#define CHECK_OK(expr)                                                       \
    do {                                                                     \
        t2i_status s_ = (expr);                                              \
        CHECK(s_ == T2I_OK, "%s -> %s: %s", #expr, t2i_status_name(s_),     \
              t2i_last_error());                                             \
    } while (0)

static inline int test_finish(void)
{
    printf("%d passed, %d failed\n", test_passed, test_failed);
    return test_failed ? 1 : 0;
}

typedef struct cmp_result { double max_abs, max_ref, rel; int nonfinite; } cmp_result;

/* rel = max|a-b| / max|ref|: error relative to the tensor's scale. */
static inline cmp_result compare_f32(const float *got, const float *ref, size_t n)
{
    cmp_result r = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(got[i])) r.nonfinite++;
        double d = fabs((double)got[i] - ref[i]);
        if (d > r.max_abs || d != d) r.max_abs = d;
        if (fabs(ref[i]) > r.max_ref) r.max_ref = fabs(ref[i]);
    }
    r.rel = r.max_ref > 0 ? r.max_abs / r.max_ref : r.max_abs;
    return r;
}

/* Compare n values and check rel <= bound; prints the figures either way.
 * A missing side (NULL) or nothing to compare (n == 0) is a failure, not a
 * pass. */
#define CHECK_CLOSE(what, got, ref, n, bound)                                \
    do {                                                                     \
        const float *g_ = (got), *r_ = (ref);                                \
        size_t n_ = (n);                                                     \
        CHECK(g_ && r_ && n_ > 0, "%s: nothing to compare (%s, %zu values)", \
              (what), !g_ ? "no result" : !r_ ? "no reference" : "both present", n_); \
        if (!g_ || !r_ || n_ == 0) break;                                    \
        cmp_result c_ = compare_f32(g_, r_, n_);                             \
        printf("  %-40s max|err| %.3g  max|ref| %.3g  rel %.3g (bound %.1g)\n", \
               (what), c_.max_abs, c_.max_ref, c_.rel, (double)(bound));     \
        CHECK(c_.nonfinite == 0 && c_.rel <= (bound), "%s: rel %.3g > %.3g (%d non-finite)", \
              (what), c_.rel, (double)(bound), c_.nonfinite);                \
    } while (0)

/* CHECK_CLOSE of two tensors whose sizes must agree: a size mismatch is a
 * failure, and nothing is read past the shorter one. */
#define CHECK_CLOSE_SIZED(what, got, n_got, ref, n_ref, bound)              \
    do {                                                                     \
        size_t ng_ = (n_got), nr_ = (n_ref);                                 \
        CHECK(ng_ == nr_, "%s: %zu values, the reference has %zu", (what), ng_, nr_); \
        if (ng_ == nr_) CHECK_CLOSE(what, got, ref, nr_, bound);             \
    } while (0)

/* Load a whole reference tensor as FP32 (malloc'ed), or NULL with a FAIL. */
static inline float *ref_f32(const t2i_st_file *f, const char *name, size_t *n)
{
    const t2i_st_tensor *t = t2i_st_find(f, name);
    if (n) *n = 0;
    if (!t) {
        CHECK(t != NULL, "reference tensor '%s' missing", name);
        return NULL;
    }
    size_t cnt = (size_t)t2i_st_numel(t);
    float *buf = malloc(cnt * sizeof *buf + 1);
    t2i_st_read_f32(t, buf);
    if (n) *n = cnt;
    return buf;
}

#endif
