/*
 * job.c — a job's names and its memory (see job.h).
 */
#include "server/job.h"
#include <stdlib.h>
#include <string.h>

const char *job_state_name(job_state s)
{
    static const char *names[] = {"queued", "running", "done", "failed", "cancelled"};
    return (unsigned)s < 5 ? names[s] : "?";
}

void gen_edit_free(gen_edit *ed)
{
    if (!ed) return;
    t2i_image_clear(&ed->init);
    t2i_image_clear(&ed->mask);
    free(ed);
}

void gen_extras_free(gen_extras *x)
{
    if (!x) return;
    for (int i = 0; i < x->n; i++) t2i_image_clear(&x->images[i]);
    free(x->images);
    free(x);
}

void gen_params_free(gen_params *p)
{
    if (!p) return;
    free(p->prompt), free(p->negative_prompt);
    for (int i = 0; i < p->n_styles; i++) free(p->styles[i]);
    free(p->styles);
    gen_edit_free(p->edit);
    free(p->hr_prompt), free(p->hr_negative);
    gen_extras_free(p->extras);
    memset(p, 0, sizeof *p);
}

void job_free(job *j)
{
    gen_params_free(&j->p);
    for (int i = 0; i < j->n_images; i++)
        free(j->images[i].png_b64), free(j->images[i].infotext), free(j->images[i].prompt);
    free(j->images), free(j->error), free(j->warning), free(j->request_json);
    t2i_free(j->final_prompt), t2i_free(j->final_negative);
    free(j);
}
