/*
 * records.c — SQLite records (see records.h). One connection guarded by a
 * mutex; statements are prepared per call (the rates here are a few per
 * second at most), values always bound, never spliced into SQL.
 */
#include "server/records.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sqlite3 *db;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS requests("
    " id TEXT PRIMARY KEY, api TEXT, created REAL, model TEXT, state TEXT, error TEXT,"
    " prompt TEXT, final_prompt TEXT, negative_prompt TEXT, styles TEXT, sampler TEXT,"
    " steps INTEGER, cfg REAL, width INTEGER, height INTEGER, batch_size INTEGER, n_iter INTEGER,"
    " seed INTEGER, request_json TEXT, queue_wait_s REAL, generation_s REAL);"
    "CREATE TABLE IF NOT EXISTS images("
    " id TEXT PRIMARY KEY, request_id TEXT REFERENCES requests(id), idx INTEGER, seed INTEGER,"
    " infotext TEXT, created REAL);"
    "CREATE TABLE IF NOT EXISTS feedback("
    " id INTEGER PRIMARY KEY, image_id TEXT REFERENCES images(id), event TEXT, text TEXT, created REAL);"
    "CREATE TABLE IF NOT EXISTS image_judging("
    " image_id TEXT PRIMARY KEY REFERENCES images(id), expand INTEGER, expand_style TEXT, subject TEXT,"
    " clip_score REAL, aesthetic REAL, rank_score REAL, sharpness REAL, colourfulness REAL, exposure REAL,"
    " contrast REAL);"
    "CREATE INDEX IF NOT EXISTS images_request ON images(request_id);"
    "CREATE INDEX IF NOT EXISTS feedback_image ON feedback(image_id);";

int records_open(const char *path)
{
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
    char *msg = NULL;
    if (rc == SQLITE_OK) sqlite3_busy_timeout(db, 2000);
    if (rc == SQLITE_OK && strcmp(path, ":memory:") != 0)
        rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, &msg);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, schema, NULL, NULL, &msg);

    if (rc != SQLITE_OK) {
        fprintf(stderr, "t2i-server: database %s: %s\n", path, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        sqlite3_close(db);
        db = NULL;
        return -1;
    }
    return 0;
}

int records_recover(void)
{
    /* Their clients are gone, so they are not run again (and a job that
     * crashed the server would crash it again). */
    char *msg = NULL;
    if (sqlite3_exec(db, "UPDATE requests SET state='failed', error='" RECORDS_INTERRUPTED "'"
                         " WHERE state IN ('queued','running')", NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "t2i-server: database: %s\n", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    int n = sqlite3_changes(db);
    if (n > 0) fprintf(stderr, "t2i-server: database: %d job(s) left unfinished by a previous run marked failed\n", n);
    return n;
}

void records_close(void)
{
    pthread_mutex_lock(&mu);
    sqlite3_close(db);
    db = NULL;
    pthread_mutex_unlock(&mu);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s) sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, i);
}

void records_job(const job *j)
{
    if (!db) return;
    cJSON *styles = cJSON_CreateArray();
    for (int i = 0; styles && i < j->p.n_styles; i++) cJSON_AddItemToArray(styles, cJSON_CreateString(j->p.styles[i]));
    char *styles_s = styles ? cJSON_PrintUnformatted(styles) : NULL;
    cJSON_Delete(styles);
    pthread_mutex_lock(&mu);
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
        "INSERT OR REPLACE INTO requests VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21)",
        -1, &st, NULL);
    if (rc == SQLITE_OK) {
        double wait = j->t_start > 0 ? j->t_start - j->t_submit : j->t_end - j->t_submit;
        double gen = j->t_start > 0 ? j->t_end - j->t_start : 0;
        bind_text(st, 1, j->id);
        bind_text(st, 2, j->api);
        sqlite3_bind_double(st, 3, srv_wall() - (srv_now() - j->t_submit));
        bind_text(st, 4, j->model[0] ? j->model : NULL);
        bind_text(st, 5, job_state_name(j->state));
        bind_text(st, 6, j->error);
        bind_text(st, 7, j->p.prompt);
        bind_text(st, 8, j->final_prompt ? j->final_prompt : j->p.prompt);
        bind_text(st, 9, j->p.negative_prompt);
        bind_text(st, 10, styles_s);
        bind_text(st, 11, t2i_sampler_name(j->p.sampler));
        sqlite3_bind_int(st, 12, j->p.steps);
        sqlite3_bind_double(st, 13, j->p.cfg);
        sqlite3_bind_int(st, 14, j->p.width);
        sqlite3_bind_int(st, 15, j->p.height);
        sqlite3_bind_int(st, 16, j->p.batch_size);
        sqlite3_bind_int(st, 17, j->p.n_iter);
        sqlite3_bind_int64(st, 18, (sqlite3_int64)j->base_seed);
        bind_text(st, 19, j->request_json);
        sqlite3_bind_double(st, 20, wait);
        sqlite3_bind_double(st, 21, gen);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == SQLITE_DONE && j->n_images > 0)
        rc = sqlite3_prepare_v2(db, "INSERT INTO images VALUES(?1,?2,?3,?4,?5,?6)", -1, &st, NULL);
    for (int i = 0; st && rc == SQLITE_OK && i < j->n_images; i++) {
        sqlite3_reset(st);
        bind_text(st, 1, j->images[i].id);
        bind_text(st, 2, j->id);
        sqlite3_bind_int(st, 3, i);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)j->images[i].seed);
        bind_text(st, 5, j->images[i].infotext);
        sqlite3_bind_double(st, 6, srv_wall());
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == SQLITE_OK && j->n_images > 0)
        rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO image_judging VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
                                -1, &st, NULL);
    for (int i = 0; st && rc == SQLITE_OK && i < j->n_images; i++) {
        const job_image *ji = &j->images[i];
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        bind_text(st, 1, ji->id);
        sqlite3_bind_int(st, 2, j->p.expand);
        bind_text(st, 3, ji->expand_style);
        bind_text(st, 4, t2i_prompt_subject(j->p.prompt));
        if (ji->scored) {
            const t2i_image_scores *sc = &ji->scores;
            sqlite3_bind_double(st, 5, sc->clip_score);
            if (!isnan(sc->aesthetic)) sqlite3_bind_double(st, 6, sc->aesthetic);
            sqlite3_bind_double(st, 7, sc->score);
            sqlite3_bind_double(st, 8, sc->quality.sharpness);
            sqlite3_bind_double(st, 9, sc->quality.colourfulness);
            sqlite3_bind_double(st, 10, sc->quality.exposure);
            sqlite3_bind_double(st, 11, sc->quality.contrast);
        }
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK && rc != SQLITE_DONE) fprintf(stderr, "t2i-server: database: %s\n", sqlite3_errmsg(db));
    sqlite3_exec(db, rc == SQLITE_OK || rc == SQLITE_DONE ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_unlock(&mu);
    cJSON_free(styles_s);
}

void records_job_state(const job *j)
{
    if (!db) return;
    pthread_mutex_lock(&mu);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "UPDATE requests SET state=?2 WHERE id=?1", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        bind_text(st, 1, j->id);
        bind_text(st, 2, job_state_name(j->state));
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) fprintf(stderr, "t2i-server: database: %s\n", sqlite3_errmsg(db));
    pthread_mutex_unlock(&mu);
}

int records_feedback(const char *image_id, const char *event, const char *text)
{
    if (!db) return -1;
    pthread_mutex_lock(&mu);
    sqlite3_stmt *st = NULL;
    int result = -1;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM images WHERE id=?1", -1, &st, NULL) == SQLITE_OK) {
        bind_text(st, 1, image_id);
        int rc = sqlite3_step(st);
        result = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (result == 0 &&
        sqlite3_prepare_v2(db, "INSERT INTO feedback(image_id,event,text,created) VALUES(?1,?2,?3,?4)", -1, &st,
                           NULL) == SQLITE_OK) {
        bind_text(st, 1, image_id);
        bind_text(st, 2, event);
        bind_text(st, 3, text);
        sqlite3_bind_double(st, 4, srv_wall());
        if (sqlite3_step(st) != SQLITE_DONE) result = -1;
    }
    sqlite3_finalize(st);
    if (result < 0) fprintf(stderr, "t2i-server: database: %s\n", sqlite3_errmsg(db));
    pthread_mutex_unlock(&mu);
    return result;
}

/* Per-image feedback counts, grouped by the expression `key`; x has the
 * request's sampler, model, styles and the image's judging row (x.expand,
 * x.expand_style, x.subject, x.clip_score ...; NULL where never judged). */
#define STATS_SQL(key, from)                                                                     \
    "SELECT " key " AS k, COUNT(*), SUM(likes>0), SUM(likes), SUM(dislikes), SUM(downloads),"   \
    " SUM(clicks), SUM(zooms), SUM(comments), SUM(downloads>0), SUM(clicks>0)"                  \
    " FROM (SELECT i.id, r.sampler, r.model, r.styles, COALESCE(j.expand,0) expand,"           \
    " j.expand_style, j.subject, j.clip_score, j.aesthetic, j.rank_score,"                      \
    " (SELECT COUNT(*) FROM feedback f WHERE f.image_id=i.id AND f.event='like') likes,"        \
    " (SELECT COUNT(*) FROM feedback f WHERE f.image_id=i.id AND f.event='dislike') dislikes,"  \
    " (SELECT COUNT(*) FROM feedback f WHERE f.image_id=i.id AND f.event='download') downloads,"\
    " (SELECT COUNT(*) FROM feedback f WHERE f.image_id=i.id AND f.event='click') clicks,"      \
    " (SELECT COUNT(*) FROM feedback f WHERE f.image_id=i.id AND f.event='zoom') zooms,"        \
    " (SELECT COUNT(*) FROM feedback f WHERE f.image_id=i.id AND f.event='comment') comments"   \
    " FROM images i JOIN requests r ON r.id=i.request_id"                                       \
    " LEFT JOIN image_judging j ON j.image_id=i.id) x " from " GROUP BY k ORDER BY k"

static cJSON *stats_rows(const char *sql)
{
    cJSON *arr = cJSON_CreateArray();
    sqlite3_stmt *st = NULL;
    if (!arr || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "t2i-server: stats: %s\n", sqlite3_errmsg(db));
        cJSON_Delete(arr);
        return NULL;
    }
    static const char *cols[] = {"images", "liked_images", "likes", "dislikes", "downloads", "clicks", "zooms",
                                 "comments", "downloaded_images", "clicked_images"};
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *row = cJSON_CreateObject();
        const unsigned char *k = sqlite3_column_text(st, 0);
        cJSON_AddStringToObject(row, "key", k ? (const char *)k : "");
        for (int c = 0; c < 10; c++) cJSON_AddNumberToObject(row, cols[c], (double)sqlite3_column_int64(st, c + 1));
        /* rates: the share of images with at least one such event */
        double images = (double)sqlite3_column_int64(st, 1);
        cJSON_AddNumberToObject(row, "like_rate", images > 0 ? (double)sqlite3_column_int64(st, 2) / images : 0);
        cJSON_AddNumberToObject(row, "download_rate", images > 0 ? (double)sqlite3_column_int64(st, 9) / images : 0);
        cJSON_AddNumberToObject(row, "click_rate", images > 0 ? (double)sqlite3_column_int64(st, 10) / images : 0);
        cJSON_AddItemToArray(arr, row);
    }
    sqlite3_finalize(st);
    return arr;
}

/* Pearson's r between a score column of the judged images and whether the
 * image was liked (0/1) — the point-biserial correlation — with n; r is
 * null when n < 2 or either side is constant. */
static cJSON *score_like_correlation(const char *column)
{
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT j.%s, EXISTS(SELECT 1 FROM feedback f WHERE f.image_id=j.image_id AND f.event='like')"
             " FROM image_judging j WHERE j.%s IS NOT NULL", column, column);
    sqlite3_stmt *st = NULL;
    cJSON *o = cJSON_CreateObject();
    if (!o || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        cJSON_Delete(o);
        return NULL;
    }
    double n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        double x = sqlite3_column_double(st, 0), y = sqlite3_column_int(st, 1);
        n += 1, sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y;
    }
    sqlite3_finalize(st);
    double vx = n * sxx - sx * sx, vy = n * syy - sy * sy;
    cJSON_AddNumberToObject(o, "n", n);
    if (n >= 2 && vx > 0 && vy > 0) cJSON_AddNumberToObject(o, "pearson_r", (n * sxy - sx * sy) / sqrt(vx * vy));
    else cJSON_AddNullToObject(o, "pearson_r");
    return o;
}

char *records_stats_json(void)
{
    if (!db) return NULL;
    pthread_mutex_lock(&mu);
    cJSON *o = cJSON_CreateObject();
    cJSON *totals = stats_rows(STATS_SQL("'all'", ""));
    cJSON *t0 = totals ? cJSON_DetachItemFromArray(totals, 0) : NULL;
    cJSON_Delete(totals);
    cJSON_AddItemToObject(o, "totals", t0 ? t0 : cJSON_CreateObject());
    cJSON_AddItemToObject(o, "by_sampler", stats_rows(STATS_SQL("x.sampler", "")));
    cJSON_AddItemToObject(o, "by_model", stats_rows(STATS_SQL("x.model", "")));
    cJSON_AddItemToObject(o, "by_style",
                          stats_rows(STATS_SQL("COALESCE(s.value,'(none)')", "LEFT JOIN json_each(x.styles) s")));
    cJSON_AddItemToObject(o, "by_expansion",
                          stats_rows(STATS_SQL("CASE WHEN x.expand THEN 'on' ELSE 'off' END", "")));
    cJSON_AddItemToObject(o, "by_expansion_style",
                          stats_rows(STATS_SQL("COALESCE(x.subject,'?') || '/' || COALESCE(x.expand_style,'(none)')",
                                               "WHERE x.expand")));
    /* CLIPScore in buckets of 5 points: "20-25" holds 20 <= score < 25 */
    cJSON_AddItemToObject(o, "by_score_bucket",
                          stats_rows(STATS_SQL("CASE WHEN x.clip_score IS NULL THEN '(not judged)' ELSE"
                                               " printf('%02d-%02d', CAST(x.clip_score/5 AS INT)*5,"
                                               " CAST(x.clip_score/5 AS INT)*5+5) END", "")));
    cJSON *corr = cJSON_AddObjectToObject(o, "score_like_correlation");
    if (corr) {
        cJSON_AddItemToObject(corr, "clip_score", score_like_correlation("clip_score"));
        cJSON_AddItemToObject(corr, "aesthetic", score_like_correlation("aesthetic"));
        cJSON_AddItemToObject(corr, "rank_score", score_like_correlation("rank_score"));
    }
    pthread_mutex_unlock(&mu);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* Liking per (subject, expansion style): among the images drawn with
 * expansion, weight = liked images / (images + 1) — the share liked,
 * shrunk towards 0 for styles seen only a few times. Ordered by subject
 * and style so the same records give the same list. */
int records_style_prefs(t2i_style_pref **out, int *n_out)
{
    *out = NULL;
    *n_out = 0;
    if (!db) return -1;
    pthread_mutex_lock(&mu);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
        "SELECT j.subject, j.expand_style, COUNT(*),"
        " SUM(EXISTS(SELECT 1 FROM feedback f WHERE f.image_id=j.image_id AND f.event='like'))"
        " FROM image_judging j WHERE j.expand AND j.expand_style IS NOT NULL AND j.subject IS NOT NULL"
        " GROUP BY j.subject, j.expand_style ORDER BY j.subject, j.expand_style", -1, &st, NULL);
    t2i_style_pref *v = NULL;
    int n = 0, cap = 0, result = rc == SQLITE_OK ? 0 : -1;
    while (result == 0 && sqlite3_step(st) == SQLITE_ROW) {
        const double images = (double)sqlite3_column_int64(st, 2), liked = (double)sqlite3_column_int64(st, 3);
        if (liked <= 0) continue;
        if (n == cap) {
            t2i_style_pref *w = realloc(v, (size_t)(cap = cap ? 2 * cap : 16) * sizeof *v);
            if (!w) {
                result = -1;
                break;
            }
            v = w;
        }
        const char *subject = (const char *)sqlite3_column_text(st, 0), *style = (const char *)sqlite3_column_text(st, 1);
        v[n].subject = strdup(subject ? subject : "");
        v[n].style_id = strdup(style ? style : "");
        v[n].weight = (float)(liked / (images + 1));
        if (!v[n].subject || !v[n].style_id) result = -1;
        n++;
    }
    sqlite3_finalize(st);
    if (result != 0) fprintf(stderr, "t2i-server: database: style preferences: %s\n", sqlite3_errmsg(db));
    pthread_mutex_unlock(&mu);
    if (result != 0) {
        records_style_prefs_free(v, n);
        return -1;
    }
    *out = v;
    *n_out = n;
    return 0;
}

void records_style_prefs_free(t2i_style_pref *p, int n)
{
    for (int i = 0; p && i < n; i++) {
        free((char *)p[i].subject);
        free((char *)p[i].style_id);
    }
    free(p);
}
