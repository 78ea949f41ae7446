/*
 * test_parallel.c — data parallelism on CPU ranks (one engine per rank, each
 * with its own weights): a batch of 4 from tiny-sd1 split over 2 and 4
 * ranks must give the images one engine gives, with the same seeds, in the
 * same order. The rule: bit-exact pixels when each image's arithmetic does
 * not depend on the batch it is in; otherwise at most 1 level of 255 (the
 * whole-run rule of test_pipeline, 1e-3 of the [0, 1] range, rounded).
 */
#include <unistd.h>
#include "test_util.h"

#define MODEL "tests/fixtures/tiny-sd1"

static void params(t2i_txt2img_params *p)
{
    t2i_txt2img_params_init(p);
    p->prompt = "a red circle on a blue background";
    p->negative_prompt = "blurry";
    p->steps = 6;
    p->seed = 1234;
    p->batch_size = 4;
    p->sampler = T2I_SAMPLER_EULER_A;
}

int main(void)
{
    if (chdir(T2I_SOURCE_DIR) != 0) return 1;
    enum { R = 4 };
    t2i_engine *eng[R] = {0};
    t2i_model *m[R] = {0};
    t2i_engine_options o;
    t2i_engine_options_init(&o);
    o.threads = 1;
    for (int r = 0; r < R; r++) {
        CHECK_OK(t2i_engine_create(&o, &eng[r]));
        if (eng[r]) CHECK_OK(t2i_model_load(eng[r], MODEL, &m[r]));
        if (!m[r]) return test_finish();
    }
    t2i_txt2img_params p;
    params(&p);
    t2i_image *ref = NULL;
    int nref = 0;
    CHECK_OK(t2i_txt2img(m[0], &p, &ref, &nref));
    for (int ranks = 2; ranks <= 4; ranks += 2) {
        t2i_image *got = NULL;
        int n = 0;
        CHECK_OK(t2i_txt2img_parallel(m, ranks, &p, &got, &n));
        CHECK(n == nref, "%d ranks: %d images, expected %d", ranks, n, nref);
        int maxd = 0;
        size_t differ = 0;
        for (int i = 0; i < n && i < nref; i++) {
            CHECK(got[i].seed == ref[i].seed, "%d ranks: image %d has seed %llu, expected %llu", ranks, i,
                  (unsigned long long)got[i].seed, (unsigned long long)ref[i].seed);
            const size_t px = (size_t)ref[i].width * ref[i].height * 3;
            for (size_t k = 0; k < px; k++) {
                int d = abs((int)got[i].pixels[k] - ref[i].pixels[k]);
                differ += d != 0;
                if (d > maxd) maxd = d;
            }
            CHECK(got[i].infotext && ref[i].infotext && strcmp(got[i].infotext, ref[i].infotext) == 0,
                  "%d ranks: image %d infotext differs", ranks, i);
        }
        printf("  batch 4 over %d CPU ranks: %s (max difference %d of 255, %zu values differ)\n", ranks,
               differ ? "within the rule" : "bit-exact", maxd, differ);
        CHECK(maxd <= 1, "%d ranks: a pixel differs by %d", ranks, maxd);
        t2i_images_free(got, n);
    }
    t2i_image *got = NULL;
    int n = 0;
    t2i_model *twice[2] = {m[0], m[0]};
    CHECK(t2i_txt2img_parallel(twice, 2, &p, &got, &n) == T2I_ERR_INVALID_ARG && !got, "a model given twice was accepted");
    p.steps = 0;
    CHECK(t2i_txt2img_parallel(m, 2, &p, &got, &n) == T2I_ERR_INVALID_ARG && strstr(t2i_last_error(), "rank"),
          "a failing rank: %s", t2i_last_error());
    t2i_images_free(ref, nref);
    for (int r = 0; r < R; r++) {
        t2i_model_destroy(m[r]);
        t2i_engine_destroy(eng[r]);
    }
    return test_finish();
}
