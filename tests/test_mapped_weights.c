/*
 * test_mapped_weights.c — CPU weights used in place in the file's mapping
 * (runtime/weights.c) equal the copied ones, bit for bit.
 *
 * tests/fixtures/tiny-sd1 has an F32 text encoder and VAE (mapped on the CPU)
 * and an F16 UNet (converted and copied). The same folder is loaded twice:
 * mapped, and with T2I_WEIGHTS_COPY=1. Checked: which stores are mapped; the
 * bytes of every weight equal in both; a txt2img run gives the same pixels;
 * a LoRA merged into mapped weights (copy-on-write pages) gives the same
 * bytes as merged into copied ones, is undone exactly, and never reaches the
 * file on disk. Also the reference count of a safetensors set.
 */
#include <stdint.h>
#include "test_util.h"
#include "runtime/model.h"

#define DIR "tests/fixtures/tiny-sd1"
#define TE_FILE DIR "/text_encoder/model.safetensors"

/* FNV-1a of a whole file: has it changed? */
static uint64_t file_hash(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint64_t h = 1469598103934665603ull;
    int c;
    if (!f) return 0;
    while ((c = fgetc(f)) != EOF) h = (h ^ (uint64_t)c) * 1099511628211ull;
    fclose(f);
    return h;
}

/* Number of entries whose bytes differ between two stores of one graph. */
static int stores_differ(const t2i_weights *a, const t2i_weights *b)
{
    int diff = 0;
    if (t2i_weights_count(a) != t2i_weights_count(b)) return -1;
    for (int i = 0; i < t2i_weights_count(a); i++) {
        int nda, ndb;
        const int64_t *nea, *neb;
        void *da, *db;
        const char *na = t2i_weights_entry(a, i, &nda, &nea, &da);
        const char *nb = t2i_weights_entry(b, i, &ndb, &neb, &db);
        size_t numel = 1;
        for (int d = 0; d < nda; d++) numel *= (size_t)nea[d];
        if (strcmp(na, nb) || nda != ndb || memcmp(da, db, numel * sizeof(float))) diff++;
    }
    return diff;
}

static uint8_t *draw(t2i_model *m, size_t *n)
{
    t2i_txt2img_params p;
    t2i_txt2img_params_init(&p);
    p.prompt = "a red circle";
    p.negative_prompt = "blurry";
    p.steps = 3;
    p.width = p.height = 64;
    p.seed = 7;
    t2i_image *imgs = NULL;
    int k = 0;
    CHECK_OK(t2i_txt2img(m, &p, &imgs, &k));
    if (k != 1) return NULL;
    *n = (size_t)imgs[0].width * imgs[0].height * imgs[0].channels;
    uint8_t *px = malloc(*n);
    if (px) memcpy(px, imgs[0].pixels, *n);
    t2i_images_free(imgs, k);
    return px;
}

static void set_refcount(void)
{
    t2i_st_set *s = NULL;
    CHECK_OK(t2i_st_set_open_dir(DIR "/text_encoder", &s));
    if (!s) return;
    CHECK(t2i_st_set_retain(s) == s, "retain returns the set");
    t2i_st_set_destroy(s);   /* one owner left: still open */
    CHECK(t2i_st_set_find(s, "text_model.embeddings.token_embedding.weight") != NULL ||
              t2i_st_set_find(s, "embeddings.token_embedding.weight") != NULL,
          "the set is usable after one of two destroys");
    t2i_st_set_destroy(s);
}

int main(void)
{
    set_refcount();
    uint64_t te_hash = file_hash(TE_FILE);
    CHECK(te_hash != 0, "cannot read %s", TE_FILE);

    t2i_engine *e = NULL;
    t2i_model *mapped = NULL, *copied = NULL;
    CHECK_OK(t2i_engine_create(NULL, &e));
    unsetenv("T2I_WEIGHTS_COPY");
    if (e) CHECK_OK(t2i_model_load(e, DIR, &mapped));
    setenv("T2I_WEIGHTS_COPY", "1", 1);
    if (e) CHECK_OK(t2i_model_load(e, DIR, &copied));
    unsetenv("T2I_WEIGHTS_COPY");
    if (!mapped || !copied) return test_finish();

    /* F32 components are mapped entirely, the F16 UNet not at all, and
     * nothing when copying is forced. */
    printf("  mapped: text %zu of %zu bytes, vae %zu of %zu, unet %zu of %zu\n",
           t2i_weights_mapped_bytes(mapped->text_w), t2i_weights_bytes(mapped->text_w),
           t2i_weights_mapped_bytes(mapped->vae_w), t2i_weights_bytes(mapped->vae_w),
           t2i_weights_mapped_bytes(mapped->unet_w), t2i_weights_bytes(mapped->unet_w));
    CHECK(t2i_weights_mapped_bytes(mapped->text_w) == t2i_weights_bytes(mapped->text_w) &&
              t2i_weights_bytes(mapped->text_w) > 0, "text encoder (F32) is mapped");
    CHECK(t2i_weights_mapped_bytes(mapped->vae_w) == t2i_weights_bytes(mapped->vae_w), "VAE (F32) is mapped");
    CHECK(t2i_weights_mapped_bytes(mapped->unet_w) == 0, "UNet (F16) is converted, not mapped");
    CHECK(t2i_weights_mapped_bytes(copied->text_w) == 0 && t2i_weights_mapped_bytes(copied->vae_w) == 0,
          "T2I_WEIGHTS_COPY=1 copies everything");
    CHECK(t2i_weights_bytes(copied->text_w) == t2i_weights_bytes(mapped->text_w), "same byte count either way");

    CHECK(stores_differ(mapped->text_w, copied->text_w) == 0, "text encoder weights equal");
    CHECK(stores_differ(mapped->vae_w, copied->vae_w) == 0, "VAE weights equal");

    size_t n0 = 0, n1 = 0;
    uint8_t *a = draw(mapped, &n0), *b = draw(copied, &n1);
    CHECK(a && b && n0 == n1 && memcmp(a, b, n0) == 0, "txt2img pixels equal, mapped or copied");

    /* A LoRA on the text encoder: copy-on-write into the mapping. */
    t2i_lora kohya = {"tests/fixtures/lora/kohya.safetensors", 1.0f};
    CHECK_OK(t2i_model_set_loras(mapped, &kohya, 1));
    CHECK_OK(t2i_model_set_loras(copied, &kohya, 1));
    int changed = 0;
    {   /* the LoRA must have changed mapped weights, or this proves nothing */
        t2i_model *fresh = NULL;
        CHECK_OK(t2i_model_load(e, DIR, &fresh));
        if (fresh) changed = stores_differ(mapped->text_w, fresh->text_w);
        t2i_model_destroy(fresh);
    }
    printf("  LoRA changed %d text encoder weights\n", changed);
    CHECK(changed > 0, "the LoRA changed mapped weights");
    CHECK(stores_differ(mapped->text_w, copied->text_w) == 0, "merged weights equal, mapped or copied");
    CHECK(t2i_weights_mapped_bytes(mapped->text_w) == t2i_weights_bytes(mapped->text_w),
          "merged entries still point into the mapping");
    CHECK(file_hash(TE_FILE) == te_hash, "the merge did not reach the file");

    CHECK_OK(t2i_model_set_loras(mapped, NULL, 0));
    CHECK_OK(t2i_model_set_loras(copied, NULL, 0));
    CHECK(stores_differ(mapped->text_w, copied->text_w) == 0, "restored weights equal");
    size_t n2 = 0;
    uint8_t *c = draw(mapped, &n2);
    CHECK(a && c && n2 == n0 && memcmp(a, c, n0) == 0, "pixels after removing the LoRA equal the first run's");
    CHECK(file_hash(TE_FILE) == te_hash, "the file is unchanged");

    free(a), free(b), free(c);
    t2i_model_destroy(mapped);
    t2i_model_destroy(copied);
    t2i_engine_destroy(e);
    return test_finish();
}
