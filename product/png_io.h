/*
 * png_io.h — PNG encode/decode through libpng, with the A1111 "parameters"
 * text chunk that carries the generation settings (see product/infotext.h).
 *
 * Writing: 8-bit gray/RGB/RGBA from img->channels (1, 3 or 4; the engine
 * produces 3). img->infotext, if non-NULL, goes into a chunk with keyword
 * "parameters" before IDAT: tEXt when every character is Latin-1 (the text is
 * converted from UTF-8), else an uncompressed iTXt in UTF-8 — exactly what
 * A1111 (PIL's PngInfo.add_text) writes.
 *
 * Reading: any valid PNG (palette, gray, gray+alpha, RGBA, 1..16 bits,
 * interlaced) becomes 8-bit RGB: palette and low bit depths are expanded,
 * 16-bit samples are scaled (rounded) to 8 bits, gray is replicated, and
 * alpha (including tRNS transparency) is composited on a white background in
 * the stored (sRGB-encoded) values:
 *     out = (c * a + 255 * (255 - a) + 127) / 255.
 * Gamma/colour-space chunks are ignored (values are taken as sRGB). The
 * "parameters" text is returned as UTF-8 from tEXt, zTXt or iTXt (Latin-1
 * text is converted). Input is hostile: dimensions are checked against
 * T2I_PNG_MAX_SIDE and T2I_PNG_MAX_PIXELS before any pixel buffer is
 * allocated, ancillary chunks are capped at T2I_PNG_MAX_CHUNK bytes, and
 * truncated or corrupt data (bad CRC in a critical chunk, bad zlib stream,
 * missing IEND) is an error. libpng never prints or aborts: its errors are
 * turned into a T2I_ERR_FORMAT message naming the file.
 */
#ifndef T2I_PNG_IO_H
#define T2I_PNG_IO_H

#include <stddef.h>
#include "t2i.h"

#define T2I_PNG_MAX_SIDE 16384
#define T2I_PNG_MAX_PIXELS (1u << 28)
#define T2I_PNG_MAX_CHUNK (8u << 20)      /* decompressed text chunk limit */
#define T2I_PNG_MAX_FILE (1u << 30)       /* t2i_png_read file size limit */

/* The encode/decode functions are public: include/t2i.h, "PNG files and
 * infotext". */

/* As t2i_png_decode_memory but keeping alpha: channels = 4 (RGBA8; alpha
 * 255 where the file has none). `name` is used in messages. */
t2i_status t2i_png_decode_rgba(const char *name, const void *buf, size_t n, t2i_image *img);

/* Read a whole image file (at most T2I_PNG_MAX_FILE bytes) into *out
 * (malloc'd, *size bytes). Errors: T2I_ERR_IO, T2I_ERR_FORMAT (too large),
 * T2I_ERR_NOMEM, naming the file. */
t2i_status t2i_image_file_load(const char *path, unsigned char **out, size_t *size);

#endif /* T2I_PNG_IO_H */
