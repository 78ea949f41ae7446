/*
 * infotext.c — build and parse the A1111 "parameters" text (see infotext.h).
 *
 * The parser reproduces A1111's Python: str.strip() and the regex \s use
 * Python's Unicode whitespace set; \w is approximated as ASCII letters,
 * digits, '_' and any non-ASCII code point that is not whitespace or
 * common punctuation (Latin-1, General Punctuation, CJK and full-width
 * punctuation blocks).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/error.h"
#include "product/infotext.h"
#include "base/strbuf.h"

/* ---- UTF-8 and Python character classes ----------------------------------- */

/* Decode the code point at s[*i] (lenient: a bad byte reads as itself). */
static unsigned cp_next(const char *s, size_t n, size_t *i)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned c = u[*i];
    size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
               : (c & 0xf8) == 0xf0 ? 4 : 1;
    if (len == 1 || n - *i < len) { (*i)++; return c; }
    unsigned cp = c & (0x7f >> len);
    for (size_t k = 1; k < len; k++) {
        if ((u[*i + k] & 0xc0) != 0x80) { (*i)++; return c; }
        cp = (cp << 6) | (u[*i + k] & 0x3f);
    }
    *i += len;
    return cp;
}

/* Start of the code point that ends just before byte `end`. */
static size_t cp_prev(const char *s, size_t end)
{
    size_t i = end - 1;
    while (i > 0 && end - i < 4 && ((unsigned char)s[i] & 0xc0) == 0x80) i--;
    return i;
}

/* Python's str.isspace() set. */
static int py_space(unsigned c)
{
    return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
           c == 0x202f || c == 0x205f || c == 0x3000;
}

static int py_word(unsigned c)
{
    if (c < 0x80)
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               c == '_';
    if (py_space(c)) return 0;
    if (c >= 0xa0 && c <= 0xbf)
        return c == 0xaa || c == 0xb2 || c == 0xb3 || c == 0xb5 || c == 0xb9 || c == 0xba ||
               c == 0xbc || c == 0xbd || c == 0xbe;
    if (c == 0xd7 || c == 0xf7) return 0;
    if (c >= 0x2000 && c <= 0x206f) return 0;
    if ((c >= 0x3000 && c <= 0x3004) || (c >= 0x3008 && c <= 0x3020) || c == 0x3030 ||
        (c >= 0x303d && c <= 0x303f))
        return 0;
    if ((c >= 0xff01 && c <= 0xff0f) || (c >= 0xff1a && c <= 0xff20) ||
        (c >= 0xff3b && c <= 0xff40) || (c >= 0xff5b && c <= 0xff65))
        return 0;
    return 1;
}

/* Python str.strip() on s[*b, *e). */
static void py_strip(const char *s, size_t *b, size_t *e)
{
    while (*b < *e) {
        size_t i = *b;
        if (!py_space(cp_next(s, *e, &i))) break;
        *b = i;
    }
    while (*e > *b) {
        size_t i = cp_prev(s, *e), j = i;
        if (j < *b || !py_space(cp_next(s, *e, &j))) break;
        *e = i;
    }
}

/* ---- format --------------------------------------------------------------- */

void t2i_infotext_init(t2i_infotext *it) { memset(it, 0, sizeof *it); }

/* A1111 quote(): JSON (ensure_ascii=False) if the value holds , : or \n. */
static void sb_quote(t2i_sbuf *b, const char *v)
{
    if (!strpbrk(v, ",:\n")) { t2i_sb_str(b, v); return; }
    t2i_sb_put(b, "\"", 1);
    for (const char *p = v; *p; p++) {
        unsigned char c = (unsigned char)*p;
        char esc[8];
        switch (c) {
        case '"': t2i_sb_str(b, "\\\""); break;
        case '\\': t2i_sb_str(b, "\\\\"); break;
        case '\n': t2i_sb_str(b, "\\n"); break;
        case '\r': t2i_sb_str(b, "\\r"); break;
        case '\t': t2i_sb_str(b, "\\t"); break;
        case '\b': t2i_sb_str(b, "\\b"); break;
        case '\f': t2i_sb_str(b, "\\f"); break;
        default:
            if (c < 0x20) { snprintf(esc, sizeof esc, "\\u%04x", c); t2i_sb_str(b, esc); }
            else t2i_sb_put(b, (const char *)&c, 1);
        }
    }
    t2i_sb_put(b, "\"", 1);
}

/* Python repr() of the float: the shortest digits that read back to the
 * same float, positional for 1e-4 <= |v| < 1e16, else d.ddde+XX. */
static void format_py_float(float v, char *out, size_t size)
{
    if (isnan(v)) { snprintf(out, size, "nan"); return; }
    if (isinf(v)) { snprintf(out, size, v < 0 ? "-inf" : "inf"); return; }
    if (v == 0) { snprintf(out, size, signbit(v) ? "-0.0" : "0.0"); return; }
    char e[32];
    for (int p = 1; p <= 9; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, (double)v);
        if (strtof(e, NULL) == v) break;
    }
    /* e = [-]d[.ddd]e[+-]XX */
    int neg = e[0] == '-';
    char digits[16];
    int nd = 0;
    const char *q = e + neg;
    for (; *q && *q != 'e'; q++)
        if (*q != '.') digits[nd++] = *q;
    int exp = atoi(q + 1);
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    digits[nd] = 0;
    char r[64];
    size_t o = 0;
    if (neg) r[o++] = '-';
    if (exp >= 16 || exp < -4) {
        r[o++] = digits[0];
        if (nd > 1) { r[o++] = '.'; memcpy(r + o, digits + 1, (size_t)nd - 1); o += (size_t)nd - 1; }
        o += (size_t)snprintf(r + o, sizeof r - o, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
    } else if (exp >= 0) {
        for (int i = 0; i <= exp; i++) r[o++] = i < nd ? digits[i] : '0';
        r[o++] = '.';
        if (nd > exp + 1) { memcpy(r + o, digits + exp + 1, (size_t)(nd - exp - 1)); o += (size_t)(nd - exp - 1); }
        else r[o++] = '0';
    } else {
        r[o++] = '0';
        r[o++] = '.';
        for (int i = 0; i < -exp - 1; i++) r[o++] = '0';
        memcpy(r + o, digits, (size_t)nd);
        o += (size_t)nd;
    }
    r[o] = 0;
    snprintf(out, size, "%s", r);
}

static void sb_param(t2i_sbuf *b, int *first, const char *key, const char *value, int quote)
{
    if (!*first) t2i_sb_str(b, ", ");
    *first = 0;
    t2i_sb_str(b, key);
    if (!value) return;
    t2i_sb_str(b, ": ");
    if (quote) sb_quote(b, value);
    else t2i_sb_str(b, value);
}

t2i_status t2i_infotext_format(const t2i_infotext *it, char **out)
{
    *out = NULL;
    for (int i = 0; i < it->n_extra; i++)
        if (!it->extra[i].key || !it->extra[i].key[0])
            return t2i_fail(T2I_ERR_INVALID_ARG, "infotext: extra #%d has no key", i);
    t2i_sbuf b = {0};
    char tmp[64];
    t2i_sb_str(&b, "");
    if (it->prompt) t2i_sb_str(&b, it->prompt);
    if (it->negative && it->negative[0]) {
        t2i_sb_str(&b, "\nNegative prompt: ");
        t2i_sb_str(&b, it->negative);
    }
    t2i_sb_str(&b, "\n");
    int first = 1;
    if (it->steps > 0) {
        snprintf(tmp, sizeof tmp, "%d", it->steps);
        sb_param(&b, &first, "Steps", tmp, 0);
    }
    if (it->sampler && it->sampler[0]) sb_param(&b, &first, "Sampler", it->sampler, 1);
    if (it->has_cfg) {
        format_py_float(it->cfg, tmp, sizeof tmp);
        sb_param(&b, &first, "CFG scale", tmp, 0);
    }
    if (it->has_seed) {
        snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)it->seed);
        sb_param(&b, &first, "Seed", tmp, 0);
    }
    if (it->width > 0 && it->height > 0) {
        snprintf(tmp, sizeof tmp, "%dx%d", it->width, it->height);
        sb_param(&b, &first, "Size", tmp, 0);
    }
    if (it->model && it->model[0]) sb_param(&b, &first, "Model", it->model, 1);
    for (int i = 0; i < it->n_extra; i++)
        sb_param(&b, &first, it->extra[i].key, it->extra[i].value, 1);
    if (b.oom) {
        free(b.p);
        return t2i_fail(T2I_ERR_NOMEM, "infotext: out of memory");
    }
    size_t s = 0, e = b.n;
    py_strip(b.p, &s, &e);
    memmove(b.p, b.p + s, e - s);
    b.p[e - s] = 0;
    *out = b.p;
    return T2I_OK;
}

/* ---- parse ---------------------------------------------------------------- */

typedef struct param_match { size_t k0, k1, v0, v1, end; } param_match;

/* One match of A1111's re_param at s[pos..n) (see infotext.h), or 0. */
static int match_param(const char *s, size_t n, size_t pos, param_match *m)
{
    size_t i = pos;
    while (i < n) {                                  /* \s* */
        size_t j = i;
        if (!py_space(cp_next(s, n, &j))) break;
        i = j;
    }
    if (i >= n) return 0;
    m->k0 = i;
    if (!py_word(cp_next(s, n, &i))) return 0;       /* \w */
    size_t run = 0;
    while (i < n) {                                  /* [\w \-/]+ */
        size_t j = i;
        unsigned c = cp_next(s, n, &j);
        if (!(py_word(c) || c == ' ' || c == '-' || c == '/')) break;
        i = j;
        run++;
    }
    if (run == 0 || i >= n || s[i] != ':') return 0;
    m->k1 = i++;
    while (i < n) {                                  /* \s* */
        size_t j = i;
        if (!py_space(cp_next(s, n, &j))) break;
        i = j;
    }
    m->v0 = i;
    if (i < n && s[i] == '"') {                      /* "(?:\\.|[^\\"])+" */
        size_t j = i + 1, body = 0;
        while (j < n && s[j] != '"') {
            if (s[j] == '\\') {
                if (j + 1 >= n) break;
                j += 2;
            } else {
                j++;
            }
            body++;
        }
        if (body > 0 && j < n && s[j] == '"' && (j + 1 == n || s[j + 1] == ',')) {
            m->v1 = j + 1;
            m->end = j + 1 < n ? j + 2 : n;
            return 1;
        }
    }
    const char *comma = memchr(s + i, ',', n - i);   /* [^,]* */
    m->v1 = comma ? (size_t)(comma - s) : n;
    m->end = comma ? m->v1 + 1 : n;
    return 1;
}

/* Find all matches (Python re.findall): calls fn for each; returns count. */
static int find_params(const char *s, size_t n, void (*fn)(void *, const char *, const param_match *),
                       void *user)
{
    int count = 0;
    size_t pos = 0;
    while (pos < n) {
        param_match m;
        if (match_param(s, n, pos, &m)) {
            count++;
            if (fn) fn(user, s, &m);
            pos = m.end;
        } else {
            cp_next(s, n, &pos);
        }
    }
    return count;
}

static void put_utf8(t2i_sbuf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) { u[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { u[0] = (char)(0xc0 | (cp >> 6)); u[1] = (char)(0x80 | (cp & 0x3f)); n = 2; }
    else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12)); u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f)); n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18)); u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); u[3] = (char)(0x80 | (cp & 0x3f)); n = 4;
    }
    t2i_sb_put(b, u, n);
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

/* json.loads of the JSON string literal s[0..n) (quotes included) into b;
 * 0 if it is not one (A1111 then keeps the raw text). */
static int json_unquote(const char *s, size_t n, t2i_sbuf *b)
{
    if (n < 2 || s[0] != '"' || s[n - 1] != '"') return 0;
    for (size_t i = 1; i < n - 1; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c < 0x20) return 0;
        if (c != '\\') { t2i_sb_put(b, (const char *)&c, 1); continue; }
        if (++i >= n - 1) return 0;
        switch (s[i]) {
        case '"': t2i_sb_str(b, "\""); break;
        case '\\': t2i_sb_str(b, "\\"); break;
        case '/': t2i_sb_str(b, "/"); break;
        case 'b': t2i_sb_str(b, "\b"); break;
        case 'f': t2i_sb_str(b, "\f"); break;
        case 'n': t2i_sb_str(b, "\n"); break;
        case 'r': t2i_sb_str(b, "\r"); break;
        case 't': t2i_sb_str(b, "\t"); break;
        case 'u': {
            unsigned cp, lo;
            if (n - 1 - (i + 1) < 4 || !hex4(s + i + 1, &cp)) return 0;
            i += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (n - 1 - (i + 1) < 6 || s[i + 1] != '\\' || s[i + 2] != 'u' ||
                    !hex4(s + i + 3, &lo) || lo < 0xdc00 || lo > 0xdfff)
                    return 0;   /* a lone surrogate cannot become UTF-8 */
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                i += 6;
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                return 0;
            }
            put_utf8(b, cp);
            break;
        }
        default: return 0;
        }
    }
    return 1;
}

typedef struct parse_state {
    t2i_infotext *it;
    t2i_infotext_kv *extra;
    int n_extra, cap_extra;
    int oom;
} parse_state;

static char *dup_range(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) { memcpy(p, s, n); p[n] = 0; }
    return p;
}

static int parse_int64(const char *v, long long lo, long long hi, long long *out)
{
    if (!*v) return 0;
    long long x = 0;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9' || x > (hi - (*p - '0')) / 10) return 0;
        x = x * 10 + (*p - '0');
    }
    if (x < lo) return 0;
    *out = x;
    return 1;
}

static int parse_u64(const char *v, uint64_t *out)
{
    if (!*v) return 0;
    uint64_t x = 0;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9' || x > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) return 0;
        x = x * 10 + (uint64_t)(*p - '0');
    }
    *out = x;
    return 1;
}

/* ^(\d+)x(\d+)$ with values that fit an int. */
static int parse_size(const char *v, int *w, int *h)
{
    const char *x = strchr(v, 'x');
    if (!x) return 0;
    char a[16];
    size_t n = (size_t)(x - v);
    if (n == 0 || n >= sizeof a) return 0;
    memcpy(a, v, n);
    a[n] = 0;
    long long ww, hh;
    if (!parse_int64(a, 0, 0x7fffffff, &ww) || !parse_int64(x + 1, 0, 0x7fffffff, &hh)) return 0;
    *w = (int)ww;
    *h = (int)hh;
    return 1;
}

/* Replace a string field of the struct (parse owns them). */
static void set_field(const char **field, char *v)
{
    free((char *)*field);
    *field = v;
}

static void on_param(void *user, const char *s, const param_match *m)
{
    parse_state *st = user;
    t2i_infotext *it = st->it;
    if (st->oom || m->v1 == m->v0) return;   /* A1111 drops empty values */
    t2i_sbuf vb = {0};
    if (!(s[m->v0] == '"' && s[m->v1 - 1] == '"' && json_unquote(s + m->v0, m->v1 - m->v0, &vb))) {
        vb.n = 0;
        t2i_sb_put(&vb, s + m->v0, m->v1 - m->v0);
    }
    t2i_sb_put(&vb, "", 0);
    char *key = dup_range(s + m->k0, m->k1 - m->k0);
    if (vb.oom || !key || !vb.p) goto oom;
    char *v = vb.p;
    long long ll;
    uint64_t u;
    float f;
    char *end;
    if (strcmp(key, "Steps") == 0 && parse_int64(v, 1, 0x7fffffff, &ll)) {
        it->steps = (int)ll;
    } else if (strcmp(key, "Sampler") == 0) {
        set_field(&it->sampler, v);
        v = NULL;
    } else if (strcmp(key, "CFG scale") == 0 && (f = strtof(v, &end), end != v && !*end)) {
        it->cfg = f;
        it->has_cfg = 1;
    } else if (strcmp(key, "Seed") == 0 && parse_u64(v, &u)) {
        it->seed = u;
        it->has_seed = 1;
    } else if (strcmp(key, "Size") == 0 && parse_size(v, &it->width, &it->height)) {
        ;
    } else if (strcmp(key, "Model") == 0) {
        set_field(&it->model, v);
        v = NULL;
    } else {
        if (st->n_extra == st->cap_extra) {
            int cap = st->cap_extra ? 2 * st->cap_extra : 8;
            t2i_infotext_kv *e = realloc(st->extra, (size_t)cap * sizeof *e);
            if (!e) goto oom;
            st->extra = e;
            st->cap_extra = cap;
            it->extra = e;
        }
        st->extra[st->n_extra].key = key;
        st->extra[st->n_extra].value = v;
        it->n_extra = ++st->n_extra;
        return;
    }
    free(key);
    free(v);
    return;
oom:
    st->oom = 1;
    free(key);
    free(vb.p);
}

void t2i_infotext_free(t2i_infotext *it)
{
    if (!it) return;
    free((char *)it->prompt);
    free((char *)it->negative);
    free((char *)it->sampler);
    free((char *)it->model);
    for (int i = 0; i < it->n_extra; i++) {
        free((char *)it->extra[i].key);
        free((char *)it->extra[i].value);
    }
    free((void *)it->extra);
    memset(it, 0, sizeof *it);
}

t2i_status t2i_infotext_parse(const char *text, t2i_infotext *it)
{
    t2i_infotext_init(it);
    size_t b = 0, e = strlen(text);
    py_strip(text, &b, &e);
    /* Lines of text[b, e); the last one holds the parameters if >= 3 match. */
    size_t last = e;
    while (last > b && text[last - 1] != '\n') last--;
    int have_lines = 1;
    size_t lines_end = e;
    if (find_params(text + last, e - last, NULL, NULL) >= 3) {
        have_lines = last > b;
        lines_end = last > b ? last - 1 : b;
    } else {
        last = e;
    }
    t2i_sbuf prompt = {0}, neg = {0};
    t2i_sb_str(&prompt, "");
    t2i_sb_str(&neg, "");
    int done_with_prompt = 0;
    for (size_t p = b; have_lines;) {
        const char *nl = memchr(text + p, '\n', lines_end - p);
        size_t lb = p, le = nl ? (size_t)(nl - text) : lines_end;
        py_strip(text, &lb, &le);
        if (le - lb >= 16 && strncmp(text + lb, "Negative prompt:", 16) == 0) {
            done_with_prompt = 1;
            lb += 16;
            py_strip(text, &lb, &le);
        }
        t2i_sbuf *dst = done_with_prompt ? &neg : &prompt;
        if (dst->n) t2i_sb_str(dst, "\n");
        t2i_sb_put(dst, text + lb, le - lb);
        if (!nl) break;
        p = (size_t)(nl - text) + 1;
    }
    it->prompt = prompt.p;
    it->negative = neg.p;
    if (prompt.oom || neg.oom) return t2i_fail(T2I_ERR_NOMEM, "infotext: out of memory");
    parse_state st = {.it = it};
    if (last < e) find_params(text + last, e - last, on_param, &st);
    if (st.oom) return t2i_fail(T2I_ERR_NOMEM, "infotext: out of memory");
    return T2I_OK;
}
