/*
 * styles.c — prompt-style catalog (see styles.h): a tiny RFC 4180 CSV reader
 * and the built-in English/Chinese entries.
 */
#include "server/styles.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STYLES 4096
#define MAX_STYLES_FILE (8 << 20)

static srv_style *styles;
static int n_styles;

static const char *builtin[][4] = {
    {"Photographic", "摄影", "{prompt}, photograph, 35mm, natural light, highly detailed", "painting, drawing, cartoon"},
    {"Cinematic", "电影感", "cinematic still of {prompt}, shallow depth of field, film grain", "cartoon, flat"},
    {"Watercolor", "水彩", "watercolor painting of {prompt}, soft washes, paper texture", "photo, 3d render"},
    {"Oil painting", "油画", "oil painting of {prompt}, impasto brush strokes, canvas", "photo"},
    {"Ink wash", "水墨", "Chinese ink wash painting of {prompt}, shuimo, rice paper", "color photo"},
    {"Anime", "动漫", "anime illustration of {prompt}, clean line art, cel shading", "photo, realistic"},
    {"Pixel art", "像素画", "pixel art of {prompt}, 16-bit, limited palette", "blurry, photo"},
    {"Line art", "线稿", "line art drawing of {prompt}, black ink on white", "color, shading"},
    {"Low poly", "低多边形", "low poly 3d render of {prompt}, flat shaded facets", "photo"},
    {"Isometric", "等距视角", "isometric illustration of {prompt}, clean vector shapes", ""},
    {"Cyberpunk", "赛博朋克", "{prompt}, cyberpunk, neon lights, rain, night city", "daylight"},
    {"Steampunk", "蒸汽朋克", "{prompt}, steampunk, brass gears, Victorian", ""},
    {"Golden hour", "黄金时刻", "{prompt}, golden hour lighting, warm tones, long shadows", ""},
    {"Black and white", "黑白", "black and white photo of {prompt}, high contrast", "color"},
    {"Macro", "微距", "macro photograph of {prompt}, extreme close-up, bokeh", ""},
    {"Ukiyo-e", "浮世绘", "ukiyo-e woodblock print of {prompt}, flat colors, bold outlines", "photo"},
    {"Art nouveau", "新艺术运动", "art nouveau poster of {prompt}, flowing organic lines, ornamental border", ""},
    {"Vaporwave", "蒸汽波", "{prompt}, vaporwave aesthetic, pastel pink and cyan, retro computer graphics", ""},
};

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

static int add_style(const char *name, const char *zh, const char *prompt, const char *neg)
{
    if (n_styles >= MAX_STYLES || !name || !*name) return -1;
    srv_style *s = &styles[n_styles];
    s->name = dup_or_empty(name), s->name_zh = dup_or_empty(zh);
    s->prompt = dup_or_empty(prompt), s->negative_prompt = dup_or_empty(neg);
    if (!s->name || !s->name_zh || !s->prompt || !s->negative_prompt) return -1;
    n_styles++;
    return 0;
}

/* Parse one CSV record starting at *pos into at most max fields (in place). */
static int csv_record(char **pos, char **fields, int max)
{
    char *p = *pos, *o;
    int n = 0;
    if (!*p) return -1;
    for (;;) {
        char *start = o = p;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p) return -1;                 /* unterminated quote */
                if (*p == '"' && p[1] == '"') *o++ = '"', p += 2;
                else if (*p == '"') { p++; break; }
                else *o++ = *p++;
            }
        } else {
            while (*p && *p != ',' && *p != '\n' && *p != '\r') *o++ = *p++;
        }
        char end = *p;
        *o = 0;
        if (n < max) fields[n] = start;
        n++;
        if (end == ',') { p++; continue; }
        if (end == '\r') p++;
        if (*p == '\n') p++;
        else if (*p && end != 0) return -1;         /* garbage after a quoted field */
        break;
    }
    *pos = p;
    return n;
}

static int load_csv(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "t2i-server: cannot open styles file %s\n", path); return -1; }
    char *buf = malloc(MAX_STYLES_FILE + 1);
    size_t n = buf ? fread(buf, 1, MAX_STYLES_FILE + 1, f) : 0;
    fclose(f);
    if (!buf || n > MAX_STYLES_FILE) {
        free(buf);
        fprintf(stderr, "t2i-server: styles file %s: too large or out of memory\n", path);
        return -1;
    }
    buf[n] = 0;
    char *pos = buf, *fields[16];
    if (!strncmp(pos, "\xef\xbb\xbf", 3)) pos += 3;
    int nf = csv_record(&pos, fields, 16), col[4] = {-1, -1, -1, -1};
    static const char *names[4] = {"name", "name_zh", "prompt", "negative_prompt"};
    for (int i = 0; i < nf && i < 16; i++)
        for (int c = 0; c < 4; c++)
            if (!strcmp(fields[i], names[c])) col[c] = i;
    if (col[0] < 0) {
        free(buf);
        fprintf(stderr, "t2i-server: styles file %s: the header has no 'name' column\n", path);
        return -1;
    }
    int line = 1, rc = 0;
    while (*pos) {
        line++;
        nf = csv_record(&pos, fields, 16);
        if (nf < 0) { fprintf(stderr, "t2i-server: styles file %s:%d: malformed CSV\n", path, line); rc = -1; break; }
        const char *v[4] = {0};
        for (int c = 0; c < 4; c++) v[c] = col[c] >= 0 && col[c] < nf && col[c] < 16 ? fields[col[c]] : "";
        if (!*v[0]) continue;
        if (add_style(v[0], v[1], v[2], v[3])) { fprintf(stderr, "t2i-server: styles file %s: too many styles\n", path); rc = -1; break; }
    }
    free(buf);
    return rc;
}

int styles_load(const char *path)
{
    styles = calloc(MAX_STYLES, sizeof *styles);
    if (!styles) return -1;
    if (path) return load_csv(path);
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        add_style(builtin[i][0], builtin[i][1], builtin[i][2], builtin[i][3]);
    return 0;
}

void styles_free(void)
{
    for (int i = 0; i < n_styles; i++)
        free(styles[i].name), free(styles[i].name_zh), free(styles[i].prompt), free(styles[i].negative_prompt);
    free(styles);
    styles = NULL, n_styles = 0;
}

int styles_count(void) { return n_styles; }
const srv_style *styles_get(int i) { return i >= 0 && i < n_styles ? &styles[i] : NULL; }
