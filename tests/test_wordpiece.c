/*
 * test_wordpiece.c — the WordPiece tokenizer against transformers'
 * BertTokenizer: exact ids for every prompt of tests/fixtures/bert/ids.json
 * (written by scripts/fixtures/fixtures_bert.py: Chinese, English, mixed, white space,
 * control characters, special tokens in the text, over-long words) under
 * every tokenizer variant there (cased / uncased, accents kept or stripped,
 * Chinese characters not split, added tokens, a hand-made vocab.txt with
 * CRLF lines, trailing white space and duplicates); then bad input, and
 * random text (valid and invalid UTF-8) that must give valid ids or a clean
 * error, never a crash (run under T2I_SANITIZE=ON for memory errors).
 */
#include <cjson/cJSON.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tokenizer/wordpiece.h"
#include "test_file.h"
#include "test_util.h"

static void spit(const char *path, const char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "cannot write %s", path);
    if (!f) return;
    fwrite(data, 1, n, f);
    fclose(f);
}

/* A scratch tokenizer folder with the given vocab.txt and config text. */
static void make_dir(const char *dir, const char *vocab, size_t vocab_len, const char *config)
{
    char path[512];
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    if (vocab) spit(path, vocab, vocab_len);
    else unlink(path);
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    if (config) spit(path, config, strlen(config));
    else unlink(path);
}

static void remove_dir(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    unlink(path);
    rmdir(dir);
}

static int ids_equal(const cJSON *want, const int32_t *got, int n)
{
    if (cJSON_GetArraySize(want) != n) return 0;
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, want) if (e->valueint != got[i++]) return 0;
    return 1;
}

static void check_variant(const cJSON *v, const char *bert_vocab, size_t bert_len, int padded_len, const char *dir)
{
    const char *name = cJSON_GetObjectItem(v, "name")->valuestring;
    const char *vocab = cJSON_GetObjectItem(v, "vocab")->valuestring;
    char *config = cJSON_PrintUnformatted(cJSON_GetObjectItem(v, "config"));
    int real = strcmp(vocab, "bert") == 0;
    make_dir(dir, real ? bert_vocab : vocab, real ? bert_len : strlen(vocab), config);
    free(config);
    t2i_wordpiece *t = NULL;
    CHECK_OK(t2i_wordpiece_load(dir, &t));
    if (!t) return;
    CHECK(t2i_wordpiece_cls(t) == cJSON_GetObjectItem(v, "cls_id")->valueint &&
              t2i_wordpiece_sep(t) == cJSON_GetObjectItem(v, "sep_id")->valueint &&
              t2i_wordpiece_pad(t) == cJSON_GetObjectItem(v, "pad_id")->valueint &&
              t2i_wordpiece_unk(t) == cJSON_GetObjectItem(v, "unk_id")->valueint,
          "%s: special token ids", name);
    int n_cases = 0, n_bad = 0;
    int32_t padded[256], full[4096];
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(v, "cases")) {
        const char *text = cJSON_GetObjectItem(c, "text")->valuestring;
        int32_t *ids = NULL;
        int n = 0;
        CHECK_OK(t2i_wordpiece_tokenize(t, text, &ids, &n));
        int ok = n + 2 <= (int)(sizeof full / sizeof full[0]);
        if (ok) {
            full[0] = t2i_wordpiece_cls(t);
            if (n) memcpy(full + 1, ids, (size_t)n * sizeof *ids);
            full[n + 1] = t2i_wordpiece_sep(t);
            ok = ids_equal(cJSON_GetObjectItem(c, "unpadded"), full, n + 2);
        }
        CHECK_OK(t2i_wordpiece_encode_padded(t, text, padded, padded_len));
        ok = ok && ids_equal(cJSON_GetObjectItem(c, "padded"), padded, padded_len);
        if (!ok) {
            n_bad++;
            fprintf(stderr, "  %s: ids differ for \"%.60s\"\n    got ", name, text);
            for (int i = 0; i < n && i < 40; i++) fprintf(stderr, " %d", ids[i]);
            char *want = cJSON_PrintUnformatted(cJSON_GetObjectItem(c, "unpadded"));
            fprintf(stderr, "\n    want %.300s\n", want);
            free(want);
        }
        free(ids);
        n_cases++;
    }
    printf("  %-22s %d prompts, %d differ\n", name, n_cases, n_bad);
    CHECK(n_cases > 0 && n_bad == 0, "%s: %d of %d prompts differ from BertTokenizer", name, n_bad, n_cases);
    t2i_wordpiece_destroy(t);
}

static void check_bad_input(const char *dir, const char *bert_vocab, size_t bert_len)
{
    t2i_wordpiece *t = NULL;
    /* a real folder: bad prompts */
    make_dir(dir, bert_vocab, bert_len, "{\"model_max_length\": 512}");
    CHECK_OK(t2i_wordpiece_load(dir, &t));
    if (t) {
        CHECK(t2i_wordpiece_max_length(t) == 512, "model_max_length %d", t2i_wordpiece_max_length(t));
        CHECK(t2i_wordpiece_vocab_size(t) == 21128, "vocab size %d", t2i_wordpiece_vocab_size(t));
        int32_t *ids = NULL, out[8];
        int n = -1;
        CHECK(t2i_wordpiece_tokenize(t, "ok \xe4\xb8", &ids, &n) == T2I_ERR_INVALID_ARG && !ids,
              "truncated UTF-8 accepted");
        CHECK(strstr(t2i_last_error(), "byte offset 3") != NULL, "message: %s", t2i_last_error());
        CHECK(t2i_wordpiece_tokenize(t, "\xed\xa0\x80", &ids, &n) == T2I_ERR_INVALID_ARG, "surrogate accepted");
        CHECK(t2i_wordpiece_encode_padded(t, "猫", out, 1) == T2I_ERR_INVALID_ARG, "max_len 1 accepted");
        CHECK(t2i_wordpiece_tokenize(t, NULL, &ids, &n) == T2I_ERR_INVALID_ARG, "NULL text accepted");
        CHECK_OK(t2i_wordpiece_tokenize(t, "", &ids, &n));
        CHECK(n == 0 && ids == NULL, "empty prompt gave %d ids", n);
        CHECK_OK(t2i_wordpiece_encode_padded(t, "猫", out, 2));
        CHECK(out[0] == 101 && out[1] == 102, "max_len 2: %d %d", out[0], out[1]);
        t2i_wordpiece_destroy(t);
        t = NULL;
    }
    /* no model_max_length: 0 */
    make_dir(dir, bert_vocab, bert_len, NULL);
    CHECK_OK(t2i_wordpiece_load(dir, &t));
    CHECK(t && t2i_wordpiece_max_length(t) == 0, "model_max_length without a config");
    t2i_wordpiece_destroy(t);
    t = NULL;
    /* bad folders */
    make_dir(dir, NULL, 0, NULL);
    CHECK(t2i_wordpiece_load(dir, &t) == T2I_ERR_IO && !t, "missing vocab.txt accepted");
    make_dir(dir, "[PAD]\n[UNK]\n\xff\xfe\n[CLS]\n[SEP]\n[MASK]\n", 28, NULL);
    CHECK(t2i_wordpiece_load(dir, &t) == T2I_ERR_FORMAT && !t, "invalid UTF-8 in vocab.txt accepted");
    CHECK(strstr(t2i_last_error(), "vocab.txt:3") != NULL, "message: %s", t2i_last_error());
    make_dir(dir, "[PAD]\n[CLS]\n[SEP]\n[MASK]\n", 24, NULL);
    CHECK(t2i_wordpiece_load(dir, &t) == T2I_ERR_FORMAT && !t, "vocab without [UNK] accepted");
    CHECK(strstr(t2i_last_error(), "[UNK]") != NULL, "message: %s", t2i_last_error());
    make_dir(dir, "", 0, NULL);
    CHECK(t2i_wordpiece_load(dir, &t) == T2I_ERR_FORMAT && !t, "empty vocab accepted");
    make_dir(dir, bert_vocab, bert_len, "{\"do_lower_case\": tru");
    CHECK(t2i_wordpiece_load(dir, &t) == T2I_ERR_FORMAT && !t, "malformed tokenizer_config.json accepted");
    make_dir(dir, bert_vocab, bert_len, "{\"unk_token\": 5}");
    CHECK(t2i_wordpiece_load(dir, &t) == T2I_ERR_FORMAT && !t, "numeric unk_token accepted");
    make_dir(dir, bert_vocab, bert_len, "{\"added_tokens_decoder\": {\"x\": {\"content\": \"a\"}}}");
    CHECK(t2i_wordpiece_load(dir, &t) == T2I_ERR_FORMAT && !t, "non-integer added token id accepted");
    CHECK(t2i_wordpiece_load(NULL, &t) == T2I_ERR_INVALID_ARG, "NULL folder accepted");
    t2i_wordpiece_destroy(NULL);
}

static uint32_t rnd(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(*s >> 33);
}

static int put_utf8(char *o, uint32_t c)
{
    if (c < 0x80) { o[0] = (char)c; return 1; }
    if (c < 0x800) { o[0] = (char)(0xC0 | (c >> 6)); o[1] = (char)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | (c >> 12)); o[1] = (char)(0x80 | ((c >> 6) & 0x3F)); o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (c >> 18)); o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3F)); o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

static void check_random(const char *dir, const char *bert_vocab, size_t bert_len)
{
    static const uint32_t pool[][2] = {   /* code point ranges to draw from */
        {0x20, 0x7E}, {0x00, 0x1F}, {0x4E00, 0x9FFF}, {0x3000, 0x303F}, {0xFF00, 0xFFEF}, {0x300, 0x36F},
        {0xAC00, 0xD7A3}, {0x1F300, 0x1F64F}, {0x2000, 0x206F}, {0xC0, 0x24F}, {0x20000, 0x2A6DF}, {0xF900, 0xFAFF},
    };
    make_dir(dir, bert_vocab, bert_len, "{\"do_lower_case\": true}");
    t2i_wordpiece *t = NULL;
    CHECK_OK(t2i_wordpiece_load(dir, &t));
    if (!t) return;
    uint64_t seed = 12345;
    char *buf = malloc(4 * 400 + 16);
    int bad_ids = 0, errors = 0, invalid_ok = 0;
    int32_t padded[64];
    for (int it = 0; it < 3000; it++) {
        size_t n = 0, len = rnd(&seed) % 400;
        int raw = it % 3 == 2;   /* every third string: random bytes */
        for (size_t i = 0; i < len; i++) {
            if (raw) {
                buf[n++] = (char)(rnd(&seed) % 255 + 1);
            } else if (rnd(&seed) % 16 == 0) {
                const char *frag[] = {"[MASK]", "[CLS]", "##", "[UNK", " ", "\u3000"};
                const char *f = frag[rnd(&seed) % 6];
                memcpy(buf + n, f, strlen(f));
                n += strlen(f);
            } else {
                const uint32_t *r = pool[rnd(&seed) % (sizeof pool / sizeof pool[0])];
                uint32_t c = r[0] + rnd(&seed) % (r[1] - r[0] + 1);
                if (c == 0) c = 1;
                n += (size_t)put_utf8(buf + n, c);
            }
        }
        buf[n] = '\0';
        int32_t *ids = NULL;
        int k = 0;
        t2i_status st = t2i_wordpiece_tokenize(t, buf, &ids, &k);
        if (st == T2I_OK) {
            for (int i = 0; i < k; i++) bad_ids += ids[i] < 0 || ids[i] >= t2i_wordpiece_vocab_size(t);
            if (raw) invalid_ok++;
            st = t2i_wordpiece_encode_padded(t, buf, padded, 64);
            bad_ids += st != T2I_OK || padded[0] != t2i_wordpiece_cls(t);
        } else if (st != T2I_ERR_INVALID_ARG || !raw) {
            errors++;
        }
        free(ids);
    }
    printf("  random text: 3000 strings (1000 of random bytes, %d of them valid UTF-8)\n", invalid_ok);
    CHECK(bad_ids == 0 && errors == 0, "random text: %d bad ids, %d unexpected errors", bad_ids, errors);
    free(buf);
    t2i_wordpiece_destroy(t);
}

int main(void)
{
    size_t len = 0, bert_len = 0;
    char *json = read_all("tests/fixtures/bert/ids.json", &len);
    char *bert_vocab = read_all("tests/fixtures/bert/vocab.txt", &bert_len);
    CHECK(json && bert_vocab, "tests/fixtures/bert/{ids.json,vocab.txt} missing (run from the repo root)");
    cJSON *doc = json ? cJSON_ParseWithLength(json, len) : NULL;
    CHECK(doc != NULL, "ids.json does not parse");
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/t2i_test_wordpiece_%d", (int)getpid());
    if (doc && bert_vocab) {
        int padded_len = cJSON_GetObjectItem(doc, "padded_len")->valueint;
        const cJSON *v;
        cJSON_ArrayForEach(v, cJSON_GetObjectItem(doc, "variants")) check_variant(v, bert_vocab, bert_len, padded_len, dir);
        check_bad_input(dir, bert_vocab, bert_len);
        check_random(dir, bert_vocab, bert_len);
    }
    remove_dir(dir);
    cJSON_Delete(doc);
    free(json);
    free(bert_vocab);
    return test_finish();
}
