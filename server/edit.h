/*
 * edit.h — the editing part of a request (img2img, inpainting, OpenAI edits
 * and variations): the decoded init image and mask and the A1111 options,
 * carried by gen_params.edit until the worker hands them to t2i_img2img.
 *
 * Uploaded images are hostile: each is base64 (a data: URL prefix accepted)
 * or raw multipart bytes, its declared size is read from the PNG / JPEG
 * header first (image_probe.h) — above 16384 per side or 2^28 pixels is a
 * 400 naming the field before anything is allocated — then the decode asks
 * the decode budget (uploads.h: 413 / 429 naming the field) for its RGBA
 * bytes, and only then t2i_image_decode_memory runs. A queued edit keeps
 * its decoded images (at most --queue jobs, each within --max-decode-bytes).
 */
#ifndef T2I_SERVER_EDIT_H
#define T2I_SERVER_EDIT_H

#include <cjson/cJSON.h>
#include "server/params.h"
#include "t2i.h"

/* gen_edit (the decoded images and options) and gen_edit_free: job.h. */

/* Decode one uploaded image (PNG or JPEG bytes) for `field` into *out
 * (RGBA8; free with t2i_image_clear). Returns 0, or -1 with *e: 400 not an
 * image / declared too large / truncated or corrupt, 413 or 429 from the
 * decode budget, 503 out of memory. */
int edit_decode_bytes(const char *field, const unsigned char *buf, size_t n, t2i_image *out, api_error *e);
/* The same from base64 text (optionally a data: URL). */
int edit_decode_b64(const char *field, const char *b64, t2i_image *out, api_error *e);

/* The A1111 img2img fields of o — init_images (exactly one), mask,
 * denoising_strength, resize_mode, mask_blur, inpainting_fill,
 * inpaint_full_res, inpaint_full_res_padding, inpainting_mask_invert,
 * image_cfg_scale — into a new p->edit (p already holds the txt2img
 * fields). width/height 0 take the init image's size rounded down to the
 * model's size multiple, which must then be within --max-side. Returns 0,
 * or -1 with *e (p->edit freed). */
int edit_from_a1111(const cJSON *o, gen_params *p, api_error *e);

/* A copy of the request for the records with each image replaced by a
 * short description ("<image 512x512>"); malloc'ed JSON text or NULL. */
char *edit_request_summary(const cJSON *o, const gen_edit *ed);

/* A new edit with A1111's defaults (strength 0.75, mask blur 4, fill
 * "original", padding 32, image CFG 1.5); NULL out of memory. */
gen_edit *gen_edit_new(void);

/* With width/height 0, the size the engine will draw an edit at: the init
 * image's, rounded down to the model's size multiple; checks it against
 * --max-side and the cost cap. Returns 0 or -1 with *e naming field. */
int edit_check_size(gen_params *p, const char *field, api_error *e);

#endif
