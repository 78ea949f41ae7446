/*
 * test_expand.c — prompt expansion (product/expand.h).
 *
 * For English and Chinese prompts, with the tiny-sd1 tokenizer counting
 * tokens (exact) and without a model (estimate): the same seed gives the
 * same text, different seeds give different texts (at least 15 distinct of
 * 20 seeds), the result never exceeds the budget (checked with the same
 * counter, for budgets 8..75), always contains the user's text verbatim,
 * uses the prompt's language; a prompt over the budget comes back
 * unchanged; the style picked is in a category that fits the subject; and
 * t2i_prompt_resolve adds the style's negative prompt.
 */
#include "product/expand.h"
#include "runtime/model.h"
#include "product/styles.h"
#include "test_util.h"

static const char *const prompts[] = {"a cat", "a girl reading a book", "mountain lake", "a red dragon",
                                      "一只猫", "山水之间的小屋", "穿汉服的女孩", "一碗热腾腾的拉面", "a cup of coffee",
                                      "城市夜景"};

static void check_model(const t2i_model *m, const char *label)
{
    static const int budgets[] = {8, 12, 20, 30, 50, 75};
    int over = 0, dropped = 0, wrong_lang = 0, nondet = 0, same_as_input = 0, total = 0;
    for (size_t i = 0; i < sizeof prompts / sizeof prompts[0]; i++) {
        const char *pr = prompts[i];
        const int zh = t2i_expand_is_cjk(pr);
        for (size_t b = 0; b < sizeof budgets / sizeof budgets[0]; b++) {
            for (uint64_t seed = 1; seed <= 5; seed++) {
                char *a = NULL, *a2 = NULL;
                CHECK_OK(t2i_prompt_expand(m, pr, seed, budgets[b], &a, NULL));
                CHECK_OK(t2i_prompt_expand(m, pr, seed, budgets[b], &a2, NULL));
                if (!a || !a2) continue;
                total++;
                int n = t2i_expand_count_tokens(m, a);
                int base = t2i_expand_count_tokens(m, pr);
                if (n > budgets[b] && base <= budgets[b]) over++;
                if (!strstr(a, pr)) dropped++;
                if (strcmp(a, a2)) nondet++;
                if (!strcmp(a, pr)) same_as_input++;
                if (strcmp(a, pr) && (zh ? !strstr(a, "，") : (strstr(a, "，") || t2i_expand_is_cjk(a))))
                    wrong_lang++;
                t2i_free(a);
                t2i_free(a2);
            }
        }
    }
    printf("  %s: %d expansions: %d over budget, %d lost words, %d non-deterministic, %d wrong language, "
           "%d unchanged (budget too small)\n",
           label, total, over, dropped, nondet, wrong_lang, same_as_input);
    CHECK(over == 0 && dropped == 0 && nondet == 0 && wrong_lang == 0, "%s: expansion rules broken", label);
    CHECK(same_as_input < total / 3, "%s: %d of %d expansions added nothing", label, same_as_input, total);

    /* seeds differ */
    for (size_t i = 0; i < sizeof prompts / sizeof prompts[0]; i++) {
        char *outs[20];
        int distinct = 0;
        for (int s = 0; s < 20; s++) {
            outs[s] = NULL;
            CHECK_OK(t2i_prompt_expand(m, prompts[i], (uint64_t)s * 7919u + 1, 75, &outs[s], NULL));
            int dup = 0;
            for (int j = 0; j < s && outs[s]; j++) dup |= outs[j] && !strcmp(outs[j], outs[s]);
            distinct += !dup;
        }
        CHECK(distinct >= 15, "%s '%s': only %d distinct expansions of 20 seeds", label, prompts[i], distinct);
        for (int s = 0; s < 20; s++) t2i_free(outs[s]);
    }
}

static void check_examples(const t2i_model *m)
{
    const char *ex[] = {"a cat", "a lighthouse on a cliff", "一只猫", "雨中的古镇"};
    for (int i = 0; i < 4; i++)
        for (uint64_t seed = 1; seed <= 2; seed++) {
            char *o = NULL;
            const char *sid = NULL;
            CHECK_OK(t2i_prompt_expand(m, ex[i], seed, 75, &o, &sid));
            printf("  [seed %llu] %s -> %s   (style %s, %d tokens)\n", (unsigned long long)seed, ex[i], o ? o : "",
                   sid ? sid : "-", o ? t2i_expand_count_tokens(m, o) : 0);
            const t2i_style *st = sid ? t2i_styles_find(t2i_styles_builtin(), sid) : NULL;
            CHECK(!sid || st, "unknown style id %s", sid);
            if (st && t2i_expand_is_cjk(ex[i]))
                CHECK(o && strstr(o, st->name_zh), "Chinese expansion without the style's Chinese name: %s", o);
            t2i_free(o);
        }
}

static void check_rules(const t2i_model *m)
{
    CHECK(t2i_expand_subject("a cat on a sofa") == T2I_SUBJECT_ANIMAL, "cat");
    CHECK(t2i_expand_subject("一只猫") == T2I_SUBJECT_ANIMAL, "猫");
    CHECK(t2i_expand_subject("a red dragon") == T2I_SUBJECT_FANTASY, "dragon");
    CHECK(t2i_expand_subject("a girl with a cat") == T2I_SUBJECT_PERSON, "girl");
    CHECK(t2i_expand_subject("misty mountains") == T2I_SUBJECT_LANDSCAPE, "mountains");
    CHECK(t2i_expand_subject("一碗拉面") == T2I_SUBJECT_FOOD, "拉面");
    CHECK(t2i_expand_subject("zzz") == T2I_SUBJECT_GENERIC, "generic");
    CHECK(t2i_expand_is_cjk("a 猫") && !t2i_expand_is_cjk("a cat, café"), "cjk detection");

    /* over budget: unchanged; empty prompt: empty */
    const char *longp = "an extremely long and detailed prompt about a wooden cabin in a snowy forest at night";
    char *o = NULL;
    CHECK_OK(t2i_prompt_expand(m, longp, 3, 5, &o, NULL));
    CHECK(o && !strcmp(o, longp), "over-budget prompt changed: %s", o);
    t2i_free(o);
    CHECK_OK(t2i_prompt_expand(m, "   ", 3, 75, &o, NULL));
    CHECK(o && !strcmp(o, ""), "empty prompt expanded: '%s'", o);
    t2i_free(o);
    CHECK(t2i_prompt_expand(m, "x", 1, -1, &o, NULL) == T2I_ERR_INVALID_ARG, "negative budget accepted");

    /* the style fits the subject: a landscape gets no "material" style */
    const char *sid = NULL;
    for (uint64_t seed = 1; seed <= 30; seed++) {
        CHECK_OK(t2i_prompt_expand(m, "mountain lake", seed, 75, &o, &sid));
        const t2i_style *st = sid ? t2i_styles_find(t2i_styles_builtin(), sid) : NULL;
        CHECK(st && strcmp(st->category, "material") && strcmp(st->category, "lens"), "seed %llu: style %s",
              (unsigned long long)seed, st ? st->category : "none");
        t2i_free(o);
    }

    /* resolve: expansion + its style's negative; user styles suppress the pick */
    t2i_txt2img_params p;
    t2i_txt2img_params_init(&p);
    p.prompt = "a cat";
    p.negative_prompt = "ugly";
    p.expand = 1;
    p.seed = 42;
    char *pr = NULL, *ng = NULL, *ex = NULL;
    CHECK_OK(t2i_prompt_resolve(m, &p, &pr, &ng));
    CHECK_OK(t2i_prompt_expand(m, "a cat", 42, 0, &ex, &sid));
    const t2i_style *st = sid ? t2i_styles_find(t2i_styles_builtin(), sid) : NULL;
    CHECK(pr && ex && !strcmp(pr, ex), "resolve %s vs expand %s", pr, ex);
    CHECK(st && ng && strncmp(ng, "ugly, ", 6) == 0 && strstr(ng, st->negative_prompt), "negative: %s", ng);
    t2i_free(pr), t2i_free(ng), t2i_free(ex);
    const char *mine[] = {"watercolor painting"};
    p.styles = mine;
    p.n_styles = 1;
    CHECK_OK(t2i_prompt_resolve(m, &p, &pr, &ng));
    CHECK(pr && strncmp(pr, "watercolor painting of a cat", 28) == 0, "user style + expansion: %s", pr);
    t2i_free(pr), t2i_free(ng);
}

/* A whole (tiny, 2-step) txt2img run with styles and expansion: the
 * infotext carries the resolved prompt; a syntax error names its column. */
static void check_txt2img(t2i_model *m)
{
    t2i_txt2img_params p;
    t2i_txt2img_params_init(&p);
    const char *st[] = {"赛博朋克:1.1", "golden hour light"};
    p.prompt = "a (red:1.2) cat";
    p.negative_prompt = "blurry";
    p.styles = st;
    p.n_styles = 2;
    p.expand = 1;
    p.expand_max_tokens = 60;
    p.seed = 7;
    p.steps = 2;
    p.width = p.height = 64;
    char *pr = NULL, *ng = NULL;
    CHECK_OK(t2i_prompt_resolve(m, &p, &pr, &ng));
    t2i_image *imgs = NULL;
    int n = 0;
    CHECK_OK(t2i_txt2img(m, &p, &imgs, &n));
    if (n == 1 && pr && ng) {
        size_t lp = strlen(pr);
        CHECK(strncmp(imgs[0].infotext, pr, lp) == 0 && imgs[0].infotext[lp] == '\n' &&
                  strstr(imgs[0].infotext, ng),
              "infotext does not carry the resolved prompt:\n%s\nwant %s / %s", imgs[0].infotext, pr, ng);
        printf("  drawn: %s\n  negative: %s\n", pr, ng);
    }
    t2i_images_free(imgs, n);
    t2i_free(pr), t2i_free(ng);
    p.prompt = "a (red cat";
    p.expand = 0;
    CHECK(t2i_txt2img(m, &p, &imgs, &n) == T2I_ERR_INVALID_ARG && strstr(t2i_last_error(), "column 3"),
          "syntax error through txt2img: %s", t2i_last_error());
}

/* The feedback loop: likes recorded for one style of the "animal" class make
 * the expansion pick it far more often for animal prompts, the same way for
 * the same seed and preferences, and not for other classes. */
static void check_preferences(void)
{
    const char *liked = "ukiyo_e_revival";
    const t2i_style *sty = t2i_styles_find(t2i_styles_builtin(), liked);
    CHECK(sty != NULL, "style %s missing from the catalog", liked);
    CHECK(strcmp(t2i_prompt_subject("a cat on a sofa"), "animal") == 0, "subject of a cat: %s",
          t2i_prompt_subject("a cat on a sofa"));
    t2i_style_pref prefs[] = {{"animal", liked, 20.0f}, {"animal", "no_such_style", 50.0f}, {"food", liked, 0.0f}};
    int with = 0, without = 0, other = 0, same = 1;
    for (uint64_t seed = 0; seed < 200; seed++) {
        char *a = NULL, *b = NULL, *c = NULL, *d = NULL;
        const char *sa = NULL, *sb = NULL, *sc = NULL, *sd = NULL;
        CHECK_OK(t2i_prompt_expand_prefs(NULL, "a cat", seed, 75, 1, prefs, 3, &a, &sa));
        CHECK_OK(t2i_prompt_expand_prefs(NULL, "a cat", seed, 75, 1, prefs, 3, &b, &sb));
        CHECK_OK(t2i_prompt_expand_prefs(NULL, "a cat", seed, 75, 1, NULL, 0, &c, &sc));
        CHECK_OK(t2i_prompt_expand_prefs(NULL, "a bowl of ramen", seed, 75, 1, prefs, 3, &d, &sd));
        same &= a && b && !strcmp(a, b);
        with += sa && !strcmp(sa, liked);
        without += sc && !strcmp(sc, liked);
        other += sd && !strcmp(sd, liked);
        t2i_free(a), t2i_free(b), t2i_free(c), t2i_free(d);
    }
    printf("  '%s' chosen for 'a cat' in %d/200 seeds with a liking of 20, %d/200 without; for food %d/200\n", liked,
           with, without, other);
    CHECK(same, "preferences: not deterministic");
    /* weight 20 is odds of 20:1 for the liked style: 20/21 ≈ 95 % expected,
     * ≥ 85 % of 200 seeds asserted; without preferences it is one of
     * hundreds of fitting styles (≈ 0 times) */
    CHECK(with >= 170 && without <= 10, "liked style chosen %d times vs %d without", with, without);
    CHECK(other <= without + 5, "a liking for animals changed the food prompts: %d", other);
}

int main(void)
{
    t2i_engine *e = NULL;
    t2i_model *m = NULL;
    CHECK_OK(t2i_engine_create(NULL, &e));
    if (e) CHECK_OK(t2i_model_load(e, "tests/fixtures/tiny-sd1", &m));
    check_model(NULL, "estimate");
    if (m) check_model(m, "tiny-sd1 tokenizer");
    check_examples(NULL);
    check_rules(m);
    check_preferences();
    if (m) check_txt2img(m);
    /* a Chinese BERT model counts WordPiece tokens (one per character) */
    t2i_model *tai = NULL;
    if (e) CHECK_OK(t2i_model_load(e, "tests/fixtures/tiny-taiyi", &tai));
    if (tai) {
        check_model(tai, "tiny-taiyi WordPiece");
        char *o = NULL;
        CHECK_OK(t2i_prompt_expand(tai, "一只猫", 1, 40, &o, NULL));
        printf("  [taiyi, 40 tokens] 一只猫 -> %s (%d tokens)\n", o ? o : "", o ? t2i_expand_count_tokens(tai, o) : 0);
        CHECK(o && t2i_expand_count_tokens(tai, o) <= 40 && t2i_expand_count_tokens(tai, o) > 20, "taiyi budget");
        t2i_free(o);
    }
    t2i_model_destroy(tai);
    t2i_model_destroy(m);
    t2i_engine_destroy(e);
    return test_finish();
}
