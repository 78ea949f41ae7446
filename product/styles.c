/*
 * styles.c — style catalog: loading (TSV or A1111 CSV), lookup, applying
 * styles to prompts (semantics in styles.h).
 */
#include "product/styles.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"
#include "base/strbuf.h"

#define MAX_CATALOG_BYTES (16u << 20)
#define MAX_STYLE_WEIGHT 10.0

const t2i_styles *t2i_styles_builtin(void) { return &t2i_styles_builtin_catalog; }

int t2i_styles_count(const t2i_styles *s) { return s ? s->n : 0; }

const t2i_style *t2i_styles_get(const t2i_styles *s, int i)
{
    return s && i >= 0 && i < s->n ? &s->v[i] : NULL;
}

int t2i_styles_category_count(void) { return t2i_style_n_categories; }

const char *t2i_styles_category(int i, const char **name_zh)
{
    if (i < 0 || i >= t2i_style_n_categories) return NULL;
    if (name_zh) *name_zh = t2i_style_categories[i].name_zh;
    return t2i_style_categories[i].key;
}

void t2i_styles_destroy(t2i_styles *s)
{
    if (!s || s->builtin) return;
    free(s->owned);
    free(s->pool);
    free(s);
}

/* Length of name with surrounding white space trimmed; *start skips it. */
static size_t trimmed(const char *name, size_t len, const char **start)
{
    while (len && isspace((unsigned char)*name)) name++, len--;
    while (len && isspace((unsigned char)name[len - 1])) len--;
    *start = name;
    return len;
}

static const t2i_style *find_n(const t2i_styles *s, const char *name, size_t len)
{
    len = trimmed(name, len, &name);
    if (!s || !len) return NULL;
    for (int i = 0; i < s->n; i++) {
        const t2i_style *st = &s->v[i];
        if ((strlen(st->id) == len && strncasecmp(st->id, name, len) == 0) ||
            (strlen(st->name_en) == len && strncasecmp(st->name_en, name, len) == 0) ||
            (st->name_zh[0] && strlen(st->name_zh) == len && memcmp(st->name_zh, name, len) == 0))
            return st;
    }
    return NULL;
}

const t2i_style *t2i_styles_find(const t2i_styles *s, const char *name)
{
    return name ? find_n(s, name, strlen(name)) : NULL;
}

/* ---- merging ---------------------------------------------------------------- */

static int is_sep(char c) { return c == ',' || isspace((unsigned char)c); }

/* A piece of template text, weighted: leading/trailing ", " kept outside. */
static void add_weighted(t2i_sbuf *b, const char *s, size_t n, double w)
{
    if (w == 1.0) {
        t2i_sb_put(b, s, n);
        return;
    }
    size_t a = 0, e = n;
    while (a < e && is_sep(s[a])) a++;
    while (e > a && is_sep(s[e - 1])) e--;
    t2i_sb_put(b, s, a);
    if (e > a) {
        char num[32];
        snprintf(num, sizeof num, ":%g)", w);
        t2i_sb_str(b, "(");
        t2i_sb_put(b, s + a, e - a);
        t2i_sb_str(b, num);
    }
    t2i_sb_put(b, s + e, n - e);
}

char *t2i_style_merge(const char *tmpl, const char *text, double w)
{
    t2i_sbuf b = {0};
    const char *ph = strstr(tmpl, "{prompt}");
    if (ph) {
        const char *s = tmpl;
        while ((ph = strstr(s, "{prompt}")) != NULL) {
            add_weighted(&b, s, (size_t)(ph - s), w);
            t2i_sb_str(&b, text);
            s = ph + 8;
        }
        add_weighted(&b, s, strlen(s), w);
        return t2i_sb_finish(&b);
    }
    /* A1111: ", ".join(filter(None, (prompt.strip(), style.strip()))) */
    const char *t;
    size_t tn = trimmed(text, strlen(text), &t);
    const char *st;
    size_t sn = trimmed(tmpl, strlen(tmpl), &st);
    t2i_sb_put(&b, t, tn);
    if (tn && sn) t2i_sb_str(&b, ", ");
    add_weighted(&b, st, sn, w);
    return t2i_sb_finish(&b);
}

/* ---- applying ---------------------------------------------------------------- */

typedef struct chosen { const t2i_style *st; double w; } chosen;

static int cmp_chosen(const void *a, const void *b)
{
    return strcmp(((const chosen *)a)->st->id, ((const chosen *)b)->st->id);
}

/* "name", "name:1.2" or "name：1.2" → style and weight. */
static t2i_status parse_entry(const t2i_styles *s, const char *e, chosen *out)
{
    size_t n = strlen(e);
    const char *colon = NULL;
    size_t clen = 0;
    for (size_t i = n; i-- > 0;) {
        if (e[i] == ':') {
            colon = e + i, clen = 1;
            break;
        }
        if (i + 3 <= n && memcmp(e + i, "\xef\xbc\x9a", 3) == 0) {   /* U+FF1A */
            colon = e + i, clen = 3;
            break;
        }
    }
    out->w = 1.0;
    out->st = find_n(s, e, n);
    if (!out->st && colon) {
        const char *num = colon + clen;
        char *end;
        double w = strtod(num, &end);
        while (*end && isspace((unsigned char)*end)) end++;
        if (end == num || *end || !(w > 0 && w <= MAX_STYLE_WEIGHT))
            return t2i_fail(T2I_ERR_INVALID_ARG, "style '%s': weight must be a number in (0, %g]", e,
                            MAX_STYLE_WEIGHT);
        out->w = w;
        out->st = find_n(s, e, (size_t)(colon - e));
    }
    if (!out->st) return t2i_fail(T2I_ERR_INVALID_ARG, "unknown style '%s' (give an id, English or Chinese name)", e);
    return T2I_OK;
}

t2i_status t2i_styles_apply(const t2i_styles *s, const char *const *styles, int n_styles, const char *prompt,
                            const char *negative, char **out_prompt, char **out_negative)
{
    *out_prompt = *out_negative = NULL;
    if (!s) s = t2i_styles_builtin();
    if (n_styles < 0 || (n_styles > 0 && !styles))
        return t2i_fail(T2I_ERR_INVALID_ARG, "styles: %d styles without a list", n_styles);
    if (n_styles > 64) return t2i_fail(T2I_ERR_INVALID_ARG, "styles: %d styles (at most 64)", n_styles);
    chosen ch[64];
    for (int i = 0; i < n_styles; i++) {
        if (!styles[i]) return t2i_fail(T2I_ERR_INVALID_ARG, "styles: entry %d is NULL", i);
        T2I_TRY(parse_entry(s, styles[i], &ch[i]));
        for (int j = 0; j < i; j++)
            if (ch[j].st == ch[i].st)
                return t2i_fail(T2I_ERR_INVALID_ARG, "style '%s' given twice ('%s' and '%s')", ch[i].st->id,
                                styles[j], styles[i]);
    }
    qsort(ch, (size_t)n_styles, sizeof ch[0], cmp_chosen);
    char *p = strdup(prompt ? prompt : ""), *ng = strdup(negative ? negative : "");
    for (int i = 0; i < n_styles && p && ng; i++) {
        char *np = t2i_style_merge(ch[i].st->prompt, p, ch[i].w);
        char *nn = t2i_style_merge(ch[i].st->negative_prompt, ng, ch[i].w);
        free(p);
        free(ng);
        p = np;
        ng = nn;
    }
    if (!p || !ng) {
        free(p);
        free(ng);
        return t2i_fail(T2I_ERR_NOMEM, "styles: out of memory");
    }
    *out_prompt = p;
    *out_negative = ng;
    return T2I_OK;
}

/* ---- loading ------------------------------------------------------------------ */

/* Split one record into fields, in place. TSV: tabs, no quoting. CSV:
 * RFC 4180 quotes ("" inside quotes is one "), records may span lines.
 * Returns the number of fields, or -1 for an unterminated quote; *next is
 * the start of the following record. */
static int split_record(char *s, int csv, char **fields, int max, char **next)
{
    int n = 0;
    char *r = s, *w = s;
    for (;;) {
        char *field = w;
        if (csv && *r == '"') {
            r++;
            for (;;) {
                if (!*r) return -1;
                if (*r == '"' && r[1] == '"') *w++ = '"', r += 2;
                else if (*r == '"') {
                    r++;
                    break;
                } else *w++ = *r++;
            }
        }
        while (*r && *r != (csv ? ',' : '\t') && *r != '\n' && *r != '\r') *w++ = *r++;
        char end = *r;
        *w = '\0';
        if (n < max) fields[n] = field;
        n++;
        if (end == ',' || end == '\t') {
            w = ++r;
            continue;
        }
        if (end == '\r') {
            r++;
            if (*r == '\n') r++;
        } else if (end == '\n') {
            r++;
        }
        *next = r;
        return n;
    }
}

static void make_id(char *dst, size_t cap, const char *name)
{
    size_t o = 0;
    int us = 0;
    for (const unsigned char *c = (const unsigned char *)name; *c && o + 1 < cap; c++) {
        if (isalnum(*c)) {
            if (us && o) dst[o++] = '_';
            dst[o++] = (char)tolower(*c);
            us = 0;
        } else {
            us = 1;
        }
    }
    dst[o] = '\0';
}

t2i_status t2i_styles_load(const char *path, t2i_styles **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return t2i_fail(T2I_ERR_IO, "%s: cannot open", path);
    char *buf = malloc(MAX_CATALOG_BYTES + 1);
    size_t len = buf ? fread(buf, 1, MAX_CATALOG_BYTES + 1, f) : 0;
    fclose(f);
    if (!buf) return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", path);
    if (len > MAX_CATALOG_BYTES) {
        free(buf);
        return t2i_fail(T2I_ERR_FORMAT, "%s: larger than %u bytes", path, MAX_CATALOG_BYTES);
    }
    buf[len] = '\0';
    if (memchr(buf, '\0', len)) {
        free(buf);
        return t2i_fail(T2I_ERR_FORMAT, "%s: NUL byte in a text file", path);
    }
    char *s = buf;
    if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) s += 3;   /* BOM */
    const char *nl = strchr(s, '\n');
    const int csv = !memchr(s, '\t', nl ? (size_t)(nl - s) : strlen(s));

    /* rows: at most one per line; strings: ids made from CSV names */
    size_t lines = 1;
    for (char *c = s; *c; c++) lines += *c == '\n';
    t2i_styles *cat = calloc(1, sizeof *cat);
    /* one block: the rows, then 96 bytes per row for ids made from names */
    t2i_style *rows = calloc(lines, sizeof *rows + 96);
    char *ids = rows ? (char *)(rows + lines) : NULL;
    t2i_status st = cat && rows ? T2I_OK : t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", path);
    int n = 0, line = 1;
    char *fields[8], *next = s;
    int nf = st == T2I_OK ? split_record(s, csv, fields, 8, &next) : 0;
    int want = csv ? 3 : 6;
    if (st == T2I_OK && (nf < want || (csv ? strcmp(fields[0], "name") : strcmp(fields[0], "id"))))
        st = t2i_fail(T2I_ERR_FORMAT, "%s: line 1: expected the header %s", path,
                      csv ? "name,prompt,negative_prompt" : "id, name_en, name_zh, category, prompt, negative_prompt");
    while (st == T2I_OK && *next) {
        char *rec = next;
        line++;
        nf = split_record(rec, csv, fields, 8, &next);
        if (nf == 1 && !fields[0][0]) continue;   /* blank line */
        if (nf < 0) {
            st = t2i_fail(T2I_ERR_FORMAT, "%s: line %d: unterminated quote", path, line);
            break;
        }
        if (nf < (csv ? 2 : 6) || nf > want) {
            st = t2i_fail(T2I_ERR_FORMAT, "%s: line %d: %d fields, expected %d", path, line, nf, want);
            break;
        }
        t2i_style *r = &rows[n];
        if (csv) {
            char *id = ids + (size_t)n * 96;
            make_id(id, 96, fields[0]);
            *r = (t2i_style){id, fields[0], "", "user", fields[1], nf > 2 ? fields[2] : ""};
        } else {
            *r = (t2i_style){fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]};
        }
        if (!r->id[0] || !r->name_en[0]) {
            st = t2i_fail(T2I_ERR_FORMAT, "%s: line %d: empty id or name", path, line);
            break;
        }
        for (int j = 0; j < n && st == T2I_OK; j++)
            if (strcasecmp(rows[j].id, r->id) == 0 || strcasecmp(rows[j].name_en, r->name_en) == 0 ||
                (r->name_zh[0] && strcmp(rows[j].name_zh, r->name_zh) == 0))
                st = t2i_fail(T2I_ERR_FORMAT, "%s: line %d: style '%s' duplicates the id or a name of '%s'", path,
                              line, r->name_en, rows[j].name_en);
        n++;
    }
    if (st != T2I_OK) {
        free(cat);
        free(rows);
        free(buf);
        return st;
    }
    cat->v = rows;
    cat->n = n;
    cat->owned = rows;
    cat->pool = buf;
    *out = cat;
    return T2I_OK;
}
