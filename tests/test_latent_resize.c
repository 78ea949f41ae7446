/*
 * test_latent_resize.c — the latent upscale modes of hires fix
 * (runtime/latent_resize.h) against torch.nn.functional.interpolate
 * (scripts/fixtures/fixtures_latent_resize.py,
 * tests/fixtures/latent_resize/io.safetensors): a [1,4,5,7] latent to 11×13
 * and to 3×4, nearest / nearest-exact / bilinear / bicubic, antialias off
 * and (bilinear, bicubic) on; then bad sizes.
 */
#include "runtime/latent_resize.h"
#include "test_util.h"

#define IO "tests/fixtures/latent_resize/io.safetensors"

enum { PLANES = 4, H = 5, W = 7 };

static void check_mode(const t2i_st_file *f, const float *x, const char *mode, int aa, const char *tag, int oh,
                       int ow)
{
    char name[64];
    snprintf(name, sizeof name, "%s_aa%d_%s", mode, aa, tag);
    size_t n = 0;
    float *ref = ref_f32(f, name, &n);
    float *got = calloc((size_t)PLANES * oh * ow, sizeof *got);
    t2i_status st;
    if (!strcmp(mode, "nearest") || !strcmp(mode, "nearest-exact"))
        st = t2i_resize_nearest(x, PLANES, H, W, got, oh, ow, !strcmp(mode, "nearest-exact"));
    else if (aa)
        st = t2i_resize_aa(x, PLANES, H, W, got, oh, ow, !strcmp(mode, "bicubic"));
    else
        st = t2i_resize_interp(x, PLANES, H, W, got, oh, ow, !strcmp(mode, "bicubic"));
    CHECK(st == T2I_OK, "%s: %s", name, t2i_last_error());
    /* Nearest copies input values: exact. The interpolating modes are sums
     * of at most 4 (16 with antialias when shrinking) float32 products whose
     * weights are computed like ATen's but summed in another order: a few
     * float32 ulps of max|ref|, bound 1e-6 relative. */
    double bound = strstr(mode, "nearest") ? 0.0 : 1e-6;
    CHECK_CLOSE_SIZED(name, got, (size_t)PLANES * oh * ow, ref, n, bound);
    free(ref);
    free(got);
}

static void check_bad_sizes(const float *x)
{
    float out[16];
    CHECK(t2i_resize_nearest(x, PLANES, H, W, out, 0, 4, 0) == T2I_ERR_INVALID_ARG, "zero output height");
    CHECK(t2i_resize_interp(x, 0, H, W, out, 2, 2, 0) == T2I_ERR_INVALID_ARG, "zero planes");
    CHECK(t2i_resize_aa(x, PLANES, -1, W, out, 2, 2, 1) == T2I_ERR_INVALID_ARG, "negative input height");
    CHECK(t2i_resize_aa(NULL, PLANES, H, W, out, 2, 2, 0) == T2I_ERR_INVALID_ARG, "no input");
    CHECK(t2i_resize_interp(x, PLANES, H, W, out, 2, 70000, 1) == T2I_ERR_INVALID_ARG, "output too wide");
    CHECK(strstr(t2i_last_error(), "70000") != NULL, "the message names the size: %s", t2i_last_error());
}

int main(void)
{
    t2i_st_file *f = NULL;
    CHECK_OK(t2i_st_open(IO, &f));
    if (!f) return test_finish();
    size_t n = 0;
    float *x = ref_f32(f, "input", &n);
    CHECK(n == (size_t)PLANES * H * W, "input has %zu values", n);
    if (x && n == (size_t)PLANES * H * W) {
        const char *modes[] = {"nearest", "nearest-exact", "bilinear", "bicubic"};
        for (int m = 0; m < 4; m++)
            for (int aa = 0; aa <= (m >= 2); aa++) {
                check_mode(f, x, modes[m], aa, "up", 11, 13);
                check_mode(f, x, modes[m], aa, "down", 3, 4);
            }
        check_bad_sizes(x);
    }
    free(x);
    t2i_st_close(f);
    return test_finish();
}
