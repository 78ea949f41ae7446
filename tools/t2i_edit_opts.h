/*
 * t2i_edit_opts.h — the CLI's image-editing options (tools/t2i.c): parsing
 * into a t2i_img2img_params and loading the images. Bad values exit with
 * status 2 and a one-line message, as the CLI's other options.
 */
#ifndef T2I_EDIT_OPTS_H
#define T2I_EDIT_OPTS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "t2i.h"

enum {
    OPT_E_STRENGTH = 512, OPT_E_MASK, OPT_E_MASK_BLUR, OPT_E_FILL, OPT_E_ONLY_MASKED, OPT_E_INVERT, OPT_E_OUTPAINT,
    OPT_E_IMAGE_CFG, OPT_E_RESIZE
};

#define T2I_EDIT_LONG_OPTIONS                                                                                    \
    {"init-image", required_argument, 0, 'i'}, {"strength", required_argument, 0, OPT_E_STRENGTH},               \
    {"mask", required_argument, 0, OPT_E_MASK}, {"mask-blur", required_argument, 0, OPT_E_MASK_BLUR},            \
    {"inpaint-fill", required_argument, 0, OPT_E_FILL},                                                          \
    {"inpaint-only-masked", optional_argument, 0, OPT_E_ONLY_MASKED},                                            \
    {"invert-mask", no_argument, 0, OPT_E_INVERT}, {"outpaint", required_argument, 0, OPT_E_OUTPAINT},           \
    {"image-cfg", required_argument, 0, OPT_E_IMAGE_CFG}, {"resize-mode", required_argument, 0, OPT_E_RESIZE}

#define T2I_EDIT_USAGE                                                                                           \
    "\nImage editing (with -i; the model decides: img2img, inpainting, InstructPix2Pix):\n"                      \
    "  -i, --init-image FILE    PNG or JPEG to start from (size: -W/-H, else the image's)\n"                    \
    "      --strength X         denoising strength 0..1 (default 0.75)\n"                                        \
    "      --resize-mode MODE   just, crop or fill (A1111: just resize, crop and resize,\n"                      \
    "                           resize and fill; default just)\n"                                                \
    "      --mask FILE          inpaint where the mask is white (or opaque, with alpha)\n"                       \
    "      --mask-blur N        blur the mask edge by N pixels (default 4)\n"                                    \
    "      --inpaint-fill MODE  fill, original, latent-noise or latent-nothing (default original)\n"             \
    "      --inpaint-only-masked[=PAD]  work on the mask's box (+PAD px, default 32) at full size\n"             \
    "      --invert-mask        repaint what the mask leaves unmarked\n"                                         \
    "      --outpaint SIDES     grow the canvas, e.g. left=64,top=32 (also right=, bottom=)\n"                   \
    "      --image-cfg X        image guidance of InstructPix2Pix models (default 1.5)\n"

typedef struct edit_opts {
    const char *init_path, *mask_path;
    t2i_img2img_params p;
} edit_opts;

static void edit_die(const char *fmt, const char *arg)
{
    fprintf(stderr, "t2i: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see t2i --help)\n");
    exit(2);
}

static double edit_num(const char *s, const char *opt, double lo, double hi)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "t2i: %s expects a number in %g..%g, got '%s' (see t2i --help)\n", opt, lo, hi, s);
        exit(2);
    }
    return v;
}

/* "left=64,top=32" into p->outpaint. */
static void edit_outpaint(const char *s, int out[4])
{
    static const char *names[4] = {"left", "top", "right", "bottom"};
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        int k = -1;
        if (eq) {
            *eq = '\0';
            for (int i = 0; i < 4; i++)
                if (strcmp(tok, names[i]) == 0) k = i;
        }
        if (k < 0) edit_die("--outpaint expects SIDE=PIXELS,... with SIDE left, top, right or bottom, got '%s'", s);
        out[k] = (int)edit_num(eq + 1, "--outpaint", 0, 2048);
    }
}

/* Handle one editing option; 0 if c is not one. */
static int edit_option(int c, const char *arg, edit_opts *e)
{
    t2i_img2img_params *p = &e->p;
    switch (c) {
    case 'i': e->init_path = arg; return 1;
    case OPT_E_STRENGTH: p->strength = (float)edit_num(arg, "--strength", 0, 1); return 1;
    case OPT_E_MASK: e->mask_path = arg; return 1;
    case OPT_E_MASK_BLUR: p->mask_blur = (int)edit_num(arg, "--mask-blur", 0, 64); return 1;
    case OPT_E_FILL: {
        static const char *names[4] = {"fill", "original", "latent-noise", "latent-nothing"};
        for (int i = 0; i < 4; i++)
            if (strcmp(arg, names[i]) == 0) {
                p->inpainting_fill = (t2i_inpaint_fill)i;
                return 1;
            }
        edit_die("--inpaint-fill expects fill, original, latent-noise or latent-nothing, got '%s'", arg);
        return 1;
    }
    case OPT_E_ONLY_MASKED:
        p->inpaint_full_res = 1;
        if (arg) p->inpaint_full_res_padding = (int)edit_num(arg, "--inpaint-only-masked", 0, 1024);
        return 1;
    case OPT_E_INVERT: p->mask_invert = 1; return 1;
    case OPT_E_OUTPAINT: edit_outpaint(arg, p->outpaint); return 1;
    case OPT_E_IMAGE_CFG: p->image_guidance_scale = (float)edit_num(arg, "--image-cfg", 0, 100); return 1;
    case OPT_E_RESIZE:
        if (strcmp(arg, "just") == 0) p->resize_mode = T2I_RESIZE_JUST;
        else if (strcmp(arg, "crop") == 0) p->resize_mode = T2I_RESIZE_CROP;
        else if (strcmp(arg, "fill") == 0) p->resize_mode = T2I_RESIZE_FILL;
        else edit_die("--resize-mode expects just, crop or fill, got '%s'", arg);
        return 1;
    default: return 0;
    }
}

#endif /* T2I_EDIT_OPTS_H */
