/*
 * test_conditioning.c — long and weighted prompts (runtime/conditioning.h)
 * against scripts/fixtures/fixtures_prompts.py, a Python re-implementation of the A1111
 * web UI's semantics (prompt_parser.parse_prompt_attention, sd_hijack_clip
 * tokenize_line with comma back-off 20, emphasis "Original") on top of
 * transformers' CLIPTokenizer / CLIPTextModel, with the tiny-sd1 model.
 *
 *  - token ids and per-token weights of a 1-, 2- (BREAK) and 3-chunk prompt:
 *    exact;
 *  - a plain prompt: the ids are tokenizer(padding=max_length) exactly and
 *    the embedding is the text encoder's output bit for bit (no weighting);
 *  - weighted chunk embeddings: rel error <= 2e-4, the text-encoder stage
 *    bound of test_stages.c (the weighting adds a handful of float roundings
 *    per value, far below it);
 *  - whole txt2img runs through diffusers' StableDiffusionPipeline fed with
 *    the reference embeddings (3-chunk prompt against a padded 1-chunk
 *    negative; prompt editing [cat:dog:0.5] switched after step 5): final
 *    latents rel <= 1e-3, the rule of test_pipeline.c.
 */
#include "runtime/conditioning.h"
#include "stage_util.h"

#define EMB_REL_BOUND 2e-4
#define LATENT_REL_BOUND 1e-3

static const char *FIX = "tests/fixtures/prompts/tiny-sd1.safetensors";

static void check_case(t2i_model *m, const t2i_st_file *ref, const char *name)
{
    char key[64], what[96];
    snprintf(key, sizeof key, "%s.prompt", name);
    const char *text = t2i_st_metadata(ref, key);
    CHECK(text != NULL, "no metadata %s", key);
    if (!text) return;
    t2i_prompt_schedule s;
    CHECK_OK(t2i_prompt_parse(text, 1, &s, NULL));
    if (s.n != 1) return;
    t2i_prompt_chunks c;
    CHECK_OK(t2i_prompt_chunks_build(m->tok, &s.parts[0], &c));
    size_t n_ids = 0, n_w = 0, n_e = 0;
    snprintf(key, sizeof key, "%s.ids", name);
    const t2i_st_tensor *tid = t2i_st_find(ref, key);
    n_ids = tid ? (size_t)t2i_st_numel(tid) : 0;
    int32_t *want_ids = malloc(n_ids * sizeof *want_ids + 4);
    if (tid) memcpy(want_ids, tid->data, n_ids * sizeof *want_ids);
    snprintf(key, sizeof key, "%s.mult", name);
    float *want_w = ref_f32(ref, key, &n_w);
    snprintf(key, sizeof key, "%s.emb", name);
    float *want_e = ref_f32(ref, key, &n_e);
    const size_t L = (size_t)c.n_chunks * c.chunk_len;
    CHECK(n_ids == L, "%s: %zu reference ids, %zu built (%d chunks)", name, n_ids, L, c.n_chunks);
    if (n_ids == L) {
        int id_diff = -1, w_diff = -1;
        for (size_t i = 0; i < L; i++) {
            if (id_diff < 0 && c.ids[i] != want_ids[i]) id_diff = (int)i;
            if (w_diff < 0 && c.mult[i] != want_w[i]) w_diff = (int)i;
        }
        printf("  %-8s %d chunk(s): ids and weights %s\n", name, c.n_chunks,
               id_diff < 0 && w_diff < 0 ? "exact" : "DIFFER");
        CHECK(id_diff < 0, "%s: id %d differs: %d vs %d", name, id_diff, c.ids[id_diff], want_ids[id_diff]);
        CHECK(w_diff < 0, "%s: weight %d differs: %g vs %g", name, w_diff, c.mult[w_diff], want_w[w_diff]);
        float *emb = malloc(L * m->text_cfg.hidden_size * sizeof *emb);
        CHECK_OK(t2i_prompt_chunks_encode(m, &c, emb));
        snprintf(what, sizeof what, "%s embedding [%zu,%d]", name, L, m->text_cfg.hidden_size);
        if (n_e == L * m->text_cfg.hidden_size) CHECK_CLOSE(what, emb, want_e, n_e, EMB_REL_BOUND);
        else CHECK(0, "%s: %zu reference values", name, n_e);
        free(emb);
    }
    free(want_ids), free(want_w), free(want_e);
    t2i_prompt_chunks_free(&c);
    t2i_prompt_schedule_free(&s);
}

/* A plain prompt goes the old way: padded ids, unweighted encoder output. */
static void check_plain_identity(t2i_model *m)
{
    const char *text = "a red circle on a blue background, 16:9";
    int32_t want[77];
    CHECK_OK(t2i_clip_encode_padded(m->tok, text, want, 77));
    t2i_conditioning c;
    CHECK_OK(t2i_conditioning_build(m, text, NULL, 4, &c));
    CHECK(c.n_chunks == 1 && c.ctx_len == 77 && c.n_distinct == 1, "plain: %d chunks", c.n_chunks);
    if (c.n_chunks != 1) return;
    CHECK(memcmp(c.ids, want, sizeof want) == 0, "plain prompt ids differ from tokenizer padding");
    const int C = m->text_cfg.hidden_size;
    float *direct = malloc((size_t)77 * C * sizeof *direct);
    t2i_plan *tp;
    CHECK_OK(t2i_model_text_plan(m, 1, 77, &tp));
    CHECK_OK(t2i_plan_set_input(tp, "ids", want, sizeof want));
    CHECK_OK(t2i_plan_run(tp));
    CHECK_OK(t2i_plan_get_output(tp, "hidden", direct, (size_t)77 * C * sizeof(float)));
    CHECK(memcmp(direct, c.emb, (size_t)77 * C * sizeof(float)) == 0, "plain prompt embedding not bit-identical");
    free(direct);
    t2i_conditioning_free(&c);
}

/* Long prompt vs short negative: both K = 3 chunks, the negative padded
 * with the empty prompt's embedding. */
static void check_padding(t2i_model *m, const t2i_st_file *ref)
{
    t2i_conditioning c;
    CHECK_OK(t2i_conditioning_build(m, t2i_st_metadata(ref, "long.prompt"), t2i_st_metadata(ref, "negative_prompt"),
                                    10, &c));
    CHECK(c.n_chunks == 3 && c.ctx_len == 231 && c.n_distinct == 2, "K %d distinct %d", c.n_chunks, c.n_distinct);
    if (c.n_distinct != 2) return;
    size_t n1, n2;
    float *pos = ref_f32(ref, "long.emb", &n1), *neg = ref_f32(ref, "long_run.negative_emb", &n2);
    const size_t n = (size_t)c.ctx_len * c.hidden;
    CHECK_CLOSE_SIZED("conditioning: prompt [231,C]", c.emb + (size_t)c.pos_at_step[0] * n, n, pos, n1,
                      EMB_REL_BOUND);
    CHECK_CLOSE_SIZED("conditioning: padded negative [231,C]", c.emb + (size_t)c.neg_at_step[0] * n, n, neg, n2,
                      EMB_REL_BOUND);
    free(pos), free(neg);
    t2i_conditioning_free(&c);

    /* prompt editing: distinct entries and the A1111 step mapping */
    CHECK_OK(t2i_conditioning_build(m, "a [cat:dog:0.5] (x:1.1) [a|b]", "", 10, &c));
    CHECK(c.n_distinct == 5, "edit+alternation: %d distinct (want cat/dog x a/b + empty)", c.n_distinct);
    if (c.n_distinct == 5)
        for (int i = 0; i < 10; i++)
            CHECK(c.neg_at_step[i] == c.neg_at_step[0] && c.pos_at_step[i] != c.neg_at_step[0] &&
                      (i <= 5) == (c.pos_at_step[i] == c.pos_at_step[0] || c.pos_at_step[i] == c.pos_at_step[2]),
                  "step %d -> %d", i, c.pos_at_step[i]);
    t2i_conditioning_free(&c);
    CHECK(t2i_conditioning_build(m, "ok", "bad (neg", 10, &c) == T2I_ERR_INVALID_ARG &&
              strstr(t2i_last_error(), "negative prompt") && strstr(t2i_last_error(), "column 5"),
          "negative syntax error: %s", t2i_last_error());
}

static void check_run(t2i_model *m, const t2i_st_file *ref, const char *prompt, const char *key)
{
    char what[96];
    snprintf(what, sizeof what, "txt2img %s", key);
    check_ref_run_latents(m, prompt, t2i_st_metadata(ref, "negative_prompt"), "cond", ref, key, what,
                          LATENT_REL_BOUND);
}

int main(void)
{
    t2i_engine *e = NULL;
    t2i_model *m = NULL;
    t2i_st_file *ref = NULL;
    CHECK_OK(t2i_engine_create(NULL, &e));
    if (e) CHECK_OK(t2i_model_load(e, "tests/fixtures/tiny-sd1", &m));
    CHECK_OK(t2i_st_open(FIX, &ref));
    if (m && ref) {
        check_case(m, ref, "plain");
        check_case(m, ref, "weighted");
        check_case(m, ref, "long");
        check_plain_identity(m);
        check_padding(m, ref);
        check_run(m, ref, t2i_st_metadata(ref, "long.prompt"), "long_run.latents");
        check_run(m, ref, t2i_st_metadata(ref, "edit_prompt"), "edit_run.latents");
    }
    t2i_st_close(ref);
    t2i_model_destroy(m);
    t2i_engine_destroy(e);
    return test_finish();
}
