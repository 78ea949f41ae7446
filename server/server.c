/*
 * server.c — the process-wide facts every part of the server shares (see
 * server.h): the configuration main.c fills from the flags, the model
 * catalog, the clocks and random ids. It depends on nothing else in server/,
 * so every other file may use it without closing a loop.
 */
#include "server/server.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/types.h>
#include <time.h>

srv_config g_cfg;
srv_model_entry g_models[SRV_MAX_MODELS];
int g_n_models;

double srv_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

double srv_wall(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static void random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n) {
        ssize_t k = getrandom(p, n, 0);
        if (k <= 0) continue;
        p += k, n -= (size_t)k;
    }
}

void srv_random_id(char out[SRV_ID_LEN + 1])
{
    unsigned char b[SRV_ID_LEN / 2];
    random_bytes(b, sizeof b);
    for (size_t i = 0; i < sizeof b; i++) snprintf(out + 2 * i, 3, "%02x", b[i]);
}

uint64_t srv_random_seed(void)
{
    uint32_t v;
    random_bytes(&v, sizeof v);
    return v % 4294967294u;      /* A1111: random.randrange(4294967294) */
}

int srv_model_find(const char *name)
{
    char key[256];
    snprintf(key, sizeof key, "%s", name);
    char *br = strstr(key, " [");                     /* "title [hash]" */
    if (br) *br = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < g_n_models; i++)
            if (!strcasecmp(key, g_models[i].name)) return i;
        char *dot = strrchr(key, '.');                  /* "name.safetensors" */
        if (!dot || pass) break;
        *dot = 0;
    }
    return -1;
}
