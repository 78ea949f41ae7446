/*
 * test_shape_checker.c — the plain image analysis of tests/shape_checker.h
 * (used by test_default_model.c to judge generated images) against the
 * ground truth of data set images: tests/fixtures/shapes/ (40 scenes written
 * by `scripts/train/make_dataset.py --sample tests/fixtures/shapes`: every shape at
 * every position, both sizes, colours and backgrounds cycling).
 *
 * Background and colour must be right on every image, shape and position on
 * at least 39 of 40.
 */
#include <stdio.h>
#include <string.h>
#include "product/png_io.h"
#include "shape_checker.h"
#include "test_util.h"

int main(void)
{
    const char *dir = "tests/fixtures/shapes";
    char path[512], line[256];
    snprintf(path, sizeof path, "%s/truth.txt", dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "cannot open %s", path);
    if (!f) return test_finish();
    int n = 0, ok[4] = {0, 0, 0, 0};
    while (fgets(line, sizeof line, f)) {
        char name[64], bg[32], col[32], shape[32], pos[32];
        if (line[0] == '#' || sscanf(line, "%63s %31s %31s %31s %31s", name, bg, col, shape, pos) != 5) continue;
        snprintf(path, sizeof path, "%s/%s", dir, name);
        t2i_image img;
        t2i_status s = t2i_png_read(path, &img);
        CHECK(s == T2I_OK, "%s: %s", path, t2i_last_error());
        if (s != T2I_OK) continue;
        sc_result r;
        CHECK(sc_analyse(img.pixels, img.width, img.height, &r) == 0, "%s: out of memory", name);
        int want[4] = {sc_index(sc_colour_names, SC_NCOLOURS, bg), sc_index(sc_colour_names, SC_NCOLOURS, col),
                       sc_index(sc_shape_names, SC_NSHAPES, shape), sc_index(sc_pos_names, SC_NPOS, pos)};
        int got[4] = {r.background, r.colour, r.shape, r.position};
        int all = 1;
        for (int k = 0; k < 4; k++) {
            ok[k] += got[k] == want[k];
            all &= got[k] == want[k];
        }
        if (!all)
            printf("  %s: want %s %s %s %s, got %s %s %s %s (fill %.2f solidity %.2f hole %d area %d)\n", name,
                   bg, col, shape, pos, r.background >= 0 ? sc_colour_names[r.background] : "?",
                   r.colour >= 0 ? sc_colour_names[r.colour] : "?", r.shape >= 0 ? sc_shape_names[r.shape] : "?",
                   r.position >= 0 ? sc_pos_names[r.position] : "?", r.fill, r.solidity, r.hole, r.area);
        t2i_image_clear(&img);
        n++;
    }
    fclose(f);
    printf("shape checker on %d ground-truth images: background %d, colour %d, shape %d, position %d\n", n,
           ok[0], ok[1], ok[2], ok[3]);
    CHECK(n == 40, "expected 40 images, read %d", n);
    CHECK(ok[0] == n, "background right on %d/%d", ok[0], n);
    CHECK(ok[1] == n, "colour right on %d/%d", ok[1], n);
    CHECK(ok[2] >= n - 1, "shape right on %d/%d", ok[2], n);
    CHECK(ok[3] >= n - 1, "position right on %d/%d", ok[3], n);

    /* an empty image: background only, no object */
    uint8_t flat[32 * 32 * 3];
    for (int i = 0; i < 32 * 32; i++) memcpy(flat + 3 * i, sc_palette[2], 3);
    sc_result r;
    CHECK(sc_analyse(flat, 32, 32, &r) == 0 && r.background == 2 && r.colour == -1 && r.shape == -1,
          "flat blue image: background %d colour %d shape %d", r.background, r.colour, r.shape);
    return test_finish();
}
