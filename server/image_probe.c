/*
 * image_probe.c — declared image sizes from PNG / JPEG headers (see
 * image_probe.h).
 *
 * PNG: 8-byte signature, then the IHDR chunk: length (4), "IHDR", width and
 * height as big-endian 32-bit values at bytes 16 and 20.
 * JPEG: SOI (FF D8), then segments "FF marker [length(2) payload]"; fill
 * bytes FF may precede a marker; RSTn / TEM have no length. The frame
 * header SOFn (C0..CF except DHT C4, JPG C8, DAC CC) holds precision (1),
 * height (2), width (2). A scan (SOS) before any SOF means a broken file.
 */
#include "server/image_probe.h"

static unsigned long be32(const unsigned char *p)
{
    return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3];
}

static image_kind probe_png(const unsigned char *b, size_t n, long *w, long *h)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    for (int i = 0; i < 8; i++)
        if (n < 8 || b[i] != sig[i]) return IMAGE_UNKNOWN;
    if (n < 24 || b[12] != 'I' || b[13] != 'H' || b[14] != 'D' || b[15] != 'R') return IMAGE_UNKNOWN;
    unsigned long pw = be32(b + 16), ph = be32(b + 20);
    if (pw == 0 || ph == 0 || pw > 0x7fffffffUL || ph > 0x7fffffffUL) return IMAGE_UNKNOWN;
    *w = (long)pw, *h = (long)ph;
    return IMAGE_PNG;
}

static image_kind probe_jpeg(const unsigned char *b, size_t n, long *w, long *h)
{
    if (n < 4 || b[0] != 0xFF || b[1] != 0xD8) return IMAGE_UNKNOWN;
    size_t i = 2;
    while (i + 1 < n) {
        if (b[i] != 0xFF) return IMAGE_UNKNOWN;
        while (i + 1 < n && b[i + 1] == 0xFF) i++;   /* fill bytes */
        if (i + 1 >= n) break;
        unsigned m = b[i + 1];
        i += 2;
        if ((m >= 0xD0 && m <= 0xD7) || m == 0x01) continue;   /* no length */
        if (m == 0xD9 || m == 0xDA) return IMAGE_UNKNOWN;      /* EOI / SOS before a frame */
        if (i + 2 > n) break;
        size_t len = (size_t)b[i] << 8 | b[i + 1];
        if (len < 2) return IMAGE_UNKNOWN;
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (len < 7 || i + 7 > n) return IMAGE_UNKNOWN;
            long fh = (long)b[i + 3] << 8 | b[i + 4], fw = (long)b[i + 5] << 8 | b[i + 6];
            if (fw == 0 || fh == 0) return IMAGE_UNKNOWN;   /* DNL heights are not supported */
            *w = fw, *h = fh;
            return IMAGE_JPEG;
        }
        i += len;
    }
    return IMAGE_UNKNOWN;
}

image_kind image_probe(const unsigned char *buf, size_t n, long *w, long *h)
{
    *w = *h = 0;
    if (!buf) return IMAGE_UNKNOWN;
    image_kind k = probe_png(buf, n, w, h);
    return k != IMAGE_UNKNOWN ? k : probe_jpeg(buf, n, w, h);
}
