/*
 * uploads.c — the decode budget (see uploads.h): a count and a byte total
 * under one mutex. Refusing at once (429 + Retry-After) rather than waiting
 * keeps a connection thread from holding its body while it queues.
 */
#include "server/uploads.h"
#include <pthread.h>
#include "server/server.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int decodes;
static size_t in_flight;

int uploads_enter(size_t bytes)
{
    if (bytes > g_cfg.max_decode_bytes) return 413;
    pthread_mutex_lock(&mu);
    int ok = decodes < g_cfg.max_decodes && bytes <= g_cfg.max_decode_bytes - in_flight;
    if (ok) decodes++, in_flight += bytes;
    pthread_mutex_unlock(&mu);
    return ok ? 0 : 429;
}

void uploads_leave(size_t bytes)
{
    pthread_mutex_lock(&mu);
    decodes--, in_flight -= bytes;
    pthread_mutex_unlock(&mu);
}
