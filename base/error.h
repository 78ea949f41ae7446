/*
 * error.h — how the library reports failures.
 *
 * Bad input or exhausted resources: return t2i_fail(status, fmt, ...), which
 * records a message for t2i_last_error() (thread-local) and returns the
 * status, so a failing path reads `return t2i_fail(T2I_ERR_FORMAT, "...")`.
 * Broken invariants (bugs): T2I_ASSERT, which prints file:line and aborts.
 */
#ifndef T2I_ERROR_H
#define T2I_ERROR_H

#include <stdio.h>
#include <stdlib.h>
#include "t2i.h"

#if defined(__GNUC__)
#define T2I_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define T2I_PRINTF(a, b)
#endif

t2i_status t2i_fail(t2i_status s, const char *fmt, ...) T2I_PRINTF(2, 3);

/* Prefix the current message with "context: " (e.g. a file name) and return
 * s unchanged; used when an error passes up through a layer that knows more. */
t2i_status t2i_fail_context(t2i_status s, const char *fmt, ...) T2I_PRINTF(2, 3);

#define T2I_ASSERT(cond)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "t2i: internal error at %s:%d: %s\n", __FILE__,  \
                    __LINE__, #cond);                                        \
            abort();                                                         \
        }                                                                    \
    } while (0)

/* Propagate a non-OK status. */
#define T2I_TRY(expr)                                                        \
    do {                                                                     \
        t2i_status t2i_try_s_ = (expr);                                      \
        if (t2i_try_s_ != T2I_OK) return t2i_try_s_;                         \
    } while (0)

#endif
