/*
 * model_list.c — t2i_model_list: the models in a folder, diffusers folders
 * and single-file checkpoints side by side (t2i.h).
 *
 * A subfolder counts when it holds model_index.json; a "*.safetensors" file
 * when its header (mapped, validated, no weights read) names the UNet's
 * first convolution in the original naming — so VAE, LoRA and embedding
 * files next to the checkpoints are left out. Pickles (.ckpt) are not
 * listed: they cannot be loaded.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "formats/safetensors.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The summed size of the *.safetensors files in dir's subfolders. */
static int64_t folder_bytes(const char *dir)
{
    int64_t total = 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char sub[4200];
        if (snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name) >= (int)sizeof sub) continue;
        DIR *s = opendir(sub);
        if (!s) continue;
        struct dirent *f;
        while ((f = readdir(s))) {
            char path[8400];
            struct stat sb;
            if (snprintf(path, sizeof path, "%s/%s", sub, f->d_name) >= (int)sizeof path) continue;
            if (ends_with(f->d_name, ".safetensors") && stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) total += sb.st_size;
        }
        closedir(s);
    }
    closedir(d);
    return total;
}

static int is_checkpoint(const char *path)
{
    t2i_st_file *f = NULL;
    if (t2i_st_open(path, &f) != T2I_OK) return 0;
    int yes = t2i_st_find(f, "model.diffusion_model.input_blocks.0.0.weight") != NULL;
    t2i_st_close(f);
    return yes;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const t2i_model_entry *)a)->name, ((const t2i_model_entry *)b)->name);
}

void t2i_model_list_free(t2i_model_entry *list, int n)
{
    for (int i = 0; list && i < n; i++) {
        free(list[i].name);
        free(list[i].path);
    }
    free(list);
}

t2i_status t2i_model_list(const char *dir, t2i_model_entry **out, int *n)
{
    if (!dir || !out || !n) return t2i_fail(T2I_ERR_INVALID_ARG, "t2i_model_list: NULL argument");
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return t2i_fail(T2I_ERR_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    t2i_model_entry *list = NULL;
    int count = 0, cap = 0;
    t2i_status st = T2I_OK;
    struct dirent *e;
    while ((e = readdir(d)) && st == T2I_OK) {
        if (e->d_name[0] == '.') continue;
        char path[4200], probe[4300];
        struct stat sb;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
        if (stat(path, &sb) != 0) continue;
        t2i_model_entry m = {0};
        if (S_ISDIR(sb.st_mode)) {
            snprintf(probe, sizeof probe, "%s/model_index.json", path);
            if (access(probe, R_OK) != 0) continue;
            m.kind = T2I_MODEL_FOLDER;
            m.bytes = folder_bytes(path);
        } else if (S_ISREG(sb.st_mode) && ends_with(e->d_name, ".safetensors") && is_checkpoint(path)) {
            m.kind = T2I_MODEL_SINGLE_FILE;
            m.bytes = sb.st_size;
        } else {
            continue;
        }
        m.name = strdup(e->d_name);
        m.path = strdup(path);
        if (m.name && m.kind == T2I_MODEL_SINGLE_FILE) m.name[strlen(m.name) - strlen(".safetensors")] = '\0';
        if (count == cap) {
            cap = cap ? cap * 2 : 16;
            t2i_model_entry *p = realloc(list, (size_t)cap * sizeof *p);
            if (!p) { free(m.name), free(m.path); st = t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", dir); break; }
            list = p;
        }
        if (!m.name || !m.path) { free(m.name), free(m.path); st = t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", dir); break; }
        list[count++] = m;
    }
    closedir(d);
    if (st != T2I_OK) {
        t2i_model_list_free(list, count);
        return st;
    }
    if (count) qsort(list, (size_t)count, sizeof *list, by_name);
    *out = list;
    *n = count;
    return T2I_OK;
}
