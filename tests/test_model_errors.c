/*
 * test_model_errors.c — bad model folders give their own clear message,
 * never a crash. Each case copies tests/fixtures/tiny-sd1 to a temporary
 * folder, breaks one thing, loads it with t2i_model_load and checks the
 * status and that the message names the culprit.
 */
#include <unistd.h>
#include "test_util.h"

static char tmp[256];

static void fresh_copy(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s && cp -r tests/fixtures/tiny-sd1 %s", tmp, tmp);
    CHECK(system(cmd) == 0, "%s", cmd);
}

static void sh(const char *fmt, const char *arg)
{
    char cmd[1400], inner[1000];
    snprintf(inner, sizeof inner, fmt, arg);
    snprintf(cmd, sizeof cmd, "cd %s && %s", tmp, inner);
    CHECK(system(cmd) == 0, "%s", cmd);
}

static void expect(t2i_engine *e, const char *what, t2i_status want, const char *frag1, const char *frag2)
{
    t2i_model *m = NULL;
    t2i_status st = t2i_model_load(e, tmp, &m);
    const char *msg = t2i_last_error();
    printf("  %-34s -> %s: %s\n", what, t2i_status_name(st), msg);
    CHECK(st == want && !m, "%s: got %s", what, t2i_status_name(st));
    CHECK(strstr(msg, frag1) != NULL, "%s: message lacks '%s'", what, frag1);
    if (frag2) CHECK(strstr(msg, frag2) != NULL, "%s: message lacks '%s'", what, frag2);
    t2i_model_destroy(m);
}

int main(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/t2i_bad_model_%d", (int)getpid());
    t2i_engine *e = NULL;
    CHECK_OK(t2i_engine_create(NULL, &e));
    if (!e) return test_finish();

    fresh_copy();
    t2i_model *m = NULL;
    CHECK_OK(t2i_model_load(e, tmp, &m));
    t2i_model_destroy(m);

    fresh_copy();
    sh("%s", "rm unet/diffusion_pytorch_model.safetensors");
    expect(e, "missing weights file", T2I_ERR_IO, "unet", NULL);

    fresh_copy();
    sh("%s", "rm vae/config.json");
    expect(e, "missing config", T2I_ERR_IO, "vae/config.json", NULL);

    fresh_copy();
    sh("%s", "truncate -s 5000 unet/diffusion_pytorch_model.safetensors");
    expect(e, "truncated weights", T2I_ERR_FORMAT, "diffusion_pytorch_model.safetensors", NULL);

    fresh_copy();
    sh("%s", "sed -i 's/\"cross_attention_dim\": 32/\"cross_attention_dim\": 40/' unet/config.json");
    expect(e, "shape disagrees with config", T2I_ERR_FORMAT, "attn2.to_k.weight", "config.json implies");

    fresh_copy();
    sh("%s", "sed -i 's/\"class_embed_type\": null/\"class_embed_type\": \"timestep\"/' unet/config.json");
    expect(e, "unsupported config value", T2I_ERR_UNSUPPORTED, "class_embed_type", "unet/config.json");

    fresh_copy();
    sh("%s", "sed -i 's/\"CrossAttnDownBlock2D\"/\"KDownBlock2D\"/' unet/config.json");
    expect(e, "unknown block type", T2I_ERR_UNSUPPORTED, "down_block_types", "KDownBlock2D");

    fresh_copy();
    sh("%s", "sed -i 's/\"hidden_act\": \"quick_gelu\"/\"hidden_act\": \"relu\"/' text_encoder/config.json");
    expect(e, "unsupported activation", T2I_ERR_UNSUPPORTED, "hidden_act", "relu");

    /* 4 blocks x 12 layers: inside what the parser accepts; the UNet
     * builder's skip stack once overflowed (52 entries in 48) */
    fresh_copy();
    sh("%s", "sed -i -e 's/\"layers_per_block\": 2/\"layers_per_block\": 12/'"
             " -e 's/^    \"DownBlock2D\"$/    \"DownBlock2D\", \"DownBlock2D\", \"DownBlock2D\"/'"
             " -e 's/^    \"UpBlock2D\",$/    \"UpBlock2D\", \"UpBlock2D\", \"UpBlock2D\",/'"
             " -e 's/^    64$/    64, 64, 64/' unet/config.json");
    expect(e, "4 blocks x 12 layers, weights for 2 x 2", T2I_ERR_FORMAT, "down_blocks.0.resnets.2", "missing");

    fresh_copy();
    sh("%s", "printf '{\"in_channels\": 4,' > unet/config.json");
    expect(e, "malformed JSON", T2I_ERR_FORMAT, "unet/config.json", "invalid JSON");

    fresh_copy();
    sh("%s", "rm tokenizer/vocab.json tokenizer/tokenizer.json");
    expect(e, "missing vocabulary", T2I_ERR_IO, "vocab.json", "tokenizer.json");

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    CHECK(system(cmd) == 0, "cleanup");
    t2i_engine_destroy(e);
    return test_finish();
}
