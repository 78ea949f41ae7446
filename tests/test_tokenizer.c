/*
 * test_tokenizer.c — the CLIP BPE tokenizer against transformers.
 *
 * For each vocabulary folder with a reference file in tests/fixtures/tokenizer/
 * (written by scripts/fixtures/fixtures_tokenizer.py from transformers' CLIPTokenizer),
 * every prompt must give EXACTLY the reference ids, both unpadded
 * (tokenizer(text).input_ids without BOS/EOS) and padded to 77. Then bad
 * input: missing / malformed vocabulary files and invalid UTF-8 prompts must
 * give a non-OK status with a message naming the file, line or byte offset.
 * The same corpora go through the tokenizer.json path (the only vocabulary
 * file transformers 5 writes): a folder holding tokenizer.json alone must give
 * exactly the same ids; for the real vocabulary, whose folder has no
 * tokenizer.json, one is written from vocab.json / merges.txt into the tiny
 * model's tokenizer.json (merges as "a b" strings, the older spelling). Bad
 * tokenizer.json input: an unsupported model type, normalizer, pre-tokenizer.
 * Finally it times tokenizing a ~77-token prompt.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/clip_bpe.h"
#include "tokenizer/text_norm.h"
#include "test_file.h"

static int failures;

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);             \
            fprintf(stderr, __VA_ARGS__);                                    \
            fprintf(stderr, "\n");                                           \
            failures++;                                                      \
        }                                                                    \
    } while (0)

static void print_ids(const char *label, const int32_t *ids, int n)
{
    fprintf(stderr, "  %s (%d):", label, n);
    for (int i = 0; i < n; i++) fprintf(stderr, " %d", ids[i]);
    fprintf(stderr, "\n");
}

static int json_ids(const cJSON *arr, int32_t *out, int cap)
{
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        if (n < cap) out[n] = (int32_t)e->valuedouble;
        n++;
    }
    return n;
}

/* Returns 1 if the fixture was found and checked. */
static int check_fixture_in(const char *fixture, const char *dir_override)
{
    char *text = read_all(fixture, NULL);
    if (!text) { printf("skip %s (not generated)\n", fixture); return 0; }
    cJSON *doc = cJSON_Parse(text);
    free(text);
    if (!doc) { CHECK(0, "%s: malformed JSON", fixture); return 0; }
    const char *dir = dir_override ? dir_override : cJSON_GetObjectItem(doc, "vocab_dir")->valuestring;
    t2i_clip_tokenizer *tok = NULL;
    t2i_status st = t2i_clip_tokenizer_load(dir, &tok);
    CHECK(st == T2I_OK, "%s: load failed: %s", dir, t2i_last_error());
    if (st != T2I_OK) { cJSON_Delete(doc); return 0; }

    CHECK(t2i_clip_bos(tok) == cJSON_GetObjectItem(doc, "bos_id")->valueint, "%s: bos", dir);
    CHECK(t2i_clip_eos(tok) == cJSON_GetObjectItem(doc, "eos_id")->valueint, "%s: eos", dir);
    CHECK(t2i_clip_pad(tok) == cJSON_GetObjectItem(doc, "pad_id")->valueint, "%s: pad %d", dir,
          t2i_clip_pad(tok));
    CHECK(t2i_clip_vocab_size(tok) == cJSON_GetObjectItem(doc, "vocab_size")->valueint,
          "%s: vocab size %d", dir, t2i_clip_vocab_size(tok));
    CHECK(t2i_clip_max_length(tok) == 77, "%s: max length %d", dir, t2i_clip_max_length(tok));

    int ncases = 0, bad = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases")) {
        const char *prompt = cJSON_GetObjectItem(c, "text")->valuestring;
        static int32_t want[4096], padded_want[77], padded[77];
        int nwant = json_ids(cJSON_GetObjectItem(c, "unpadded"), want, 4096);
        int npw = json_ids(cJSON_GetObjectItem(c, "padded"), padded_want, 77);
        ncases++;
        int32_t *ids = NULL;
        int n = 0;
        st = t2i_clip_tokenize(tok, prompt, &ids, &n);
        int same = st == T2I_OK && n == nwant - 2 && nwant <= 4096 &&
                   (n == 0 || memcmp(ids, want + 1, (size_t)n * sizeof *ids) == 0);
        if (!same && !bad++) {
            fprintf(stderr, "FAIL %s: first mismatch (unpadded) for text \"%s\" (%s)\n", dir, prompt,
                    st == T2I_OK ? "ids differ" : t2i_last_error());
            print_ids("want", want + 1, nwant - 2);
            print_ids("got ", ids, n);
        }
        free(ids);
        st = t2i_clip_encode_padded(tok, prompt, padded, 77);
        int psame = st == T2I_OK && npw == 77 && memcmp(padded, padded_want, sizeof padded) == 0;
        if (!psame && !bad++) {
            fprintf(stderr, "FAIL %s: first mismatch (padded) for text \"%s\"\n", dir, prompt);
            print_ids("want", padded_want, 77);
            print_ids("got ", padded, 77);
        }
        if (!same || !psame) failures++;
    }
    printf("%s: %d prompts, %d mismatches\n", dir, ncases, bad);
    CHECK(ncases >= 60, "%s: only %d prompts", fixture, ncases);
    t2i_clip_tokenizer_destroy(tok);
    cJSON_Delete(doc);
    return 1;
}

static int check_fixture(const char *fixture) { return check_fixture_in(fixture, NULL); }

/* ---- bad input ------------------------------------------------------------ */

static char tmpdir[] = "/tmp/t2i_tok_XXXXXX";

static void write_file(const char *name, const char *content, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    if (!f) { CHECK(0, "cannot write %s", path); return; }
    fwrite(content, 1, len, f);
    fclose(f);
}

static void remove_file(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    unlink(path);
}

static const char good_vocab[] =
    "{\"a\": 0, \"b\": 1, \"a</w>\": 2, \"b</w>\": 3, \"ab</w>\": 4, \"<|startoftext|>\": 5,"
    " \"<|endoftext|>\": 6}";
static const char good_merges[] = "#version: 0.2\na b</w>\n";

/* Load tmpdir with the given files and expect failure mentioning `needle`. */
static void expect_load_error(const char *label, const char *vocab, const char *merges, const char *needle)
{
    remove_file("vocab.json");
    remove_file("merges.txt");
    if (vocab) write_file("vocab.json", vocab, strlen(vocab));
    if (merges) write_file("merges.txt", merges, strlen(merges));
    t2i_clip_tokenizer *tok = (t2i_clip_tokenizer *)1;
    t2i_status st = t2i_clip_tokenizer_load(tmpdir, &tok);
    CHECK(st != T2I_OK, "%s: loaded", label);
    CHECK(tok == NULL, "%s: *out not NULL on failure", label);
    CHECK(strstr(t2i_last_error(), needle) != NULL, "%s: message \"%s\" lacks \"%s\"", label,
          t2i_last_error(), needle);
    printf("bad input ok: %-28s -> %s: %s\n", label, t2i_status_name(st), t2i_last_error());
}

static void check_bad_input(void)
{
    if (!mkdtemp(tmpdir)) { CHECK(0, "mkdtemp"); return; }
    expect_load_error("missing vocab.json", NULL, good_merges, "vocab.json");
    expect_load_error("missing merges.txt", good_vocab, NULL, "merges.txt");
    expect_load_error("malformed JSON", "{\"a\": 0, \"b\": ", good_merges, "vocab.json: malformed JSON");
    expect_load_error("vocab not an object", "[1, 2]", good_merges, "vocab.json");
    expect_load_error("non-integer id", "{\"a\": 0.5}", good_merges, "vocab.json");
    expect_load_error("negative id", "{\"a\": -1}", good_merges, "vocab.json");
    expect_load_error("merges line with one part", good_vocab, "#version: 0.2\na b</w>\nab\n",
                      "merges.txt:3");
    expect_load_error("merges line with three parts", good_vocab, "a b c\n", "merges.txt:1");
    expect_load_error("empty merges line", good_vocab, "a b</w>\n\n", "merges.txt:2");
    expect_load_error("merge part not in vocab", good_vocab, "a zz\n", "merges.txt:1");
    expect_load_error("merge result not in vocab", good_vocab, "b a</w>\n", "merges.txt:1");
    expect_load_error("no <|endoftext|>", "{\"a\": 0, \"<|startoftext|>\": 1}", "", "eos_token");

    write_file("vocab.json", good_vocab, strlen(good_vocab));
    write_file("merges.txt", good_merges, strlen(good_merges));
    write_file("tokenizer_config.json", "{\"pad_token\": ", 14);
    t2i_clip_tokenizer *tok = NULL;
    t2i_status st = t2i_clip_tokenizer_load(tmpdir, &tok);
    CHECK(st == T2I_ERR_FORMAT && strstr(t2i_last_error(), "tokenizer_config.json"),
          "malformed tokenizer_config.json: %s", t2i_last_error());
    remove_file("tokenizer_config.json");

    st = t2i_clip_tokenizer_load(tmpdir, &tok);
    CHECK(st == T2I_OK, "tiny vocabulary: %s", t2i_last_error());
    if (st == T2I_OK) {
        int32_t *ids = NULL, padded[8];
        int n = -1;
        /* "ab" merges to ab</w>; "c" is not in the vocabulary: unk (= eos) */
        st = t2i_clip_tokenize(tok, "ab ba c", &ids, &n);
        int32_t want[] = {4, 1, 2, 6};
        CHECK(st == T2I_OK && n == 4 && !memcmp(ids, want, sizeof want), "tiny vocabulary ids");
        free(ids);
        st = t2i_clip_encode_padded(tok, "ab", padded, 4);
        CHECK(st == T2I_OK && padded[0] == 5 && padded[1] == 4 && padded[2] == 6 && padded[3] == 6,
              "tiny vocabulary padded");
        CHECK(t2i_clip_encode_padded(tok, "ab", padded, 1) == T2I_ERR_INVALID_ARG, "max_len 1");

        static const struct { const char *text; const char *offset; } bad[] = {
            {"abc\x80", "offset 3"},               /* lone continuation byte */
            {"ab\xC3", "offset 2"},                /* truncated sequence */
            {"\xC0\xAF", "offset 0"},              /* overlong '/' */
            {"a\xED\xA0\x80", "offset 1"},         /* UTF-16 surrogate */
            {"aa\xF4\x90\x80\x80", "offset 2"},    /* above U+10FFFF */
            {"\xE4\xB8\x80\xFF", "offset 3"},      /* 0xFF after a valid CJK char */
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            ids = (int32_t *)1;
            st = t2i_clip_tokenize(tok, bad[i].text, &ids, &n);
            CHECK(st == T2I_ERR_INVALID_ARG && ids == NULL, "invalid UTF-8 #%zu accepted", i);
            CHECK(strstr(t2i_last_error(), bad[i].offset) != NULL, "invalid UTF-8 #%zu: \"%s\" lacks \"%s\"",
                  i, t2i_last_error(), bad[i].offset);
            st = t2i_clip_encode_padded(tok, bad[i].text, padded, 8);
            CHECK(st == T2I_ERR_INVALID_ARG, "invalid UTF-8 #%zu accepted (padded)", i);
        }
        printf("bad input ok: invalid UTF-8 prompt       -> %s\n", t2i_last_error());
        t2i_clip_tokenizer_destroy(tok);
    }
    t2i_clip_tokenizer_destroy(NULL);
    remove_file("vocab.json");
    remove_file("merges.txt");
    rmdir(tmpdir);
}

/* ---- speed ------------------------------------------------------------------ */

static void time_tokenize(void)
{
    t2i_clip_tokenizer *tok = NULL;
    if (t2i_clip_tokenizer_load("tests/fixtures/clip-vocab", &tok) != T2I_OK) return;
    const char *prompt =
        "a breathtaking matte painting of an ancient castle on a cliff above a stormy sea, "
        "dramatic lighting, volumetric clouds, god rays, highly detailed, intricate, 8k, "
        "trending on artstation, by greg rutkowski and alphonse mucha, octane render, "
        "unreal engine 5, cinematic composition, golden hour, sharp focus, masterpiece, "
        "best quality, ultra realistic";
    int32_t ids[77];
    int32_t *raw;
    int n;
    t2i_clip_tokenize(tok, prompt, &raw, &n);
    free(raw);
    struct timespec a, b;
    const int reps = 2000;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < reps; i++) t2i_clip_encode_padded(tok, prompt, ids, 77);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double us = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3 / reps;
    printf("speed: %d-token prompt (%zu bytes): %.1f us per encode_padded\n", n, strlen(prompt), us);
    t2i_clip_tokenizer_destroy(tok);
}

/* ---- tokenizer.json ------------------------------------------------------- */

static char jdir[] = "/tmp/t2i_tokjson_XXXXXX";

static void jwrite(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", jdir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "cannot write %s", path);
    if (f) fputs(text, f), fclose(f);
}

static void jremove(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", jdir, name);
    unlink(path);
}

/* jdir/tokenizer.json = the tiny model's, with the real vocabulary and
 * merges of tests/fixtures/clip-vocab (no tokenizer_config.json: defaults). */
static int write_real_tokenizer_json(void)
{
    char *tj = read_all("tests/fixtures/tiny-sd1/tokenizer/tokenizer.json", NULL);
    char *vj = read_all("tests/fixtures/clip-vocab/vocab.json", NULL);
    char *mt = read_all("tests/fixtures/clip-vocab/merges.txt", NULL);
    cJSON *root = tj ? cJSON_Parse(tj) : NULL, *vocab = vj ? cJSON_Parse(vj) : NULL;
    int ok = root && vocab && mt;
    if (ok) {
        cJSON *model = cJSON_GetObjectItem(root, "model");
        cJSON_ReplaceItemInObject(model, "vocab", vocab);
        vocab = NULL;
        cJSON *merges = cJSON_CreateArray();
        for (char *line = strtok(mt, "\n"); line; line = strtok(NULL, "\n"))
            if (strncmp(line, "#version", 8) != 0) cJSON_AddItemToArray(merges, cJSON_CreateString(line));
        cJSON_ReplaceItemInObject(model, "merges", merges);
        cJSON *added = cJSON_GetObjectItem(root, "added_tokens"), *e;
        cJSON_ArrayForEach(e, added) {
            const char *c = cJSON_GetObjectItem(e, "content")->valuestring;
            cJSON_SetNumberValue(cJSON_GetObjectItem(e, "id"), strcmp(c, "<|startoftext|>") == 0 ? 49406 : 49407);
        }
        char *out = cJSON_PrintUnformatted(root);
        jwrite("tokenizer.json", out);
        free(out);
    }
    cJSON_Delete(root);
    cJSON_Delete(vocab);
    free(tj), free(vj), free(mt);
    return ok;
}

/* jdir holds `from`'s tokenizer.json and tokenizer_config.json only. */
static int copy_json_only(const char *from)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tokenizer.json", from);
    char *tj = read_all(path, NULL);
    snprintf(path, sizeof path, "%s/tokenizer_config.json", from);
    char *tc = read_all(path, NULL);
    if (tj) jwrite("tokenizer.json", tj);
    if (tc) jwrite("tokenizer_config.json", tc);
    free(tj), free(tc);
    return tj != NULL;
}

static void expect_json_error(const char *label, const char *find, const char *replace, const char *needle)
{
    char *tj = read_all("tests/fixtures/tiny-sd1/tokenizer/tokenizer.json", NULL);
    char *at = tj ? strstr(tj, find) : NULL;
    CHECK(at != NULL, "%s: \"%s\" not in the fixture", label, find);
    if (!at) { free(tj); return; }
    size_t nf = strlen(find), nr = strlen(replace), n = strlen(tj);
    char *bad = malloc(n - nf + nr + 1);
    memcpy(bad, tj, (size_t)(at - tj));
    memcpy(bad + (at - tj), replace, nr);
    strcpy(bad + (at - tj) + nr, at + nf);
    jwrite("tokenizer.json", bad);
    free(bad), free(tj);
    t2i_clip_tokenizer *tok = NULL;
    t2i_status st = t2i_clip_tokenizer_load(jdir, &tok);
    CHECK(st != T2I_OK && !tok && strstr(t2i_last_error(), needle), "%s: status %d, \"%s\" lacks \"%s\"", label,
          (int)st, st ? t2i_last_error() : "", needle);
    if (st != T2I_OK) printf("bad input ok: %-28s -> %s\n", label, t2i_last_error());
    t2i_clip_tokenizer_destroy(tok);
}

static void check_tokenizer_json(void)
{
    CHECK(mkdtemp(jdir) != NULL, "mkdtemp");
    CHECK(write_real_tokenizer_json(), "cannot build the real vocabulary's tokenizer.json");
    CHECK(check_fixture_in("tests/fixtures/tokenizer/clip_ids.json", jdir), "real vocabulary via tokenizer.json");
    jremove("tokenizer.json");
    const char *tiny[][2] = {{"tests/fixtures/tokenizer/tiny_sd1_ids.json", "tests/fixtures/tiny-sd1/tokenizer"},
                             {"tests/fixtures/tokenizer/tiny_sd2_ids.json", "tests/fixtures/tiny-sd2/tokenizer"}};
    for (int i = 0; i < 2; i++) {
        CHECK(copy_json_only(tiny[i][1]), "%s: no tokenizer.json", tiny[i][1]);
        CHECK(check_fixture_in(tiny[i][0], jdir), "%s via tokenizer.json", tiny[i][1]);
    }
    copy_json_only("tests/fixtures/tiny-sd1/tokenizer");
    expect_json_error("unsupported model type", "\"type\": \"BPE\"", "\"type\": \"Unigram\"",
                      "key 'model.type': unsupported tokenizer model \"Unigram\"");
    expect_json_error("unsupported normalizer", "\"type\": \"Lowercase\"", "\"type\": \"NFKC\"",
                      "key 'normalizer.normalizers[2].type'");
    expect_json_error("byte-level prefix space", "\"add_prefix_space\": false", "\"add_prefix_space\": true",
                      "key 'pre_tokenizer.pretokenizers[1].add_prefix_space'");
    expect_json_error("unknown merge part", "[\n        \"i\",\n        \"n\"\n      ]",
                      "[\n        \"i\",\n        \"zzz\"\n      ]", "key 'model.merges[0]': merge part \"zzz\"");
    expect_json_error("lstrip added token", "\"lstrip\": false", "\"lstrip\": true", "\"lstrip\": true is not supported");
    jremove("tokenizer.json");
    jremove("tokenizer_config.json");
    rmdir(jdir);
}

static int segment_calls;
static int count_segment(void *ctx, const uint32_t *v, size_t n, t2i_id_buf *out)
{
    (void)ctx, (void)v, (void)out;
    segment_calls++;
    CHECK(n > 0, "added_split passed an empty run to its segment");
    return 1;
}

/* Empty text (an empty negative prompt) reaches the normalizers and the
 * added-token splitter as (NULL, 0): nothing is computed from the NULL
 * pointer (NULL + 0 is undefined; clang's UBSan stops there), no empty run
 * is passed on, and nothing is appended. */
static void check_empty_text(void)
{
    t2i_cp_buf cps = {0};
    CHECK(t2i_nfd_append(NULL, 0, &cps) == 1 && cps.n == 0 && !cps.v, "NFD of empty text");
    CHECK(t2i_nfc_append(NULL, 0, &cps) == 1 && cps.n == 0 && !cps.v, "NFC of empty text");
    uint32_t tok[] = {'<', '>'}, text[] = {'<', '>', '<', '>'};
    t2i_added_tokens added = {&(t2i_added_token){tok, 2, 7, 0}, 1};
    t2i_id_buf ids = {0};
    CHECK(t2i_added_split(&added, NULL, 0, 0, count_segment, NULL, &ids) == 1 && ids.n == 0,
          "added_split of empty text");
    CHECK(t2i_added_split(&added, text, 4, 0, count_segment, NULL, &ids) == 1 && ids.n == 2,
          "added_split of two added tokens: %zu ids", ids.n);
    CHECK(segment_calls == 0, "segment called %d times for no text between tokens", segment_calls);
    free(ids.v);
    printf("empty text ok: NFD, NFC and added-token split\n");
}

int main(void)
{
    int checked = 0;
    checked += check_fixture("tests/fixtures/tokenizer/clip_ids.json");
    checked += check_fixture("tests/fixtures/tokenizer/tiny_sd1_ids.json");
    checked += check_fixture("tests/fixtures/tokenizer/tiny_sd2_ids.json");
    CHECK(checked >= 1, "no fixture checked (clip_ids.json is required)");
    check_tokenizer_json();
    check_bad_input();
    check_empty_text();
    time_tokenize();
    if (failures) { printf("%d failures\n", failures); return 1; }
    printf("all tokenizer tests passed\n");
    return 0;
}
