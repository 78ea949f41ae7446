#!/usr/bin/env python3
"""Run the prompts of tests/test_default_model.c through diffusers with the same
weights (models/default) and judge the images with the same checker
(tests/shape_checker.h, compiled here into a small helper), so that the accuracy of
the C engine and of diffusers can be compared. Not part of CI; run once:

    /work/pyenv/bin/python scripts/train/default_model_diffusers_check.py \\
        [--sampler dpmpp_2m] [--steps 20] [--cfg 7.5] [--out /tmp/dm_diffusers]

The initial noise is torch.randn from a CPU generator seeded with each case's seed,
as the C engine's default noise source, so images should be near-identical.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_dataset as ds  # noqa: E402

from diffusers import (DDIMScheduler, DPMSolverMultistepScheduler, EulerAncestralDiscreteScheduler,  # noqa: E402
                       EulerDiscreteScheduler, StableDiffusionPipeline)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

HELPER = r"""
#include <stdio.h>
#include "shape_checker.h"
int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb"); int w, h, mx;
        if (!f || fscanf(f, "P6 %d %d %d", &w, &h, &mx) != 3) return 1;
        fgetc(f);
        static uint8_t px[1 << 22];
        if ((size_t)w * h * 3 > sizeof px || fread(px, 1, (size_t)w * h * 3, f) != (size_t)w * h * 3) return 1;
        fclose(f);
        sc_result r; sc_analyse(px, w, h, &r);
        printf("%d %d %d %d %.2f %.2f %d\n", r.background, r.colour, r.shape, r.position, r.fill, r.solidity, r.hole);
    }
    return 0;
}
"""

SCHEDULERS = {
    "euler": lambda c: EulerDiscreteScheduler.from_config(c),
    "euler_a": lambda c: EulerAncestralDiscreteScheduler.from_config(c),
    "ddim": lambda c: DDIMScheduler.from_config(c),
    "dpmpp_2m": lambda c: DPMSolverMultistepScheduler.from_config(c),
    "dpmpp_2m_karras": lambda c: DPMSolverMultistepScheduler.from_config(c, use_karras_sigmas=True),
}


def build_helper(tmp):
    src = os.path.join(tmp, "helper.c")
    exe = os.path.join(tmp, "helper")
    with open(src, "w") as f:
        f.write(HELPER)
    subprocess.check_call(["cc", "-O2", "-std=c11", "-I", os.path.join(ROOT, "tests"), src, "-o", exe, "-lm"])
    return exe


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "default"))
    ap.add_argument("--sampler", default="dpmpp_2m", choices=sorted(SCHEDULERS))
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--cfg", type=float, default=7.5)
    ap.add_argument("--out", help="keep the images (PPM) here")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    pipe = StableDiffusionPipeline.from_pretrained(a.model, torch_dtype=torch.float32, safety_checker=None)
    pipe.scheduler = SCHEDULERS[a.sampler](pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    tmp = a.out or tempfile.mkdtemp(prefix="dm_diffusers_")
    os.makedirs(tmp, exist_ok=True)
    helper = build_helper(tmp)
    cases = ds.eval_cases()
    files = []
    t0 = time.time()
    for i, (g, prompt, c, s, b, p, seed) in enumerate(cases):
        gen = torch.Generator().manual_seed(seed)
        img = pipe(prompt, num_inference_steps=a.steps, guidance_scale=a.cfg, generator=gen,
                   output_type="np").images[0]
        arr = (np.clip(img, 0, 1) * 255).round().astype(np.uint8)
        path = os.path.join(tmp, f"{i:02d}_{g}.ppm")
        with open(path, "wb") as f:
            f.write(b"P6 %d %d 255\n" % (arr.shape[1], arr.shape[0]) + arr.tobytes())
        files.append(path)
    secs = time.time() - t0
    res = subprocess.check_output([helper] + files, text=True).split("\n")
    groups = ["en", "zh", "unseen"]
    n = {g: 0 for g in groups}
    ok = {g: [0, 0, 0, 0] for g in groups}
    for (g, prompt, c, s, b, p, seed), line in zip(cases, res):
        v = line.split()
        got = [int(x) for x in v[:4]]
        want = [ds.COLOUR_NAMES.index(b), ds.COLOUR_NAMES.index(c), ds.SHAPES.index(s),
                ["left", "right", "top", "bottom", "centre"].index(p)]
        n[g] += 1
        for k in range(4):
            ok[g][k] += got[k] == want[k]
        names = [ds.COLOUR_NAMES, ds.COLOUR_NAMES, ds.SHAPES, ["left", "right", "top", "bottom", "centre"]]
        desc = " ".join(names[k][got[k]] if got[k] >= 0 else "-" for k in range(4))
        print(f"  {'ok  ' if got == want else 'MISS'} {prompt:58s} {desc} (fill {v[4]} solidity {v[5]} hole {v[6]})")
    print(f"\n{len(cases)} images (diffusers, {a.sampler}, {a.steps} steps, CFG {a.cfg}) in {secs:.1f} s: "
          f"{secs / len(cases):.2f} s per image")
    print(f"{'group':8s} {'n':>4s} {'background':>11s} {'colour':>8s} {'shape':>8s} {'position':>9s}")
    tot = [0, 0, 0, 0]
    for g in groups:
        print(f"{g:8s} {n[g]:4d}" + "".join(f" {100 * ok[g][k] / max(1, n[g]):{w}.0f}%"
                                             for k, w in zip(range(4), (10, 7, 7, 8))))
        tot = [t + o for t, o in zip(tot, ok[g])]
    print(f"{'all':8s} {len(cases):4d}" + "".join(f" {100 * tot[k] / len(cases):{w}.0f}%"
                                                  for k, w in zip(range(4), (10, 7, 7, 8))))


if __name__ == "__main__":
    main()
