/*
 * samplers.c — the one table of sampler names: the A1111 display name
 * ("Euler a"), the short id the CLI takes ("euler_a"), the aliases the A1111
 * API lists ("k_euler_a"), and the A1111 scheduler a name implies ("karras").
 * The pipeline, the CLI and the server all read it through t2i.h.
 */
#include <strings.h>
#include "base/error.h"
#include "t2i.h"

static const t2i_sampler_info samplers[T2I_SAMPLER_COUNT] = {
    [T2I_SAMPLER_EULER] = {"Euler", "euler", {"k_euler", NULL}, NULL},
    [T2I_SAMPLER_EULER_A] = {"Euler a", "euler_a", {"k_euler_a", NULL}, NULL},
    [T2I_SAMPLER_DDIM] = {"DDIM", "ddim", {NULL, NULL}, NULL},
    [T2I_SAMPLER_DPMPP_2M] = {"DPM++ 2M", "dpmpp_2m", {"k_dpmpp_2m", NULL}, NULL},
    [T2I_SAMPLER_DPMPP_2M_KARRAS] = {"DPM++ 2M Karras", "dpmpp_2m_karras", {"k_dpmpp_2m_ka", NULL}, "karras"},
    [T2I_SAMPLER_HEUN] = {"Heun", "heun", {"k_heun", NULL}, NULL},
    [T2I_SAMPLER_DPM2] = {"DPM2", "dpm2", {"k_dpm_2", NULL}, NULL},
    [T2I_SAMPLER_DPM2_A] = {"DPM2 a", "dpm2_a", {"k_dpm_2_a", NULL}, NULL},
    [T2I_SAMPLER_LMS] = {"LMS", "lms", {"k_lms", NULL}, NULL},
    [T2I_SAMPLER_DDPM] = {"DDPM", "ddpm", {NULL, NULL}, NULL},
    [T2I_SAMPLER_LCM] = {"LCM", "lcm", {"k_lcm", NULL}, NULL},
    [T2I_SAMPLER_UNIPC] = {"UniPC", "unipc", {NULL, NULL}, NULL},
    [T2I_SAMPLER_DPMPP_2S] = {"DPM++ 2S", "dpmpp_2s", {NULL, NULL}, NULL},
    [T2I_SAMPLER_DPMPP_2S_A] = {"DPM++ 2S a", "dpmpp_2s_a", {"k_dpmpp_2s_a", NULL}, NULL},
    [T2I_SAMPLER_DPMPP_SDE] = {"DPM++ SDE", "dpmpp_sde", {"k_dpmpp_sde", NULL}, NULL},
    [T2I_SAMPLER_DPMPP_SDE_KARRAS] = {"DPM++ SDE Karras", "dpmpp_sde_karras", {"k_dpmpp_sde_ka", NULL}, "karras"},
};

const t2i_sampler_info *t2i_sampler_get_info(t2i_sampler s)
{
    return (unsigned)s < T2I_SAMPLER_COUNT ? &samplers[s] : NULL;
}

const char *t2i_sampler_name(t2i_sampler s)
{
    return (unsigned)s < T2I_SAMPLER_COUNT ? samplers[s].name : "?";
}

static int sampler_matches(const t2i_sampler_info *si, const char *name)
{
    if (strcasecmp(name, si->name) == 0 || strcasecmp(name, si->id) == 0) return 1;
    for (int k = 0; k < 2; k++)
        if (si->aliases[k] && strcasecmp(name, si->aliases[k]) == 0) return 1;
    return 0;
}

t2i_status t2i_sampler_from_name(const char *name, t2i_sampler *out)
{
    for (int i = 0; name && i < T2I_SAMPLER_COUNT; i++) {
        if (sampler_matches(&samplers[i], name)) {
            *out = (t2i_sampler)i;
            return T2I_OK;
        }
    }
    return t2i_fail(T2I_ERR_INVALID_ARG,
                    "unknown sampler '%s' (one of: euler, euler_a, ddim, dpmpp_2m, dpmpp_2m_karras, heun, dpm2, "
                    "dpm2_a, lms, ddpm, lcm, unipc, dpmpp_2s, dpmpp_2s_a, dpmpp_sde, dpmpp_sde_karras)",
                    name ? name : "(null)");
}
