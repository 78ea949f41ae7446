/*
 * test_prompt_parse.c — the prompt language (tokenizer/prompt_parse.h).
 *
 * A table of prompts with their expected schedules, written as
 * "<end_at_step>:[text]*weight[text]/[text] <end_at_step>:…" ('/' = BREAK,
 * "*w" printed with %.5g and omitted for weight 1.0). The A1111 cases are
 * the doctests of A1111's prompt_parser.py (parse_prompt_attention and
 * get_learned_conditioning_prompt_schedules), so the semantics are A1111's;
 * the unbalanced house example is balanced here (unbalanced input is an
 * error in t2i). Then malformed prompts with their error column and byte,
 * exact weight bits, step → entry lookup, and a fuzz loop over random strings
 * from a fixed seed: every result is either a well-formed schedule or an
 * error pointing inside the input.
 *
 * tests/fixtures/prompts/a1111_parse.json: 400 random prompts of the
 * language parsed by A1111's own prompt_parser.py (schedules, then
 * parse_prompt_attention per entry; scripts/fixtures/fixtures_prompt_parse.py). Every
 * entry must match exactly: end steps, texts, weights bit for bit.
 */
#include <cjson/cJSON.h>
#include "test_util.h"
#include "tokenizer/prompt_parse.h"

static void serialize(const t2i_prompt_schedule *s, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < s->n && o < cap; i++) {
        o += snprintf(buf + o, cap - o, "%s%d:", i ? " " : "", s->end_at_step[i]);
        for (int j = 0; j < s->parts[i].n && o < cap; j++) {
            const t2i_prompt_segment *g = &s->parts[i].v[j];
            if (g->is_break) o += snprintf(buf + o, cap - o, "/");
            else if (g->weight == 1.0) o += snprintf(buf + o, cap - o, "[%s]", g->text);
            else o += snprintf(buf + o, cap - o, "[%s]*%.5g", g->text, g->weight);
        }
    }
}

static const struct { const char *prompt; int steps; const char *want; } good[] = {
    /* A1111 parse_prompt_attention doctests */
    {"normal text", 10, "10:[normal text]"},
    {"an (important) word", 10, "10:[an ][important]*1.1[ word]"},
    {"\\(literal\\]", 10, "10:[(literal]]"},
    {"(unnecessary)(parens)", 10, "10:[unnecessaryparens]*1.1"},
    {"a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).)", 10,
     "10:[a ][house]*1.573[ ]*1.1[on][ a ]*1.1[hill]*0.55[, sun, ]*1.1[sky]*1.4641[.]*1.1"},
    /* A1111 get_learned_conditioning_prompt_schedules doctests */
    {"test", 10, "10:[test]"},
    {"a [b:3]", 10, "3:[a ] 10:[a b]"},
    {"a [b: 3]", 10, "3:[a ] 10:[a b]"},
    {"a [[[b]]:2]", 10, "2:[a ] 10:[a ][b]*0.82645"},
    {"[(a:2):3]", 10, "3:[] 10:[a]*2"},
    {"a [b : c : 1] d", 10, "1:[a b  d] 10:[a  c  d]"},
    {"a[b:[c:d:2]:1]e", 10, "1:[abe] 2:[ace] 10:[ade]"},
    {"a [b:.5] c", 10, "5:[a  c] 10:[a b c]"},
    {"[a|(b:1.1)]", 4, "1:[a] 2:[b]*1.1 3:[a] 4:[b]*1.1"},
    {"[fe|]male", 3, "1:[female] 2:[male] 3:[female]"},
    {"[fe|||]male", 5, "1:[female] 2:[male] 3:[male] 4:[male] 5:[female]"},
    {"BREAK (:.7) a ", 4, "4:[]/[ a ]"},
    /* weights */
    {"(a:1.5)", 10, "10:[a]*1.5"},
    {"(a: 1.5 )", 10, "10:[a]*1.5"},
    {"(a:-1)", 10, "10:[a]*-1"},
    {"(a:b)", 10, "10:[a:b]*1.1"},
    {"(a:b:1.2)", 10, "10:[a:b]*1.2"},
    {"(16:9 frame)", 10, "10:[16:9 frame]*1.1"},
    {"((a) b)", 10, "10:[a]*1.21[ b]*1.1"},
    {"[a] [b]", 10, "10:[a]*0.90909[ ][b]*0.90909"},
    {"ratio 16:9, 10:30, note: 2 cats", 10, "10:[ratio 16:9, 10:30, note: 2 cats]"},
    {"a | b", 10, "10:[a | b]"},
    {"一只(猫:1.3)在[草地]上", 10, "10:[一只][猫]*1.3[在][草地]*0.90909[上]"},
    {"", 10, "10:[]"},
    {"()", 10, "10:[]"},
    {"(:1.2)", 10, "10:[]"},
    /* escapes */
    {"\\\\", 10, "10:[\\]"},
    {"a\\:1.2", 10, "10:[a:1.2]"},
    {"\\[a\\|b\\]", 10, "10:[[a|b]]"},
    {"trailing\\", 10, "10:[trailing\\]"},
    {"\\猫", 10, "10:[猫]"},
    /* BREAK */
    {"a BREAK b", 10, "10:[a]/[b]"},
    {"BREAK", 10, "10:[]/[]"},
    {"xBREAK BREAKx Break", 10, "10:[xBREAK BREAKx Break]"},
    {"a BREAK, b", 10, "10:[a]/[, b]"},
    {"a BREAK BREAK b", 10, "10:[a]/[]/[b]"},
    {"(a BREAK b)", 10, "10:[a]*1.1/[b]*1.1"},
    {"[a BREAK b:c:2]", 4, "2:[a]/[b] 4:[c]"},
    /* prompt editing schedules */
    {"[a:b:0.25]", 20, "5:[a] 20:[b]"},
    {"[a:b:25]", 20, "20:[a]"},
    {"[a:b:0.01]", 10, "10:[b]"},
    {"[a::3]", 10, "3:[a] 10:[]"},
    {"[a:b:1e0]", 10, "1:[a] 10:[b]"},
    {"[a:b:-2]", 10, "10:[b]"},
    {"[a:b:2.9]", 10, "2:[a] 10:[b]"},
    {"([a:b:2]:1.5)", 10, "2:[a]*1.5 10:[b]*1.5"},
    {"[a:(b:1.2):3] c", 10, "3:[a c] 10:[b]*1.2[ c]"},
    {"[a:b:0.5] [c|d]", 4, "1:[a c] 2:[a d] 3:[b c] 4:[b d]"},
};

static const struct { const char *prompt; size_t byte; int column; const char *msg; } bad[] = {
    {"(a", 0, 1, "unbalanced '('"},
    {"a)", 1, 2, "unbalanced ')'"},
    {"[a", 0, 1, "unbalanced '['"},
    {"a]", 1, 2, "unbalanced ']'"},
    {"(a]", 2, 3, "']' closes '('"},
    {"[a)", 2, 3, "')' closes '['"},
    {"x ((a) b", 2, 3, "unbalanced '('"},
    {"(a:1.2.3)", 3, 4, "bad weight '1.2.3'"},
    {"(a:)", 2, 3, "expected a weight"},
    {"(a:1e5)", 3, 4, "outside"},
    {"[a:b]", 3, 4, "bad number 'b'"},
    {"[a:b:c]", 5, 6, "bad number 'c'"},
    {"[a:b: 1x ]", 6, 7, "bad number '1x'"},
    {"[a:]", 3, 4, "expected a number"},
    {"[a:b:c:1]", 6, 7, "too many ':'"},
    {"[a|b:1]", 4, 5, "mixed"},
    {"cat:1.2", 3, 4, "outside parentheses"},
    {"(cat):1.5, dog", 5, 6, "write '(text:1.5)'"},
    {"猫:1.2", 3, 2, "outside parentheses"},
    {"一只猫 (cute", 10, 5, "unbalanced '('"},
    {"ok [猫|狗:2]", 11, 8, "mixed"},
};

static void test_table(void)
{
    char got[2048];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        t2i_prompt_schedule s;
        t2i_prompt_error e;
        t2i_status st = t2i_prompt_parse(good[i].prompt, good[i].steps, &s, &e);
        CHECK(st == T2I_OK, "'%s': %s", good[i].prompt, t2i_last_error());
        if (st != T2I_OK) continue;
        serialize(&s, got, sizeof got);
        CHECK(strcmp(got, good[i].want) == 0, "'%s':\n   got  %s\n   want %s", good[i].prompt, got, good[i].want);
        t2i_prompt_schedule_free(&s);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t2i_prompt_schedule s;
        t2i_prompt_error e;
        t2i_status st = t2i_prompt_parse(bad[i].prompt, 10, &s, &e);
        CHECK(st == T2I_ERR_INVALID_ARG, "'%s' parsed", bad[i].prompt);
        if (st != T2I_ERR_INVALID_ARG) {
            t2i_prompt_schedule_free(&s);
            continue;
        }
        CHECK(e.byte == bad[i].byte && e.column == bad[i].column && strstr(e.message, bad[i].msg),
              "'%s': byte %zu column %d '%s', want byte %zu column %d '%s'", bad[i].prompt, e.byte, e.column,
              e.message, bad[i].byte, bad[i].column, bad[i].msg);
        char col[32];
        snprintf(col, sizeof col, "column %d ", bad[i].column);
        CHECK(strstr(t2i_last_error(), col) != NULL, "message without column: %s", t2i_last_error());
        CHECK(s.n == 0 && s.parts == NULL, "schedule not empty after an error");
    }
    /* nesting limit */
    char deep[200];
    int n = 0;
    for (int i = 0; i < 40; i++) deep[n++] = '(';
    deep[n++] = 'a';
    for (int i = 0; i < 40; i++) deep[n++] = ')';
    deep[n] = '\0';
    t2i_prompt_schedule s;
    t2i_prompt_error e;
    CHECK(t2i_prompt_parse(deep, 10, &s, &e) == T2I_ERR_INVALID_ARG && strstr(e.message, "deeper"), "depth 40: %s",
          e.message);
    CHECK(t2i_prompt_parse("a", 0, &s, NULL) == T2I_ERR_INVALID_ARG, "steps 0 accepted");
}

/* Weights are the doubles A1111 computes: innermost multiplier first. */
static void test_weight_bits(void)
{
    t2i_prompt_schedule s;
    CHECK_OK(t2i_prompt_parse("a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).)", 1, &s, NULL));
    if (s.n == 1 && s.parts[0].n == 9) {
        const t2i_prompt_segment *v = s.parts[0].v;
        CHECK(v[1].weight == 1.5730000000000004, "house %.17g", v[1].weight);
        CHECK(v[3].weight == 1.0, "on %.17g", v[3].weight);
        CHECK(v[7].weight == 1.4641000000000006, "sky %.17g", v[7].weight);
    } else {
        CHECK(0, "house example: %d entries", s.n);
    }
    t2i_prompt_schedule_free(&s);
}

/* Step i (0-based) uses the first entry with i <= end_at_step (A1111). */
static void test_entry_lookup(void)
{
    t2i_prompt_schedule s;
    CHECK_OK(t2i_prompt_parse("[a:b:3]", 10, &s, NULL));
    for (int i = 0; i < 10 && s.n == 2; i++)
        CHECK(t2i_prompt_schedule_entry(&s, i) == (i <= 3 ? 0 : 1), "step %d -> %d", i,
              t2i_prompt_schedule_entry(&s, i));
    t2i_prompt_schedule_free(&s);
    t2i_prompt_schedule a, b;
    CHECK_OK(t2i_prompt_parse("x (y) [z]", 5, &a, NULL));
    CHECK_OK(t2i_prompt_parse("x (y)[z]", 5, &b, NULL));
    CHECK(a.n == 1 && b.n == 1 && t2i_prompt_segments_equal(&a.parts[0], &a.parts[0]) &&
              !t2i_prompt_segments_equal(&a.parts[0], &b.parts[0]),
          "segments_equal");
    t2i_prompt_schedule_free(&a);
    t2i_prompt_schedule_free(&b);
    CHECK(t2i_prompt_has_syntax("a (b)") && t2i_prompt_has_syntax("a BREAK b") && !t2i_prompt_has_syntax("a BREAKb") &&
              !t2i_prompt_has_syntax("a cat: 16:9"),
          "has_syntax");
}

static void test_fuzz(void)
{
    static const char *atoms[] = {"(", ")", "[", "]", ":", "|", "\\", " ", "a", "b", "BREAK", "1", ".", "5", "-",
                                  "e", ",", "猫", "0.3", ":1.2)", "[x:y:", "\xff", "\xe7\x8c"};
    const int n_atoms = sizeof atoms / sizeof atoms[0];
    uint64_t x = 0x9E3779B97F4A7C15ull;
    int ok = 0, errs = 0, bad_results = 0;
    char buf[256];
    for (int it = 0; it < 4000; it++) {
        size_t len = 0;
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        int n = (int)((x >> 33) % 40);
        for (int k = 0; k < n; k++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            const char *a = atoms[(x >> 33) % n_atoms];
            size_t l = strlen(a);
            if (len + l >= sizeof buf) break;
            memcpy(buf + len, a, l);
            len += l;
        }
        buf[len] = '\0';
        int steps = 1 + (int)((x >> 20) % 30);
        t2i_prompt_schedule s;
        t2i_prompt_error e;
        t2i_status st = t2i_prompt_parse(buf, steps, &s, &e);
        if (st == T2I_OK) {
            ok++;
            int good_sched = s.n >= 1 && s.end_at_step[s.n - 1] == steps;
            for (int i = 0; i < s.n; i++) {
                if (s.parts[i].n < 1 || (i && s.end_at_step[i] <= s.end_at_step[i - 1])) good_sched = 0;
                for (int j = 0; j < s.parts[i].n; j++)
                    if (!s.parts[i].v[j].text || !isfinite(s.parts[i].v[j].weight)) good_sched = 0;
            }
            if (!good_sched) bad_results++, fprintf(stderr, "fuzz: bad schedule for '%s'\n", buf);
            t2i_prompt_schedule_free(&s);
        } else {
            errs++;
            if (st != T2I_ERR_INVALID_ARG || e.byte > len || e.column < 1 || !e.message[0]) {
                bad_results++;
                fprintf(stderr, "fuzz: bad error for '%s': %s\n", buf, t2i_last_error());
            }
        }
    }
    printf("  fuzz: 4000 random prompts, %d parsed, %d rejected\n", ok, errs);
    CHECK(bad_results == 0 && ok > 100 && errs > 100, "fuzz: %d bad results (%d ok, %d errors)", bad_results, ok, errs);
}

static void test_a1111_fixture(void)
{
    FILE *f = fopen("tests/fixtures/prompts/a1111_parse.json", "rb");
    CHECK(f != NULL, "a1111_parse.json missing");
    if (!f) return;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    cJSON *root = cJSON_Parse(buf);
    CHECK(cJSON_IsArray(root), "a1111_parse.json is not a JSON array");
    int same = 0, total = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, root) {
        int steps = cJSON_GetArrayItem(row, 0)->valueint;
        const char *prompt = cJSON_GetArrayItem(row, 1)->valuestring;
        const cJSON *want = cJSON_GetArrayItem(row, 2);
        t2i_prompt_schedule s;
        total++;
        if (t2i_prompt_parse(prompt, steps, &s, NULL) != T2I_OK) {
            CHECK(0, "A1111 prompt rejected: '%s': %s", prompt, t2i_last_error());
            continue;
        }
        int ok = s.n == cJSON_GetArraySize(want);
        for (int i = 0; ok && i < s.n; i++) {
            const cJSON *e = cJSON_GetArrayItem(want, i), *segs = cJSON_GetArrayItem(e, 1);
            ok = s.end_at_step[i] == cJSON_GetArrayItem(e, 0)->valueint && s.parts[i].n == cJSON_GetArraySize(segs);
            for (int j = 0; ok && j < s.parts[i].n; j++) {
                const cJSON *g = cJSON_GetArrayItem(segs, j);
                const char *t = cJSON_GetArrayItem(g, 0)->valuestring;
                double w = cJSON_GetArrayItem(g, 1)->valuedouble;
                const t2i_prompt_segment *got = &s.parts[i].v[j];
                ok = got->is_break ? (w == -1 && !strcmp(t, "BREAK")) : (w == got->weight && !strcmp(t, got->text));
            }
        }
        if (ok) same++;
        else {
            char ser[4096];
            serialize(&s, ser, sizeof ser);
            CHECK(0, "differs from A1111 for '%s' (%d steps): got %s", prompt, steps, ser);
        }
        t2i_prompt_schedule_free(&s);
    }
    printf("  A1111 prompt_parser: %d of %d prompts identical\n", same, total);
    CHECK(total == 400, "%d fixture prompts", total);
    cJSON_Delete(root);
}

int main(void)
{
    test_table();
    test_a1111_fixture();
    test_weight_bits();
    test_entry_lookup();
    test_fuzz();
    return test_finish();
}
