#!/usr/bin/env python3
"""bench_diffusers.py — t2i vs diffusers vs diffusers + torch.compile, side by side.

Speed is judged by ratios (perf/README.md) measured in one run on one GPU,
same architecture, resolution, steps, sampler, batch and CFG. This script
runs, one after the other in the same process tree:

  t2i                t2i-bench (invoked as a program; its JSON lines parsed)
  diffusers          the diffusers pipeline in FP16 with SDPA attention
  diffusers+compile  the same with pipe.unet = torch.compile(...)
                     (channels_last, mode --compile-mode)

all with random weights of the same architecture (perf/configs/<preset> or
--model DIR: config.json files only, no checkpoint is read by diffusers;
t2i-bench uses its own seeded random weights — speed does not depend on the
values). Per batch size it prints per-stage times, end-to-end time, it/s,
images/s and peak memory, then the ratios diffusers/t2i (> 1: t2i faster;
memory: > 1 t2i uses less).

What each figure is, on the diffusers side (mirroring t2i-bench):
  end to end   pipe(prompt, negative_prompt="", ...) → uint8 numpy images,
               median over --repeat calls after --warmup calls (at least
               2 with torch.compile: compiling, and a possible recompile,
               are never timed)
  UNet step    median interval between step-end callbacks (device
               synchronised): UNet on the 2B batch + CFG + sampler step
  text encoder pipe.encode_prompt with CFG (2 prompts), synchronised
  VAE decode   vae.decode of one image's latents, per image
  peak memory  torch.cuda.max_memory_allocated() during the end-to-end
               calls (weights + activations + workspaces of the caching
               allocator; on the CPU: process peak RSS)

Offline use (GPU machines reach no network). Build the wheels on a machine
with network access, next to this script:

    pip download diffusers --no-deps -d perf/wheels/
    # and, if the GPU machine lacks them (torch is assumed present):
    pip download transformers huggingface_hub tokenizers safetensors regex \\
        --no-deps -d perf/wheels/      # with --platform/--python-version of the target

and on the GPU machine:

    pip install --no-index --find-links perf/wheels diffusers transformers

The CLIP tokenizer is built from tests/fixtures/clip-vocab (no download).

GPU (nightly):
    python perf/bench_diffusers.py --bench build/t2i-bench --preset sd15 --size 512 \\
        --steps 50 --batch 1,4,8
CPU plumbing check (tiny preset, FP32):
    python perf/bench_diffusers.py --bench build/t2i-bench --device cpu --dtype fp32 \\
        --preset tiny --size 64 --steps 2 --batch 1,2 --out-dir /tmp/r
"""
import argparse
import datetime
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCHEDULERS = {  # t2i sampler id -> (diffusers class, extra config)
    "euler": ("EulerDiscreteScheduler", {}),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}),
    "ddim": ("DDIMScheduler", {}),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {}),
    "dpmpp_2m_karras": ("DPMSolverMultistepScheduler", {"use_karras_sigmas": True}),
}


def preset_dir(args):
    if args.model:
        return args.model
    fixtures = {"tiny": "tiny-sd1", "tiny2": "tiny-sd2", "tinyxl": "tiny-sdxl"}
    if args.preset in fixtures:
        return os.path.join(ROOT, "tests", "fixtures", fixtures[args.preset])
    return os.path.join(ROOT, "perf", "configs", args.preset)


def find_bench(path):
    if path:
        return path
    for d in ("build", "build-main", "build-release"):
        p = os.path.join(ROOT, d, "t2i-bench")
        if os.access(p, os.X_OK):
            return p
    sys.exit("bench_diffusers: no t2i-bench found; pass --bench PATH")


# ---- t2i ----------------------------------------------------------------------

def run_t2i(args, out_dir):
    """Run t2i-bench for all batch sizes; {batch: json record} or None if unsupported."""
    cmd = [find_bench(args.bench), "--backend", "cuda" if args.device == "cuda" else "cpu",
           "--size", str(args.size), "--steps", str(args.steps), "--batch", args.batch,
           "--cfg", str(args.cfg), "--sampler", args.sampler, "--repeat", str(args.repeat),
           "--warmup", str(args.warmup), "--tag", "vs_diffusers"]
    cmd += ["--model", args.model] if args.model else ["--preset", args.preset]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    with tempfile.TemporaryDirectory() as tmp:
        print("$ " + " ".join(cmd), flush=True)
        p = subprocess.run(cmd + ["--out-dir", tmp], text=True)
        if p.returncode == 77:
            print("t2i: unsupported by this build (exit 77); diffusers figures only", flush=True)
            return None
        if p.returncode != 0:
            sys.exit("bench_diffusers: t2i-bench failed with exit %d" % p.returncode)
        lines = []
        for name in sorted(os.listdir(tmp)):
            with open(os.path.join(tmp, name)) as f:
                lines += [l for l in f if l.strip()]
    append_lines(args.out_dir, lines)
    return {json.loads(l)["batch"]: json.loads(l) for l in lines}


# ---- diffusers ------------------------------------------------------------------

def build_pipeline(args):
    import torch
    import diffusers
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    d = preset_dir(args)
    dtype = torch.float16 if args.dtype == "fp16" else torch.float32
    with open(os.path.join(d, "model_index.json")) as f:
        cls_name = json.load(f)["_class_name"]
    tok_dir = os.path.join(d, "tokenizer")
    if os.path.exists(os.path.join(tok_dir, "vocab.json")):
        tokenizer = CLIPTokenizer.from_pretrained(tok_dir)
    else:
        vocab = os.path.join(ROOT, "tests", "fixtures", "clip-vocab")
        tokenizer = CLIPTokenizer(os.path.join(vocab, "vocab.json"), os.path.join(vocab, "merges.txt"))
    torch.manual_seed(args.seed)
    unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(os.path.join(d, "unet")))
    vae = AutoencoderKL.from_config(AutoencoderKL.load_config(os.path.join(d, "vae")))
    text = CLIPTextModel(CLIPTextConfig.from_json_file(os.path.join(d, "text_encoder", "config.json")))
    sched_cls, extra = SCHEDULERS[args.sampler]
    sched_cfg = getattr(diffusers, sched_cls).load_config(os.path.join(d, "scheduler"))
    scheduler = getattr(diffusers, sched_cls).from_config(sched_cfg, **extra)
    parts = dict(unet=unet, vae=vae, text_encoder=text, tokenizer=tokenizer, scheduler=scheduler)
    if cls_name == "StableDiffusionXLPipeline":
        text2 = CLIPTextModelWithProjection(
            CLIPTextConfig.from_json_file(os.path.join(d, "text_encoder_2", "config.json")))
        pipe = diffusers.StableDiffusionXLPipeline(text_encoder_2=text2, tokenizer_2=tokenizer, **parts)
    else:
        pipe = diffusers.StableDiffusionPipeline(safety_checker=None, feature_extractor=None,
                                                 requires_safety_checker=False, **parts)
    pipe = pipe.to(args.device, dtype)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def sync(args):
    import torch
    if args.device == "cuda":
        torch.cuda.synchronize()


def peak_reset(args):
    import torch
    if args.device == "cuda":
        torch.cuda.reset_peak_memory_stats()


def peak_bytes(args):
    import torch
    if args.device == "cuda":
        return torch.cuda.max_memory_allocated()
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure_diffusers(args, pipe, batch, compiled):
    import torch
    kw = dict(prompt="a red circle on a blue background", negative_prompt="", num_inference_steps=args.steps,
              guidance_scale=args.cfg, height=args.size, width=args.size, num_images_per_prompt=batch,
              output_type="np")
    marks = []

    def on_step_end(p, i, t, cbk):
        sync(args)
        marks.append(time.perf_counter())
        return cbk

    # A compiled UNet may recompile on its second call (guards on the first
    # call's values): two warm-up calls at least.
    warmup = max(args.warmup, 2) if compiled else args.warmup
    for _ in range(warmup):
        pipe(generator=torch.Generator(args.device).manual_seed(args.seed), **kw)
    sync(args)
    peak_reset(args)
    e2e, steps = [], []
    for _ in range(args.repeat):
        marks.clear()
        t0 = time.perf_counter()
        out = pipe(generator=torch.Generator(args.device).manual_seed(args.seed), callback_on_step_end=on_step_end,
                   **kw)
        sync(args)
        e2e.append(time.perf_counter() - t0)
        steps += [b - a for a, b in zip(marks, marks[1:])]
    peak = peak_bytes(args)
    images = out.images
    finite = bool(images is not None and (images == images).all())

    # Stages on their own, synchronised.
    with torch.no_grad():
        times = []
        for _ in range(max(args.repeat, 2)):
            sync(args)
            t0 = time.perf_counter()
            # by keyword: SDXL's encode_prompt takes prompt_2 second
            pipe.encode_prompt(kw["prompt"], device=args.device, num_images_per_prompt=1,
                               do_classifier_free_guidance=args.cfg > 1, negative_prompt="")
            sync(args)
            times.append(time.perf_counter() - t0)
        text_s = statistics.median(times[1:])
        lat = torch.randn(1, pipe.vae.config.latent_channels, args.size // 8, args.size // 8,
                          device=args.device, dtype=pipe.vae.dtype)
        times = []
        for _ in range(max(args.repeat, 2)):
            sync(args)
            t0 = time.perf_counter()
            pipe.vae.decode(lat / pipe.vae.config.scaling_factor)
            sync(args)
            times.append(time.perf_counter() - t0)
        vae_s = statistics.median(times[1:])
    e2e_s = statistics.median(e2e)
    step_s = statistics.median(steps) if steps else float("nan")
    return {"text_encoder": text_s, "unet_step": step_s, "vae_decode_per_image": vae_s, "end_to_end": e2e_s,
            "it_per_s": 1.0 / step_s if steps else None, "images_per_s": batch / e2e_s, "peak_bytes": peak,
            "finite": finite}


# ---- output ---------------------------------------------------------------------

def append_lines(out_dir, lines):
    now = datetime.datetime.now(datetime.timezone.utc)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "%s-%s.jsonl" % (now.strftime("%Y-%m-%d"), socket.gethostname().split(".")[0]))
    with open(path, "a") as f:
        for l in lines:
            f.write(l if l.endswith("\n") else l + "\n")
    return path


def t2i_row(rec):
    s = rec["seconds"]
    return {"text_encoder": s["text_encoder"], "unet_step": s["unet_step"],
            "vae_decode_per_image": s["vae_decode_per_image"], "end_to_end": s["end_to_end"],
            "it_per_s": rec["it_per_s"], "images_per_s": rec["images_per_s"],
            "peak_bytes": rec["memory_bytes"].get("rss_peak", rec["memory_bytes"]["backend_total"])
            if rec["backend"] == "cpu" else rec["memory_bytes"]["backend_total"]}


def print_table(batch, rows):
    print("\nbatch %d" % batch)
    print("%-18s %9s %11s %10s %9s %8s %8s %10s" % ("", "text s", "unet step s", "vae s/im", "e2e s", "it/s",
                                                  "img/s", "peak MiB"))
    for name, r in rows:
        if r is None:
            print("%-18s %s" % (name, "unsupported"))
            continue
        print("%-18s %9.4f %11.4f %10.4f %9.3f %8.2f %8.3f %10.1f" % (
            name, r["text_encoder"], r["unet_step"], r["vae_decode_per_image"], r["end_to_end"],
            r["it_per_s"] or 0, r["images_per_s"], r["peak_bytes"] / 1048576.0))
    base = dict(rows).get("t2i")
    if base:
        for name, r in rows:
            if name == "t2i" or r is None:
                continue
            print("ratio %s/t2i: end to end %.2f, UNet step %.2f, peak memory %.2f  (> 1: t2i better)" % (
                name, r["end_to_end"] / base["end_to_end"], r["unet_step"] / base["unet_step"],
                r["peak_bytes"] / base["peak_bytes"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", help="path of t2i-bench (default: build/t2i-bench)")
    ap.add_argument("--preset", default="sd15")
    ap.add_argument("--model", help="diffusers folder instead of a preset (configs only are read)")
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--dtype", default="fp16", choices=["fp16", "fp32"])
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--batch", default="1,4,8")
    ap.add_argument("--cfg", type=float, default=7.5)
    ap.add_argument("--sampler", default="euler", choices=sorted(SCHEDULERS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="CPU threads for both (0: default)")
    ap.add_argument("--no-compile", action="store_true", help="skip diffusers + torch.compile")
    ap.add_argument("--compile-mode", default="max-autotune")
    ap.add_argument("--skip-t2i", action="store_true")
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "perf", "results"))
    args = ap.parse_args()

    import torch
    import diffusers
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("bench_diffusers: no CUDA device visible to torch; use --device cpu --dtype fp32")
    if args.device == "cpu" and args.dtype == "fp16":
        sys.exit("bench_diffusers: FP16 on the CPU is not a meaningful baseline; use --dtype fp32")
    if args.threads:
        torch.set_num_threads(args.threads)
    batches = [int(b) for b in args.batch.split(",")]
    device_name = torch.cuda.get_device_name() if args.device == "cuda" else "cpu"

    t2i = None if args.skip_t2i else run_t2i(args, args.out_dir)

    results = {b: [("t2i", t2i_row(t2i[b]) if t2i and b in t2i else None)] for b in batches}
    variants = [("diffusers", False)] + ([] if args.no_compile else [("diffusers+compile", True)])
    common = {"tool": "bench_diffusers", "device": device_name, "backend": args.device, "dtype": args.dtype,
              "preset": "model" if args.model else args.preset, "width": args.size, "height": args.size,
              "steps": args.steps, "cfg": args.cfg, "sampler": args.sampler, "repeat": args.repeat,
              "torch": torch.__version__, "diffusers": diffusers.__version__,
              "host": socket.gethostname().split(".")[0]}
    for name, compiled in variants:
        pipe = build_pipeline(args)
        if compiled:
            pipe.unet.to(memory_format=torch.channels_last)
            pipe.unet = torch.compile(pipe.unet, mode=args.compile_mode, fullgraph=True)
        for b in batches:
            print("%s: batch %d ..." % (name, b), flush=True)
            r = measure_diffusers(args, pipe, b, compiled)
            results[b].append((name, r))
            line = dict(common, variant=name, batch=b, unet_batch=b * (2 if args.cfg > 1 else 1),
                        time=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        seconds={k: r[k] for k in ("text_encoder", "unet_step", "vae_decode_per_image",
                                                   "end_to_end")},
                        it_per_s=r["it_per_s"], images_per_s=r["images_per_s"], peak_bytes=r["peak_bytes"],
                        finite=r["finite"])
            if t2i and b in t2i:
                base = t2i_row(t2i[b])
                line["ratio_vs_t2i"] = {"end_to_end": r["end_to_end"] / base["end_to_end"],
                                        "unet_step": r["unet_step"] / base["unet_step"],
                                        "peak_memory": r["peak_bytes"] / base["peak_bytes"]}
                line["t2i_commit"] = t2i[b]["commit"]
            path = append_lines(args.out_dir, [json.dumps(line)])
        del pipe
        if args.device == "cuda":
            torch.cuda.empty_cache()
    print("\n%s, %s, %dx%d, %d steps, %s, CFG %.1f, %s" % (
        "model " + args.model if args.model else "preset " + args.preset, device_name, args.size, args.size,
        args.steps, args.sampler, args.cfg, args.dtype))
    for b in batches:
        print_table(b, results[b])
    print("\nresults appended to %s" % path)


if __name__ == "__main__":
    main()
