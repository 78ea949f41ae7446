/* test_scheduler.c — runtime/scheduler.c against diffusers 0.42
 * (tests/fixtures/sched, written by scripts/fixtures/fixtures_sched.py), plus config
 * error cases.
 *
 * Tolerances (rule beside each check):
 *   - timesteps: exact for integer-valued schedules (DDIM, DPM++, Euler with
 *     leading/trailing spacing); Euler linspace/Karras values are float64
 *     numpy results cast to float32: |diff| <= 1 ulp of the value... plus
 *     1e-4 absolute for Karras (sigma_to_t goes through numpy's float32 log,
 *     which may differ from libm in the last bit).
 *   - sigmas, init_noise_sigma, input divisors: relative 1e-6 (both sides
 *     compute in float64/float32 with the same formulas, then cast); 1e-5
 *     for sigmas of zero-terminal-SNR schedules (see the check).
 *   - scaled model input of step 0: relative 1e-6 per element.
 *   - trajectories: max |diff| <= 1e-5 * max|value| per step, value being
 *     the reference output, the input sample and (DPM++) the x0 estimate
 *     ~ sigma * |sample|: float32 arithmetic over 3 steps.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/error.h"
#include "runtime/scheduler.h"
#include "sched_fixture.h"

static double num(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItem(o, key)->valuedouble;
}

static const char *str(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItem(o, key)->valuestring;
}

static int rel_ok(double a, double b, double rel) { return fabs(a - b) <= rel * fabs(b) + 1e-30; }

static t2i_sampler sampler_of(const char *name)
{
    t2i_sampler s;
    if (t2i_sampler_from_name(name, &s) == T2I_OK) return s;
    fprintf(stderr, "unknown sampler %s\n", name);
    exit(1);
}

/* max |err| / max |ref| per sampler, over all cases */
static double worst[T2I_SAMPLER_COUNT];

static void run_case(const cJSON *cs, const cJSON *sched, const t2i_sched_config *file_cfg)
{
    const char *cname = str(cs, "config"), *sname = str(cs, "sampler"), *opt = str(cs, "option");
    int steps = (int)num(cs, "steps");
    t2i_sampler kind = sampler_of(sname);
    t2i_sched_config copy = *file_cfg, *cfg = &copy;
    copy.use_karras_sigmas |= !strcmp(opt, "karras");
    copy.use_exponential_sigmas = !strcmp(opt, "exponential");
    char label[64];
    snprintf(label, sizeof label, "%s%s%s", sname, *opt ? "+" : "", opt);
    sname = label;
    t2i_sched *s;
    t2i_status st = t2i_sched_create(cfg, kind, steps, &s);
    CHECK(st == T2I_OK, "%s %s %d: create: %s", cname, sname, steps, t2i_last_error());
    if (st != T2I_OK) return;
    const cJSON *ts = cJSON_GetObjectItem(cs, "timesteps");
    int nts = cJSON_GetArraySize(ts);
    CHECK(t2i_sched_num_evals(s) == nts, "%s %s %d: %d timesteps, diffusers %d", cname, sname,
          steps, t2i_sched_num_evals(s), nts);
    if (t2i_sched_num_evals(s) != nts) { t2i_sched_destroy(s); return; }
    int two = kind == T2I_SAMPLER_DPM2 || kind == T2I_SAMPLER_DPM2_A;
    for (int i = 0; i < nts; i++) {
        double ref = cJSON_GetArrayItem(ts, i)->valuedouble, got = t2i_sched_timestep(s, i);
        /* integer schedules exact; fractional linspace values within 1 float ulp;
         * the DPM2 samplers' second-evaluation timesteps come from a float32
         * _sigma_to_t (float32 log and lerp): 2e-4 absolute (1/5000 of a
         * train step) */
        double tol = two && (i & 1) ? 2e-4 : ref == floor(ref) && fabs(got - ref) < 0.5 ? 0 : fabs(ref) * 1.2e-7;
        /* Karras / exponential: numpy's float32 log in _sigma_to_t may
         * differ from libm's in the last bit: 2e-4 absolute */
        if ((copy.use_karras_sigmas || copy.use_exponential_sigmas) && ref != floor(ref)) tol = 2e-4;
        CHECK(fabs(got - ref) <= tol, "%s %s %d: timestep[%d] %.9g vs %.9g", cname, sname, steps,
              i, got, ref);
    }
    const cJSON *sig = cJSON_GetObjectItem(cs, "sigmas");
    if (cJSON_IsArray(sig)) {
        int nsig = t2i_sched_num_steps(s) + 1;
        CHECK(cJSON_GetArraySize(sig) == nsig, "%s %s %d: sigma count %d vs %d", cname, sname, steps, nsig,
              cJSON_GetArraySize(sig));
        for (int i = 0; i < nsig && i < cJSON_GetArraySize(sig); i++) {
            double ref = cJSON_GetArrayItem(sig, i)->valuedouble;
            /* relative 1e-6: float64 then cast on both sides. 1e-5 with
             * rescale_betas_zero_snr: torch's vectorised float32 sqrt is not
             * always correctly rounded (1 ulp off sqrtf on some entries) and
             * the rescale (s - s_T)^2 / ... amplifies that to ~1.3e-6. */
            CHECK(rel_ok(t2i_sched_sigma(s, i), ref, cfg->rescale_betas_zero_snr ? 1e-5 : 1e-6), "%s %s %d: sigma[%d] %.9g vs %.9g",
                  cname, sname, steps, i, t2i_sched_sigma(s, i), ref);
        }
    }
    /* relative 1e-6 */
    CHECK(rel_ok(t2i_sched_init_noise_sigma(s), num(cs, "init_noise_sigma"), 1e-6),
          "%s %s %d: init_noise_sigma %.9g vs %.9g", cname, sname, steps,
          t2i_sched_init_noise_sigma(s), num(cs, "init_noise_sigma"));
    const cJSON *div = cJSON_GetObjectItem(cs, "input_divisors");
    for (int i = 0; i < cJSON_GetArraySize(div); i++) {
        double ref = cJSON_GetArrayItem(div, i)->valuedouble;
        CHECK(rel_ok(t2i_sched_input_divisor(s, i), ref, 1e-6), "%s %s %d: divisor[%d] %.9g vs %.9g",
              cname, sname, steps, i, t2i_sched_input_divisor(s, i), ref);
    }

    /* trajectory */
    enum { N = 256 };
    float x[N], xin[N];
    const float *base = at(sched, "base_off"), *mo = at(sched, "model_out_off");
    float init = t2i_sched_init_noise_sigma(s);
    for (int k = 0; k < N; k++) x[k] = base[k] * init;
    t2i_rng rng;
    t2i_rng_seed(&rng, (uint64_t)num(sched, "euler_a_seed"));
    t2i_rng *rngs[1] = {&rng};
    CHECK(t2i_sched_reserve(s, N, 1) == T2I_OK, "reserve");
    int nsteps = (int)num(cs, "traj_steps");
    const float *traj = at(cs, "traj_off");
    for (int i = 0; i < nsteps; i++) {
        t2i_sched_scale_model_input(s, i, x, xin, N);
        if (num(cs, "scaled_off") >= 0 || (i == 0 && num(cs, "scaled0_off") >= 0)) {
            const float *ref = num(cs, "scaled_off") >= 0 ? at(cs, "scaled_off") + i * N : at(cs, "scaled0_off");
            for (int k = 0; k < N; k++)
                CHECK(rel_ok(xin[k], ref[k], 1e-6), "%s %s %d: scaled input [%d] %.9g vs %.9g",
                      cname, sname, steps, k, xin[k], ref[k]);
        }
        /* Error scale: the largest magnitude the float32 step handles. The
         * input sample, and for DPM++ the x0 estimate ~ sigma_i * |sample|
         * (zero-terminal-SNR schedules start at sigma 4096). */
        double xmax = 0;
        for (int k = 0; k < N; k++) if (fabs(x[k]) > xmax) xmax = fabs(x[k]);
        if (kind == T2I_SAMPLER_DPMPP_2M || kind == T2I_SAMPLER_DPMPP_2M_KARRAS)
            xmax *= fmax(1.0, t2i_sched_sigma(s, i));

        st = t2i_sched_step(s, i, mo + i * N, x, N, 1, rngs);
        CHECK(st == T2I_OK, "step: %s", t2i_last_error());
        const float *ref = traj + i * N;
        double emax = 0, rmax = 0;
        for (int k = 0; k < N; k++) {
            double e = fabs((double)x[k] - ref[k]);
            if (e > emax || isnan(e)) emax = isnan(e) ? INFINITY : e;
            if (fabs(ref[k]) > rmax) rmax = fabs(ref[k]);
        }
        if (xmax > rmax) rmax = xmax;
        double r = emax / (rmax > 0 ? rmax : 1);
        if (r > worst[kind]) worst[kind] = r;
        /* 1e-5 x max|value| (value: reference, input, DPM++ x0 scale):
         * float32 arithmetic over <= 3 steps */
        CHECK(r <= 1e-5, "%s %s %d: step %d max err %.3g (max|ref| %.3g)", cname, sname, steps, i,
              emax, rmax);
        /* continue from the reference so one bad step is reported once */
        memcpy(x, ref, sizeof x);
    }
    t2i_sched_destroy(s);
}

static void expect_error(const char *json, t2i_status want, const char *needle)
{
    cJSON *j = cJSON_Parse(json);
    t2i_sched_config c;
    t2i_status st = t2i_sched_config_parse(j, &c);
    cJSON_Delete(j);
    CHECK(st == want && strstr(t2i_last_error(), needle),
          "config %s: got %s \"%s\", want %s naming %s", json, t2i_status_name(st),
          t2i_last_error(), t2i_status_name(want), needle);
}

static void test_errors(void)
{
    expect_error("{\"beta_schedule\":\"quadratic\"}", T2I_ERR_UNSUPPORTED, "beta_schedule");
    expect_error("{\"beta_schedule\":\"quadratic\"}", T2I_ERR_UNSUPPORTED, "quadratic");
    expect_error("{\"prediction_type\":\"sample\"}", T2I_ERR_UNSUPPORTED, "prediction_type");
    expect_error("{\"timestep_spacing\":\"random\"}", T2I_ERR_UNSUPPORTED, "timestep_spacing");
    expect_error("{\"thresholding\":true}", T2I_ERR_UNSUPPORTED, "thresholding");
    expect_error("{\"trained_betas\":[0.1,0.2]}", T2I_ERR_UNSUPPORTED, "trained_betas");
    expect_error("{\"algorithm_type\":\"sde-dpmsolver++\"}", T2I_ERR_UNSUPPORTED, "algorithm_type");
    expect_error("{\"num_train_timesteps\":\"1000\"}", T2I_ERR_FORMAT, "num_train_timesteps");
    expect_error("{\"num_train_timesteps\":0}", T2I_ERR_INVALID_ARG, "num_train_timesteps");
    expect_error("{\"steps_offset\":1.5}", T2I_ERR_FORMAT, "steps_offset");
    expect_error("{\"clip_sample\":1}", T2I_ERR_FORMAT, "clip_sample");
    expect_error("[1,2]", T2I_ERR_FORMAT, "object");
    expect_error("{\"use_karras_sigmas\":true,\"use_exponential_sigmas\":true}", T2I_ERR_INVALID_ARG,
                 "use_exponential_sigmas");
    expect_error("{\"use_exponential_sigmas\":1}", T2I_ERR_FORMAT, "use_exponential_sigmas");
    expect_error("{\"predict_x0\":false}", T2I_ERR_UNSUPPORTED, "predict_x0");
    expect_error("{\"disable_corrector\":[1]}", T2I_ERR_UNSUPPORTED, "disable_corrector");
    expect_error("{\"solver_type\":\"bh3\"}", T2I_ERR_UNSUPPORTED, "solver_type");
    expect_error("{\"original_inference_steps\":0}", T2I_ERR_INVALID_ARG, "original_inference_steps");
    expect_error("{\"timestep_scaling\":\"10\"}", T2I_ERR_FORMAT, "timestep_scaling");

    t2i_sched_config c;
    t2i_sched_config_init(&c);
    t2i_sched *s = (t2i_sched *)1;
    t2i_status st = t2i_sched_create(&c, T2I_SAMPLER_EULER, 0, &s);
    CHECK(st == T2I_ERR_INVALID_ARG && strstr(t2i_last_error(), "num_inference_steps") && !s,
          "steps 0: %s", t2i_last_error());
    st = t2i_sched_create(&c, T2I_SAMPLER_DDIM, 1001, &s);
    CHECK(st == T2I_ERR_INVALID_ARG && strstr(t2i_last_error(), "num_inference_steps"),
          "steps 1001: %s", t2i_last_error());
    st = t2i_sched_create(&c, T2I_SAMPLER_DDIM, 1000, &s);
    CHECK(st == T2I_OK, "steps 1000: %s", t2i_last_error());
    t2i_sched_destroy(s);

    /* DPM++ without reserve, and out of order */
    CHECK(t2i_sched_create(&c, T2I_SAMPLER_DPMPP_2M, 10, &s) == T2I_OK, "create");
    float x[16] = {0}, m[16] = {0};
    CHECK(t2i_sched_step(s, 0, m, x, 16, 1, NULL) == T2I_ERR_INVALID_ARG, "dpm without reserve");
    CHECK(t2i_sched_reserve(s, 16, 1) == T2I_OK, "reserve");
    CHECK(t2i_sched_step(s, 1, m, x, 16, 1, NULL) == T2I_ERR_INVALID_ARG, "dpm out of order");
    CHECK(t2i_sched_step(s, 0, m, x, 16, 1, NULL) == T2I_OK, "dpm step 0");
    CHECK(t2i_sched_step(s, 1, m, x, 16, 2, NULL) == T2I_ERR_INVALID_ARG, "dpm over reserve");
    t2i_sched_destroy(s);
    CHECK(t2i_sched_create(&c, T2I_SAMPLER_EULER_A, 10, &s) == T2I_OK, "create");
    CHECK(t2i_sched_reserve(s, 16, 1) == T2I_OK, "reserve");
    CHECK(t2i_sched_step(s, 0, m, x, 16, 1, NULL) == T2I_ERR_INVALID_ARG, "euler a without rngs");
    t2i_sched_destroy(s);
    t2i_sched_destroy(NULL);

    /* LCM: at most original_inference_steps steps, which fit the schedule */
    st = t2i_sched_create(&c, T2I_SAMPLER_LCM, 51, &s);
    CHECK(st == T2I_ERR_INVALID_ARG && strstr(t2i_last_error(), "original_inference_steps"), "lcm 51: %s",
          t2i_last_error());
    c.original_inference_steps = 2000;
    st = t2i_sched_create(&c, T2I_SAMPLER_LCM, 4, &s);
    CHECK(st == T2I_ERR_INVALID_ARG && strstr(t2i_last_error(), "original_inference_steps"), "lcm 2000: %s",
          t2i_last_error());
    c.original_inference_steps = 50;

    /* Heun: 2n - 1 evaluations, each mapped to its step; state needs
     * reserve and order */
    CHECK(t2i_sched_create(&c, T2I_SAMPLER_HEUN, 10, &s) == T2I_OK, "create heun");
    CHECK(t2i_sched_num_steps(s) == 10 && t2i_sched_num_evals(s) == 19, "heun: %d steps %d evals",
          t2i_sched_num_steps(s), t2i_sched_num_evals(s));
    CHECK(t2i_sched_eval_step(s, 0) == 0 && t2i_sched_eval_step(s, 1) == 0 && t2i_sched_eval_step(s, 2) == 1 &&
              t2i_sched_eval_step(s, 18) == 9 && t2i_sched_eval_step(s, 19) == -1 && t2i_sched_eval_step(s, -1) == -1,
          "heun eval -> step");
    CHECK(t2i_sched_step(s, 0, m, x, 16, 1, NULL) == T2I_ERR_INVALID_ARG, "heun without reserve");
    CHECK(t2i_sched_reserve(s, 16, 1) == T2I_OK, "reserve");
    CHECK(t2i_sched_step(s, 1, m, x, 16, 1, NULL) == T2I_ERR_INVALID_ARG, "heun out of order");
    CHECK(t2i_sched_step(s, 19, m, x, 16, 1, NULL) == T2I_ERR_INVALID_ARG, "heun evaluation 19");
    t2i_sched_destroy(s);
    static const t2i_sampler noisy[] = {T2I_SAMPLER_DPM2_A, T2I_SAMPLER_DDPM, T2I_SAMPLER_LCM, T2I_SAMPLER_DPMPP_2S_A};
    for (int k = 0; k < 4; k++) {
        CHECK(t2i_sched_create(&c, noisy[k], 4, &s) == T2I_OK, "create");
        CHECK(t2i_sched_reserve(s, 16, 1) == T2I_OK, "reserve");
        int e = noisy[k] == T2I_SAMPLER_DPM2_A ? 1 : 0;   /* DPM2 a draws on a step's second evaluation */
        if (e) CHECK(t2i_sched_step(s, 0, m, x, 16, 1, NULL) == T2I_OK, "dpm2 a first evaluation");
        st = t2i_sched_step(s, e, m, x, 16, 1, NULL);
        CHECK(st == T2I_ERR_INVALID_ARG && strstr(t2i_last_error(), "generator"), "%s without rngs: %s",
              t2i_sampler_name(noisy[k]), t2i_last_error());
        t2i_sched_destroy(s);
    }

    st = t2i_sched_config_load(DIR "does-not-exist.json", &c);
    CHECK(st == T2I_ERR_IO && strstr(t2i_last_error(), "does-not-exist"), "missing file");
}

int main(void)
{
    cJSON *idx;
    if (!fixture_open(&idx)) return 1;
    const cJSON *sched = cJSON_GetObjectItem(idx, "sched");
    int ncase = 0;
    const cJSON *cs;
    cJSON_ArrayForEach(cs, cJSON_GetObjectItem(sched, "cases")) {
        char path[256];
        snprintf(path, sizeof path, DIR "%s.json", str(cs, "config"));
        t2i_sched_config cfg;
        t2i_status st = t2i_sched_config_load(path, &cfg);
        CHECK(st == T2I_OK, "%s: %s", path, t2i_last_error());
        if (st != T2I_OK) continue;
        run_case(cs, sched, &cfg);
        ncase++;
    }
    test_errors();
    CHECK(ncase >= 75 + 9 * 16 + 96, "only %d cases", ncase);
    printf("scheduler: %d cases; max trajectory error / max|ref|:", ncase);
    for (int k = 0; k < T2I_SAMPLER_COUNT; k++) printf(" %s %.3g", t2i_sampler_get_info(k)->id, worst[k]);
    printf("\n");
    fixture_close(idx);
    return failures ? 1 : 0;
}
