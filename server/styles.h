/*
 * styles.h — the style catalog the server uses: the engine's built-in one
 * (t2i_styles_builtin: 1,000+ styles with English and Chinese names) or a
 * file given with --styles (the engine's styles.tsv layout or an A1111
 * styles.csv, loaded by t2i_styles_load). Served by
 * GET /sdapi/v1/prompt-styles, checked against requests' "styles", and
 * passed to every generation as t2i_txt2img_params.style_catalog.
 */
#ifndef T2I_SERVER_STYLES_H
#define T2I_SERVER_STYLES_H

#include "t2i.h"

/* Load (path NULL: built-in). Returns 0, or -1 with a message on stderr. */
int styles_load(const char *path);
void styles_free(void);
const t2i_styles *styles_catalog(void);

#endif
