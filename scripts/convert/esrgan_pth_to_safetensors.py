#!/usr/bin/env python3
"""Convert a published ESRGAN / Real-ESRGAN .pth (RealESRGAN_x4plus.pth,
RealESRGAN_x2plus.pth, ...) into the .safetensors t2i loads.

The file is read with torch.load(weights_only=True), which unpickles tensors
and plain containers only (no code paths of the pickle run). The state dict is
taken from the 'params_ema' key, else 'params', else the top level; the names
must be the published RRDBNet ones (conv_first, body.N.rdbM.convK, conv_body,
conv_up1, conv_up2, conv_hr, conv_last). Tensors are written as F32 (or
--dtype f16).

    python scripts/convert/esrgan_pth_to_safetensors.py RealESRGAN_x4plus.pth RealESRGAN_x4plus.safetensors
"""
import argparse
import re
import sys

import torch
from safetensors.torch import save_file

NAME = re.compile(r"^(conv_first|conv_body|conv_up1|conv_up2|conv_hr|conv_last|body\.\d+\.rdb[123]\.conv[1-5])"
                  r"\.(weight|bias)$")


def state_dict_of(obj):
    if isinstance(obj, dict):
        for key in ("params_ema", "params"):
            if key in obj and isinstance(obj[key], dict):
                return obj[key]
        return obj
    raise ValueError("the file holds no state dict")


def convert(src, dst, dtype="f32"):
    sd = state_dict_of(torch.load(src, map_location="cpu", weights_only=True))
    out = {}
    for k, v in sd.items():
        if not isinstance(v, torch.Tensor):
            raise ValueError(f"{src}: entry {k!r} is not a tensor")
        if not NAME.match(k):
            raise ValueError(f"{src}: {k!r} is not an RRDBNet parameter name (conv_first, body.N.rdbM.convK, "
                             "conv_body, conv_up1, conv_up2, conv_hr, conv_last)")
        v = v.detach().to(torch.float16 if dtype == "f16" else torch.float32).contiguous()
        out[k] = v
    if "conv_first.weight" not in out:
        raise ValueError(f"{src}: no conv_first.weight (not an RRDBNet state dict)")
    save_file(out, dst)
    return len(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--dtype", choices=["f32", "f16"], default="f32")
    a = ap.parse_args()
    try:
        n = convert(a.src, a.dst, a.dtype)
    except (ValueError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {n} tensors to {a.dst}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
