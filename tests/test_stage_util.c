/*
 * test_stage_util.c — the comparison helpers of the reference tests
 * (tests/test_util.h, tests/stage_util.h) can fail: a size mismatch, a
 * missing tensor, nothing to compare or a value out of bound each record a
 * failure, and none reads past the shorter tensor or through a NULL one.
 *
 * Each case runs a helper on two small stages files written here and
 * checks how many failures it recorded (then takes them back out of the
 * count, so that this program passes when the helpers fail as they
 * should).
 */
#include <unistd.h>
#include "stage_util.h"

static char ref_path[64], got_path[64];

static void write_file(const char *path, const float *latents, int64_t n_latents, const float *image,
                       int64_t n_image)
{
    t2i_st_writer *w = NULL;
    CHECK_OK(t2i_st_writer_create(&w));
    if (!w) return;
    if (latents) CHECK_OK(t2i_st_writer_add(w, "latents", T2I_F32, 1, &n_latents, latents));
    if (image) CHECK_OK(t2i_st_writer_add(w, "image", T2I_F32, 1, &n_image, image));
    CHECK_OK(t2i_st_writer_save(w, path));
    t2i_st_writer_destroy(w);
}

/* Run `call` and check it recorded exactly `want` failures (removed from
 * the count again) and no pass of its comparison when it should fail. */
#define EXPECT_FAILURES(label, want, call)                                   \
    do {                                                                     \
        int failed_ = test_failed;                                           \
        call;                                                                \
        int got_ = test_failed - failed_;                                    \
        test_failed = failed_;                                               \
        printf("  %-44s %d failure(s) recorded\n", label, got_);            \
        CHECK(got_ == (want), "%s: %d failures recorded, want %d", label, got_, (want)); \
    } while (0)

/* One case: reference and stages files as given, then each helper. */
static void run(const char *label, const float *gl, int64_t ngl, const float *gi, int64_t ngi, int want_tensor,
                int want_image)
{
    static const float ref_latents[4] = {1, 2, 3, 4}, ref_image[3] = {0.5f, 0.25f, 0};
    write_file(ref_path, ref_latents, 4, ref_image, 3);
    write_file(got_path, gl, ngl, gi, ngi);
    t2i_st_file *ref = NULL, *got = NULL;
    CHECK_OK(t2i_st_open(ref_path, &ref));
    CHECK_OK(t2i_st_open(got_path, &got));
    if (!ref || !got) {
        t2i_st_close(ref), t2i_st_close(got);
        return;
    }
    char what[96];
    snprintf(what, sizeof what, "%s: check_ref_tensor", label);
    EXPECT_FAILURES(what, want_tensor, check_ref_tensor(ref, "latents", got, "latents", label, 1e-6));
    snprintf(what, sizeof what, "%s: check_ref_image", label);
    EXPECT_FAILURES(what, want_image, check_ref_image(ref, got, "image", label, 1e-6));
    t2i_st_close(ref), t2i_st_close(got);
}

int main(void)
{
    snprintf(ref_path, sizeof ref_path, "/tmp/t2i_stage_util_ref_%d.safetensors", (int)getpid());
    snprintf(got_path, sizeof got_path, "/tmp/t2i_stage_util_got_%d.safetensors", (int)getpid());
    const float same_l[4] = {1, 2, 3, 4}, same_i[3] = {0.5f, 0.25f, 0};
    const float off_l[4] = {1, 2, 3, 4.5f}, off_i[3] = {0.5f, 0.25f, 0.01f};
    const float long_l[6] = {1, 2, 3, 4, 5, 6}, short_i[1] = {0.5f};

    run("equal", same_l, 4, same_i, 3, 0, 0);
    run("out of bound", off_l, 4, off_i, 3, 1, 1);
    /* a longer result whose first values match, a shorter image */
    run("size mismatch", long_l, 6, short_i, 1, 1, 1);
    /* missing in the stages file: ref_f32's own failure, then the comparison's */
    run("missing tensors", NULL, 0, NULL, 0, 2, 2);

    /* CHECK_CLOSE with nothing to compare */
    EXPECT_FAILURES("CHECK_CLOSE of 0 values", 1, CHECK_CLOSE("empty", same_l, same_l, 0, 1e-6));
    EXPECT_FAILURES("CHECK_CLOSE without a result", 1, CHECK_CLOSE("no result", NULL, same_l, 4, 1e-6));
    EXPECT_FAILURES("CHECK_CLOSE_SIZED 4 vs 3 values", 1,
                    CHECK_CLOSE_SIZED("sized", same_l, 4, same_l, 3, 1e-6));
    unlink(ref_path);
    unlink(got_path);
    return test_finish();
}
