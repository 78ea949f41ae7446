#!/usr/bin/env python3
"""Procedural data set for t2i's embedded default model (models/default).

Scenes: one or two flat-coloured shapes on a flat background, 128x128 RGB.
  shapes      circle, square, triangle, star, ring
  colours     red, green, blue, yellow, orange, purple, white, black
              (objects and backgrounds; an object never has its background's colour)
  sizes       small, large
  positions   left, right, top, bottom, centre (two objects: left+right or top+bottom)
Captions: English and Chinese, several phrasings per scene (captions() picks one at
random, so every epoch sees other wordings). Some colour+shape pairs never occur in
training (HELD_OUT_PAIRS) to test generalisation to unseen combinations.

Everything is deterministic for a given seed. Usable as a module (the trainer and the
checks import it) or as a script:

    python scripts/train/make_dataset.py --out /tmp/shapes --n 2000        # PNGs + captions.jsonl
    python scripts/train/make_dataset.py --sample tests/fixtures/shapes    # checker ground truth
"""
import argparse
import json
import math
import os
import re
import random

import numpy as np
from PIL import Image, ImageDraw

SIZE = 128
SS = 4  # supersampling factor for anti-aliased edges

COLOURS = {  # well separated in RGB; names used by captions and by tests/shape_checker.h
    "red": (220, 20, 30),
    "green": (20, 160, 40),
    "blue": (20, 50, 220),
    "yellow": (250, 220, 20),
    "orange": (250, 130, 0),
    "purple": (130, 30, 170),
    "white": (245, 245, 245),
    "black": (15, 15, 15),
}
COLOUR_NAMES = list(COLOURS)
SHAPES = ["circle", "square", "triangle", "star", "ring"]
SIZES = ["small", "large"]
POSITIONS = ["left", "right", "top", "bottom", "centre"]

# colour+shape pairs that never appear in training (any background, any size/position)
HELD_OUT_PAIRS = {("green", "star"), ("purple", "circle"), ("yellow", "triangle"),
                  ("blue", "ring"), ("orange", "square"), ("red", "triangle")}

ZH_COLOUR = {"red": "红色", "green": "绿色", "blue": "蓝色", "yellow": "黄色",
             "orange": "橙色", "purple": "紫色", "white": "白色", "black": "黑色"}
ZH_SHAPE = {"circle": ["圆形", "圆"], "square": ["正方形", "方形"], "triangle": ["三角形"],
            "star": ["星形", "五角星"], "ring": ["圆环", "环形"]}
ZH_SIZE = {"small": ["小的", "小"], "large": ["大的", "大"]}
ZH_POS = {"left": ["左边", "左侧"], "right": ["右边", "右侧"], "top": ["上边", "上方"],
          "bottom": ["下边", "下方"], "centre": ["中间", "中央"]}
EN_POS = {"left": ["on the left", "at the left"], "right": ["on the right", "at the right"],
          "top": ["at the top"], "bottom": ["at the bottom"],
          "centre": ["in the centre", "in the center", "in the middle"]}

CENTRES = {"left": (34, 64), "right": (94, 64), "top": (64, 34), "bottom": (64, 94),
           "centre": (64, 64)}


def sample_object(rng, bg, pos, allow_held_out=False):
    while True:
        c = rng.choice(COLOUR_NAMES)
        s = rng.choice(SHAPES)
        if c == bg:
            continue
        if not allow_held_out and (c, s) in HELD_OUT_PAIRS:
            continue
        return {"colour": c, "shape": s, "size": rng.choice(SIZES), "position": pos}


def sample_scene(rng, two_prob=0.2, allow_held_out=False):
    bg = rng.choice(COLOUR_NAMES)
    if rng.random() < two_prob:
        pair = rng.choice([("left", "right"), ("top", "bottom")])
        objs = [sample_object(rng, bg, p, allow_held_out) for p in pair]
    else:
        objs = [sample_object(rng, bg, rng.choice(POSITIONS), allow_held_out)]
    # geometry (drawn now so a scene is fully determined by its dict)
    for o in objs:
        r = rng.uniform(26, 31) if o["size"] == "large" else rng.uniform(12, 16)
        if len(objs) == 2:
            r = min(r, 27.0)
        cx, cy = CENTRES[o["position"]]
        o["cx"] = cx + rng.uniform(-5, 5)
        o["cy"] = cy + rng.uniform(-5, 5)
        o["r"] = r
    return {"background": bg, "objects": objs, "jitter": [rng.randint(-8, 8) for _ in range(6)]}


def _col(name, j):
    return tuple(int(min(255, max(0, v + d))) for v, d in zip(COLOURS[name], j))


def shape_polygon(shape, cx, cy, r):
    if shape == "square":
        h = 0.85 * r
        return [(cx - h, cy - h), (cx + h, cy - h), (cx + h, cy + h), (cx - h, cy + h)]
    if shape == "triangle":
        h = 0.87 * r
        return [(cx, cy - h), (cx + r, cy + h), (cx - r, cy + h)]
    if shape == "star":
        ro, ri = 1.05 * r, 0.42 * 1.05 * r
        pts = []
        for k in range(10):
            a = -math.pi / 2 + k * math.pi / 5
            rr = ro if k % 2 == 0 else ri
            pts.append((cx + rr * math.cos(a), cy + 0.1 * r + rr * math.sin(a)))
        return pts
    return None


def render(scene):
    """RGB uint8 array [SIZE, SIZE, 3]."""
    j = scene["jitter"]
    img = Image.new("RGB", (SIZE * SS, SIZE * SS), _col(scene["background"], j[:3]))
    d = ImageDraw.Draw(img)
    for o in scene["objects"]:
        col = _col(o["colour"], j[3:])
        cx, cy, r = o["cx"] * SS, o["cy"] * SS, o["r"] * SS
        if o["shape"] in ("circle", "ring"):
            d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=col)
            if o["shape"] == "ring":
                ri = 0.55 * r
                d.ellipse([cx - ri, cy - ri, cx + ri, cy + ri], fill=_col(scene["background"], j[:3]))
        else:
            d.polygon(shape_polygon(o["shape"], cx, cy, r), fill=col)
    img = img.resize((SIZE, SIZE), Image.BOX)
    return np.asarray(img, dtype=np.uint8)


# ---- captions ---------------------------------------------------------------------------

def _en_obj(o, rng, size=True, art=True):
    words = []
    if size:
        words.append(o["size"])
    words += [o["colour"], o["shape"]]
    s = " ".join(words)
    if art:
        s = "a " + s
    return s


def caption_en(scene, rng):
    return _an(_caption_en(scene, rng))


def _caption_en(scene, rng):
    b = scene["background"]
    objs = scene["objects"]
    if len(objs) == 1:
        o = objs[0]
        p = rng.choice(EN_POS[o["position"]])
        t = rng.randrange(9)
        if t == 0:
            return f"a {o['colour']} {o['shape']} on a {b} background"
        if t == 1:
            return f"a {o['size']} {o['colour']} {o['shape']} on a {b} background"
        if t == 2:
            return f"{b} background, {o['size']} {o['colour']} {o['shape']} {p}"
        if t == 3:
            return f"a {o['size']} {o['colour']} {o['shape']} {p} on a {b} background"
        if t == 4:
            return f"a {o['colour']} {o['shape']} {p}, {b} background"
        if t == 5:
            return f"{o['colour']} {o['shape']} on {b}"
        if t == 6:
            return f"a {o['colour']} {o['shape']} {p} on a {b} background"
        if t == 7:
            return f"{b} background with a {o['colour']} {o['shape']} {p}"
        return f"a {o['colour']} {o['shape']}" if rng.random() < 0.5 else f"a {o['colour']} {o['shape']} {p}"
    a, c = objs
    pa, pc = rng.choice(EN_POS[a["position"]]), rng.choice(EN_POS[c["position"]])
    t = rng.randrange(3)
    if t == 0:
        return f"{_en_obj(a, rng, rng.random() < 0.5)} {pa} and {_en_obj(c, rng, rng.random() < 0.5)} {pc}, {b} background"
    if t == 1:
        return f"{b} background with {_en_obj(a, rng, False)} and {_en_obj(c, rng, False)}"
    return f"{_en_obj(a, rng, False)} {pa} and {_en_obj(c, rng, False)} {pc} on a {b} background"


def _zh_obj(o, rng, size=True):
    s = rng.choice(ZH_SIZE[o["size"]]) if size else ""
    return s + ZH_COLOUR[o["colour"]] + rng.choice(ZH_SHAPE[o["shape"]])


def caption_zh(scene, rng):
    b = ZH_COLOUR[scene["background"]]
    objs = scene["objects"]
    if len(objs) == 1:
        o = objs[0]
        p = rng.choice(ZH_POS[o["position"]])
        t = rng.randrange(8)
        if t == 0:
            return f"{b}背景上的{_zh_obj(o, rng, False)}"
        if t == 1:
            return f"{b}背景上的一个{_zh_obj(o, rng)}"
        if t == 2:
            return f"{p}一个{_zh_obj(o, rng)}"
        if t == 3:
            return f"{b}背景，{p}一个{_zh_obj(o, rng)}"
        if t == 4:
            return f"{b}背景，{p}有一个{_zh_obj(o, rng, False)}"
        if t == 5:
            return f"一个{ZH_COLOUR[o['colour']]}的{rng.choice(ZH_SHAPE[o['shape']])}，{b}背景"
        if t == 6:
            return f"{b}背景，{_zh_obj(o, rng, False)}在{p}"
        return f"{b}背景上{p}的{_zh_obj(o, rng, False)}"
    a, c = objs
    pa, pc = rng.choice(ZH_POS[a["position"]]), rng.choice(ZH_POS[c["position"]])
    if rng.random() < 0.5:
        return f"{b}背景，{pa}是{_zh_obj(a, rng, False)}，{pc}是{_zh_obj(c, rng, False)}"
    return f"{b}背景上有一个{_zh_obj(a, rng, False)}和一个{_zh_obj(c, rng, False)}"


def _an(s):
    """English article fix-up: 'a orange' -> 'an orange'."""
    return re.sub(r"\ba (?=[aeiou])", "an ", s)


def caption(scene, rng):
    return caption_en(scene, rng) if rng.random() < 0.5 else caption_zh(scene, rng)


def make_scenes(n, seed=1234, two_prob=0.2):
    rng = random.Random(seed)
    return [sample_scene(rng, two_prob) for _ in range(n)]


def render_all(scenes):
    out = np.empty((len(scenes), SIZE, SIZE, 3), dtype=np.uint8)
    for i, s in enumerate(scenes):
        out[i] = render(s)
    return out


# ---- the fixed evaluation prompts (shared by tests/test_default_model.c and the
# diffusers check; keep the two lists in sync) -------------------------------------------

def eval_cases():
    """(group, prompt, colour, shape, background, position or None, seed)."""
    cases = []
    en = [("red", "circle", "blue", "left"), ("yellow", "star", "black", "centre"),
          ("white", "square", "green", "right"), ("blue", "triangle", "yellow", "top"),
          ("black", "ring", "white", "bottom"), ("green", "circle", "purple", "centre"),
          ("orange", "star", "blue", "left"), ("purple", "square", "yellow", "right"),
          ("red", "ring", "white", "centre"), ("white", "triangle", "black", "bottom"),
          ("green", "square", "red", "top"), ("blue", "circle", "orange", "centre"),
          ("yellow", "ring", "purple", "left"), ("black", "star", "yellow", "right"),
          ("orange", "circle", "green", "bottom"), ("purple", "triangle", "white", "centre")]
    zh = [("red", "circle", "blue", "left"), ("yellow", "star", "black", "centre"),
          ("white", "square", "green", "right"), ("blue", "triangle", "yellow", "top"),
          ("black", "ring", "white", "bottom"), ("green", "circle", "purple", "centre"),
          ("orange", "star", "blue", "left"), ("purple", "square", "yellow", "right"),
          ("red", "ring", "white", "centre"), ("white", "triangle", "black", "bottom"),
          ("green", "square", "red", "top"), ("blue", "circle", "orange", "centre"),
          ("yellow", "ring", "purple", "left"), ("black", "star", "yellow", "right"),
          ("orange", "circle", "green", "bottom"), ("purple", "triangle", "white", "centre")]
    unseen = [("green", "star", "white", "centre"), ("purple", "circle", "yellow", "left"),
              ("yellow", "triangle", "blue", "right"), ("blue", "ring", "white", "top"),
              ("orange", "square", "black", "bottom"), ("red", "triangle", "green", "centre"),
              ("green", "star", "black", "left"), ("purple", "circle", "white", "right"),
              ("yellow", "triangle", "purple", "centre"), ("blue", "ring", "yellow", "bottom"),
              ("orange", "square", "blue", "top"), ("red", "triangle", "white", "left")]
    for i, (c, s, b, p) in enumerate(en):
        cases.append(("en", _an(f"a {c} {s} {EN_POS[p][0]} on a {b} background"), c, s, b, p, 100 + i))
    for i, (c, s, b, p) in enumerate(zh):
        cases.append(("zh", f"{ZH_COLOUR[b]}背景，{ZH_POS[p][0]}一个{ZH_COLOUR[c]}{ZH_SHAPE[s][0]}",
                      c, s, b, p, 200 + i))
    for i, (c, s, b, p) in enumerate(unseen):
        if i % 2 == 0:
            pr = _an(f"a {c} {s} {EN_POS[p][0]} on a {b} background")
        else:
            pr = f"{ZH_COLOUR[b]}背景，{ZH_POS[p][0]}一个{ZH_COLOUR[c]}{ZH_SHAPE[s][0]}"
        cases.append(("unseen", pr, c, s, b, p, 300 + i))
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="write N training scenes as PNG + captions.jsonl here")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--sample", help="write the checker's ground-truth sample (single objects, "
                    "held-out pairs included) as PNGs + truth.txt here")
    a = ap.parse_args()
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        rng = random.Random(a.seed + 1)
        scenes = make_scenes(a.n, a.seed)
        with open(os.path.join(a.out, "captions.jsonl"), "w", encoding="utf-8") as f:
            for i, s in enumerate(scenes):
                Image.fromarray(render(s)).save(os.path.join(a.out, f"{i:06d}.png"))
                f.write(json.dumps({"file": f"{i:06d}.png", "scene": s,
                                    "en": caption_en(s, rng), "zh": caption_zh(s, rng)},
                                   ensure_ascii=False) + "\n")
    if a.sample:
        os.makedirs(a.sample, exist_ok=True)
        rng = random.Random(777)
        lines = []
        i = 0
        # every shape x position at least once, colours/backgrounds cycling
        for k in range(40):
            shape = SHAPES[k % 5]
            pos = POSITIONS[(k // 5) % 5]
            bg = COLOUR_NAMES[(3 * k) % 8]
            col = COLOUR_NAMES[(5 * k + 1) % 8]
            if col == bg:
                col = COLOUR_NAMES[(5 * k + 2) % 8]
            scene = sample_scene(rng, two_prob=0.0, allow_held_out=True)
            o = scene["objects"][0]
            cx, cy = CENTRES[pos]
            o.update(colour=col, shape=shape, position=pos, size=SIZES[k % 2],
                     cx=cx + rng.uniform(-5, 5), cy=cy + rng.uniform(-5, 5))
            o["r"] = rng.uniform(26, 31) if o["size"] == "large" else rng.uniform(12, 16)
            scene["background"] = bg
            name = f"s{i:02d}.png"
            Image.fromarray(render(scene)).save(os.path.join(a.sample, name), optimize=True)
            lines.append(f"{name} {bg} {col} {shape} {pos}")
            i += 1
        with open(os.path.join(a.sample, "truth.txt"), "w") as f:
            f.write("# file background colour shape position (written by scripts/train/make_dataset.py --sample)\n")
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
