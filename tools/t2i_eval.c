/*
 * t2i-eval — judge a folder of PNGs: one JSON line per image (CLIPScore
 * against its prompt, aesthetic score, sharpness, colourfulness, exposure,
 * contrast, dHash), then one summary line (means, the worst images by
 * relevance, groups of near-duplicates).
 *
 *   t2i-eval [--clip DIR] [--clip-zh DIR] [--aesthetic FILE] [--tsv FILE]
 *            [--worst N] FOLDER
 *
 * The prompt of an image is the "parameters" text of the PNG (A1111
 * infotext, as t2i writes it: the prompt drawn, styles and expansion
 * included) or, with --tsv, the second column of the line whose first
 * column is the file name. Without a CLIP model only the no-reference
 * measures and hashes are computed. Uses the public API only.
 */
#include <dirent.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "t2i.h"

typedef struct item {
    char *file, *prompt;
    int has_clip;
    t2i_image_scores s;
} item;

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **list_pngs(const char *dir, int *n)
{
    DIR *d = opendir(dir);
    if (!d) return NULL;
    char **names = NULL;
    int cap = 0;
    *n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcasecmp(e->d_name + len - 4, ".png") != 0) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, (size_t)cap * sizeof *nn);
            if (!nn) break;
            names = nn;
        }
        names[(*n)++] = strdup(e->d_name);
    }
    closedir(d);
    if (names) qsort(names, (size_t)*n, sizeof *names, by_name);
    return names ? names : calloc(1, sizeof *names);
}

/* The prompt for `file` from a TSV (file<TAB>prompt per line); NULL if absent. */
static char *tsv_prompt(const char *tsv, const char *file)
{
    FILE *f = fopen(tsv, "r");
    if (!f) return NULL;
    char line[8192];
    char *found = NULL;
    while (!found && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *tab = strchr(line, '\t');
        if (tab && (size_t)(tab - line) == strlen(file) && strncmp(line, file, (size_t)(tab - line)) == 0)
            found = strdup(tab + 1);
    }
    fclose(f);
    return found;
}

/* Check a TSV before judging: every line "file<TAB>prompt", every file present. */
static int check_tsv(const char *tsv, const char *dir)
{
    FILE *f = fopen(tsv, "r");
    if (!f) {
        fprintf(stderr, "t2i-eval: --tsv %s: cannot open\n", tsv);
        return 0;
    }
    char line[8192], path[8192 + 4096];
    int ok = 1, no = 0;
    while (fgets(line, sizeof line, f)) {
        no++;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0]) continue;
        char *tab = strchr(line, '\t');
        if (!tab) {
            fprintf(stderr, "t2i-eval: %s:%d: expected FILE<TAB>PROMPT\n", tsv, no);
            ok = 0;
            continue;
        }
        *tab = 0;
        snprintf(path, sizeof path, "%s/%s", dir, line);
        FILE *g = fopen(path, "rb");
        if (!g) {
            fprintf(stderr, "t2i-eval: %s:%d: %s: no such file\n", tsv, no, path);
            ok = 0;
        } else {
            fclose(g);
        }
    }
    fclose(f);
    return ok;
}

static void add_num(cJSON *o, const char *k, double v)
{
    if (isnan(v)) cJSON_AddNullToObject(o, k);
    else cJSON_AddNumberToObject(o, k, round(v * 1e4) / 1e4);
}

static void print_json(cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    if (s) puts(s);
    free(s);
    cJSON_Delete(o);
}

static int by_clip(const void *a, const void *b)
{
    const item *x = *(item *const *)a, *y = *(item *const *)b;
    return (x->s.clip_score > y->s.clip_score) - (x->s.clip_score < y->s.clip_score);
}

/* Near-duplicate groups by dHash (union-find over all pairs). */
static cJSON *dup_groups(item *it, int n, int bits)
{
    int *parent = malloc((size_t)n * sizeof *parent);
    cJSON *groups = cJSON_CreateArray();
    if (!parent) return groups;
    for (int i = 0; i < n; i++) parent[i] = i;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (t2i_hash_distance(it[i].s.dhash, it[j].s.dhash) <= bits) {
                int a = i, b = j;
                while (parent[a] != a) a = parent[a];
                while (parent[b] != b) b = parent[b];
                if (a != b) parent[b] = a;
            }
    for (int r = 0; r < n; r++) {
        cJSON *g = NULL;
        for (int i = 0; i < n; i++) {
            int a = i;
            while (parent[a] != a) a = parent[a];
            if (a != r) continue;
            if (!g) g = cJSON_CreateArray();
            cJSON_AddItemToArray(g, cJSON_CreateString(it[i].file));
        }
        if (g && cJSON_GetArraySize(g) > 1) cJSON_AddItemToArray(groups, g);
        else cJSON_Delete(g);
    }
    free(parent);
    return groups;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: t2i-eval [--clip DIR] [--clip-zh DIR] [--aesthetic FILE] [--tsv FILE] [--worst N] FOLDER\n");
}

int main(int argc, char **argv)
{
    const char *clip = NULL, *clip_zh = NULL, *aesthetic = NULL, *tsv = NULL;
    int worst = 3;
    static const struct option opts[] = {{"clip", 1, 0, 'c'}, {"clip-zh", 1, 0, 'z'}, {"aesthetic", 1, 0, 'a'},
                                         {"tsv", 1, 0, 't'},  {"worst", 1, 0, 'w'},   {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    for (int o; (o = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
        switch (o) {
        case 'c': clip = optarg; break;
        case 'z': clip_zh = optarg; break;
        case 'a': aesthetic = optarg; break;
        case 't': tsv = optarg; break;
        case 'w': worst = atoi(optarg); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    const char *dir = argv[optind];
    int n = 0;
    char **names = list_pngs(dir, &n);
    if (!names) {
        fprintf(stderr, "t2i-eval: %s: cannot read the folder\n", dir);
        return 2;
    }
    if (tsv && !check_tsv(tsv, dir)) return 2;
    t2i_engine *eng = NULL;
    t2i_scorer *sc = NULL;
    if ((clip || clip_zh || aesthetic) &&
        (t2i_engine_create(NULL, &eng) != T2I_OK || t2i_scorer_load(eng, clip, clip_zh, aesthetic, &sc) != T2I_OK)) {
        fprintf(stderr, "t2i-eval: %s\n", t2i_last_error());
        return 1;
    }
    item *it = calloc((size_t)n + 1, sizeof *it);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int m = 0, failed = 0;
    double sum_clip = 0, sum_aes = 0, sum_sharp = 0, sum_col = 0;
    int n_clip = 0, n_aes = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        t2i_image img = {0};
        item *x = &it[m];
        x->file = names[i];
        x->s.aesthetic = x->s.clip_score = NAN;
        if (t2i_png_read(path, &img) != T2I_OK) {
            fprintf(stderr, "t2i-eval: %s\n", t2i_last_error());
            failed++;
            continue;
        }
        if (tsv) {
            x->prompt = tsv_prompt(tsv, names[i]);
        } else if (img.infotext) {
            t2i_infotext info;
            if (t2i_infotext_parse(img.infotext, &info) == T2I_OK && info.prompt) x->prompt = strdup(info.prompt);
            t2i_infotext_free(&info);
        }
        t2i_status st = t2i_image_quality_measure(&img, &x->s.quality);
        if (st == T2I_OK) st = t2i_image_dhash(&img, &x->s.dhash);
        if (st == T2I_OK && sc && x->prompt && (clip || clip_zh)) {
            st = t2i_clip_score(sc, &img, x->prompt, T2I_LANG_AUTO, &x->s.clip_score);
            x->has_clip = st == T2I_OK;
        }
        if (st == T2I_OK && sc && aesthetic) st = t2i_aesthetic_score(sc, &img, &x->s.aesthetic);
        t2i_image_clear(&img);
        if (st != T2I_OK) {
            fprintf(stderr, "t2i-eval: %s: %s\n", path, t2i_last_error());
            free(x->prompt);
            x->prompt = NULL;
            failed++;
            continue;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "file", x->file);
        if (x->prompt) cJSON_AddStringToObject(o, "prompt", x->prompt);
        else cJSON_AddNullToObject(o, "prompt");
        add_num(o, "clip_score", x->s.clip_score);
        add_num(o, "aesthetic", x->s.aesthetic);
        add_num(o, "sharpness", x->s.quality.sharpness);
        add_num(o, "colourfulness", x->s.quality.colourfulness);
        add_num(o, "exposure", x->s.quality.exposure);
        add_num(o, "contrast", x->s.quality.contrast);
        char h[17];
        snprintf(h, sizeof h, "%016llx", (unsigned long long)x->s.dhash);
        cJSON_AddStringToObject(o, "dhash", h);
        print_json(o);
        if (!isnan(x->s.clip_score)) sum_clip += x->s.clip_score, n_clip++;
        if (!isnan(x->s.aesthetic)) sum_aes += x->s.aesthetic, n_aes++;
        sum_sharp += x->s.quality.sharpness;
        sum_col += x->s.quality.colourfulness;
        m++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    cJSON *sum = cJSON_CreateObject(), *means = cJSON_AddObjectToObject(sum, "means");
    add_num(sum, "seconds_per_image", m ? secs / m : NAN);   /* reading + judging, models loaded */
    cJSON_AddNumberToObject(sum, "images", m);
    cJSON_AddNumberToObject(sum, "failed", failed);
    add_num(means, "clip_score", n_clip ? sum_clip / n_clip : NAN);
    add_num(means, "aesthetic", n_aes ? sum_aes / n_aes : NAN);
    add_num(means, "sharpness", m ? sum_sharp / m : NAN);
    add_num(means, "colourfulness", m ? sum_col / m : NAN);
    item **order = malloc(((size_t)m + 1) * sizeof *order);
    int k = 0;
    for (int i = 0; order && i < m; i++)
        if (it[i].has_clip) order[k++] = &it[i];
    if (order) qsort(order, (size_t)k, sizeof *order, by_clip);
    cJSON *w = cJSON_AddArrayToObject(sum, "worst_clip_score");
    for (int i = 0; i < k && i < worst; i++) cJSON_AddItemToArray(w, cJSON_CreateString(order[i]->file));
    cJSON_AddItemToObject(sum, "duplicate_groups", dup_groups(it, m, T2I_DUP_HASH_BITS));
    cJSON *top = cJSON_CreateObject();
    cJSON_AddItemToObject(top, "summary", sum);
    print_json(top);
    for (int i = 0; i < n; i++) free(names[i]);
    for (int i = 0; i < m; i++) free(it[i].prompt);
    free(names);
    free(order);
    free(it);
    t2i_scorer_destroy(sc);
    t2i_engine_destroy(eng);
    return failed ? 1 : 0;
}
