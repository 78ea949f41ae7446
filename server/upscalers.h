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

#endif
