/*
 * png_io.h — PNG encode/decode through libpng, with the A1111 "parameters"
 * text chunk that carries the generation settings (see runtime/infotext.h).
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

/* t2i_image_write_png (declared in t2i.h) writes a file. This encodes to a
 * malloc'ed buffer (*out, *out_size; free with free()). Errors:
 * T2I_ERR_INVALID_ARG (bad size/channels/pixels, infotext not UTF-8),
 * T2I_ERR_NOMEM. */
t2i_status t2i_png_encode_memory(const t2i_image *img, void **out, size_t *out_size);

/* Decode a PNG file / buffer into *img: width, height, channels = 3,
 * pixels (malloc'ed RGB8), infotext (malloc'ed UTF-8 "parameters" text, NULL
 * if absent), seed 0. Free with t2i_image_clear (or t2i_images_free(img, 1)
 * for a malloc'ed one). On failure *img is zeroed. Errors: T2I_ERR_IO,
 * T2I_ERR_FORMAT (not a PNG, corrupt, truncated, too large), T2I_ERR_NOMEM. */
t2i_status t2i_png_read(const char *path, t2i_image *img);
t2i_status t2i_png_decode_memory(const void *buf, size_t n, t2i_image *img);

/* Free one image's pixels and infotext and zero it (accepts NULL). */
void t2i_image_clear(t2i_image *img);

#endif /* T2I_PNG_IO_H */
