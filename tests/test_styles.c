/*
 * test_styles.c — the style catalog (product/styles.h, data/styles.tsv).
 *
 * The built-in catalog: at least 1,000 styles, equal row for row to
 * data/styles.tsv, no duplicate id / English / Chinese name, every category
 * used and every style in a known category, Chinese names really Chinese,
 * every template with {prompt} and a valid prompt once applied. Lookup by id, English name
 * (any case) and Chinese name. Applying: A1111's {prompt} / ", " semantics
 * exactly, order independence, weights as "(text:w)" that the prompt parser
 * reads back with that weight, errors for unknown / duplicate / badly
 * weighted styles. Loading an A1111 styles.csv (quotes, commas, newlines
 * inside quotes) and rejecting duplicates with the line number.
 */
#include "product/styles.h"
#include "test_util.h"
#include "tokenizer/prompt_parse.h"
#include <unistd.h>

static int has_cjk(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p >= 0xE3 && *p <= 0xE9) return 1;   /* lead bytes of U+3000..U+9FFF */
    return 0;
}

static void test_catalog(void)
{
    const t2i_styles *b = t2i_styles_builtin();
    int n = t2i_styles_count(b);
    printf("  built-in catalog: %d styles\n", n);
    CHECK(n >= 1000, "only %d styles", n);
    int per_cat[64] = {0}, unknown = 0, dup = 0, not_zh = 0, bad_tmpl = 0, bad_parse = 0;
    for (int i = 0; i < n; i++) {
        const t2i_style *s = t2i_styles_get(b, i);
        int c = -1;
        for (int k = 0; k < t2i_styles_category_count(); k++)
            if (strcmp(s->category, t2i_styles_category(k, NULL)) == 0) c = k;
        if (c < 0) unknown++;
        else per_cat[c]++;
        for (int j = 0; j < i; j++) {
            const t2i_style *o = t2i_styles_get(b, j);
            if (!strcasecmp(o->id, s->id) || !strcasecmp(o->name_en, s->name_en) || !strcmp(o->name_zh, s->name_zh)) {
                if (dup++ < 5) fprintf(stderr, "duplicate: %s / %s\n", o->id, s->id);
            }
        }
        if (!has_cjk(s->name_zh) || !strcmp(s->name_zh, s->name_en)) not_zh++;
        if (!strstr(s->prompt, "{prompt}")) bad_tmpl++;
        /* applied to a prompt, every template is valid prompt syntax */
        char *p = NULL, *ng = NULL;
        const char *one[1] = {s->id};
        t2i_prompt_schedule sch;
        if (t2i_styles_apply(b, one, 1, "a cat", "", &p, &ng) != T2I_OK || !strstr(p, "a cat") ||
            t2i_prompt_parse(p, 10, &sch, NULL) != T2I_OK) {
            if (bad_parse++ < 5) fprintf(stderr, "style %s does not apply cleanly: %s\n", s->id, p ? p : "");
        } else {
            t2i_prompt_schedule_free(&sch);
        }
        t2i_free(p);
        t2i_free(ng);
    }
    CHECK(unknown == 0 && dup == 0 && not_zh == 0 && bad_tmpl == 0 && bad_parse == 0,
          "%d unknown categories, %d duplicates, %d names not Chinese, %d templates without {prompt}, %d bad", unknown,
          dup, not_zh, bad_tmpl, bad_parse);
    printf("  per category:");
    for (int k = 0; k < t2i_styles_category_count(); k++) {
        const char *zh;
        const char *key = t2i_styles_category(k, &zh);
        printf(" %s(%s) %d%s", key, zh, per_cat[k], k + 1 < t2i_styles_category_count() ? "," : "\n");
        CHECK(per_cat[k] > 0, "category %s has no style", key);
    }
    CHECK(t2i_styles_category(-1, NULL) == NULL && t2i_styles_get(b, n) == NULL, "out of range lookups");

    /* data/styles.tsv is the same catalog */
    t2i_styles *f = NULL;
    CHECK_OK(t2i_styles_load("data/styles.tsv", &f));
    CHECK(t2i_styles_count(f) == n, "data/styles.tsv has %d rows, built-in %d", t2i_styles_count(f), n);
    int diff = 0;
    for (int i = 0; f && i < n && i < t2i_styles_count(f); i++) {
        const t2i_style *x = t2i_styles_get(b, i), *y = t2i_styles_get(f, i);
        if (strcmp(x->id, y->id) || strcmp(x->name_en, y->name_en) || strcmp(x->name_zh, y->name_zh) ||
            strcmp(x->category, y->category) || strcmp(x->prompt, y->prompt) ||
            strcmp(x->negative_prompt, y->negative_prompt))
            diff++;
    }
    CHECK(diff == 0, "%d rows of data/styles.tsv differ from product/styles_table.c (rerun scripts/gen/gen_styles.py)", diff);
    t2i_styles_destroy(f);
    t2i_styles_destroy((t2i_styles *)b);   /* ignored for the built-in */
}

static void test_lookup(void)
{
    const t2i_styles *b = t2i_styles_builtin();
    const t2i_style *s = t2i_styles_find(b, "oil_painting");
    CHECK(s && !strcmp(s->name_zh, "油画"), "oil_painting");
    CHECK(t2i_styles_find(b, "Oil Painting") == s && t2i_styles_find(b, "OIL PAINTING") == s &&
              t2i_styles_find(b, "油画") == s && t2i_styles_find(b, "  oil painting ") == s,
          "lookup by names");
    CHECK(t2i_styles_find(b, "赛博朋克") == t2i_styles_find(b, "cyberpunk") && t2i_styles_find(b, "cyberpunk"),
          "cyberpunk");
    CHECK(t2i_styles_find(b, "no such style") == NULL && t2i_styles_find(b, "") == NULL &&
              t2i_styles_find(b, NULL) == NULL,
          "unknown names");
}

static char *apply(const char *const *v, int n, const char *prompt, char **neg)
{
    char *p = NULL, *ng = NULL;
    t2i_status st = t2i_styles_apply(NULL, v, n, prompt, "ugly", &p, &ng);
    CHECK(st == T2I_OK, "apply: %s", t2i_last_error());
    if (neg) *neg = ng;
    else t2i_free(ng);
    return p;
}

static void test_apply(void)
{
    /* templates with {prompt} (the built-in ones all have it) */
    const char *oil[] = {"oil_painting"}, *serene[] = {"serene"};
    char *neg = NULL, *p = apply(oil, 1, "a cat", &neg);
    CHECK(p && !strcmp(p, "oil painting of a cat, thick brushstrokes, rich layered color, canvas texture"), "%s", p);
    CHECK(neg && !strcmp(neg, "ugly, photo, photorealistic, 3d render, lowres, blurry, jpeg artifacts, watermark, text"),
          "%s", neg);
    t2i_free(p), t2i_free(neg);
    p = apply(serene, 1, "a cat", NULL);
    CHECK(p && !strcmp(p, "a cat, serene mood, calm, peaceful, tranquil"), "%s", p);
    t2i_free(p);

    /* order independence */
    const char *orders[6][3] = {{"cyberpunk", "oil_painting", "serene"}, {"cyberpunk", "serene", "oil_painting"},
                                {"oil_painting", "cyberpunk", "serene"}, {"oil_painting", "serene", "cyberpunk"},
                                {"serene", "cyberpunk", "oil_painting"}, {"serene", "oil_painting", "cyberpunk"}};
    char *first = apply(orders[0], 3, "a cat", NULL);
    for (int i = 1; i < 6; i++) {
        p = apply(orders[i], 3, "a cat", NULL);
        CHECK(p && first && !strcmp(p, first), "order %d: %s vs %s", i, p, first);
        t2i_free(p);
    }
    printf("  3 styles, any order: %s\n", first);
    t2i_free(first);

    /* weights: order still irrelevant, the weight lands on the style's words */
    const char *w2[] = {"Serene", "cyberpunk:1.2"},
               *w3[] = {"serene", "赛博朋克：1.2"}, *w4[] = {"serene", "cyberpunk"};
    char *a = apply(w2, 2, "a cat", NULL), *b2 = apply(w3, 2, "a cat", NULL), *c = apply(w4, 2, "a cat", NULL);
    CHECK(a && b2 && c && !strcmp(a, b2) && strcmp(a, c), "weights: %s | %s | %s", a, b2, c);
    CHECK(a && strstr(a, "a cat, (cyberpunk, neon city, rain, high tech low life:1.2)"), "weighted: %s", a ? a : "");
    printf("  weighted: %s\n", a ? a : "");
    t2i_prompt_schedule s;
    if (a && t2i_prompt_parse(a, 1, &s, NULL) == T2I_OK) {
        int found = 0;
        for (int i = 0; i < s.parts[0].n; i++)
            found |= strstr(s.parts[0].v[i].text, "neon city") && s.parts[0].v[i].weight == 1.2;
        CHECK(found, "weight 1.2 not parsed back");
        t2i_prompt_schedule_free(&s);
    } else {
        CHECK(0, "weighted prompt does not parse: %s", t2i_last_error());
    }
    t2i_free(a), t2i_free(b2), t2i_free(c);

    /* errors */
    char *pp = NULL, *nn = NULL;
    const char *e1[] = {"no such style"}, *e2[] = {"cyberpunk", "Cyberpunk"}, *e3[] = {"cyberpunk:0"},
               *e4[] = {"cyberpunk:abc"}, *e5[] = {"cyberpunk:11"};
    CHECK(t2i_styles_apply(NULL, e1, 1, "x", NULL, &pp, &nn) == T2I_ERR_INVALID_ARG &&
              strstr(t2i_last_error(), "no such style"),
          "unknown: %s", t2i_last_error());
    CHECK(t2i_styles_apply(NULL, e2, 2, "x", NULL, &pp, &nn) == T2I_ERR_INVALID_ARG &&
              strstr(t2i_last_error(), "twice"),
          "twice: %s", t2i_last_error());
    CHECK(t2i_styles_apply(NULL, e3, 1, "x", NULL, &pp, &nn) == T2I_ERR_INVALID_ARG, "weight 0 accepted");
    CHECK(t2i_styles_apply(NULL, e4, 1, "x", NULL, &pp, &nn) == T2I_ERR_INVALID_ARG, "weight abc accepted");
    CHECK(t2i_styles_apply(NULL, e5, 1, "x", NULL, &pp, &nn) == T2I_ERR_INVALID_ARG, "weight 11 accepted");
    CHECK(pp == NULL && nn == NULL, "outputs set on error");
    CHECK(t2i_styles_apply(NULL, NULL, 0, "x", NULL, &pp, &nn) == T2I_OK && !strcmp(pp, "x") && !strcmp(nn, ""),
          "no styles");
    t2i_free(pp), t2i_free(nn);
}

static void test_csv(void)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/t2i_styles_%d.csv", (int)getpid());
    FILE *f = fopen(path, "w");
    fputs("name,prompt,negative_prompt\n"
          "Cinematic,\"cinematic still of {prompt}, \"\"moody\"\", film grain\",\"blurry, cartoon\"\n"
          "Fog Only,\"soft fog,\nhaze\",\n"
          "\n"
          "Plain,masterpiece,\n",
          f);
    fclose(f);
    t2i_styles *s = NULL;
    CHECK_OK(t2i_styles_load(path, &s));
    CHECK(t2i_styles_count(s) == 3, "%d rows", t2i_styles_count(s));
    const t2i_style *c = t2i_styles_find(s, "cinematic");
    CHECK(c && !strcmp(c->prompt, "cinematic still of {prompt}, \"moody\", film grain") &&
              !strcmp(c->negative_prompt, "blurry, cartoon") && !strcmp(c->category, "user"),
          "csv row: %s", c ? c->prompt : "");
    const t2i_style *fog = t2i_styles_find(s, "fog_only");
    CHECK(fog && !strcmp(fog->prompt, "soft fog,\nhaze") && !strcmp(fog->negative_prompt, ""), "multi-line field");
    const char *two[] = {"Plain", "Cinematic"};
    char *p = NULL, *n = NULL;
    CHECK_OK(t2i_styles_apply(s, two, 2, "a cat", "", &p, &n));
    CHECK(p && !strcmp(p, "cinematic still of a cat, \"moody\", film grain, masterpiece"), "%s", p);
    t2i_free(p), t2i_free(n);
    /* a template without {prompt} is appended after ", ", or alone */
    const char *plain[] = {"plain"};
    CHECK_OK(t2i_styles_apply(s, plain, 1, "  ", NULL, &p, &n));
    CHECK(p && !strcmp(p, "masterpiece") && n && !strcmp(n, ""), "empty prompt: '%s'", p);
    t2i_free(p), t2i_free(n);
    const char *plain_w[] = {"Plain:1.3"};
    CHECK_OK(t2i_styles_apply(s, plain_w, 1, "a cat", NULL, &p, &n));
    CHECK(p && !strcmp(p, "a cat, (masterpiece:1.3)"), "weighted append: '%s'", p);
    t2i_free(p), t2i_free(n);
    t2i_styles_destroy(s);

    f = fopen(path, "w");
    fputs("name,prompt,negative_prompt\nA,x,\nB,y,\na,z,\n", f);
    fclose(f);
    s = NULL;
    CHECK(t2i_styles_load(path, &s) == T2I_ERR_FORMAT && strstr(t2i_last_error(), "line 4"), "dup: %s",
          t2i_last_error());
    f = fopen(path, "w");
    fputs("name,prompt,negative_prompt\nA,\"x,\n", f);
    fclose(f);
    CHECK(t2i_styles_load(path, &s) == T2I_ERR_FORMAT && strstr(t2i_last_error(), "quote"), "quote: %s",
          t2i_last_error());
    CHECK(t2i_styles_load("/nonexistent/styles.csv", &s) == T2I_ERR_IO, "missing file");

    /* CR-only line endings (classic Mac): every lone CR ends a row, and the
     * row block must count them so (it overflowed the heap when it counted
     * LFs only); a tab in a later row does not make the file TSV */
    f = fopen(path, "wb");
    fputs("name,prompt,negative_prompt\rfirst,a {prompt}\rsecond,b {prompt}\r", f);
    for (int i = 0; i < 200; i++) fprintf(f, "row %d,x %d,\r", i, i);
    fclose(f);
    s = NULL;
    CHECK_OK(t2i_styles_load(path, &s));
    CHECK(t2i_styles_count(s) == 202, "CR-only catalog: %d rows, want 202", t2i_styles_count(s));
    const t2i_style *second = t2i_styles_find(s, "second"), *last = t2i_styles_find(s, "row 199");
    CHECK(second && !strcmp(second->prompt, "b {prompt}"), "CR-only catalog: row 'second'");
    CHECK(last && !strcmp(last->prompt, "x 199"), "CR-only catalog: last row");
    t2i_styles_destroy(s);
    f = fopen(path, "wb");
    fputs("name,prompt,negative_prompt\rfirst,a\tb {prompt},\r", f);
    fclose(f);
    s = NULL;
    CHECK_OK(t2i_styles_load(path, &s));
    CHECK(t2i_styles_count(s) == 1, "CR-only catalog with a tab: %d rows, want 1", t2i_styles_count(s));
    t2i_styles_destroy(s);
    unlink(path);
}

/* Random catalog files and style entries from a fixed seed: loads either
 * succeed with consistent rows or fail with a message, never crash. */
static void test_fuzz(void)
{
    static const char *atoms[] = {",", "\"", "\n", "\t", "a", "b", "猫", "{prompt}", "name,prompt,negative_prompt\n",
                                  ":", "\r\n", "\r", " ", "x\"y", "\nrow,{prompt} x,y", "\n\"q, 1\",\"{prompt}\nz\",",
                                  "\nk,v"};
    char path[64], buf[512];
    snprintf(path, sizeof path, "/tmp/t2i_styles_fuzz_%d.csv", (int)getpid());
    uint64_t x = 12345;
    int ok = 0, bad = 0, broken = 0;
    for (int it = 0; it < 400; it++) {
        size_t len = 0;
        if (it % 2) len = (size_t)snprintf(buf, sizeof buf, "name,prompt,negative_prompt\n");
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        int n = (int)((x >> 33) % 12);
        for (int k = 0; k < n; k++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            const char *a = atoms[(x >> 33) % (sizeof atoms / sizeof atoms[0])];
            if (len + strlen(a) >= sizeof buf) break;
            memcpy(buf + len, a, strlen(a));
            len += strlen(a);
        }
        FILE *f = fopen(path, "wb");
        fwrite(buf, 1, len, f);
        fclose(f);
        t2i_styles *s = NULL;
        if (t2i_styles_load(path, &s) == T2I_OK) {
            ok++;
            for (int i = 0; i < t2i_styles_count(s); i++) {
                const t2i_style *st = t2i_styles_get(s, i);
                if (!st->id[0] || t2i_styles_find(s, st->id) != st) broken++;
                char *p = NULL, *q = NULL;
                const char *one[1] = {st->id};
                if (t2i_styles_apply(s, one, 1, "p", "n", &p, &q) != T2I_OK) broken++;
                t2i_free(p), t2i_free(q);
            }
            t2i_styles_destroy(s);
        } else {
            bad++;
            if (!t2i_last_error()[0]) broken++;
        }
        /* the same bytes as one style entry */
        buf[len] = '\0';
        const char *e[1] = {buf};
        char *p = NULL, *q = NULL;
        if (t2i_styles_apply(NULL, e, 1, "p", "n", &p, &q) == T2I_OK && !p) broken++;
        t2i_free(p), t2i_free(q);
    }
    unlink(path);
    printf("  fuzz: 400 random catalogs, %d loaded, %d rejected\n", ok, bad);
    CHECK(broken == 0 && ok > 20 && bad > 20, "fuzz: %d broken (%d ok, %d rejected)", broken, ok, bad);
}

/* t2i_prompt_resolve: what txt2img draws with styles. */
static void test_resolve(void)
{
    t2i_txt2img_params p;
    t2i_txt2img_params_init(&p);
    const char *st[] = {"serene", "oil painting:1.1"};
    p.prompt = "a cat";
    p.negative_prompt = "ugly";
    p.styles = st;
    p.n_styles = 2;
    char *pr = NULL, *ng = NULL, *pr2 = NULL, *ng2 = NULL;
    CHECK_OK(t2i_prompt_resolve(NULL, &p, &pr, &ng));
    CHECK_OK(t2i_styles_apply(NULL, st, 2, "a cat", "ugly", &pr2, &ng2));
    CHECK(pr && pr2 && !strcmp(pr, pr2) && !strcmp(ng, ng2), "resolve %s vs %s", pr, pr2);
    t2i_free(pr), t2i_free(ng), t2i_free(pr2), t2i_free(ng2);
}

int main(void)
{
    test_catalog();
    test_lookup();
    test_apply();
    test_csv();
    test_fuzz();
    test_resolve();
    return test_finish();
}
