/*
 * routes.h — the route handlers, one family per file, and the route table
 * that http.c dispatches on (defined in routes_ops.c, next to the handlers
 * that do not belong to an API family).
 */
#ifndef T2I_SERVER_ROUTES_H
#define T2I_SERVER_ROUTES_H

#include "server/http.h"
#include "server/params.h"
#include "server/queue.h"

extern const srv_route srv_routes[];
extern const int srv_n_routes;

/* routes_ops.c */
enum MHD_Result route_health(srv_request *rq);
enum MHD_Result route_metrics(srv_request *rq);
enum MHD_Result route_index(srv_request *rq);
enum MHD_Result route_static(srv_request *rq);

/* routes_sdapi.c */
enum MHD_Result route_sd_txt2img(srv_request *rq);
enum MHD_Result route_sd_img2img(srv_request *rq);
enum MHD_Result route_sd_progress(srv_request *rq);
enum MHD_Result route_sd_interrupt(srv_request *rq);
enum MHD_Result route_sd_skip(srv_request *rq);
enum MHD_Result route_sd_samplers(srv_request *rq);
enum MHD_Result route_sd_schedulers(srv_request *rq);
enum MHD_Result route_sd_models(srv_request *rq);
enum MHD_Result route_sd_styles(srv_request *rq);
enum MHD_Result route_sd_options_get(srv_request *rq);
enum MHD_Result route_sd_options_post(srv_request *rq);
enum MHD_Result route_sd_png_info(srv_request *rq);

/* routes_sdapi_lists.c */
enum MHD_Result route_sd_empty_list(srv_request *rq);
enum MHD_Result route_sd_loras(srv_request *rq);
enum MHD_Result route_sd_upscalers(srv_request *rq);
enum MHD_Result route_sd_extra_single(srv_request *rq);   /* routes_extras.c */
enum MHD_Result route_sd_extra_batch(srv_request *rq);
enum MHD_Result route_sd_embeddings(srv_request *rq);
enum MHD_Result route_sd_scripts(srv_request *rq);
enum MHD_Result route_sd_cmd_flags(srv_request *rq);
enum MHD_Result route_sd_refresh(srv_request *rq);
enum MHD_Result route_sd_memory(srv_request *rq);

/* routes_openai.c */
enum MHD_Result route_oa_generations(srv_request *rq);
enum MHD_Result route_oa_edits(srv_request *rq);
enum MHD_Result route_oa_variations(srv_request *rq);
enum MHD_Result route_oa_image_file(srv_request *rq);
enum MHD_Result route_oa_models(srv_request *rq);
enum MHD_Result route_oa_model(srv_request *rq);

/* routes_jobs.c */
enum MHD_Result route_jobs_create(srv_request *rq);
enum MHD_Result route_jobs_get(srv_request *rq);
enum MHD_Result route_jobs_cancel(srv_request *rq);
enum MHD_Result route_jobs_events(srv_request *rq);
enum MHD_Result route_feedback(srv_request *rq);
enum MHD_Result route_feedback_stats(srv_request *rq);

/* Reply with a validation error, its OpenAI code included (http.c). */
enum MHD_Result reply_api_error(srv_request *rq, const api_error *e);

/* Shared by the generation routes (routes_jobs.c). */

/* Parse the body as a JSON object or reply 400; NULL after replying. */
cJSON *route_body_json(srv_request *rq, enum MHD_Result *ret);
/* Submit validated parameters (the queue decides admission now); replies
 * 429 when the queue is full, 503 when out of memory, and returns NULL. */
job *route_submit(srv_request *rq, gen_params *p, const char *api, enum MHD_Result *ret);
/* The same with the request as the records keep it (edits: images
 * replaced by their sizes, edit.h). */
job *route_submit_as(srv_request *rq, gen_params *p, const char *api, const char *request_json, enum MHD_Result *ret);
/* Block until the job finishes (lock taken inside). A client that closes
 * its connection meanwhile cancels the job (within one step). */
void route_wait_job(srv_request *rq, job *j);
/* A job as the native API shows it; images (base64) only when with_images. */
cJSON *route_job_json(job *j, int with_images);

#endif /* T2I_SERVER_ROUTES_H */
