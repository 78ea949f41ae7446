/*
 * png_io.c — libpng glue: RGB8 encode with a "parameters" text chunk, decode
 * of any PNG to RGB8 (see png_io.h for the conversions).
 *
 * libpng reports errors by calling our error function, which must not
 * return: it records the message and longjmps back to the setjmp in
 * png_encode_run / png_decode_run. Everything those functions allocate or
 * change lives in a png_job owned by the caller (not in locals of the
 * function that called setjmp), so nothing is indeterminate after the
 * longjmp, and the caller's single cleanup path frees it all. The warning
 * function drops warnings: libpng never writes to stderr.
 *
 * t2i_png_read_text_memory does not use libpng: it walks the chunks itself
 * (length, type, data, CRC) and inflates only a compressed "parameters"
 * chunk, so reading the text of a PNG that declares 8192×8192 pixels costs
 * no more memory than the text.
 */
#include <errno.h>
#include <png.h>
#include <zlib.h>
#include <stdlib.h>
#include <string.h>
#include "base/error.h"
#include "product/png_io.h"

typedef struct png_job {
    const char *name;          /* file name or "<memory>" for messages */
    char msg[200];             /* first libpng error message */
    t2i_status status;         /* status of that error (FORMAT unless set) */
    png_structp png;
    png_infop info, end_info;
    /* decode */
    const unsigned char *in;
    size_t in_size, in_pos;
    unsigned char *pixels;     /* RGBA8 while decoding, RGB8 at the end */
    png_bytep *rows;
    char *text;                /* "parameters" as UTF-8 */
    png_uint_32 width, height;
    /* encode */
    FILE *fp;                  /* write to a file, or else to out[] */
    unsigned char *out;
    size_t out_size, out_cap;
    char *latin1;              /* infotext converted for tEXt */
} png_job;

static void on_png_error(png_structp png, png_const_charp msg)
{
    png_job *j = png_get_error_ptr(png);
    if (!j->msg[0]) snprintf(j->msg, sizeof j->msg, "%s", msg);
    if (j->status == T2I_OK)
        j->status = strstr(msg, "ut of memory") ? T2I_ERR_NOMEM : T2I_ERR_FORMAT;
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* Raise an error from a callback with a given status. */
static void job_error(png_job *j, t2i_status s, const char *msg)
{
    j->status = s;
    png_error(j->png, msg);
}

/* ---- text helpers --------------------------------------------------------- */

/* Decode one UTF-8 code point at s[*i] (strict); -1 if invalid. */
static long utf8_next(const unsigned char *s, size_t n, size_t *i)
{
    unsigned c = s[*i];
    if (c < 0x80) { (*i)++; return c; }
    size_t len; unsigned long cp, min;
    if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; min = 0x80; }
    else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; min = 0x800; }
    else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; min = 0x10000; }
    else return -1;
    if (n - *i < len) return -1;
    for (size_t k = 1; k < len; k++) {
        if ((s[*i + k] & 0xc0) != 0x80) return -1;
        cp = (cp << 6) | (s[*i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
    *i += len;
    return (long)cp;
}

/* 1 if valid UTF-8, with *latin1 = 1 when every code point is <= U+00FF. */
static int utf8_check(const char *s, int *latin1)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s), i = 0;
    *latin1 = 1;
    while (i < n) {
        long cp = utf8_next(u, n, &i);
        if (cp < 0) return 0;
        if (cp > 0xff) *latin1 = 0;
    }
    return 1;
}

/* UTF-8 (all code points <= U+00FF) -> Latin-1, malloc'ed. */
static char *utf8_to_latin1(const char *s)
{
    size_t n = strlen(s), i = 0, o = 0;
    char *out = malloc(n + 1);
    if (!out) return NULL;
    while (i < n) out[o++] = (char)utf8_next((const unsigned char *)s, n, &i);
    out[o] = 0;
    return out;
}

/* Latin-1 -> UTF-8, malloc'ed. */
static char *latin1_to_utf8(const char *s)
{
    size_t n = strlen(s), o = 0;
    char *out = malloc(2 * n + 1);
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) out[o++] = (char)c;
        else { out[o++] = (char)(0xc0 | (c >> 6)); out[o++] = (char)(0x80 | (c & 0x3f)); }
    }
    out[o] = 0;
    return out;
}

/* ---- encode --------------------------------------------------------------- */

static void write_cb(png_structp png, png_bytep data, size_t n)
{
    png_job *j = png_get_io_ptr(png);
    if (j->fp) {
        if (fwrite(data, 1, n, j->fp) != n) job_error(j, T2I_ERR_IO, strerror(errno));
        return;
    }
    if (j->out_size + n > j->out_cap) {
        size_t cap = j->out_cap ? j->out_cap : 65536;
        while (cap < j->out_size + n) cap *= 2;
        unsigned char *p = realloc(j->out, cap);
        if (!p) job_error(j, T2I_ERR_NOMEM, "out of memory");
        j->out = p;
        j->out_cap = cap;
    }
    memcpy(j->out + j->out_size, data, n);
    j->out_size += n;
}

static void flush_cb(png_structp png) { (void)png; }

/* Runs libpng; returns 0 on success, 1 after a libpng error (in j->msg). */
static int png_encode_run(png_job *j, const t2i_image *img, int latin1)
{
    if (setjmp(png_jmpbuf(j->png))) return 1;
    png_set_write_fn(j->png, j, write_cb, flush_cb);
    int type = img->channels == 1 ? PNG_COLOR_TYPE_GRAY
             : img->channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGB_ALPHA;
    png_set_IHDR(j->png, j->info, (png_uint_32)img->width, (png_uint_32)img->height, 8, type,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (img->infotext) {
        png_text t;
        memset(&t, 0, sizeof t);
        t.key = (png_charp) "parameters";
        if (latin1) {
            t.compression = PNG_TEXT_COMPRESSION_NONE;
            t.text = j->latin1;
            t.text_length = strlen(j->latin1);
        } else {
            t.compression = PNG_ITXT_COMPRESSION_NONE;
            t.text = img->infotext;
            t.itxt_length = strlen(img->infotext);
        }
        png_set_text(j->png, j->info, &t, 1);
    }
    png_write_info(j->png, j->info);
    size_t stride = (size_t)img->width * (size_t)img->channels;
    for (int y = 0; y < img->height; y++)
        png_write_row(j->png, img->pixels + (size_t)y * stride);
    png_write_end(j->png, j->info);
    return 0;
}

/* Encode to j->fp or j->out. */
static t2i_status png_encode(png_job *j, const t2i_image *img)
{
    if (!img || !img->pixels || img->width <= 0 || img->height <= 0 ||
        img->width > T2I_PNG_MAX_SIDE || img->height > T2I_PNG_MAX_SIDE ||
        (img->channels != 1 && img->channels != 3 && img->channels != 4))
        return t2i_fail(T2I_ERR_INVALID_ARG, "%s: cannot encode image (%dx%d, %d channels)",
                        j->name, img ? img->width : 0, img ? img->height : 0,
                        img ? img->channels : 0);
    int latin1 = 0;
    if (img->infotext) {
        if (!utf8_check(img->infotext, &latin1))
            return t2i_fail(T2I_ERR_INVALID_ARG, "%s: infotext is not valid UTF-8", j->name);
        if (latin1 && !(j->latin1 = utf8_to_latin1(img->infotext)))
            return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", j->name);
    }
    j->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, j, on_png_error, on_png_warning);
    if (!j->png || !(j->info = png_create_info_struct(j->png)))
        return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory for libpng", j->name);
    if (png_encode_run(j, img, latin1))
        return t2i_fail(j->status, "%s: PNG write failed: %s", j->name, j->msg);
    return T2I_OK;
}

static void job_free_write(png_job *j)
{
    if (j->png) png_destroy_write_struct(&j->png, j->info ? &j->info : NULL);
    free(j->latin1);
}

t2i_status t2i_png_encode_memory(const t2i_image *img, void **out, size_t *out_size)
{
    *out = NULL;
    *out_size = 0;
    png_job j = {.name = "<memory>"};
    t2i_status s = png_encode(&j, img);
    job_free_write(&j);
    if (s) { free(j.out); return s; }
    *out = j.out;
    *out_size = j.out_size;
    return T2I_OK;
}

t2i_status t2i_image_write_png(const t2i_image *img, const char *path)
{
    png_job j = {.name = path};
    j.fp = fopen(path, "wb");
    if (!j.fp) return t2i_fail(T2I_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    t2i_status s = png_encode(&j, img);
    job_free_write(&j);
    if (fclose(j.fp) != 0 && s == T2I_OK)
        s = t2i_fail(T2I_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    if (s) remove(path);
    return s;
}

/* ---- decode --------------------------------------------------------------- */

static void read_cb(png_structp png, png_bytep data, size_t n)
{
    png_job *j = png_get_io_ptr(png);
    if (j->in_size - j->in_pos < n) job_error(j, T2I_ERR_FORMAT, "unexpected end of data (truncated file)");
    memcpy(data, j->in + j->in_pos, n);
    j->in_pos += n;
}

/* Take the first "parameters" text chunk as UTF-8 into j->text. */
static void grab_text(png_job *j, png_infop info)
{
    png_textp text;
    int n = 0;
    if (j->text || !png_get_text(j->png, info, &text, &n)) return;
    for (int i = 0; i < n; i++) {
        if (strcmp(text[i].key, "parameters") != 0 || !text[i].text) continue;
        int is_itxt = text[i].compression == PNG_ITXT_COMPRESSION_NONE ||
                      text[i].compression == PNG_ITXT_COMPRESSION_zTXt;
        int latin1;
        /* iTXt is UTF-8 by definition; if it is not, read it as Latin-1 so
         * that the caller always gets valid UTF-8. */
        if (is_itxt && utf8_check(text[i].text, &latin1)) j->text = strdup(text[i].text);
        else j->text = latin1_to_utf8(text[i].text);
        if (!j->text) job_error(j, T2I_ERR_NOMEM, "out of memory");
        return;
    }
}

static int png_decode_run(png_job *j)
{
    if (setjmp(png_jmpbuf(j->png))) return 1;
    png_set_read_fn(j->png, j, read_cb);
    png_set_user_limits(j->png, T2I_PNG_MAX_SIDE, T2I_PNG_MAX_SIDE);
    png_set_chunk_malloc_max(j->png, T2I_PNG_MAX_CHUNK);
    png_set_chunk_cache_max(j->png, 1000);
    png_read_info(j->png, j->info);

    int bit_depth, type, interlace;
    png_get_IHDR(j->png, j->info, &j->width, &j->height, &bit_depth, &type, &interlace, NULL,
                 NULL);
    if (j->width > T2I_PNG_MAX_SIDE || j->height > T2I_PNG_MAX_SIDE ||
        (uint64_t)j->width * j->height > T2I_PNG_MAX_PIXELS) {
        char m[120];
        snprintf(m, sizeof m, "image %ux%u is too large (limits: %d per side, %u pixels)",
                 (unsigned)j->width, (unsigned)j->height, T2I_PNG_MAX_SIDE, T2I_PNG_MAX_PIXELS);
        job_error(j, T2I_ERR_FORMAT, m);
    }
    if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(j->png);
    if (type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(j->png);
    int trns = png_get_valid(j->png, j->info, PNG_INFO_tRNS) != 0;
    if (trns) png_set_tRNS_to_alpha(j->png);
    if (bit_depth == 16) png_set_scale_16(j->png);
    if (!(type & PNG_COLOR_MASK_COLOR)) png_set_gray_to_rgb(j->png);
    if (!(type & PNG_COLOR_MASK_ALPHA) && !trns) png_set_filler(j->png, 0xff, PNG_FILLER_AFTER);
    png_set_interlace_handling(j->png);
    png_read_update_info(j->png, j->info);
    size_t stride = (size_t)j->width * 4;
    if (png_get_rowbytes(j->png, j->info) != stride)
        job_error(j, T2I_ERR_INTERNAL, "unexpected row size after transforms");

    j->pixels = malloc(stride * j->height);
    j->rows = malloc(sizeof *j->rows * j->height);
    if (!j->pixels || !j->rows) job_error(j, T2I_ERR_NOMEM, "out of memory for the pixels");
    for (png_uint_32 y = 0; y < j->height; y++) j->rows[y] = j->pixels + y * stride;
    png_read_image(j->png, j->rows);
    png_read_end(j->png, j->end_info);
    grab_text(j, j->info);
    grab_text(j, j->end_info);
    return 0;
}

static t2i_status png_decode(const char *name, const void *buf, size_t n, t2i_image *img, int keep_alpha)
{
    memset(img, 0, sizeof *img);
    png_job j = {.name = name, .in = buf, .in_size = n};
    t2i_status s = T2I_OK;
    const unsigned char *u = buf;
    if (n < 8 || png_sig_cmp((png_const_bytep)buf, 0, 8) != 0) {
        s = t2i_fail(T2I_ERR_FORMAT, "%s: not a PNG file (bad signature)", name);
        goto done;
    }
    /* IHDR must come first: check the size before libpng reads further
     * (png_read_info only returns at the first IDAT). libpng checks the
     * CRC and the rest of IHDR. */
    if (n >= 24 && memcmp(u + 12, "IHDR", 4) == 0) {
        uint32_t w = ((uint32_t)u[16] << 24) | ((uint32_t)u[17] << 16) | ((uint32_t)u[18] << 8) | u[19];
        uint32_t h = ((uint32_t)u[20] << 24) | ((uint32_t)u[21] << 16) | ((uint32_t)u[22] << 8) | u[23];
        if (w > T2I_PNG_MAX_SIDE || h > T2I_PNG_MAX_SIDE ||
            (uint64_t)w * h > T2I_PNG_MAX_PIXELS) {
            s = t2i_fail(T2I_ERR_FORMAT,
                         "%s: image %ux%u is too large (limits: %d per side, %u pixels)", name,
                         (unsigned)w, (unsigned)h, T2I_PNG_MAX_SIDE, T2I_PNG_MAX_PIXELS);
            goto done;
        }
    }
    /* Every chunk up to IEND must fit in the data: libpng allocates (and
     * clears) a chunk's declared length before reading it, so a 316-byte
     * file declaring a 2 GB zTXt chunk cost 2 GB and seconds
     * (tests/fuzz/regressions/png/huge_chunk_length). */
    for (size_t at = 8; at + 8 <= n;) {
        uint32_t len = ((uint32_t)u[at] << 24) | ((uint32_t)u[at + 1] << 16) | ((uint32_t)u[at + 2] << 8) | u[at + 3];
        if (len > n - at - 8 || n - at - 8 - len < 4) {
            s = t2i_fail(T2I_ERR_FORMAT, "%s: bad PNG: the chunk at byte %zu declares %u bytes, more than the %zu left "
                         "(truncated or corrupt)", name, at, (unsigned)len, n - at - 8);
            goto done;
        }
        if (memcmp(u + at + 4, "IEND", 4) == 0) break;
        at += 12 + (size_t)len;
    }
    j.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &j, on_png_error, on_png_warning);
    if (!j.png || !(j.info = png_create_info_struct(j.png)) ||
        !(j.end_info = png_create_info_struct(j.png))) {
        s = t2i_fail(T2I_ERR_NOMEM, "%s: out of memory for libpng", name);
        goto done;
    }
    if (png_decode_run(&j)) {
        s = t2i_fail(j.status, "%s: bad PNG: %s", name, j.msg);
        goto done;
    }
    /* Composite RGBA on white, in place (RGB index 3i <= RGBA index 4i). */
    size_t npix = (size_t)j.width * j.height;
    for (size_t i = 0; !keep_alpha && i < npix; i++) {
        const unsigned char *p = j.pixels + 4 * i;
        unsigned a = p[3];
        unsigned char r = p[0], g = p[1], b = p[2];
        if (a != 255) {
            r = (unsigned char)((r * a + 255 * (255 - a) + 127) / 255);
            g = (unsigned char)((g * a + 255 * (255 - a) + 127) / 255);
            b = (unsigned char)((b * a + 255 * (255 - a) + 127) / 255);
        }
        j.pixels[3 * i] = r;
        j.pixels[3 * i + 1] = g;
        j.pixels[3 * i + 2] = b;
    }
    unsigned char *shrunk = keep_alpha ? NULL : realloc(j.pixels, npix * 3);
    if (shrunk) j.pixels = shrunk;
    img->width = (int)j.width;
    img->height = (int)j.height;
    img->channels = keep_alpha ? 4 : 3;
    img->pixels = j.pixels;
    img->infotext = j.text;
    j.pixels = NULL;
    j.text = NULL;
done:
    if (j.png) png_destroy_read_struct(&j.png, j.info ? &j.info : NULL,
                                       j.end_info ? &j.end_info : NULL);
    free(j.pixels);
    free(j.rows);
    free(j.text);
    return s;
}

t2i_status t2i_png_decode_memory(const void *buf, size_t n, t2i_image *img)
{
    return png_decode("<memory>", buf, n, img, 0);
}

t2i_status t2i_png_decode_rgba(const char *name, const void *buf, size_t n, t2i_image *img)
{
    return png_decode(name ? name : "<memory>", buf, n, img, 1);
}

t2i_status t2i_image_file_load(const char *path, unsigned char **out, size_t *size)
{
    *out = NULL;
    *size = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return t2i_fail(T2I_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char *buf = NULL;
    size_t n = 0, cap = 0;
    t2i_status s = T2I_OK;
    for (;;) {
        if (n == cap) {
            if (cap >= T2I_PNG_MAX_FILE) {
                s = t2i_fail(T2I_ERR_FORMAT, "%s: file larger than %u bytes", path, T2I_PNG_MAX_FILE);
                break;
            }
            cap = cap ? 2 * cap : 65536;
            unsigned char *nb = realloc(buf, cap);
            if (!nb) {
                s = t2i_fail(T2I_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0) {
            if (ferror(fp)) s = t2i_fail(T2I_ERR_IO, "%s: read failed", path);
            break;
        }
    }
    fclose(fp);
    if (s != T2I_OK) {
        free(buf);
        return s;
    }
    *out = buf;
    *size = n;
    return T2I_OK;
}

t2i_status t2i_png_read(const char *path, t2i_image *img)
{
    memset(img, 0, sizeof *img);
    unsigned char *buf = NULL;
    size_t n = 0;
    T2I_TRY(t2i_image_file_load(path, &buf, &n));
    t2i_status s = png_decode(path, buf, n, img, 0);
    free(buf);
    return s;
}

/* ---- text without pixels ---------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Inflate a zlib stream of at most T2I_PNG_MAX_CHUNK bytes into a NUL-ended
 * malloc'ed string; NULL with *s set on failure. */
static char *inflate_text(const unsigned char *in, size_t n, t2i_status *s)
{
    size_t cap = n * 4 + 64 < T2I_PNG_MAX_CHUNK ? n * 4 + 64 : T2I_PNG_MAX_CHUNK;
    char *out = malloc(cap + 1);
    z_stream z;
    memset(&z, 0, sizeof z);
    if (!out || inflateInit(&z) != Z_OK) {
        free(out);
        *s = t2i_fail(T2I_ERR_NOMEM, "<memory>: out of memory inflating PNG text");
        return NULL;
    }
    z.next_in = (Bytef *)in, z.avail_in = (uInt)n;
    int rc = Z_OK;
    while (rc == Z_OK) {
        if (z.total_out == cap) {
            if (cap == T2I_PNG_MAX_CHUNK) break;
            cap = cap * 2 < T2I_PNG_MAX_CHUNK ? cap * 2 : T2I_PNG_MAX_CHUNK;
            char *nb = realloc(out, cap + 1);
            if (!nb) { rc = Z_MEM_ERROR; break; }
            out = nb;
        }
        z.next_out = (Bytef *)out + z.total_out, z.avail_out = (uInt)(cap - z.total_out);
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc == Z_BUF_ERROR && z.avail_out > 0) break;   /* input ended early */
    }
    size_t got = z.total_out;
    inflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(out);
        *s = rc == Z_MEM_ERROR ? t2i_fail(T2I_ERR_NOMEM, "<memory>: out of memory inflating PNG text")
             : got >= T2I_PNG_MAX_CHUNK ? t2i_fail(T2I_ERR_FORMAT, "<memory>: PNG text larger than %u bytes",
                                                   T2I_PNG_MAX_CHUNK)
             : t2i_fail(T2I_ERR_FORMAT, "<memory>: corrupt compressed PNG text");
        return NULL;
    }
    out[got] = 0;
    return out;
}

/* The "parameters" text of one tEXt / zTXt / iTXt chunk body as UTF-8:
 * *text stays NULL when the chunk has another keyword. */
static t2i_status text_chunk(const unsigned char *type, const unsigned char *d, size_t n, char **text)
{
    static const char key[] = "parameters";
    if (n < sizeof key || memcmp(d, key, sizeof key) != 0) return T2I_OK;   /* keyword + NUL */
    const unsigned char *p = d + sizeof key, *end = d + n;
    int compressed = 0, is_itxt = !memcmp(type, "iTXt", 4);
    if (!memcmp(type, "zTXt", 4)) {
        if (p >= end || *p != 0) return t2i_fail(T2I_ERR_FORMAT, "<memory>: zTXt with an unknown compression method");
        p++, compressed = 1;
    } else if (is_itxt) {
        if (end - p < 2) return t2i_fail(T2I_ERR_FORMAT, "<memory>: truncated iTXt chunk");
        compressed = p[0] != 0;
        if (compressed && p[1] != 0) return t2i_fail(T2I_ERR_FORMAT, "<memory>: iTXt with an unknown compression method");
        p += 2;
        for (int field = 0; field < 2; field++) {                  /* language tag, translated keyword */
            const unsigned char *nul = memchr(p, 0, (size_t)(end - p));
            if (!nul) return t2i_fail(T2I_ERR_FORMAT, "<memory>: truncated iTXt chunk");
            p = nul + 1;
        }
    }
    t2i_status s = T2I_OK;
    char *raw;
    if (compressed) {
        if (!(raw = inflate_text(p, (size_t)(end - p), &s))) return s;
    } else {
        if (!(raw = malloc((size_t)(end - p) + 1))) return t2i_fail(T2I_ERR_NOMEM, "<memory>: out of memory");
        memcpy(raw, p, (size_t)(end - p));
        raw[end - p] = 0;
    }
    /* iTXt is UTF-8 by definition (read as Latin-1 if it is not), tEXt and
     * zTXt are Latin-1 — as the pixel decoder does. */
    int latin1;
    if (is_itxt && utf8_check(raw, &latin1)) {
        *text = raw;
        return T2I_OK;
    }
    *text = latin1_to_utf8(raw);
    free(raw);
    return *text ? T2I_OK : t2i_fail(T2I_ERR_NOMEM, "<memory>: out of memory");
}

static t2i_status walk_chunks(const unsigned char *u, size_t n, char **text, int *width, int *height);

t2i_status t2i_png_read_text_memory(const void *buf, size_t n, char **text, int *width, int *height)
{
    *text = NULL;
    if (width) *width = 0;
    if (height) *height = 0;
    t2i_status s = walk_chunks(buf, n, text, width, height);
    if (s != T2I_OK) {
        free(*text), *text = NULL;
        if (width) *width = 0;
        if (height) *height = 0;
    }
    return s;
}

/* The chunk walk of t2i_png_read_text_memory; *text may be set on failure. */
static t2i_status walk_chunks(const unsigned char *u, size_t n, char **text, int *width, int *height)
{
    const void *buf = u;
    if (!buf || n < 8 || png_sig_cmp((png_const_bytep)buf, 0, 8) != 0)
        return t2i_fail(T2I_ERR_FORMAT, "<memory>: not a PNG file (bad signature)");
    size_t pos = 8;
    for (int index = 0;; index++) {
        if (n - pos < 12) return t2i_fail(T2I_ERR_FORMAT, "<memory>: truncated PNG (no IEND chunk)");
        uint32_t len = be32(u + pos);
        const unsigned char *type = u + pos + 4, *data = u + pos + 8;
        if (len > 0x7fffffffu || len > n - pos - 12)
            return t2i_fail(T2I_ERR_FORMAT, "<memory>: PNG chunk %d runs past the end of the data", index);
        for (int k = 0; k < 4; k++)
            if (!((type[k] >= 'A' && type[k] <= 'Z') || (type[k] >= 'a' && type[k] <= 'z')))
                return t2i_fail(T2I_ERR_FORMAT, "<memory>: PNG chunk %d has a malformed type", index);
        if ((uint32_t)crc32(crc32(0L, Z_NULL, 0), type, len + 4) != be32(data + len))
            return t2i_fail(T2I_ERR_FORMAT, "<memory>: PNG chunk %d (%.4s) has a bad CRC", index, (const char *)type);
        int is_ihdr = !memcmp(type, "IHDR", 4);
        if (index == 0 && (!is_ihdr || len != 13))
            return t2i_fail(T2I_ERR_FORMAT, "<memory>: PNG does not start with an IHDR chunk");
        if (is_ihdr && index == 0) {
            uint32_t w = be32(data), h = be32(data + 4);
            if (w == 0 || h == 0 || w > 0x7fffffffu || h > 0x7fffffffu)
                return t2i_fail(T2I_ERR_FORMAT, "<memory>: PNG IHDR has a bad size %ux%u", (unsigned)w, (unsigned)h);
            if (width) *width = (int)w;
            if (height) *height = (int)h;
        }
        if (!memcmp(type, "IEND", 4)) return T2I_OK;
        if (!*text && (!memcmp(type, "tEXt", 4) || !memcmp(type, "zTXt", 4) || !memcmp(type, "iTXt", 4))) {
            t2i_status s = text_chunk(type, data, len, text);
            if (s != T2I_OK) return s;
        }
        pos += (size_t)len + 12;
    }
}
