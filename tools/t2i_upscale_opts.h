/*
 * t2i_upscale_opts.h — the CLI's upscaler options (tools/t2i.c):
 *
 *   t2i ... --upscale [FILE_OR_DIR][:SCALE] [--upscale-tile N] [--upscale-tile-pad N]
 *       upscale every generated image after txt2img / img2img;
 *   t2i upscale IN.png -o OUT.png [--upscale FILE_OR_DIR[:SCALE]] [--upscale-tile N] ...
 *       upscale an existing PNG or JPEG.
 *
 * FILE_OR_DIR is an RRDBNet .safetensors (ESRGAN / Real-ESRGAN, converted
 * with scripts/convert/esrgan_pth_to_safetensors.py) or a folder holding
 * model.safetensors; empty: the embedded upscaler (models/default/upscaler).
 * SCALE defaults to the model's factor. Bad values exit with status 2.
 */
#ifndef T2I_UPSCALE_OPTS_H
#define T2I_UPSCALE_OPTS_H

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "t2i.h"

enum { OPT_U_UPSCALE = 768, OPT_U_TILE, OPT_U_TILE_PAD, OPT_U_HIRES, OPT_U_HIRES_STEPS, OPT_U_HIRES_STRENGTH,
       OPT_U_HIRES_UPSCALER };

#define T2I_UPSCALE_LONG_OPTIONS                                                                                 \
    {"upscale", required_argument, 0, OPT_U_UPSCALE}, {"upscale-tile", required_argument, 0, OPT_U_TILE},        \
    {"upscale-tile-pad", required_argument, 0, OPT_U_TILE_PAD}, {"hires", required_argument, 0, OPT_U_HIRES},   \
    {"hires-steps", required_argument, 0, OPT_U_HIRES_STEPS},                                                    \
    {"hires-strength", required_argument, 0, OPT_U_HIRES_STRENGTH},                                              \
    {"hires-upscaler", required_argument, 0, OPT_U_HIRES_UPSCALER}

#define T2I_UPSCALE_USAGE                                                                                        \
    "\nUpscaling (docs/upscaling.md):\n"                                                                         \
    "      --upscale [MODEL][:SCALE]  upscale the results with an RRDBNet (ESRGAN / Real-ESRGAN\n"              \
    "                           .safetensors, or a folder with model.safetensors; without MODEL:\n"            \
    "                           models/default/upscaler, not shipped yet); SCALE 1..its factor\n"              \
    "      --upscale-tile N     upscale in N×N tiles (default 192; 0: whole image)\n"                        \
    "      --upscale-tile-pad N context around each tile (default 16)\n"                                    \
    "      --hires SCALE        hires fix (A1111): draw at the base size, upscale by SCALE,\n"               \
    "                           then img2img at that size\n"                                                 \
    "      --hires-steps N      second pass steps (default: --steps)\n"                                      \
    "      --hires-strength X   second pass denoising strength (default 0.7)\n"                              \
    "      --hires-upscaler M   MODEL (as --upscale) or lanczos (default: lanczos)\n"

typedef struct upscale_opts {
    int on;
    char path[1024];          /* empty: the embedded upscaler */
    t2i_upscale_params p;
    int hires;                /* --hires given */
    t2i_hires_params h;
    const char *hires_upscaler;   /* NULL: by model; "lanczos"; else a path */
} upscale_opts;

static void upscale_opts_init(upscale_opts *u)
{
    memset(u, 0, sizeof *u);
    t2i_upscale_params_init(&u->p);
    u->p.tile = 192;
    u->p.tile_pad = 16;
    t2i_hires_params_init(&u->h);
}

static float upscale_float(const char *s, const char *opt, double lo, double hi)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "t2i: %s expects a number in %g..%g, got '%s'\n", opt, lo, hi, s);
        exit(2);
    }
    return (float)v;
}

static void upscale_die(const char *fmt, const char *arg)
{
    fprintf(stderr, "t2i: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see t2i --help)\n");
    exit(2);
}

static int upscale_int(const char *s, const char *opt, int lo, int hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "t2i: %s expects an integer in %d..%d, got '%s'\n", opt, lo, hi, s);
        exit(2);
    }
    return (int)v;
}

/* One of the options above: 1 if c was one (parsed into u), else 0. */
static int upscale_option(int c, const char *arg, upscale_opts *u)
{
    switch (c) {
    case OPT_U_UPSCALE: {   /* [PATH][:SCALE], SCALE = the part after the last ':' when it is a number */
        if (strlen(arg) >= sizeof u->path) upscale_die("--upscale: path too long: '%s'", arg);
        strcpy(u->path, arg);
        char *colon = strrchr(u->path, ':'), *end;
        if (colon) {
            errno = 0;
            double d = strtod(colon + 1, &end);
            if (end != colon + 1 && !*end && !errno) {
                if (!(d >= 1 && d <= 16)) upscale_die("--upscale: scale must be in 1..16, got '%s'", colon + 1);
                u->p.scale = (float)d;
                *colon = '\0';
            }
        }
        u->on = 1;
        return 1;
    }
    case OPT_U_TILE: u->p.tile = upscale_int(arg, "--upscale-tile", 0, 16384); return 1;
    case OPT_U_TILE_PAD: u->p.tile_pad = upscale_int(arg, "--upscale-tile-pad", 0, 1024); return 1;
    case OPT_U_HIRES: u->hires = 1; u->h.scale = upscale_float(arg, "--hires", 1, 8); return 1;
    case OPT_U_HIRES_STEPS: u->h.steps = upscale_int(arg, "--hires-steps", 1, 1000); return 1;
    case OPT_U_HIRES_STRENGTH: u->h.denoising_strength = upscale_float(arg, "--hires-strength", 0, 1); return 1;
    case OPT_U_HIRES_UPSCALER: u->hires_upscaler = arg; return 1;
    }
    return 0;
}

/* The upscaler the options name, or the embedded one. */
static t2i_status upscale_load(t2i_engine *e, const upscale_opts *u, const char *source_dir, t2i_upscaler **out)
{
    if (u->path[0]) return t2i_upscaler_load(e, u->path, out);
    char buf[1100];
    struct stat st;
    const char *cands[] = {"models/default/upscaler", NULL};
    snprintf(buf, sizeof buf, "%s/models/default/upscaler", source_dir);
    cands[1] = buf;
    for (int i = 0; i < 2; i++)
        if (stat(cands[i], &st) == 0 && S_ISDIR(st.st_mode)) return t2i_upscaler_load(e, cands[i], out);
    return t2i_upscaler_load(e, "models/default/upscaler", out);   /* fails naming it */
}

/* The hires-fix upscaler: --hires-upscaler PATH, none for "lanczos", else
 * the embedded one when the model is the embedded default model. */
static t2i_status hires_upscaler(t2i_engine *e, upscale_opts *u, int default_model, const char *source_dir,
                                 t2i_upscaler **out)
{
    *out = NULL;
    if (u->hires_upscaler && strcmp(u->hires_upscaler, "lanczos") == 0) return T2I_OK;
    (void)default_model;   /* the embedded upscaler is not shipped yet: Lanczos */
    if (!u->hires_upscaler) return T2I_OK;
    upscale_opts tmp;
    upscale_opts_init(&tmp);
    if (u->hires_upscaler) snprintf(tmp.path, sizeof tmp.path, "%s", u->hires_upscaler);
    return upscale_load(e, &tmp, source_dir, out);
}

/* Replace each of the n images by its upscaled copy. */
static t2i_status upscale_images(t2i_upscaler *up, const upscale_opts *u, t2i_image *imgs, int n)
{
    for (int i = 0; i < n; i++) {
        t2i_image big;
        t2i_status st = t2i_upscale_image(up, &imgs[i], &u->p, &big);
        if (st != T2I_OK) return st;
        t2i_image_clear(&imgs[i]);
        imgs[i] = big;
    }
    return T2I_OK;
}

/* t2i upscale IN -o OUT [--upscale ...] [--upscale-tile N] [--upscale-tile-pad N] [--threads N] */
static int upscale_main(int argc, char **argv, const char *source_dir)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"threads", required_argument, 0, 't'},
        {"help", no_argument, 0, 'h'}, T2I_UPSCALE_LONG_OPTIONS, {0, 0, 0, 0},
    };
    upscale_opts u;
    upscale_opts_init(&u);
    const char *output = NULL;
    t2i_engine_options eo;
    t2i_engine_options_init(&eo);
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
        if (upscale_option(c, optarg, &u)) continue;
        switch (c) {
        case 'o': output = optarg; break;
        case 't': eo.threads = upscale_int(optarg, "--threads", 0, 1024); break;
        case 'h':
            fputs("usage: t2i upscale IN -o OUT.png [--upscale [MODEL][:SCALE]] [--upscale-tile N]\n"
                  "                     [--upscale-tile-pad N] [--threads N]\n" T2I_UPSCALE_USAGE,
                  stdout);
            return 0;
        case ':': upscale_die("option %s needs a value", argv[optind - 1]); break;
        default: upscale_die("unknown option '%s'", argv[optind - 1]); break;
        }
    }
    if (argc - optind != 1) upscale_die("%s", "upscale takes one input image");
    if (!output) upscale_die("%s", "upscale needs an output file (-o OUT.png)");
    t2i_engine *e = NULL;
    t2i_upscaler *up = NULL;
    t2i_image in = {0}, out = {0};
    int rc = 1;
    t2i_status st = t2i_engine_create(&eo, &e);
    if (st == T2I_OK) st = upscale_load(e, &u, source_dir, &up);
    if (st == T2I_OK) st = t2i_image_read(argv[optind], &in);
    if (st == T2I_OK) st = t2i_upscale_image(up, &in, &u.p, &out);
    if (st == T2I_OK) st = t2i_image_write_png(&out, output);
    if (st == T2I_OK) rc = 0;
    else fprintf(stderr, "t2i: %s\n", t2i_last_error());
    if (st == T2I_ERR_INVALID_ARG) rc = 2;
    t2i_image_clear(&in);
    t2i_image_clear(&out);
    t2i_upscaler_free(up);
    t2i_engine_destroy(e);
    return rc;
}

#endif
