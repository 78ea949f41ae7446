/*
 * memory.c — freeing what the public API hands out: library-allocated
 * strings and buffers (t2i_free) and images (their pixels and infotext).
 * At the bottom layer because every layer returns these.
 */
#include <stdlib.h>
#include <string.h>
#include "t2i.h"

void t2i_free(void *ptr) { free(ptr); }

void t2i_image_clear(t2i_image *img)
{
    if (!img) return;
    free(img->pixels);
    free(img->infotext);
    memset(img, 0, sizeof *img);
}

void t2i_images_free(t2i_image *images, int count)
{
    if (!images) return;
    for (int i = 0; i < count; i++) t2i_image_clear(&images[i]);
    free(images);
}
