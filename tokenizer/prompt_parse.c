/*
 * prompt_parse.c — recursive-descent parser for the prompt language described
 * in prompt_parse.h, then one flattening of the tree per schedule entry.
 *
 * The tree lives in one growable array of nodes linked by index (first
 * child, next sibling). Node kinds:
 *   SEQ    a sequence of children
 *   TEXT   unescaped literal text (BREAK is found in it when flattening)
 *   EMPH   one SEQ child, a multiplier (1.1, 1/1.1 or the written weight)
 *   EDIT   two SEQ children (from, to) and `when`
 *   ALT    n SEQ children
 * Flattening walks the tree for one step, keeps the stack of multipliers of
 * the enclosing EMPH nodes and multiplies them innermost first, as A1111's
 * multiply_range does when each bracket closes.
 */
#include "tokenizer/prompt_parse.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

#define MAX_WEIGHT 1e4

typedef enum { N_SEQ, N_TEXT, N_EMPH, N_EDIT, N_ALT } node_kind;

typedef struct node {
    node_kind kind;
    size_t at;          /* byte offset of the construct */
    double mult;        /* EMPH */
    double when;        /* EDIT: the number as written */
    int when_step;      /* EDIT: resolved for the run's step count */
    int child, last, next;
    char *text;         /* TEXT: unescaped, NUL-terminated */
} node;

typedef struct parser {
    const char *s;
    size_t n, pos;
    node *nodes;
    int n_nodes, cap_nodes;
    t2i_status st;
    t2i_prompt_error err;
} parser;

enum ctx { CTX_TOP, CTX_PAREN, CTX_BRACKET };

static int column_of(const char *s, size_t byte)
{
    int col = 1;
    for (size_t i = 0; i < byte; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) col++;
    return col;
}

static void fail_at(parser *p, size_t at, const char *fmt, ...) T2I_PRINTF(3, 4);
static void fail_at(parser *p, size_t at, const char *fmt, ...)
{
    if (p->st != T2I_OK) return;
    p->st = T2I_ERR_INVALID_ARG;
    p->err.byte = at;
    p->err.column = column_of(p->s, at);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err.message, sizeof p->err.message, fmt, ap);
    va_end(ap);
}

static int new_node(parser *p, node_kind k, size_t at)
{
    if (p->st != T2I_OK) return -1;
    if (p->n_nodes == p->cap_nodes) {
        int cap = p->cap_nodes ? p->cap_nodes * 2 : 32;
        node *v = realloc(p->nodes, (size_t)cap * sizeof *v);
        if (!v) {
            p->st = T2I_ERR_NOMEM;
            return -1;
        }
        p->nodes = v;
        p->cap_nodes = cap;
    }
    node *nd = &p->nodes[p->n_nodes];
    memset(nd, 0, sizeof *nd);
    nd->kind = k;
    nd->at = at;
    nd->child = nd->last = nd->next = -1;
    return p->n_nodes++;
}

static void add_child(parser *p, int parent, int child)
{
    if (parent < 0 || child < 0) return;
    node *pa = &p->nodes[parent];
    if (pa->last >= 0) p->nodes[pa->last].next = child;
    else pa->child = child;
    pa->last = child;
}

/* ---- numbers ------------------------------------------------------------- */

static int is_num_char(char c)
{
    return (c >= '0' && c <= '9') || c == '.' || c == '+' || c == '-' || c == 'e' || c == 'E';
}

/* lark's SIGNED_NUMBER over exactly s[0..len). */
static int parse_number(const char *s, size_t len, double *out)
{
    size_t i = 0, digits = 0;
    if (i < len && (s[i] == '+' || s[i] == '-')) i++;
    while (i < len && s[i] >= '0' && s[i] <= '9') i++, digits++;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') i++, digits++;
    }
    if (!digits) return 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t e = 0;
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') i++, e++;
        if (!e) return 0;
    }
    if (i != len || len > 63) return 0;
    char buf[64];
    memcpy(buf, s, len);
    buf[len] = '\0';
    *out = strtod(buf, NULL);
    return 1;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* ---- parsing ------------------------------------------------------------- */

static int parse_seq(parser *p, enum ctx ctx, int depth, size_t open_at);

/* Append literal bytes to the TEXT node at the end of seq (new if needed). */
static void text_append(parser *p, int seq, size_t at, const char *b, size_t len)
{
    if (p->st != T2I_OK) return;
    int t = p->nodes[seq].last;
    if (t < 0 || p->nodes[t].kind != N_TEXT) {
        t = new_node(p, N_TEXT, at);
        if (t < 0) return;
        add_child(p, seq, t);
    }
    size_t old = p->nodes[t].text ? strlen(p->nodes[t].text) : 0;
    char *s = realloc(p->nodes[t].text, old + len + 1);
    if (!s) {
        p->st = T2I_ERR_NOMEM;
        return;
    }
    memcpy(s + old, b, len);
    s[old + len] = '\0';
    p->nodes[t].text = s;
}

static size_t utf8_len(unsigned char c)
{
    return c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
}

/* "(" ... [":" number] ")": p->pos is just after "(". */
static int parse_paren(parser *p, int depth, size_t open_at)
{
    int e = new_node(p, N_EMPH, open_at);
    int seq = parse_seq(p, CTX_PAREN, depth + 1, open_at);
    if (p->st != T2I_OK) return -1;
    add_child(p, e, seq);
    p->nodes[e].mult = 1.1;
    if (p->pos < p->n && p->s[p->pos] == ':') {   /* parse_seq stopped at a weight */
        size_t i = p->pos + 1;
        while (i < p->n && is_space(p->s[i])) i++;
        size_t ns = i;
        while (i < p->n && is_num_char(p->s[i])) i++;
        size_t ne = i;
        while (i < p->n && is_space(p->s[i])) i++;
        double w = 0;
        if (ns == ne) {
            fail_at(p, p->pos, "expected a weight after ':' in '(text:weight)'");
            return -1;
        }
        if (!parse_number(p->s + ns, ne - ns, &w)) {
            fail_at(p, ns, "bad weight '%.*s' in '(text:weight)'", (int)(ne - ns), p->s + ns);
            return -1;
        }
        if (!isfinite(w) || fabs(w) > MAX_WEIGHT) {
            fail_at(p, ns, "weight %.*s outside -%g..%g", (int)(ne - ns), p->s + ns, MAX_WEIGHT, MAX_WEIGHT);
            return -1;
        }
        p->nodes[e].mult = w;
        p->pos = i;   /* at ')' */
    }
    if (p->pos >= p->n || p->s[p->pos] != ')') {
        fail_at(p, open_at, "unbalanced '(': no matching ')'");
        return -1;
    }
    p->pos++;
    return e;
}

/* "[" part (":" part){0,2} "]" or "[" part ("|" part)+ "]": pos after "[". */
static int parse_bracket(parser *p, int depth, size_t open_at)
{
    enum { MAX_PARTS = 64 };
    int parts[MAX_PARTS];
    size_t part_at[MAX_PARTS], part_end[MAX_PARTS];
    int n = 0;
    char sep = 0;
    for (;;) {
        size_t start = p->pos;
        int seq = parse_seq(p, CTX_BRACKET, depth + 1, open_at);
        if (p->st != T2I_OK) return -1;
        if (p->pos >= p->n) {
            fail_at(p, open_at, "unbalanced '[': no matching ']'");
            return -1;
        }
        char c = p->s[p->pos];
        if (n == MAX_PARTS) {
            fail_at(p, p->pos, "more than %d alternatives in '[a|b|...]'", MAX_PARTS);
            return -1;
        }
        parts[n] = seq;
        part_at[n] = start;
        part_end[n] = p->pos;
        n++;
        if (c == ':' || c == '|') {
            if (sep && sep != c) {
                fail_at(p, p->pos, "'%c' mixed with '%c' in one '[...]' (':' edits the prompt, '|' alternates)", c,
                        sep);
                return -1;
            }
            sep = c;
            if (c == ':' && n == 3) {
                fail_at(p, p->pos, "too many ':' in '[from:to:when]'");
                return -1;
            }
        }
        p->pos++;
        if (c == ']') break;
    }
    if (sep == '|') {
        int alt = new_node(p, N_ALT, open_at);
        for (int i = 0; i < n; i++) add_child(p, alt, parts[i]);
        return alt;
    }
    if (n == 1) {
        int e = new_node(p, N_EMPH, open_at);
        add_child(p, e, parts[0]);
        if (e >= 0) p->nodes[e].mult = 1.0 / 1.1;
        return e;
    }
    /* prompt editing: the last part is the number */
    size_t a = part_at[n - 1], b = part_end[n - 1];
    while (a < b && is_space(p->s[a])) a++;
    while (b > a && is_space(p->s[b - 1])) b--;
    double when = 0;
    if (a == b) {
        fail_at(p, part_end[n - 1], "expected a number (a step, or a fraction of the steps) in '[from:to:when]'");
        return -1;
    }
    if (!parse_number(p->s + a, b - a, &when)) {
        fail_at(p, a, "bad number '%.*s' in '[from:to:when]' (a step, or a fraction of the steps below 1)",
                (int)(b - a > 40 ? 40 : b - a), p->s + a);
        return -1;
    }
    int e = new_node(p, N_EDIT, open_at);
    if (e < 0) return -1;
    p->nodes[e].when = when;
    if (n == 3) {
        add_child(p, e, parts[0]);
        add_child(p, e, parts[1]);
    } else {
        add_child(p, e, new_node(p, N_SEQ, open_at));   /* empty "from" */
        add_child(p, e, parts[0]);
    }
    return e;
}

/* Returns a SEQ node; stops (without consuming) at the closer of ctx. */
static int parse_seq(parser *p, enum ctx ctx, int depth, size_t open_at)
{
    if (depth > T2I_PROMPT_MAX_DEPTH) {
        fail_at(p, open_at, "brackets nested deeper than %d", T2I_PROMPT_MAX_DEPTH);
        return -1;
    }
    int seq = new_node(p, N_SEQ, p->pos);
    while (p->st == T2I_OK && p->pos < p->n) {
        size_t at = p->pos;
        char c = p->s[at];
        if (c == '\\') {
            if (at + 1 >= p->n) {   /* trailing lone backslash: literal */
                text_append(p, seq, at, "\\", 1);
                p->pos++;
            } else {
                size_t l = utf8_len((unsigned char)p->s[at + 1]);
                if (at + 1 + l > p->n) l = p->n - at - 1;
                text_append(p, seq, at, p->s + at + 1, l);
                p->pos += 1 + l;
            }
        } else if (c == '(') {
            p->pos++;
            add_child(p, seq, parse_paren(p, depth, at));
        } else if (c == '[') {
            p->pos++;
            add_child(p, seq, parse_bracket(p, depth, at));
        } else if (c == ')') {
            if (ctx == CTX_PAREN) return seq;
            if (ctx == CTX_BRACKET) fail_at(p, at, "')' closes '[' at column %d", column_of(p->s, open_at));
            else fail_at(p, at, "unbalanced ')': no matching '('");
        } else if (c == ']') {
            if (ctx == CTX_BRACKET) return seq;
            if (ctx == CTX_PAREN) fail_at(p, at, "']' closes '(' at column %d", column_of(p->s, open_at));
            else fail_at(p, at, "unbalanced ']': no matching '['");
        } else if (c == '|' && ctx == CTX_BRACKET) {
            return seq;
        } else if (c == ':' && ctx == CTX_BRACKET) {
            return seq;
        } else if (c == ':' && ctx == CTX_PAREN) {
            /* a weight if ":<number characters or nothing>)" follows */
            size_t i = at + 1;
            while (i < p->n && is_space(p->s[i])) i++;
            while (i < p->n && is_num_char(p->s[i])) i++;
            while (i < p->n && is_space(p->s[i])) i++;
            if (i < p->n && p->s[i] == ')') return seq;
            text_append(p, seq, at, ":", 1);
            p->pos++;
        } else if (c == ':') {
            /* CTX_TOP: "word:1.2" is a weight without parentheses */
            unsigned char prev = at ? (unsigned char)p->s[at - 1] : 0;
            int wordish = (prev >= 'a' && prev <= 'z') || (prev >= 'A' && prev <= 'Z') || prev >= 0x80 ||
                          prev == ')' || prev == ']';
            size_t i = at + 1;
            while (i < p->n && is_num_char(p->s[i])) i++;
            double w;
            if (wordish && i > at + 1 && (i == p->n || is_space(p->s[i]) || p->s[i] == ',') &&
                parse_number(p->s + at + 1, i - at - 1, &w)) {
                fail_at(p, at, "weight ':%.*s' outside parentheses (write '(text:%.*s)')", (int)(i - at - 1),
                        p->s + at + 1, (int)(i - at - 1), p->s + at + 1);
            } else {
                text_append(p, seq, at, ":", 1);
                p->pos++;
            }
        } else {
            size_t e = at + 1;
            while (e < p->n && !strchr("\\()[]:|", p->s[e])) e++;
            text_append(p, seq, at, p->s + at, e - at);
            p->pos = e;
        }
    }
    return seq;
}

/* ---- flattening ---------------------------------------------------------- */

typedef struct flat {
    t2i_prompt_segments out;
    int cap;
    double mults[T2I_PROMPT_MAX_DEPTH + 2];
    int n_mults;
    char *run;              /* the current run of plain text */
    size_t run_n, run_cap, run_at;
    double run_w;
} flat;

static void push_segment(parser *p, flat *f, const char *text, size_t len, double w, int is_break, size_t at)
{
    if (p->st != T2I_OK) return;
    if (!is_break && fabs(w) > MAX_WEIGHT) {
        fail_at(p, at, "nested weights multiply to %g, outside -%g..%g", w, MAX_WEIGHT, MAX_WEIGHT);
        return;
    }
    t2i_prompt_segments *o = &f->out;
    if (!is_break && o->n > 0 && !o->v[o->n - 1].is_break && o->v[o->n - 1].weight == w) {
        t2i_prompt_segment *last = &o->v[o->n - 1];
        size_t old = strlen(last->text);
        char *s = realloc(last->text, old + len + 1);
        if (!s) {
            p->st = T2I_ERR_NOMEM;
            return;
        }
        memcpy(s + old, text, len);
        s[old + len] = '\0';
        last->text = s;
        return;
    }
    if (o->n == f->cap) {
        int cap = f->cap ? f->cap * 2 : 8;
        t2i_prompt_segment *v = realloc(o->v, (size_t)cap * sizeof *v);
        if (!v) {
            p->st = T2I_ERR_NOMEM;
            return;
        }
        o->v = v;
        f->cap = cap;
    }
    char *s = malloc(len + 1);
    if (!s) {
        p->st = T2I_ERR_NOMEM;
        return;
    }
    memcpy(s, text, len);
    s[len] = '\0';
    o->v[o->n++] = (t2i_prompt_segment){s, is_break ? 1.0 : w, is_break};
}

static int is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

/* A1111 splits each run of plain text of the resolved prompt (text between
 * bracket characters) with re.split(r"\s*\bBREAK\b\s*"), a BREAK marker
 * between the parts. A run here is the text of consecutive TEXT nodes not
 * separated by a bracket: edits and alternations resolve to their text, as
 * in A1111's resolved string. */
static void run_add(parser *p, flat *f, const char *text, double w, size_t at)
{
    if (p->st != T2I_OK) return;
    size_t n = strlen(text);
    if (f->run_n + n + 1 > f->run_cap) {
        size_t cap = f->run_cap ? f->run_cap * 2 : 64;
        while (cap < f->run_n + n + 1) cap *= 2;
        char *r = realloc(f->run, cap);
        if (!r) {
            p->st = T2I_ERR_NOMEM;
            return;
        }
        f->run = r;
        f->run_cap = cap;
    }
    if (!f->run_n) f->run_w = w, f->run_at = at;
    memcpy(f->run + f->run_n, text, n + 1);
    f->run_n += n;
}

static void run_flush(parser *p, flat *f)
{
    const char *s = f->run;
    size_t n = f->run_n, start = 0;
    if (!n) return;
    for (size_t i = 0; i + 5 <= n; i++) {
        if (memcmp(s + i, "BREAK", 5) || (i > 0 && is_word_byte((unsigned char)s[i - 1])) ||
            (i + 5 < n && is_word_byte((unsigned char)s[i + 5])))
            continue;
        size_t a = i, b = i + 5;
        while (a > start && is_space(s[a - 1])) a--;
        while (b < n && is_space(s[b])) b++;
        push_segment(p, f, s + start, a - start, f->run_w, 0, f->run_at);
        push_segment(p, f, "", 0, 1.0, 1, f->run_at);
        start = b;
        i = b - 1;
    }
    push_segment(p, f, s + start, n - start, f->run_w, 0, f->run_at);
    f->run_n = 0;
}

static void flatten(parser *p, flat *f, int id, int step)
{
    if (id < 0 || p->st != T2I_OK) return;
    const node *nd = &p->nodes[id];
    switch (nd->kind) {
    case N_SEQ:
        for (int c = nd->child; c >= 0; c = p->nodes[c].next) flatten(p, f, c, step);
        break;
    case N_TEXT: {
        double w = 1.0;   /* innermost multiplier first, as A1111 */
        for (int i = f->n_mults - 1; i >= 0; i--) w *= f->mults[i];
        if (f->run_n && w != f->run_w) run_flush(p, f);
        run_add(p, f, nd->text ? nd->text : "", w, nd->at);
        break;
    }
    case N_EMPH:   /* its brackets end the run of text on both sides */
        run_flush(p, f);
        f->mults[f->n_mults++] = nd->mult;
        flatten(p, f, nd->child, step);
        run_flush(p, f);
        f->n_mults--;
        break;
    case N_EDIT: {
        int from = nd->child, to = from >= 0 ? p->nodes[from].next : -1;
        flatten(p, f, step <= nd->when_step ? from : to, step);
        break;
    }
    case N_ALT: {
        int k = 0;
        for (int c = nd->child; c >= 0; c = p->nodes[c].next) k++;
        int pick = k ? (step - 1) % k : 0, c = nd->child;
        while (pick-- > 0) c = p->nodes[c].next;
        flatten(p, f, c, step);
        break;
    }
    }
}

/* ---- schedule -------------------------------------------------------------- */

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void segments_free(t2i_prompt_segments *s)
{
    for (int i = 0; i < s->n; i++) free(s->v[i].text);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

void t2i_prompt_schedule_free(t2i_prompt_schedule *s)
{
    if (!s) return;
    for (int i = 0; s->parts && i < s->n; i++) segments_free(&s->parts[i]);
    free(s->parts);
    free(s->end_at_step);
    memset(s, 0, sizeof *s);
}

t2i_status t2i_prompt_parse(const char *utf8, int steps, t2i_prompt_schedule *out, t2i_prompt_error *err)
{
    memset(out, 0, sizeof *out);
    if (err) memset(err, 0, sizeof *err);
    if (!utf8) return t2i_fail(T2I_ERR_INVALID_ARG, "prompt: NULL text");
    if (steps < 1) return t2i_fail(T2I_ERR_INVALID_ARG, "prompt: steps %d < 1", steps);
    parser p = {.s = utf8, .n = strlen(utf8)};
    if (p.n > T2I_PROMPT_MAX_BYTES) {
        fail_at(&p, T2I_PROMPT_MAX_BYTES, "prompt longer than %d bytes", T2I_PROMPT_MAX_BYTES);
    }
    int root = p.st == T2I_OK ? parse_seq(&p, CTX_TOP, 0, 0) : -1;

    /* switch points: every edit's resolved step, every step for alternation */
    int *pts = NULL, n_pts = 0;
    if (p.st == T2I_OK) {
        int cap = 1;
        for (int i = 0; i < p.n_nodes; i++) cap += p.nodes[i].kind == N_EDIT ? 1 : p.nodes[i].kind == N_ALT ? steps : 0;
        pts = malloc((size_t)cap * sizeof *pts);
        if (!pts) p.st = T2I_ERR_NOMEM;
    }
    int has_alt = 0;
    for (int i = 0; p.st == T2I_OK && i < p.n_nodes; i++) {
        node *nd = &p.nodes[i];
        if (nd->kind == N_ALT && !has_alt) {
            has_alt = 1;
            for (int t = 1; t <= steps; t++) pts[n_pts++] = t;
        } else if (nd->kind == N_EDIT) {
            double v = nd->when < 1 ? nd->when * steps : nd->when;
            nd->when_step = v >= steps ? steps : v <= -1 ? -1 : (int)v;   /* int() truncates toward 0 */
            if (nd->when_step >= 1) pts[n_pts++] = nd->when_step;
        }
    }
    if (p.st == T2I_OK) {
        pts[n_pts++] = steps;
        qsort(pts, (size_t)n_pts, sizeof *pts, cmp_int);
        int u = 0;
        for (int i = 0; i < n_pts; i++)
            if (!u || pts[i] != pts[u - 1]) pts[u++] = pts[i];
        n_pts = u;
        out->end_at_step = malloc((size_t)n_pts * sizeof *out->end_at_step);
        out->parts = calloc((size_t)n_pts, sizeof *out->parts);
        if (!out->end_at_step || !out->parts) p.st = T2I_ERR_NOMEM;
    }
    for (int i = 0; p.st == T2I_OK && i < n_pts; i++) {
        flat f = {.out = {NULL, 0}};
        flatten(&p, &f, root, pts[i]);
        run_flush(&p, &f);
        free(f.run);
        if (p.st == T2I_OK && f.out.n == 0) push_segment(&p, &f, "", 0, 1.0, 0, 0);
        out->end_at_step[i] = pts[i];
        out->parts[i] = f.out;
        out->n = i + 1;
    }
    free(pts);
    for (int i = 0; i < p.n_nodes; i++) free(p.nodes[i].text);
    free(p.nodes);
    if (p.st == T2I_OK) return T2I_OK;
    t2i_prompt_schedule_free(out);
    if (p.st == T2I_ERR_NOMEM) return t2i_fail(T2I_ERR_NOMEM, "prompt: out of memory");
    if (err) *err = p.err;
    return t2i_fail(p.st, "prompt: column %d (byte %zu): %s", p.err.column, p.err.byte, p.err.message);
}

int t2i_prompt_schedule_entry(const t2i_prompt_schedule *s, int step)
{
    for (int i = 0; i < s->n; i++)
        if (step <= s->end_at_step[i]) return i;
    return s->n - 1;
}

int t2i_prompt_segments_equal(const t2i_prompt_segments *a, const t2i_prompt_segments *b)
{
    if (a->n != b->n) return 0;
    for (int i = 0; i < a->n; i++)
        if (a->v[i].is_break != b->v[i].is_break || a->v[i].weight != b->v[i].weight ||
            strcmp(a->v[i].text, b->v[i].text))
            return 0;
    return 1;
}

int t2i_prompt_has_syntax(const char *utf8)
{
    if (!utf8) return 0;
    for (const char *c = utf8; *c; c++)
        if (strchr("()[]\\", *c)) return 1;
    const char *b = utf8;
    while ((b = strstr(b, "BREAK")) != NULL) {
        if ((b == utf8 || !is_word_byte((unsigned char)b[-1])) && !is_word_byte((unsigned char)b[5])) return 1;
        b += 5;
    }
    return 0;
}
