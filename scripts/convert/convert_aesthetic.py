#!/usr/bin/env python3
"""Convert the LAION improved aesthetic predictor (the published
`sac+logos+ava1-l14-linearMSE.pth`, a PyTorch state dict of its MLP over CLIP
ViT-L/14 embeddings) into the .safetensors t2i loads (t2i_scorer_load's
aesthetic_path).

The file is read with torch.load(weights_only=True): tensors only, no pickled
code runs. The state-dict names are kept (layers.0/2/4/6/7 .weight/.bias) and
the layer sizes checked against the published ones (768 → 1024 → 128 → 64 →
16 → 1).

    python scripts/convert/convert_aesthetic.py sac+logos+ava1-l14-linearMSE.pth aesthetic.safetensors
"""
import argparse

import torch
from safetensors.torch import save_file

SHAPES = {"layers.0.weight": (1024, None), "layers.0.bias": (1024,), "layers.2.weight": (128, 1024),
          "layers.2.bias": (128,), "layers.4.weight": (64, 128), "layers.4.bias": (64,),
          "layers.6.weight": (16, 64), "layers.6.bias": (16,), "layers.7.weight": (1, 16), "layers.7.bias": (1,)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pth")
    ap.add_argument("out")
    a = ap.parse_args()
    sd = torch.load(a.pth, map_location="cpu", weights_only=True)
    if "state_dict" in sd:
        sd = sd["state_dict"]
    out = {}
    for name, shape in SHAPES.items():
        if name not in sd:
            raise SystemExit(f"{a.pth}: no tensor '{name}' (not the LAION aesthetic predictor's MLP)")
        t = sd[name]
        if len(t.shape) != len(shape) or any(s is not None and s != d for s, d in zip(shape, t.shape)):
            raise SystemExit(f"{a.pth}: '{name}' has shape {tuple(t.shape)}, expected {shape}")
        out[name] = t.to(torch.float32).contiguous()
    extra = sorted(set(sd) - set(SHAPES))
    if extra:
        print("ignored:", ", ".join(extra))
    save_file(out, a.out)
    print(f"{a.out}: input width {out['layers.0.weight'].shape[1]}")


if __name__ == "__main__":
    main()
