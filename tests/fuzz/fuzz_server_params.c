/* fuzz_server_params.c — the server's request validation (server/params.c
 * with server/styles.c and the built-in style catalog): any body through
 * params_parse_body, then both the A1111 and the OpenAI schema.
 *
 * The few server facts params.c reads (the configuration's limits, the model
 * catalog, the loaded model) are stubbed here as t2i-server's defaults, so
 * the harness needs neither libmicrohttpd nor SQLite. gen_params_free is
 * server/queue.c's (queue.c itself drags in the whole server). */
#include "fuzz_util.h"
#include "server/params.h"
#include "server/server.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

srv_config g_cfg = {.max_side = 2048, .max_steps = 150, .max_images = 16};

int srv_model_find(const char *name) { return strcasecmp(name, "tiny-sd1") ? -1 : 0; }
int queue_current_model(void) { return 0; }

void gen_params_free(gen_params *p)
{
    if (!p) return;
    free(p->prompt), free(p->negative_prompt);
    for (int i = 0; i < p->n_styles; i++) free(p->styles[i]);
    free(p->styles);
    memset(p, 0, sizeof *p);
}

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
    if (params_from_openai(o, &p, &e) == 0) gen_params_free(&p);
    else if (e.status < 400 || e.status > 599) abort();
    const char *str;
    long long v;
    params_get_string(o, "prompt", 8, "", &str, &e);
    params_get_int(o, "seed", -5, 5, 0, &v, &e);
    cJSON_Delete(o);
    return 0;
}
