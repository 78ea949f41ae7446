/*
 * http.c — libmicrohttpd glue (see http.h): daemon options, the per-request
 * state machine (headers → checks → body → handler), API-key checks,
 * reply helpers, and one JSON access-log line per completed request.
 *
 * libmicrohttpd runs one thread per connection
 * (MHD_USE_THREAD_PER_CONNECTION), so a handler may block on its job;
 * the connection count is bounded by --conn-limit and --per-ip-limit and
 * idle connections close after --conn-timeout seconds.
 */
#include "server/http.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "server/b64.h"
#include "server/metrics.h"
#include "server/queue.h"
#include "server/routes.h"

static struct MHD_Daemon *daemon_;
static FILE *access_log;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static int live_requests;        /* headers received, response not yet sent */

/* ---- replies -------------------------------------------------------------- */

enum MHD_Result reply_response(srv_request *rq, int status, struct MHD_Response *r)
{
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    rq->status = status;
    enum MHD_Result ret = MHD_queue_response(rq->conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result reply_buffer(srv_request *rq, int status, const char *ctype, void *data, size_t n, int must_free)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(n, data, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        if (must_free) free(data);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", ctype);
    if (status == 429 || status == 503) MHD_add_response_header(r, "Retry-After", status == 429 ? "1" : "5");
    if (status == 401) MHD_add_response_header(r, "WWW-Authenticate", "Basic realm=\"t2i-server\"");
    /* Not implemented, or past its deadline: the same request would fail
     * again, so the OpenAI SDK should not retry it. */
    if (status == 501 || status == 504) MHD_add_response_header(r, "x-should-retry", "false");
    return reply_response(rq, status, r);
}

enum MHD_Result reply_json(srv_request *rq, int status, cJSON *o)
{
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!s) {
        static char oom[] = "{\"error\":{\"message\":\"out of memory\",\"type\":\"server_error\",\"code\":null}}";
        return reply_buffer(rq, 503, "application/json", oom, sizeof oom - 1, 0);
    }
    return reply_buffer(rq, status, "application/json", s, strlen(s), 1);
}

static enum MHD_Result reply_error_v(srv_request *rq, int status, const char *field, const char *code,
                                     const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "message", msg);
    cJSON_AddStringToObject(e, "type", status == 401 ? "authentication_error"
                                       : status == 429 ? "rate_limit_error"
                                       : status < 500 ? "invalid_request_error" : "server_error");
    if (field && *field) cJSON_AddStringToObject(e, "param", field);
    else cJSON_AddNullToObject(e, "param");
    /* OpenAI's code is a string or null; the HTTP status says the rest. */
    if (!code && status == 401) code = "invalid_api_key";
    if (code && *code) cJSON_AddStringToObject(e, "code", code);
    else cJSON_AddNullToObject(e, "code");
    cJSON_AddStringToObject(o, "detail", msg);
    return reply_json(rq, status, o);
}

enum MHD_Result reply_error(srv_request *rq, int status, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum MHD_Result r = reply_error_v(rq, status, field, NULL, fmt, ap);
    va_end(ap);
    return r;
}

enum MHD_Result reply_api_error(srv_request *rq, const api_error *e)
{
    return reply_error_code(rq, e->status, e->field, e->code, "%s", e->message);
}

enum MHD_Result reply_error_code(srv_request *rq, int status, const char *field, const char *code,
                                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum MHD_Result r = reply_error_v(rq, status, field, code, fmt, ap);
    va_end(ap);
    return r;
}

/* ---- authentication --------------------------------------------------------- */

static int same_secret(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    unsigned char diff = na != nb;
    for (size_t i = 0; i < na; i++) diff |= (unsigned char)a[i] ^ (unsigned char)b[i % (nb ? nb : 1)];
    return diff == 0;
}

static int authorized(struct MHD_Connection *c)
{
    if (!g_cfg.api_key) return 1;
    const char *key = g_cfg.api_key;
    const char *x = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-api-key");
    if (x && same_secret(x, key)) return 1;
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!auth) return 0;
    if (!strncasecmp(auth, "Bearer ", 7)) return same_secret(auth + 7, key);
    if (!strncasecmp(auth, "Basic ", 6) && strlen(auth) < 4096) {
        /* A1111 --api-auth style: any user name, the key as the password. */
        unsigned char *dec = NULL;
        size_t n = 0;
        const char *why;
        int ok = 0;
        if (b64_decode(auth + 6, &dec, &n, &why) == 0) {
            char *s = malloc(n + 1);
            if (s) {
                memcpy(s, dec, n), s[n] = 0;
                char *colon = memchr(s, ':', n);
                ok = colon && strlen(s) == n && same_secret(colon + 1, key);
                free(s);
            }
        }
        free(dec);
        return ok;
    }
    return 0;
}

/* ---- routing ---------------------------------------------------------------- */

/* Match path against pattern; a "{id}" segment captures [A-Za-z0-9._-]{1,79}
 * not starting with '.'. */
static int match(const char *pattern, const char *path, char *param, size_t cap)
{
    while (*pattern && *path) {
        if (!strncmp(pattern, "{id}", 4)) {
            size_t n = 0;
            if (*path == '.') return 0;
            while (path[n] && path[n] != '/') {
                char ch = path[n];
                int okc = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                          ch == '.' || ch == '_' || ch == '-';
                if (!okc || n + 1 >= cap) return 0;
                param[n] = ch, n++;
            }
            if (!n) return 0;
            param[n] = 0;
            pattern += 4, path += n;
            continue;
        }
        if (*pattern++ != *path++) return 0;
    }
    return !*pattern && !*path;
}

static const srv_route *find_route(srv_request *rq, int *path_known)
{
    *path_known = 0;
    for (int i = 0; i < srv_n_routes; i++) {
        if (!match(srv_routes[i].pattern, rq->path, rq->param, sizeof rq->param)) continue;
        *path_known = 1;
        if (!strcmp(srv_routes[i].method, rq->method)) return &srv_routes[i];
    }
    return NULL;
}

/* ---- the request state machine ---------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)cls, (void)version;
    srv_request *rq = *con_cls;
    if (!rq) {
        if (!(rq = calloc(1, sizeof *rq))) return MHD_NO;
        *con_cls = rq;
        pthread_mutex_lock(&live_mu);
        live_requests++;
        pthread_mutex_unlock(&live_mu);
        rq->conn = c, rq->method = method, rq->path = url, rq->t0 = srv_now();
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr) {
            const struct sockaddr *sa = ci->client_addr;
            if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, rq->remote, sizeof rq->remote);
            else if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, rq->remote, sizeof rq->remote);
        }
        int path_known;
        rq->route = find_route(rq, &path_known);
        if (!rq->route) {
            if (path_known) return reply_error(rq, 405, "", "method %s not allowed here", method);
            return reply_error(rq, 404, "", "no such route");
        }
        if (!(rq->route->flags & ROUTE_PUBLIC) && !authorized(c))
            return reply_error(rq, 401, "", "missing or wrong API key");
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > g_cfg.max_body)
            return reply_error(rq, 413, "body", "larger than the %zu-byte limit", g_cfg.max_body);
        if ((rq->route->flags & ROUTE_ADMIT) && queue_health() == SRV_FATAL)
            return reply_error(rq, 503, "", "the engine is unavailable (see /health)");
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (srv_now() - rq->t0 > g_cfg.body_timeout_s) {
            rq->status = 408;    /* for the log: the connection is closed unanswered */
            return MHD_NO;
        }
        if (rq->too_big) return MHD_YES;
        if (rq->body_len + n > g_cfg.max_body) {
            rq->too_big = 1;
            free(rq->body), rq->body = NULL, rq->body_len = rq->body_cap = 0;
            return MHD_YES;
        }
        if (rq->body_len + n + 1 > rq->body_cap) {
            size_t cap = rq->body_cap ? rq->body_cap : 4096;
            while (cap < rq->body_len + n + 1) cap *= 2;
            char *nb = realloc(rq->body, cap);
            if (!nb) return MHD_NO;
            rq->body = nb, rq->body_cap = cap;
        }
        memcpy(rq->body + rq->body_len, upload, n);
        rq->body_len += n;
        rq->body[rq->body_len] = 0;
        return MHD_YES;
    }
    if (rq->status) return MHD_YES;      /* already answered */
    if (rq->too_big) return reply_error(rq, 413, "body", "larger than the %zu-byte limit", g_cfg.max_body);
    return rq->route->fn(rq);
}

static void log_access(const srv_request *rq, double seconds)
{
    char ts[40];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    size_t k = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + k, sizeof ts - k, ".%03ldZ", now.tv_nsec / 1000000);
    char path[257];
    snprintf(path, sizeof path, "%s", rq->path ? rq->path : "");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "time", ts);
    cJSON_AddStringToObject(o, "remote", rq->remote);
    cJSON_AddStringToObject(o, "method", rq->method ? rq->method : "");
    cJSON_AddStringToObject(o, "path", path);
    cJSON_AddStringToObject(o, "route", rq->route ? rq->route->pattern : "");
    cJSON_AddNumberToObject(o, "status", rq->status);
    cJSON_AddNumberToObject(o, "duration_ms", (double)(long long)(seconds * 1e4) / 10);
    cJSON_AddNumberToObject(o, "bytes_in", (double)rq->body_len);
    if (rq->job_id[0]) cJSON_AddStringToObject(o, "job", rq->job_id);
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!line) return;
    pthread_mutex_lock(&log_mu);
    fprintf(access_log, "%s\n", line);
    fflush(access_log);
    pthread_mutex_unlock(&log_mu);
    cJSON_free(line);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode code)
{
    (void)cls, (void)c;
    srv_request *rq = *con_cls;
    if (!rq) return;
    *con_cls = NULL;
    if (!rq->status) rq->status = code == MHD_REQUEST_TERMINATED_COMPLETED_OK ? 200 : 499;
    double dt = srv_now() - rq->t0;
    metrics_request(rq->route ? rq->route->pattern : "(unmatched)", rq->method ? rq->method : "", rq->status, dt);
    log_access(rq, dt);
    free(rq->body);
    free(rq);
    pthread_mutex_lock(&live_mu);
    live_requests--;
    pthread_mutex_unlock(&live_mu);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    pthread_mutex_lock(&log_mu);
    fputs("t2i-server: http: ", stderr);
    vfprintf(stderr, fmt, ap);
    pthread_mutex_unlock(&log_mu);
}

int http_start(void)
{
    access_log = stderr;
    if (g_cfg.access_log && !(access_log = fopen(g_cfg.access_log, "a"))) {
        fprintf(stderr, "t2i-server: cannot open access log %s\n", g_cfg.access_log);
        return -1;
    }
    struct sockaddr_in sa4;
    struct sockaddr_in6 sa6;
    memset(&sa4, 0, sizeof sa4), memset(&sa6, 0, sizeof sa6);
    const struct sockaddr *sa;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    if (inet_pton(AF_INET, g_cfg.listen_addr, &sa4.sin_addr) == 1) {
        sa4.sin_family = AF_INET, sa4.sin_port = htons((uint16_t)g_cfg.port);
        sa = (const struct sockaddr *)&sa4;
    } else if (inet_pton(AF_INET6, g_cfg.listen_addr, &sa6.sin6_addr) == 1) {
        sa6.sin6_family = AF_INET6, sa6.sin6_port = htons((uint16_t)g_cfg.port);
        sa = (const struct sockaddr *)&sa6;
        flags |= MHD_USE_IPv6;
    } else {
        fprintf(stderr, "t2i-server: --listen: '%s' is not an IPv4 or IPv6 address\n", g_cfg.listen_addr);
        return -1;
    }
    daemon_ = MHD_start_daemon(flags, (uint16_t)g_cfg.port, NULL, NULL, on_request, NULL,
                               MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                               MHD_OPTION_SOCK_ADDR, sa,
                               MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)g_cfg.conn_timeout_s,
                               MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)g_cfg.per_ip_limit,
                               MHD_OPTION_CONNECTION_LIMIT, (unsigned)g_cfg.conn_limit,
                               MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                               MHD_OPTION_END);
    if (!daemon_) {
        fprintf(stderr, "t2i-server: cannot listen on %s:%d\n", g_cfg.listen_addr, g_cfg.port);
        return -1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
    int port = di ? di->port : g_cfg.port;
    fprintf(stderr, "t2i-server: listening on http://%s%s%s:%d/\n", sa->sa_family == AF_INET6 ? "[" : "",
            g_cfg.listen_addr, sa->sa_family == AF_INET6 ? "]" : "", port);
    return 0;
}

void http_quiesce(void)
{
    if (!daemon_) return;
    MHD_socket s = MHD_quiesce_daemon(daemon_);
    if (s != MHD_INVALID_SOCKET) close(s);
}

void http_finish(double timeout_s)
{
    double end = srv_now() + timeout_s;
    for (;;) {
        pthread_mutex_lock(&live_mu);
        int n = live_requests;
        pthread_mutex_unlock(&live_mu);
        if (n == 0 || srv_now() > end) break;
        usleep(10000);
    }
}

void http_stop(void)
{
    if (daemon_) MHD_stop_daemon(daemon_);
    daemon_ = NULL;
    if (access_log && access_log != stderr) fclose(access_log);
    access_log = NULL;
}
