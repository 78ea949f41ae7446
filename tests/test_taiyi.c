/*
 * test_taiyi.c — the Chinese text path end to end on tests/fixtures/tiny-taiyi
 * (Taiyi-Stable-Diffusion-1B-Chinese's layout: BertTokenizer + BertModel in
 * front of an SD 1.x UNet and VAE; scripts/fixtures/fixtures_bert.py):
 *
 *  1. stage: BertModel last_hidden_state for the [negative "", "一只红色的猫"]
 *     ids padded to 512, unfused and with residual adds folded, against
 *     transformers (FP32);
 *  2. the UNet with a 512-token context at a fixed timestep;
 *  3. the model loader takes the folder; the WordPiece ids the pipeline
 *     feeds equal the reference ids; a 10-step Euler run with CFG 7.5 from
 *     the Chinese prompt matches diffusers' StableDiffusionPipeline;
 *  4. the prompt language on the BERT path (runtime/conditioning.c): a
 *     weighted Chinese prompt with BREAK and a weighted negative give the
 *     ids and embeddings of scripts/fixtures/fixtures_bert.py's reference (A1111 parser,
 *     emphasis Original, one 512-token chunk) and the same Euler run as
 *     diffusers given those embeddings; prompt editing switches entries;
 *  5. broken copies of the folder fail with a message naming the culprit.
 *
 * Tolerances as test_stages.c (2e-4 of max|ref| per stage: FP32 on both
 * sides, ~L·sqrt(K) rounding) and test_pipeline.c (1e-3 of max|ref| on the
 * final latents, 1e-3 absolute on the [0,1] image).
 */
#include "graph/build.h"
#include "runtime/conditioning.h"
#include "runtime/text_encoder.h"
#include "stage_util.h"

#define DIR "tests/fixtures/tiny-taiyi"
#define STAGE_REL_BOUND 2e-4
#define LATENT_REL_BOUND 1e-3
#define IMAGE_ABS_BOUND 1e-3

static t2i_plan *compile(t2i_backend *be, t2i_graph *g, const char *part, int fuse, t2i_weights **w)
{
    return compile_part(be, g, DIR, part, NULL, fuse, NULL, w);
}

static void check_stages(t2i_backend *be, int fuse)
{
    t2i_bert_config bc;
    t2i_unet_config uc;
    CHECK_OK(t2i_bert_config_load(DIR "/text_encoder/config.json", &bc));
    CHECK_OK(t2i_unet_config_load(DIR "/unet/config.json", &uc));
    t2i_st_file *ref = NULL, *uref = NULL;
    CHECK_OK(t2i_st_open(DIR "/ref/text.safetensors", &ref));
    CHECK_OK(t2i_st_open(DIR "/ref/unet.safetensors", &uref));
    if (!ref || !uref) return;
    const t2i_st_tensor *ids = t2i_st_find(ref, "ids");
    CHECK(ids && ids->dtype == T2I_I32 && ids->nbytes == 2 * 512 * sizeof(int32_t), "ids reference [2,512]");
    t2i_graph *g = NULL;
    CHECK_OK(t2i_build_bert_text(&bc, 2, 512, &g));
    t2i_weights *w = NULL;
    t2i_plan *p = g && ids ? compile(be, g, "text_encoder", fuse, &w) : NULL;
    if (p) {
        CHECK_OK(t2i_plan_set_input(p, "ids", ids->data, ids->nbytes));
        CHECK_OK(t2i_plan_run(p));
        check_plan_output(p, ref, "hidden", "hidden",
                          fuse ? "BertModel last_hidden_state (fused)" : "BertModel last_hidden_state",
                          STAGE_REL_BOUND);
    }
    t2i_plan_destroy(p);
    t2i_weights_destroy(w);
    w = NULL;
    g = NULL;
    CHECK_OK(t2i_build_unet(&uc, 2, 8, 8, 512, &g));
    p = g ? compile(be, g, "unet", fuse, &w) : NULL;
    if (p) {
        set_unet_ref_inputs(p, uref);
        CHECK_OK(t2i_plan_run(p));
        check_plan_output(p, uref, "out", "out", "unet, 512-token context", STAGE_REL_BOUND);
    }
    t2i_plan_destroy(p);
    t2i_weights_destroy(w);
    t2i_st_close(ref);
    t2i_st_close(uref);
}

static void check_weighted(t2i_model *m)
{
    t2i_st_file *ref = NULL;
    CHECK_OK(t2i_st_open("tests/fixtures/prompts/tiny-taiyi.safetensors", &ref));
    if (!ref) return;
    const char *prompt = t2i_st_metadata(ref, "weighted.prompt"), *neg = t2i_st_metadata(ref, "negative_prompt");
    t2i_conditioning c;
    CHECK_OK(t2i_conditioning_build(m, prompt, neg, 10, &c));
    if (c.emb) {
        const char *names[2][2] = {{"weighted.ids", "weighted.emb"}, {"negative.ids", "negative.emb"}};
        const int idx[2] = {c.pos_at_step[0], c.neg_at_step[0]};
        for (int k = 0; k < 2; k++) {
            const t2i_st_tensor *ids = t2i_st_find(ref, names[k][0]);
            CHECK(ids && c.ctx_len == 512 && ids->nbytes == 512 * sizeof(int32_t) &&
                      memcmp(ids->data, c.ids + (size_t)idx[k] * 512, ids->nbytes) == 0,
                  "%s differ", names[k][0]);
            size_t n = 0, per = (size_t)c.ctx_len * c.hidden;
            float *want = ref_f32(ref, names[k][1], &n);
            CHECK_CLOSE_SIZED(k ? "weighted negative (BERT)" : "weighted prompt with BREAK (BERT)",
                              c.emb + (size_t)idx[k] * per, per, want, n, STAGE_REL_BOUND);
            free(want);
        }
    }
    t2i_conditioning_free(&c);
    CHECK_OK(t2i_conditioning_build(m, "一只[猫:狗:0.5]", "", 10, &c));
    CHECK(c.n_distinct == 3 && c.pos_at_step && c.pos_at_step[5] != c.pos_at_step[6] &&
              c.pos_at_step[0] == c.pos_at_step[5],
          "prompt editing on BERT: %d distinct", c.n_distinct);
    t2i_conditioning_free(&c);

    check_ref_run_latents(m, prompt, neg, "taiyi_w", ref, "weighted_run.latents",
                          "weighted Chinese prompt run latents", LATENT_REL_BOUND);
    t2i_st_close(ref);
}

static void check_pipeline(void)
{
    t2i_engine *e = NULL;
    t2i_model *m = NULL;
    CHECK_OK(t2i_engine_create(NULL, &e));
    if (e) CHECK_OK(t2i_model_load(e, DIR, &m));
    t2i_st_file *ref = NULL, *tref = NULL;
    CHECK_OK(t2i_st_open(DIR "/ref/sampler_euler.safetensors", &ref));
    CHECK_OK(t2i_st_open(DIR "/ref/text.safetensors", &tref));
    if (!m || !ref || !tref) goto out;
    CHECK(m->text_kind == T2I_TEXT_BERT && t2i_text_len(m) == 512 && t2i_text_context_dim(m) == 32,
          "kind %d, L %d", m->text_kind, t2i_text_len(m));

    /* the ids the pipeline encodes are the reference's */
    const t2i_st_tensor *ids = t2i_st_find(tref, "ids");
    const char *texts[2] = {t2i_st_metadata(tref, "negative_prompt"), t2i_st_metadata(tref, "prompt")};
    int32_t got_ids[512];
    for (int k = 0; k < 2 && ids && texts[0] && texts[1]; k++) {
        CHECK_OK(t2i_text_encode_padded(m, texts[k], got_ids));
        CHECK(memcmp(got_ids, (const int32_t *)ids->data + k * 512, sizeof got_ids) == 0,
              "WordPiece ids of \"%s\" differ from BertTokenizer's", texts[k]);
    }

    char stages[64];
    stages_path(stages, sizeof stages, "taiyi");
    t2i_txt2img_params p;
    ref_params(&p, t2i_st_metadata(ref, "prompt"), t2i_st_metadata(ref, "negative_prompt"), T2I_SAMPLER_EULER,
               stages);
    CHECK(p.prompt && strcmp(p.prompt, "一只红色的猫") == 0, "reference prompt %s", p.prompt ? p.prompt : "(none)");
    t2i_image *imgs;
    int n;
    t2i_st_file *got = run_ref_txt2img(m, &p, &imgs, &n);
    if (got) {
        check_ref_tensor(ref, "latents", got, "latents", "tiny-taiyi euler latents", LATENT_REL_BOUND);
        check_ref_image(ref, got, "tiny-taiyi decoded image", "tiny-taiyi", IMAGE_ABS_BOUND);
        check_ref_tensor(tref, "hidden", got, "text_embeddings", "tiny-taiyi pipeline text embeddings",
                         STAGE_REL_BOUND);
        t2i_st_close(got);
    }
    t2i_images_free(imgs, n);
    unlink(stages);

    /* prompts longer than 510 WordPiece tokens are truncated, as diffusers does */
    char *longp = malloc(3 * 600 + 1);
    for (int i = 0; i < 600; i++) memcpy(longp + 3 * i, "猫", 3);
    longp[3 * 600] = '\0';
    CHECK_OK(t2i_text_encode_padded(m, longp, got_ids));
    CHECK(got_ids[0] == 101 && got_ids[511] == 102 && got_ids[510] == 4344, "long prompt: %d .. %d %d", got_ids[0],
          got_ids[510], got_ids[511]);
    free(longp);
    check_weighted(m);
out:
    t2i_st_close(ref);
    t2i_st_close(tref);
    t2i_model_destroy(m);
    t2i_engine_destroy(e);
}

int main(void)
{
    t2i_backend *be = NULL;
    CHECK_OK(t2i_cpu_backend_create(0, &be));
    if (!be) return test_finish();
    check_stages(be, 0);
    check_stages(be, 1);
    t2i_backend_destroy(be);
    check_pipeline();
    expect_bad(DIR, "sed -i '/model_max_length/d' tokenizer/tokenizer_config.json", T2I_ERR_FORMAT,
               "model_max_length");
    expect_bad(DIR, "sed -i 's/\"hidden_act\": \"gelu\"/\"hidden_act\": \"relu\"/' text_encoder/config.json",
               T2I_ERR_UNSUPPORTED, "hidden_act");
    expect_bad(DIR, "sed -i 's/\"is_decoder\": false/\"is_decoder\": true/' text_encoder/config.json",
               T2I_ERR_UNSUPPORTED, "is_decoder");
    expect_bad(DIR, "sed -i 's/\"BertTokenizer\"/\"CLIPTokenizer\"/' model_index.json", T2I_ERR_UNSUPPORTED,
               "tokenizer");
    expect_bad(DIR, "sed -i 's/\"max_position_embeddings\": 512/\"max_position_embeddings\": 256/' "
               "text_encoder/config.json", T2I_ERR_FORMAT, "exceeds the text encoder's 256 positions");
    expect_bad(DIR, "rm tokenizer/vocab.txt", T2I_ERR_IO, "vocab.txt");
    return test_finish();
}
