/*
 * image_io.c — input images of any supported kind: PNG (product/png_io.c)
 * and JPEG through libjpeg-turbo, into RGBA8.
 *
 * JPEG: baseline and progressive, grey, YCbCr and RGB (CMYK is refused), the
 * EXIF Orientation tag (APP1, tag 0x0112, values 1..8) applied the way PIL's
 * ImageOps.exif_transpose applies it, so the pixels come out upright. The
 * size in the frame header is checked against the PNG limits before any
 * pixel buffer is allocated; a premature end of data (libjpeg's warning
 * JWRN_JPEG_EOF, where it would pad with grey) is an error, as is any
 * other libjpeg warning about corrupt data.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include "base/error.h"
#include "product/image_ops.h"
#include "product/png_io.h"

typedef struct jerr {
    struct jpeg_error_mgr mgr;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
} jerr;

static void on_jpeg_error(j_common_ptr c)
{
    jerr *e = (jerr *)c->err;
    c->err->format_message(c, e->msg);
    longjmp(e->jb, 1);
}

/* Warnings (level -1) are corrupt data: treat them as errors. */
static void on_jpeg_message(j_common_ptr c, int level)
{
    if (level < 0) on_jpeg_error(c);
}

static unsigned rd16(const unsigned char *p, int le) { return le ? p[0] | p[1] << 8 : p[0] << 8 | p[1]; }
static unsigned long rd32(const unsigned char *p, int le)
{
    return le ? (unsigned long)p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16 | (unsigned long)p[3] << 24
              : (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3];
}

/* The Orientation tag of an EXIF APP1 payload ("Exif\0\0" + TIFF), 1 if none. */
static int exif_orientation(const unsigned char *d, size_t n)
{
    if (n < 14 || memcmp(d, "Exif\0\0", 6) != 0) return 1;
    d += 6, n -= 6;
    int le = d[0] == 'I' && d[1] == 'I';
    if (!le && !(d[0] == 'M' && d[1] == 'M')) return 1;
    unsigned long ifd = rd32(d + 4, le);
    if (ifd + 2 > n) return 1;
    unsigned cnt = rd16(d + ifd, le);
    for (unsigned i = 0; i < cnt; i++) {
        size_t e = ifd + 2 + (size_t)i * 12;
        if (e + 12 > n) return 1;
        if (rd16(d + e, le) == 0x0112) {
            unsigned v = rd16(d + e + 8, le);
            return v >= 1 && v <= 8 ? (int)v : 1;
        }
    }
    return 1;
}

/* Apply EXIF orientation o to an RGBA image (PIL's exif_transpose). */
static t2i_status orient(t2i_image *img, int o)
{
    if (o == 1) return T2I_OK;
    int W = img->width, H = img->height, swap = o >= 5;
    int ow = swap ? H : W, oh = swap ? W : H;
    uint32_t *src = (uint32_t *)(void *)img->pixels, *dst = malloc((size_t)W * H * 4);
    if (!dst) return t2i_fail(T2I_ERR_NOMEM, "image: out of memory");
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            int sx, sy;   /* source pixel of output (x, y) */
            switch (o) {
            case 2: sx = W - 1 - x, sy = y; break;                 /* mirror horizontal */
            case 3: sx = W - 1 - x, sy = H - 1 - y; break;         /* rotate 180 */
            case 4: sx = x, sy = H - 1 - y; break;                 /* mirror vertical */
            case 5: sx = y, sy = x; break;                         /* transpose */
            case 6: sx = y, sy = H - 1 - x; break;                 /* rotate 90 CW */
            case 7: sx = W - 1 - y, sy = H - 1 - x; break;         /* transverse */
            default: sx = W - 1 - y, sy = x; break;                /* 8: rotate 270 CW */
            }
            dst[(size_t)y * ow + x] = src[(size_t)sy * W + sx];
        }
    free(img->pixels);
    img->pixels = (uint8_t *)dst;
    img->width = ow;
    img->height = oh;
    return T2I_OK;
}

static t2i_status jpeg_decode(const char *name, const unsigned char *buf, size_t n, t2i_image *img)
{
    struct jpeg_decompress_struct c;
    jerr e;
    unsigned char *volatile px = NULL;
    JSAMPROW row = NULL;
    memset(&c, 0, sizeof c);
    c.err = jpeg_std_error(&e.mgr);
    e.mgr.error_exit = on_jpeg_error;
    e.mgr.emit_message = on_jpeg_message;
    if (setjmp(e.jb)) {
        jpeg_destroy_decompress(&c);
        free(px);
        return t2i_fail(T2I_ERR_FORMAT, "%s: bad JPEG: %s", name, e.msg);
    }
    jpeg_create_decompress(&c);
    jpeg_mem_src(&c, buf, (unsigned long)n);
    jpeg_save_markers(&c, JPEG_APP0 + 1, 0xffff);
    jpeg_read_header(&c, TRUE);
    if (c.image_width > T2I_PNG_MAX_SIDE || c.image_height > T2I_PNG_MAX_SIDE ||
        (uint64_t)c.image_width * c.image_height > T2I_PNG_MAX_PIXELS) {
        unsigned w = c.image_width, h = c.image_height;
        jpeg_destroy_decompress(&c);
        return t2i_fail(T2I_ERR_FORMAT, "%s: image %ux%u is too large (limits: %d per side, %u pixels)", name, w, h,
                        T2I_PNG_MAX_SIDE, T2I_PNG_MAX_PIXELS);
    }
    if (c.jpeg_color_space == JCS_CMYK || c.jpeg_color_space == JCS_YCCK) {
        jpeg_destroy_decompress(&c);
        return t2i_fail(T2I_ERR_UNSUPPORTED, "%s: CMYK JPEG images are not supported", name);
    }
    int o = 1;
    for (jpeg_saved_marker_ptr mk = c.marker_list; mk; mk = mk->next)
        if (mk->marker == JPEG_APP0 + 1 && (o = exif_orientation(mk->data, mk->data_length)) != 1) break;
    c.out_color_space = JCS_EXT_RGBA;
    jpeg_start_decompress(&c);
    const size_t W = c.output_width, H = c.output_height;
    px = malloc(W * H * 4);
    if (!px) {
        jpeg_destroy_decompress(&c);
        return t2i_fail(T2I_ERR_NOMEM, "%s: out of memory for %zux%zu pixels", name, W, H);
    }
    while (c.output_scanline < c.output_height) {
        row = px + (size_t)c.output_scanline * W * 4;
        jpeg_read_scanlines(&c, &row, 1);
    }
    jpeg_finish_decompress(&c);
    jpeg_destroy_decompress(&c);
    img->width = (int)W;
    img->height = (int)H;
    img->channels = 4;
    img->pixels = px;
    t2i_status st = orient(img, o);
    if (st != T2I_OK) t2i_image_clear(img);
    return st;
}

t2i_status t2i_image_decode_memory(const void *buf, size_t n, t2i_image *img)
{
    return t2i_image_decode_named("<memory>", buf, n, img);
}

t2i_status t2i_image_decode_named(const char *name, const void *buf, size_t n, t2i_image *img)
{
    memset(img, 0, sizeof *img);
    const unsigned char *u = buf;
    if (!buf) return t2i_fail(T2I_ERR_INVALID_ARG, "%s: no data", name);
    if (n >= 8 && memcmp(u, "\x89PNG\r\n\x1a\n", 8) == 0) return t2i_png_decode_rgba(name, buf, n, img);
    if (n >= 3 && u[0] == 0xff && u[1] == 0xd8 && u[2] == 0xff) return jpeg_decode(name, u, n, img);
    return t2i_fail(T2I_ERR_FORMAT, "%s: not an image (neither PNG nor JPEG)", name);
}

t2i_status t2i_image_read(const char *path, t2i_image *img)
{
    memset(img, 0, sizeof *img);
    unsigned char *buf = NULL;
    size_t n = 0;
    T2I_TRY(t2i_image_file_load(path, &buf, &n));
    t2i_status s = t2i_image_decode_named(path, buf, n, img);
    free(buf);
    return s;
}
