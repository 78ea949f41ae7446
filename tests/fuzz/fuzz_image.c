/* fuzz_image.c — input images (product/image_io.c, t2i_image_decode_memory:
 * PNG or JPEG by content, JPEG through libjpeg-turbo with EXIF orientation)
 * of any buffer. */
#include "fuzz_util.h"
#include "t2i.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    t2i_image img;
    if (t2i_image_decode_memory(data, size, &img) != T2I_OK) return 0;
    if (img.width <= 0 || img.height <= 0 || img.channels != 4 || !img.pixels) abort();
    /* every pixel is readable (ASan checks the buffer is as large as said) */
    volatile uint8_t sum = 0;
    size_t n = (size_t)img.width * (size_t)img.height * 4;
    for (size_t i = 0; i < n; i += 61) sum ^= img.pixels[i];
    sum ^= img.pixels[n - 1];
    (void)sum;
    t2i_image_clear(&img);
    return 0;
}
