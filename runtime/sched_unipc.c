/* sched_unipc.c — UniPC as diffusers 0.42's UniPCMultistepScheduler computes
 * it with predict_x0 (the default), solver_order 1 or 2, bh1 or bh2, no
 * disabled corrector: each step first corrects the sample the previous step
 * predicted, using this step's model output (UniC), then predicts the next
 * sample (UniP). Timesteps and sigmas are DPM-Solver's (scheduler.c). Float32
 * expressions mirror diffusers' torch ops, 0-d tensors included. */
#include <math.h>
#include "runtime/sched_internal.h"

/* _sigma_to_alpha_sigma_t and lambda = log(alpha) - log(sigma_t) */
static void coeffs(float sigma, float *alpha, float *sigma_t, float *lambda)
{
    *alpha = 1.0f / sqrtf(sigma * sigma + 1.0f);
    *sigma_t = sigma * *alpha;
    *lambda = logf(*alpha) - logf(*sigma_t);
}

/* One update's scalars: x_t = a * x - b * m0 - c * (...), with h from
 * sigmas[from] to sigmas[to]; rk from sigmas[prev] when order is 2 (prev =
 * the step before `from`). rho[]: the corrector's solution of R rho = b
 * (order 2), 0.5 at order 1 (and for the predictor at order 2). */
typedef struct update { float a, b, c, rk, rho[2]; } update;

static update make_update(const t2i_sched *s, int from, int to, int prev, int order, int corrector)
{
    float a_t, s_t, l_t, a_s0, s_s0, l_s0;
    coeffs(s->sigmas[to], &a_t, &s_t, &l_t);
    coeffs(s->sigmas[from], &a_s0, &s_s0, &l_s0);
    const float h = l_t - l_s0;
    update u = {0};
    u.rk = 1.0f;
    if (order == 2) {
        float a_si, s_si, l_si;
        coeffs(s->sigmas[prev], &a_si, &s_si, &l_si);
        u.rk = (l_si - l_s0) / h;
    }
    const float hh = -h;
    const float h_phi_1 = expm1f(hh);
    const float B_h = s->c.solver_type == T2I_SOLVER_BH1 ? hh : expm1f(hh);
    u.a = s_t / s_s0;
    u.b = a_t * h_phi_1;
    u.c = a_t * B_h;
    u.rho[0] = u.rho[1] = 0.5f;
    if (corrector && order == 2) {
        /* b_i = h_phi_k * i! / B_h, h_phi_k recurrence; R = [[1, 1], [rk, 1]] */
        float h_phi_k = h_phi_1 / hh - 1.0f, bv[2];
        int factorial = 1;
        for (int i = 1; i <= 2; i++) {
            bv[i - 1] = h_phi_k * (float)factorial / B_h;
            factorial *= i + 1;
            h_phi_k = h_phi_k / hh - 1.0f / (float)factorial;
        }
        /* torch.linalg.solve: LU with partial pivoting (LAPACK getrf/getrs) */
        float A[2][2] = {{1.0f, 1.0f}, {u.rk, 1.0f}}, y[2] = {bv[0], bv[1]};
        if (fabsf(A[1][0]) > fabsf(A[0][0])) {
            float t0 = A[0][0], t1 = A[0][1], ty = y[0];
            A[0][0] = A[1][0], A[0][1] = A[1][1], y[0] = y[1];
            A[1][0] = t0, A[1][1] = t1, y[1] = ty;
        }
        float l = A[1][0] * (1.0f / A[0][0]);
        float u11 = A[1][1] - l * A[0][1];
        y[1] = y[1] - l * y[0];
        u.rho[1] = y[1] / u11;
        u.rho[0] = (y[0] - A[0][1] * u.rho[1]) / A[0][0];
    }
    return u;
}

void t2i_sched_step_unipc(t2i_sched *s, int k, const float *m, float *x, size_t n)
{
    const t2i_sched_config *c = &s->c;
    float a_s, s_s, l_s;
    coeffs(s->sigmas[k], &a_s, &s_s, &l_s);
    float *conv = s->hist[2];          /* this step's x0 prediction */
    const float *m0 = s->hist[1], *m1 = s->hist[0];   /* the previous two */
    const int corr = k > s->begin, corr_order = s->unipc_order;   /* last_sample is None at the first step */
    update uc = {0};
    if (corr) uc = make_update(s, k - 1, k, k - 2, corr_order, 1);

    int order = c->lower_order_final && s->nsteps - k < c->solver_order ? s->nsteps - k : c->solver_order;
    if (order > s->lower_order_nums + 1) order = s->lower_order_nums + 1;
    const update up = make_update(s, k, k + 1, k - 1, order, 0);

    for (size_t i = 0; i < n; i++) {
        const float mc = c->prediction_type == T2I_PRED_EPSILON ? (x[i] - s_s * m[i]) / a_s
                                                                : a_s * x[i] - s_s * m[i];
        conv[i] = mc;
        float xi = x[i];
        if (corr) {   /* UniC: x = a * last - b * m0 - c * (corr_res + rho_last * (mc - m0)) */
            const float base = uc.a * s->saved[i] - uc.b * m0[i];
            const float d1t = mc - m0[i];
            if (corr_order == 2) {
                const float d1 = (m1[i] - m0[i]) / uc.rk;
                xi = base - uc.c * (uc.rho[0] * d1 + uc.rho[1] * d1t);
            } else {
                xi = base - uc.c * (0.0f + uc.rho[0] * d1t);
            }
        }
        s->saved[i] = xi;  /* last_sample */
        /* UniP from the corrected sample, m0 = this step's conversion */
        const float base = up.a * xi - up.b * mc;
        if (order == 2) {
            const float d1 = (m0[i] - mc) / up.rk;   /* m0 is now the previous output */
            x[i] = base - up.c * (0.5f * d1);
        } else {
            x[i] = base;
        }
    }
    /* history: [older, newer] <- [newer, this] */
    float *t = s->hist[0];
    s->hist[0] = s->hist[1];
    s->hist[1] = s->hist[2];
    s->hist[2] = t;
    s->unipc_order = order;
    if (s->lower_order_nums < c->solver_order) s->lower_order_nums++;
}
