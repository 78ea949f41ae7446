/*
 * image_probe.h — the size a PNG or JPEG declares, read from its header
 * before any pixel is decoded, so the server can refuse a 50,000² image
 * and reserve the decode budget (uploads.h) for the bytes it will really
 * allocate. Pure functions on a byte buffer (hostile input): no allocation,
 * every read bounds-checked.
 */
#ifndef T2I_SERVER_IMAGE_PROBE_H
#define T2I_SERVER_IMAGE_PROBE_H

#include <stddef.h>

typedef enum image_kind { IMAGE_UNKNOWN = 0, IMAGE_PNG, IMAGE_JPEG } image_kind;

/* PNG: the IHDR that must follow the signature; JPEG: the first SOFn frame
 * header after SOI (walking the marker segments). Returns the kind with
 * *w and *h set (both > 0), or IMAGE_UNKNOWN when the bytes are neither or
 * end before a size is found. */
image_kind image_probe(const unsigned char *buf, size_t n, long *w, long *h);

#endif
