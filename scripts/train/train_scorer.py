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
    """Images, their true captions, and for each image one caption per attribute
    in ATTRS with that attribute changed (falses[k][i]; None where no phrasing
    drawn in 8 tries names it)."""
    scenes = [ds.sample_scene(rng, two_prob=0.2) for _ in range(n)]
    imgs = ds.render_all(scenes)
    trues, falses = [], [[] for _ in ATTRS]
    for s in scenes:
        l = lang or ("en" if rng.random() < 0.5 else "zh")
        seed = rng.randrange(1 << 30)
        f = ds.caption_en if l == "en" else ds.caption_zh
        t = f(s, random.Random(seed))
        trues.append(t)
        for k, attr in enumerate(ATTRS):
            neg = None
            for _ in range(8):   # a changed value the phrasing names
                c = f(perturb(s, attr, rng), random.Random(seed))
                if c != t:
                    neg = c
                    break
            falses[k].append(neg)
    return preprocess(proc, imgs), trues, falses, scenes


# Auxiliary targets (dropped at export): what the first object and the
# background are, predicted from the image embedding and from the caption's
# embedding (where the caption names it).
AUX = [("position", ds.POSITIONS), ("shape", ds.SHAPES), ("colour", ds.COLOUR_NAMES),
       ("background", ds.COLOUR_NAMES)]


def aux_targets(scenes, falses=None):
    """[len(AUX)][n] class indices; with falses, -100 where the caption does
    not name the attribute (ignored by the text head's loss)."""
    out = []
    for name, values in AUX:
        k = ATTRS.index(name)
        col = []
        for i, s in enumerate(scenes):
            v = s["background"] if name == "background" else s["objects"][0][name]
            col.append(-100 if falses is not None and falses[k][i] is None else values.index(v))
        out.append(torch.tensor(col))
    return out


def aux_loss(head, emb, targets):
    logits = head(emb)
    loss, at = 0, 0
    for (name, values), t in zip(AUX, targets):
        part = logits[:, at:at + len(values)]
        at += len(values)
        if (t != -100).any():
            loss = loss + F.cross_entropy(part, t, ignore_index=-100)
    return loss


def sincos_2d(grid, dim, scale):
    """Fixed 2-D sine-cosine position code (as MAE's), [grid*grid, dim]: the first
    half of the channels encodes the column, the second half the row."""
    q = dim // 4
    omega = 1.0 / 10000 ** (torch.arange(q, dtype=torch.float32) / q)
    pos = torch.arange(grid, dtype=torch.float32)
    out = torch.outer(pos, omega)
    code1 = torch.cat([out.sin(), out.cos()], 1)                      # [grid, dim/2]
    rows = code1[:, None, :].expand(grid, grid, -1)
    cols = code1[None, :, :].expand(grid, grid, -1)
    code = torch.cat([cols, rows], -1).reshape(grid * grid, -1)
    if code.shape[1] < dim:
        code = F.pad(code, (0, dim - code.shape[1]))
    return scale * code


def init_vision_positions(model):
    """Start the image tower's position embeddings from a 2-D sine-cosine code as
    strong as the patch embeddings. With transformers' default init (N(0, 0.02),
    a tenth of the patch signal) the tower never learnt where the object is:
    position stayed at chance after 6,000 steps while colour and shape were learnt."""
    emb = model.vision_model.embeddings
    grid = model.config.vision_config.image_size // model.config.vision_config.patch_size
    dim = model.config.vision_config.hidden_size
    with torch.no_grad():
        w = emb.position_embedding.weight
        w[0].zero_()
        w[1:] = sincos_2d(grid, dim, 0.5)


@torch.no_grad()
def evaluate(model, tok, proc, n=200, seed=99):
    """Share of scenes whose true caption outscores the one-attribute-changed
    one, per language, overall and per attribute."""
    model.eval()
    rng = random.Random(seed)
    res = {}
    for lang in ("en", "zh"):
        ok, tot = [0] * len(ATTRS), [0] * len(ATTRS)
        for _ in range(n // 20):
            px, trues, falses, _ = batch(rng, proc, 20, lang)
            ie = F.normalize(encode_image(model, px), dim=-1)
            te = F.normalize(encode_text(model, tok, trues), dim=-1)
            st = (ie * te).sum(-1)
            for k in range(len(ATTRS)):
                idx = [i for i, c in enumerate(falses[k]) if c is not None]
                if not idx:
                    continue
                fe = F.normalize(encode_text(model, tok, [falses[k][i] for i in idx]), dim=-1)
                ok[k] += int((st[idx] > (ie[idx] * fe).sum(-1)).sum())
                tot[k] += len(idx)
        res[lang] = round(sum(ok) / max(1, sum(tot)), 4)
        res[lang + "_by_attr"] = {a: round(o / max(1, t), 3) for a, o, t in zip(ATTRS, ok, tot)}
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
    ap.add_argument("--aux", type=float, default=1.0, help="weight of the auxiliary attribute heads")
    ap.add_argument("--reset-positions", action="store_true",
                    help="with --resume: restart the image tower's position embeddings from the sine-cosine code")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = random.Random(a.seed)
    tok = CLIPTokenizer.from_pretrained(TOK)
    proc = CLIPImageProcessor(size={"shortest_edge": IMG}, crop_size={"height": IMG, "width": IMG})
    model = CLIPModel.from_pretrained(a.resume, dtype=torch.float32) if a.resume else make_model(tok)
    if not a.resume or a.reset_positions:
        init_vision_positions(model)
    model.train()
    width = model.config.projection_dim
    n_aux = sum(len(v) for _, v in AUX)
    img_head, txt_head = torch.nn.Linear(width, n_aux), torch.nn.Linear(width, n_aux)
    params = list(model.parameters()) + list(img_head.parameters()) + list(txt_head.parameters())
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.01)
    t0, step, total = time.time(), 0, a.minutes * 60
    log = []
    while time.time() - t0 < total:
        frac = (time.time() - t0) / total
        for g in opt.param_groups:
            g["lr"] = a.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac))) * min(1.0, step / 100 + 0.01)
        px, trues, falses, scenes = batch(rng, proc, a.batch)
        ie_raw, te_raw = encode_image(model, px), encode_text(model, tok, trues)
        ie, te = F.normalize(ie_raw, dim=-1), F.normalize(te_raw, dim=-1)
        scale = model.logit_scale.exp().clamp(max=100)
        logits = scale * ie @ te.T
        labels = torch.arange(len(trues))
        clip_loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
        # hard negatives: each image's true caption against the same phrasing
        # with each attribute changed in turn (weighted by ATTR_WEIGHTS)
        hard_loss = 0
        st = (ie * te).sum(-1)
        for k in range(len(ATTRS)):
            idx = [i for i, c in enumerate(falses[k]) if c is not None]
            if not idx:
                continue
            fe = F.normalize(encode_text(model, tok, [falses[k][i] for i in idx]), dim=-1)
            pair = torch.stack([st[idx], (ie[idx] * fe).sum(-1)], -1) * scale
            hard_loss = hard_loss + 4 * ATTR_WEIGHTS[k] * F.cross_entropy(pair, torch.zeros(len(idx), dtype=torch.long))
        # the auxiliary heads make both embeddings carry every attribute,
        # position included, from the first steps
        aux = aux_loss(img_head, ie_raw, aux_targets(scenes)) + aux_loss(txt_head, te_raw, aux_targets(scenes, falses))
        loss = clip_loss + hard_loss + a.aux * aux
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
