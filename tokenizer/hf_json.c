/* hf_json.c — tokenizer.json: data access and settings checks (hf_json.h). */
#include "tokenizer/hf_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tokenizer/vocab.h"

#define MAX_FILE_BYTES (256u << 20)

t2i_status t2i_hf_json_open(const char *dir, char *path, size_t path_size, cJSON **root)
{
    snprintf(path, path_size, "%s/tokenizer.json", dir);
    return t2i_read_optional_json(path, MAX_FILE_BYTES, root);
}

static int is_int_id(const cJSON *v)
{
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= INT32_MAX &&
           v->valuedouble == (double)(int32_t)v->valuedouble;
}

t2i_status t2i_hf_json_model(const cJSON *root, const char *path, const char *type, const cJSON **model)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!cJSON_IsObject(m)) return t2i_fail(T2I_ERR_FORMAT, "%s: key 'model': missing or not an object", path);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "type");
    if (!cJSON_IsString(t))
        return t2i_fail(T2I_ERR_FORMAT, "%s: key 'model.type': missing or not a string", path);
    if (strcmp(t->valuestring, type) != 0)
        return t2i_fail(T2I_ERR_UNSUPPORTED,
                        "%s: key 'model.type': unsupported tokenizer model \"%.40s\" (supported here: %s)", path,
                        t->valuestring, type);
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(m, "vocab")))
        return t2i_fail(T2I_ERR_FORMAT, "%s: key 'model.vocab': missing or not an object", path);
    *model = m;
    return T2I_OK;
}

t2i_status t2i_hf_json_vocab(const cJSON *model, const char *path, t2i_hf_put_fn put, void *ctx,
                             int32_t *max_id)
{
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab"), *e;
    *max_id = -1;
    if (cJSON_GetArraySize(vocab) <= 0) return t2i_fail(T2I_ERR_FORMAT, "%s: key 'model.vocab': empty", path);
    cJSON_ArrayForEach(e, vocab) {
        if (!is_int_id(e))
            return t2i_fail(T2I_ERR_FORMAT, "%s: key 'model.vocab': token \"%.40s\": id is not an integer in [0, %d]",
                            path, e->string ? e->string : "", INT32_MAX);
        int32_t id = (int32_t)e->valuedouble;
        T2I_TRY(put(ctx, e->string, id));
        if (id > *max_id) *max_id = id;
    }
    return T2I_OK;
}

t2i_status t2i_hf_json_added(const cJSON *root, const char *path, t2i_hf_add_fn add, void *ctx)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "added_tokens"), *e;
    if (!list || cJSON_IsNull(list)) return T2I_OK;
    if (!cJSON_IsArray(list)) return t2i_fail(T2I_ERR_FORMAT, "%s: key 'added_tokens': not a list", path);
    int i = 0;
    cJSON_ArrayForEach(e, list) {
        char where[4200];
        snprintf(where, sizeof where, "%s: key 'added_tokens[%d]'", path, i++);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(e, "content");
        if (!is_int_id(id) || !cJSON_IsString(content))
            return t2i_fail(T2I_ERR_FORMAT, "%s: needs an integer \"id\" and a string \"content\"", where);
        static const char *const flags[] = {"lstrip", "rstrip", "single_word"};
        for (int f = 0; f < 3; f++)
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, flags[f])))
                return t2i_fail(T2I_ERR_UNSUPPORTED, "%s: \"%s\": true is not supported", where, flags[f]);
        const cJSON *norm = cJSON_GetObjectItemCaseSensitive(e, "normalized");
        const cJSON *special = cJSON_GetObjectItemCaseSensitive(e, "special");
        int normalized = cJSON_IsBool(norm) ? cJSON_IsTrue(norm) : !cJSON_IsTrue(special);
        T2I_TRY(add(ctx, content->valuestring, (int32_t)id->valuedouble, normalized, where));
    }
    return T2I_OK;
}

/* ---- settings checks ------------------------------------------------------- */

static int ignored(const char *ignore, const char *key)
{
    size_t k = strlen(key);
    for (const char *p = ignore; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == k && strncmp(p, key, n) == 0) return 1;
        p = bar ? bar + 1 : p + n;
    }
    return 0;
}

static void path_key(char *where, size_t cap, const char *key)
{
    size_t n = strlen(where);
    snprintf(where + n, cap - n, ".%s", key);
}

static void path_index(char *where, size_t cap, int i)
{
    size_t n = strlen(where);
    snprintf(where + n, cap - n, "[%d]", i);
}

/* 1 if got matches want; else 0 with `where` extended to the first mismatch. */
static int match(const cJSON *want, const cJSON *got, const char *ignore, char *where, size_t cap)
{
    if (got && cJSON_IsNull(got)) got = NULL;
    if (cJSON_IsNull(want)) return got == NULL;
    if (!got) return 0;
    if (cJSON_IsObject(want)) {
        if (!cJSON_IsObject(got)) return 0;
        size_t n = strlen(where);
        const cJSON *e;
        cJSON_ArrayForEach(e, want) {
            path_key(where, cap, e->string);
            if (!match(e, cJSON_GetObjectItemCaseSensitive(got, e->string), ignore, where, cap)) return 0;
            where[n] = '\0';
        }
        cJSON_ArrayForEach(e, got) {
            if (cJSON_GetObjectItemCaseSensitive(want, e->string) || ignored(ignore, e->string) || cJSON_IsNull(e))
                continue;
            path_key(where, cap, e->string);
            return 0;
        }
        return 1;
    }
    if (cJSON_IsArray(want)) {
        if (!cJSON_IsArray(got) || cJSON_GetArraySize(got) != cJSON_GetArraySize(want)) return 0;
        size_t n = strlen(where);
        for (int i = 0; i < cJSON_GetArraySize(want); i++) {
            path_index(where, cap, i);
            if (!match(cJSON_GetArrayItem(want, i), cJSON_GetArrayItem(got, i), ignore, where, cap)) return 0;
            where[n] = '\0';
        }
        return 1;
    }
    if (cJSON_IsNumber(want)) return cJSON_IsNumber(got) && got->valuedouble == want->valuedouble;
    return cJSON_Compare(want, got, 1);
}

/* The value at a dotted/indexed path below obj, or NULL. */
static const cJSON *lookup(const cJSON *obj, const char *rel)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", rel);
    const cJSON *v = obj;
    for (char *p = buf; v && *p;) {
        if (*p == '.') { p++; continue; }
        if (*p == '[') {
            v = cJSON_GetArrayItem(v, atoi(p + 1));
            char *close = strchr(p, ']');
            p = close ? close + 1 : p + strlen(p);
            continue;
        }
        size_t n = strcspn(p, ".[");
        char c = p[n];
        p[n] = '\0';
        v = cJSON_GetObjectItemCaseSensitive(v, p);
        p[n] = c;
        p += n;
    }
    return v;
}

t2i_status t2i_hf_json_expect(const cJSON *obj, const char *path, const char *key, const char *expected,
                              const char *ignore)
{
    cJSON *want = cJSON_Parse(expected);
    T2I_ASSERT(want);   /* expected is a literal of the caller */
    char where[512];
    snprintf(where, sizeof where, "%s", key);
    const cJSON *got = cJSON_GetObjectItemCaseSensitive(obj, key);
    int ok = match(want, got, ignore, where, sizeof where);
    cJSON_Delete(want);
    if (ok) return T2I_OK;
    const cJSON *bad = lookup(obj, where);
    char *text = bad ? cJSON_PrintUnformatted(bad) : NULL;
    t2i_status st = t2i_fail(T2I_ERR_UNSUPPORTED, "%s: key '%s': unsupported value %.120s (t2i implements only %.200s)",
                             path, where, text ? text : "(absent)", expected);
    free(text);
    return st;
}
