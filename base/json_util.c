/* json_util.c — typed, range-checked reads from cJSON trees. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "base/error.h"
#include "base/json_util.h"

#define JSON_MAX_BYTES (64u << 20)

/* ---- Python's non-standard numbers ---------------------------------------- */

/* Python's json writes float('nan') / float('inf') as the bare words NaN,
 * Infinity and -Infinity (diffusers' DPMSolverMultistepScheduler saves
 * "lambda_min_clipped": -Infinity); cJSON, like every strict parser, rejects
 * them. Before parsing, those words OUTSIDE strings become ±1e999 (strtod
 * overflows it to ±infinity) and NaN a marker string, turned back into a
 * NaN number after parsing. Text inside strings is never touched. */
#define NAN_MARKER "\x01t2i-NaN\x01"

static int word_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

static const struct { const char *word, *repl; } python_numbers[] = {
    {"-Infinity", "-1e999"}, {"Infinity", "1e999"}, {"NaN", "\"" NAN_MARKER "\""},
};
#define MAX_REPL_GROWTH 16   /* no replacement is longer than its word + this */

/* One pass over text[0..n): copies it to out (when non-NULL, with room for
 * n + MAX_REPL_GROWTH per word) with the words outside strings replaced.
 * Returns the output length; *words and *nans count the replacements. */
static size_t scan_python_numbers(const char *text, size_t n, char *out, int *words, int *nans)
{
    size_t len = 0;
    int in_string = 0;
    *words = *nans = 0;
    for (size_t i = 0; i < n;) {
        if (!in_string) {
            size_t w = 0, k = 0;
            for (; w < 3; w++) {
                k = strlen(python_numbers[w].word);
                if (i + k <= n && memcmp(text + i, python_numbers[w].word, k) == 0 &&
                    (i == 0 || !word_char(text[i - 1])) && (i + k == n || !word_char(text[i + k])))
                    break;
            }
            if (w < 3) {
                size_t rl = strlen(python_numbers[w].repl);
                if (out) memcpy(out + len, python_numbers[w].repl, rl);
                len += rl, i += k;
                (*words)++, *nans += w == 2;
                continue;
            }
        }
        size_t step = in_string && text[i] == '\\' && i + 1 < n ? 2 : 1;
        if (text[i] == '"') in_string = !in_string;
        if (out) memcpy(out + len, text + i, step);
        len += step, i += step;
    }
    return len;
}

/* A copy of text with the words replaced, or *fixed = NULL when there were
 * none. 0 when out of memory. */
static int replace_python_numbers(const char *text, size_t n, char **fixed, size_t *fixed_len, int *nans)
{
    int words;
    *fixed = NULL;
    scan_python_numbers(text, n, NULL, &words, nans);
    if (!words) return 1;
    if (!(*fixed = malloc(n + (size_t)words * MAX_REPL_GROWTH + 1))) return 0;
    *fixed_len = scan_python_numbers(text, n, *fixed, &words, nans);
    (*fixed)[*fixed_len] = '\0';
    return 1;
}

static void restore_nans(cJSON *v)
{
    for (; v; v = v->next) {
        if (cJSON_IsString(v) && v->valuestring && strcmp(v->valuestring, NAN_MARKER) == 0) {
            cJSON_free(v->valuestring);
            v->valuestring = NULL;
            v->type = cJSON_Number;
            v->valuedouble = NAN;
            v->valueint = 0;
        }
        restore_nans(v->child);
    }
}

static int contains_ci(const char *text, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (strncasecmp(text + i, needle, k) == 0) return 1;
    return 0;
}

t2i_status t2i_json_parse(const char *text, size_t n, const char *path, cJSON **out)
{
    *out = NULL;
    char *fixed = NULL;
    size_t fixed_len = 0;
    int nans = 0;
    if (!replace_python_numbers(text, n, &fixed, &fixed_len, &nans))
        return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", path);
    /* the marker cannot come from the file: raw control bytes are invalid
     * JSON, so only an escape could spell one */
    if (nans && (memchr(text, 1, n) || contains_ci(text, n, "\\u0001"))) {
        free(fixed);
        return t2i_fail(T2I_ERR_FORMAT, "%s: NaN together with a \\u0001 character is not supported", path);
    }
    const char *src = fixed ? fixed : text;
    size_t len = fixed ? fixed_len : n;
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(src, len, &end, 0);
    size_t at = end ? (size_t)(end - src) : 0;
    free(fixed);
    if (!j) return t2i_fail(T2I_ERR_FORMAT, "%s: invalid JSON near byte %zu", path, at);
    if (nans) restore_nans(j);
    *out = j;
    return T2I_OK;
}

t2i_status t2i_json_load(const char *path, cJSON **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return t2i_fail(T2I_ERR_IO, "%s: cannot open", path);
    char *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n < 0 || (unsigned long)n > JSON_MAX_BYTES || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return t2i_fail(T2I_ERR_FORMAT, "%s: unreadable or larger than %u bytes", path, JSON_MAX_BYTES);
    }
    buf = malloc((size_t)n + 1);
    if (!buf) {
        fclose(f);
        return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    if (got != (size_t)n) {
        free(buf);
        return t2i_fail(T2I_ERR_IO, "%s: short read", path);
    }
    buf[n] = '\0';
    cJSON *j = NULL;
    t2i_status st = t2i_json_parse(buf, (size_t)n, path, &j);
    free(buf);
    if (st != T2I_OK) return st;
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return t2i_fail(T2I_ERR_FORMAT, "%s: top level is not a JSON object", path);
    }
    *out = j;
    return T2I_OK;
}

void t2i_jerror(t2i_jctx *c, t2i_status s, const char *key, const char *why)
{
    if (c->status != T2I_OK) return;
    c->status = t2i_fail(s, "%s: key '%s': %s", c->path, key, why);
}

static const cJSON *get(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

int t2i_jint(t2i_jctx *c, const cJSON *o, const char *key, int def, int lo, int hi)
{
    const cJSON *v = get(o, key);
    if (!v || c->status != T2I_OK) return def;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble)) {
        t2i_jerror(c, T2I_ERR_FORMAT, key, "expected an integer");
        return def;
    }
    if (v->valuedouble < lo || v->valuedouble > hi) {
        char why[96];
        snprintf(why, sizeof why, "value %g outside the supported range [%d, %d]", v->valuedouble, lo, hi);
        t2i_jerror(c, T2I_ERR_UNSUPPORTED, key, why);
        return def;
    }
    return (int)v->valuedouble;
}

double t2i_jnum(t2i_jctx *c, const cJSON *o, const char *key, double def)
{
    const cJSON *v = get(o, key);
    if (!v || c->status != T2I_OK) return def;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
        t2i_jerror(c, T2I_ERR_FORMAT, key, "expected a finite number");
        return def;
    }
    return v->valuedouble;
}

bool t2i_jbool(t2i_jctx *c, const cJSON *o, const char *key, bool def)
{
    const cJSON *v = get(o, key);
    if (!v || c->status != T2I_OK) return def;
    if (!cJSON_IsBool(v)) {
        t2i_jerror(c, T2I_ERR_FORMAT, key, "expected true or false");
        return def;
    }
    return cJSON_IsTrue(v);
}

const char *t2i_jstr(t2i_jctx *c, const cJSON *o, const char *key, const char *def)
{
    const cJSON *v = get(o, key);
    if (!v || c->status != T2I_OK) return def;
    if (!cJSON_IsString(v)) {
        t2i_jerror(c, T2I_ERR_FORMAT, key, "expected a string");
        return def;
    }
    return v->valuestring;
}

int t2i_jenum(t2i_jctx *c, const cJSON *o, const char *key, const char *const *choices, int def)
{
    const char *s = t2i_jstr(c, o, key, NULL);
    if (!s) return def;
    for (int i = 0; choices[i]; i++)
        if (strcmp(s, choices[i]) == 0) return i;
    char why[160];
    snprintf(why, sizeof why, "unsupported value \"%.100s\"", s);
    t2i_jerror(c, T2I_ERR_UNSUPPORTED, key, why);
    return def;
}

void t2i_jint_per_block(t2i_jctx *c, const cJSON *o, const char *key, int *out, int n, int def)
{
    const cJSON *v = get(o, key);
    for (int i = 0; i < n; i++) out[i] = def;
    if (!v || c->status != T2I_OK) return;
    if (cJSON_IsNumber(v)) {
        int x = t2i_jint(c, o, key, def, 1, 1 << 20);
        for (int i = 0; i < n; i++) out[i] = x;
        return;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != n) {
        char why[96];
        snprintf(why, sizeof why, "expected an integer or a list of %d integers", n);
        t2i_jerror(c, T2I_ERR_FORMAT, key, why);
        return;
    }
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        if (!cJSON_IsNumber(e) || e->valuedouble < 1 || e->valuedouble > (1 << 20) ||
            e->valuedouble != floor(e->valuedouble)) {
            t2i_jerror(c, T2I_ERR_FORMAT, key, "list entries must be positive integers");
            return;
        }
        out[i++] = (int)e->valuedouble;
    }
}

int t2i_jstr_list(t2i_jctx *c, const cJSON *o, const char *key, const char **out, int max)
{
    const cJSON *v = get(o, key);
    if (c->status != T2I_OK) return -1;
    if (!v || !cJSON_IsArray(v)) {
        t2i_jerror(c, T2I_ERR_FORMAT, key, "expected a list of strings");
        return -1;
    }
    int n = cJSON_GetArraySize(v);
    if (n < 1 || n > max) {
        char why[64];
        snprintf(why, sizeof why, "expected 1 to %d entries, got %d", max, n);
        t2i_jerror(c, T2I_ERR_UNSUPPORTED, key, why);
        return -1;
    }
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        if (!cJSON_IsString(e)) {
            t2i_jerror(c, T2I_ERR_FORMAT, key, "list entries must be strings");
            return -1;
        }
        out[i++] = e->valuestring;
    }
    return n;
}

void t2i_jexpect(t2i_jctx *c, const cJSON *o, const char *key, const char *accepted_json)
{
    const cJSON *v = get(o, key);
    if (!v || c->status != T2I_OK) return;
    /* accepted_json is a '|'-separated list of JSON literals */
    char buf[256];
    snprintf(buf, sizeof buf, "%s", accepted_json);
    char *save = NULL;
    for (char *tok = strtok_r(buf, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
        cJSON *a = cJSON_Parse(tok);
        int eq = a && cJSON_Compare(a, v, 1);
        if (!eq && a && cJSON_IsNumber(a) && cJSON_IsNumber(v)) eq = a->valuedouble == v->valuedouble;
        cJSON_Delete(a);
        if (eq) return;
    }
    char *got = cJSON_PrintUnformatted(v);
    char why[200];
    snprintf(why, sizeof why, "unsupported value %.80s (supported: %.80s)", got ? got : "?", accepted_json);
    free(got);
    t2i_jerror(c, T2I_ERR_UNSUPPORTED, key, why);
}
