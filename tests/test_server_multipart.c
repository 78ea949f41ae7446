/*
 * test_server_multipart.c — the two parsers the editing routes run on
 * hostile bytes before any image is decoded: server/multipart.c
 * (multipart/form-data as the OpenAI clients send it) and
 * server/image_probe.c (the size a PNG / JPEG header declares).
 *
 * Exact checks: a curl-style and an httpx-style body parse into the parts
 * and bytes that were put in (binary data holding CR, LF and "--"); quoted
 * names with escapes; the fixture JPEG's and a PNG's declared sizes. A table
 * of malformed bodies and headers must each be refused with a reason; then
 * 20,000 random mutations of a valid body and of image headers must never
 * crash or read out of bounds (run under ASan in the sanitizer build), and
 * every part accepted must lie inside the body.
 */
#define _GNU_SOURCE              /* memmem, for server/multipart.c included below */
#include <stdint.h>
#include <stdio.h>
#include "server/image_probe.c"
#include "server/multipart.c"
#include "test_util.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dull;
static uint32_t next_u32(void)
{
    rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
    return (uint32_t)rng_state;
}

static const char CT[] = "multipart/form-data; boundary=XyZ123";

static int parse(const char *ct, const char *body, size_t n, multipart_part *parts, int *count)
{
    const char *why = NULL;
    int rc = multipart_parse(ct, (const unsigned char *)body, n, parts, count, &why);
    if (rc) CHECK(why && *why, "a refusal carries a reason");
    return rc;
}

static void test_valid(void)
{
    static const char body[] =
        "preamble ignored\r\n"
        "--XyZ123\r\n"
        "Content-Disposition: form-data; name=\"prompt\"\r\n"
        "\r\n"
        "a cat\r\n"
        "--XyZ123\r\n"
        "Content-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n"
        "Content-Type: image/png\r\n"
        "\r\n"
        "\x89PNG\r\n--XyZ12\r\n\0bin\r\n"
        "--XyZ123\r\n"
        "content-disposition: form-data; filename=\"m\\\"x.png\"; name=\"mask\"\r\n"
        "\r\n"
        "\r\n"
        "--XyZ123--\r\nepilogue";
    multipart_part p[MULTIPART_MAX_PARTS];
    int n = 0;
    CHECK(parse(CT, body, sizeof body - 1, p, &n) == 0 && n == 3, "three parts");
    if (n != 3) return;
    CHECK(!strcmp(p[0].name, "prompt") && !p[0].is_file && p[0].len == 5 && !memcmp(p[0].data, "a cat", 5),
          "text part");
    static const char img[] = "\x89PNG\r\n--XyZ12\r\n\0bin";
    CHECK(!strcmp(p[1].name, "image") && p[1].is_file && p[1].len == sizeof img - 1 &&
          !memcmp(p[1].data, img, sizeof img - 1), "binary file part with CR LF and a near-boundary");
    CHECK(!strcmp(p[2].name, "mask") && p[2].is_file && p[2].len == 0, "empty part, escaped filename, name after it");
    CHECK(multipart_find(p, n, "mask") == &p[2] && multipart_find(p, n, "nope") == NULL, "multipart_find");
    /* Quoted boundary, body starting with the delimiter (httpx). */
    static const char b2[] = "--a b\r\nContent-Disposition: form-data; name=n\r\n\r\n2\r\n--a b--\r\n";
    CHECK(parse("multipart/form-data; charset=utf-8; boundary=\"a b\"", b2, sizeof b2 - 1, p, &n) == 0 && n == 1 &&
          !strcmp(p[0].name, "n") && p[0].len == 1 && p[0].data[0] == '2', "quoted boundary, token name");
}

static void test_refused(void)
{
    static const struct { const char *ct, *body; } bad[] = {
        {"application/json", "--XyZ123\r\n"},
        {"multipart/form-data", "--XyZ123\r\n"},
        {"multipart/form-data; boundary=", "--\r\n"},
        {"multipart/form-data; boundary=\"XyZ", "--XyZ\r\n"},
        {"multipart/form-data; boundary=0123456789012345678901234567890123456789012345678901234567890123456789X", "x"},
        {CT, ""},
        {CT, "no delimiter at all"},
        {CT, "--XyZ123"},
        {CT, "--XyZ123junk\r\n"},
        {CT, "--XyZ123\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunclosed data"},
        {CT, "--XyZ123\r\nContent-Disposition: form-data; name=\"a\"\r\n"},
        {CT, "--XyZ123\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ123--"},
        {CT, "--XyZ123\r\nContent-Disposition: form-data; name=\"unterminated\r\n\r\nx\r\n--XyZ123--"},
        {CT, "--XyZ123\r\nContent-Disposition: form-data; name=\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""
             "\r\n\r\nx\r\n--XyZ123--"},
        {CT, "--XyZ123\r\nContent-Disposition: form-data; name=\"a\"\nX: y\r\n\r\nx\r\n--XyZ123--"},
    };
    multipart_part p[MULTIPART_MAX_PARTS];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int n = 0;
        int rc = parse(bad[i].ct, bad[i].body, strlen(bad[i].body), p, &n);
        if (rc == 0) fprintf(stderr, "accepted bad case %zu\n", i);
        CHECK(rc != 0, "malformed multipart refused");
    }
    /* More than MULTIPART_MAX_PARTS parts. */
    char big[8192];
    size_t o = 0;
    for (int i = 0; i < MULTIPART_MAX_PARTS + 1; i++)
        o += (size_t)snprintf(big + o, sizeof big - o, "--XyZ123\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nv\r\n", i);
    o += (size_t)snprintf(big + o, sizeof big - o, "--XyZ123--\r\n");
    int n = 0;
    CHECK(parse(CT, big, o, p, &n) != 0, "33 parts refused");
    /* Headers longer than 8 KiB. */
    static char hdr[12000];
    o = (size_t)snprintf(hdr, sizeof hdr, "--XyZ123\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: ");
    memset(hdr + o, 'p', 9000), o += 9000;
    o += (size_t)snprintf(hdr + o, sizeof hdr - o, "\r\n\r\nx\r\n--XyZ123--\r\n");
    CHECK(parse(CT, hdr, o, p, &n) != 0, "an 8 KiB+ header block refused");
}

static void test_probe(void)
{
    long w, h;
    unsigned char png[33] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                             0, 0, 0xC3, 0x50, 0, 0, 0x01, 0x00, 8, 6, 0, 0, 0};
    CHECK(image_probe(png, sizeof png, &w, &h) == IMAGE_PNG && w == 50000 && h == 256, "PNG IHDR size");
    CHECK(image_probe(png, 23, &w, &h) == IMAGE_UNKNOWN, "PNG cut inside IHDR");
    png[12] = 'X';
    CHECK(image_probe(png, sizeof png, &w, &h) == IMAGE_UNKNOWN, "PNG whose first chunk is not IHDR");
    FILE *f = fopen("tests/fixtures/edit/exif6.jpg", "rb");
    static unsigned char jpg[1 << 20];
    size_t n = f ? fread(jpg, 1, sizeof jpg, f) : 0;
    if (f) fclose(f);
    CHECK(n > 0, "read tests/fixtures/edit/exif6.jpg");
    /* the stored frame, before its EXIF rotation (PIL's Image.open(...).size) */
    CHECK(image_probe(jpg, n, &w, &h) == IMAGE_JPEG && w == 53 && h == 37, "JPEG SOF size");
    long w2, h2;
    unsigned char t2i_jpeg_fill[] = {0xFF, 0xD8, 0xFF, 0xFF, 0xFF, 0xC2, 0, 11, 8, 0x01, 0x02, 0x03, 0x04, 3, 0, 0, 0};
    CHECK(image_probe(t2i_jpeg_fill, sizeof t2i_jpeg_fill, &w2, &h2) == IMAGE_JPEG && w2 == 0x0304 && h2 == 0x0102,
          "JPEG fill bytes before a progressive SOF2");
    unsigned char sos_first[] = {0xFF, 0xD8, 0xFF, 0xDA, 0, 2, 0xFF, 0xC0, 0, 11, 8, 0, 1, 0, 1, 3};
    CHECK(image_probe(sos_first, sizeof sos_first, &w2, &h2) == IMAGE_UNKNOWN, "JPEG scan before any frame");
    unsigned char zero[] = {0xFF, 0xD8, 0xFF, 0xC0, 0, 11, 8, 0, 0, 0, 1, 3, 0, 0, 0, 0, 0};
    CHECK(image_probe(zero, sizeof zero, &w2, &h2) == IMAGE_UNKNOWN, "JPEG height 0 (DNL) refused");
    CHECK(image_probe(NULL, 0, &w2, &h2) == IMAGE_UNKNOWN && image_probe((const unsigned char *)"GIF89a", 6, &w2, &h2)
          == IMAGE_UNKNOWN, "neither PNG nor JPEG");
    /* mutations of the JPEG's first 600 bytes: never out of bounds (ASan), sizes positive when found */
    static unsigned char m[600];
    size_t mn = n < sizeof m ? n : sizeof m;
    int bad = 0;
    for (int it = 0; it < 20000; it++) {
        memcpy(m, jpg, mn);
        for (int k2 = 0; k2 < 4; k2++) m[next_u32() % mn] = (unsigned char)next_u32();
        size_t len = next_u32() % (mn + 1);
        if (image_probe(m, len, &w2, &h2) != IMAGE_UNKNOWN && (w2 <= 0 || h2 <= 0)) bad++;
    }
    CHECK(bad == 0, "mutated JPEG headers: any size found is positive");
}

static void test_mutations(void)
{
    static const char body[] =
        "--XyZ123\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\na cat\r\n"
        "--XyZ123\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n"
        "Content-Type: image/png\r\n\r\n\x89PNG data\r\n--XyZ123--\r\n";
    static const char alphabet[] = "-\r\n\"=;XyZ123 \\a";
    unsigned char buf[sizeof body];
    multipart_part p[MULTIPART_MAX_PARTS];
    int outside = 0, accepted = 0;
    for (int it = 0; it < 20000; it++) {
        memcpy(buf, body, sizeof body - 1);
        int k = 1 + (int)(next_u32() % 4);
        for (int j = 0; j < k; j++)
            buf[next_u32() % (sizeof body - 1)] = next_u32() & 1 ? (unsigned char)alphabet[next_u32() % (sizeof alphabet - 1)]
                                                               : (unsigned char)next_u32();
        size_t len = next_u32() % sizeof body;
        int n = 0;
        const char *why;
        if (multipart_parse(CT, buf, len, p, &n, &why) == 0) {
            accepted++;
            for (int i = 0; i < n; i++)
                if (p[i].data < buf || p[i].data + p[i].len > buf + len) outside++;
        }
    }
    printf("mutations: %d of 20000 accepted\n", accepted);
    CHECK(outside == 0, "every accepted part lies inside the body");
    CHECK(accepted > 0 && accepted < 20000, "the mutations exercise both outcomes");
}

int main(void)
{
    test_valid();
    test_refused();
    test_probe();
    test_mutations();
    return test_finish();
}
