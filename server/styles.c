/*
 * styles.c — the server's style catalog (see styles.h): a thin holder of the
 * engine's catalog, read-only once loaded, so every thread may use it.
 */
#include "server/styles.h"
#include <stdio.h>

static t2i_styles *loaded;
static const t2i_styles *catalog;

int styles_load(const char *path)
{
    if (!path) {
        catalog = t2i_styles_builtin();
        return 0;
    }
    if (t2i_styles_load(path, &loaded) != T2I_OK) {
        fprintf(stderr, "t2i-server: --styles: %s\n", t2i_last_error());
        return -1;
    }
    catalog = loaded;
    return 0;
}

void styles_free(void)
{
    t2i_styles_destroy(loaded);
    loaded = NULL;
    catalog = NULL;
}

const t2i_styles *styles_catalog(void) { return catalog ? catalog : t2i_styles_builtin(); }
