#!/usr/bin/env python3
"""test_server_upscale.py — t2i-server's upscalers over HTTP on loopback
(tiny-sd1 and the small random RRDBNets of tests/fixtures/esrgan; Python
standard library only):

  GET /sdapi/v1/upscalers lists "None", "Lanczos" and each --upscaler with
      its name and scale (x2: 2, x4: 4).
  POST /sdapi/v1/txt2img with enable_hr draws at the target size through
      t2i_txt2img_hires: with hr_upscaler x2 the pixels equal the CLI's
      `t2i --hires 2 --hires-upscaler x2` with the same settings; hr_resize_x/y,
      "Lanczos", hr_prompt; the infotext names the hires pass.
  Bad input, each a 400 naming the field and the server alive: an unknown
      hr_upscaler, a latent hr_upscaler, a target beyond --max-side (by
      hr_scale and by hr_resize_x), hr_scale outside 1..8, denoising_strength
      outside 0..1, enable_hr on img2img; an --upscaler that is not an
      RRDBNet keeps the server from serving.

usage: python3 tests/test_server_upscale.py path/to/t2i-server
"""
import base64
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_server_util import ROOT, TINY_SD1, Server, b64png_size, check, finish  # noqa: E402

EXE = sys.argv[1]
CLI = os.path.join(os.path.dirname(os.path.abspath(EXE)), "t2i")
ESR = os.path.join(ROOT, "tests", "fixtures", "esrgan")


def pixels(png):
    """The decompressed IDAT stream (filtered rows) of a PNG."""
    pos, idat = 8, b""
    while pos < len(png):
        n, kind = struct.unpack(">I4s", png[pos:pos + 8])
        if kind == b"IDAT":
            idat += png[pos + 8:pos + 8 + n]
        pos += 12 + n
    return zlib.decompress(idat)


def err_field(b):
    return (b or {}).get("error", {}).get("param")


def test_list(s):
    st, b = s.json("GET", "/sdapi/v1/upscalers")
    names = [u.get("name") for u in b or []]
    check(st == 200 and names == ["None", "Lanczos", "x2", "x4"], f"upscalers -> {st} {b}")
    if st == 200 and len(b) == 4:
        check(b[2]["scale"] == 2 and b[3]["scale"] == 4 and b[2]["model_name"] == "x2", f"upscaler scales {b}")
        check(all(set(u) >= {"name", "model_name", "model_path", "model_url", "scale"} for u in b), "A1111 fields")
        check(all(ROOT not in json.dumps(u) for u in b), "no server path in the listing")


BASE = {"prompt": "a red circle", "seed": 3, "steps": 2, "width": 64, "height": 64, "cfg_scale": 7,
        "sampler_name": "Euler a"}


def test_hires(s):
    req = {**BASE, "enable_hr": True, "hr_scale": 2, "hr_upscaler": "x2", "hr_second_pass_steps": 2,
           "denoising_strength": 0.5}
    st, b = s.json("POST", "/sdapi/v1/txt2img", req, timeout=300)
    ok = check(st == 200 and b64png_size(b["images"][0]) == (128, 128), f"enable_hr -> {st} {str(b)[:300]}")
    if not ok:
        return
    info = json.loads(b["info"])["infotexts"][0]
    check("Hires upscale: 2" in info and "Hires upscaler:" in info and "Hires steps: 2" in info,
          f"hires infotext: {info}")
    out = base64.b64decode(b["images"][0])
    if os.path.exists(CLI):
        with tempfile.TemporaryDirectory() as d:
            op = os.path.join(d, "out.png")
            r = subprocess.run([CLI, "-m", TINY_SD1, "-p", "a red circle", "-s", "3", "--steps", "2", "--cfg", "7",
                                "--sampler", "euler_a", "-W", "64", "-H", "64", "--hires", "2", "--hires-steps", "2",
                                "--hires-strength", "0.5", "--hires-upscaler", os.path.join(ESR, "x2"), "-o", op,
                                "-q"], capture_output=True, text=True, timeout=300)
            ok = check(r.returncode == 0 and os.path.exists(op), f"CLI hires: {r.stderr}")
            if ok:
                check(pixels(open(op, "rb").read()) == pixels(out), "server hires == CLI hires, pixel for pixel")
    # The first pass alone differs (the hires pass did something at the target size).
    st, b0 = s.json("POST", "/sdapi/v1/txt2img", BASE)
    check(st == 200 and b64png_size(b0["images"][0]) == (64, 64), f"plain txt2img -> {st}")
    # hr_resize_x alone keeps the proportions; Lanczos; hr_prompt.
    st, b = s.json("POST", "/sdapi/v1/txt2img", {**BASE, "enable_hr": True, "hr_resize_x": 96, "hr_upscaler": "Lanczos",
                                                  "hr_prompt": "a blue square", "hr_second_pass_steps": 2},
                   timeout=300)
    check(st == 200 and b64png_size(b["images"][0]) == (96, 96), f"hr_resize_x 96, Lanczos -> {st} {str(b)[:300]}")
    st, b = s.json("POST", "/sdapi/v1/txt2img", {**BASE, "enable_hr": True, "hr_resize_x": 128, "hr_resize_y": 64,
                                                  "hr_upscaler": "x4", "hr_second_pass_steps": 2}, timeout=300)
    check(st == 200 and b64png_size(b["images"][0]) == (128, 64), f"hr_resize 128x64 with x4 -> {st} {str(b)[:300]}")


def test_extras(s):
    st, b = s.json("POST", "/sdapi/v1/txt2img", BASE)
    src = b["images"][0]
    st, b = s.json("POST", "/sdapi/v1/extra-single-image", {"image": src, "upscaler_1": "x2", "upscaling_resize": 2},
                   timeout=300)
    ok = check(st == 200 and b64png_size(b.get("image", "")) == (128, 128) and "x2" in b.get("html_info", ""),
               f"extra-single-image x2 -> {st} {str(b)[:300]}")
    if ok and os.path.exists(CLI):
        with tempfile.TemporaryDirectory() as d:
            ip, op = os.path.join(d, "in.png"), os.path.join(d, "out.png")
            open(ip, "wb").write(base64.b64decode(src))
            r = subprocess.run([CLI, "upscale", ip, "-o", op, "--upscale", os.path.join(ESR, "x2") + ":2"],
                               capture_output=True, text=True, timeout=300)
            if check(r.returncode == 0 and os.path.exists(op), f"CLI upscale: {r.stderr}"):
                check(pixels(open(op, "rb").read()) == pixels(base64.b64decode(b["image"])),
                      "server extras == CLI `t2i upscale`, pixel for pixel")
    # A fractional scale (the model, then Lanczos), x4, "None", data: URL.
    st, b = s.json("POST", "/sdapi/v1/extra-single-image", {"image": "data:image/png;base64," + src,
                                                             "upscaler_1": "x4", "upscaling_resize": 3}, timeout=300)
    check(st == 200 and b64png_size(b.get("image", "")) == (192, 192), f"x4 by 3 -> {st} {str(b)[:300]}")
    st, b = s.json("POST", "/sdapi/v1/extra-single-image", {"image": src, "upscaler_1": "None"})
    check(st == 200 and b64png_size(b.get("image", "")) == (64, 64), f"None -> {st} {str(b)[:300]}")
    # resize_mode 1: cover the target, centre-cropped.
    st, b = s.json("POST", "/sdapi/v1/extra-single-image", {"image": src, "upscaler_1": "x2", "resize_mode": 1,
                                                             "upscaling_resize_w": 128, "upscaling_resize_h": 96},
                   timeout=300)
    check(st == 200 and b64png_size(b.get("image", "")) == (128, 96), f"resize_mode 1 128x96 -> {st} {str(b)[:300]}")
    # Batch.
    st, b = s.json("POST", "/sdapi/v1/extra-batch-images", {"imageList": [{"data": src, "name": "a.png"},
                                                                           {"data": src, "name": "b.png"}],
                                                             "upscaler_1": "x2"}, timeout=300)
    ok = check(st == 200 and [b64png_size(i) for i in b.get("images", [])] == [(128, 128)] * 2 and "html_info" in b,
               f"extra-batch-images -> {st} {str(b)[:300]}")
    if ok:
        check(b["images"][0] == b["images"][1], "the same image upscales the same in a batch")
    # Bad input, each a 400 naming the field.
    bad = [
        ("extra-single-image", {"image": src, "upscaler_1": "nope"}, "upscaler_1"),
        ("extra-single-image", {"image": src, "upscaler_1": "Latent"}, "upscaler_1"),
        ("extra-single-image", {"image": src, "upscaler_1": "x2", "upscaling_resize": 3}, "upscaling_resize"),
        ("extra-single-image", {"image": src, "upscaler_1": "x4", "upscaling_resize": 4.5}, "upscaling_resize"),
        ("extra-single-image", {"image": src, "upscaler_1": "x2", "resize_mode": 1, "upscaling_resize_w": 512,
                                "upscaling_resize_h": 64}, "upscaling_resize_w"),
        ("extra-single-image", {"image": src, "upscaler_1": "x4", "upscaling_resize": 4.0 + 0 * 1,
                                "upscaling_resize_w": 1}, None),
        ("extra-single-image", {"image": "!!!not base64!!!", "upscaler_1": "x2"}, "image"),
        ("extra-single-image", {"image": base64.b64encode(b"hello").decode(), "upscaler_1": "x2"}, "image"),
        ("extra-single-image", {"upscaler_1": "x2"}, "image"),
        ("extra-single-image", {"image": src, "upscaler_1": "x2", "upscaler_2": "x4",
                                "extras_upscaler_2_visibility": 0.5}, "upscaler_2"),
        ("extra-single-image", {"image": src, "upscaler_1": "x2", "gfpgan_visibility": 1}, "gfpgan_visibility"),
        ("extra-single-image", {"image": src, "upscaler_1": "x2", "resize_mode": 2}, "resize_mode"),
        ("extra-batch-images", {"imageList": [], "upscaler_1": "x2"}, "imageList"),
        ("extra-batch-images", {"imageList": [{"data": src}, {"data": "@@"}], "upscaler_1": "x2"},
         "imageList[1].data"),
    ]
    for route, body, field in bad:
        st, b = s.json("POST", "/sdapi/v1/" + route, body, timeout=300)
        if field is None:   # x4 by 4 of 64x64 = 256 = --max-side: allowed
            check(st == 200 and b64png_size(b.get("image", "")) == (256, 256), f"x4 by 4 at --max-side -> {st} {str(b)[:300]}")
            continue
        check(st == 400 and err_field(b) == field,
              f"{route} { {k: (v if k != 'image' else v[:12]) for k, v in body.items()} } -> {st} {str(b)[:300]}")
    # A target beyond --max-side (256): x4 of a 128x128 image.
    st, b = s.json("POST", "/sdapi/v1/extra-single-image", {"image": src, "upscaler_1": "x2"}, timeout=300)
    st, b = s.json("POST", "/sdapi/v1/extra-single-image", {"image": b["image"], "upscaler_1": "x4",
                                                             "upscaling_resize": 4})
    check(st == 400 and err_field(b) == "upscaling_resize" and "max-side" in json.dumps(b),
          f"beyond --max-side -> {st} {str(b)[:300]}")


def test_bad(s):
    hr = {**BASE, "enable_hr": True}
    cases = [
        ({**hr, "hr_upscaler": "nope"}, "hr_upscaler", "unknown"),
        ({**hr, "hr_upscaler": "Latent"}, "hr_upscaler", "latent"),
        ({**hr, "hr_upscaler": "Latent (nearest-exact)"}, "hr_upscaler", "latent"),
        ({**hr, "hr_scale": 8}, "hr_scale", "max-side"),
        ({**hr, "width": 128, "hr_scale": 2.5}, "hr_scale", "max-side"),
        ({**hr, "hr_resize_x": 4096}, "hr_resize_x", "max-side"),
        ({**hr, "hr_scale": 9}, "hr_scale", ""),
        ({**hr, "hr_scale": 0.5}, "hr_scale", ""),
        ({**hr, "denoising_strength": 1.5}, "denoising_strength", ""),
        ({**hr, "hr_resize_x": 32, "hr_resize_y": 32}, "hr_resize_x", "smaller"),
        ({**hr, "hr_upscaler": 5}, "hr_upscaler", ""),
    ]
    for body, field, word in cases:
        st, b = s.json("POST", "/sdapi/v1/txt2img", body)
        msg = (b or {}).get("error", {}).get("message", "") if isinstance((b or {}).get("error"), dict) else str(b)
        check(st == 400 and err_field(b) == field and word.lower() in msg.lower(),
              f"{ {k: body[k] for k in body if k not in BASE} } -> {st} {str(b)[:300]}")
    st, b = s.json("POST", "/sdapi/v1/img2img", {**hr, "init_images": ["AAAA"]})
    check(st == 400 and err_field(b) == "enable_hr", f"enable_hr on img2img -> {st} {b}")
    st, _ = s.json("GET", "/health")
    check(st == 200, "server alive after bad input")


def test_bad_file():
    s = Server(EXE, "--upscaler", os.path.join(ESR, "bad_shape.safetensors"), wait_ready=False)
    try:
        import time
        deadline, st = time.time() + 30, 0
        while time.time() < deadline:
            st, _, _ = s.request("GET", "/health")
            if st != 200 and any("upscaler 'bad_shape'" in l for l in s.lines):
                break
            time.sleep(0.1)
        check(st != 200 and any("upscaler 'bad_shape'" in l for l in s.lines),
              f"a bad --upscaler: health {st}, log {s.lines[-3:]}")
    finally:
        s.stop()


def main():
    if not os.path.isdir(TINY_SD1) or not os.path.isdir(ESR):
        print("fixtures missing")
        sys.exit(77)
    s = Server(EXE, "--upscaler", os.path.join(ESR, "x2"), "--upscaler", os.path.join(ESR, "x4"),
               "--max-side", "256")
    try:
        test_list(s)
        test_hires(s)
        test_extras(s)
        test_bad(s)
    finally:
        s.stop()
    test_bad_file()
    finish()


if __name__ == "__main__":
    main()
