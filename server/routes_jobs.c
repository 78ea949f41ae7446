/*
 * routes_jobs.c — the native asynchronous API and user feedback:
 *
 *   POST /v1/jobs                 A1111 txt2img fields (with init_images and
 *                                  the other img2img fields: an edit) →
 *                                  202 {id, state}
 *   GET  /v1/jobs/{id}            {id, state, step, steps, progress, seed,
 *                                  final_prompt (styles applied, expansion
 *                                  done; once running),
 *                                  images: [{id, seed, infotext, b64_json}]
 *                                  when done, error when failed/cancelled}
 *   POST /v1/jobs/{id}/cancel     stops it within one denoising step
 *   GET  /v1/jobs/{id}/events     Server-Sent Events: "progress" events as
 *                                  steps complete, then one final event named
 *                                  after the end state (done / failed /
 *                                  cancelled) carrying the job as above
 *   POST /v1/feedback             {image_id, event, text?}
 *   GET  /v1/feedback/stats       aggregates (records.h); also GET /v1/stats
 *
 * Also the helpers the synchronous generation routes share (routes.h).
 */
#define _GNU_SOURCE              /* POLLRDHUP */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "server/edit.h"
#include "server/hires.h"
#include "server/records.h"
#include "server/routes.h"

#define SSE_KEEPALIVE_S 10.0
#define CLIENT_CHECK_S 0.25      /* how often a waiting route looks at its client */

cJSON *route_body_json(srv_request *rq, enum MHD_Result *ret)
{
    api_error e;
    cJSON *o = params_parse_body(rq->body, rq->body_len, &e);
    if (!o) *ret = reply_api_error(rq, &e);
    return o;
}

job *route_submit(srv_request *rq, gen_params *p, const char *api, enum MHD_Result *ret)
{
    return route_submit_as(rq, p, api, rq->body, ret);
}

job *route_submit_as(srv_request *rq, gen_params *p, const char *api, const char *request_json, enum MHD_Result *ret)
{
    int refusal = 0;
    job *j = queue_submit(p, api, request_json, &refusal);
    if (!j && refusal == 429) *ret = reply_error(rq, 429, "", "the queue is full; retry later");
    else if (!j) *ret = reply_error(rq, 503, "", "out of memory");
    else snprintf(rq->job_id, sizeof rq->job_id, "%s", j->id);
    return j;
}

/* Has the client closed its end (or reset the connection)? A request
 * pipelined behind this one counts as still there. */
static int client_gone(int fd)
{
    if (fd < 0) return 0;
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) != 1) return 0;
    if (p.revents & (POLLHUP | POLLERR | POLLRDHUP)) return 1;
    char c;
    return (p.revents & POLLIN) && recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

void route_wait_job(srv_request *rq, job *j)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    int fd = ci ? (int)ci->connect_fd : -1, cancelled = 0;
    unsigned seen = 0;
    queue_lock();
    while (!job_wait_locked(j, &seen, CLIENT_CHECK_S)) {
        if (cancelled) continue;
        queue_unlock();
        if (client_gone(fd)) cancelled = 1, job_cancel(j);
        queue_lock();
    }
    queue_unlock();
}

/* With the queue lock held. */
static cJSON *job_json_locked(const job *j, int with_images)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", j->id);
    cJSON_AddStringToObject(o, "state", job_state_name(j->state));
    cJSON_AddNumberToObject(o, "step", j->step);
    cJSON_AddNumberToObject(o, "steps", j->steps);
    cJSON_AddNumberToObject(o, "progress", j->steps ? (double)j->step / j->steps : 0);
    cJSON_AddNumberToObject(o, "seed", (double)j->base_seed);
    if (j->final_prompt) cJSON_AddStringToObject(o, "final_prompt", j->final_prompt);
    if (j->final_negative) cJSON_AddStringToObject(o, "final_negative_prompt", j->final_negative);
    if (j->state == JOB_DONE) {
        cJSON *imgs = cJSON_AddArrayToObject(o, "images");
        for (int i = 0; i < j->n_images; i++) {
            cJSON *im = cJSON_CreateObject();
            cJSON_AddStringToObject(im, "id", j->images[i].id);
            cJSON_AddNumberToObject(im, "seed", (double)j->images[i].seed);
            cJSON_AddStringToObject(im, "infotext", j->images[i].infotext);
            cJSON_AddStringToObject(im, "prompt", j->images[i].prompt);
            if (with_images) cJSON_AddStringToObject(im, "b64_json", j->images[i].png_b64);
            cJSON_AddItemToArray(imgs, im);
        }
        cJSON_AddNumberToObject(o, "queue_wait_s", j->t_start - j->t_submit);
        cJSON_AddNumberToObject(o, "generation_s", j->t_end - j->t_start);
    }
    if (j->error) cJSON_AddStringToObject(o, "error", j->error);
    cJSON *warnings = cJSON_AddArrayToObject(o, "warnings");
    if (j->warning) cJSON_AddItemToArray(warnings, cJSON_CreateString(j->warning));
    return o;
}

cJSON *route_job_json(job *j, int with_images)
{
    queue_lock();
    cJSON *o = job_json_locked(j, with_images);
    queue_unlock();
    return o;
}

enum MHD_Result route_jobs_create(srv_request *rq)
{
    enum MHD_Result ret = MHD_NO;
    cJSON *o = route_body_json(rq, &ret);
    if (!o) return ret;
    gen_params p;
    api_error e;
    int send_images;
    int rc = params_from_a1111(o, &p, &send_images, &e);
    /* with init_images, an edit as /sdapi/v1/img2img takes it (edit.h) */
    int is_edit = !rc && cJSON_GetObjectItemCaseSensitive(o, "init_images") != NULL;
    if (is_edit && (rc = edit_from_a1111(o, &p, &e))) gen_params_free(&p);
    if (!rc && p.hr && (is_edit ? (api_error_set(&e, 400, "enable_hr", "the hires fix is for txt2img only"), 1)
                                : hires_from_a1111(o, &p, &e)))
        rc = -1, gen_params_free(&p);
    char *summary = is_edit && !rc ? edit_request_summary(o, p.edit) : NULL;
    cJSON_Delete(o);
    if (rc) return reply_api_error(rq, &e);
    job *j = route_submit_as(rq, &p, "jobs", is_edit ? summary : rq->body, &ret);
    cJSON_free(summary);
    if (!j) return ret;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "id", j->id);
    cJSON_AddStringToObject(r, "state", "queued");
    job_unref(j);
    return reply_json(rq, 202, r);
}

static job *find_or_404(srv_request *rq, enum MHD_Result *ret)
{
    job *j = job_find(rq->param);
    if (!j) *ret = reply_error(rq, 404, "id", "no job with this id (finished jobs are kept for a while only)");
    return j;
}

enum MHD_Result route_jobs_get(srv_request *rq)
{
    enum MHD_Result ret;
    job *j = find_or_404(rq, &ret);
    if (!j) return ret;
    cJSON *o = route_job_json(j, 1);
    job_unref(j);
    return reply_json(rq, 200, o);
}

enum MHD_Result route_jobs_cancel(srv_request *rq)
{
    enum MHD_Result ret;
    job *j = find_or_404(rq, &ret);
    if (!j) return ret;
    int was_done = job_cancel(j);
    cJSON *o = route_job_json(j, 0);
    cJSON_AddBoolToObject(o, "cancel_requested", !was_done);
    job_unref(j);
    return reply_json(rq, 200, o);
}

/* ---- Server-Sent Events ------------------------------------------------------ */

typedef struct sse_stream {
    job *j;
    unsigned seen;
    int started, ended;
    char *pending;               /* event text not yet handed to MHD */
    size_t off;
} sse_stream;

static char *sse_event(const char *name, cJSON *data)
{
    char *d = cJSON_PrintUnformatted(data);
    cJSON_Delete(data);
    if (!d) return NULL;
    size_t n = strlen(d) + strlen(name) + 32;
    char *s = malloc(n);
    if (s) snprintf(s, n, "event: %s\ndata: %s\n\n", name, d);
    cJSON_free(d);
    return s;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    sse_stream *st = cls;
    while (!st->pending) {
        if (st->ended) return MHD_CONTENT_READER_END_OF_STREAM;
        queue_lock();
        int changed = 1;
        if (st->started) {
            unsigned before = st->seen;
            job_wait_locked(st->j, &st->seen, SSE_KEEPALIVE_S);
            changed = st->seen != before || job_finished(st->j);
        } else {
            st->seen = st->j->version;
        }
        st->started = 1;
        if (!changed) st->pending = strdup(": keepalive\n\n");
        else if (job_finished(st->j)) {
            st->pending = sse_event(job_state_name(st->j->state), job_json_locked(st->j, 1));
            st->ended = 1;
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "id", st->j->id);
            cJSON_AddStringToObject(o, "state", job_state_name(st->j->state));
            cJSON_AddNumberToObject(o, "step", st->j->step);
            cJSON_AddNumberToObject(o, "steps", st->j->steps);
            st->pending = sse_event("progress", o);
        }
        queue_unlock();
        if (!st->pending) return MHD_CONTENT_READER_END_WITH_ERROR;
        st->off = 0;
    }
    size_t left = strlen(st->pending + st->off), n = left < max ? left : max;
    memcpy(buf, st->pending + st->off, n);
    st->off += n;
    if (st->off == strlen(st->pending)) free(st->pending), st->pending = NULL;
    return (ssize_t)n;
}

static void sse_free(void *cls)
{
    sse_stream *st = cls;
    job_unref(st->j);
    free(st->pending);
    free(st);
}

enum MHD_Result route_jobs_events(srv_request *rq)
{
    enum MHD_Result ret;
    job *j = find_or_404(rq, &ret);
    if (!j) return ret;
    sse_stream *st = calloc(1, sizeof *st);
    if (!st) {
        job_unref(j);
        return reply_error(rq, 503, "", "out of memory");
    }
    st->j = j;
    snprintf(rq->job_id, sizeof rq->job_id, "%s", j->id);
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, sse_read, st, sse_free);
    if (!r) {
        sse_free(st);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    return reply_response(rq, 200, r);
}

/* ---- feedback ------------------------------------------------------------------ */

enum MHD_Result route_feedback(srv_request *rq)
{
    enum MHD_Result ret = MHD_NO;
    cJSON *o = route_body_json(rq, &ret);
    if (!o) return ret;
    static const char *events[] = {"click", "zoom", "download", "like", "dislike", "comment"};
    const char *image_id, *event, *text;
    api_error e;
    int rc = -1;
    if (params_get_string(o, "image_id", 64, NULL, &image_id, &e) ||
        params_get_string(o, "event", 32, NULL, &event, &e) || params_get_string(o, "text", 4096, NULL, &text, &e))
        ret = reply_api_error(rq, &e);
    else if (!image_id)
        ret = reply_error(rq, 400, "image_id", "image_id: required");
    else if (!event)
        ret = reply_error(rq, 400, "event", "event: required (click, zoom, download, like, dislike, comment)");
    else {
        int known = 0;
        for (size_t i = 0; i < sizeof events / sizeof *events; i++) known |= !strcmp(event, events[i]);
        if (!known)
            ret = reply_error(rq, 400, "event", "event: '%.32s' is not one of click, zoom, download, like, dislike, "
                              "comment", event);
        else if ((rc = records_feedback(image_id, event, text)) == 1)
            ret = reply_error(rq, 404, "image_id", "image_id: no image with this id");
        else if (rc < 0)
            ret = reply_error(rq, 500, "", "the feedback could not be recorded");
        else {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddBoolToObject(r, "ok", 1);
            ret = reply_json(rq, 200, r);
        }
    }
    cJSON_Delete(o);
    return ret;
}

enum MHD_Result route_feedback_stats(srv_request *rq)
{
    char *s = records_stats_json();
    if (!s) return reply_error(rq, 500, "", "statistics unavailable");
    return reply_buffer(rq, 200, "application/json", s, strlen(s), 1);
}
