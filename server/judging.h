/*
 * judging.h — the server's scorer: which CLIP judges its images, the scores
 * every image gets, and best-of-n for a request (docs/judging.md).
 *
 * The scorer is --scorer DIR (a transformers CLIPModel folder; --scorer-zh
 * DIR a ChineseCLIPModel, --aesthetic FILE a head), else the drawing
 * model's own `scorer/` subfolder when it has one (models/default ships
 * its embedded scorer there), else none: images are then recorded without
 * scores and best_of is refused. Each device worker (queue.c) has its own
 * judge, loaded on its own engine, and only that worker's thread uses it.
 */
#ifndef T2I_SERVER_JUDGING_H
#define T2I_SERVER_JUDGING_H

#include "server/job.h"
#include "t2i.h"

/* One device worker's scorer and the folder(s) it came from. Zeroed = none. */
typedef struct judge {
    t2i_scorer *scorer;
    char from[2300];
} judge;

/* After a model is loaded on engine e: (re)load j's scorer for it. A scorer
 * that fails to load is reported on stderr and left out (the server keeps
 * drawing). */
void judging_model_loaded(judge *j, t2i_engine *e, const char *model_path);
void judging_shutdown(judge *j);

/* 1 when some worker has a scorer loaded (any thread may ask: params.c
 * refuses best_of without one). */
int judging_ready(void);

/* j's scorer, or NULL (j's worker thread). */
t2i_scorer *judging_scorer(const judge *j);

/* Judge one image against the prompt it was drawn with: CLIPScore,
 * aesthetic (NaN without a head), the measures; rank score by the
 * default weights. 0, or -1 when there is no scorer or it failed. */
int judging_score(judge *j, const t2i_image *img, const char *prompt, t2i_image_scores *out);

#endif
