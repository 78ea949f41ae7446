/*
 * styles.h — the prompt-style catalog behind GET /sdapi/v1/prompt-styles and
 * the web page's style picker: A1111 styles.csv entries (name, prompt,
 * negative_prompt, where "{prompt}" in prompt marks where the user's prompt
 * goes) plus a Chinese display name.
 *
 * Source: --styles FILE (CSV with a header naming the columns name, prompt,
 * negative_prompt and optionally name_zh; quoted fields as in RFC 4180), or
 * a small built-in catalog. The engine's own catalog (t2i.h styles) replaces
 * this once it exists; until then requests' styles are validated and
 * recorded but not applied.
 */
#ifndef T2I_SERVER_STYLES_H
#define T2I_SERVER_STYLES_H

typedef struct srv_style {
    char *name, *name_zh, *prompt, *negative_prompt;
} srv_style;

/* Load the catalog (path NULL: built-in). Returns 0, or -1 with a message
 * on stderr. */
int styles_load(const char *path);
void styles_free(void);
int styles_count(void);
const srv_style *styles_get(int i);

#endif
