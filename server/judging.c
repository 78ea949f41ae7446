/*
 * judging.c — the server's scorer (see judging.h). One scorer at a time,
 * owned by the worker thread; reloaded when the model changes only when it
 * comes from the model's folder (a --scorer given on the command line is
 * loaded once).
 */
#include "server/judging.h"
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static t2i_scorer *scorer;
static atomic_int ready;         /* scorer != NULL, readable from any thread */
static char scorer_from[2300];   /* the folder the current scorer came from */

void judging_model_loaded(t2i_engine *e, const char *model_path)
{
    char dir[1100];
    const char *clip = g_cfg.scorer_dir, *zh = g_cfg.scorer_zh_dir;
    if (!clip && !zh) {
        snprintf(dir, sizeof dir, "%s/scorer/config.json", model_path ? model_path : "");
        if (!model_path || access(dir, R_OK) != 0) {
            judging_shutdown();
            return;
        }
        snprintf(dir, sizeof dir, "%s/scorer", model_path);
        clip = dir;
    }
    char key[2300];
    snprintf(key, sizeof key, "%s|%s", clip ? clip : "", zh ? zh : "");
    if (scorer && !strcmp(key, scorer_from)) return;
    judging_shutdown();
    t2i_scorer *s = NULL;
    if (t2i_scorer_load(e, clip, zh, g_cfg.aesthetic_path, &s) != T2I_OK) {
        fprintf(stderr, "t2i-server: scorer %s: %s (images are recorded without scores)\n", clip ? clip : zh,
                t2i_last_error());
        return;
    }
    scorer = s;
    atomic_store(&ready, 1);
    snprintf(scorer_from, sizeof scorer_from, "%s", key);
    fprintf(stderr, "t2i-server: judging images with %s\n", clip ? clip : zh);
}

void judging_shutdown(void)
{
    atomic_store(&ready, 0);
    t2i_scorer_destroy(scorer);
    scorer = NULL;
    scorer_from[0] = 0;
}

int judging_ready(void)
{
    return atomic_load(&ready);
}

t2i_scorer *judging_scorer(void)
{
    return scorer;
}

int judging_score(const t2i_image *img, const char *prompt, t2i_image_scores *out)
{
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
