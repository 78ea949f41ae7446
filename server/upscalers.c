/*
 * upscalers.c — the table of pixel upscalers (see upscalers.h).
 */
#include "server/upscalers.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

srv_upscaler g_upscalers[SRV_MAX_UPSCALERS];
int g_n_upscalers;

int upscalers_add(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) return fprintf(stderr, "t2i-server: --upscaler %s: not found\n", path), -1;
    if (g_n_upscalers == SRV_MAX_UPSCALERS)
        return fprintf(stderr, "t2i-server: --upscaler: at most %d upscalers\n", SRV_MAX_UPSCALERS), -1;
    srv_upscaler *u = &g_upscalers[g_n_upscalers];
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    size_t start = n;
    while (start > 0 && path[start - 1] != '/') start--;
    size_t len = n - start;
    if (S_ISREG(st.st_mode) && len > 12 && !strncmp(path + n - 12, ".safetensors", 12)) len -= 12;
    snprintf(u->name, sizeof u->name, "%.*s", (int)len, path + start);
    snprintf(u->path, sizeof u->path, "%s", path);
    if (upscalers_find(u->name) != UPSCALER_UNKNOWN)
        return fprintf(stderr, "t2i-server: --upscaler %s: the name '%s' is taken\n", path, u->name), -1;
    u->scale = 0;
    g_n_upscalers++;
    return 0;
}

int upscalers_find(const char *name)
{
    if (!strcasecmp(name, "None")) return UPSCALER_NONE;
    if (!strcasecmp(name, "Lanczos")) return UPSCALER_LANCZOS;
    if (!strncasecmp(name, "Latent", 6)) return UPSCALER_LATENT;
    for (int i = 0; i < g_n_upscalers; i++)
        if (!strcmp(g_upscalers[i].name, name)) return i;
    return UPSCALER_UNKNOWN;
}
