/*
 * test_quant.c — the int8w rung's pieces: the INT8 weight format
 * (kernels/quant.h), the CPU LINEAR/CONV2D kernels reading it, the
 * quantisation policy (runtime/quant_policy.h) on the default model, and
 * the precision names and per-backend checks.
 *
 *   format   a hand-computed row exactly (scales and codes); on random rows
 *            |w - q·s| <= s/2 (plus 1 ulp of the product)
 *   kernels  LINEAR and CONV2D (3×3 padded, 1×1) with INT8 weights, shapes
 *            large enough for 2+ dequantised tiles, against a
 *            double-precision reference on the dequantised weights: the
 *            kernels differ from it only by FP32 accumulation, so the rule
 *            of test_cpu_ops applies, max err <= 1e-5 · (1 + max|ref|) · √K
 *   policy   models/default loaded with precision int8w: which weights are
 *            INT8 and which stay FP32 (the list of quant_policy.h), and the
 *            INT8 weights' bytes against FP32 (<= 0.26: a quarter plus scales)
 */
#include <stdint.h>
#include "test_util.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/quant.h"
#include "runtime/model.h"
#include "runtime/quant_policy.h"

static uint64_t rng_state = 12345;
static float frand(void)   /* uniform in [-1, 1) */
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng_state >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

static void format_cases(void)
{
    const float w[2][4] = {{1.0f, -0.5f, 0.25f, 0.0f}, {0, 0, 0, 0}};
    unsigned char buf[256];
    t2i_q8_quantize_rows(&w[0][0], 2, 4, buf);
    const int8_t *q = (const int8_t *)buf;
    const float *s = (const float *)(buf + t2i_q8_scales_offset(8));
    /* 127·(-0.5) = -63.5 rounds away from zero; 127·0.25 = 31.75 -> 32 */
    const int8_t want[8] = {127, -64, 32, 0, 0, 0, 0, 0};
    CHECK(memcmp(q, want, 8) == 0, "codes %d %d %d %d", q[0], q[1], q[2], q[3]);
    CHECK(s[0] == 1.0f / 127.0f && s[1] == 1.0f, "scales %g %g (want 1/127, 1 for a zero row)", s[0], s[1]);
    CHECK(t2i_q8_scales_offset(8) == 64 && t2i_q8_bytes(2, 4) == 72, "layout: scales at 64, 72 bytes");

    enum { R = 7, K = 301 };
    float *rw = malloc(sizeof(float) * R * K), *back = malloc(sizeof(float) * R * K);
    void *qb = malloc(t2i_q8_bytes(R, K));
    for (int i = 0; i < R * K; i++) rw[i] = frand() * (float)(1 + i / K);   /* rows of different ranges */
    t2i_q8_quantize_rows(rw, R, K, qb);
    t2i_q8_dequantize_rows(qb, R, K, 0, R, back);
    const float *sc = (const float *)((char *)qb + t2i_q8_scales_offset(R * K));
    int bad = 0;
    for (int r = 0; r < R; r++)
        for (int j = 0; j < K; j++) {
            double e = fabs((double)rw[r * K + j] - back[r * K + j]);
            if (e > 0.5 * sc[r] * (1 + 1e-6) + 1e-7 * fabs(rw[r * K + j])) bad++;
        }
    CHECK(bad == 0, "%d of %d values off by more than scale/2", bad, R * K);
    free(rw), free(back), free(qb);
}

/* One node on the CPU backend with an INT8 weight, against a double
 * reference computed from the dequantised weight. */
typedef struct qcase {
    t2i_graph *g;
    float *data[8];
    void *q8;
    int w;
} qcase;

static int input(qcase *c, const char *name, int ndim, const int64_t *ne, int weight)
{
    int t = weight ? t2i_graph_weight(c->g, name, ndim, ne) : t2i_graph_input(c->g, name, T2I_F32, ndim, ne);
    int64_t n = t2i_tensor_numel(&c->g->tensors[t]);
    c->data[t] = malloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++) c->data[t][i] = frand() * (weight ? 0.05f : 1.0f);
    return t;
}

static void quantise_weight(qcase *c, int w)
{
    const t2i_tensor *t = &c->g->tensors[w];
    int64_t n = t->ne[0], k = t2i_tensor_numel(t) / n;
    c->q8 = malloc(t2i_q8_bytes((size_t)n, (size_t)k));
    t2i_q8_quantize_rows(c->data[w], n, k, c->q8);
    t2i_q8_dequantize_rows(c->q8, n, k, 0, n, c->data[w]);   /* the reference uses these values */
    c->w = w;
}

static float *run(qcase *c, t2i_backend *be, t2i_op op, const int *in, int n_in, const t2i_op_attrs *at)
{
    int out = t2i_graph_op(c->g, op, "node", in, n_in, at);
    CHECK(out >= 0, "graph op: %s", t2i_last_error());
    if (out < 0) return NULL;
    c->g->tensors[c->w].dtype = T2I_I8;   /* as a plan marks a quantised weight */
    const t2i_node *node = &c->g->nodes[c->g->n_nodes - 1];
    t2i_op_args a;
    memset(&a, 0, sizeof a);
    a.node = node;
    for (int i = 0; i < node->n_in; i++)
        if (node->in[i] >= 0) {
            a.in[i] = &c->g->tensors[node->in[i]];
            a.in_data[i] = node->in[i] == c->w ? c->q8 : c->data[node->in[i]];
        }
    a.out = &c->g->tensors[out];
    float *y = malloc((size_t)t2i_tensor_numel(a.out) * sizeof *y);
    a.out_data = y;
    a.workspace_bytes = be->vt->workspace_size(be, c->g, node);
    CHECK(a.workspace_bytes > 0, "an INT8 weight needs a workspace for its tiles");
    void *ws = NULL;
    CHECK_OK(be->vt->alloc(be, a.workspace_bytes, &ws));
    a.workspace = ws;
    CHECK_OK(be->kernels[op](be, &a));
    be->vt->free(be, ws);
    return y;
}

static void compare(const char *what, const float *got, const double *ref, int64_t n, double K)
{
    double max_err = 0, max_ref = 0;
    int finite = 1;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(got[i])) finite = 0;
        max_err = fmax(max_err, fabs(got[i] - ref[i]));
        max_ref = fmax(max_ref, fabs(ref[i]));
    }
    double tol = 1e-5 * (1 + max_ref) * sqrt(K);
    printf("  %-44s max err %.3g (tol %.3g, max|ref| %.3g)\n", what, max_err, tol, max_ref);
    CHECK(finite && max_err <= tol, "%s: max err %g > %g", what, max_err, tol);
}

static void free_case(qcase *c)
{
    for (int i = 0; i < 8; i++) free(c->data[i]);
    free(c->q8);
    t2i_graph_destroy(c->g);
}

static void linear_case(t2i_backend *be)
{
    enum { M = 5, K = 4096, N = 300 };   /* 4 MiB tiles of 256 rows: 2 tiles */
    CHECK(cpu_q8_tile_rows(N, K) < N, "the case spans several tiles");
    qcase c = {.g = t2i_graph_create()};
    int x = input(&c, "x", 2, (int64_t[]){M, K}, 0);
    int w = input(&c, "w", 2, (int64_t[]){N, K}, 1);
    int b = input(&c, "b", 1, (int64_t[]){N}, 1);
    int r = input(&c, "r", 2, (int64_t[]){M, N}, 0);
    quantise_weight(&c, w);
    t2i_op_attrs at = {.linear = {T2I_ACT_GELU}};
    float *y = run(&c, be, T2I_OP_LINEAR, (int[]){x, w, b, r}, 4, &at);
    double *ref = malloc(sizeof(double) * M * N);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double acc = c.data[b][j];
            for (int k = 0; k < K; k++) acc += (double)c.data[x][i * K + k] * c.data[w][j * K + k];
            ref[i * N + j] = 0.5 * acc * (1 + erf(acc / sqrt(2.0))) + c.data[r][i * N + j];
        }
    if (y) compare("LINEAR int8 weight [300,4096], bias, GELU, res", y, ref, M * N, K);
    free(y), free(ref);
    free_case(&c);
}

static void conv_case(t2i_backend *be, int64_t C, int kh, int pad, const char *what)
{
    const int64_t N = 2, H = 6, W = 5, O = 300, Ho = H + 2 * pad - kh + 1, Wo = W + 2 * pad - kh + 1;
    const int64_t ckk = C * kh * kh;
    CHECK(cpu_q8_tile_rows(O, ckk) < O, "%s: the case spans several tiles", what);
    qcase c = {.g = t2i_graph_create()};
    int x = input(&c, "x", 4, (int64_t[]){N, C, H, W}, 0);
    int w = input(&c, "w", 4, (int64_t[]){O, C, kh, kh}, 1);
    int b = input(&c, "b", 1, (int64_t[]){O}, 1);
    quantise_weight(&c, w);
    t2i_op_attrs at = {.conv2d = {1, pad, pad, pad, pad, T2I_ACT_SILU}};
    float *y = run(&c, be, T2I_OP_CONV2D, (int[]){x, w, b}, 3, &at);
    double *ref = malloc(sizeof(double) * (size_t)(N * O * Ho * Wo));
    for (int64_t n = 0; n < N; n++)
        for (int64_t o = 0; o < O; o++)
            for (int64_t oy = 0; oy < Ho; oy++)
                for (int64_t ox = 0; ox < Wo; ox++) {
                    double acc = c.data[b][o];
                    for (int64_t ch = 0; ch < C; ch++)
                        for (int ki = 0; ki < kh; ki++)
                            for (int kj = 0; kj < kh; kj++) {
                                int64_t iy = oy - pad + ki, ix = ox - pad + kj;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                acc += (double)c.data[x][((n * C + ch) * H + iy) * W + ix] *
                                       c.data[w][((o * C + ch) * kh + ki) * kh + kj];
                            }
                    ref[((n * O + o) * Ho + oy) * Wo + ox] = acc / (1 + exp(-acc));
                }
    if (y) compare(what, y, ref, N * O * Ho * Wo, (double)ckk);
    free(y), free(ref);
    free_case(&c);
}

static void policy_case(void)
{
    CHECK(!t2i_quant_int8_name_allowed("conv_in.weight") && !t2i_quant_int8_name_allowed("conv_out.weight") &&
              !t2i_quant_int8_name_allowed("time_embedding.linear_1.weight") &&
              !t2i_quant_int8_name_allowed("add_embedding.linear_2.weight") &&
              !t2i_quant_int8_name_allowed("decoder.up_blocks.0.resnets.0.conv1.weight") &&
              !t2i_quant_int8_name_allowed("encoder.down_blocks.0.resnets.0.conv1.weight") &&
              !t2i_quant_int8_name_allowed("post_quant_conv.weight") &&
              !t2i_quant_int8_name_allowed("text_projection.weight"),
          "the policy keeps first/last convs, embeddings MLPs, the VAE and the text projection in float");
    CHECK(t2i_quant_int8_name_allowed("down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight") &&
              t2i_quant_int8_name_allowed("encoder.layer.0.attention.self.query.weight") &&
              t2i_quant_int8_name_allowed("text_model.encoder.layers.0.mlp.fc1.weight"),
          "UNet, BERT and CLIP layers are quantised");

    t2i_engine_options eo;
    t2i_engine_options_init(&eo);
    eo.precision = T2I_PRECISION_INT8W;
    t2i_engine *e = NULL;
    t2i_model *m = NULL;
    CHECK_OK(t2i_engine_create(&eo, &e));
    if (e) CHECK_OK(t2i_model_load(e, "models/default", &m));
    if (!m) {
        t2i_engine_destroy(e);
        return;
    }
    static const struct { const char *name; t2i_dtype want; } rows[] = {
        {"conv_in.weight", T2I_F32},
        {"conv_out.weight", T2I_F32},
        {"time_embedding.linear_1.weight", T2I_F32},
        {"down_blocks.0.resnets.0.conv1.weight", T2I_I8},
        {"down_blocks.0.resnets.0.norm1.weight", T2I_F32},
        {"down_blocks.0.resnets.0.conv1.bias", T2I_F32},
    };
    int n_i8 = 0, n_f32 = 0;
    const t2i_weights *ws[3] = {m->unet_w, m->text_w, m->vae_w};
    for (int s = 0; s < 3; s++)
        for (int i = 0; i < t2i_weights_count(ws[s]); i++) {
            int nd;
            const int64_t *ne;
            void *data;
            const char *name = t2i_weights_entry(ws[s], i, &nd, &ne, &data);
            t2i_dtype dt = t2i_weights_entry_dtype(ws[s], i);
            if (dt == T2I_I8) n_i8++;
            else n_f32++;
            if (s == 2) CHECK(dt == T2I_F32, "VAE weight %s is %s", name, t2i_dtype_name(dt));
            if (s == 1 && strstr(name, "embeddings")) CHECK(dt == T2I_F32, "text embedding %s is INT8", name);
            if (s == 1 && strstr(name, "q_proj.weight")) CHECK(dt == T2I_I8, "text %s is not INT8", name);
            for (size_t r = 0; s == 0 && r < sizeof rows / sizeof rows[0]; r++)
                if (strcmp(name, rows[r].name) == 0)
                    CHECK(dt == rows[r].want, "%s is %s, want %s", name, t2i_dtype_name(dt),
                          t2i_dtype_name(rows[r].want));
        }
    size_t f32 = 0, q8 = t2i_weights_q8_bytes(m->unet_w, &f32);
    printf("  default model, int8w: %d INT8 weights, %d float; UNet INT8 part %zu bytes vs %zu in FP32 (%.3f)\n",
           n_i8, n_f32, q8, f32, f32 ? (double)q8 / f32 : 0.0);
    CHECK(n_i8 > 0 && q8 > 0 && q8 <= 0.26 * f32, "INT8 weights take %zu of %zu FP32 bytes", q8, f32);

    t2i_model_destroy(m);

    /* a LoRA cannot be merged into INT8 weights yet: a clear error, and the
     * model still draws */
    m = NULL;
    CHECK_OK(t2i_model_load(e, "tests/fixtures/tiny-sd1", &m));
    t2i_lora l = {"tests/fixtures/lora/kohya.safetensors", 1.0f};
    t2i_status st = m ? t2i_model_set_loras(m, &l, 1) : T2I_OK;
    CHECK(st == T2I_ERR_UNSUPPORTED && strstr(t2i_last_error(), "INT8"), "LoRA on int8w -> %s: %s",
          t2i_status_name(st), t2i_last_error());
    t2i_model_destroy(m);
    t2i_engine_destroy(e);
}

static void precision_names(void)
{
    t2i_precision p;
    const char *names[] = {"fp32", "fp16", "bf16", "int8w", "w8a8"};
    for (int i = 0; i < 5; i++) {
        CHECK(t2i_precision_parse(names[i], &p) == T2I_OK && strcmp(t2i_precision_name(p), names[i]) == 0,
              "%s round trip", names[i]);
    }
    CHECK(t2i_precision_parse("int4", &p) == T2I_ERR_INVALID_ARG && strstr(t2i_last_error(), "int8w"),
          "an unknown name lists the known ones");
    t2i_engine_options eo;
    t2i_engine_options_init(&eo);
    const t2i_precision no_cpu[] = {T2I_PRECISION_FP16, T2I_PRECISION_BF16, T2I_PRECISION_W8A8};
    for (int i = 0; i < 3; i++) {
        t2i_engine *e = NULL;
        eo.precision = no_cpu[i];
        t2i_status st = t2i_engine_create(&eo, &e);
        CHECK(st == T2I_ERR_UNSUPPORTED && !e && strstr(t2i_last_error(), "cpu: fp32, int8w"),
              "cpu + %s -> %s: %s", t2i_precision_name(no_cpu[i]), t2i_status_name(st), t2i_last_error());
        t2i_engine_destroy(e);
    }
}

int main(void)
{
    format_cases();
    precision_names();
    t2i_backend *be = NULL;
    CHECK_OK(t2i_cpu_backend_create(2, &be));
    if (be) {
        linear_case(be);
        conv_case(be, 512, 3, 1, "CONV2D int8 weight [300,512,3,3], pad 1, SiLU");
        conv_case(be, 4096, 1, 0, "CONV2D int8 weight [300,4096,1,1]");
    }
    t2i_backend_destroy(be);
    policy_case();
    return test_finish();
}
