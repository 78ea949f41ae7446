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

/* Record a finished job: its request row and one row per image. */
void records_job(const job *j);

/* 0 recorded, 1 unknown image id, -1 database error. */
int records_feedback(const char *image_id, const char *event, const char *text);

/* Aggregates as a malloc'ed JSON text, NULL on error:
 * {"totals": {...}, "by_sampler": [...], "by_style": [...], "by_model": [...]}
 * each row {key, images, liked_images, likes, dislikes, downloads, clicks,
 * zooms, comments, like_rate}. */
char *records_stats_json(void);

#endif
