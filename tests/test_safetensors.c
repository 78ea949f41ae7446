/*
 * test_safetensors.c — writer/reader round trips, the reference
 * implementation's validation rules on hand-built malformed files (one case
 * each, checked by status and message fragment), files written by Python's
 * safetensors (tests/fixtures/formats/py_*.safetensors, made with
 * safetensors.numpy.save_file), and the folder/shard loader.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "base/error.h"
#include "formats/safetensors.h"

static int failures;
static char tmpdir[64];

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__,   \
                    __LINE__, #cond, t2i_last_error());                               \
            failures++;                                                               \
        }                                                                             \
    } while (0)

static char *tmp_path(const char *name)
{
    static char buf[8][256];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    return p;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) { perror(path); exit(1); }
    fclose(f);
}

/* A raw file: u64 header length `hlen` (header's own length when ~0), the
 * header text, then `ndata` bytes of data (0x5a). */
static void write_raw(const char *path, uint64_t hlen, const char *header, size_t ndata)
{
    size_t n = strlen(header);
    if (hlen == ~(uint64_t)0) hlen = n;
    unsigned char *buf = malloc(8 + n + ndata + 1);
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(hlen >> (8 * i));
    memcpy(buf + 8, header, n);
    memset(buf + 8 + n, 0x5a, ndata);
    write_bytes(path, buf, 8 + n + ndata);
    free(buf);
}

/* Open must fail with `status` and a message holding `frag` and the path. */
static void expect_fail(const char *label, const char *path, t2i_status status, const char *frag)
{
    t2i_st_file *f = (t2i_st_file *)1;
    t2i_status s = t2i_st_open(path, &f);
    const char *msg = t2i_last_error();
    if (s != status || f != NULL || !strstr(msg, frag) || !strstr(msg, path)) {
        fprintf(stderr, "FAIL %s: got %s \"%s\", want %s with \"%s\"\n", label,
                t2i_status_name(s), msg, t2i_status_name(status), frag);
        failures++;
    }
    if (s == T2I_OK) t2i_st_close(f);
}

static void malformed(const char *label, const char *header, size_t ndata, t2i_status status,
                      const char *frag)
{
    const char *path = tmp_path("bad.safetensors");
    write_raw(path, ~(uint64_t)0, header, ndata);
    expect_fail(label, path, status, frag);
}

#define T(name, dt, shape, offs) "\"" name "\":{\"dtype\":\"" dt "\",\"shape\":" shape ",\"data_offsets\":" offs "}"

static void test_malformed(void)
{
    const char *path = tmp_path("raw.safetensors");
    write_bytes(path, "\x08\0\0\0\0", 5);
    expect_fail("file < 8 bytes", path, T2I_ERR_FORMAT, "too small");

    write_raw(path, 100, "{}", 8);
    expect_fail("header length beyond EOF", path, T2I_ERR_FORMAT, "runs past the end");

    write_raw(path, 100000001, "{}", 0);
    expect_fail("header over 100 MB", path, T2I_ERR_FORMAT, "exceeds the limit");

    malformed("data shorter than declared", "{" T("a", "F32", "[4]", "[0,16]") "}", 8,
              T2I_ERR_FORMAT, "truncated file");
    malformed("trailing data", "{" T("a", "F32", "[2]", "[0,8]") "}", 12, T2I_ERR_FORMAT,
              "trailing bytes");
    malformed("non-UTF-8 header", "{" T("a\xff", "F32", "[1]", "[0,4]") "}", 4, T2I_ERR_FORMAT,
              "not valid UTF-8");
    malformed("overlong UTF-8", "{" T("a\xc0\xaf", "F32", "[1]", "[0,4]") "}", 4,
              T2I_ERR_FORMAT, "not valid UTF-8");
    malformed("overlapping offsets",
              "{" T("a", "F32", "[2]", "[0,8]") "," T("b", "F32", "[2]", "[4,12]") "}", 12,
              T2I_ERR_FORMAT, "tensor \"b\": data_offsets [4, 12] overlap");
    malformed("gap between tensors",
              "{" T("a", "F32", "[2]", "[0,8]") "," T("b", "F32", "[2]", "[12,20]") "}", 20,
              T2I_ERR_FORMAT, "tensor \"b\": data_offsets [12, 20] leave a gap");
    malformed("gap before the first tensor", "{" T("a", "F32", "[2]", "[4,12]") "}", 12,
              T2I_ERR_FORMAT, "leave a gap");
    malformed("reversed offsets", "{" T("a", "F32", "[0]", "[0,0]") "," T("b", "F32", "[1]", "[0,4]")
              "," T("c", "F32", "[0]", "[4,0]") "}", 4, T2I_ERR_FORMAT, "tensor \"c\"");
    malformed("byte size != shape x dtype", "{" T("w", "F32", "[3]", "[0,8]") "}", 8,
              T2I_ERR_FORMAT, "tensor \"w\": byte size 8 does not match shape x dtype (12 bytes)");
    malformed("shape product overflow",
              "{" T("big", "F32", "[4294967296,4294967296,2]", "[0,8]") "}", 8, T2I_ERR_FORMAT,
              "tensor \"big\": shape product overflows");
    malformed("byte size overflow",
              "{" T("big", "F64", "[4294967296,1073741824]", "[0,8]") "}", 8, T2I_ERR_FORMAT,
              "tensor \"big\": byte size overflows");
    malformed("duplicate tensor name",
              "{" T("a", "F32", "[1]", "[0,4]") "," T("a", "F32", "[1]", "[4,8]") "}", 8,
              T2I_ERR_FORMAT, "duplicate tensor name \"a\"");
    malformed("duplicate field",
              "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}",
              4, T2I_ERR_FORMAT, "tensor \"a\": duplicate field \"dtype\"");
    malformed("unknown dtype", "{" T("a", "F17", "[1]", "[0,4]") "}", 4, T2I_ERR_FORMAT,
              "tensor \"a\": unknown dtype \"F17\"");
    malformed("valid dtype we lack", "{" T("a", "U16", "[1]", "[0,2]") "}", 2,
              T2I_ERR_UNSUPPORTED, "dtype U16 is not supported");
    malformed("missing field", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, T2I_ERR_FORMAT,
              "tensor \"a\": missing field \"data_offsets\"");
    malformed("negative dimension", "{" T("a", "F32", "[-1]", "[0,4]") "}", 4, T2I_ERR_FORMAT,
              "tensor \"a\": shape[0] is not a non-negative integer");
    malformed("fractional dimension", "{" T("a", "F32", "[1.5]", "[0,4]") "}", 4,
              T2I_ERR_FORMAT, "shape[0] is not a non-negative integer");
    malformed("too many dims", "{" T("a", "F32", "[1,1,1,1,1,1,1,1,1]", "[0,4]") "}", 4,
              T2I_ERR_UNSUPPORTED, "9 dimensions");
    malformed("offsets not a pair", "{" T("a", "F32", "[1]", "[0]") "}", 4, T2I_ERR_FORMAT,
              "data_offsets is not [begin, end]");
    malformed("not JSON", "{\"a\": [", 0, T2I_ERR_FORMAT, "not valid JSON");
    malformed("header not an object", "[1,2]", 0, T2I_ERR_FORMAT, "does not start with '{'");
    malformed("leading space", " {}", 0, T2I_ERR_FORMAT, "does not start with '{'");
    malformed("metadata value not a string", "{\"__metadata__\":{\"k\":1}}", 0, T2I_ERR_FORMAT,
              "__metadata__ value \"k\" is not a string");
    malformed("entry not an object", "{\"a\":3}", 0, T2I_ERR_FORMAT,
              "tensor \"a\": entry is not an object");

    /* A NUL inside the header: cJSON would stop there. */
    static const char nul_hdr[] = "{\"a\":1}\0  ";
    unsigned char buf[8 + sizeof nul_hdr - 1];
    memset(buf, 0, 8);
    buf[0] = sizeof nul_hdr - 1;
    memcpy(buf + 8, nul_hdr, sizeof nul_hdr - 1);
    write_bytes(path, buf, sizeof buf);
    expect_fail("NUL in header", path, T2I_ERR_FORMAT, "NUL byte");

    expect_fail("missing file", tmp_path("does-not-exist.safetensors"), T2I_ERR_IO,
                "cannot open");

    /* Valid corner cases: empty header, trailing spaces, zero-size and
     * scalar tensors. */
    write_raw(path, ~(uint64_t)0, "{}      ", 0);
    t2i_st_file *f = NULL;
    CHECK(t2i_st_open(path, &f) == T2I_OK && t2i_st_count(f) == 0);
    t2i_st_close(f);
    write_raw(path, ~(uint64_t)0,
              "{" T("e", "F32", "[0,5]", "[0,0]") "," T("s", "I8", "[]", "[0,1]") "}  ", 1);
    CHECK(t2i_st_open(path, &f) == T2I_OK);
    if (f) {
        const t2i_st_tensor *e = t2i_st_find(f, "e"), *s = t2i_st_find(f, "s");
        CHECK(e && e->nbytes == 0 && t2i_st_numel(e) == 0 && e->ndim == 2);
        CHECK(s && s->ndim == 0 && t2i_st_numel(s) == 1 && ((const signed char *)s->data)[0] == 0x5a);
        t2i_st_close(f);
    }
    /* zero elements with huge other dimensions: the reader's unsigned fold
     * fits (2^52 * 2048 = 2^63), a signed one would overflow (UBSan) */
    write_raw(path, ~(uint64_t)0, "{" T("z", "F32", "[4503599627370496,2048,0]", "[0,0]") "}", 0);
    f = NULL;
    CHECK(t2i_st_open(path, &f) == T2I_OK);
    if (f) {
        const t2i_st_tensor *z = t2i_st_find(f, "z");
        CHECK(z && z->nbytes == 0 && t2i_st_numel(z) == 0 && z->ndim == 3);
        t2i_st_close(f);
    }
}

static void test_round_trip(void)
{
    const char *path = tmp_path("rt.safetensors");
    t2i_st_writer *w;
    CHECK(t2i_st_writer_create(&w) == T2I_OK);
    float f32[6] = {1.5f, -2.25f, 3e-8f, 1e30f, 0.0f, -0.0f};
    uint16_t f16[4] = {t2i_f32_to_f16(0.5f), t2i_f32_to_f16(-2.0f), t2i_f32_to_f16(65504.0f),
                       t2i_f32_to_f16(1.0f / 1024)};
    uint16_t bf16[4] = {t2i_f32_to_bf16(1.0f), t2i_f32_to_bf16(-3.0f), t2i_f32_to_bf16(1e20f),
                        t2i_f32_to_bf16(0.0078125f)};
    int32_t i32[3] = {-7, 2147483647, 0};
    int64_t i64[2] = {-((int64_t)1 << 40), 12345};
    int64_t s23[2] = {2, 3}, s4[1] = {4}, s22[2] = {2, 2}, s3[1] = {3}, s2[1] = {2};
    int64_t s03[2] = {0, 3};
    CHECK(t2i_st_writer_add(w, "x.f32", T2I_F32, 2, s23, f32) == T2I_OK);
    CHECK(t2i_st_writer_add(w, "b.f16", T2I_F16, 1, s4, f16) == T2I_OK);
    CHECK(t2i_st_writer_add(w, "c.bf16", T2I_BF16, 2, s22, bf16) == T2I_OK);
    CHECK(t2i_st_writer_add(w, "d.i32", T2I_I32, 1, s3, i32) == T2I_OK);
    CHECK(t2i_st_writer_add(w, "a.i64", T2I_I64, 1, s2, i64) == T2I_OK);
    CHECK(t2i_st_writer_add(w, "empty", T2I_F32, 2, s03, NULL) == T2I_OK);
    CHECK(t2i_st_writer_add(w, "scalar", T2I_F32, 0, NULL, &f32[0]) == T2I_OK);
    CHECK(t2i_st_writer_add(w, "a.i64", T2I_I64, 1, s2, i64) == T2I_ERR_INVALID_ARG);
    CHECK(t2i_st_writer_add(w, "bad\xff", T2I_I64, 1, s2, i64) == T2I_ERR_INVALID_ARG);
    CHECK(t2i_st_writer_set_metadata(w, "format", "pt") == T2I_OK);
    CHECK(t2i_st_writer_set_metadata(w, "note", "\"quoted\", \\ and 中文\n") == T2I_OK);
    CHECK(t2i_st_writer_set_metadata(w, "format", "t2i") == T2I_OK);   /* replaces */
    CHECK(t2i_st_writer_save(w, path) == T2I_OK);
    t2i_st_writer_destroy(w);

    FILE *fp = fopen(path, "rb");
    unsigned char len[8] = {0};
    CHECK(fp && fread(len, 1, 8, fp) == 8);
    if (fp) fclose(fp);
    CHECK(len[0] % 8 == 0);   /* header padded to a multiple of 8 */

    t2i_st_file *f = NULL;
    CHECK(t2i_st_open(path, &f) == T2I_OK);
    if (!f) return;
    CHECK(t2i_st_count(f) == 7);
    /* Tensors are laid out in sorted-name order. */
    static const char *order[] = {"a.i64", "b.f16", "c.bf16", "d.i32", "empty", "scalar", "x.f32"};
    for (int i = 0; i < 7; i++) CHECK(strcmp(t2i_st_get(f, i)->name, order[i]) == 0);
    CHECK(t2i_st_get(f, 7) == NULL);
    CHECK(strcmp(t2i_st_metadata(f, "format"), "t2i") == 0);
    CHECK(strcmp(t2i_st_metadata(f, "note"), "\"quoted\", \\ and 中文\n") == 0);
    CHECK(t2i_st_metadata(f, "absent") == NULL);
    CHECK(t2i_st_find(f, "absent") == NULL);

    const t2i_st_tensor *t = t2i_st_find(f, "x.f32");
    float out[6];
    CHECK(t && t->dtype == T2I_F32 && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3 &&
          t->nbytes == 24 && memcmp(t->data, f32, 24) == 0);
    if (t) { t2i_st_read_f32(t, out); CHECK(memcmp(out, f32, sizeof f32) == 0); }

    t = t2i_st_find(f, "b.f16");
    CHECK(t && t->dtype == T2I_F16 && t->ndim == 1 && t->shape[0] == 4 && t->nbytes == 8);
    if (t) {
        t2i_st_read_f32(t, out);
        CHECK(out[0] == 0.5f && out[1] == -2.0f && out[2] == 65504.0f && out[3] == 1.0f / 1024);
    }
    t = t2i_st_find(f, "c.bf16");
    CHECK(t && t->dtype == T2I_BF16 && t->shape[0] == 2 && t->shape[1] == 2);
    if (t) {
        t2i_st_read_f32(t, out);
        CHECK(out[0] == 1.0f && out[1] == -3.0f && out[3] == 0.0078125f &&
              out[2] == t2i_bf16_to_f32(t2i_f32_to_bf16(1e20f)));
    }
    t = t2i_st_find(f, "d.i32");
    CHECK(t && t->dtype == T2I_I32 && memcmp(t->data, i32, sizeof i32) == 0);
    t = t2i_st_find(f, "a.i64");
    CHECK(t && t->dtype == T2I_I64 && t->nbytes == 16 && memcmp(t->data, i64, sizeof i64) == 0);
    if (t) { t2i_st_read_f32(t, out); CHECK(out[0] == -1099511627776.0f && out[1] == 12345.0f); }
    t = t2i_st_find(f, "empty");
    CHECK(t && t->nbytes == 0 && t2i_st_numel(t) == 0 && t->shape[1] == 3);
    t = t2i_st_find(f, "scalar");
    CHECK(t && t->ndim == 0 && t2i_st_numel(t) == 1 && memcmp(t->data, f32, 4) == 0);
    t2i_st_close(f);
    t2i_st_close(NULL);
}

/* 2000 tensors: every name found, in the right place. */
static void test_many(void)
{
    const char *path = tmp_path("many.safetensors");
    t2i_st_writer *w;
    CHECK(t2i_st_writer_create(&w) == T2I_OK);
    for (int i = 0; i < 2000; i++) {
        char name[64];
        snprintf(name, sizeof name, "down_blocks.%d.resnets.%d.conv.weight", i % 7, i);
        int32_t v[2] = {i, -i};
        int64_t shape[1] = {2};
        CHECK(t2i_st_writer_add(w, name, T2I_I32, 1, shape, v) == T2I_OK);
    }
    CHECK(t2i_st_writer_save(w, path) == T2I_OK);
    t2i_st_writer_destroy(w);
    t2i_st_file *f = NULL;
    CHECK(t2i_st_open(path, &f) == T2I_OK);
    if (!f) return;
    int ok = t2i_st_count(f) == 2000;
    for (int i = 0; i < 2000 && ok; i++) {
        char name[64];
        snprintf(name, sizeof name, "down_blocks.%d.resnets.%d.conv.weight", i % 7, i);
        const t2i_st_tensor *t = t2i_st_find(f, name);
        int32_t v[2];
        if (t) memcpy(v, t->data, 8);
        ok = t && v[0] == i && v[1] == -i;
    }
    CHECK(ok);
    t2i_st_close(f);
}

/* Files written by Python's safetensors; and our writer reproduces Python's
 * bytes exactly for single-dtype content. */
static void test_python_fixtures(void)
{
    const char *py = "tests/fixtures/formats/py_f32.safetensors";
    t2i_st_file *f = NULL;
    CHECK(t2i_st_open(py, &f) == T2I_OK);
    if (f) {
        const t2i_st_tensor *a = t2i_st_find(f, "alpha"), *b = t2i_st_find(f, "beta");
        float v[6];
        CHECK(a && a->ndim == 2 && a->shape[0] == 2 && a->shape[1] == 3);
        if (a) { t2i_st_read_f32(a, v); CHECK(v[0] == -1.0f && v[5] == 1.5f); }
        CHECK(b && b->shape[0] == 4);
        if (b) { t2i_st_read_f32(b, v); CHECK(v[0] == 1e-3f && v[1] == -2.5f && v[2] == 3e7f && v[3] == 0); }
        CHECK(t2i_st_metadata(f, "format") && strcmp(t2i_st_metadata(f, "format"), "np") == 0);

        /* Rewrite with our writer; compare bytes. */
        t2i_st_writer *w;
        CHECK(t2i_st_writer_create(&w) == T2I_OK);
        for (int i = 0; i < t2i_st_count(f); i++) {
            const t2i_st_tensor *t = t2i_st_get(f, i);
            CHECK(t2i_st_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->data) == T2I_OK);
        }
        CHECK(t2i_st_writer_set_metadata(w, "format", "np") == T2I_OK);
        const char *ours = tmp_path("ours.safetensors");
        CHECK(t2i_st_writer_save(w, ours) == T2I_OK);
        t2i_st_writer_destroy(w);
        FILE *x = fopen(py, "rb"), *y = fopen(ours, "rb");
        unsigned char bx[1024], by[1024];
        size_t nx = x ? fread(bx, 1, sizeof bx, x) : 0, ny = y ? fread(by, 1, sizeof by, y) : 1;
        CHECK(nx == ny && memcmp(bx, by, nx) == 0);
        if (x) fclose(x);
        if (y) fclose(y);
        t2i_st_close(f);
    }

    f = NULL;
    CHECK(t2i_st_open("tests/fixtures/formats/py_mixed.safetensors", &f) == T2I_OK);
    if (f) {
        float v[4];
        const t2i_st_tensor *t;
        CHECK(t2i_st_count(f) == 7);
        CHECK((t = t2i_st_find(f, "h")) && t->dtype == T2I_F16);
        if (t) { t2i_st_read_f32(t, v); CHECK(v[0] == 0.5f && v[1] == -2 && v[2] == 65504 && v[3] == 1.0f / 1024); }
        int32_t i32[2];
        CHECK((t = t2i_st_find(f, "i32")) && t->dtype == T2I_I32);
        if (t) { memcpy(i32, t->data, 8); CHECK(i32[0] == -7 && i32[1] == 2147483647); }
        int64_t i64[2];
        CHECK((t = t2i_st_find(f, "i64")) && t->dtype == T2I_I64 && t->shape[0] == 2 && t->shape[1] == 1);
        if (t) { memcpy(i64, t->data, 16); CHECK(i64[0] == -((int64_t)1 << 40) && i64[1] == 5); }
        CHECK((t = t2i_st_find(f, "u8")) && t->dtype == T2I_U8 && ((const uint8_t *)t->data)[1] == 255);
        CHECK((t = t2i_st_find(f, "b")) && t->dtype == T2I_BOOL && ((const uint8_t *)t->data)[0] == 1);
        CHECK((t = t2i_st_find(f, "d")) && t->dtype == T2I_F64 && t->ndim == 0);
        if (t) { t2i_st_read_f32(t, v); CHECK(v[0] == 3.25f); }
        CHECK((t = t2i_st_find(f, "z")) && t->nbytes == 0);
        t2i_st_close(f);
    }
}

static void write_small(const char *path, const char *name, float value)
{
    t2i_st_writer *w;
    int64_t shape[1] = {1};
    if (t2i_st_writer_create(&w) || t2i_st_writer_add(w, name, T2I_F32, 1, shape, &value) ||
        t2i_st_writer_save(w, path)) {
        fprintf(stderr, "write_small: %s\n", t2i_last_error());
        exit(1);
    }
    t2i_st_writer_destroy(w);
}

static void write_text(const char *path, const char *text) { write_bytes(path, text, strlen(text)); }

static void test_folder(void)
{
    char dir[256], p[300];
    t2i_st_set *s = NULL;
    float v;

    /* One file, plus a variant that must be ignored. */
    snprintf(dir, sizeof dir, "%s/single", tmpdir);
    mkdir(dir, 0755);
    snprintf(p, sizeof p, "%s/diffusion_pytorch_model.safetensors", dir);
    write_small(p, "conv.weight", 1.0f);
    snprintf(p, sizeof p, "%s/diffusion_pytorch_model.fp16.safetensors", dir);
    write_small(p, "conv.weight", 2.0f);
    CHECK(t2i_st_set_open_dir(dir, &s) == T2I_OK);
    if (s) {
        const t2i_st_tensor *t = t2i_st_set_find(s, "conv.weight");
        CHECK(t && (t2i_st_read_f32(t, &v), v == 1.0f));
        CHECK(t2i_st_set_find(s, "nope") == NULL && t2i_st_set_file_count(s) == 1);
        t2i_st_set_destroy(s);
    }
    CHECK(t2i_st_set_open_variant(dir, "fp16", &s) == T2I_OK);
    if (s) {
        const t2i_st_tensor *t = t2i_st_set_find(s, "conv.weight");
        CHECK(t && (t2i_st_read_f32(t, &v), v == 2.0f));
        t2i_st_set_destroy(s);
    }

    /* Sharded with an index. */
    snprintf(dir, sizeof dir, "%s/sharded", tmpdir);
    mkdir(dir, 0755);
    snprintf(p, sizeof p, "%s/model-00001-of-00002.safetensors", dir);
    write_small(p, "a", 3.0f);
    snprintf(p, sizeof p, "%s/model-00002-of-00002.safetensors", dir);
    write_small(p, "b", 4.0f);
    snprintf(p, sizeof p, "%s/model.safetensors.index.json", dir);
    write_text(p, "{\"metadata\":{\"total_size\":8},\"weight_map\":{"
                  "\"a\":\"model-00001-of-00002.safetensors\","
                  "\"b\":\"model-00002-of-00002.safetensors\"}}");
    CHECK(t2i_st_set_open_dir(dir, &s) == T2I_OK);
    if (s) {
        const t2i_st_tensor *a = t2i_st_set_find(s, "a"), *b = t2i_st_set_find(s, "b");
        CHECK(a && (t2i_st_read_f32(a, &v), v == 3.0f));
        CHECK(b && (t2i_st_read_f32(b, &v), v == 4.0f));
        CHECK(t2i_st_set_file_count(s) == 2);
        t2i_st_set_destroy(s);
    }
    /* Hostile index: a shard outside the folder; a tensor not in its shard. */
    write_text(p, "{\"weight_map\":{\"a\":\"../single/diffusion_pytorch_model.safetensors\"}}");
    s = (t2i_st_set *)1;
    CHECK(t2i_st_set_open_dir(dir, &s) == T2I_ERR_FORMAT && s == NULL &&
          strstr(t2i_last_error(), "bad shard name"));
    write_text(p, "{\"weight_map\":{\"b\":\"model-00001-of-00002.safetensors\"}}");
    CHECK(t2i_st_set_open_dir(dir, &s) == T2I_ERR_FORMAT &&
          strstr(t2i_last_error(), "tensor \"b\" is not in shard"));
    write_text(p, "{\"weight_map\":[]}");
    CHECK(t2i_st_set_open_dir(dir, &s) == T2I_ERR_FORMAT &&
          strstr(t2i_last_error(), "weight_map"));
    write_text(p, "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
                  "\"b\":\"model-00002-of-00002.safetensors\"}}");
    snprintf(p, sizeof p, "%s/model-00002-of-00002.safetensors", dir);
    write_small(p, "a", 5.0f);   /* now "a" is in both shards, "b" in none */
    CHECK(t2i_st_set_open_dir(dir, &s) == T2I_ERR_FORMAT && strstr(t2i_last_error(), "\"b\""));

    /* Empty folder; missing folder. */
    snprintf(dir, sizeof dir, "%s/empty", tmpdir);
    mkdir(dir, 0755);
    CHECK(t2i_st_set_open_dir(dir, &s) == T2I_ERR_IO && strstr(t2i_last_error(), "no *"));
    snprintf(dir, sizeof dir, "%s/missing", tmpdir);
    CHECK(t2i_st_set_open_dir(dir, &s) == T2I_ERR_IO);
    t2i_st_set_destroy(NULL);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/t2i_st_XXXXXX");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    test_round_trip();
    test_malformed();
    test_many();
    test_python_fixtures();
    test_folder();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", tmpdir);
    if (failures) { fprintf(stderr, "test_safetensors: %d failure(s)\n", failures); return 1; }
    printf("test_safetensors: all passed\n");
    return 0;
}
