#!/usr/bin/env python3
"""test_server_api.py — what OpenAI and A1111 clients read from t2i-server,
checked field by field over HTTP on loopback (two fixture models, tiny-sd1
and tiny-sd2; Python standard library only):

  OpenAI   model selects the model (unknown → 404 code model_not_found);
           stream=true → 400; response_format=url → a URL the server serves
           (until --url-ttl); error.code a string or null; not implemented →
           x-should-retry: false
  A1111    override_settings.sd_model_checkpoint per request (the selected
           model is back for the next); the listing routes in A1111's shapes;
           restore_faces, tiling, CLIP_stop_at_last_layers,
           eta_noise_seed_delta refused by name unless "off"

usage: python3 tests/test_server_api.py path/to/t2i-server
"""
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_server_util import TINY_SD1, TINY_SD2, Server, check, finish, png_size  # noqa: E402

EXE = sys.argv[1]


def model_of(b):
    return json.loads(b["info"])["infotexts"][0].split("Model: ")[1].split(",")[0]


def test_openai(s):
    gen = "/v1/images/generations"
    st, h, data = s.request("POST", gen, {"prompt": "x", "model": "dall-e-2"})
    b = json.loads(data)
    check(st == 404 and b["error"]["code"] == "model_not_found" and b["error"]["param"] == "model",
          f"unknown model -> {st} {b}")
    st, b = s.json("POST", gen, {"prompt": "x", "model": "tiny-sd2", "size": "64x64"})
    check(st == 200 and len(b["data"]) == 1, f"model tiny-sd2 -> {st}")
    st, b = s.json("POST", gen, {"prompt": "x", "stream": True})
    check(st == 400 and b["error"]["param"] == "stream" and b["error"]["code"] is None, f"stream=true -> {st} {b}")
    st, b = s.json("POST", gen, {"prompt": "x", "steps": "oops", "n": 0})
    check(st == 400 and b["error"]["code"] is None, f"error.code is null: {b}")
    st, b = s.json("POST", gen, {"prompt": "a url", "size": "64x64", "n": 2, "response_format": "url"})
    urls = [d.get("url", "") for d in b.get("data", [])] if st == 200 else []
    check(st == 200 and len(urls) == 2 and all(u.startswith(f"http://127.0.0.1:{s.port}/v1/images/files/")
                                               for u in urls), f"response_format=url -> {st} {urls}")
    for u in urls:
        path = u.split(str(s.port), 1)[1]
        st, h, data = s.request("GET", path)
        check(st == 200 and h["content-type"] == "image/png" and png_size(data) == (64, 64), f"GET {path} -> {st}")
    st, _, _ = s.request("GET", "/v1/images/files/" + "0" * 32 + ".png")
    check(st == 404, f"unknown image URL -> {st}")
    st, h, _ = s.request("POST", "/v1/images/edits", {"prompt": "x"})
    check(st == 400 and "x-should-retry" not in h, f"edits with a JSON body -> {st}")
    return urls


def test_a1111(s):
    st, b = s.json("GET", "/sdapi/v1/sd-models")
    names = [m.get("model_name") for m in b] if st == 200 else []
    check(names == ["tiny-sd1", "tiny-sd15", "tiny-sd2"], f"sd-models lists folders and single files: {names}")
    t = "/sdapi/v1/txt2img"
    st, b = s.json("POST", t, {"prompt": "x", "steps": 1, "override_settings": {"sd_model_checkpoint": "tiny-sd2"}})
    check(st == 200 and model_of(b) == "tiny-sd2", f"override_settings selects tiny-sd2: {st}")
    st, b = s.json("POST", t, {"prompt": "x", "steps": 1})
    check(st == 200 and model_of(b) == "tiny-sd1", "the next request draws with the selected model again")
    st, o = s.json("GET", "/sdapi/v1/options")
    check(o["sd_model_checkpoint"] == "tiny-sd1", f"options still report tiny-sd1: {o['sd_model_checkpoint']}")
    for body, name in (({"restore_faces": True}, "restore_faces"), ({"tiling": True}, "tiling"),
                       ({"override_settings": {"CLIP_stop_at_last_layers": 2}},
                        "override_settings.CLIP_stop_at_last_layers"),
                       ({"override_settings": {"eta_noise_seed_delta": 31337}},
                        "override_settings.eta_noise_seed_delta")):
        st, b = s.json("POST", t, dict(body, prompt="x", steps=1))
        check(st == 400 and b["error"]["param"] == name and "not implemented" in b["detail"], f"{name} -> {st} {b}")
        st, b = s.json("POST", "/v1/jobs", dict(body, prompt="x", steps=1))
        check(st == 400 and b["error"]["param"] == name, f"/v1/jobs {name} -> {st}")
    st, b = s.json("POST", t, {"prompt": "x", "steps": 1, "restore_faces": False, "tiling": False,
                               "override_settings": {"CLIP_stop_at_last_layers": 1, "eta_noise_seed_delta": 0}})
    check(st == 200, f"the same options when off -> {st}")
    st, b = s.json("POST", "/sdapi/v1/options", {"eta_noise_seed_delta": 31337})
    check(st == 400 and b["error"]["param"] == "eta_noise_seed_delta", f"options eta_noise_seed_delta -> {st}")
    st, b = s.json("POST", "/sdapi/v1/options", {"CLIP_stop_at_last_layers": 1, "samples_format": "png"})
    check(st == 200, f"options with off values and others -> {st}")
    builtin = [{"name": n, "model_name": None, "model_path": None, "model_url": None, "scale": 4}
               for n in ("None", "Lanczos")]   # no --upscaler given
    shapes = {"upscalers": builtin, "face-restorers": [], "realesrgan-models": [], "loras": [], "hypernetworks": [],
              "sd-vae": [], "embeddings": {"loaded": {}, "skipped": {}}, "scripts": {"txt2img": [], "img2img": []},
              "cmd-flags": {}}
    for route, want in shapes.items():
        st, b = s.json("GET", "/sdapi/v1/" + route)
        check(st == 200 and b == want, f"/sdapi/v1/{route} -> {st} {b}")
    st, b = s.json("GET", "/sdapi/v1/memory")
    check(st == 200 and b["ram"]["total"] > b["ram"]["used"] > 0 and "cuda" in b, f"memory -> {b}")
    st, b = s.json("POST", "/sdapi/v1/refresh-checkpoints", {})
    check(st == 200 and b is None, f"refresh-checkpoints -> {st} {b}")


def test_prompt_syntax(s):
    """A malformed prompt fails at submission on every route, /v1/jobs too,
    with the column counted in the user's own text (not the styled one)."""
    for route in ("/sdapi/v1/txt2img", "/v1/jobs"):
        st, b = s.json("POST", route, {"prompt": "a (red cat", "styles": ["oil_painting"], "steps": 1})
        check(st == 400 and b["error"]["param"] == "prompt" and "column 3" in b["detail"],
              f"{route} bad prompt -> {st} {b}")
        st, b = s.json("POST", route, {"prompt": "a cat", "negative_prompt": "blurry]", "steps": 1})
        check(st == 400 and b["error"]["param"] == "negative_prompt", f"{route} bad negative prompt -> {st} {b}")
    st, b = s.json("POST", "/v1/jobs", {"prompt": "a (red:1.2) cat <lora:none:0.5>", "steps": 1})
    check(st == 202, f"a <lora:…> tag is not a prompt syntax error -> {st} {b}")


def test_size_warning(s):
    """A size far from the model's native one (64 for tiny-sd1) is drawn
    with a warning in the response; the native size has none."""
    st, b = s.json("POST", "/sdapi/v1/txt2img", {"prompt": "x", "steps": 1, "width": 256, "height": 64})
    w = json.loads(b["info"])["warnings"] if st == 200 else None
    check(st == 200 and w and "256x64" in w[0] and "native 64x64" in w[0], f"size warning (A1111): {w}")
    st, b = s.json("POST", "/sdapi/v1/txt2img", {"prompt": "x", "steps": 1, "width": 64, "height": 64})
    check(st == 200 and json.loads(b["info"])["warnings"] == [], "no warning at the native size")
    st, b = s.json("POST", "/v1/jobs", {"prompt": "x", "steps": 1, "width": 72, "height": 64})
    check(st == 400 and b["error"]["param"] == "width" and "multiple of 16" in b["detail"],
          f"the model's size rule (16 for tiny-sd1) at submission: {st} {b}")
    st, b = s.json("POST", "/v1/images/generations", {"prompt": "x", "size": "64x192"})
    check(st == 200 and b["warnings"] and "64x192" in b["warnings"][0], f"size warning (OpenAI): {b.get('warnings')}")


def main():
    tmp = tempfile.mkdtemp(prefix="t2i-server-api-")
    models = os.path.join(tmp, "models")
    os.makedirs(models)
    os.symlink(TINY_SD1, os.path.join(models, "tiny-sd1"))
    os.symlink(TINY_SD2, os.path.join(models, "tiny-sd2"))
    # a single-file checkpoint beside the folders is listed too
    os.symlink(os.path.abspath("tests/fixtures/formats/tiny-sd15.safetensors"), os.path.join(models, "tiny-sd15.safetensors"))
    s = Server(EXE, "--models-dir", models, "--url-ttl", "2", model=None)
    try:
        urls = test_openai(s)
        test_a1111(s)
        test_size_warning(s)
        test_prompt_syntax(s)
        time.sleep(2.2)
        st, _, _ = s.request("GET", urls[0].split(str(s.port), 1)[1]) if urls else (0, 0, 0)
        check(st == 404, f"an image URL past --url-ttl -> {st}")
    finally:
        check(s.stop() == 0, "api server exits 0")
    finish()


if __name__ == "__main__":
    main()
