/*
 * parallel.c — data parallelism: one batch split across models that live on
 * different engines (one per device, each with its own weights and memory),
 * run concurrently, the images returned in order.
 *
 *   rank r draws images [start_r, start_r + n_r) of the batch: seeds
 *   seed + start_r …, batch n_r — the images a single device would draw,
 *   since image i always uses seed + i with its own generator
 *
 * The ranks exchange nothing while drawing, so no communicator is needed;
 * a rank that fails makes the whole call fail with its message (the others
 * finish their share first).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "base/error.h"
#include "t2i.h"

typedef struct share {
    t2i_model *m;
    t2i_txt2img_params p;
    t2i_image *imgs;
    int n;
    t2i_status st;
    char err[512];
} share;

static void *draw(void *arg)
{
    share *s = arg;
    s->st = t2i_txt2img(s->m, &s->p, &s->imgs, &s->n);
    if (s->st != T2I_OK) snprintf(s->err, sizeof s->err, "%s", t2i_last_error());
    return NULL;
}

t2i_status t2i_txt2img_parallel(t2i_model *const *models, int n_models, const t2i_txt2img_params *p,
                                t2i_image **images, int *count)
{
    *images = NULL;
    *count = 0;
    if (!models || !p || n_models < 1 || n_models > 64)
        return t2i_fail(T2I_ERR_INVALID_ARG, "parallel: 1..64 models and parameters are required");
    for (int i = 0; i < n_models; i++)
        for (int j = 0; j < i; j++)
            if (!models[i] || models[i] == models[j])
                return t2i_fail(T2I_ERR_INVALID_ARG, "parallel: model %d is missing or given twice", i);
    const int B = p->batch_size, ranks = B < n_models ? B : n_models;
    if (B < 1) return t2i_fail(T2I_ERR_INVALID_ARG, "parallel: batch size %d < 1", B);
    share *sh = calloc((size_t)ranks, sizeof *sh);
    pthread_t *th = calloc((size_t)ranks, sizeof *th);
    t2i_image *out = calloc((size_t)B, sizeof *out);
    if (!sh || !th || !out) {
        free(sh), free(th), free(out);
        return t2i_fail(T2I_ERR_NOMEM, "parallel: out of memory");
    }
    int start = 0, started = 0;
    for (int r = 0; r < ranks; r++) {
        const int n = B / ranks + (r < B % ranks);
        sh[r].m = models[r];
        sh[r].p = *p;
        sh[r].p.seed = p->seed + (uint64_t)start;
        sh[r].p.batch_size = n;
        sh[r].p.progress = r == 0 ? p->progress : NULL;   /* one rank reports */
        if (p->init_noise) {
            int c, h, w;
            t2i_model_latent_shape(models[0], p->width, p->height, &c, &h, &w);
            sh[r].p.init_noise = p->init_noise + (size_t)start * c * h * w;
        }
        sh[r].p.stages_path = NULL;
        start += n;
        if (pthread_create(&th[r], NULL, draw, &sh[r]) != 0) {
            sh[r].st = t2i_fail(T2I_ERR_NOMEM, "parallel: cannot start a thread");
            snprintf(sh[r].err, sizeof sh[r].err, "%s", t2i_last_error());
            break;
        }
        started++;
    }
    for (int r = 0; r < started; r++) pthread_join(th[r], NULL);
    t2i_status st = T2I_OK;
    int k = 0;
    for (int r = 0; r < ranks; r++) {
        if (st == T2I_OK && (r >= started || sh[r].st != T2I_OK)) {
            st = r >= started ? T2I_ERR_NOMEM : sh[r].st;
            t2i_fail(st, "parallel: rank %d: %s", r, sh[r].err);
        }
        for (int i = 0; i < sh[r].n; i++) out[k++] = sh[r].imgs[i];
        free(sh[r].imgs);
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
