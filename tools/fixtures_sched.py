#!/usr/bin/env python3
"""fixtures_sched.py — references for runtime/rng.c and runtime/scheduler.c.

Writes tests/fixtures/sched/:
  data.bin     float32 little-endian arrays, concatenated
  index.json   what is where in data.bin, plus small values inline
  sd15.json, sd21.json, trailing.json   the scheduler configs used

Contents:
  - torch.randn(n, generator=torch.Generator().manual_seed(seed)) for seeds
    0, 1234, 2**32+5, 2**63-1 and n in 1, 3, 15, 16, 17, 31, 256, 4*64*64
    (the 16384 draw only for seed 0 to keep the file small);
    consecutive draws from one generator (stream continuation, including the
    cached second Box-Muller value of the scalar path).
  - Philox 4x32-10 normals as the A1111 web UI's "GPU" RNG source computes
    them (modules/rng_philox.py), re-implemented below with numpy from the
    published algorithm, checked against the expected output that file
    documents for seed 0.
  - For each config x sampler x steps in {1, 2, 10, 25, 50} (and 61 for
    trailing, where numpy's arange yields 62 timesteps): timesteps,
    sigmas, init_noise_sigma, the per-step input divisor, the scaled model
    input of step 0 (Euler samplers), and a 3-step trajectory of scheduler.step() on fixed
    random model outputs; the scheduler is built the way a pipeline builds
    it: XScheduler.from_config(PNDMScheduler.from_config(json).config) etc.

Run: /work/pyenv/bin/python tools/fixtures_sched.py   (from the repo root)
"""
import json
import os

import numpy as np
import torch
from diffusers import (DDIMScheduler, DPMSolverMultistepScheduler,
                       EulerAncestralDiscreteScheduler, EulerDiscreteScheduler,
                       PNDMScheduler)

OUT = os.path.join("tests", "fixtures", "sched")

CONFIGS = {
    # SD1.5's scheduler_config.json (timestep_spacing written out, as the
    # brief describes it).
    "sd15": {
        "_class_name": "PNDMScheduler", "_diffusers_version": "0.6.0",
        "beta_end": 0.012, "beta_schedule": "scaled_linear",
        "beta_start": 0.00085, "num_train_timesteps": 1000,
        "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1,
        "timestep_spacing": "leading", "trained_betas": None,
        "clip_sample": False,
    },
    # SD2.1 (768-v): no timestep_spacing key, so each class's own default
    # applies (DDIM: leading, Euler/DPM: linspace).
    "sd21": {
        "_class_name": "DDIMScheduler", "_diffusers_version": "0.8.0",
        "beta_end": 0.012, "beta_schedule": "scaled_linear",
        "beta_start": 0.00085, "clip_sample": False,
        "num_train_timesteps": 1000, "prediction_type": "v_prediction",
        "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1,
        "trained_betas": None,
    },
    # Zero-terminal-SNR v-prediction model with trailing spacing
    # (arXiv 2305.08891 recommendations).
    "trailing": {
        "_class_name": "DDIMScheduler", "_diffusers_version": "0.21.0",
        "beta_end": 0.012, "beta_schedule": "scaled_linear",
        "beta_start": 0.00085, "clip_sample": False,
        "num_train_timesteps": 1000, "prediction_type": "v_prediction",
        "rescale_betas_zero_snr": True, "set_alpha_to_one": False,
        "steps_offset": 1, "timestep_spacing": "trailing",
    },
}
ORIG_CLASS = {"PNDMScheduler": PNDMScheduler, "DDIMScheduler": DDIMScheduler}

SAMPLERS = {
    "euler": (EulerDiscreteScheduler, {}),
    "euler_a": (EulerAncestralDiscreteScheduler, {}),
    "ddim": (DDIMScheduler, {}),
    "dpmpp_2m": (DPMSolverMultistepScheduler, {}),
    "dpmpp_2m_karras": (DPMSolverMultistepScheduler, {"use_karras_sigmas": True}),
}
STEPS = [1, 2, 10, 25, 50, 61]
TRAJ_STEPS = 3
SHAPE = (1, 4, 8, 8)


class Blob:
    """Concatenated float32 arrays; returns offsets (in floats)."""

    def __init__(self):
        self.parts, self.n = [], 0

    def add(self, a):
        a = np.ascontiguousarray(np.asarray(a, dtype=np.float32).reshape(-1))
        off = self.n
        self.parts.append(a)
        self.n += a.size
        return off


# ---- Philox (A1111 "GPU" source), numpy re-implementation --------------------

PHILOX_M = (0xD2511F53, 0xCD9E8D57)
PHILOX_W = (0x9E3779B9, 0xBB67AE85)


def philox_randn(seed, offset, n):
    """n normals for (seed, offset): counter = (offset, 0, i, 0), key = seed."""
    c0 = np.full(n, offset & 0xFFFFFFFF, dtype=np.uint64)
    c1 = np.zeros(n, dtype=np.uint64)
    c2 = np.arange(n, dtype=np.uint64)
    c3 = np.zeros(n, dtype=np.uint64)
    k0 = np.uint64(seed & 0xFFFFFFFF)
    k1 = np.uint64((seed >> 32) & 0xFFFFFFFF)
    mask = np.uint64(0xFFFFFFFF)
    for r in range(10):
        p0 = c0 * np.uint64(PHILOX_M[0])
        p2 = c2 * np.uint64(PHILOX_M[1])
        n0 = (p2 >> np.uint64(32)) ^ c1 ^ k0
        n2 = (p0 >> np.uint64(32)) ^ c3 ^ k1
        c0, c1, c2, c3 = n0, p2 & mask, n2, p0 & mask
        if r < 9:
            k0 = (k0 + np.uint64(PHILOX_W[0])) & mask
            k1 = (k1 + np.uint64(PHILOX_W[1])) & mask
    # Box-Muller on (c0, c1) as A1111 does it: float32 constants, float64
    # arithmetic (numpy promotes uint32 * float32 to float64), sin only.
    inv = np.float64(np.float32(2.3283064e-10))
    inv2pi = np.float64(np.float32(2.3283064e-10 * 6.2831855))
    u = c0.astype(np.float64) * inv + np.float64(np.float32(2.3283064e-10) / np.float32(2))
    v = c1.astype(np.float64) * inv2pi + np.float64(np.float32(2.3283064e-10 * 6.2831855) / np.float32(2))
    return (np.sqrt(-2.0 * np.log(u)) * np.sin(v)).astype(np.float32)


def check_philox():
    # Expected output documented in A1111's modules/rng_philox.py for
    # Generator(seed=0).randn((3, 4)).
    expected = [-0.92466259, -0.42534415, -2.6438457, 0.14518388,
                -0.12086647, -0.57972564, -0.62285122, -0.32838709,
                -1.07454231, -0.36314407, -1.67105067, 2.26550497]
    got = philox_randn(0, 0, 12)
    assert np.max(np.abs(got - np.array(expected))) < 1e-6, got


# ---- schedulers --------------------------------------------------------------

def build(cfg_json, sampler):
    orig = ORIG_CLASS[cfg_json["_class_name"]].from_config(cfg_json)
    cls, extra = SAMPLERS[sampler]
    return cls.from_config(orig.config, **extra)


def f32(x):
    return float(np.float32(float(x)))


def sched_case(blob, cfg_name, sampler, steps, base, model_outs):
    s = build(CONFIGS[cfg_name], sampler)
    s.set_timesteps(steps)
    ts = [float(t) for t in s.timesteps]
    sig = [f32(x) for x in s.sigmas] if hasattr(s, "sigmas") and sampler != "ddim" else None
    init = f32(s.init_noise_sigma)
    divisors = []
    if sampler in ("euler", "euler_a"):
        divisors = [f32((s.sigmas[i] ** 2 + 1) ** 0.5) for i in range(len(ts))]
    # pipeline: latents = randn * init_noise_sigma
    sample = torch.from_numpy(base.copy()).reshape(SHAPE) * s.init_noise_sigma
    gen = torch.Generator().manual_seed(42)
    traj = []
    scaled0 = None
    nsteps = min(TRAJ_STEPS, len(ts))
    for i in range(nsteps):
        t = s.timesteps[i]
        x_in = s.scale_model_input(sample, t)
        if i == 0:
            scaled0 = x_in.numpy().copy()
        mo = torch.from_numpy(model_outs[i].copy()).reshape(SHAPE)
        kw = {"generator": gen} if sampler == "euler_a" else {}
        sample = s.step(mo, t, sample, **kw).prev_sample
        traj.append(sample.numpy().copy())
    return {
        "config": cfg_name, "sampler": sampler, "steps": steps,
        "timesteps": ts, "sigmas": sig, "init_noise_sigma": init,
        "input_divisors": divisors,
        "scaled0_off": blob.add(scaled0) if divisors else -1,
        "traj_steps": nsteps, "traj_off": blob.add(np.stack(traj)),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    check_philox()
    blob = Blob()
    index = {"randn": [], "randn_seq": [], "philox": [], "sched": {}}

    for seed in (0, 1234, 2**32 + 5, 2**63 - 1):
        for n in (1, 3, 15, 16, 17, 31, 256, 4 * 64 * 64):
            if n == 4 * 64 * 64 and seed != 0:
                continue
            g = torch.Generator().manual_seed(seed)
            x = torch.randn(n, generator=g)
            index["randn"].append({"seed": str(seed), "size": n, "off": blob.add(x)})

    # Consecutive draws from one generator: the stream continues, and the
    # scalar path (< 16) caches its second Box-Muller value across calls.
    for seed, sizes in ((42, [256, 256]), (7, [3, 3, 20, 5]), (99, [1, 17, 1, 4])):
        g = torch.Generator().manual_seed(seed)
        xs = [torch.randn(n, generator=g) for n in sizes]
        index["randn_seq"].append({"seed": str(seed), "sizes": sizes,
                                   "off": blob.add(torch.cat(xs))})

    for seed, sizes in ((0, [12]), (1234, [16384]), (2**63 - 1, [5, 256])):
        xs = [philox_randn(seed, off, n) for off, n in enumerate(sizes)]
        index["philox"].append({"seed": str(seed), "sizes": sizes,
                                "off": blob.add(np.concatenate(xs))})

    rs = np.random.RandomState(2024)
    n = int(np.prod(SHAPE))
    base = rs.randn(n).astype(np.float32)
    model_outs = [rs.randn(n).astype(np.float32) for _ in range(TRAJ_STEPS)]
    index["sched"] = {
        "shape": list(SHAPE), "base_off": blob.add(base),
        "model_out_off": blob.add(np.stack(model_outs)),
        "euler_a_seed": 42, "cases": [],
    }
    for cfg_name, cfg in CONFIGS.items():
        with open(os.path.join(OUT, cfg_name + ".json"), "w") as f:
            json.dump(cfg, f, indent=2)
        for sampler in SAMPLERS:
            for steps in STEPS:
                if steps == 61 and cfg_name != "trailing":
                    continue  # 61 only matters where trailing yields 62 steps
                index["sched"]["cases"].append(
                    sched_case(blob, cfg_name, sampler, steps, base, model_outs))

    with open(os.path.join(OUT, "data.bin"), "wb") as f:
        for p in blob.parts:
            f.write(p.astype("<f4").tobytes())
    with open(os.path.join(OUT, "index.json"), "w") as f:
        json.dump(index, f, separators=(",", ":"))
    print("wrote", OUT, blob.n * 4, "bytes of arrays")


if __name__ == "__main__":
    main()
