/*
 * test_server_uploads.c — the server's decode budget (server/uploads.c):
 * uploads admitted up to --max-decodes at once and --max-decode-bytes in
 * all, one larger than the whole budget refused with 413, a full budget with
 * 429, and room again once decodes leave. Then 8 threads × 20,000 random
 * enter/leave pairs never see the budget exceeded and leave it empty.
 */
#include <pthread.h>
#include "server/server.c"
#include "server/uploads.c"
#include "test_util.h"

#define CHECK1(cond) CHECK(cond, "%s", "")

static int over;                 /* budget exceeded, seen by a thread */

static void *hammer(void *arg)
{
    unsigned s = (unsigned)(size_t)arg * 2654435761u + 1;
    for (int i = 0; i < 20000; i++) {
        s = s * 1103515245u + 12345u;
        size_t bytes = 1 + (s >> 8) % 5000;
        if (uploads_enter(bytes) != 0) continue;
        pthread_mutex_lock(&mu);
        if (decodes > g_cfg.max_decodes || in_flight > g_cfg.max_decode_bytes) over = 1;
        pthread_mutex_unlock(&mu);
        uploads_leave(bytes);
    }
    return NULL;
}

int main(void)
{
    g_cfg.max_decodes = 3;
    g_cfg.max_decode_bytes = 10000;
    CHECK1(uploads_enter(10001) == 413);
    CHECK1(uploads_enter(6000) == 0);
    CHECK1(uploads_enter(5000) == 429);           /* bytes: 6000 + 5000 > 10000 */
    CHECK1(uploads_enter(4000) == 0);             /* exactly full */
    CHECK1(uploads_enter(1) == 429);
    uploads_leave(4000);
    CHECK1(uploads_enter(100) == 0);
    CHECK1(uploads_enter(100) == 0);
    CHECK1(uploads_enter(100) == 429);            /* count: 3 at once */
    uploads_leave(100), uploads_leave(100), uploads_leave(6000);
    CHECK1(decodes == 0 && in_flight == 0);
    pthread_t t[8];
    for (size_t i = 0; i < 8; i++) pthread_create(&t[i], NULL, hammer, (void *)i);
    for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
    CHECK1(!over && decodes == 0 && in_flight == 0);
    return test_finish();
}
