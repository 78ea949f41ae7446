/*
 * http.h — the libmicrohttpd glue every route uses: the per-request state,
 * reply helpers (JSON, errors, raw buffers) and the daemon's lifecycle.
 *
 * Order of checks for each request, all decided when the headers arrive and
 * before any body byte is stored: route match (404/405) → API key (401,
 * except routes marked public) → declared Content-Length against the body
 * cap (413) → for generation routes, engine health (503 after a fatal
 * error). The body is then accumulated up to the cap (a chunked body that
 * passes it is discarded as it arrives and answered 413, never parsed) and
 * within --body-timeout seconds of the request's start (past it the
 * connection is closed: a client trickling bytes cannot hold it forever),
 * and the route's handler runs once with the whole body. Generation
 * handlers validate it and only then ask the queue for a slot (429 +
 * Retry-After when full).
 *
 * Error bodies have one shape that both client families understand:
 *   {"error": {"message": "steps: ...", "type": "invalid_request_error",
 *              "param": "steps", "code": null}, "detail": "steps: ..."}
 * (OpenAI clients read error.message, A1111 clients read detail.)
 */
#ifndef T2I_SERVER_HTTP_H
#define T2I_SERVER_HTTP_H

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <stddef.h>
#include "server/server.h"

typedef struct srv_route srv_route;

typedef struct srv_request {
    struct MHD_Connection *conn;
    const char *method, *path;   /* owned by libmicrohttpd for the request */
    const srv_route *route;
    char param[80];              /* the {id} path segment, if any */
    char *body;
    size_t body_len, body_cap;
    int too_big;
    int status;
    double t0;
    char remote[64];
    char job_id[SRV_ID_LEN + 1]; /* for the access log */
} srv_request;

typedef enum MHD_Result (*srv_handler)(srv_request *rq);

/* ROUTE_ADMIT: a generation route, refused with 503 at the headers while
 * the engine is in a fatal state; its queue slot is taken by the handler. */
enum { ROUTE_PUBLIC = 1, ROUTE_ADMIT = 2 };

struct srv_route {
    const char *method, *pattern; /* "{id}" matches one path segment */
    srv_handler fn;
    int flags;
};

/* Queue a JSON reply; takes ownership of o. */
enum MHD_Result reply_json(srv_request *rq, int status, cJSON *o);
/* Queue a JSON error naming the field (may be ""); error.code is null
 * (OpenAI's code strings: "invalid_api_key" for 401), or the given code. */
enum MHD_Result reply_error(srv_request *rq, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
enum MHD_Result reply_error_code(srv_request *rq, int status, const char *field, const char *code,
                                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Queue raw bytes; with must_free the buffer (malloc'ed) is taken over. */
enum MHD_Result reply_buffer(srv_request *rq, int status, const char *content_type, void *data, size_t n,
                             int must_free);
/* Queue a prepared response (adds the common headers, records the status). */
enum MHD_Result reply_response(srv_request *rq, int status, struct MHD_Response *r);

/* Start listening (g_cfg.listen_addr:port). Prints the bound address.
 * Returns 0 or -1 with a message on stderr. */
int http_start(void);
/* Stop accepting new connections (in-flight requests continue). */
void http_quiesce(void);
/* Wait up to timeout_s for the requests in flight to send their responses
 * (after the queue has drained, the handlers of its synchronous jobs still
 * have to encode and send their results). */
void http_finish(double timeout_s);
/* Close all connections and join their threads. */
void http_stop(void);

#endif /* T2I_SERVER_HTTP_H */
