/*
 * upscalers.h — the pixel upscalers the server offers (--upscaler, repeatable,
 * plus the start model's upscaler/ subfolder when it has one). Each device
 * worker loads every one on its own engine (queue.c); this table holds the
 * names clients use (/sdapi/v1/upscalers, hr_upscaler, upscaler_1) and the
 * factor each model has, known once a worker has loaded it.
 *
 * Names: the folder's name for a folder, the file name without
 * ".safetensors" for a file. "None" and "Lanczos" are built in (index
 * UPSCALER_NONE, UPSCALER_LANCZOS); A1111's latent modes ("Latent",
 * "Latent (nearest-exact)", …) are recognised only to be refused.
 */
#ifndef T2I_SERVER_UPSCALERS_H
#define T2I_SERVER_UPSCALERS_H

#include "server/params.h"

#define SRV_MAX_UPSCALERS 16
#define UPSCALER_NONE (-2)
#define UPSCALER_LANCZOS (-1)

typedef struct srv_upscaler {
    char name[128];
    char path[1024];
    int scale;                   /* 2 or 4 once loaded, 0 before */
} srv_upscaler;

extern srv_upscaler g_upscalers[SRV_MAX_UPSCALERS];
extern int g_n_upscalers;

/* Add a file or folder (start-up only). Returns 0, or -1 with a message on
 * stderr (too many, a duplicate name, not found). */
int upscalers_add(const char *path);

/* A name → an index into g_upscalers, UPSCALER_NONE or UPSCALER_LANCZOS;
 * -3 for a latent mode, -4 for an unknown name. */
int upscalers_find(const char *name);
#define UPSCALER_LATENT (-3)
#define UPSCALER_UNKNOWN (-4)

/* The hires fix of an A1111 txt2img request with enable_hr (w, h: its size,
 * 0 = the loaded model's native side; steps and images for the cost cap):
 * hr_scale (1..8, default 2), hr_resize_x/y (a target instead; one of them
 * 0: kept in proportion), hr_upscaler (a name above; "None" and "Lanczos"
 * resize only; latent modes are refused; default: the first --upscaler,
 * else Lanczos), hr_second_pass_steps (0 = steps), denoising_strength (0..1,
 * default 0.7), hr_prompt, hr_negative_prompt ("" = the first pass's). A
 * target beyond --max-side is refused naming the field that set it.
 * Returns 0, or -1 with *e filled. */
int hires_from_a1111(const cJSON *o, gen_params *p, long long w, long long h, long long steps, long long images,
                     api_error *e);

#endif
