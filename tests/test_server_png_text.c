/*
 * test_server_png_text.c — t2i_png_read_text_memory, which /sdapi/v1/png-info
 * uses on hostile uploads: the "parameters" text of tEXt / zTXt / iTXt
 * chunks before or after the image data, agreeing with the pixel decoder on
 * PNGs it writes; a PNG that declares 8192×8192 pixels (whose image data is
 * not even valid) read without decoding; and malformed inputs (bad
 * signature, bad CRC, truncation, chunk length past the end, IHDR not first,
 * a text chunk inflating past 8 MiB) refused with T2I_ERR_FORMAT. Then
 * 20,000 random mutations of a valid PNG must never crash and must return
 * either OK or FORMAT (half of them with their CRCs fixed up, so that they
 * reach the text handling).
 */
#include <stdint.h>
#include <zlib.h>
#include "t2i.h"
#include "test_util.h"

#define CHECK1(cond) CHECK(cond, "%s", "")

typedef struct buf { unsigned char *p; size_t n, cap; } buf;

static void put(buf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void put32(buf *b, uint32_t v)
{
    unsigned char q[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                          (unsigned char)v};
    put(b, q, 4);
}

static void chunk(buf *b, const char *type, const void *data, size_t n)
{
    put32(b, (uint32_t)n);
    size_t at = b->n;
    put(b, type, 4);
    if (n) put(b, data, n);
    put32(b, (uint32_t)crc32(crc32(0L, Z_NULL, 0), b->p + at, (uInt)(n + 4)));
}

static void start(buf *b, uint32_t w, uint32_t h)
{
    b->n = 0;
    put(b, "\x89PNG\r\n\x1a\n", 8);
    unsigned char ihdr[13] = {0};
    for (int k = 0; k < 4; k++) ihdr[k] = (unsigned char)(w >> (24 - 8 * k)), ihdr[4 + k] = (unsigned char)(h >> (24 - 8 * k));
    ihdr[8] = 8, ihdr[9] = 2;                      /* 8-bit RGB */
    chunk(b, "IHDR", ihdr, 13);
}

/* keyword\0 + (method byte for zTXt) + text, compressed when asked. */
static void text(buf *b, const char *type, const char *key, const char *t, int compress_it)
{
    buf c = {0};
    put(&c, key, strlen(key) + 1);
    if (!strcmp(type, "zTXt")) put(&c, "\0", 1);
    if (!strcmp(type, "iTXt")) put(&c, compress_it ? "\1\0" : "\0\0", 2), put(&c, "\0\0", 2);
    if (compress_it) {
        uLongf zn = compressBound(strlen(t));
        unsigned char *z = malloc(zn);
        compress(z, &zn, (const Bytef *)t, strlen(t));
        put(&c, z, zn);
        free(z);
    } else {
        put(&c, t, strlen(t));
    }
    chunk(b, type, c.p, c.n);
    free(c.p);
}

static t2i_status read_text(const buf *b, char **t, int *w, int *h)
{
    return t2i_png_read_text_memory(b->p, b->n, t, w, h);
}

static void test_agrees_with_decoder(void)
{
    unsigned char px[8 * 4 * 3];
    for (size_t i = 0; i < sizeof px; i++) px[i] = (unsigned char)(i * 7);
    const char *info = "a cat, 水彩画\nNegative prompt: blurry\nSteps: 4, Sampler: Euler a, Seed: 77, Size: 8x4";
    t2i_image img = {.width = 8, .height = 4, .channels = 3, .pixels = px, .infotext = (char *)info};
    void *png = NULL;
    size_t n = 0;
    CHECK1(t2i_png_encode_memory(&img, &png, &n) == T2I_OK);
    t2i_image back;
    CHECK1(t2i_png_decode_memory(png, n, &back) == T2I_OK);
    char *t = NULL;
    int w = 0, h = 0;
    CHECK1(t2i_png_read_text_memory(png, n, &t, &w, &h) == T2I_OK);
    CHECK1(t && back.infotext && !strcmp(t, back.infotext) && !strcmp(t, info));
    CHECK1(w == 8 && h == 4);
    t2i_free(t);
    t2i_image_clear(&back);
    img.infotext = NULL;                                   /* no text: OK with NULL */
    free(png);
    CHECK1(t2i_png_encode_memory(&img, &png, &n) == T2I_OK);
    t = (char *)1;
    CHECK1(t2i_png_read_text_memory(png, n, &t, NULL, NULL) == T2I_OK && t == NULL);
    free(png);
}

static void test_chunk_kinds(void)
{
    buf b = {0};
    char *t = NULL;
    int w, h;
    /* 8192×8192 declared, garbage image data: only the text is read. */
    start(&b, 8192, 8192);
    text(&b, "tEXt", "Software", "x", 0);
    text(&b, "tEXt", "parameters", "caf\xe9 latin-1", 0);
    chunk(&b, "IDAT", "garbage, not zlib", 17);
    chunk(&b, "IEND", NULL, 0);
    CHECK1(read_text(&b, &t, &w, &h) == T2I_OK && t && !strcmp(t, "caf\xc3\xa9 latin-1") && w == 8192 && h == 8192);
    t2i_free(t);
    /* zTXt after the image data; compressed and plain iTXt (UTF-8). */
    start(&b, 64, 64);
    chunk(&b, "IDAT", "x", 1);
    text(&b, "zTXt", "parameters", "zipped text", 1);
    chunk(&b, "IEND", NULL, 0);
    CHECK1(read_text(&b, &t, NULL, NULL) == T2I_OK && t && !strcmp(t, "zipped text"));
    t2i_free(t);
    for (int z = 0; z < 2; z++) {
        start(&b, 64, 64);
        text(&b, "iTXt", "parameters", "水彩画 utf-8", z);
        chunk(&b, "IEND", NULL, 0);
        CHECK1(read_text(&b, &t, NULL, NULL) == T2I_OK && t && !strcmp(t, "水彩画 utf-8"));
        t2i_free(t);
    }
    free(b.p);
}

static void expect_format(const buf *b, const char *what)
{
    char *t = (char *)1;
    t2i_status s = read_text(b, &t, NULL, NULL);
    if (s != T2I_ERR_FORMAT || t != NULL) {
        fprintf(stderr, "not refused as FORMAT (%d): %s\n", (int)s, what);
        CHECK1(0);
    } else {
        CHECK1(1);
    }
}

static void test_malformed(void)
{
    buf b = {0};
    start(&b, 64, 64);
    text(&b, "tEXt", "parameters", "x", 0);
    chunk(&b, "IEND", NULL, 0);
    buf good = {0};
    put(&good, b.p, b.n);
    b.p[30] ^= 1;                                             /* inside a chunk: CRC fails */
    expect_format(&b, "bad CRC");
    b.n = 0, put(&b, good.p, good.n - 12);
    expect_format(&b, "no IEND");
    b.n = 0, put(&b, good.p, good.n - 5);
    expect_format(&b, "truncated");
    b.n = 0, put(&b, good.p, good.n), b.p[0] = 'x';
    expect_format(&b, "bad signature");
    b.n = 0, put(&b, good.p, good.n), b.p[8] = 0x7f;          /* IHDR length 2^31 - ... */
    expect_format(&b, "chunk length past the end");
    b.n = 0;
    put(&b, "\x89PNG\r\n\x1a\n", 8);
    text(&b, "tEXt", "parameters", "x", 0);
    chunk(&b, "IEND", NULL, 0);
    expect_format(&b, "IHDR not first");
    start(&b, 64, 64);                                        /* 9 MiB of text in a few kB */
    size_t big = 9u << 20;
    char *s = malloc(big + 1);
    memset(s, 'a', big), s[big] = 0;
    text(&b, "zTXt", "parameters", s, 1);
    chunk(&b, "IEND", NULL, 0);
    free(s);
    CHECK1(b.n < 64 * 1024);
    expect_format(&b, "text inflating past 8 MiB");
    start(&b, 64, 64);
    text(&b, "zTXt", "parameters", "x", 1);
    b.p[b.n - 6] ^= 0xff;                                     /* corrupt the deflate stream, fix the CRC */
    {
        size_t len_at = 33, n = b.n - len_at - 12;
        uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), b.p + len_at + 4, (uInt)(n + 4));
        for (int k = 0; k < 4; k++) b.p[b.n - 4 + k] = (unsigned char)(crc >> (24 - 8 * k));
    }
    chunk(&b, "IEND", NULL, 0);
    expect_format(&b, "corrupt compressed text");
    CHECK1(t2i_png_read_text_memory(NULL, 0, &s, NULL, NULL) == T2I_ERR_FORMAT);
    free(b.p);
    free(good.p);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t next_u32(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)rng;
}

/* Recompute every CRC a chunk walk reaches, so that mutations get past the
 * CRC check into the text handling. */
static void fix_crcs(buf *b)
{
    size_t pos = 8;
    while (b->n >= 12 && pos <= b->n - 12) {
        uint32_t len = (uint32_t)b->p[pos] << 24 | (uint32_t)b->p[pos + 1] << 16 | (uint32_t)b->p[pos + 2] << 8 |
                       b->p[pos + 3];
        if (len > b->n - pos - 12) return;
        uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), b->p + pos + 4, (uInt)(len + 4));
        for (int k = 0; k < 4; k++) b->p[pos + 8 + len + k] = (unsigned char)(crc >> (24 - 8 * k));
        pos += (size_t)len + 12;
    }
}

static void test_mutations(void)
{
    buf b = {0}, m = {0};
    start(&b, 64, 64);
    text(&b, "zTXt", "parameters", "Steps: 20, Seed: 1", 1);
    text(&b, "iTXt", "parameters", "second", 0);
    chunk(&b, "IDAT", "x", 1);
    chunk(&b, "IEND", NULL, 0);
    int ok = 0, bad = 0, other = 0;
    for (int i = 0; i < 20000; i++) {
        m.n = 0;
        put(&m, b.p, b.n);
        int edits = 1 + (int)(next_u32() % 4);
        for (int e = 0; e < edits; e++) m.p[next_u32() % m.n] = (unsigned char)next_u32();
        if (next_u32() % 4 == 0) m.n = next_u32() % m.n;
        if (i % 2) fix_crcs(&m);
        char *t = NULL;
        t2i_status s = t2i_png_read_text_memory(m.p, m.n, &t, NULL, NULL);
        if (s == T2I_OK) ok++;
        else if (s == T2I_ERR_FORMAT && !t) bad++;
        else other++;
        t2i_free(t);
    }
    printf("mutations: %d read, %d refused, %d other\n", ok, bad, other);
    CHECK1(other == 0 && ok > 0 && bad > 0);
    free(b.p);
    free(m.p);
}

int main(void)
{
    test_agrees_with_decoder();
    test_chunk_kinds();
    test_malformed();
    test_mutations();
    return test_finish();
}
