/*
 * judging.h — the server's scorer: which CLIP judges its images, the scores
 * every image gets, and best-of-n for a request (docs/judging.md).
 *
 * The scorer is --scorer DIR (a transformers CLIPModel folder; --scorer-zh
 * DIR a ChineseCLIPModel, --aesthetic FILE a head), else the drawing
 * model's own `scorer/` subfolder when it has one (models/default ships
 * its embedded scorer there), else none: images are then recorded without
 * scores and best_of is refused. Only the worker thread (queue.c) calls
 * these: the scorer lives on its engine.
 */
#ifndef T2I_SERVER_JUDGING_H
#define T2I_SERVER_JUDGING_H

#include "server/job.h"
#include "t2i.h"

/* After a model is loaded: (re)load the scorer for it. A scorer that fails
 * to load is reported on stderr and left out (the server keeps drawing). */
void judging_model_loaded(t2i_engine *e, const char *model_path);
void judging_shutdown(void);

/* 1 when a scorer is loaded (any thread may ask: params.c refuses
 * best_of without one). */
int judging_ready(void);

/* The scorer now loaded, or NULL (worker thread). */
t2i_scorer *judging_scorer(void);

/* Judge one image against the prompt it was drawn with: CLIPScore,
 * aesthetic (NaN without a head), the measures; rank score by the
 * default weights. 0, or -1 when there is no scorer or it failed. */
int judging_score(const t2i_image *img, const char *prompt, t2i_image_scores *out);

#endif
