/*
 * test_infotext.c — A1111 "parameters" text: exact formatted strings
 * (expected values written by hand from A1111's create_infotext / quote()),
 * parsing as parse_generation_parameters does, and format -> parse -> format
 * round trips.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/error.h"
#include "product/infotext.h"

static int failures;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
            failures++;                                                               \
        }                                                                             \
    } while (0)

static const char *nz(const char *s) { return s ? s : ""; }

static void expect_format(const char *label, const t2i_infotext *it, const char *want)
{
    char *got = NULL;
    if (t2i_infotext_format(it, &got) != T2I_OK || strcmp(got, want) != 0) {
        fprintf(stderr, "FAIL format %s:\n  got  [%s]\n  want [%s]\n", label, nz(got), want);
        failures++;
    }
    free(got);
}

static t2i_infotext full(void)
{
    t2i_infotext it;
    t2i_infotext_init(&it);
    it.prompt = "a cat";
    it.negative = "blurry";
    it.steps = 20;
    it.sampler = "Euler a";
    it.has_cfg = 1;
    it.cfg = 7.5f;
    it.has_seed = 1;
    it.seed = 1234;
    it.width = 512;
    it.height = 512;
    it.model = "sd15";
    return it;
}

static void test_format(void)
{
    t2i_infotext it = full();
    expect_format("full", &it,
                  "a cat\nNegative prompt: blurry\n"
                  "Steps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 1234, Size: 512x512, Model: sd15");
    it.negative = "";
    expect_format("no negative", &it,
                  "a cat\nSteps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 1234, Size: 512x512, Model: sd15");

    /* CFG as Python's repr(float). */
    static const struct { float v; const char *s; } cfgs[] = {
        {7.0f, "7.0"}, {7.3f, "7.3"}, {12.25f, "12.25"}, {100.0f, "100.0"}, {0.0001f, "0.0001"},
        {1e-5f, "1e-05"}, {1e16f, "1e+16"}, {1.5f, "1.5"}, {0.0f, "0.0"}, {-2.5f, "-2.5"},
    };
    t2i_infotext c;
    t2i_infotext_init(&c);
    c.prompt = "p";
    c.has_cfg = 1;
    for (size_t i = 0; i < sizeof cfgs / sizeof *cfgs; i++) {
        char want[64];
        c.cfg = cfgs[i].v;
        snprintf(want, sizeof want, "p\nCFG scale: %s", cfgs[i].s);
        expect_format(cfgs[i].s, &c, want);
    }

    /* quote(): values with , : or newline become JSON strings. */
    t2i_infotext_kv extra[] = {
        {"Lora hashes", "x: 1, y: 2"},
        {"Note", "say \"hi\"\tnow\nback\\slash,"},
        {"中文键", "油画, 风格"},
        {"Plain", "has \"quotes\" only"},
        {"Flag", NULL},
    };
    it = full();
    it.model = "my, model";
    it.sampler = "DPM++ 2M Karras";
    it.extra = extra;
    it.n_extra = 5;
    expect_format("quoting", &it,
                  "a cat\nNegative prompt: blurry\n"
                  "Steps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7.5, Seed: 1234, Size: 512x512, "
                  "Model: \"my, model\", Lora hashes: \"x: 1, y: 2\", "
                  "Note: \"say \\\"hi\\\"\\tnow\\nback\\\\slash,\", 中文键: \"油画, 风格\", "
                  "Plain: has \"quotes\" only, Flag");

    /* Nothing set: just the prompt, stripped; all empty: "". */
    t2i_infotext_init(&c);
    c.prompt = "  spaced prompt \n";
    expect_format("prompt only", &c, "spaced prompt");
    t2i_infotext_init(&c);
    expect_format("empty", &c, "");
    c.steps = 5;
    c.has_seed = 1;
    c.seed = 18446744073709551615ull;
    expect_format("no prompt", &c, "Steps: 5, Seed: 18446744073709551615");

    t2i_infotext_kv bad[] = {{"", "v"}};
    c.extra = bad;
    c.n_extra = 1;
    char *out = (char *)1;
    CHECK(t2i_infotext_format(&c, &out) == T2I_ERR_INVALID_ARG && out == NULL);
}

static void test_parse(void)
{
    t2i_infotext it;
    CHECK(t2i_infotext_parse("a cat,\non a sofa\nNegative prompt: blurry,\nlow quality\n"
                             "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 42, "
                             "Size: 768x512, Model hash: abc123, Model: \"sd, 15\", "
                             "Lora hashes: \"a: 1, b: 2\", Version: v1.9.0",
                             &it) == T2I_OK);
    CHECK(strcmp(it.prompt, "a cat,\non a sofa") == 0);
    CHECK(strcmp(it.negative, "blurry,\nlow quality") == 0);
    CHECK(it.steps == 30 && strcmp(nz(it.sampler), "DPM++ 2M Karras") == 0);
    CHECK(it.has_cfg && it.cfg == 6.5f && it.has_seed && it.seed == 42);
    CHECK(it.width == 768 && it.height == 512 && strcmp(nz(it.model), "sd, 15") == 0);
    CHECK(it.n_extra == 3);
    if (it.n_extra == 3) {
        CHECK(strcmp(it.extra[0].key, "Model hash") == 0 && strcmp(it.extra[0].value, "abc123") == 0);
        CHECK(strcmp(it.extra[1].key, "Lora hashes") == 0 && strcmp(it.extra[1].value, "a: 1, b: 2") == 0);
        CHECK(strcmp(it.extra[2].key, "Version") == 0 && strcmp(it.extra[2].value, "v1.9.0") == 0);
    }
    t2i_infotext_free(&it);
    CHECK(it.prompt == NULL && it.n_extra == 0);

    /* A last line with fewer than 3 pairs is part of the prompt. */
    CHECK(t2i_infotext_parse("portrait\nstyle: oil, mood: calm", &it) == T2I_OK);
    CHECK(strcmp(it.prompt, "portrait\nstyle: oil, mood: calm") == 0 && it.steps == 0 &&
          it.n_extra == 0 && !it.has_seed);
    t2i_infotext_free(&it);

    /* Parameters only; CRLF line ends; per-line strip; empty value dropped;
     * unparsable known values kept as extras. */
    CHECK(t2i_infotext_parse("Steps: 5, Seed: 7, Model: , Size: big", &it) == T2I_OK);
    CHECK(strcmp(it.prompt, "") == 0 && strcmp(it.negative, "") == 0 && it.steps == 5 &&
          it.seed == 7 && it.model == NULL && it.width == 0);
    CHECK(it.n_extra == 1 && strcmp(it.extra[0].key, "Size") == 0 &&
          strcmp(it.extra[0].value, "big") == 0);
    t2i_infotext_free(&it);
    CHECK(t2i_infotext_parse("  line one  \r\n\r\n  line two\r\nNegative prompt:   bad  \r\n"
                             "Steps: x, Sampler: Euler, CFG scale: 7, Seed: -3\r\n", &it) == T2I_OK);
    CHECK(strcmp(it.prompt, "line one\n\nline two") == 0 && strcmp(it.negative, "bad") == 0);
    CHECK(it.steps == 0 && strcmp(nz(it.sampler), "Euler") == 0 && it.cfg == 7.0f && !it.has_seed);
    CHECK(it.n_extra == 2 && strcmp(it.extra[0].key, "Steps") == 0 &&
          strcmp(it.extra[0].value, "x") == 0 && strcmp(it.extra[1].value, "-3") == 0);
    t2i_infotext_free(&it);

    /* A bad JSON escape: A1111 keeps the raw text. A quote not followed by
     * a comma falls back to [^,]*. */
    CHECK(t2i_infotext_parse("p\nSteps: 1, Aa: \"bad \\q, escape\", Bb: \"x\" y, Cc: \"\\u4e2d\\ud83d\\ude00\"",
                             &it) == T2I_OK);
    CHECK(it.n_extra == 3);
    if (it.n_extra == 3) {
        CHECK(strcmp(it.extra[0].value, "\"bad \\q, escape\"") == 0);
        CHECK(strcmp(it.extra[1].value, "\"x\" y") == 0);
        CHECK(strcmp(it.extra[2].value, "中😀") == 0);
    }
    t2i_infotext_free(&it);

    /* Keys need two characters; trailing spaces stay in the key; non-ASCII
     * keys and full-width punctuation in values (checked against A1111's
     * Python on the same strings). */
    CHECK(t2i_infotext_parse("a\nSteps: 1, 中文键: \"油画, 风格\", x: y, Ab : c，d:e", &it) == T2I_OK);
    CHECK(strcmp(it.prompt, "a") == 0 && it.steps == 1 && it.n_extra == 2);
    if (it.n_extra == 2) {
        CHECK(strcmp(it.extra[0].key, "中文键") == 0 && strcmp(it.extra[0].value, "油画, 风格") == 0);
        CHECK(strcmp(it.extra[1].key, "Ab ") == 0 && strcmp(it.extra[1].value, "c，d:e") == 0);
    }
    t2i_infotext_free(&it);
    t2i_infotext_free(NULL);
}

static int same(const char *a, const char *b) { return strcmp(nz(a), nz(b)) == 0; }

static void round_trip(const char *label, const t2i_infotext *in)
{
    char *text = NULL, *again = NULL;
    t2i_infotext out;
    int ok = t2i_infotext_format(in, &text) == T2I_OK &&
             t2i_infotext_parse(text, &out) == T2I_OK;
    ok = ok && same(in->prompt, out.prompt) && same(in->negative, out.negative) &&
         (in->steps > 0 ? in->steps : 0) == out.steps && same(in->sampler, out.sampler) &&
         in->has_cfg == out.has_cfg && (!in->has_cfg || in->cfg == out.cfg) &&
         in->has_seed == out.has_seed && (!in->has_seed || in->seed == out.seed) &&
         in->width == out.width && in->height == out.height && same(in->model, out.model) &&
         in->n_extra == out.n_extra;
    for (int i = 0; ok && i < in->n_extra; i++)
        ok = same(in->extra[i].key, out.extra[i].key) && same(in->extra[i].value, out.extra[i].value);
    ok = ok && t2i_infotext_format(&out, &again) == T2I_OK && strcmp(text, again) == 0;
    if (!ok) {
        fprintf(stderr, "FAIL round trip %s: [%s] -> [%s]\n", label, nz(text), nz(again));
        failures++;
    }
    free(text);
    free(again);
    t2i_infotext_free(&out);
}

static void test_round_trips(void)
{
    t2i_infotext it = full();
    round_trip("full", &it);
    it.prompt = "一只橘猫，油画风格，(高质量:1.2)\n第二行: 细节, 光影";
    it.negative = "模糊\n低质量";
    it.cfg = 7.3f;
    it.seed = 18446744073709551615ull;
    it.sampler = "DPM++ 2M Karras";
    it.model = "taiyi, v0.1: \"zh\"";
    t2i_infotext_kv extra[] = {{"Hires upscale", "2"}, {"Lora hashes", "a: 1, b: 2"},
                               {"Note", "tab\there \\ and \"q\", done"}, {"中文", "值"}};
    it.extra = extra;
    it.n_extra = 4;
    round_trip("chinese + quoting", &it);
    it.negative = NULL;
    it.n_extra = 0;
    it.has_cfg = 0;
    round_trip("no negative, no cfg", &it);
    t2i_infotext_init(&it);
    it.prompt = "just a prompt";
    it.steps = 1;
    it.has_seed = 1;
    it.seed = 0;
    it.width = 64;
    it.height = 1024;
    round_trip("three params", &it);
}

int main(void)
{
    test_format();
    test_parse();
    test_round_trips();
    if (failures) { fprintf(stderr, "test_infotext: %d failure(s)\n", failures); return 1; }
    printf("test_infotext: all passed\n");
    return 0;
}
