/*
 * asset_list.c — t2i_list_loras and t2i_list_embeddings: the LoRA and
 * textual-inversion files of a folder, as A1111's /sdapi/v1/loras and
 * /sdapi/v1/embeddings list them (t2i.h).
 *
 * Every "*.safetensors" directly in the folder is an entry, sorted by name
 * (the name a prompt uses: the file name without ".safetensors"). Only the
 * header is read (mapped and validated, no weights): a file whose header
 * does not parse, or that holds nothing usable, is listed with `error` set
 * (A1111 lists such embeddings as "skipped"), so a broken file never hides
 * the others.
 *
 * LoRA: usable when a tensor name has a LoRA part (lora_down / lora_up,
 * lora_A / lora_B, or the lora_unet_ / lora_te prefixes); alias = the
 * kohya metadata's ss_output_name, else the name.
 * Embedding: "emb_params" [n, C] (A1111), "clip_l" [n, C] (+ "clip_g",
 * SDXL), or one tensor [C] / [n, C] (diffusers' learned_embeds) — the
 * layouts runtime/embeddings.c loads; vectors = n, width = C.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "formats/safetensors.h"

#define EXT ".safetensors"

static char *dup_str(const char *s) { return s ? strdup(s) : NULL; }

static char *error_text(const char *fmt, const char *a)
{
    char buf[512];
    snprintf(buf, sizeof buf, fmt, a);
    return strdup(buf);
}

static void lora_info(const t2i_st_file *f, t2i_asset_entry *e)
{
    int usable = 0;
    for (int i = 0; i < t2i_st_count(f) && !usable; i++) {
        const char *k = t2i_st_get(f, i)->name;
        usable = strstr(k, "lora_down") || strstr(k, "lora_up") || strstr(k, "lora_A") || strstr(k, "lora_B") ||
                 strncmp(k, "lora_unet_", 10) == 0 || strncmp(k, "lora_te", 7) == 0;
    }
    const char *alias = t2i_st_metadata(f, "ss_output_name");
    if (alias && *alias) {
        free(e->alias);
        e->alias = dup_str(alias);
    }
    if (!usable) e->error = error_text("%s: no LoRA tensor (lora_down/lora_up or lora_A/lora_B)", e->path);
}

static void embedding_info(const t2i_st_file *f, t2i_asset_entry *e)
{
    const t2i_st_tensor *t = t2i_st_find(f, "emb_params");
    if (!t) t = t2i_st_find(f, "clip_l");
    if (!t && t2i_st_count(f) == 1) t = t2i_st_get(f, 0);
    if (!t || t->ndim < 1 || t->ndim > 2 || t->shape[t->ndim - 1] < 1) {
        e->error = error_text("%s: no embedding tensor (emb_params, clip_l/clip_g or one [n, C] tensor)", e->path);
        return;
    }
    e->vectors = t->ndim == 2 ? (int)t->shape[0] : 1;
    e->width = (int)t->shape[t->ndim - 1];
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const t2i_asset_entry *)a)->name, ((const t2i_asset_entry *)b)->name);
}

void t2i_asset_list_free(t2i_asset_entry *list, int n)
{
    for (int i = 0; list && i < n; i++) {
        free(list[i].name);
        free(list[i].alias);
        free(list[i].path);
        free(list[i].error);
    }
    free(list);
}

static t2i_status list_dir(const char *dir, int embeddings, t2i_asset_entry **out, int *n)
{
    if (!dir || !out || !n) return t2i_fail(T2I_ERR_INVALID_ARG, "asset list: NULL argument");
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return t2i_fail(T2I_ERR_IO, "%s: cannot open the folder", dir);
    t2i_asset_entry *list = NULL;
    int count = 0, cap = 0;
    t2i_status st = T2I_OK;
    struct dirent *de;
    while (st == T2I_OK && (de = readdir(d))) {
        size_t len = strlen(de->d_name), k = strlen(EXT);
        if (de->d_name[0] == '.' || len <= k || strcmp(de->d_name + len - k, EXT) != 0) continue;
        char path[4200];
        struct stat sb;
        if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path) continue;
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
        if (count == cap) {
            cap = cap ? 2 * cap : 16;
            t2i_asset_entry *grown = realloc(list, sizeof *list * (size_t)cap);
            if (!grown) {
                st = t2i_fail(T2I_ERR_NOMEM, "asset list: out of memory");
                break;
            }
            list = grown;
        }
        t2i_asset_entry *e = &list[count++];
        memset(e, 0, sizeof *e);
        e->name = strndup(de->d_name, len - k);
        e->alias = strndup(de->d_name, len - k);
        e->path = strdup(path);
        e->bytes = (int64_t)sb.st_size;
        if (!e->name || !e->alias || !e->path) {
            st = t2i_fail(T2I_ERR_NOMEM, "asset list: out of memory");
            break;
        }
        t2i_st_file *f = NULL;
        if (t2i_st_open(path, &f) != T2I_OK) {
            e->error = error_text("%s", t2i_last_error());
            continue;
        }
        if (embeddings) embedding_info(f, e);
        else lora_info(f, e);
        t2i_st_close(f);
    }
    closedir(d);
    if (st != T2I_OK) {
        t2i_asset_list_free(list, count);
        return st;
    }
    if (count > 1) qsort(list, (size_t)count, sizeof *list, by_name);
    *out = list;
    *n = count;
    return T2I_OK;
}

t2i_status t2i_list_loras(const char *dir, t2i_asset_entry **out, int *n) { return list_dir(dir, 0, out, n); }

t2i_status t2i_list_embeddings(const char *dir, t2i_asset_entry **out, int *n) { return list_dir(dir, 1, out, n); }
