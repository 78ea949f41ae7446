/*
 * test_sdxl.c — SDXL on tests/fixtures/tiny-sdxl (scripts/fixtures/fixtures_sdxl.py)
 * and the full-size SDXL architecture of perf/configs/sdxl:
 *
 *  1. stages against transformers/diffusers (FP32): text_encoder's last and
 *     penultimate hidden states; text_encoder_2's, and its pooled projection
 *     at the EOS (legacy eos_token_id 2: argmax rule); one UNet call with
 *     added conditions (text_embeds, time_ids) — unfused and fused;
 *  2. the loaded model: the context the conditioning code gets for tokenizer
 *     1's ids (tokenizer_2's "!" padding derived from them) equals
 *     StableDiffusionXLPipeline.encode_prompt's prompt_embeds / pooled;
 *  3. 10-step Euler runs with CFG 7.5 against the pipeline: without a
 *     negative prompt (force_zeros_for_empty_prompt: zero negative) and
 *     with one;
 *  4. a 3-chunk weighted prompt against a 1-chunk weighted negative through
 *     runtime/conditioning (A1111's SDXL semantics: chunks shared by both
 *     encoders, emphasis per encoder, pooled of the first chunk; reference
 *     scripts/fixtures/fixtures_prompts_sdxl.py): context, pooled and a whole Euler run;
 *  5. the full-size SDXL UNet (2,567,463,684 parameters), text_encoder
 *     (123,060,480) and text_encoder_2 (694,659,840) build from their configs
 *     at 1024×1024, batch 2, with exactly the published parameter counts,
 *     and plan without live overlaps (no weights needed);
 *  6. broken copies of the folder fail with a message naming the culprit.
 *
 * Tolerances as test_stages.c / test_pipeline.c: 2e-4 of max|ref| per stage
 * (FP32 on both sides), 1e-3 of max|ref| on final latents, 1e-3 absolute
 * on the [0,1] image.
 */
#include "graph/build.h"
#include "graph/planner.h"
#include "runtime/conditioning.h"
#include "runtime/text_encoder.h"
#include "stage_util.h"

#define DIR "tests/fixtures/tiny-sdxl"
#define STAGE_REL_BOUND 2e-4
#define LATENT_REL_BOUND 1e-3
#define IMAGE_ABS_BOUND 1e-3

static t2i_backend *be;

static t2i_plan *compile(t2i_graph *g, const char *part, const char *prefix, int fuse, t2i_weights **w)
{
    return compile_part(be, g, DIR, part, prefix, fuse, NULL, w);
}

static void check_output(t2i_plan *p, const t2i_st_file *ref, const char *out, const char *ref_name, const char *what)
{
    check_plan_output(p, ref, out, ref_name, what, STAGE_REL_BOUND);
}

static void check_text_encoder(const t2i_st_file *ref, int which, int fuse)
{
    const char *part = which ? "text_encoder_2" : "text_encoder", *sfx = which ? "_2" : "";
    char path[256], name[64], what[96];
    snprintf(path, sizeof path, DIR "/%s/config.json", part);
    t2i_clip_text_config c;
    CHECK_OK(t2i_clip_text_config_load(path, &c));
    CHECK(c.with_projection == (which == 1), "%s: with_projection %d", part, c.with_projection);
    snprintf(name, sizeof name, "ids%s", sfx);
    const t2i_st_tensor *ids = t2i_st_find(ref, name);
    CHECK(ids && ids->nbytes == 2 * 77 * sizeof(int32_t), "%s reference", name);
    if (!ids) return;
    t2i_clip_outputs o = {.penultimate = true, .pooled = which == 1};
    t2i_graph *g = NULL;
    CHECK_OK(t2i_build_clip_text_ex(&c, 2, 77, &o, &g));
    t2i_weights *w = NULL;
    t2i_plan *p = g ? compile(g, part, "text_model.", fuse, &w) : NULL;
    if (p) {
        CHECK_OK(t2i_plan_set_input(p, "ids", ids->data, ids->nbytes));
        if (which) {
            int32_t idx[2];
            for (int b = 0; b < 2; b++)
                idx[b] = b * 77 + t2i_clip_pool_position(&c, (const int32_t *)ids->data + b * 77, 77);
            CHECK_OK(t2i_plan_set_input(p, "pool_index", idx, sizeof idx));
        }
        CHECK_OK(t2i_plan_run(p));
        snprintf(name, sizeof name, "last_hidden%s", sfx);
        snprintf(what, sizeof what, "%s last_hidden_state%s", part, fuse ? " (fused)" : "");
        check_output(p, ref, "hidden", name, what);
        snprintf(name, sizeof name, "penultimate%s", sfx);
        snprintf(what, sizeof what, "%s hidden_states[-2]%s", part, fuse ? " (fused)" : "");
        check_output(p, ref, "penultimate", name, what);
        if (which) check_output(p, ref, "pooled", "text_embeds_2", fuse ? "text_embeds (pooled) (fused)" : "text_embeds (pooled)");
    }
    t2i_plan_destroy(p);
    t2i_weights_destroy(w);
}

static void check_unet(int fuse)
{
    t2i_unet_config c;
    CHECK_OK(t2i_unet_config_load(DIR "/unet/config.json", &c));
    CHECK(c.add_text_time && c.addition_time_embed_dim == 8 && c.projection_class_embeddings_input_dim == 88 &&
              c.transformer_layers[0] == 1 && c.transformer_layers[1] == 2,
          "unet config: text_time %d", c.add_text_time);
    t2i_st_file *ref = NULL;
    CHECK_OK(t2i_st_open(DIR "/ref/unet.safetensors", &ref));
    t2i_graph *g = NULL;
    CHECK_OK(t2i_build_unet(&c, 2, 8, 8, 77, &g));
    t2i_weights *w = NULL;
    t2i_plan *p = g && ref ? compile(g, "unet", NULL, fuse, &w) : NULL;
    if (p) {
        set_unet_ref_inputs(p, ref);
        set_ref_input(p, ref, "text_embeds", "text_embeds");
        set_ref_input(p, ref, "time_ids", "time_ids");
        CHECK_OK(t2i_plan_run(p));
        check_output(p, ref, "out", "out", fuse ? "unet with added conds (fused)" : "unet with added conds");
    }
    t2i_plan_destroy(p);
    t2i_weights_destroy(w);
    t2i_st_close(ref);
}

static void run_case(t2i_model *m, const char *name)
{
    char path[256], stages[64];
    snprintf(path, sizeof path, DIR "/ref/%s.safetensors", name);
    stages_path(stages, sizeof stages, "sdxl");
    t2i_st_file *ref = NULL;
    CHECK_OK(t2i_st_open(path, &ref));
    if (!ref) return;
    t2i_txt2img_params p;
    ref_params(&p, t2i_st_metadata(ref, "prompt"),
               t2i_st_metadata(ref, "negative_prompt"),   /* "" where diffusers got None */
               T2I_SAMPLER_EULER, stages);
    t2i_image *imgs;
    int n;
    t2i_st_file *got = run_ref_txt2img(m, &p, &imgs, &n);
    if (got) {
        char what[96];
        snprintf(what, sizeof what, "%s text embeddings [neg, pos]", name);
        check_ref_tensor(ref, "text_embeddings", got, "text_embeddings", what, STAGE_REL_BOUND);
        snprintf(what, sizeof what, "%s latents", name);
        check_ref_tensor(ref, "latents", got, "latents", what, LATENT_REL_BOUND);
        check_ref_image(ref, got, "  decoded image", name, IMAGE_ABS_BOUND);
        t2i_st_close(got);
    }
    t2i_images_free(imgs, n);
    t2i_st_close(ref);
    unlink(stages);
}

static void check_long_prompt(t2i_model *m)
{
    t2i_st_file *ref = NULL;
    CHECK_OK(t2i_st_open("tests/fixtures/prompts/tiny-sdxl.safetensors", &ref));
    if (!ref) return;
    const char *prompt = t2i_st_metadata(ref, "long.prompt"), *neg = t2i_st_metadata(ref, "negative_prompt");
    t2i_conditioning c;
    CHECK_OK(t2i_conditioning_build(m, prompt, neg, 10, &c));
    size_t n = 0, np = 0;
    float *want = ref_f32(ref, "long.emb", &n), *want_neg = ref_f32(ref, "negative.emb", NULL);
    float *want_p = ref_f32(ref, "long.pooled", &np), *want_np = ref_f32(ref, "negative.pooled", NULL);
    if (c.emb) {
        CHECK(c.n_chunks == 3 && (size_t)c.ctx_len * c.hidden == n && c.pooled_dim == (int)np,
              "conditioning: %d chunks, %d x %d, pooled %d", c.n_chunks, c.ctx_len, c.hidden, c.pooled_dim);
        const size_t per = (size_t)c.ctx_len * c.hidden;
        if ((size_t)c.ctx_len * c.hidden == n && c.pooled_dim == (int)np) {
            CHECK_CLOSE("3-chunk weighted prompt context", c.emb + per * c.pos_at_step[0], want, n, STAGE_REL_BOUND);
            CHECK_CLOSE("padded weighted negative context", c.emb + per * c.neg_at_step[0], want_neg, n,
                        STAGE_REL_BOUND);
            CHECK_CLOSE("prompt pooled (first chunk)", c.pooled + np * c.pos_at_step[0], want_p, np, STAGE_REL_BOUND);
            CHECK_CLOSE("negative pooled", c.pooled + np * c.neg_at_step[0], want_np, np, STAGE_REL_BOUND);
        }
    }
    t2i_conditioning_free(&c);
    free(want), free(want_neg), free(want_p), free(want_np);

    check_ref_run_latents(m, prompt, neg, "sdxl_long", ref, "long_run.latents", "long weighted prompt run latents",
                          LATENT_REL_BOUND);
    t2i_st_close(ref);
}

static void check_model(void)
{
    t2i_engine *e = NULL;
    t2i_model *m = NULL;
    CHECK_OK(t2i_engine_create(NULL, &e));
    if (e) CHECK_OK(t2i_model_load(e, DIR, &m));
    t2i_st_file *ref = NULL;
    CHECK_OK(t2i_st_open(DIR "/ref/text.safetensors", &ref));
    if (m && ref) {
        CHECK(m->text_kind == T2I_TEXT_SDXL && m->force_zeros_for_empty_prompt && t2i_text_context_dim(m) == 80 &&
                  t2i_text_pooled_dim(m) == 40,
              "kind %d, C %d, P %d", m->text_kind, t2i_text_context_dim(m), t2i_text_pooled_dim(m));
        const t2i_st_tensor *ids = t2i_st_find(ref, "ids");
        size_t ne = 0, np = 0;
        float *want_e = ref_f32(ref, "prompt_embeds", &ne), *want_p = ref_f32(ref, "pooled_prompt_embeds", &np);
        /* two rows of 77 tokens; sizes checked before anything is written */
        const size_t row_e = 77 * (size_t)t2i_text_context_dim(m), row_p = (size_t)t2i_text_pooled_dim(m);
        int sized = ids && ids->nbytes == 2 * 77 * sizeof(int32_t) && ne == 2 * row_e && np == 2 * row_p;
        CHECK(sized, "text reference: ids %zu bytes, prompt_embeds %zu, pooled %zu values", ids ? ids->nbytes : 0,
              ne, np);
        float *ctx = malloc(ne * sizeof *ctx + 1), *pooled = malloc(np * sizeof *pooled + 1);
        for (int b = 0; b < 2 && sized; b++) {
            CHECK_OK(t2i_text_encode_ids(m, (const int32_t *)ids->data + b * 77, ctx + (size_t)b * ne / 2,
                                         pooled + (size_t)b * np / 2));
        }
        if (sized) {
            CHECK_CLOSE("model context (prompt_embeds)", ctx, want_e, ne, STAGE_REL_BOUND);
            CHECK_CLOSE("model pooled_prompt_embeds", pooled, want_p, np, STAGE_REL_BOUND);
        }
        free(ctx), free(pooled), free(want_e), free(want_p);
        run_case(m, "sampler_euler");
        run_case(m, "sampler_euler_neg");
        check_long_prompt(m);
    }
    t2i_st_close(ref);
    t2i_model_destroy(m);
    t2i_engine_destroy(e);
}

static int64_t weight_params(const t2i_graph *g)
{
    int64_t n = 0;
    for (int i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].kind == T2I_TENSOR_WEIGHT) n += t2i_tensor_numel(&g->tensors[i]);
    return n;
}

static void check_full_size(void)
{
    t2i_unet_config uc;
    t2i_clip_text_config c1, c2;
    CHECK_OK(t2i_unet_config_load("perf/configs/sdxl/unet/config.json", &uc));
    CHECK_OK(t2i_clip_text_config_load("perf/configs/sdxl/text_encoder/config.json", &c1));
    CHECK_OK(t2i_clip_text_config_load("perf/configs/sdxl/text_encoder_2/config.json", &c2));
    struct { const char *what; t2i_graph *g; int64_t want; } parts[3] = {
        {"SDXL unet b2 128x128", NULL, 2567463684LL},
        {"SDXL text_encoder", NULL, 123060480LL},
        {"SDXL text_encoder_2", NULL, 694659840LL},
    };
    CHECK_OK(t2i_build_unet(&uc, 2, 128, 128, 77, &parts[0].g));
    t2i_clip_outputs o1 = {.penultimate = true}, o2 = {.penultimate = true, .pooled = true};
    CHECK_OK(t2i_build_clip_text_ex(&c1, 1, 77, &o1, &parts[1].g));
    CHECK_OK(t2i_build_clip_text_ex(&c2, 1, 77, &o2, &parts[2].g));
    for (int i = 0; i < 3; i++) {
        if (!parts[i].g) continue;
        int64_t n = weight_params(parts[i].g);
        t2i_memory_plan mp;
        CHECK_OK(t2i_plan_memory(parts[i].g, 4, 256, &mp));
        printf("  %-24s %5d nodes  %13lld parameters (published %lld)  arena %.1f MiB\n", parts[i].what,
               parts[i].g->n_nodes, (long long)n, (long long)parts[i].want, mp.peak_bytes / 1048576.0);
        CHECK(n == parts[i].want, "%s: %lld parameters, published %lld", parts[i].what, (long long)n,
              (long long)parts[i].want);
        CHECK(mp.peak_bytes > 0 && mp.peak_bytes < mp.naive_bytes, "%s: plan", parts[i].what);
        t2i_memory_plan_free(&mp);
        t2i_graph_destroy(parts[i].g);
    }
}

int main(void)
{
    CHECK_OK(t2i_cpu_backend_create(0, &be));
    if (!be) return test_finish();
    t2i_st_file *ref = NULL;
    CHECK_OK(t2i_st_open(DIR "/ref/text.safetensors", &ref));
    for (int fuse = 0; fuse < 2 && ref; fuse++) {
        check_text_encoder(ref, 0, fuse);
        check_text_encoder(ref, 1, fuse);
        check_unet(fuse);
    }
    t2i_st_close(ref);
    t2i_backend_destroy(be);
    check_model();
    check_full_size();
    expect_bad(DIR, "sed -i 's/\"addition_embed_type\": \"text_time\"/\"addition_embed_type\": null/' "
               "unet/config.json", T2I_ERR_UNSUPPORTED, "text_time");
    expect_bad(DIR, "sed -i 's/\"text_time\"/\"image\"/' unet/config.json", T2I_ERR_UNSUPPORTED,
               "addition_embed_type");
    expect_bad(DIR, "sed -i 's/\"projection_class_embeddings_input_dim\": 88/\"projection_class_embeddings_input_dim\": 96/' "
               "unet/config.json", T2I_ERR_FORMAT, "projection_class_embeddings_input_dim");
    expect_bad(DIR, "sed -i 's/\"CLIPTextModelWithProjection\"/\"CLIPTextModel\"/' model_index.json",
               T2I_ERR_UNSUPPORTED, "text_encoder_2");
    expect_bad(DIR, "rm -r tokenizer_2", T2I_ERR_IO, "tokenizer_2");
    expect_bad("tests/fixtures/tiny-sd1", "sed -i 's/\"addition_embed_type\": null/"
               "\"addition_embed_type\": \"text_time\", \"addition_time_embed_dim\": 8, "
               "\"projection_class_embeddings_input_dim\": 88/' unet/config.json", T2I_ERR_UNSUPPORTED,
               "StableDiffusionXLPipeline");
    return test_finish();
}
