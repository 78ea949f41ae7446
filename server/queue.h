/*
 * queue.h — the bounded job queue and the worker thread that owns the
 * engine (t2i is not thread-safe per model, so exactly one thread calls it).
 *
 * Admission is decided when a request has arrived whole and validated:
 * queue_submit() takes one of (queue_max + devices) slots — the jobs waiting
 * plus one running per device — or refuses (→ 429); the slot is freed when the job
 * ends. A client still sending its body holds no slot, so slow clients
 * cannot fill the queue (http.c bounds how long a body may take), and
 * exactly queue_max + 1 requests of a burst are accepted.
 *
 * Jobs are reference counted: the registry holds one reference until the job
 * is evicted (finished jobs beyond keep_jobs, oldest first), every handler
 * that looks one up holds another. All job fields are guarded by the one
 * queue lock (queue_lock/queue_unlock); every change bumps job->version and
 * broadcasts, so waiters (synchronous routes, SSE streams) use job_wait().
 *
 * Batching: with batch_max > 1 the worker merges queued jobs that the public
 * API can draw in one call — same prompt, negative prompt, styles, expansion,
 * steps, sampler, CFG and size, one iteration each, random or consecutive
 * seeds — into one
 * t2i_txt2img batch. t2i_txt2img takes one prompt per call, so requests with
 * different prompts cannot share a batch yet.
 */
#ifndef T2I_SERVER_QUEUE_H
#define T2I_SERVER_QUEUE_H

#include "server/job.h"
#include "server/metrics.h"

typedef enum srv_health { SRV_LOADING, SRV_READY, SRV_FATAL } srv_health;

/* Start the worker (it creates the engine and loads model_index at start).
 * Returns 0, or -1 with a message on stderr. */
int queue_start(int model_index);
/* Stop: refuse new work, let queued and running jobs finish for up to
 * drain_s seconds, then cancel the rest; joins the worker and frees all. */
void queue_stop(double drain_s);
/* Drop the registry's references; after queue_stop and the HTTP daemon. */
void queue_free_all(void);

/* Admit and submit a validated request: takes one of the queue_max + 1
 * slots, or refuses. Takes ownership of *p (zeroed here) either way;
 * request_json is copied. Returns the job with one reference for the
 * caller, or NULL with *refusal = 429 (queue full or shutting down) or 503
 * (out of memory). */
job *queue_submit(gen_params *p, const char *api, const char *request_json, int *refusal);

void queue_lock(void);
void queue_unlock(void);
/* With the lock held: wait until job->version differs from *seen or the
 * timeout passes; updates *seen. Returns 1 if the job is finished. */
int job_wait_locked(job *j, unsigned *seen, double timeout_s);
int job_finished(const job *j);

job *job_find(const char *id);   /* referenced, or NULL */
void job_ref(job *j);
void job_unref(job *j);
/* Cancel: a queued job ends at once, a running one within one step.
 * Returns 0, or 1 if it had already finished. */
int job_cancel(job *j);
/* A1111 interrupt: cancel the running job(s). Returns how many. */
int queue_interrupt(void);
/* A1111 skip: end the running job(s)' current iteration (n_iter) and go on
 * with the next; the skipped images are missing from the result. Returns
 * how many jobs run. */
int queue_skip(void);

/* Switch the loaded model (runs on the worker, in queue order). Returns 0,
 * or -1 with a message in err. */
int queue_switch_model(int model_index, char *err, size_t n);
int queue_current_model(void);   /* index into g_models, -1 if none */
int queue_native_size(void);
/* Width and height must be multiples of this for the loaded model (0 before one is loaded). */
int queue_size_multiple(void);
/* The PNG of a kept job's image by id, if it finished less than max_age_s
 * ago: 1 with *png malloc'ed, 0 unknown or expired, -1 out of memory. */
int queue_image_png(const char *image_id, double max_age_s, unsigned char **png, size_t *n);     /* the loaded model's default side in px, 0 if none */

/* The devices (--devices; one when not given) for /metrics: up to max
 * entries written, the count returned. */
int queue_devices(metrics_device *out, int max);

srv_health queue_health(void);
int queue_depth(void);           /* jobs waiting */
int queue_running(void);         /* jobs running */

/* Progress of the running job for /sdapi/v1/progress (lock taken inside):
 * returns 0 if idle, else fills the fields. */
int queue_progress(int *step, int *steps, int *iter, int *n_iter, double *elapsed, int *interrupted);

#endif /* T2I_SERVER_QUEUE_H */
