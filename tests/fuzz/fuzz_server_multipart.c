/* fuzz_server_multipart.c — the editing routes' parsers of hostile bytes
 * (server/multipart.c, server/image_probe.c): any buffer as a
 * multipart/form-data body (boundary "XyZ123"), every part found must lie
 * inside it; the buffer and every part as an image header, a size found
 * must be positive. */
#include "fuzz_util.h"
#include "server/image_probe.h"
#include "server/multipart.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long w, h;
    if (image_probe(data, size, &w, &h) != IMAGE_UNKNOWN && (w <= 0 || h <= 0)) abort();
    multipart_part parts[MULTIPART_MAX_PARTS];
    int n = 0;
    const char *why = NULL;
    if (multipart_parse("multipart/form-data; boundary=XyZ123", data, size, parts, &n, &why) != 0) {
        if (!why) abort();
        return 0;
    }
    for (int i = 0; i < n; i++) {
        if (parts[i].data < data || parts[i].data + parts[i].len > data + size) abort();
        if (image_probe(parts[i].data, parts[i].len, &w, &h) != IMAGE_UNKNOWN && (w <= 0 || h <= 0)) abort();
    }
    return 0;
}
