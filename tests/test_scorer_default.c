/*
 * test_scorer_default.c — the embedded scorer (models/default/scorer, a small
 * CLIP trained by scripts/train/train_scorer.py) means something on the
 * default model's own images: for 16 scenes drawn by the default model from
 * their English and, separately, Chinese prompts, the true prompt must
 * outscore the same prompt with one attribute changed (object colour, shape,
 * position, background colour) in >= 90 % of the 64 comparisons of each
 * language.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "test_util.h"

typedef struct scene { int colour, shape, bg, pos; uint64_t seed; } scene;

static const char *const colours[] = {"red", "green", "blue", "yellow", "orange", "purple", "white", "black"};
static const char *const colours_zh[] = {"红色", "绿色", "蓝色", "黄色", "橙色", "紫色", "白色", "黑色"};
static const char *const shapes[] = {"circle", "square", "triangle", "star", "ring"};
static const char *const shapes_zh[] = {"圆形", "正方形", "三角形", "星形", "圆环"};
static const char *const pos_en[] = {"on the left", "on the right", "at the top", "at the bottom", "in the centre"};
static const char *const pos_zh[] = {"左边", "右边", "上边", "下边", "中间"};

/* The scenes of tests/test_default_model.c's English/Chinese lists. */
static const scene scenes[] = {
    {0, 0, 2, 0, 100}, {3, 3, 7, 4, 101}, {6, 1, 1, 1, 102}, {2, 2, 3, 2, 103},
    {7, 4, 6, 3, 104}, {1, 0, 5, 4, 105}, {4, 3, 2, 0, 106}, {5, 1, 3, 1, 107},
    {0, 4, 6, 4, 108}, {6, 2, 7, 3, 109}, {1, 1, 0, 2, 110}, {2, 0, 4, 4, 111},
    {3, 4, 5, 0, 112}, {7, 3, 3, 1, 113}, {4, 0, 1, 3, 114}, {5, 2, 6, 4, 115},
};

static void prompt(const scene *s, int zh, char *out, size_t n)
{
    if (zh) {
        snprintf(out, n, "%s背景，%s一个%s%s", colours_zh[s->bg], pos_zh[s->pos], colours_zh[s->colour],
                 shapes_zh[s->shape]);
    } else {
        const char *c = colours[s->colour];
        int vowel = strchr("aeiou", c[0]) != NULL;
        snprintf(out, n, "%s %s %s %s on a %s background", vowel ? "an" : "a", c, shapes[s->shape], pos_en[s->pos],
                 colours[s->bg]);
    }
}

/* The scene with attribute k changed to the next value that stays valid. */
static scene changed(const scene *s, int k)
{
    scene t = *s;
    switch (k) {
    case 0: do t.colour = (t.colour + 1) % 8; while (t.colour == s->bg); break;
    case 1: t.shape = (t.shape + 1) % 5; break;
    case 2: t.pos = (t.pos + 1) % 5; break;
    default: do t.bg = (t.bg + 1) % 8; while (t.bg == s->colour); break;
    }
    return t;
}

int main(void)
{
    if (chdir(T2I_SOURCE_DIR) != 0) return 1;
    if (access("models/default/scorer/config.json", R_OK) != 0) {
        printf("models/default/scorer is not shipped yet (scripts/train/train_scorer.py; docs/judging.md): skipped\n");
        return 77;
    }
    t2i_engine *e = NULL;
    t2i_model *m = NULL;
    t2i_scorer *sc = NULL;
    CHECK_OK(t2i_engine_create(NULL, &e));
    CHECK_OK(t2i_model_load(e, "models/default", &m));
    CHECK_OK(t2i_scorer_load(e, "models/default/scorer", NULL, NULL, &sc));
    if (!m || !sc) return test_finish();
    static const char *const attr[] = {"colour", "shape", "position", "background"};
    const int n = (int)(sizeof scenes / sizeof *scenes);
    for (int zh = 0; zh < 2; zh++) {
        int ok = 0, total = 0, per[4] = {0};
        for (int i = 0; i < n; i++) {
            char p[256], q[256];
            prompt(&scenes[i], zh, p, sizeof p);
            t2i_txt2img_params tp;
            t2i_txt2img_params_init(&tp);
            tp.prompt = p;
            tp.seed = scenes[i].seed + (zh ? 100 : 0);
            tp.sampler = T2I_SAMPLER_DPMPP_2M;
            t2i_image *img = NULL;
            int cnt = 0;
            CHECK_OK(t2i_txt2img(m, &tp, &img, &cnt));
            if (!cnt) continue;
            float s_true = 0;
            CHECK_OK(t2i_clip_score(sc, &img[0], p, T2I_LANG_EN, &s_true));
            for (int k = 0; k < 4; k++) {
                scene t = changed(&scenes[i], k);
                prompt(&t, zh, q, sizeof q);
                float s_false = 0;
                CHECK_OK(t2i_clip_score(sc, &img[0], q, T2I_LANG_EN, &s_false));
                int good = s_true > s_false;
                ok += good, per[k] += good, total++;
            }
            t2i_images_free(img, cnt);
        }
        const double rate = total ? (double)ok / total : 0;
        printf("%s: true prompt ahead in %d of %d (%.1f %%): colour %d/%d, shape %d/%d, position %d/%d, "
               "background %d/%d\n",
               zh ? "Chinese" : "English", ok, total, 100 * rate, per[0], n, per[1], n, per[2], n, per[3], n);
        (void)attr;
        CHECK(total >= 60 && rate >= 0.9, "%s: %.3f of %d comparisons (need >= 0.9 of >= 60)", zh ? "Chinese" : "English",
              rate, total);
    }
    t2i_scorer_destroy(sc);
    t2i_model_destroy(m);
    t2i_engine_destroy(e);
    return test_finish();
}
