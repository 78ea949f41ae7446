/*
 * test_image_io.c — input images and the resize modes:
 *  - t2i_img_resize_mode against Pillow / A1111's resize_image for the three
 *    modes and three target sizes (tests/fixtures/edit/resize_*.png, made by
 *    scripts/fixtures/fixtures_edit.py): byte for byte identical;
 *  - a JPEG with EXIF orientation 6 decodes upright, within one level of
 *    PIL's decode + ImageOps.exif_transpose (both libjpeg-turbo; the rule
 *    allows the last-bit difference of another IDCT build);
 *  - bad input, one each: not an image, truncated PNG, truncated JPEG, a
 *    PNG and a JPEG declaring 50000 × 50000 (refused before decoding).
 */
#include "product/image_ops.h"
#include "test_util.h"

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b = NULL;
    *n = 0;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = malloc((size_t)len);
    if (b) *n = fread(b, 1, (size_t)len, f);
    fclose(f);
    return b;
}

static void rgb_of(const t2i_image *rgba, t2i_image *rgb)
{
    memset(rgb, 0, sizeof *rgb);   /* infotext and seed too: t2i_image_clear frees infotext */
    rgb->width = rgba->width, rgb->height = rgba->height, rgb->channels = 3;
    rgb->pixels = malloc((size_t)rgba->width * rgba->height * 3);
    for (size_t i = 0; i < (size_t)rgba->width * rgba->height; i++) memcpy(rgb->pixels + i * 3, rgba->pixels + i * 4, 3);
}

static void expect_bad(const void *buf, size_t n, const char *needle)
{
    t2i_image im;
    t2i_status st = t2i_image_decode_memory(buf, n, &im);
    CHECK(st == T2I_ERR_FORMAT && strstr(t2i_last_error(), needle) && !im.pixels, "%s: got %s '%s'", needle,
          t2i_status_name(st), t2i_last_error());
    t2i_image_clear(&im);
}

int main(void)
{
    t2i_image src4, src;
    CHECK_OK(t2i_image_read("tests/fixtures/edit/resize_src.png", &src4));
    if (!src4.pixels) return test_finish();
    rgb_of(&src4, &src);
    static const int sizes[][2] = {{64, 48}, {24, 40}, {96, 96}};
    for (int mode = 0; mode < 3; mode++)
        for (int k = 0; k < 3; k++) {
            char path[128];
            snprintf(path, sizeof path, "tests/fixtures/edit/resize_%d_%dx%d.png", mode, sizes[k][0], sizes[k][1]);
            t2i_image want4, got;
            CHECK_OK(t2i_image_read(path, &want4));
            CHECK_OK(t2i_img_resize_mode(&src, mode, sizes[k][0], sizes[k][1], &got));
            size_t diff = 0, n = (size_t)sizes[k][0] * sizes[k][1];
            for (size_t i = 0; got.pixels && want4.pixels && i < n; i++)
                for (int c = 0; c < 3; c++) diff += got.pixels[i * 3 + c] != want4.pixels[i * 4 + c];
            printf("  resize mode %d to %dx%d: %zu of %zu values differ from Pillow\n", mode, sizes[k][0], sizes[k][1],
                   diff, n * 3);
            CHECK(got.pixels && want4.pixels && diff == 0, "%s: %zu values differ", path, diff);
            t2i_image_clear(&want4);
            t2i_image_clear(&got);
        }

    /* EXIF orientation 6: the stored 53 × 37 image is shown 37 × 53. */
    t2i_image jpg, ref;
    CHECK_OK(t2i_image_read("tests/fixtures/edit/exif6.jpg", &jpg));
    CHECK_OK(t2i_image_read("tests/fixtures/edit/exif6_ref.png", &ref));
    CHECK(jpg.width == 37 && jpg.height == 53 && jpg.channels == 4, "exif6.jpg: %dx%d", jpg.width, jpg.height);
    if (jpg.pixels && ref.pixels && jpg.width == ref.width && jpg.height == ref.height) {
        int maxd = 0;
        for (size_t i = 0; i < (size_t)jpg.width * jpg.height * 4; i++) {
            int d = abs((int)jpg.pixels[i] - ref.pixels[i]);
            if (d > maxd) maxd = d;
        }
        printf("  exif6.jpg vs PIL exif_transpose: max difference %d levels\n", maxd);
        CHECK(maxd <= 1, "JPEG decode differs by %d levels", maxd);
    }

    /* Bad input. */
    expect_bad("hello, world", 12, "not an image");
    size_t pn = 0, jn = 0;
    unsigned char *png = slurp("tests/fixtures/edit/init.png", &pn), *jpeg = slurp("tests/fixtures/edit/exif6.jpg", &jn);
    CHECK(png && jpeg && pn > 200 && jn > 200, "fixture files");
    if (png && jpeg) {
        expect_bad(png, pn / 2, "truncated");
        expect_bad(jpeg, jn / 2, "bad JPEG");
        /* IHDR width/height := 50000 (CRC left wrong: the size check comes first) */
        unsigned char big[4] = {0, 0, 0xc3, 0x50};
        memcpy(png + 16, big, 4);
        memcpy(png + 20, big, 4);
        expect_bad(png, pn, "too large");
        for (size_t i = 2; i + 9 < jn; i++)   /* SOF0/SOF2: FF C0|C2 len(2) P(1) Y(2) X(2) */
            if (jpeg[i] == 0xff && (jpeg[i + 1] == 0xc0 || jpeg[i + 1] == 0xc2)) {
                memcpy(jpeg + i + 5, big + 2, 2);
                memcpy(jpeg + i + 7, big + 2, 2);
                break;
            }
        expect_bad(jpeg, jn, "too large");
    }
    free(png), free(jpeg);
    t2i_image_clear(&jpg), t2i_image_clear(&ref), t2i_image_clear(&src4), t2i_image_clear(&src);
    return test_finish();
}
