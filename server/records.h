/*
 * records.h — the SQLite record of everything generated and how users
 * reacted to it (--db PATH; ":memory:" by default).
 *
 *   requests(id, api, created, model, state, error, prompt, final_prompt
 *            (styles applied, expansion done),
 *            negative_prompt, styles JSON, sampler, steps, cfg, width,
 *            height, batch_size, n_iter, seed, request_json,
 *            queue_wait_s, generation_s)
 *   images(id, request_id, idx, seed, infotext, created)
 *   feedback(id, image_id, event, text, created)
 *   image_judging(image_id, expand (0/1), expand_style (the style the
 *            expansion picked, NULL if none), subject (t2i_prompt_subject
 *            of the user's prompt), clip_score, aesthetic, rank_score,
 *            sharpness, colourfulness, exposure, contrast — the scores NULL
 *            when no scorer judged the image; judging.h)
 *
 * A job's row is written when it is submitted (state queued) — before its
 * client is answered — and updated when it starts and ends.
 *
 * Feedback events are click, zoom, download, like, dislike, comment. The
 * stats aggregate them per sampler and per style (a request's styles are a
 * JSON array; an image counts once for each of its styles).
 */
#ifndef T2I_SERVER_RECORDS_H
#define T2I_SERVER_RECORDS_H

#include "server/job.h"

/* Open (creating tables). Returns 0, or -1 with a message on stderr. */
int records_open(const char *path);
void records_close(void);

/* Record a job: its request row (written when it is submitted, state
 * queued, and again when it ends) and one row per image. */
void records_job(const job *j);
/* Update only the state column (queued → running). */
void records_job_state(const job *j);

/* At start (before serving), rows still queued or running were left by a
 * crash (SIGKILL, power loss): mark them failed with this error. They are
 * not re-queued: their clients are gone and the job may be what crashed the
 * server. Returns how many, or -1 on a database error. */
#define RECORDS_INTERRUPTED "interrupted: the server stopped before the job finished"
int records_recover(void);

/* 0 recorded, 1 unknown image id, -1 database error. */
int records_feedback(const char *image_id, const char *event, const char *text);

/* Aggregates as a malloc'ed JSON text, NULL on error:
 * {"totals": {...}, "by_sampler": [...], "by_model": [...],
 *  "by_style": [...] (the user's styles), "by_expansion": [off, on],
 *  "by_expansion_style": ["subject/style" of expanded images],
 *  "by_score_bucket": [CLIPScore in 5-point buckets "20-25", or
 *  "(not judged)"], "score_like_correlation": {clip_score, aesthetic,
 *  rank_score: {n, pearson_r}}} — Pearson's r between the score and
 * liked (0/1), i.e. the point-biserial correlation. Each row {key, images,
 * liked_images, likes, dislikes, downloads, clicks, zooms, comments,
 * downloaded_images, clicked_images, like_rate, download_rate,
 * click_rate}; a rate is the share of images with at least one such
 * event. */
char *records_stats_json(void);

/* The expansion's style preferences from the records: one entry per
 * (subject, expansion style) with at least one liked image, weight =
 * liked images / (images + 1), ordered by subject then style (the same
 * records give the same list). 0, or -1 on a database error (*out NULL).
 * Free with records_style_prefs_free. */
int records_style_prefs(t2i_style_pref **out, int *n);
void records_style_prefs_free(t2i_style_pref *p, int n);

#endif
