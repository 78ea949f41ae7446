/* lora_tags.c — taking <lora:name:weight> tags out of prompts (lora_tags.h). */
#include "product/lora_tags.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

t2i_status t2i_lora_list_add(t2i_lora_list *list, const char *path, float weight)
{
    if (list->n == list->cap) {
        int cap = list->cap ? list->cap * 2 : 4;
        t2i_lora *v = realloc(list->v, (size_t)cap * sizeof *v);
        if (!v) return t2i_fail(T2I_ERR_NOMEM, "lora: out of memory");
        list->v = v;
        list->cap = cap;
    }
    char *p = strdup(path);
    if (!p) return t2i_fail(T2I_ERR_NOMEM, "lora: out of memory");
    list->v[list->n++] = (t2i_lora){p, weight};
    return T2I_OK;
}

void t2i_lora_list_free(t2i_lora_list *list)
{
    if (!list) return;
    for (int i = 0; i < list->n; i++) free((char *)list->v[i].path);
    free(list->v);
    memset(list, 0, sizeof *list);
}

/* One tag's arguments (the text between "<lora:" and ">"). */
static t2i_status add_tag(const char *args, size_t n, const char *lora_dir, const char *what, t2i_lora_list *list)
{
    char buf[512];
    if (n >= sizeof buf) return t2i_fail(T2I_ERR_INVALID_ARG, "%s: <lora:%.40s…> is too long", what, args);
    memcpy(buf, args, n);
    buf[n] = '\0';
    char *name = buf, *w = strchr(buf, ':');
    float weight = 1.0f;
    if (w) {
        *w++ = '\0';
        if (strchr(w, ':'))
            return t2i_fail(T2I_ERR_UNSUPPORTED, "%s: <lora:%s:%s>: a separate UNet weight is not supported", what,
                            name, w);
        char *end;
        errno = 0;
        double d = strtod(w, &end);
        while (isspace((unsigned char)*end)) end++;
        if (end == w || *end || errno || !isfinite(d))
            return t2i_fail(T2I_ERR_INVALID_ARG, "%s: <lora:%s:%s>: the weight is not a number", what, name, w);
        weight = (float)d;
    }
    if (!*name || strstr(name, "..") || name[0] == '/')
        return t2i_fail(T2I_ERR_INVALID_ARG, "%s: <lora:%s>: not a LoRA name", what, name);
    if (!lora_dir || !*lora_dir)
        return t2i_fail(T2I_ERR_INVALID_ARG, "%s: <lora:%s> but no LoRA folder was given", what, name);
    char path[1024];
    size_t nl = strlen(name);
    const char *ext = nl > 12 && strcmp(name + nl - 12, ".safetensors") == 0 ? "" : ".safetensors";
    if ((size_t)snprintf(path, sizeof path, "%s/%s%s", lora_dir, name, ext) >= sizeof path)
        return t2i_fail(T2I_ERR_INVALID_ARG, "%s: <lora:%s>: path too long", what, name);
    return t2i_lora_list_add(list, path, weight);
}

t2i_status t2i_lora_tags_extract(const char *text, const char *lora_dir, const char *what, char **out,
                                 t2i_lora_list *list)
{
    *out = NULL;
    if (!text) text = "";
    char *o = malloc(strlen(text) + 1);
    if (!o) return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", what);
    size_t k = 0;
    for (const char *p = text; *p;) {
        const char *close = strncmp(p, "<lora:", 6) == 0 ? strchr(p + 6, '>') : NULL;
        if (close && close > p + 6 && !memchr(p + 6, '<', (size_t)(close - p - 6))) {
            t2i_status st = add_tag(p + 6, (size_t)(close - p - 6), lora_dir, what, list);
            if (st != T2I_OK) {
                free(o);
                return st;
            }
            p = close + 1;
            continue;
        }
        o[k++] = *p++;
    }
    o[k] = '\0';
    *out = o;
    return T2I_OK;
}
