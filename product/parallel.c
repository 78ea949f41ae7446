/*
 * parallel.c — one txt2img request over several models that live on
 * different engines (one per device, each with its own weights and memory),
 * run concurrently, the images returned in order.
 *
 *   data  rank r draws images [start_r, start_r + n_r) of the batch: seeds
 *         seed + start_r …, batch n_r — the images a single device would
 *         draw, since image i always uses seed + i with its own generator.
 *         The ranks exchange nothing.
 *   cfg   ranks in pairs (2j, 2j + 1), each pair a CPU communicator of two
 *         ranks; pair j takes a share of the batch as a data rank would,
 *         and inside the pair rank 2j evaluates the negative prompt's half
 *         of the UNet batch and rank 2j + 1 the prompt's, exchanging the
 *         noise predictions after each evaluation (runtime/pipeline.h:
 *         t2i_pipeline_run_ranked). Both ranks of a pair hold the same
 *         latents and draw the same images; the first rank's are returned.
 *
 * A rank that fails aborts its pair's communicator, so its partner fails at
 * its next exchange rather than after the timeout; a rank that stops
 * answering makes its partner fail after the timeout. Every rank's thread is
 * joined before the call returns, with the first failing rank's message.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "base/error.h"
#include "kernels/comm.h"
#include "product/txt2img.h"
#include "runtime/model.h"
#include "t2i.h"

typedef struct share {
    int rank;
    t2i_model *m;
    t2i_txt2img_params p;
    const t2i_txt2img_params *user_p;
    const t2i_parallel_options *o;
    t2i_pipeline_ranks ranks;
    int ranked;                /* takes part in a CFG pair */
    t2i_image *imgs;
    int n;
    t2i_status st;
    char err[512];
    double t0, seconds;
} share;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int rank_progress(void *user, int step, int steps)
{
    share *s = user;
    if (s->rank == 0 && s->user_p->progress && s->user_p->progress(s->user_p->progress_user, step, steps)) return 1;
    return s->o->rank_progress ? s->o->rank_progress(s->o->rank_progress_user, s->rank, step, steps) : 0;
}

static void *draw(void *arg)
{
    share *s = arg;
    s->st = t2i_txt2img_ranked(s->m, &s->p, s->ranked ? &s->ranks : NULL, &s->imgs, &s->n);
    if (s->st != T2I_OK) snprintf(s->err, sizeof s->err, "%s", t2i_last_error());
    s->seconds = now_s() - s->t0;
    return NULL;
}

void t2i_parallel_options_init(t2i_parallel_options *o)
{
    memset(o, 0, sizeof *o);
    o->mode = T2I_PARALLEL_DATA;
    o->timeout_ms = 60000;
    o->failed_rank = -1;
}

static t2i_status check_args(t2i_model *const *models, int n_models, const t2i_txt2img_params *p,
                             const t2i_parallel_options *o)
{
    if (!models || !p || n_models < 1 || n_models > 64)
        return t2i_fail(T2I_ERR_INVALID_ARG, "parallel: 1..64 models and parameters are required");
    for (int i = 0; i < n_models; i++)
        for (int j = 0; j < i; j++)
            if (!models[i] || models[i] == models[j])
                return t2i_fail(T2I_ERR_INVALID_ARG, "parallel: model %d is missing or given twice", i);
    if (!models[0]) return t2i_fail(T2I_ERR_INVALID_ARG, "parallel: model 0 is missing");
    if (p->batch_size < 1) return t2i_fail(T2I_ERR_INVALID_ARG, "parallel: batch size %d < 1", p->batch_size);
    if ((unsigned)o->mode > T2I_PARALLEL_PATCH)
        return t2i_fail(T2I_ERR_INVALID_ARG, "parallel: unknown mode %d", (int)o->mode);
    if (o->mode == T2I_PARALLEL_PATCH)
        return t2i_fail(T2I_ERR_UNSUPPORTED, "parallel: patch parallelism is not implemented yet");
    if (o->mode == T2I_PARALLEL_CFG && n_models % 2)
        return t2i_fail(T2I_ERR_INVALID_ARG, "parallel: CFG parallelism takes ranks in pairs, not %d", n_models);
    if (o->timeout_ms < 1) return t2i_fail(T2I_ERR_INVALID_ARG, "parallel: timeout %d ms < 1", o->timeout_ms);
    return T2I_OK;
}

t2i_status t2i_txt2img_parallel_ex(t2i_model *const *models, int n_models, const t2i_txt2img_params *p,
                                   t2i_parallel_options *o_in, t2i_image **images, int *count)
{
    *images = NULL;
    *count = 0;
    t2i_parallel_options o_def;
    t2i_parallel_options_init(&o_def);
    t2i_parallel_options *o = o_in ? o_in : &o_def;
    o->failed_rank = -1;
    o->bytes_per_eval = 0;
    T2I_TRY(check_args(models, n_models, p, o));
    const int B = p->batch_size, per_unit = o->mode == T2I_PARALLEL_CFG ? 2 : 1;
    const int units = B < n_models / per_unit ? B : n_models / per_unit, ranks = units * per_unit;
    share *sh = calloc((size_t)ranks, sizeof *sh);
    pthread_t *th = calloc((size_t)ranks, sizeof *th);
    t2i_image *out = calloc((size_t)B, sizeof *out);
    if (!sh || !th || !out) {
        free(sh), free(th), free(out);
        return t2i_fail(T2I_ERR_NOMEM, "parallel: out of memory");
    }
    t2i_status st = T2I_OK;
    const double t0 = now_s();
    int start = 0;
    for (int u = 0; u < units; u++) {
        const int n = B / units + (u < B % units);
        t2i_cpu_comm_group *g = NULL;
        if (per_unit == 2 && (st = t2i_cpu_comm_group_create(2, o->timeout_ms, &g)) != T2I_OK) break;
        for (int k = 0; k < per_unit; k++) {
            share *s = &sh[u * per_unit + k];
            s->rank = u * per_unit + k;
            s->m = models[s->rank];
            s->user_p = p;
            s->o = o;
            s->t0 = t0;
            s->p = *p;
            s->p.seed = p->seed + (uint64_t)start;
            s->p.batch_size = n;
            s->p.progress = (s->rank == 0 && p->progress) || o->rank_progress ? rank_progress : NULL;
            s->p.progress_user = s;
            if (p->init_noise) {
                int c, h, w;
                t2i_model_latent_shape(models[0], p->width, p->height, &c, &h, &w);
                s->p.init_noise = p->init_noise + (size_t)start * c * h * w;
            }
            s->p.stages_path = NULL;
            if (g) {
                s->ranked = 1;
                s->ranks.comm = t2i_cpu_comm_rank(g, k);
                if (!s->ranks.comm) st = t2i_fail(T2I_ERR_NOMEM, "parallel: out of memory for a communicator");
            }
        }
        t2i_cpu_comm_group_release(g);   /* the ranks' communicators keep it */
        start += n;
        if (st != T2I_OK) break;
    }
    int started = 0;
    for (; st == T2I_OK && started < ranks; started++)
        if (pthread_create(&th[started], NULL, draw, &sh[started]) != 0) {
            st = t2i_fail(T2I_ERR_NOMEM, "parallel: cannot start a thread for rank %d", started);
            /* the started partner of this rank must not wait for it */
            if (sh[started].ranked && sh[started].ranks.comm) t2i_comm_abort(sh[started].ranks.comm, t2i_last_error());
            break;
        }
    for (int r = 0; r < started; r++) pthread_join(th[r], NULL);
    for (int r = 0; r < started; r++)
        if (st == T2I_OK && sh[r].st != T2I_OK) {
            st = t2i_fail(sh[r].st, "parallel: rank %d: %s", r, sh[r].err);
            o->failed_rank = r;
        }
    /* A partner that only saw the other's abort reports T2I_ERR_PEER; the
     * rank that failed first is the one to name. */
    if (st == T2I_ERR_PEER)
        for (int r = 0; r < started; r++)
            if (sh[r].st != T2I_OK && sh[r].st != T2I_ERR_PEER) {
                st = t2i_fail(sh[r].st, "parallel: rank %d: %s", r, sh[r].err);
                o->failed_rank = r;
                break;
            }
    int k = 0;
    for (int r = 0; r < ranks; r++) {
        if (o->rank_seconds && r < n_models) o->rank_seconds[r] = sh[r].seconds;
        if (sh[r].ranked) o->bytes_per_eval += (double)sh[r].ranks.bytes_per_eval;
        for (int i = 0; i < sh[r].n; i++) {
            if (r % per_unit == 0) out[k++] = sh[r].imgs[i];
            else t2i_image_clear(&sh[r].imgs[i]);   /* the partner's copy of the same images */
        }
        free(sh[r].imgs);
        t2i_comm_destroy(sh[r].ranks.comm);
    }
    free(sh);
    free(th);
    if (st != T2I_OK) {
        t2i_images_free(out, k);
        return st;
    }
    *images = out;
    *count = k;
    return T2I_OK;
}

t2i_status t2i_txt2img_parallel(t2i_model *const *models, int n_models, const t2i_txt2img_params *p,
                                t2i_image **images, int *count)
{
    return t2i_txt2img_parallel_ex(models, n_models, p, NULL, images, count);
}
