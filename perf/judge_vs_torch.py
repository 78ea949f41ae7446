#!/usr/bin/env python3
"""judge_vs_torch.py — judging cost, t2i against transformers on the same CPU.

Makes a CLIP ViT-B/16-size CLIPModel with seeded random weights (the real
architecture: vision 768 wide, 12 layers, patch 16 at 224²; text 512 wide, 12
layers; projection 512) and a folder of N PNG images, then either
  --setup DIR        writes the model to DIR/clip and the images to DIR/images
  --torch DIR        scores every image against its prompt with transformers
                     (CLIPImageProcessor + CLIPModel, FP32) and prints the
                     seconds per image of the scoring loop
The t2i side is `t2i-eval --clip DIR/clip DIR/images`, which prints its own
figures; time the two whole commands side by side with a harness that
alternates them, and report the machine's load.

    /work/pyenv/bin/python perf/judge_vs_torch.py --setup /tmp/judge
    /work/pyenv/bin/python perf/judge_vs_torch.py --torch /tmp/judge
    build/t2i-eval --clip /tmp/judge/clip /tmp/judge/images
"""
import argparse
import os
import shutil
import sys
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = 8


def setup(d):
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPTokenizer
    torch.manual_seed(0)
    cfg = CLIPConfig(text_config=dict(hidden_size=512, intermediate_size=2048, num_hidden_layers=12,
                                      num_attention_heads=8, eos_token_id=49407, bos_token_id=49406,
                                      pad_token_id=49407),
                     vision_config=dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                                        num_attention_heads=12, image_size=224, patch_size=16),
                     projection_dim=512)
    clip = os.path.join(d, "clip")
    shutil.rmtree(d, ignore_errors=True)
    CLIPModel(cfg).eval().save_pretrained(clip)
    tok = CLIPTokenizer.from_pretrained(os.path.join(ROOT, "models", "default", "tokenizer"))
    tok.save_pretrained(clip)
    for f in ("vocab.json", "merges.txt"):
        shutil.copy(os.path.join(ROOT, "models", "default", "tokenizer", f), os.path.join(clip, f))
    CLIPImageProcessor().save_pretrained(clip)
    os.makedirs(os.path.join(d, "images"))
    rng = np.random.default_rng(1)
    for i in range(N):
        im = Image.fromarray(rng.integers(0, 256, (512, 512, 3), dtype=np.uint8))
        info = PngInfo()
        info.add_text("parameters", f"a photo of a red circle number {i}\nSteps: 20, Sampler: Euler, Seed: {i}")
        im.save(os.path.join(d, "images", f"{i:02d}.png"), pnginfo=info)


def score_torch(d, threads):
    from PIL import Image
    from transformers import CLIPImageProcessor, CLIPModel, CLIPTokenizer
    torch.set_num_threads(threads)
    clip = os.path.join(d, "clip")
    model = CLIPModel.from_pretrained(clip).eval()
    proc = CLIPImageProcessor.from_pretrained(clip)
    tok = CLIPTokenizer.from_pretrained(clip)
    names = sorted(os.listdir(os.path.join(d, "images")))
    t0 = time.perf_counter()
    with torch.no_grad():
        for n in names:
            im = Image.open(os.path.join(d, "images", n))
            prompt = im.text["parameters"].split("\n")[0]
            px = proc(images=im.convert("RGB"), return_tensors="pt")["pixel_values"]
            ie = model.get_image_features(pixel_values=px)
            te = model.get_text_features(**tok(prompt, return_tensors="pt"))
            ie = ie if torch.is_tensor(ie) else ie.pooler_output
            te = te if torch.is_tensor(te) else te.pooler_output
            s = 100 * torch.clamp(torch.nn.functional.cosine_similarity(ie, te), min=0)
    dt = time.perf_counter() - t0
    print(f"transformers: {dt / len(names):.3f} s per image ({len(names)} images, {threads} threads); last score {s.item():.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--setup")
    ap.add_argument("--torch")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    if a.setup:
        setup(a.setup)
    if a.torch:
        score_torch(a.torch, a.threads)
    if not a.setup and not a.torch:
        ap.print_help()
        sys.exit(2)


if __name__ == "__main__":
    main()
