/* fuzz_png.c — PNG decoding (product/png_io.c, t2i_png_decode_memory over
 * libpng) of any buffer; what decodes is encoded again.
 * JPEG: there is no JPEG decoder in t2i yet; when one is added it gets a
 * harness like this one (and a corpus under tests/fuzz/corpus/). */
#include "fuzz_util.h"
#include "t2i.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    t2i_image img;
    if (t2i_png_decode_memory(data, size, &img) != T2I_OK) return 0;
    if (img.width <= 0 || img.height <= 0 || img.channels != 3 || !img.pixels) abort();
    if ((size_t)img.width * (size_t)img.height <= 4096) {
        void *png = NULL;
        size_t n = 0;
        /* infotext from any text chunk may not be valid UTF-8: an error then. */
        if (t2i_png_encode_memory(&img, &png, &n) == T2I_OK) free(png);
    }
    t2i_image_clear(&img);
    return 0;
}
