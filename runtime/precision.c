/*
 * precision.c — the names of the precision ladder's rungs and which backend
 * offers which (t2i.h, docs/precision.md).
 */
#include <string.h>
#include "base/error.h"
#include "runtime/model.h"

static const char *const names[] = {"default", "fp32", "fp16", "bf16", "int8w", "w8a8"};
#define N_NAMES (int)(sizeof names / sizeof names[0])

const char *t2i_precision_name(t2i_precision p)
{
    return (int)p >= 0 && (int)p < N_NAMES ? names[p] : "?";
}

t2i_status t2i_precision_parse(const char *name, t2i_precision *out)
{
    for (int i = 0; name && i < N_NAMES; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (t2i_precision)i;
            return T2I_OK;
        }
    return t2i_fail(T2I_ERR_INVALID_ARG, "precision '%s': must be fp32, fp16, bf16, int8w or w8a8",
                    name ? name : "(null)");
}

t2i_status t2i_precision_check(t2i_backend_kind backend, t2i_precision p)
{
    if ((int)p < 0 || (int)p >= N_NAMES) return t2i_fail(T2I_ERR_INVALID_ARG, "engine: unknown precision %d", (int)p);
    if (backend == T2I_BACKEND_CPU) {
        if (p == T2I_PRECISION_DEFAULT || p == T2I_PRECISION_FP32 || p == T2I_PRECISION_INT8W) return T2I_OK;
        return t2i_fail(T2I_ERR_UNSUPPORTED, "engine: precision %s is not available on the cpu backend "
                        "(cpu: fp32, int8w)", names[p]);
    }
    if (p == T2I_PRECISION_DEFAULT || p == T2I_PRECISION_FP16 || p == T2I_PRECISION_BF16) return T2I_OK;
    return t2i_fail(T2I_ERR_UNSUPPORTED, "engine: precision %s is not available on the cuda backend "
                    "(cuda: fp16, bf16)", names[p]);
}
