/*
 * hires.h — the hires fix fields of A1111 txt2img (enable_hr, hr_*).
 */
#ifndef T2I_SERVER_HIRES_H
#define T2I_SERVER_HIRES_H

#include <cjson/cJSON.h>
#include "server/params.h"

/* The hires fix of an A1111 txt2img request whose enable_hr is true
 * (p->hr; p holds the request's other fields: its size, 0 = the loaded
 * model's native side, steps and images for the cost cap):
 * hr_scale (1..8, default 2), hr_resize_x/y (a target instead; one of them
 * 0: kept in proportion), hr_upscaler (a name above; "None" and "Lanczos"
 * resize only; latent modes are refused; default: the first --upscaler,
 * else Lanczos), hr_second_pass_steps (0 = steps), denoising_strength (0..1,
 * default 0.7), hr_prompt, hr_negative_prompt ("" = the first pass's). A
 * target beyond --max-side is refused naming the field that set it.
 * Returns 0, or -1 with *e filled. */
int hires_from_a1111(const cJSON *o, gen_params *p, api_error *e);

#endif
