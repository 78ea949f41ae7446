#!/usr/bin/env python3
"""cpu_vs_torch.py — one SD-size UNet step on this CPU: t2i vs PyTorch.

Side by side in one run, on the same machine and the same thread count:

  t2i      t2i-bench --mode unet (seeded random weights, FP32, CPU backend)
  PyTorch  diffusers UNet2DConditionModel.from_config(<preset>/unet/config.json)
           with its default random init, FP32, eval, torch.no_grad(),
           torch.set_num_threads(threads), SDPA attention (the default)

Default workload: SD1.5 UNet at 256x256 (latent 32x32), batch 2 (one
image with classifier-free guidance), 77 text tokens. The two are run in
alternating rounds (t2i, torch, t2i, torch, ...) so that a change in the
machine's load hits both; each round reports the median of --reps timed
steps after one warm-up step, and the result is the median over rounds.
Ratio = t2i time / PyTorch time (> 1: t2i is slower). On a shared, loaded
machine the ratio of the fastest steps (least disturbed) is printed too.

It also counts the PyTorch UNet's FLOPs (torch.utils.flop_counter, with
the bmm attention processor so attention is counted) and prints them next
to t2i's graph count (graph/flops.c): the two must agree.

Appends one JSON line to perf/results/<UTC date>-<host>.jsonl.

  /work/pyenv/bin/python perf/cpu_vs_torch.py --bench build/t2i-bench --threads 2
"""
import argparse
import datetime
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def find_bench(path):
    if path:
        return path
    for d in ("build", "build-main", "build-release"):
        p = os.path.join(ROOT, d, "t2i-bench")
        if os.access(p, os.X_OK):
            return p
    sys.exit("cpu_vs_torch: no t2i-bench found; pass --bench PATH")


def preset_dir(preset):
    """The folder of a preset, as t2i-bench resolves it (tools/bench_presets.h)."""
    fixtures = {"tiny": "tiny-sd1", "tiny2": "tiny-sd2"}
    if preset in fixtures:
        return os.path.join(ROOT, "tests", "fixtures", fixtures[preset])
    return os.path.join(ROOT, "perf", "configs", preset)


def run_t2i(args, bench, out_dir):
    cmd = [bench, "--preset", args.preset, "--size", str(args.size), "--mode", "unet", "--batch", "1",
           "--cfg", "7.5", "--threads", str(args.threads), "--repeat", str(args.reps), "--warmup", "1",
           "--out-dir", out_dir, "--tag", "cpu_vs_torch"]
    before = set(os.listdir(out_dir))
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("cpu_vs_torch: t2i-bench failed (%d):\n%s%s" % (p.returncode, p.stdout, p.stderr))
    lines = []
    for name in sorted(os.listdir(out_dir)):
        with open(os.path.join(out_dir, name)) as f:
            lines += [json.loads(l) for l in f if l.strip()]
    rec = lines[-1]
    return rec


def torch_unet(args):
    import torch
    from diffusers import UNet2DConditionModel
    torch.manual_seed(0)
    cfg_path = os.path.join(preset_dir(args.preset), "unet")
    unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(cfg_path))
    unet.eval().requires_grad_(False)
    return unet


def torch_inputs(args, unet):
    import torch
    g = torch.Generator().manual_seed(0)
    lat = args.size // 8
    x = torch.randn(2, unet.config.in_channels, lat, lat, generator=g)
    ctx = torch.randn(2, 77, unet.config.cross_attention_dim, generator=g)
    t = torch.tensor([999.0, 999.0])
    return x, t, ctx


def time_torch(args, unet, inputs):
    import torch
    x, t, ctx = inputs
    times = []
    with torch.no_grad():
        unet(x, t, encoder_hidden_states=ctx)  # warm-up
        for _ in range(args.reps):
            t0 = time.perf_counter()
            out = unet(x, t, encoder_hidden_states=ctx).sample
            times.append(time.perf_counter() - t0)
    assert torch.isfinite(out).all()
    return statistics.median(times), min(times)


def torch_flops(unet, inputs):
    """FLOPs of one forward, attention through bmm so the counter sees it."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    from diffusers.models.attention_processor import AttnProcessor
    x, t, ctx = inputs
    procs = unet.attn_processors
    unet.set_attn_processor(AttnProcessor())
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        unet(x, t, encoder_hidden_states=ctx)
    unet.set_attn_processor(procs)
    return fc.get_total_flops()


def commit():
    try:
        c = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"], capture_output=True,
                           text=True).stdout.strip()
        d = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
        return (c or "unknown") + ("-dirty" if d else "")
    except OSError:
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", help="path of t2i-bench (default: build/t2i-bench)")
    ap.add_argument("--preset", default="sd15")
    ap.add_argument("--size", type=int, default=256, help="image pixels (latent = size/8)")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--rounds", type=int, default=3, help="alternating t2i/torch rounds")
    ap.add_argument("--reps", type=int, default=3, help="timed UNet steps per round")
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "perf", "results"))
    ap.add_argument("--no-flops", action="store_true", help="skip the FLOP cross-check")
    ap.add_argument("--note", default="", help="free text stored with the result (e.g. machine load)")
    args = ap.parse_args()

    import torch
    import diffusers
    torch.set_num_threads(args.threads)
    bench = find_bench(args.bench)
    load0 = os.getloadavg()
    unet = torch_unet(args)
    inputs = torch_inputs(args, unet)
    t2i_s, torch_s, t2i_min, torch_min, t2i_flops = [], [], [], [], None
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            rec = run_t2i(args, bench, tmp)
            t2i_s.append(rec["seconds"]["unet_step"])
            t2i_min.append(rec["seconds"]["unet_step_min"])
            t2i_flops = rec["flops"]["unet_step"]
            med, low = time_torch(args, unet, inputs)
            torch_s.append(med)
            torch_min.append(low)
            print("round %d: t2i %.3f s  torch %.3f s  ratio %.2f  (load %.1f)" %
                  (r + 1, t2i_s[-1], torch_s[-1], t2i_s[-1] / torch_s[-1], os.getloadavg()[0]), flush=True)
    tflops = None if args.no_flops else torch_flops(unet, inputs)
    load1 = os.getloadavg()
    a, b = statistics.median(t2i_s), statistics.median(torch_s)
    print()
    print("UNet step, %s %dx%d (latent %d), batch 2 (CFG), FP32, %d threads, %s" %
          (args.preset, args.size, args.size, args.size // 8, args.threads, socket.gethostname()))
    amin, bmin = min(t2i_min), min(torch_min)
    print("%-10s %12s %12s %12s" % ("", "median s", "GFLOP/s", "min s"))
    print("%-10s %12.3f %12.1f %12.3f" % ("t2i", a, t2i_flops / a / 1e9, amin))
    print("%-10s %12.3f %12.1f %12.3f" % ("pytorch", b, t2i_flops / b / 1e9, bmin))
    print("ratio t2i/pytorch: %.2f of the medians (%s), %.2f of the minima" %
          (a / b, "t2i slower" if a > b else "t2i faster", amin / bmin))
    if tflops:
        print("FLOPs per step: t2i graph %.4g, torch FlopCounter %.4g (%.3f%%)" %
              (t2i_flops, tflops, 100.0 * (t2i_flops - tflops) / tflops))
    print("load average before %.2f, after %.2f (%d cores)" % (load0[0], load1[0], os.cpu_count()))

    now = datetime.datetime.now(datetime.timezone.utc)
    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, "%s-%s.jsonl" % (now.strftime("%Y-%m-%d"), socket.gethostname().split(".")[0]))
    line = {
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "commit": commit(), "host": socket.gethostname().split(".")[0],
        "tool": "cpu_vs_torch", "backend": "cpu", "device": rec.get("device"), "threads": args.threads,
        "preset": args.preset, "width": args.size, "height": args.size, "batch": 1, "unet_batch": 2,
        "rounds": args.rounds, "reps": args.reps,
        "t2i_unet_step_s": a, "torch_unet_step_s": b, "ratio": a / b,
        "t2i_rounds_s": t2i_s, "torch_rounds_s": torch_s,
        "t2i_min_s": amin, "torch_min_s": bmin, "ratio_of_minima": amin / bmin,
        "flops": {"unet_step": t2i_flops, "torch_counter": tflops},
        "torch": torch.__version__, "diffusers": diffusers.__version__,
        "loadavg": [load0[0], load1[0]], "cores": os.cpu_count(), "note": args.note,
    }
    with open(path, "a") as f:
        f.write(json.dumps(line) + "\n")
    print("result appended to %s" % path)


if __name__ == "__main__":
    main()
