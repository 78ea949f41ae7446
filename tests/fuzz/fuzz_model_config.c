/* fuzz_model_config.c — a model folder's config files: every config.json
 * parser (graph/model_config.c over base/json_util.c) and
 * scheduler_config.json (runtime/scheduler.c) on the same input. What a
 * parser accepts is handed to its graph builder (a small latent, batch 1):
 * every size the parsers accept must be one the builders can hold. */
#include "fuzz_util.h"
#include "graph/build.h"
#include "graph/model_config.h"
#include "runtime/scheduler.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[1024];
    fuzz_write("config.json", data, size, path, sizeof path);
    t2i_graph *g = NULL;

    t2i_clip_text_config clip;
    if (t2i_clip_text_config_load(path, &clip) == T2I_OK && clip.layers <= 32 && clip.hidden_size <= 4096 &&
        t2i_build_clip_text(&clip, 1, 4, &g) == T2I_OK)
        t2i_graph_destroy(g), g = NULL;
    t2i_bert_config bert;
    if (t2i_bert_config_load(path, &bert) == T2I_OK && bert.layers <= 32 && bert.hidden_size <= 4096 &&
        t2i_build_bert_text(&bert, 1, 4, &g) == T2I_OK)
        t2i_graph_destroy(g), g = NULL;
    t2i_unet_config unet;
    if (t2i_unet_config_load(path, &unet) == T2I_OK) {
        int side = 1 << (unet.n_blocks > 1 ? unet.n_blocks - 1 : 0);
        if (t2i_build_unet(&unet, 1, side, side, 2, &g) == T2I_OK) t2i_graph_destroy(g), g = NULL;
    }
    t2i_vae_config vae;
    if (t2i_vae_config_load(path, &vae) == T2I_OK) {
        t2i_vae_scale(&vae);
        if (t2i_build_vae_decoder(&vae, 1, 1, 1, &g) == T2I_OK) t2i_graph_destroy(g), g = NULL;
        if (t2i_build_vae_encoder(&vae, 1, t2i_vae_scale(&vae), t2i_vae_scale(&vae), &g) == T2I_OK)
            t2i_graph_destroy(g), g = NULL;
    }
    t2i_sched_config sc;
    if (t2i_sched_config_load(path, &sc) == T2I_OK)
        for (int k = 0; k < T2I_SAMPLER_COUNT; k++) {
            t2i_sched *s = NULL;
            if (t2i_sched_create(&sc, (t2i_sampler)k, 7, &s) == T2I_OK) t2i_sched_destroy(s);
        }
    return 0;
}
