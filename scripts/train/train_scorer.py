#!/usr/bin/env python3
"""Train the embedded scorer: a small CLIP (transformers CLIPModel layout) that
judges images of the default model's world against English and Chinese
captions, shipped as models/default/scorer/ (FP16, < 10 MB).

Data: the procedural scenes of make_dataset.py (one or two shapes on a flat
background), rendered at 128x128 and fed at 64x64 through the same
preprocessing t2i uses (CLIPImageProcessor, shortest edge 64, bicubic).
Captions: English or Chinese, random phrasings (make_dataset.caption).

Loss: the symmetric CLIP contrastive loss over the batch, plus a hard-negative
term — for each image, cross-entropy of its true caption against the same
caption with one attribute changed (colour, shape, position, background),
which is exactly what the scorer must tell apart.

Model: text tower hidden 64, 2 layers, 4 heads over the default model's CLIP
BPE vocabulary (tokenizer shared through a symlink); vision tower ViT 64x64,
patch 8, hidden 96, 3 layers; projection 64.

    /work/pyenv/bin/python scripts/train/train_scorer.py --minutes 40 --out models/default/scorer
"""
import argparse
import copy
import json
import math
import os
import random
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_dataset as ds  # noqa: E402

from PIL import Image  # noqa: E402
from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPTokenizer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOK = os.path.join(ROOT, "models", "default", "tokenizer")
IMG = 64

ATTRS = ["colour", "shape", "position", "background"]
# Hard negatives by attribute: position and shape are the hardest to tell
# (colour and background are learnt first), so they are drawn more often.
ATTR_WEIGHTS = [0.15, 0.3, 0.4, 0.15]


def perturb(scene, attr, rng):
    """The scene with one attribute of its first object (or the background) changed."""
    s = copy.deepcopy(scene)
    o = s["objects"][0]
    if attr == "colour":
        o["colour"] = rng.choice([c for c in ds.COLOUR_NAMES if c not in (o["colour"], s["background"])])
    elif attr == "shape":
        o["shape"] = rng.choice([x for x in ds.SHAPES if x != o["shape"]])
    elif attr == "position":
        taken = {x["position"] for x in s["objects"]}
        o["position"] = rng.choice([p for p in ds.POSITIONS if p not in taken])
    else:
        used = {x["colour"] for x in s["objects"]}
        s["background"] = rng.choice([c for c in ds.COLOUR_NAMES if c not in used and c != s["background"]])
    return s


def caption_pair(scene, attr, rng, lang):
    """(true caption, caption with `attr` changed), same phrasing (same rng draws)."""
    neg_scene = perturb(scene, attr, rng)
    seed = rng.randrange(1 << 30)
    f = ds.caption_en if lang == "en" else ds.caption_zh
    true = f(scene, random.Random(seed))
    false = f(neg_scene, random.Random(seed))
    return true, false


def preprocess(proc, imgs):
    return proc(images=[Image.fromarray(i) for i in imgs], return_tensors="pt")["pixel_values"]


def make_model(tok):
    cfg = CLIPConfig(
        text_config=dict(vocab_size=len(tok), hidden_size=64, intermediate_size=256, num_hidden_layers=2,
                         num_attention_heads=4, max_position_embeddings=77, hidden_act="quick_gelu",
                         projection_dim=64, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                         pad_token_id=tok.pad_token_id),
        vision_config=dict(hidden_size=96, intermediate_size=384, num_hidden_layers=3, num_attention_heads=4,
                           image_size=IMG, patch_size=8, hidden_act="quick_gelu", projection_dim=64),
        projection_dim=64, logit_scale_init_value=math.log(1 / 0.07))
    return CLIPModel(cfg)


def encode_text(model, tok, texts):
    enc = tok(texts, padding=True, return_tensors="pt")
    out = model.get_text_features(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
    return out if torch.is_tensor(out) else out.pooler_output


def encode_image(model, px):
    out = model.get_image_features(pixel_values=px)
    return out if torch.is_tensor(out) else out.pooler_output


def batch(rng, proc, n, lang=None):
    scenes = [ds.sample_scene(rng, two_prob=0.2) for _ in range(n)]
    imgs = ds.render_all(scenes)
    trues, falses = [], []
    for s in scenes:
        l = lang or ("en" if rng.random() < 0.5 else "zh")
        attr = rng.choices(ATTRS, weights=ATTR_WEIGHTS)[0]
        for _ in range(8):   # a phrasing that names the changed attribute
            t, f = caption_pair(s, attr, rng, l)
            if t != f:
                break
        trues.append(t)
        falses.append(f)
    return preprocess(proc, imgs), trues, falses


@torch.no_grad()
def evaluate(model, tok, proc, n=200, seed=99):
    """Share of scenes whose true caption outscores the one-attribute-changed one."""
    model.eval()
    rng = random.Random(seed)
    res = {}
    for lang in ("en", "zh"):
        ok = 0
        for _ in range(n // 20):
            px, trues, falses = batch(rng, proc, 20, lang)
            ie = F.normalize(encode_image(model, px), dim=-1)
            te = F.normalize(encode_text(model, tok, trues), dim=-1)
            fe = F.normalize(encode_text(model, tok, falses), dim=-1)
            ok += int(((ie * te).sum(-1) > (ie * fe).sum(-1)).sum())
        res[lang] = ok / (n // 20 * 20)
    model.train()
    return res


def export(model, tok, out):
    os.makedirs(out, exist_ok=True)
    model.half().save_pretrained(out)
    model.float()
    CLIPImageProcessor(size={"shortest_edge": IMG}, crop_size={"height": IMG, "width": IMG}).save_pretrained(out)
    link = os.path.join(out, "tokenizer")
    if not os.path.lexists(link):
        os.symlink("../tokenizer", link)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=40)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "default", "scorer"))
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--resume", help="continue from a saved scorer folder (FP16 weights are read as FP32)")
    ap.add_argument("--lr", type=float, default=1e-3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = random.Random(a.seed)
    tok = CLIPTokenizer.from_pretrained(TOK)
    proc = CLIPImageProcessor(size={"shortest_edge": IMG}, crop_size={"height": IMG, "width": IMG})
    model = CLIPModel.from_pretrained(a.resume, dtype=torch.float32) if a.resume else make_model(tok)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01)
    t0, step, total = time.time(), 0, a.minutes * 60
    log = []
    while time.time() - t0 < total:
        frac = (time.time() - t0) / total
        for g in opt.param_groups:
            g["lr"] = a.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac))) * min(1.0, step / 100 + 0.01)
        px, trues, falses = batch(rng, proc, a.batch)
        ie = F.normalize(encode_image(model, px), dim=-1)
        te = F.normalize(encode_text(model, tok, trues), dim=-1)
        fe = F.normalize(encode_text(model, tok, falses), dim=-1)
        scale = model.logit_scale.exp().clamp(max=100)
        logits = scale * ie @ te.T
        labels = torch.arange(len(trues))
        clip_loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
        hard = torch.stack([(ie * te).sum(-1), (ie * fe).sum(-1)], -1) * scale
        hard_loss = F.cross_entropy(hard, torch.zeros(len(trues), dtype=torch.long))
        loss = clip_loss + hard_loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 100 == 0:
            ev = evaluate(model, tok, proc, n=100)
            log.append({"step": step, "minutes": round((time.time() - t0) / 60, 1), "loss": round(loss.item(), 4),
                        "discrimination": ev})
            print(json.dumps(log[-1]), flush=True)
            export(model, tok, a.out)
    ev = evaluate(model, tok, proc, n=400)
    print(json.dumps({"final": ev, "steps": step}), flush=True)
    export(model, tok, a.out)
    with open(os.path.join(a.out, "training.json"), "w") as f:
        json.dump({"steps": step, "minutes": a.minutes, "batch": a.batch, "final_discrimination_rendered": ev,
                   "log": log}, f, indent=1)


if __name__ == "__main__":
    main()
