/*
 * clip_config.c — a transformers CLIPModel / ChineseCLIPModel config.json:
 * "model_type" clip or chinese_clip, a text_config (CLIP text transformer,
 * or BERT for ChineseCLIP), a vision_config (the ViT image tower) and the
 * shared projection_dim. Unsupported values are errors naming the key, as in
 * model_config.c; transformers' defaults fill absent keys.
 */
#include <string.h>
#include "base/error.h"
#include "base/json_util.h"
#include "graph/model_config.h"

static void vision_parse(t2i_jctx *c, const cJSON *j, t2i_clip_vision_config *o)
{
    memset(o, 0, sizeof *o);
    o->hidden_size = t2i_jint(c, j, "hidden_size", 768, 1, 1 << 16);
    o->intermediate_size = t2i_jint(c, j, "intermediate_size", 3072, 1, 1 << 18);
    o->layers = t2i_jint(c, j, "num_hidden_layers", 12, 1, 256);
    o->heads = t2i_jint(c, j, "num_attention_heads", 12, 1, 1024);
    o->image_size = t2i_jint(c, j, "image_size", 224, 1, 4096);
    o->patch_size = t2i_jint(c, j, "patch_size", 32, 1, 4096);
    o->num_channels = t2i_jint(c, j, "num_channels", 3, 3, 3);
    static const char *const acts[] = {"quick_gelu", "gelu", NULL};
    o->act = t2i_jenum(c, j, "hidden_act", acts, 0) == 0 ? T2I_ACT_QUICK_GELU : T2I_ACT_GELU;
    o->layer_norm_eps = (float)t2i_jnum(c, j, "layer_norm_eps", 1e-5);
    o->projection_dim = t2i_jint(c, j, "projection_dim", 512, 1, 1 << 16);
    if (c->status == T2I_OK && o->hidden_size % o->heads)
        t2i_jerror(c, T2I_ERR_FORMAT, "vision_config.num_attention_heads", "does not divide hidden_size");
    if (c->status == T2I_OK && o->image_size % o->patch_size)
        t2i_jerror(c, T2I_ERR_FORMAT, "vision_config.patch_size", "does not divide image_size");
}

/* The sub-object `key` (an error when absent or not an object). */
static const cJSON *sub(t2i_jctx *c, const cJSON *j, const char *key)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!cJSON_IsObject(o)) {
        t2i_jerror(c, T2I_ERR_FORMAT, key, "missing or not an object");
        return NULL;
    }
    return o;
}

t2i_status t2i_clip_model_config_load(const char *path, t2i_clip_model_config *o)
{
    cJSON *j;
    T2I_TRY(t2i_json_load(path, &j));
    t2i_jctx c = {path, T2I_OK};
    memset(o, 0, sizeof *o);
    static const char *const types[] = {"clip", "chinese_clip", NULL};
    o->chinese = t2i_jenum(&c, j, "model_type", types, -1) == 1;
    if (c.status == T2I_OK && !cJSON_GetObjectItemCaseSensitive(j, "model_type"))
        t2i_jerror(&c, T2I_ERR_FORMAT, "model_type", "missing (a CLIPModel or ChineseCLIPModel config.json)");
    o->projection_dim = t2i_jint(&c, j, "projection_dim", 512, 1, 1 << 16);
    const cJSON *tj = sub(&c, j, "text_config"), *vj = sub(&c, j, "vision_config");
    if (c.status == T2I_OK && o->chinese) t2i_bert_config_parse(&c, tj, "\"chinese_clip_text_model\"", &o->bert);
    else if (c.status == T2I_OK) t2i_clip_text_config_parse(&c, tj, &o->text);
    if (c.status == T2I_OK) vision_parse(&c, vj, &o->vision);
    /* The projections are top-level weights of projection_dim rows, whatever
     * the sub-configs say (transformers reads the top-level value). */
    o->text.with_projection = !o->chinese;
    o->text.projection_dim = o->vision.projection_dim = o->projection_dim;
    cJSON_Delete(j);
    return c.status;
}
