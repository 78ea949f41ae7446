/*
 * sched_fixture.h — the fixture of test_rng.c and test_scheduler.c:
 * tests/fixtures/sched/index.json (cases, each naming offsets) and data.bin
 * (every reference array as FP32, back to back), written by
 * scripts/fixtures/fixtures_sched.py; plus the failure-counting CHECK both use (it
 * prints only failures; main returns `failures ? 1 : 0`).
 *
 * Static functions and state: each tests/test_*.c is its own program.
 */
#ifndef T2I_SCHED_FIXTURE_H
#define T2I_SCHED_FIXTURE_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include "test_file.h"

#define DIR "tests/fixtures/sched/"

static int failures;
#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            failures++;                                                      \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);             \
            fprintf(stderr, __VA_ARGS__);                                    \
            fprintf(stderr, "\n");                                           \
        }                                                                    \
    } while (0)

static char *fixture_js, *fixture_bin;
static const float *data;     /* data.bin */
static size_t data_n;         /* floats in data.bin */

/* Read index.json and data.bin into *idx (parsed), data and data_n; 0
 * (after saying so on stderr) when the fixture is missing. fixture_close
 * frees it all. */
static int fixture_open(cJSON **idx)
{
    size_t len;
    *idx = NULL;
    fixture_js = read_all(DIR "index.json", NULL);
    fixture_bin = read_all(DIR "data.bin", &len);
    if (!fixture_js || !fixture_bin) {
        fprintf(stderr, "fixtures missing: run scripts/fixtures/fixtures_sched.py\n");
        return 0;
    }
    data = (const float *)fixture_bin;
    data_n = len / 4;
    *idx = cJSON_Parse(fixture_js);
    return 1;
}

static void fixture_close(cJSON *idx)
{
    cJSON_Delete(idx);
    free(fixture_js);
    free(fixture_bin);
}

/* The reference array at the offset stored under `key` of case o. */
static const float *at(const cJSON *o, const char *key)
{
    int off = cJSON_GetObjectItem(o, key)->valueint;
    if (off < 0 || (size_t)off > data_n) { fprintf(stderr, "bad offset\n"); exit(1); }
    return data + off;
}

#endif
