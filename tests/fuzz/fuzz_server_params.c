/* fuzz_server_params.c — the server's request validation (server/params.c
 * with server/styles.c, server/job.c and the built-in style catalog): any
 * body through params_parse_body, then both the A1111 and the OpenAI schema.
 *
 * The few server facts params.c reads (the configuration's limits, the model
 * catalog, the loaded model and its native size, whether a scorer is
 * loaded) are stubbed here with
 * t2i-server's defaults, so the harness needs neither libmicrohttpd nor
 * SQLite nor the queue. */
#include "fuzz_util.h"
#include "server/params.h"
#include "server/server.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

srv_config g_cfg = {.max_side = 2048, .max_steps = 150, .max_images = 16, .max_cost = 1e9};

int srv_model_find(const char *name) { return strcasecmp(name, "tiny-sd1") ? -1 : 0; }
int queue_current_model(void) { return 0; }
int queue_native_size(void) { return 512; }
int queue_size_multiple(void) { return 64; }
int judging_ready(void) { return 1; }   /* a scorer is loaded: best_of is checked in full */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    api_error e;
    memset(&e, 0, sizeof e);
    cJSON *o = params_parse_body((const char *)data, size, &e);
    if (!o) {
        if (e.status < 400 || e.status > 599) abort();
        return 0;
    }
    gen_params p;
    int send_images = 0;
    if (params_from_a1111(o, &p, &send_images, &e) == 0) gen_params_free(&p);
    else if (e.status < 400 || e.status > 599) abort();
    int want_url = 0;
    if (params_from_openai(o, &p, &want_url, &e) == 0) gen_params_free(&p);
    else if (e.status < 400 || e.status > 599) abort();
    const char *str;
    long long v;
    params_get_string(o, "prompt", 8, "", &str, &e);
    params_get_int(o, "seed", -5, 5, 0, &v, &e);
    params_check_unimplemented(o, "", &e);
    cJSON_Delete(o);
    return 0;
}
