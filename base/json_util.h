/*
 * json_util.h — reading config files with errors that name the file and key.
 *
 * Reads go through a context with a sticky status: the first bad value
 * records "path: key 'k': <why>" and later reads return defaults, so a parser
 * reads every field it needs and checks the status once.
 */
#ifndef T2I_JSON_UTIL_H
#define T2I_JSON_UTIL_H

#include <stdbool.h>
#include <cjson/cJSON.h>
#include "t2i.h"

typedef struct t2i_jctx {
    const char *path;   /* named in messages */
    t2i_status status;
} t2i_jctx;

/* Read and parse a JSON file holding an object (at most 64 MiB), through
 * t2i_json_parse. */
t2i_status t2i_json_load(const char *path, cJSON **out);

/* Parse text[0..n) as JSON, accepting Python's non-standard numbers as
 * json.dump writes them: NaN, Infinity and -Infinity outside strings become
 * number nodes holding NaN, +inf and -inf (a NaN together with a "\u0001"
 * escape in the same text is refused: NaN is carried through cJSON as a
 * marker string holding that character). On success *out is the tree (the
 * caller cJSON_Deletes it); invalid JSON -> T2I_ERR_FORMAT "path: invalid
 * JSON near byte N". */
t2i_status t2i_json_parse(const char *text, size_t n, const char *path, cJSON **out);

/* Absent or null -> def. Wrong type or outside [lo, hi] -> error. */
int t2i_jint(t2i_jctx *c, const cJSON *o, const char *key, int def, int lo, int hi);
double t2i_jnum(t2i_jctx *c, const cJSON *o, const char *key, double def);
bool t2i_jbool(t2i_jctx *c, const cJSON *o, const char *key, bool def);
/* Returns def when absent or null; the string is owned by the cJSON tree. */
const char *t2i_jstr(t2i_jctx *c, const cJSON *o, const char *key, const char *def);
/* Pick one of `choices` (NULL-terminated); returns its index. Absent -> def. */
int t2i_jenum(t2i_jctx *c, const cJSON *o, const char *key, const char *const *choices, int def);

/* An int or an array of ints. A single int is broadcast to all `n` entries;
 * an array must have exactly n entries. Absent -> def for all. */
void t2i_jint_per_block(t2i_jctx *c, const cJSON *o, const char *key, int *out, int n, int def);
/* An array of strings; returns its length (≤ max), or -1 after an error. */
int t2i_jstr_list(t2i_jctx *c, const cJSON *o, const char *key, const char **out, int max);

/* The key must be absent, null, or equal to one of the accepted values
 * (strings, numbers or booleans given as JSON text, e.g. "false", "1.0",
 * "\"default\""); anything else is an unsupported-value error naming it. */
void t2i_jexpect(t2i_jctx *c, const cJSON *o, const char *key, const char *accepted_json);

/* Record an error "path: key 'key': why". */
void t2i_jerror(t2i_jctx *c, t2i_status s, const char *key, const char *why);

#endif
