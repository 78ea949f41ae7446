/*
 * test_formats.c — the model folders today's diffusers / transformers save
 * (tests/fixtures/formats/, scripts/fixtures/fixtures_formats.py):
 *
 *  - tiny-sd1-hf: tokenizer.json only, a DPM-Solver scheduler_config.json with
 *    "lambda_min_clipped": -Infinity, the UNet as the fp16 variant only, a
 *    safety checker and feature extractor named in model_index.json. Its
 *    10-step DPM++ 2M run must equal diffusers' run of the same folder within
 *    test_pipeline.c's rule (latents 1e-3 · max|ref|, image 1e-3 absolute).
 *  - taiyi-tokenizer-json: BertTokenizer saved by transformers 5 (tokenizer.json
 *    only) must give exactly the ids of the vocab.txt folder it was saved
 *    from, on every prompt of tests/fixtures/bert/ids.json.
 *  - Python's NaN / Infinity / -Infinity in JSON: read as such outside strings,
 *    never inside; bad variants named.
 */
#include <math.h>
#include "base/json_util.h"
#include "tokenizer/wordpiece.h"
#include "test_file.h"
#include "stage_util.h"

#define LATENT_REL_BOUND 1e-3
#define IMAGE_ABS_BOUND 1e-3

static void check_hf_folder(void)
{
    const char *dir = "tests/fixtures/formats/tiny-sd1-hf";
    t2i_engine *e = NULL;
    t2i_model *m = NULL;
    CHECK_OK(t2i_engine_create(NULL, &e));
    if (e) CHECK_OK(t2i_model_load(e, dir, &m));
    t2i_st_file *ref = NULL;
    CHECK_OK(t2i_st_open("tests/fixtures/formats/tiny-sd1-hf/ref/sampler_dpmpp_2m.safetensors", &ref));
    if (m && ref) {
        char stages[64];
        stages_path(stages, sizeof stages, "formats_hf");
        t2i_txt2img_params p;
        ref_params(&p, t2i_st_metadata(ref, "prompt"), t2i_st_metadata(ref, "negative_prompt"),
                   T2I_SAMPLER_DPMPP_2M, stages);
        t2i_image *imgs;
        int n;
        t2i_st_file *got = run_ref_txt2img(m, &p, &imgs, &n);
        if (got) {
            check_ref_tensor(ref, "latents", got, "latents", "tiny-sd1-hf dpmpp_2m latents", LATENT_REL_BOUND);
            check_ref_image(ref, got, "tiny-sd1-hf dpmpp_2m decoded image", "tiny-sd1-hf", IMAGE_ABS_BOUND);
            t2i_st_close(got);
        }
        t2i_images_free(imgs, n);
        unlink(stages);
    }
    t2i_st_close(ref);
    t2i_model_destroy(m);
    t2i_engine_destroy(e);
}

static void check_bert_json(void)
{
    t2i_wordpiece *a = NULL, *b = NULL;
    CHECK_OK(t2i_wordpiece_load("tests/fixtures/tiny-taiyi/tokenizer", &a));
    CHECK_OK(t2i_wordpiece_load("tests/fixtures/formats/taiyi-tokenizer-json", &b));
    size_t len = 0;
    char *json = read_all("tests/fixtures/bert/ids.json", &len);
    cJSON *doc = json ? cJSON_ParseWithLength(json, len) : NULL;
    CHECK(doc != NULL, "tests/fixtures/bert/ids.json");
    if (!a || !b || !doc) goto done;
    CHECK(t2i_wordpiece_vocab_size(a) == t2i_wordpiece_vocab_size(b) && t2i_wordpiece_cls(a) == t2i_wordpiece_cls(b) &&
              t2i_wordpiece_sep(a) == t2i_wordpiece_sep(b) && t2i_wordpiece_pad(a) == t2i_wordpiece_pad(b) &&
              t2i_wordpiece_unk(a) == t2i_wordpiece_unk(b) && t2i_wordpiece_max_length(a) == t2i_wordpiece_max_length(b),
          "vocabulary size / special tokens / max length differ");
    int cases = 0, same = 0;
    const cJSON *prompts = cJSON_GetObjectItem(doc, "texts"), *e;
    if (!prompts) prompts = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "variants"), 0), "cases");
    cJSON_ArrayForEach(e, prompts) {
        const cJSON *t = cJSON_IsString(e) ? e : cJSON_GetObjectItem(e, "text");
        if (!cJSON_IsString(t)) continue;
        int32_t *ia = NULL, *ib = NULL;
        int na = 0, nb = 0;
        t2i_status sa = t2i_wordpiece_tokenize(a, t->valuestring, &ia, &na);
        t2i_status sb = t2i_wordpiece_tokenize(b, t->valuestring, &ib, &nb);
        cases++;
        int eq = sa == sb && na == nb && (na == 0 || memcmp(ia, ib, (size_t)na * sizeof *ia) == 0);
        same += eq;
        CHECK(eq, "tokenizer.json ids differ from vocab.txt ids for \"%s\"", t->valuestring);
        free(ia), free(ib);
    }
    printf("  BERT tokenizer.json vs vocab.txt: %d/%d prompts give identical ids\n", same, cases);
    CHECK(cases >= 20, "only %d prompts", cases);
    t2i_wordpiece *c = NULL;
    /* an unsupported model type in a BERT folder is named */
    system("rm -rf /tmp/t2i_fmt_bert && mkdir /tmp/t2i_fmt_bert && sed 's/\"WordPiece\"/\"Unigram\"/' "
           "tests/fixtures/formats/taiyi-tokenizer-json/tokenizer.json > /tmp/t2i_fmt_bert/tokenizer.json");
    t2i_status st = t2i_wordpiece_load("/tmp/t2i_fmt_bert", &c);
    printf("  bad input: Unigram tokenizer.json -> %s\n", t2i_last_error());
    CHECK(st == T2I_ERR_UNSUPPORTED && !c && strstr(t2i_last_error(), "key 'model.type'") &&
              strstr(t2i_last_error(), "Unigram"),
          "Unigram model accepted or not named: %s", t2i_last_error());
    system("rm -rf /tmp/t2i_fmt_bert");
done:
    cJSON_Delete(doc);
    free(json);
    t2i_wordpiece_destroy(a);
    t2i_wordpiece_destroy(b);
}

static void check_python_numbers(void)
{
    static const char text[] =
        "{\"a\": -Infinity, \"b\": Infinity, \"c\": NaN, \"d\": [NaN, -Infinity], "
        "\"s\": \"NaN Infinity -Infinity \\\" NaN\", \"NaN\": 1.5, \"e\": 1e3}";
    cJSON *j = NULL;
    CHECK_OK(t2i_json_parse(text, strlen(text), "inline", &j));
    if (j) {
        const cJSON *a = cJSON_GetObjectItem(j, "a"), *b = cJSON_GetObjectItem(j, "b"), *c = cJSON_GetObjectItem(j, "c");
        const cJSON *d = cJSON_GetObjectItem(j, "d"), *s = cJSON_GetObjectItem(j, "s");
        CHECK(cJSON_IsNumber(a) && isinf(a->valuedouble) && a->valuedouble < 0, "-Infinity");
        CHECK(cJSON_IsNumber(b) && isinf(b->valuedouble) && b->valuedouble > 0, "Infinity");
        CHECK(cJSON_IsNumber(c) && isnan(c->valuedouble), "NaN");
        CHECK(cJSON_IsNumber(cJSON_GetArrayItem(d, 0)) && isnan(cJSON_GetArrayItem(d, 0)->valuedouble) &&
                  isinf(cJSON_GetArrayItem(d, 1)->valuedouble),
              "[NaN, -Infinity]");
        CHECK(cJSON_IsString(s) && strcmp(s->valuestring, "NaN Infinity -Infinity \" NaN") == 0,
              "words inside a string changed: %s", cJSON_IsString(s) ? s->valuestring : "?");
        CHECK(cJSON_GetObjectItem(j, "NaN") && cJSON_GetObjectItem(j, "NaN")->valuedouble == 1.5, "key \"NaN\"");
        CHECK(cJSON_GetObjectItem(j, "e")->valuedouble == 1000, "plain number");
        cJSON_Delete(j);
    }
    static const struct { const char *text, *frag; } bad[] = {
        {"{\"a\": NaNx}", "invalid JSON near byte"},
        {"{\"a\": infinity}", "invalid JSON near byte"},
        {"{\"a\": NaN, \"b\": \"\\u0001\"}", "\\u0001"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        j = NULL;
        t2i_status st = t2i_json_parse(bad[i].text, strlen(bad[i].text), "bad.json", &j);
        CHECK(st == T2I_ERR_FORMAT && !j && strstr(t2i_last_error(), bad[i].frag) &&
                  strstr(t2i_last_error(), "bad.json"),
              "%s: %s", bad[i].text, t2i_last_error());
        cJSON_Delete(j);
    }
    /* a NaN where the scheduler needs a number is refused naming the key */
    expect_bad("tests/fixtures/formats/tiny-sd1-hf",
               "sed -i 's/-Infinity/NaN/' scheduler/scheduler_config.json", T2I_ERR_INVALID_ARG, "lambda_min_clipped");
}

int main(void)
{
    check_python_numbers();
    check_bert_json();
    check_hf_folder();
    return test_finish();
}
