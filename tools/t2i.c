/*
 * t2i — the command-line generator.
 *
 *   t2i -p "a red circle on a blue background" -o out.png
 *
 * Loads a diffusers-layout model folder (default: the embedded model under
 * models/default), draws batch_size images and writes them as PNG files
 * with the generation parameters in their "parameters" text chunk. Options
 * to read the initial noise from a safetensors file and to dump the stage
 * outputs make any run comparable with any reference implementation.
 * Bad arguments give a one-line error and exit status 2; failures while
 * generating exit with status 1.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "t2i.h"
#include "t2i_edit_opts.h"
#include "t2i_upscale_x4.h"
#include "t2i_upscale_opts.h"

#ifndef T2I_SOURCE_DIR
#define T2I_SOURCE_DIR "."
#endif

static const char *usage_text =
    "usage: t2i [options] -p PROMPT\n"
    "       t2i convert IN OUT [--vae FILE] [--tokenizer DIR]\n"
    "       t2i upscale IN -o OUT.png [--upscale [MODEL][:SCALE]]\n"
    "\n"
    "Generate images from a text prompt with a Stable Diffusion model.\n"
    "\n"
    "  -p, --prompt TEXT        what to draw (required)\n"
    "  -n, --negative TEXT      negative prompt (default: none)\n"
    "  -m, --model PATH         diffusers-layout model folder or single-file .safetensors\n"
    "                           checkpoint (default: $T2I_MODEL, else the embedded\n"
    "                           model in models/default)\n"
    "      --vae FILE           a separate VAE .safetensors for a single-file checkpoint\n"
    "      --tokenizer DIR      CLIP tokenizer folder for a single-file checkpoint\n"
    "                           (default: the project's models/default/tokenizer)\n"
    "      --prediction TYPE    epsilon or v: a single file's prediction type (default:\n"
    "                           its .yaml beside it, else v for SD 2.x, else epsilon)\n"
    "  -o, --output FILE        PNG file to write (default: out.png); with a batch,\n"
    "                           image i goes to FILE with -i before the extension\n"
    "  -s, --seed N             seed; image i of a batch uses N+i (default: random)\n"
    "      --steps N            denoising steps, 1..1000 (default: 20)\n"
    "      --cfg X              classifier-free guidance scale (default: 7.5;\n"
    "                           <= 1 disables the negative pass)\n"
    "  -W, --width N            image width in pixels (default: the model's size)\n"
    "  -H, --height N           image height in pixels (default: the model's size)\n"
    "  -b, --batch N            images to generate, 1..64 (default: 1)\n"
    "      --sampler NAME       euler, euler_a, ddim, dpmpp_2m, dpmpp_2m_karras, heun, dpm2,\n"
    "                           dpm2_a, lms, ddpm, lcm, unipc, dpmpp_2s, dpmpp_2s_a, dpmpp_sde,\n"
    "                           dpmpp_sde_karras, or the\n"
    "                           A1111 names (\"Euler a\", \"DPM++ 2M Karras\", \"DPM2 a\";\n"
    "                           default: euler_a); --list-samplers prints them\n"
    "      --schedule TYPE      sigma schedule: automatic (the model's config), karras or\n"
    "                           exponential (samplers with sigmas; A1111's Schedule type)\n"
    "      --clip-skip N        A1111's clip skip: use the text encoder's hidden state N\n"
    "                           layers from the end (default: 1, the last layer)\n"
    "      --rng SOURCE         noise source: cpu (torch.randn with a CPU generator, as\n"
    "                           diffusers) or philox (A1111's GPU source); default: cpu\n"
    "      --style NAME[:W]     apply a style from the catalog (id, English or Chinese\n"
    "                           name), optionally weighted; repeat for several — the\n"
    "                           order does not matter\n"
    "      --styles-file FILE   use this catalog instead of the built-in one\n"
    "                           (data/styles.tsv layout or an A1111 styles.csv)\n"
    "      --list-styles        print the catalog (id, English, Chinese, category)\n"
    "      --expand[=N]         expand a short prompt into a richer one, the same for\n"
    "                           the same seed, within N tokens (default 75)\n"
    "      --lora FILE[:W]      merge a LoRA (kohya/A1111 or diffusers/PEFT .safetensors)\n"
    "                           with weight W (default 1); repeat for several\n"
    "      --lora-dir DIR       where <lora:name:W> in a prompt finds name.safetensors\n"
    "      --embeddings DIR     textual-inversion embeddings: a prompt word NAME uses\n"
    "                           DIR/NAME.safetensors\n"
    "      --best-of N          draw N candidates (seeds SEED..SEED+N-1), judge them and\n"
    "                           keep the best --keep K (default 1) that are not\n"
    "                           near-duplicates; needs --scorer, else the model's\n"
    "                           scorer/ folder (models/default has one; docs/judging.md)\n"
    "      --scorer DIR         CLIP model folder that judges relevance (transformers\n"
    "                           CLIPModel); --scorer-zh DIR a ChineseCLIPModel for\n"
    "                           Chinese prompts; --aesthetic FILE an aesthetic head\n"
    "      --init-noise FILE    read the initial latents from a safetensors file\n"
    "                           (tensor \"init_noise\", or its only tensor), shape\n"
    "                           [batch, C, height/f, width/f] (SD: C 4, f 8), before\n"
    "                           sigma scaling\n"
    "      --dump-stages FILE   write stage outputs to a safetensors file: ids,\n"
    "                           text_embeddings, init_noise, latents, image\n"
    "      --backend NAME       cpu (FP32 reference) or cuda (FP16 on an NVIDIA GPU,\n"
    "                           when built with CUDA); default: cpu\n"
    "      --device N           CUDA device ordinal (default: 0)\n"
    "      --threads N          CPU threads (default: all cores)\n"
    "      --precision NAME     fp32|fp16|bf16|int8w|w8a8 (cpu: fp32, int8w; cuda: fp16, bf16;\n"
    "                           see docs/precision.md); default: the backend's own\n"
    "  -q, --quiet              no progress output\n"
    "      --list-samplers      print the sampler names and exit\n"
    "  -h, --help               this text\n"
    T2I_EDIT_USAGE
    T2I_UPSCALE_X4_USAGE
    T2I_UPSCALE_USAGE
    "\n"
    "\n"
    "t2i convert IN OUT writes a diffusers folder from a single-file checkpoint, or a\n"
    "single file (original naming) from an SD 1.x folder; OUT must not exist.\n"
    "\n"
    "Exit status: 0 success, 1 generation failed, 2 bad arguments.\n";

static void die_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "t2i: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see t2i --help)\n");
    exit(2);
}

static long parse_long(const char *s, const char *opt, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "t2i: %s expects an integer in %ld..%ld, got '%s'\n", opt, lo, hi, s);
        exit(2);
    }
    return v;
}

static int progress(void *user, int step, int steps)
{
    (void)user;
    fprintf(stderr, "\rstep %d/%d", step, steps);
    if (step == steps) fprintf(stderr, "\n");
    return 0;
}

static uint64_t random_seed(void)
{
    uint64_t s = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(&s, sizeof s, 1, f) != 1) s = (uint64_t)time(NULL);
    if (f) fclose(f);
    return s & 0xffffffffu; /* A1111 seeds are 32-bit */
}

/* out.png, image 2 -> out-2.png */
static void output_name(char *buf, size_t n, const char *base, int i, int count)
{
    if (count == 1) {
        snprintf(buf, n, "%s", base);
        return;
    }
    const char *dot = strrchr(base, '.');
    const char *slash = strrchr(base, '/');
    if (!dot || (slash && dot < slash)) dot = base + strlen(base);
    snprintf(buf, n, "%.*s-%d%s", (int)(dot - base), base, i, dot);
}

static float *read_noise(const char *path, size_t want)
{
    float *buf = malloc(want * sizeof *buf);
    if (!buf) {
        fprintf(stderr, "t2i: out of memory\n");
        exit(1);
    }
    if (t2i_tensor_file_read_f32(path, "init_noise", buf, want) != T2I_OK) {
        fprintf(stderr, "t2i: --init-noise: %s ([batch, C, H/f, W/f])\n", t2i_last_error());
        exit(2);
    }
    return buf;
}

static const char *default_model(void)
{
    const char *env = getenv("T2I_MODEL");
    if (env && *env) return env;
    static const char *candidates[] = {"models/default", T2I_SOURCE_DIR "/models/default"};
    struct stat st;
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
        if (stat(candidates[i], &st) == 0 && S_ISDIR(st.st_mode)) return candidates[i];
    return NULL;
}

/* t2i convert IN OUT [--vae FILE] [--tokenizer DIR] */
static int convert_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"vae", required_argument, 0, 'v'}, {"tokenizer", required_argument, 0, 't'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    t2i_model_options mo;
    t2i_model_options_init(&mo);
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'v': mo.vae_path = optarg; break;
        case 't': mo.tokenizer_dir = optarg; break;
        case 'h': fputs(usage_text, stdout); return 0;
        case ':': die_usage("option %s needs a value", argv[optind - 1]); break;
        default: die_usage("unknown option '%s'", argv[optind - 1]); break;
        }
    }
    if (argc - optind != 2) die_usage("%s", "convert takes IN and OUT");
    if (t2i_convert(argv[optind], argv[optind + 1], &mo) != T2I_OK) {
        fprintf(stderr, "t2i: convert: %s\n", t2i_last_error());
        return 1;
    }
    return 0;
}

/* --best-of: load the scorer into *scorer, draw n candidates (of the edit
 * when ed is given, else txt2img), keep `keep`, print their scores. */
static t2i_status best_of_run(t2i_engine *eng, t2i_model *m, t2i_scorer **scorer, const char *scorer_dir,
                              const char *scorer_zh, const char *aesthetic, const t2i_txt2img_params *p,
                              const t2i_img2img_params *ed, int n, int keep, int quiet, t2i_image **imgs, int *count)
{
    t2i_image_scores *scores = NULL;
    t2i_status st = t2i_scorer_load(eng, scorer_dir, scorer_zh, aesthetic, scorer);
    if (st == T2I_OK)
        st = ed ? t2i_best_of_img2img(m, *scorer, ed, n, keep, NULL, imgs, &scores, count)
                : t2i_best_of(m, *scorer, p, n, keep, NULL, imgs, &scores, count);
    for (int i = 0; st == T2I_OK && !quiet && i < *count; i++)
        fprintf(stderr, "seed %llu: CLIP score %.2f, aesthetic %.3f, rank score %.4f\n",
                (unsigned long long)(*imgs)[i].seed, scores[i].clip_score, scores[i].aesthetic, scores[i].score);
    t2i_free(scores);
    return st;
}

int main(int argc, char **argv)
{
    enum {
        OPT_STEPS = 256, OPT_CFG, OPT_SAMPLER, OPT_CLIP_SKIP, OPT_SCHEDULE, OPT_RNG, OPT_INIT, OPT_DUMP, OPT_THREADS,
        OPT_LIST, OPT_STYLE, OPT_STYLES_FILE, OPT_LIST_STYLES, OPT_EXPAND, OPT_BACKEND, OPT_DEVICE,
        OPT_LORA, OPT_LORA_DIR, OPT_EMBEDDINGS, OPT_VAE, OPT_TOKENIZER, OPT_PREDICTION,
        OPT_BEST_OF, OPT_KEEP, OPT_SCORER, OPT_SCORER_ZH, OPT_AESTHETIC, OPT_UPSCALE_NOISE,
        OPT_VAE_TILING, OPT_VAE_OVERLAP, OPT_MAX_MEMORY, OPT_PRECISION
    };
    static const struct option opts[] = {
        {"prompt", required_argument, 0, 'p'},   {"negative", required_argument, 0, 'n'},
        {"model", required_argument, 0, 'm'},    {"output", required_argument, 0, 'o'},
        {"seed", required_argument, 0, 's'},     {"steps", required_argument, 0, OPT_STEPS},
        {"cfg", required_argument, 0, OPT_CFG},  {"width", required_argument, 0, 'W'},
        {"height", required_argument, 0, 'H'},   {"batch", required_argument, 0, 'b'},
        {"sampler", required_argument, 0, OPT_SAMPLER}, {"rng", required_argument, 0, OPT_RNG},
        {"clip-skip", required_argument, 0, OPT_CLIP_SKIP}, {"schedule", required_argument, 0, OPT_SCHEDULE},
        {"init-noise", required_argument, 0, OPT_INIT}, {"dump-stages", required_argument, 0, OPT_DUMP},
        {"threads", required_argument, 0, OPT_THREADS}, {"quiet", no_argument, 0, 'q'},
        {"precision", required_argument, 0, OPT_PRECISION},
        {"list-samplers", no_argument, 0, OPT_LIST},    {"help", no_argument, 0, 'h'},
        {"style", required_argument, 0, OPT_STYLE},     {"styles-file", required_argument, 0, OPT_STYLES_FILE},
        {"list-styles", no_argument, 0, OPT_LIST_STYLES}, {"expand", optional_argument, 0, OPT_EXPAND},
        {"backend", required_argument, 0, OPT_BACKEND}, {"device", required_argument, 0, OPT_DEVICE},
        {"lora", required_argument, 0, OPT_LORA},       {"lora-dir", required_argument, 0, OPT_LORA_DIR},
        {"embeddings", required_argument, 0, OPT_EMBEDDINGS},
        {"best-of", required_argument, 0, OPT_BEST_OF},  {"keep", required_argument, 0, OPT_KEEP},
        {"scorer", required_argument, 0, OPT_SCORER},    {"scorer-zh", required_argument, 0, OPT_SCORER_ZH},
        {"aesthetic", required_argument, 0, OPT_AESTHETIC},
        {"vae", required_argument, 0, OPT_VAE},         {"tokenizer", required_argument, 0, OPT_TOKENIZER},
        {"prediction", required_argument, 0, OPT_PREDICTION},
        {"upscale-noise", required_argument, 0, OPT_UPSCALE_NOISE},
        {"vae-tiling", optional_argument, 0, OPT_VAE_TILING}, {"vae-tile-overlap", required_argument, 0, OPT_VAE_OVERLAP},
        {"max-memory", required_argument, 0, OPT_MAX_MEMORY},
        T2I_EDIT_LONG_OPTIONS,
        T2I_UPSCALE_LONG_OPTIONS,
        {0, 0, 0, 0},
    };
    if (argc > 1 && strcmp(argv[1], "convert") == 0) return convert_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "upscale") == 0) return upscale_main(argc - 1, argv + 1, T2I_SOURCE_DIR);
    upscale_opts up;
    upscale_opts_init(&up);
    t2i_upscaler *upscaler = NULL, *hires_up = NULL;
    int model_is_default = 0;
    edit_opts ed;
    memset(&ed, 0, sizeof ed);
    t2i_img2img_params_init(&ed.p);
    t2i_txt2img_params p;
    t2i_txt2img_params_init(&p);
    t2i_model_options mo;
    t2i_model_options_init(&mo);
    t2i_engine_options eo;
    t2i_engine_options_init(&eo);
    const char *model_dir = NULL, *output = "out.png", *init_path = NULL, *styles_file = NULL;
    const char *scorer_dir = NULL, *scorer_zh = NULL, *aesthetic = NULL;
    int best_of = 0, keep = 1, upscale_noise = 20;
    const char *styles[64];
    t2i_lora loras[32];
    char lora_paths[32][1024];
    int quiet = 0, have_seed = 0, list_styles = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":p:n:m:o:s:W:H:b:i:qh", opts, NULL)) != -1) {
        if (edit_option(c, optarg, &ed)) continue;
        if (upscale_option(c, optarg, &up)) continue;
        switch (c) {
        case 'p': p.prompt = optarg; break;
        case 'n': p.negative_prompt = optarg; break;
        case 'm': model_dir = optarg; break;
        case 'o': output = optarg; break;
        case 's': {
            char *end;
            errno = 0;
            long long v = strtoll(optarg, &end, 10);
            if (errno || end == optarg || *end || v < -1) die_usage("--seed expects an integer >= -1, got '%s'", optarg);
            have_seed = v >= 0;
            p.seed = (uint64_t)v;
            break;
        }
        case OPT_STEPS: p.steps = (int)parse_long(optarg, "--steps", 1, 1000); break;
        case OPT_CFG: {
            char *end;
            errno = 0;
            double v = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(v >= 0 && v <= 100))
                die_usage("--cfg expects a number in 0..100, got '%s'", optarg);
            p.guidance_scale = (float)v;
            break;
        }
        case 'W': p.width = (int)parse_long(optarg, "--width", 8, 8192); break;
        case 'H': p.height = (int)parse_long(optarg, "--height", 8, 8192); break;
        case 'b': p.batch_size = (int)parse_long(optarg, "--batch", 1, 64); break;
        case OPT_SAMPLER:
            if (t2i_sampler_from_name(optarg, &p.sampler) != T2I_OK) die_usage("--sampler: %s", t2i_last_error());
            break;
        case OPT_SCHEDULE:
            if (strcmp(optarg, "karras") == 0) p.schedule = T2I_SCHEDULE_KARRAS;
            else if (strcmp(optarg, "exponential") == 0) p.schedule = T2I_SCHEDULE_EXPONENTIAL;
            else if (strcmp(optarg, "automatic") == 0) p.schedule = T2I_SCHEDULE_AUTOMATIC;
            else die_usage("--schedule expects automatic, karras or exponential, got '%s'", optarg);
            break;
        case OPT_CLIP_SKIP: p.clip_skip = (int)parse_long(optarg, "--clip-skip", 1, 48); break;
        case OPT_RNG:
            if (strcmp(optarg, "cpu") == 0) p.noise = T2I_NOISE_TORCH_CPU;
            else if (strcmp(optarg, "philox") == 0 || strcmp(optarg, "gpu") == 0) p.noise = T2I_NOISE_PHILOX;
            else die_usage("--rng expects cpu or philox, got '%s'", optarg);
            break;
        case OPT_INIT: init_path = optarg; break;
        case OPT_DUMP: p.stages_path = optarg; break;
        case OPT_BACKEND:
            if (strcmp(optarg, "cpu") == 0) eo.backend = T2I_BACKEND_CPU;
            else if (strcmp(optarg, "cuda") == 0) eo.backend = T2I_BACKEND_CUDA;
            else die_usage("--backend expects cpu or cuda, got '%s'", optarg);
            break;
        case OPT_DEVICE: eo.device = (int)parse_long(optarg, "--device", 0, 1024); break;
        case OPT_THREADS: eo.threads = (int)parse_long(optarg, "--threads", 0, 1024); break;
        case OPT_PRECISION:
            if (t2i_precision_parse(optarg, &eo.precision) != T2I_OK) die_usage("--%s", t2i_last_error());
            break;
        case 'q': quiet = 1; break;
        case OPT_VAE: mo.vae_path = optarg; break;
        case OPT_TOKENIZER: mo.tokenizer_dir = optarg; break;
        case OPT_PREDICTION:
            if (strcmp(optarg, "epsilon") == 0) mo.prediction = T2I_PREDICT_EPSILON;
            else if (strcmp(optarg, "v") == 0 || strcmp(optarg, "v_prediction") == 0) mo.prediction = T2I_PREDICT_V;
            else die_usage("--prediction expects epsilon or v, got '%s'", optarg);
            break;
        case OPT_STYLE:
            if (p.n_styles == (int)(sizeof styles / sizeof styles[0])) die_usage("%s", "too many --style options");
            styles[p.n_styles++] = optarg;
            break;
        case OPT_STYLES_FILE: styles_file = optarg; break;
        case OPT_LORA: {   /* FILE or FILE:WEIGHT (the part after the last ':' when it is a number) */
            if (p.n_loras == (int)(sizeof loras / sizeof loras[0])) die_usage("%s", "too many --lora options");
            if (strlen(optarg) >= sizeof lora_paths[0]) die_usage("--lora: path too long: '%s'", optarg);
            char *path = lora_paths[p.n_loras], *colon, *end;
            strcpy(path, optarg);
            float w = 1.0f;
            if ((colon = strrchr(path, ':')) != NULL) {
                errno = 0;
                double d = strtod(colon + 1, &end);
                if (end != colon + 1 && !*end && !errno && isfinite(d)) {
                    *colon = '\0';
                    w = (float)d;
                }
            }
            loras[p.n_loras++] = (t2i_lora){path, w};
            p.loras = loras;
            break;
        }
        case OPT_LORA_DIR: p.lora_dir = optarg; break;
        case OPT_EMBEDDINGS: p.embedding_dir = optarg; break;
        case OPT_BEST_OF: best_of = (int)parse_long(optarg, "--best-of", 1, 256); break;
        case OPT_KEEP: keep = (int)parse_long(optarg, "--keep", 1, 256); break;
        case OPT_SCORER: scorer_dir = optarg; break;
        case OPT_SCORER_ZH: scorer_zh = optarg; break;
        case OPT_AESTHETIC: aesthetic = optarg; break;
        case OPT_LIST_STYLES: list_styles = 1; break;
            break;
        case OPT_UPSCALE_NOISE: upscale_noise = (int)parse_long(optarg, "--upscale-noise", 0, 1000); break;
        case OPT_VAE_TILING: p.vae_tile = optarg ? (int)parse_long(optarg, "--vae-tiling", 8, 8192) : 512; break;
        case OPT_VAE_OVERLAP: p.vae_tile_overlap = (int)parse_long(optarg, "--vae-tile-overlap", 0, 4096); break;
        case OPT_MAX_MEMORY: p.max_memory = (size_t)parse_long(optarg, "--max-memory", 1, LONG_MAX); break;
        case OPT_EXPAND:
            p.expand = 1;
            if (optarg) p.expand_max_tokens = (int)parse_long(optarg, "--expand", 8, 1000);
            break;
        case OPT_LIST:
            for (int i = 0; i < T2I_SAMPLER_COUNT; i++) printf("%s\n", t2i_sampler_name((t2i_sampler)i));
            return 0;
        case 'h': fputs(usage_text, stdout); return 0;
        case ':': die_usage("option %s needs a value", argv[optind - 1]); break;
        default: die_usage("unknown option '%s'", argv[optind - 1]); break;
        }
    }
    if (optind < argc) die_usage("unexpected argument '%s'", argv[optind]);
    t2i_styles *catalog = NULL;
    if (styles_file && t2i_styles_load(styles_file, &catalog) != T2I_OK) {
        fprintf(stderr, "t2i: --styles-file: %s\n", t2i_last_error());
        return 2;
    }
    if (list_styles) {
        const t2i_styles *cat = catalog ? catalog : t2i_styles_builtin();
        for (int i = 0; i < t2i_styles_count(cat); i++) {
            const t2i_style *st = t2i_styles_get(cat, i);
            printf("%s\t%s\t%s\t%s\n", st->id, st->name_en, st->name_zh, st->category);
        }
        t2i_styles_destroy(catalog);
        return 0;
    }
    p.styles = styles;
    p.style_catalog = catalog;
    if (!p.prompt) die_usage("%s", "a prompt is required (-p TEXT)");
    if (!model_dir) model_is_default = (model_dir = default_model()) != NULL;
    if (!model_dir) die_usage("%s", "no model given (-m DIR) and models/default was not found");
    if (!have_seed) p.seed = random_seed();
    if (!quiet) p.progress = progress;

    t2i_engine *eng = NULL;
    t2i_model *m = NULL;
    t2i_image *imgs = NULL;
    t2i_scorer *scorer = NULL;
    int n = 0, rc = 1;
    char model_scorer[4096];   /* a model folder may ship its scorer (models/default/scorer) */
    snprintf(model_scorer, sizeof model_scorer, "%s/scorer/config.json", model_dir);
    if (best_of && !scorer_dir && !scorer_zh && access(model_scorer, R_OK) == 0) {
        snprintf(model_scorer, sizeof model_scorer, "%s/scorer", model_dir);
        scorer_dir = model_scorer;
    }
    if (best_of && !scorer_dir && !scorer_zh)
        die_usage("%s", "--best-of needs a scorer (--scorer DIR or --scorer-zh DIR; the model has no scorer/ folder)");
    if (keep > (best_of ? best_of : 1)) die_usage("%s", "--keep must not exceed --best-of");
    if (up.on && upscale_is_x4(up.path) && up.p.scale != 0 && up.p.scale != 4)
        die_usage("--upscale: an x4 upscaler folder scales by 4 (DIR:4), got '%s'", up.path);
    if (up.hires && (best_of || ed.init_path)) die_usage("%s", "--hires works with plain txt2img only for now");
    float *noise = NULL;
    if (t2i_engine_create(&eo, &eng) != T2I_OK || t2i_model_load_ex(eng, model_dir, &mo, &m) != T2I_OK) {
        fprintf(stderr, "t2i: %s\n", t2i_last_error());
        goto out;
    }
    if (init_path) {
        int c, h, w;
        t2i_model_latent_shape(m, p.width, p.height, &c, &h, &w);
        noise = read_noise(init_path, (size_t)p.batch_size * (size_t)c * (size_t)h * (size_t)w);
        p.init_noise = noise;
    }
    clock_t t0 = clock();
    struct timespec w0, w1;
    clock_gettime(CLOCK_MONOTONIC, &w0);
    t2i_status st;
    if (ed.init_path) {   /* editing: the same request plus the image options */
        t2i_image init = {0}, mask = {0};
        ed.p.base = p;
        ed.p.init_image = &init;
        ed.p.mask = ed.mask_path ? &mask : NULL;
        st = t2i_image_read(ed.init_path, &init);
        if (st == T2I_OK && ed.mask_path) st = t2i_image_read(ed.mask_path, &mask);
        if (st == T2I_OK && best_of) st = best_of_run(eng, m, &scorer, scorer_dir, scorer_zh, aesthetic, &p, &ed.p,
                                                        best_of, keep, quiet, &imgs, &n);
        else if (st == T2I_OK) st = t2i_img2img(m, &ed.p, &imgs, &n);
        t2i_image_clear(&init);
        t2i_image_clear(&mask);
    } else {
        if (ed.mask_path || ed.p.outpaint[0] || ed.p.outpaint[1] || ed.p.outpaint[2] || ed.p.outpaint[3])
            die_usage("%s", "--mask and --outpaint need an init image (-i FILE)");
        if (best_of) {
            st = best_of_run(eng, m, &scorer, scorer_dir, scorer_zh, aesthetic, &p, NULL, best_of, keep, quiet, &imgs,
                             &n);
        } else {
            st = up.hires ? hires_upscaler(eng, &up, model_is_default, T2I_SOURCE_DIR, &hires_up) : T2I_OK;
            up.h.upscaler = hires_up;
            if (st == T2I_OK) st = up.hires ? t2i_txt2img_hires(m, &p, &up.h, &imgs, &n) : t2i_txt2img(m, &p, &imgs, &n);
        }
    }
    if (st == T2I_OK && up.on && upscale_is_x4(up.path)) {   /* a Stable Diffusion x4 upscaler folder */
        st = upscale_with_x4(eng, up.path, &p, upscale_noise, imgs, n);
    } else if (st == T2I_OK && up.on) {
        st = upscale_load(eng, &up, T2I_SOURCE_DIR, &upscaler);
        if (st == T2I_OK) st = upscale_images(upscaler, &up, imgs, n);
    }
    if (st != T2I_OK) {
        fprintf(stderr, "t2i: %s\n", t2i_last_error());
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &w1);
    rc = 0;
    for (int i = 0; i < n; i++) {
        char name[4096];
        output_name(name, sizeof name, output, i, n);
        if (t2i_image_write_png(&imgs[i], name) != T2I_OK) {
            fprintf(stderr, "t2i: %s\n", t2i_last_error());
            rc = 1;
            continue;
        }
        if (!quiet) printf("%s  seed %llu\n", name, (unsigned long long)imgs[i].seed);
    }
    if (!quiet)
        fprintf(stderr, "%d image(s) in %.2f s (%.2f s CPU)\n", n,
                (double)(w1.tv_sec - w0.tv_sec) + 1e-9 * (double)(w1.tv_nsec - w0.tv_nsec),
                (double)(clock() - t0) / CLOCKS_PER_SEC);
out:
    t2i_upscaler_free(upscaler);
    t2i_upscaler_free(hires_up);
    t2i_images_free(imgs, n);
    t2i_scorer_destroy(scorer);
    t2i_styles_destroy(catalog);
    free(noise);
    t2i_model_destroy(m);
    t2i_engine_destroy(eng);
    return rc;
}
