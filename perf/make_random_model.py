#!/usr/bin/env python3
"""make_random_model.py — a full-size diffusers folder with seeded random FP32
weights, for memory measurements of model loading (not committed: an SD1.5
folder is 4.3 GB).

    /work/pyenv/bin/python perf/make_random_model.py sd15 /tmp/sd15-random

Builds the components of perf/configs/<name>/ with diffusers/transformers
(default initialisation, torch.manual_seed(0)), saves them with
save_pretrained (safetensors, FP32, unsharded), and copies the real CLIP
tokenizer of tests/fixtures/tiny-sd1/tokenizer. The images are noise; the
bytes, shapes and file layout are those of the real checkpoint.
"""
import json
import os
import shutil
import sys

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    name, out = sys.argv[1], sys.argv[2]
    cfg = os.path.join(HERE, "configs", name)
    if not os.path.isdir(os.path.join(cfg, "text_encoder")):
        sys.exit(f"{cfg}: no such preset with a single text encoder (sd15, sd21)")
    torch.manual_seed(0)
    os.makedirs(out, exist_ok=True)
    shutil.copy(os.path.join(cfg, "model_index.json"), out)
    shutil.copytree(os.path.join(cfg, "scheduler"), os.path.join(out, "scheduler"), dirs_exist_ok=True)
    shutil.copytree(os.path.join(ROOT, "tests/fixtures/tiny-sd1/tokenizer"), os.path.join(out, "tokenizer"),
                    dirs_exist_ok=True)
    with torch.no_grad():
        unet = UNet2DConditionModel.from_config(json.load(open(os.path.join(cfg, "unet/config.json"))))
        unet.save_pretrained(os.path.join(out, "unet"), safe_serialization=True, max_shard_size="100GB")
        del unet
        vae = AutoencoderKL.from_config(json.load(open(os.path.join(cfg, "vae/config.json"))))
        vae.save_pretrained(os.path.join(out, "vae"), safe_serialization=True, max_shard_size="100GB")
        del vae
        te = CLIPTextModel(CLIPTextConfig.from_pretrained(os.path.join(cfg, "text_encoder")))
        te.save_pretrained(os.path.join(out, "text_encoder"), safe_serialization=True, max_shard_size="100GB")
    print(out)


if __name__ == "__main__":
    main()
