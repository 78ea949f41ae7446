/*
 * judging.c — the server's scorers (see judging.h). One per device worker,
 * owned by its thread; reloaded when the model changes only when it
 * comes from the model's folder (a --scorer given on the command line is
 * loaded once).
 */
#include "server/judging.h"
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static atomic_int n_ready;   /* judges with a scorer, readable from any thread */

void judging_model_loaded(judge *j, t2i_engine *e, const char *model_path)
{
    char dir[1100];
    const char *clip = g_cfg.scorer_dir, *zh = g_cfg.scorer_zh_dir;
    if (!clip && !zh) {
        snprintf(dir, sizeof dir, "%s/scorer/config.json", model_path ? model_path : "");
        if (!model_path || access(dir, R_OK) != 0) {
            judging_shutdown(j);
            return;
        }
        snprintf(dir, sizeof dir, "%s/scorer", model_path);
        clip = dir;
    }
    char key[2300];
    snprintf(key, sizeof key, "%s|%s", clip ? clip : "", zh ? zh : "");
    if (j->scorer && !strcmp(key, j->from)) return;
    judging_shutdown(j);
    t2i_scorer *s = NULL;
    if (t2i_scorer_load(e, clip, zh, g_cfg.aesthetic_path, &s) != T2I_OK) {
        fprintf(stderr, "t2i-server: scorer %s: %s (images are recorded without scores)\n", clip ? clip : zh,
                t2i_last_error());
        return;
    }
    j->scorer = s;
    atomic_fetch_add(&n_ready, 1);
    snprintf(j->from, sizeof j->from, "%s", key);
    fprintf(stderr, "t2i-server: judging images with %s\n", clip ? clip : zh);
}

void judging_shutdown(judge *j)
{
    if (j->scorer) atomic_fetch_sub(&n_ready, 1);
    t2i_scorer_destroy(j->scorer);
    j->scorer = NULL;
    j->from[0] = 0;
}

int judging_ready(void)
{
    return atomic_load(&n_ready) > 0;
}

t2i_scorer *judging_scorer(const judge *j)
{
    return j->scorer;
}

int judging_score(judge *j, const t2i_image *img, const char *prompt, t2i_image_scores *out)
{
    t2i_scorer *scorer = j->scorer;
    memset(out, 0, sizeof *out);
    out->aesthetic = NAN;
    if (!scorer) return -1;
    if (t2i_clip_score(scorer, img, prompt, T2I_LANG_AUTO, &out->clip_score) != T2I_OK ||
        t2i_image_quality_measure(img, &out->quality) != T2I_OK || t2i_image_dhash(img, &out->dhash) != T2I_OK) {
        fprintf(stderr, "t2i-server: judging an image: %s\n", t2i_last_error());
        return -1;
    }
    if (g_cfg.aesthetic_path && t2i_aesthetic_score(scorer, img, &out->aesthetic) != T2I_OK) out->aesthetic = NAN;
    out->score = t2i_rank_score(NULL, out);
    return 0;
}
