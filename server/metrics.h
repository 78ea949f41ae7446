/*
 * metrics.h — counters and histograms exported at GET /metrics in the
 * Prometheus text format (version 0.0.4):
 *
 *   t2i_http_requests_total{route,method,status}   counter
 *   t2i_http_request_duration_seconds               histogram
 *   t2i_queue_depth / t2i_jobs_running              gauges
 *   t2i_queue_wait_seconds                          histogram
 *   t2i_generation_seconds                          histogram (one engine call group)
 *   t2i_images_generated_total                      counter
 *   t2i_process_resident_memory_bytes               gauge (/proc/self/statm)
 *
 * Route labels are the route patterns ("/v1/jobs/{id}"), never raw paths, so
 * the label set stays bounded whatever clients send.
 */
#ifndef T2I_SERVER_METRICS_H
#define T2I_SERVER_METRICS_H

void metrics_request(const char *route, const char *method, int status, double seconds);
void metrics_queue_wait(double seconds);
void metrics_generation(double seconds, int images);
/* The whole exposition as a malloc'ed string (NULL on OOM); the caller
 * passes the gauges it reads from the queue (jobs waiting, jobs running,
 * 1 when the engine is ready), so this file depends on nothing but itself. */
/* One device's figures for the t2i_device_* series (filled by the queue,
 * which owns the devices; passed in so that metrics.c uses no queue code). */
typedef struct metrics_device {
    int id, up, busy;            /* up: in rotation with a model loaded */
    long jobs_ok, jobs_failed;   /* engine calls (job groups) */
    long lent;                   /* jobs it helped another device with (CFG parallel) */
    double busy_s;
} metrics_device;
char *metrics_render(int depth, int running, int ready, const metrics_device *devices, int n_devices);

#endif
