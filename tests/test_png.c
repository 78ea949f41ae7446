/*
 * test_png.c — PNG write/read round trips with the "parameters" text
 * (tEXt for Latin-1, iTXt for Chinese), decoding of every colour type and
 * bit depth (inputs made here with libpng), and hostile input: truncated and
 * corrupt files, oversized dimensions, all reported as errors with nothing
 * printed to stderr.
 */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/error.h"
#include "product/png_io.h"

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

/* ---- a minimal libpng writer for test inputs ------------------------------ */

typedef struct membuf { unsigned char *p; size_t n, cap; } membuf;

static void mem_write(png_structp png, png_bytep d, size_t n)
{
    membuf *m = png_get_io_ptr(png);
    if (m->n + n > m->cap) {
        m->cap = (m->n + n) * 2;
        m->p = realloc(m->p, m->cap);
        if (!m->p) abort();
    }
    memcpy(m->p + m->n, d, n);
    m->n += n;
}
static void mem_flush(png_structp png) { (void)png; }

typedef struct png_spec {
    int w, h, color_type, bit_depth, interlace;
    const unsigned char *rows;          /* packed rows as PNG stores them */
    const png_color *palette; int npalette;
    const unsigned char *trns; int ntrns;
    const char *text; int text_compression; int text_after_idat;
} png_spec;

static size_t row_bytes(const png_spec *s)
{
    int ch = s->color_type == PNG_COLOR_TYPE_GRAY || s->color_type == PNG_COLOR_TYPE_PALETTE ? 1
           : s->color_type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
           : s->color_type == PNG_COLOR_TYPE_RGB ? 3 : 4;
    return ((size_t)s->w * (size_t)ch * (size_t)s->bit_depth + 7) / 8;
}

static membuf make_png(const png_spec *s)
{
    membuf m = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) { fprintf(stderr, "make_png failed\n"); exit(1); }
    png_set_write_fn(png, &m, mem_write, mem_flush);
    png_set_IHDR(png, info, (png_uint_32)s->w, (png_uint_32)s->h, s->bit_depth, s->color_type,
                 s->interlace, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (s->palette) png_set_PLTE(png, info, s->palette, s->npalette);
    if (s->trns) png_set_tRNS(png, info, s->trns, s->ntrns, NULL);
    png_text t = {0};
    if (s->text) {
        t.compression = s->text_compression;
        t.key = (png_charp) "parameters";
        t.text = (png_charp)s->text;
        if (!s->text_after_idat) png_set_text(png, info, &t, 1);
    }
    png_write_info(png, info);
    size_t rb = row_bytes(s);
    png_bytep *rows = malloc(sizeof *rows * (size_t)s->h);
    for (int y = 0; y < s->h; y++) rows[y] = (png_bytep)s->rows + (size_t)y * rb;
    png_write_image(png, rows);
    if (s->text && s->text_after_idat) png_set_text(png, info, &t, 1);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(rows);
    return m;
}

/* Decode and compare with expected RGB8 pixels. */
static void expect_rgb(const char *label, membuf m, int w, int h, const unsigned char *rgb,
                       int tol)
{
    t2i_image img;
    t2i_status s = t2i_png_decode_memory(m.p, m.n, &img);
    if (s != T2I_OK) {
        fprintf(stderr, "FAIL %s: %s\n", label, t2i_last_error());
        failures++;
        return;
    }
    int ok = img.width == w && img.height == h && img.channels == 3;
    for (int i = 0; ok && i < w * h * 3; i++)
        if (abs((int)img.pixels[i] - (int)rgb[i]) > tol) {
            fprintf(stderr, "FAIL %s: byte %d = %d, want %d\n", label, i, img.pixels[i], rgb[i]);
            ok = 0;
        }
    if (!ok) failures++;
    t2i_image_clear(&img);
}

static unsigned char over_white(unsigned c, unsigned a)
{
    return (unsigned char)((c * a + 255 * (255 - a) + 127) / 255);
}

/* ---- round trips ------------------------------------------------------------- */

static unsigned char *pattern(int w, int h, int ch)
{
    unsigned char *p = malloc((size_t)(w * h * ch));
    for (int i = 0; i < w * h * ch; i++) p[i] = (unsigned char)(i * 37 + (i / 7) * 11);
    return p;
}

static int file_contains(const char *path, const void *needle, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    static unsigned char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(buf + i, needle, n) == 0) return 1;
    return 0;
}

static void test_round_trip(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/rt.png", tmpdir);
    t2i_image img = {.width = 7, .height = 5, .channels = 3, .pixels = pattern(7, 5, 3)};
    img.infotext = "café, a cat\nNegative prompt: dog\nSteps: 20, Sampler: Euler a";
    CHECK(t2i_image_write_png(&img, path) == T2I_OK);
    CHECK(file_contains(path, "tEXtparameters", 14));
    CHECK(!file_contains(path, "iTXt", 4));
    CHECK(file_contains(path, "caf\xe9,", 5));      /* stored as Latin-1 */
    t2i_image back;
    CHECK(t2i_png_read(path, &back) == T2I_OK);
    CHECK(back.width == 7 && back.height == 5 && back.channels == 3);
    CHECK(back.pixels && memcmp(back.pixels, img.pixels, 7 * 5 * 3) == 0);
    CHECK(back.infotext && strcmp(back.infotext, img.infotext) == 0);
    t2i_image_clear(&back);
    CHECK(back.pixels == NULL && back.infotext == NULL);

    /* A Chinese prompt goes through iTXt. */
    img.infotext = "一只橘猫，油画风格\nNegative prompt: 模糊\nSteps: 20, Seed: 1";
    CHECK(t2i_image_write_png(&img, path) == T2I_OK);
    CHECK(file_contains(path, "iTXtparameters", 14));
    CHECK(!file_contains(path, "tEXt", 4));
    CHECK(t2i_png_read(path, &back) == T2I_OK);
    CHECK(back.infotext && strcmp(back.infotext, img.infotext) == 0);
    CHECK(back.pixels && memcmp(back.pixels, img.pixels, 7 * 5 * 3) == 0);
    t2i_image_clear(&back);

    /* Memory encode/decode, no text. */
    img.infotext = NULL;
    void *buf = NULL;
    size_t n = 0;
    CHECK(t2i_png_encode_memory(&img, &buf, &n) == T2I_OK && n > 8);
    CHECK(t2i_png_decode_memory(buf, n, &back) == T2I_OK);
    CHECK(back.infotext == NULL && back.pixels && memcmp(back.pixels, img.pixels, 105) == 0);
    t2i_image_clear(&back);
    free(buf);

    /* Gray and RGBA writes read back as RGB. */
    unsigned char g[6] = {0, 50, 100, 150, 200, 255}, rgba[8] = {10, 20, 30, 255, 200, 100, 0, 128};
    t2i_image gi = {.width = 3, .height = 2, .channels = 1, .pixels = g};
    CHECK(t2i_png_encode_memory(&gi, &buf, &n) == T2I_OK);
    unsigned char want_g[18];
    for (int i = 0; i < 18; i++) want_g[i] = g[i / 3];
    expect_rgb("gray write", (membuf){buf, n, n}, 3, 2, want_g, 0);
    free(buf);
    t2i_image ai = {.width = 2, .height = 1, .channels = 4, .pixels = rgba};
    CHECK(t2i_png_encode_memory(&ai, &buf, &n) == T2I_OK);
    unsigned char want_a[6] = {10, 20, 30, over_white(200, 128), over_white(100, 128),
                               over_white(0, 128)};
    expect_rgb("rgba write", (membuf){buf, n, n}, 2, 1, want_a, 0);
    free(buf);

    /* Bad arguments. */
    t2i_image bad = img;
    bad.channels = 2;
    CHECK(t2i_png_encode_memory(&bad, &buf, &n) == T2I_ERR_INVALID_ARG && buf == NULL);
    bad = img;
    bad.width = 0;
    CHECK(t2i_png_encode_memory(&bad, &buf, &n) == T2I_ERR_INVALID_ARG);
    bad = img;
    bad.infotext = "bad \xff utf8";
    CHECK(t2i_png_encode_memory(&bad, &buf, &n) == T2I_ERR_INVALID_ARG);
    snprintf(path, sizeof path, "%s/no/such/dir.png", tmpdir);
    CHECK(t2i_image_write_png(&img, path) == T2I_ERR_IO && strstr(t2i_last_error(), path));
    free(img.pixels);

    /* t2i_images_free: pixels, infotext, the array; NULL accepted. */
    t2i_image *arr = calloc(2, sizeof *arr);
    arr[0].pixels = malloc(3);
    arr[1].infotext = strdup("x");
    t2i_images_free(arr, 2);
    t2i_images_free(NULL, 0);
}

/* ---- every input kind ----------------------------------------------------- */

static void test_input_kinds(void)
{
    /* Palette, 4-bit, with tRNS: entry 0 transparent, 1 half, 2 opaque. */
    png_color pal[3] = {{255, 0, 0}, {0, 255, 0}, {10, 20, 200}};
    unsigned char trns[2] = {0, 128};
    unsigned char prow[2] = {0x01, 0x22};     /* pixels 0,1,2,2 */
    png_spec ps = {.w = 4, .h = 1, .color_type = PNG_COLOR_TYPE_PALETTE, .bit_depth = 4,
                   .rows = prow, .palette = pal, .npalette = 3, .trns = trns, .ntrns = 2};
    membuf m = make_png(&ps);
    unsigned char want_p[12] = {255, 255, 255,
                                over_white(0, 128), 255, over_white(0, 128),
                                10, 20, 200, 10, 20, 200};
    expect_rgb("palette+tRNS 4-bit", m, 4, 1, want_p, 0);
    free(m.p);

    /* Gray 1-bit: 10110000 -> 255 0 255 255 0 0 0 0 (w=8). */
    unsigned char g1 = 0xb0;
    png_spec gs = {.w = 8, .h = 1, .color_type = PNG_COLOR_TYPE_GRAY, .bit_depth = 1, .rows = &g1};
    m = make_png(&gs);
    unsigned char want_g1[24];
    for (int i = 0; i < 8; i++) memset(want_g1 + 3 * i, (0xb0 >> (7 - i)) & 1 ? 255 : 0, 3);
    expect_rgb("gray 1-bit", m, 8, 1, want_g1, 0);
    free(m.p);

    /* Gray 8-bit with a tRNS colour key (value 7 is transparent). */
    unsigned char g8[3] = {7, 8, 200};
    png_color_16 key = {.gray = 7};
    png_spec gk = {.w = 3, .h = 1, .color_type = PNG_COLOR_TYPE_GRAY, .bit_depth = 8, .rows = g8};
    {
        membuf mm = {0};
        png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
        png_infop info = png_create_info_struct(png);
        if (setjmp(png_jmpbuf(png))) exit(1);
        png_set_write_fn(png, &mm, mem_write, mem_flush);
        png_set_IHDR(png, info, 3, 1, 8, PNG_COLOR_TYPE_GRAY, 0, 0, 0);
        png_set_tRNS(png, info, NULL, 0, &key);
        png_write_info(png, info);
        png_write_row(png, g8);
        png_write_end(png, info);
        png_destroy_write_struct(&png, &info);
        unsigned char want[9] = {255, 255, 255, 8, 8, 8, 200, 200, 200};
        expect_rgb("gray + tRNS key", mm, 3, 1, want, 0);
        free(mm.p);
    }
    (void)gk;

    /* Gray+alpha 8-bit. */
    unsigned char ga[4] = {100, 0, 100, 200};
    png_spec gas = {.w = 2, .h = 1, .color_type = PNG_COLOR_TYPE_GRAY_ALPHA, .bit_depth = 8,
                    .rows = ga};
    m = make_png(&gas);
    unsigned char want_ga[6] = {255, 255, 255, over_white(100, 200), over_white(100, 200),
                                over_white(100, 200)};
    expect_rgb("gray+alpha", m, 2, 1, want_ga, 0);
    free(m.p);

    /* Gray 16-bit: k*257 scales to exactly k. */
    unsigned char g16[6] = {0x00, 0x00, 0x80, 0x80, 0xff, 0xff};   /* 0, 128*257, 65535 */
    png_spec g16s = {.w = 3, .h = 1, .color_type = PNG_COLOR_TYPE_GRAY, .bit_depth = 16,
                     .rows = g16};
    m = make_png(&g16s);
    unsigned char want_g16[9] = {0, 0, 0, 128, 128, 128, 255, 255, 255};
    expect_rgb("gray 16-bit", m, 3, 1, want_g16, 0);
    free(m.p);

    /* RGB 16-bit: k*257 exact; 0x1234 rounds to 0x1234*255/65535 = 18.13 -> 18. */
    unsigned char r16[12] = {0x0a, 0x0a, 0x14, 0x14, 0xfe, 0xfe, 0x12, 0x34, 0x00, 0x00, 0xff, 0xff};
    png_spec r16s = {.w = 2, .h = 1, .color_type = PNG_COLOR_TYPE_RGB, .bit_depth = 16,
                     .rows = r16};
    m = make_png(&r16s);
    unsigned char want_r16[6] = {10, 20, 254, 18, 0, 255};
    expect_rgb("rgb 16-bit", m, 2, 1, want_r16, 0);
    free(m.p);

    /* RGBA 16-bit: alpha 0x8080 -> 128 (exact), then composite. */
    unsigned char a16[8] = {0x64, 0x64, 0xc8, 0xc8, 0x00, 0x00, 0x80, 0x80};
    png_spec a16s = {.w = 1, .h = 1, .color_type = PNG_COLOR_TYPE_RGB_ALPHA, .bit_depth = 16,
                     .rows = a16};
    m = make_png(&a16s);
    unsigned char want_a16[3] = {over_white(100, 128), over_white(200, 128), over_white(0, 128)};
    expect_rgb("rgba 16-bit", m, 1, 1, want_a16, 0);
    free(m.p);

    /* Interlaced (Adam7) RGB, 13x11, and zTXt text after IDAT in Latin-1. */
    unsigned char *rgb = pattern(13, 11, 3);
    png_spec is = {.w = 13, .h = 11, .color_type = PNG_COLOR_TYPE_RGB, .bit_depth = 8,
                   .interlace = PNG_INTERLACE_ADAM7, .rows = rgb, .text = "na\xefve, Steps: 5",
                   .text_compression = PNG_TEXT_COMPRESSION_zTXt, .text_after_idat = 1};
    m = make_png(&is);
    expect_rgb("interlaced rgb", m, 13, 11, rgb, 0);
    t2i_image img;
    CHECK(t2i_png_decode_memory(m.p, m.n, &img) == T2I_OK);
    CHECK(img.infotext && strcmp(img.infotext, "naïve, Steps: 5") == 0);
    t2i_image_clear(&img);
    free(m.p);

    /* Compressed iTXt written by another tool. */
    png_spec zi = {.w = 13, .h = 11, .color_type = PNG_COLOR_TYPE_RGB, .bit_depth = 8,
                   .rows = rgb, .text = "猫, Steps: 5",
                   .text_compression = PNG_ITXT_COMPRESSION_zTXt};
    m = make_png(&zi);
    CHECK(t2i_png_decode_memory(m.p, m.n, &img) == T2I_OK);
    CHECK(img.infotext && strcmp(img.infotext, "猫, Steps: 5") == 0);
    t2i_image_clear(&img);
    free(m.p);
    free(rgb);
}

/* ---- hostile input ---------------------------------------------------------- */

static uint32_t crc32_png(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return c ^ 0xffffffffu;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}

/* Signature + IHDR (w, h, 8-bit RGB) with a correct CRC, nothing else. */
static size_t ihdr_only(unsigned char *buf, uint32_t w, uint32_t h)
{
    memcpy(buf, "\x89PNG\r\n\x1a\n", 8);
    put_be32(buf + 8, 13);
    memcpy(buf + 12, "IHDR", 4);
    put_be32(buf + 16, w);
    put_be32(buf + 20, h);
    memcpy(buf + 24, "\x08\x02\x00\x00\x00", 5);
    put_be32(buf + 29, crc32_png(buf + 12, 17));
    return 33;
}

static void expect_error(const char *label, const void *p, size_t n, const char *frag)
{
    t2i_image img;
    t2i_status s = t2i_png_decode_memory(p, n, &img);
    if (s != T2I_ERR_FORMAT || img.pixels || (frag && !strstr(t2i_last_error(), frag))) {
        fprintf(stderr, "FAIL %s: got %s \"%s\", want T2I_ERR_FORMAT with \"%s\"\n", label,
                t2i_status_name(s), t2i_last_error(), frag ? frag : "");
        failures++;
    }
    if (s == T2I_OK) t2i_image_clear(&img);
}

static void test_hostile(void)
{
    /* Capture stderr: nothing may be printed by libpng. */
    char errpath[128];
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", tmpdir);
    fflush(stderr);
    int saved = dup(2);
    FILE *cap = freopen(errpath, "w", stderr);
    CHECK(cap != NULL);

    unsigned char *rgb = pattern(32, 32, 3);
    t2i_image img = {.width = 32, .height = 32, .channels = 3, .pixels = rgb,
                     .infotext = "a, b, Steps: 3"};
    void *buf;
    size_t n;
    CHECK(t2i_png_encode_memory(&img, &buf, &n) == T2I_OK);
    unsigned char *p = buf;

    size_t cuts[] = {0, 7, 8, 20, 33, 40, n / 2, n - 12, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        char label[64];
        snprintf(label, sizeof label, "truncated at %zu of %zu", cuts[i], n);
        expect_error(label, p, cuts[i], cuts[i] < 8 ? "not a PNG" : NULL);
    }
    expect_error("truncated mid-IDAT", p, n / 2, "truncated");
    /* A chunk declaring more bytes than the file holds is refused before
     * libpng allocates them (found by tests/fuzz/fuzz_png: 316 bytes
     * declaring a 2 GB zTXt took 2 GB and seconds). */
    {
        unsigned char big[33 + 8 + 40] = {0};
        memcpy(big, p, 33);                       /* signature + IHDR */
        put_be32(big + 33, 0x7E00001Cu);
        memcpy(big + 37, "zTXt", 4);
        expect_error("2 GB chunk in an 81-byte file", big, sizeof big, "declares 2113929244 bytes");
    }

    unsigned char *c = malloc(n);
    memcpy(c, p, n);
    c[0] = 'G';
    expect_error("bad signature", c, n, "not a PNG");
    memcpy(c, p, n);
    c[18] ^= 1;                                   /* width byte: IHDR CRC fails */
    expect_error("IHDR CRC", c, n, "CRC");
    /* Find IDAT; corrupt its zlib data but fix the CRC so zlib sees it. */
    size_t at = 8;
    while (at + 8 < n && memcmp(c + at + 4, "IDAT", 4) != 0) {
        uint32_t len = ((uint32_t)c[at] << 24) | ((uint32_t)c[at + 1] << 16) |
                       ((uint32_t)c[at + 2] << 8) | c[at + 3];
        at += 12 + len;
    }
    CHECK(at + 8 < n);
    uint32_t len = ((uint32_t)c[at] << 24) | ((uint32_t)c[at + 1] << 16) |
                   ((uint32_t)c[at + 2] << 8) | c[at + 3];
    memcpy(c, p, n);
    c[at + 8 + len] ^= 1;                          /* the IDAT CRC itself */
    expect_error("IDAT CRC", c, n, "CRC");
    memcpy(c, p, n);
    c[at + 8 + 1] ^= 0xff;                         /* zlib header check byte */
    expect_error("IDAT data changed", c, n, NULL);
    put_be32(c + at + 8 + len, crc32_png(c + at + 4, 4 + len));
    expect_error("bad zlib stream", c, n, NULL);
    memcpy(c, p, n);
    for (size_t i = at + 8 + 2; i < at + 8 + len - 4; i++) c[i] = 0xff;
    put_be32(c + at + 8 + len, crc32_png(c + at + 4, 4 + len));
    expect_error("garbage deflate data", c, n, NULL);
    free(c);
    free(buf);
    free(rgb);

    /* Oversized dimensions: rejected at IHDR, before any pixel allocation
     * (the files end right after IHDR, so allocating first would report
     * truncation instead). */
    unsigned char hdr[64];
    n = ihdr_only(hdr, 16385, 16);
    expect_error("width 16385", hdr, n, "too large");
    n = ihdr_only(hdr, 16, 16385);
    expect_error("height 16385", hdr, n, "too large");
    n = ihdr_only(hdr, 100000, 100000);
    expect_error("100000 x 100000", hdr, n, "too large");
    n = ihdr_only(hdr, 0x7fffffffu, 0x7fffffffu);
    expect_error("2^31-1 square", hdr, n, NULL);
    n = ihdr_only(hdr, 0, 5);
    expect_error("zero width", hdr, n, NULL);
    n = ihdr_only(hdr, 16, 16);
    expect_error("no IDAT", hdr, n, "truncated");

    char path[128];
    snprintf(path, sizeof path, "%s/missing.png", tmpdir);
    t2i_image out;
    CHECK(t2i_png_read(path, &out) == T2I_ERR_IO && strstr(t2i_last_error(), path));

    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    FILE *ef = fopen(errpath, "rb");
    long size = -1;
    if (ef) { fseek(ef, 0, SEEK_END); size = ftell(ef); fclose(ef); }
    if (size != 0) {
        char line[512];
        ef = fopen(errpath, "rb");
        while (ef && fgets(line, sizeof line, ef)) fputs(line, stderr);
        if (ef) fclose(ef);
        fprintf(stderr, "FAIL: %ld bytes printed to stderr during hostile input\n", size);
        failures++;
    }
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/t2i_png_XXXXXX");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    test_round_trip();
    test_input_kinds();
    test_hostile();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", tmpdir);
    if (failures) { fprintf(stderr, "test_png: %d failure(s)\n", failures); return 1; }
    printf("test_png: all passed\n");
    return 0;
}
