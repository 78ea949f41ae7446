/* error.c — thread-local last-error message and status names. */
#include <stdarg.h>
#include <string.h>
#include "base/error.h"

static _Thread_local char last_error[1024];

t2i_status t2i_fail(t2i_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return s;
}

t2i_status t2i_fail_context(t2i_status s, const char *fmt, ...)
{
    char prefix[256], old[sizeof last_error - sizeof prefix - 3];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t n = strnlen(last_error, sizeof old - 1);
    memcpy(old, last_error, n);
    old[n] = '\0';
    snprintf(last_error, sizeof last_error, "%s: %s", prefix, old);
    return s;
}

const char *t2i_last_error(void) { return last_error; }

const char *t2i_status_name(t2i_status s)
{
    switch (s) {
    case T2I_OK: return "T2I_OK";
    case T2I_ERR_INVALID_ARG: return "T2I_ERR_INVALID_ARG";
    case T2I_ERR_IO: return "T2I_ERR_IO";
    case T2I_ERR_FORMAT: return "T2I_ERR_FORMAT";
    case T2I_ERR_UNSUPPORTED: return "T2I_ERR_UNSUPPORTED";
    case T2I_ERR_NOMEM: return "T2I_ERR_NOMEM";
    case T2I_ERR_DEVICE: return "T2I_ERR_DEVICE";
    case T2I_ERR_CANCELLED: return "T2I_ERR_CANCELLED";
    case T2I_ERR_INTERNAL: return "T2I_ERR_INTERNAL";
    case T2I_ERR_PEER: return "T2I_ERR_PEER";
    }
    return "T2I_ERR_UNKNOWN";
}
