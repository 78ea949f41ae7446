#!/usr/bin/env python3
"""test_server_edit.py — the editing routes of t2i-server over HTTP on
loopback (tiny-sd1 and tiny-sd1-inpaint; Python standard library only):

  A1111   POST /sdapi/v1/img2img: the image equals the CLI's `t2i -i` run
          with the same settings pixel for pixel; a data: URL works;
          inpainting keeps every pixel the blurred mask leaves at 0 exactly
          (and inpainting_mask_invert the other side); the info and the
          infotext carry the denoising strength; the records hold the
          request with its images replaced by their sizes; interrupt and
          progress work on an img2img job; a 9-channel inpainting model.
  OpenAI  POST /v1/images/edits (multipart; the mask's transparent pixels
          are edited, the opaque ones kept exactly; without a mask the
          image's own transparency), /v1/images/variations (n images).
  Bad input, each a 4xx naming the field and the server alive: invalid
          base64, not an image, a truncated PNG and JPEG, a PNG declaring
          50000x50000, mask size differs, all-zero / all-one masks, strength
          outside [0, 1], resize_mode 3, two init images, an image above
          --max-side with no size given, a model whose VAE has no encoder
          (it still draws), a JSON body to a multipart route,
          a form without its closing delimiter, an opaque OpenAI mask, a
          mask for a variation.

usage: python3 tests/test_server_edit.py path/to/t2i-server
"""
import base64
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_server_util import ROOT, TINY_SD1, Server, b64png_size, check, finish  # noqa: E402

EXE = sys.argv[1]
CLI = os.path.join(os.path.dirname(os.path.abspath(EXE)), "t2i")
TINY_INPAINT = os.path.join(ROOT, "tests", "fixtures", "tiny-sd1-inpaint")


# ---- PNG without Pillow -------------------------------------------------------

def png_encode(w, h, rows, channels):
    """rows: list of h bytes objects of w*channels bytes (8-bit RGB or RGBA)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    raw = b"".join(b"\0" + r for r in rows)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6 if channels == 4 else 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def png_decode(data):
    """(w, h, channels, pixel bytes) of an 8-bit non-interlaced RGB/RGBA PNG."""
    w, h, depth, ctype = struct.unpack(">IIBB", data[16:26])
    assert depth == 8 and ctype in (2, 6), (depth, ctype)
    ch = 4 if ctype == 6 else 3
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    raw, out, prev, stride = zlib.decompress(idat), bytearray(), bytearray(w * ch), w * ch
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - ch] if i >= ch else 0
            b, c = prev[i], prev[i - ch] if i >= ch else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += line
        prev = line
    return w, h, ch, bytes(out)


def mask_png(w, h, marked, rgba=False):
    """A black/white mask (white = marked(x, y)); rgba: alpha 0 where marked
    (OpenAI's convention), opaque elsewhere."""
    rows = []
    for y in range(h):
        r = bytearray()
        for x in range(w):
            m = marked(x, y)
            r += bytes((0, 0, 0, 0)) if rgba and m else bytes((0, 0, 0, 255)) if rgba else bytes((255,) * 3 if m else (0,) * 3)
        rows.append(bytes(r))
    return png_encode(w, h, rows, 4 if rgba else 3)


def columns_equal(a, b, w, h, ch, xs):
    return all(a[(y * w + x) * ch:(y * w + x + 1) * ch] == b[(y * w + x) * ch:(y * w + x + 1) * ch]
               for y in range(h) for x in xs)


def multipart(fields, files):
    """(content type, body) for text fields {name: value} and files [(name, filename, bytes)]."""
    bnd = "t2iTestBoundary7MA4YWxkTrZu0gW"
    out = b""
    for k, v in fields.items():
        out += f'--{bnd}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    for name, fn, data in files:
        out += (f'--{bnd}\r\nContent-Disposition: form-data; name="{name}"; filename="{fn}"\r\n'
                f'Content-Type: image/png\r\n\r\n').encode() + data + b"\r\n"
    return f"multipart/form-data; boundary={bnd}", out + f"--{bnd}--\r\n".encode()


def post_form(s, path, fields, files):
    ct, body = multipart(fields, files)
    st, _, data = s.request("POST", path, raw=body, headers={"Content-Type": ct})
    try:
        return st, json.loads(data)
    except ValueError:
        return st, {}


def err_field(b):
    return (b or {}).get("error", {}).get("param")


# ---- A1111 ----------------------------------------------------------------------

def test_a1111(s, db):
    st, b = s.json("POST", "/sdapi/v1/txt2img", {"prompt": "a red circle", "steps": 4, "seed": 77, "width": 64,
                                                 "height": 64})
    init_b64 = b["images"][0]
    init = base64.b64decode(init_b64)
    req = {"init_images": [init_b64], "prompt": "a blue square", "steps": 4, "seed": 5, "cfg_scale": 7,
           "sampler_name": "Euler a", "denoising_strength": 0.6}
    st, b = s.json("POST", "/sdapi/v1/img2img", req)
    ok = check(st == 200 and len(b["images"]) == 1 and b64png_size(b["images"][0]) == (64, 64), f"img2img -> {st} {b}")
    if not ok:
        return init_b64
    info = json.loads(b["info"])
    check(info["denoising_strength"] == 0.6 and "Denoising strength: 0.6" in info["infotexts"][0],
          f"img2img info {info['denoising_strength']} {info['infotexts']}")
    check(b["parameters"]["init_images"] == ["<image 64x64>"], f"parameters echo {b['parameters'].get('init_images')}")
    out = base64.b64decode(b["images"][0])
    check(out != init, "img2img changed the image")
    # The same request through the CLI (the C API underneath) draws the same pixels.
    if os.path.exists(CLI):
        with tempfile.TemporaryDirectory() as d:
            ip, op = os.path.join(d, "in.png"), os.path.join(d, "out.png")
            open(ip, "wb").write(init)
            r = subprocess.run([CLI, "-m", TINY_SD1, "-p", "a blue square", "-s", "5", "--steps", "4", "--cfg", "7",
                                "--sampler", "euler_a", "-i", ip, "--strength", "0.6", "-o", op, "-q"],
                               capture_output=True, text=True, timeout=120)
            ok = r.returncode == 0 and os.path.exists(op)
            check(ok, f"CLI img2img: {r.stderr}")
            if ok:
                check(png_decode(open(op, "rb").read())[3] == png_decode(out)[3], "server img2img == CLI img2img")
    # data: URL, and the same seed gives the same image.
    st, b2 = s.json("POST", "/sdapi/v1/img2img", {**req, "init_images": ["data:image/png;base64," + init_b64]})
    check(st == 200 and b2["images"][0] == b["images"][0], f"data: URL init image -> {st}")
    # The native job API takes the same fields.
    st, jb = s.json("POST", "/v1/jobs", req)
    ok = check(st == 202, f"POST /v1/jobs with init_images -> {st} {jb}")
    for _ in range(600 if ok else 0):
        st, jr = s.json("GET", f"/v1/jobs/{jb['id']}?images=1")
        if jr.get("state") in ("done", "failed", "cancelled"):
            break
        time.sleep(0.05)
    if ok:
        check(jr.get("state") == "done" and jr["images"][0].get("b64_json") == b["images"][0],
              f"native job edit == img2img ({jr.get('state')}, {jr.get('error')})")
    st, jb = s.json("POST", "/v1/jobs", {**req, "denoising_strength": 2})
    check(st == 400 and err_field(jb) == "denoising_strength", f"native job bad strength -> {st}")
    # Records: the request without its base64.
    row = sqlite3.connect(db).execute("SELECT request_json FROM requests WHERE request_json LIKE '%<image 64x64>%'"
                                      ).fetchone()
    check(row is not None and init_b64[:40] not in row[0], "records keep the edit request without the image")

    # Inpainting: left half marked; mask blur 4 reaches 2*int(2.5*4+0.5)+1 = 21 taps, so columns 32+10.. are
    # outside the blurred mask and must be identical (only-masked crop and the full-frame path alike).
    _, _, ch, init_px = png_decode(init)
    left = base64.b64encode(mask_png(64, 64, lambda x, y: x < 32)).decode()
    for full_res in (False, True):
        for invert in (0, 1):
            st, b = s.json("POST", "/sdapi/v1/img2img", {**req, "mask": left, "mask_blur": 4, "denoising_strength": 1,
                                                         "inpaint_full_res": full_res, "inpainting_mask_invert": invert,
                                                         "inpainting_fill": 1})
            if not check(st == 200, f"inpaint full_res={full_res} invert={invert} -> {st} {b}"):
                continue
            _, _, _, px = png_decode(base64.b64decode(b["images"][0]))
            keep, changed = (range(43, 64), range(0, 20)) if not invert else (range(0, 21), range(44, 64))
            check(columns_equal(px, init_px, 64, 64, ch, keep), f"inpaint invert={invert}: unmasked pixels identical")
            check(not columns_equal(px, init_px, 64, 64, ch, changed), f"inpaint invert={invert}: masked area redrawn")
            check("Mask blur: 4" in json.loads(b["info"])["infotexts"][0], "infotext has Mask blur")
    return init_b64


def test_a1111_bad(s, init_b64):
    init = base64.b64decode(init_b64)
    base = {"prompt": "x", "steps": 2, "init_images": [init_b64]}
    huge = bytearray(init[:33])
    huge[16:24] = struct.pack(">II", 50000, 50000)   # the IHDR's size (its CRC no longer matches: never read)
    jpeg = open(os.path.join(ROOT, "tests", "fixtures", "edit", "exif6.jpg"), "rb").read()
    b64 = lambda d: base64.b64encode(d).decode()  # noqa: E731
    cases = [
        ({"init_images": ["not base64 !"]}, "init_images[0]", "base64"),
        ({"init_images": [b64(b"hello, not an image")]}, "init_images[0]", "not a PNG or JPEG"),
        ({"init_images": [b64(bytes(huge))]}, "init_images[0]", "50000x50000"),
        ({"init_images": [b64(init[:len(init) // 2])]}, "init_images[0]", "not a valid image"),
        ({"init_images": [b64(jpeg[:len(jpeg) // 2])]}, "init_images[0]", "not a valid image"),
        ({"init_images": []}, "init_images", "required"),
        ({"init_images": None}, "init_images", "required"),
        ({"init_images": [init_b64, init_b64]}, "init_images", "one image"),
        ({"init_images": [5]}, "init_images[0]", "string"),
        ({"denoising_strength": 1.5}, "denoising_strength", "outside"),
        ({"denoising_strength": -0.1}, "denoising_strength", "outside"),
        ({"denoising_strength": "a lot"}, "denoising_strength", "number"),
        ({"resize_mode": 3}, "resize_mode", "not implemented"),
        ({"resize_mode": 9}, "resize_mode", "outside"),
        ({"inpainting_fill": 4}, "inpainting_fill", "outside"),
        ({"mask_blur": -1}, "mask_blur", "outside"),
        ({"inpaint_full_res": "yes"}, "inpaint_full_res", "true or false"),
        ({"mask": b64(mask_png(32, 32, lambda x, y: x < 16))}, "mask", "same size"),
        ({"mask": "%%%"}, "mask", "base64"),
        ({"mask": b64(b"GIF89a....")}, "mask", "not a PNG or JPEG"),
    ]
    for extra, field, words in cases:
        st, b = s.json("POST", "/sdapi/v1/img2img", {**base, **extra})
        check(st == 400 and err_field(b) == field and words in b["error"]["message"],
              f"img2img {list(extra)} -> {st} {b}")
    # Masks that mark nothing or everything: refused by the engine when the job runs, naming the mask.
    for what, marked in (("all zero", lambda x, y: False), ("all one", lambda x, y: True)):
        st, b = s.json("POST", "/sdapi/v1/img2img", {**base, "mask": b64(mask_png(64, 64, marked))})
        check(st == 400 and "mask" in b["error"]["message"], f"{what} mask -> {st} {b}")
    # Above --max-side (128 here) with no size given; with width/height it is resized to them.
    big = png_encode(192, 64, [bytes(192 * 3)] * 64, 3)
    st, b = s.json("POST", "/sdapi/v1/img2img", {**base, "init_images": [b64(big)]})
    check(st == 400 and err_field(b) == "init_images[0]" and "--max-side" in b["error"]["message"], f"big -> {st} {b}")
    st, b = s.json("POST", "/sdapi/v1/img2img", {**base, "init_images": [b64(big)], "width": 64, "height": 64})
    check(st == 200 and b64png_size(b["images"][0]) == (64, 64), f"big resized -> {st}")
    st, b = s.json("GET", "/health")
    check(st == 200, "alive after the bad img2img requests")


def test_interrupt(s, init_b64):
    """An img2img job shows progress and stops on /sdapi/v1/interrupt."""
    res = {}

    def run():
        res["r"] = s.json("POST", "/sdapi/v1/img2img", {"init_images": [init_b64], "prompt": "x", "steps": 150,
                                                        "denoising_strength": 1.0, "seed": 3}, timeout=120)
    t = threading.Thread(target=run)
    t.start()
    seen = False
    for _ in range(400):
        st, p = s.json("GET", "/sdapi/v1/progress")
        if st == 200 and p["state"]["sampling_step"] > 0:
            seen = True
            break
        time.sleep(0.01)
    check(seen, "img2img progress seen")
    s.json("POST", "/sdapi/v1/interrupt")
    t.join(120)
    st, b = res.get("r", (0, {}))
    check(st == 200 and json.loads(b["info"])["interrupted"] is True, f"img2img interrupted -> {st}")


def test_inpaint_model(exe):
    """A 9-channel inpainting UNet through the same route."""
    s = Server(exe, "--db", ":memory:", model=TINY_INPAINT)
    try:
        img = png_encode(64, 64, [bytes(v for x in range(64) for v in (x * 4, 80, 160)) for _ in range(64)], 3)
        m = base64.b64encode(mask_png(64, 64, lambda x, y: 16 <= x < 48 and 16 <= y < 48)).decode()
        st, b = s.json("POST", "/sdapi/v1/img2img", {"init_images": [base64.b64encode(img).decode()], "mask": m,
                                                     "prompt": "x", "steps": 3, "seed": 1, "denoising_strength": 1,
                                                     "inpaint_full_res": False})
        ok = check(st == 200, f"inpainting model -> {st} {b}")
        if ok:
            _, _, ch, px = png_decode(base64.b64decode(b["images"][0]))
            _, _, _, ref = png_decode(img)
            check(px[:64 * 3 * 5] == ref[:64 * 3 * 5], "inpainting model keeps the rows above the blurred mask")
    finally:
        s.stop()


# ---- OpenAI ---------------------------------------------------------------------

def test_openai(s, init_b64):
    init = base64.b64decode(init_b64)
    _, _, ch, init_px = png_decode(init)
    edit_left = mask_png(64, 64, lambda x, y: x < 32, rgba=True)   # transparent = edit
    st, b = post_form(s, "/v1/images/edits", {"prompt": "a green star", "n": "2", "size": "64x64"},
                      [("image", "i.png", init), ("mask", "m.png", edit_left)])
    ok = check(st == 200 and len(b["data"]) == 2 and b["size"] == "64x64", f"edits -> {st} {b}")
    if ok:
        for d in b["data"]:
            _, _, _, px = png_decode(base64.b64decode(d["b64_json"]))
            check(columns_equal(px, init_px, 64, 64, ch, range(43, 64)), "edits keep the opaque part of the mask")
            check(not columns_equal(px, init_px, 64, 64, ch, range(0, 20)), "edits redraw the transparent part")
    # No mask: the image's own transparency.
    _, _, _, px3 = png_decode(init)
    rgba = png_encode(64, 64, [b"".join(px3[(y * 64 + x) * 3:(y * 64 + x + 1) * 3] + bytes((0 if x < 32 else 255,))
                                        for x in range(64)) for y in range(64)], 4)
    st, b = post_form(s, "/v1/images/edits", {"prompt": "a green star"}, [("image", "i.png", rgba)])
    check(st == 200 and len(b["data"]) == 1, f"edits with the image's alpha -> {st} {b}")
    st, b = post_form(s, "/v1/images/edits", {"prompt": "x", "response_format": "url"}, [("image[]", "i.png", init)])
    check(st == 200 and b["data"][0]["url"].endswith(".png"), f"edits url (image[]) -> {st} {b}")
    st, b = post_form(s, "/v1/images/variations", {"n": "2"}, [("image", "i.png", init)])
    ok = check(st == 200 and len(b["data"]) == 2, f"variations -> {st} {b}")
    if ok:
        check(b["data"][0]["b64_json"] != b["data"][1]["b64_json"], "two different variations")
    # Bad input.
    opaque = mask_png(64, 64, lambda x, y: False, rgba=True)
    cases = [
        ("/v1/images/edits", {"prompt": "x"}, [], "image", "required"),
        ("/v1/images/edits", {"prompt": "x"}, [("image", "a.png", init), ("image", "b.png", init)], "image", "one image"),
        ("/v1/images/edits", {"prompt": "x"}, [("image", "a.png", b"not an image")], "image", "not a PNG or JPEG"),
        ("/v1/images/edits", {"prompt": "x"}, [("image", "a.png", init[:200])], "image", "not a valid image"),
        ("/v1/images/edits", {}, [("image", "a.png", init)], "prompt", "required"),
        ("/v1/images/edits", {"prompt": "x", "n": "0"}, [("image", "a.png", init)], "n", "outside"),
        ("/v1/images/edits", {"prompt": "x", "size": "65x65"}, [("image", "a.png", init)], "size", "multiples"),
        ("/v1/images/edits", {"prompt": "x", "strength": "2"}, [("image", "a.png", init)], "strength", "outside"),
        ("/v1/images/edits", {"prompt": "x"}, [("image", "a.png", init), ("mask", "m.png", opaque)], "mask",
         "no transparent"),
        ("/v1/images/edits", {"prompt": "x"}, [("image", "a.png", init),
                                               ("mask", "m.png", mask_png(32, 64, lambda x, y: x < 8, True))],
         "mask", "same size"),
        ("/v1/images/variations", {}, [("image", "a.png", init), ("mask", "m.png", edit_left)], "mask", "no mask"),
    ]
    for path, fields, files, field, words in cases:
        st, b = post_form(s, path, fields, files)
        check(st == 400 and err_field(b) == field and words in b["error"]["message"],
              f"{path} {fields} {[f[0] for f in files]} -> {st} {b}")
    st, b = s.json("POST", "/v1/images/edits", {"prompt": "x"})
    check(st == 400 and err_field(b) == "body" and "multipart" in b["error"]["message"], f"JSON edits -> {st} {b}")
    ct, body = multipart({"prompt": "x"}, [("image", "a.png", init)])
    st, _, data = s.request("POST", "/v1/images/edits", raw=body[:-40], headers={"Content-Type": ct})
    check(st == 400 and json.loads(data)["error"]["param"] == "body", f"unclosed form -> {st}")
    st, b = s.json("GET", "/health")
    check(st == 200, "alive after the bad edit requests")


def decoder_only_model(d):
    """tiny-sd1 with the VAE's encoder tensors removed (it still draws)."""
    for part in ("model_index.json", "scheduler", "text_encoder", "tokenizer", "unet"):
        os.symlink(os.path.join(TINY_SD1, part), os.path.join(d, part))
    os.makedirs(os.path.join(d, "vae"))
    shutil.copy(os.path.join(TINY_SD1, "vae", "config.json"), os.path.join(d, "vae"))
    raw = open(os.path.join(TINY_SD1, "vae", "diffusion_pytorch_model.safetensors"), "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    head, data = json.loads(raw[8:8 + n]), raw[8 + n:]
    out_head, blobs, at = {}, [], 0
    for name, t in head.items():
        if name == "__metadata__":
            out_head[name] = t
            continue
        if name.startswith(("encoder.", "quant_conv.")):
            continue
        a, b = t["data_offsets"]
        blobs.append(data[a:b])
        out_head[name] = {**t, "data_offsets": [at, at + b - a]}
        at += b - a
    h = json.dumps(out_head).encode()
    h += b" " * (-len(h) % 8)
    with open(os.path.join(d, "vae", "diffusion_pytorch_model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def test_no_encoder(exe, init_b64):
    """A model whose VAE cannot encode draws, and refuses an edit with a 4xx saying why."""
    with tempfile.TemporaryDirectory() as d:
        model = os.path.join(d, "decoder-only")
        os.makedirs(model)
        decoder_only_model(model)
        s = Server(exe, "--db", ":memory:", model=model)
        try:
            st, b = s.json("POST", "/sdapi/v1/txt2img", {"prompt": "x", "steps": 2, "width": 64, "height": 64})
            check(st == 200, f"decoder-only model draws -> {st}")
            st, b = s.json("POST", "/sdapi/v1/img2img", {"prompt": "x", "steps": 2, "init_images": [init_b64]})
            msg = (b or {}).get("error", {}).get("message", "")
            check(st == 400 and "no encoder weights" in msg and "init image" in msg and d not in msg,
                  f"edit with a decoder-only VAE -> {st} {msg}")
        finally:
            s.stop()


def main():
    with tempfile.TemporaryDirectory() as d:
        db = os.path.join(d, "records.db")
        s = Server(EXE, "--db", db, "--max-side", "128")
        try:
            init_b64 = test_a1111(s, db)
            test_a1111_bad(s, init_b64)
            test_openai(s, init_b64)
            test_interrupt(s, init_b64)
        finally:
            s.stop()
    if os.path.isdir(TINY_INPAINT):
        test_inpaint_model(EXE)
    test_no_encoder(EXE, init_b64)
    finish()


if __name__ == "__main__":
    main()
