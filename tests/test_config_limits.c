/*
 * test_config_limits.c — every config the parsers accept builds, and the
 * builders refuse (never overflow) what the parsers would not accept.
 *
 * The builders keep fixed arrays sized by the parsers' limits
 * (T2I_MAX_BLOCKS, T2I_MAX_LAYERS_PER_BLOCK in graph/model_config.h): the
 * UNet's skip stack once held 48 entries while layers_per_block up to 16
 * was accepted, and 4 blocks × 12 layers (52 skips) crashed it. Here
 * UNet and VAE configs at those limits (narrow channels: only the graph is
 * built, no weights) are parsed and built, one past each limit is
 * refused by the parser naming the key, and hand-made configs beyond the
 * limits get T2I_ERR_INVALID_ARG from the builders.
 */
#include <unistd.h>
#include "graph/build.h"
#include "test_util.h"

static char path[64];

/* A UNet config.json of `nb` blocks (cross-attention in the first) of `lpb`
 * layers, 8 channels each. */
static void write_unet(int nb, int lpb)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL, "cannot write %s", path);
    if (!f) return;
    fprintf(f, "{\"down_block_types\": [");
    for (int i = 0; i < nb; i++) fprintf(f, "%s\"%s\"", i ? ", " : "", i ? "DownBlock2D" : "CrossAttnDownBlock2D");
    fprintf(f, "], \"up_block_types\": [");
    for (int i = 0; i < nb; i++) fprintf(f, "%s\"%s\"", i ? ", " : "", i < nb - 1 ? "UpBlock2D" : "CrossAttnUpBlock2D");
    fprintf(f, "], \"block_out_channels\": [");
    for (int i = 0; i < nb; i++) fprintf(f, "%s8", i ? ", " : "");
    fprintf(f, "], \"layers_per_block\": %d, \"attention_head_dim\": 2, \"cross_attention_dim\": 8,"
               " \"norm_num_groups\": 4}\n", lpb);
    fclose(f);
}

static void write_vae(int nb, int lpb)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL, "cannot write %s", path);
    if (!f) return;
    fprintf(f, "{\"down_block_types\": [");
    for (int i = 0; i < nb; i++) fprintf(f, "%s\"DownEncoderBlock2D\"", i ? ", " : "");
    fprintf(f, "], \"up_block_types\": [");
    for (int i = 0; i < nb; i++) fprintf(f, "%s\"UpDecoderBlock2D\"", i ? ", " : "");
    fprintf(f, "], \"block_out_channels\": [");
    for (int i = 0; i < nb; i++) fprintf(f, "%s8", i ? ", " : "");
    fprintf(f, "], \"layers_per_block\": %d, \"norm_num_groups\": 4}\n", lpb);
    fclose(f);
}

/* The graph holds weight `name`. */
static void expect_tensor(const t2i_graph *g, const char *what, const char *name)
{
    CHECK(g && t2i_graph_find(g, name) >= 0, "%s: no tensor %s", what, name);
}

static void check_unet(int nb, int lpb)
{
    char what[64], name[96];
    snprintf(what, sizeof what, "unet %d blocks x %d layers", nb, lpb);
    write_unet(nb, lpb);
    t2i_unet_config c;
    CHECK_OK(t2i_unet_config_load(path, &c));
    t2i_graph *g = NULL;
    int lat = 1 << (nb - 1);
    CHECK_OK(t2i_build_unet(&c, 1, lat, lat, 1, &g));
    snprintf(name, sizeof name, "down_blocks.%d.resnets.%d.conv1.weight", nb - 1, lpb - 1);
    expect_tensor(g, what, name);
    snprintf(name, sizeof name, "up_blocks.%d.resnets.%d.conv1.weight", nb - 1, lpb);
    expect_tensor(g, what, name);
    printf("  %-28s builds (%d tensors)\n", what, g ? g->n_tensors : 0);
    t2i_graph_destroy(g);
}

static void check_vae(int nb, int lpb)
{
    char what[64], name[96];
    snprintf(what, sizeof what, "vae %d blocks x %d layers", nb, lpb);
    write_vae(nb, lpb);
    t2i_vae_config c;
    CHECK_OK(t2i_vae_config_load(path, &c));
    t2i_graph *dec = NULL, *enc = NULL;
    int f = 1 << (nb - 1);
    CHECK_OK(t2i_build_vae_decoder(&c, 1, 1, 1, &dec));
    CHECK_OK(t2i_build_vae_encoder(&c, 1, f, f, &enc));
    snprintf(name, sizeof name, "decoder.up_blocks.%d.resnets.%d.conv1.weight", nb - 1, lpb);
    expect_tensor(dec, what, name);
    snprintf(name, sizeof name, "encoder.down_blocks.%d.resnets.%d.conv1.weight", nb - 1, lpb - 1);
    expect_tensor(enc, what, name);
    printf("  %-28s builds\n", what);
    t2i_graph_destroy(dec);
    t2i_graph_destroy(enc);
}

/* The parser refuses the config just written, naming `key`. */
static void expect_refused(t2i_status st, const char *what, const char *key)
{
    printf("  %-28s -> %s: %s\n", what, t2i_status_name(st), t2i_last_error());
    CHECK(st != T2I_OK && strstr(t2i_last_error(), key), "%s: got %s (%s)", what, t2i_status_name(st),
          t2i_last_error());
}

int main(void)
{
    snprintf(path, sizeof path, "/tmp/t2i_config_limits_%d.json", (int)getpid());

    check_unet(4, 12);   /* the crash: 52 skips in a stack of 48 */
    check_unet(T2I_MAX_BLOCKS, T2I_MAX_LAYERS_PER_BLOCK);
    check_unet(1, 1);
    check_vae(T2I_MAX_BLOCKS, T2I_MAX_LAYERS_PER_BLOCK);

    t2i_unet_config u;
    t2i_vae_config v;
    write_unet(2, T2I_MAX_LAYERS_PER_BLOCK + 1);
    expect_refused(t2i_unet_config_load(path, &u), "unet layers_per_block 17", "layers_per_block");
    write_unet(T2I_MAX_BLOCKS + 1, 1);
    expect_refused(t2i_unet_config_load(path, &u), "unet 7 blocks", "down_block_types");
    write_vae(2, T2I_MAX_LAYERS_PER_BLOCK + 1);
    expect_refused(t2i_vae_config_load(path, &v), "vae layers_per_block 17", "layers_per_block");
    write_vae(T2I_MAX_BLOCKS + 1, 1);
    expect_refused(t2i_vae_config_load(path, &v), "vae 7 blocks", "down_block_types");

    /* configs made by hand, beyond what a parser gives */
    write_unet(2, 2);
    CHECK_OK(t2i_unet_config_load(path, &u));
    write_vae(2, 2);
    CHECK_OK(t2i_vae_config_load(path, &v));
    t2i_graph *g = NULL;
    u.layers_per_block = T2I_MAX_LAYERS_PER_BLOCK + 1;
    CHECK(t2i_build_unet(&u, 1, 2, 2, 1, &g) == T2I_ERR_INVALID_ARG && !g, "unet builder, 17 layers");
    u.layers_per_block = 2;
    u.n_blocks = T2I_MAX_BLOCKS + 1;
    CHECK(t2i_build_unet(&u, 1, 64, 64, 1, &g) == T2I_ERR_INVALID_ARG && !g, "unet builder, 7 blocks");
    u.n_blocks = 0;
    CHECK(t2i_build_unet(&u, 1, 1, 1, 1, &g) == T2I_ERR_INVALID_ARG && !g, "unet builder, 0 blocks");
    v.layers_per_block = T2I_MAX_LAYERS_PER_BLOCK + 1;
    CHECK(t2i_build_vae_decoder(&v, 1, 1, 1, &g) == T2I_ERR_INVALID_ARG && !g, "vae decoder, 17 layers");
    v.layers_per_block = 2;
    v.n_blocks = T2I_MAX_BLOCKS + 1;
    CHECK(t2i_build_vae_encoder(&v, 1, 64, 64, &g) == T2I_ERR_INVALID_ARG && !g, "vae encoder, 7 blocks");
    printf("  builders refuse hand-made configs beyond the limits: %s\n", t2i_last_error());

    unlink(path);
    return test_finish();
}
