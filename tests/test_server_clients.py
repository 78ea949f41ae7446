#!/usr/bin/env python3
"""test_server_clients.py — unmodified Python clients people use against
t2i-server: `webuiapi` (the A1111 API client) and the official `openai`
package (images API), plus `requests` for SSE. Both must produce images.

The packages come from the running interpreter if it has them, else from a
virtual environment at $T2I_SERVER_TEST_VENV (default
<tmp>/t2i-server-test-venv), created and filled with
`pip install webuiapi openai requests` on first use. If they cannot be
installed (no network, no venv module) the test is skipped (exit 77).

usage: python3 tests/test_server_clients.py path/to/t2i-server
"""
import os
import subprocess
import sys
import tempfile

PKGS = ["webuiapi", "openai", "requests"]


def have_packages(python):
    code = "import webuiapi, openai, requests"
    return subprocess.run([python, "-c", code], capture_output=True).returncode == 0


def ensure_env():
    """Re-exec under an interpreter that has the client packages, or exit 77."""
    if have_packages(sys.executable):
        return
    if os.environ.get("T2I_SERVER_CLIENTS_REEXEC"):
        print("SKIP: client packages unavailable after re-exec")
        sys.exit(77)
    venv = os.environ.get("T2I_SERVER_TEST_VENV", os.path.join(tempfile.gettempdir(), "t2i-server-test-venv"))
    py = os.path.join(venv, "bin", "python")
    if not (os.path.exists(py) and have_packages(py)):
        try:
            subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True, timeout=120)
            subprocess.run([py, "-m", "pip", "install", "-q"] + PKGS, check=True, capture_output=True,
                           timeout=600)
        except (subprocess.SubprocessError, OSError) as e:
            print(f"SKIP: cannot install {' '.join(PKGS)} into {venv}: {e}")
            sys.exit(77)
        if not have_packages(py):
            print("SKIP: client packages still not importable")
            sys.exit(77)
    env = dict(os.environ, T2I_SERVER_CLIENTS_REEXEC="1")
    os.execve(py, [py] + sys.argv, env)


ensure_env()

import base64  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import openai  # noqa: E402
import requests  # noqa: E402
import webuiapi  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_server_util import TINY_SD1, Server, check, finish  # noqa: E402

EXE = sys.argv[1]


def version(mod):
    try:
        from importlib.metadata import version as v
        return v(mod)
    except Exception:  # noqa: BLE001
        return "?"


def test_webuiapi(s, auth):
    kw = {"username": "any", "password": auth} if auth else {}
    api = webuiapi.WebUIApi(host="127.0.0.1", port=s.port, sampler="Euler a", steps=5, **kw)
    r = api.txt2img(prompt="a red circle on a blue background", negative_prompt="blurry", seed=1234,
                    width=64, height=64, cfg_scale=7.5, batch_size=2, styles=["Watercolor Painting"])
    check(len(r.images) == 2 and r.image.size == (64, 64), f"webuiapi txt2img images {r.images}")
    check(r.info["all_seeds"] == [1234, 1235] and "Seed: 1234" in r.info["infotexts"][0],
          f"webuiapi info {str(r.info)[:200]}")
    check(r.parameters["prompt"] == "a red circle on a blue background", "webuiapi parameters")
    png = io.BytesIO()
    pnginfo = __import__("PIL.PngImagePlugin", fromlist=["PngInfo"]).PngInfo()
    pnginfo.add_text("parameters", r.info["infotexts"][0])
    r.image.save(png, format="PNG", pnginfo=pnginfo)
    from PIL import Image
    pi = api.png_info(Image.open(io.BytesIO(png.getvalue())))
    check(pi.info.get("Seed") == "1234" if isinstance(pi.info, dict) else "Seed: 1234" in str(pi.info),
          f"webuiapi png_info {str(pi.info)[:200]}")
    check("Euler a" in api.util_get_sampler_names(), "webuiapi samplers")
    check("karras" in api.util_get_scheduler_names(), "webuiapi schedulers")
    check(api.util_get_model_names() == ["tiny-sd1"], f"webuiapi models {api.util_get_model_names()}")
    check(api.util_get_current_model() == "tiny-sd1", "webuiapi current model")
    api.util_set_model("tiny-sd1")
    check(api.util_get_current_model() == "tiny-sd1", "webuiapi util_set_model")
    check(len(api.get_prompt_styles()) > 0, "webuiapi prompt styles")
    lists = {name: getattr(api, name)() for name in (
        "get_upscalers", "get_face_restorers", "get_realesrgan_models", "get_loras", "get_hypernetworks",
        "get_sd_vae", "get_latent_upscale_modes", "get_embeddings", "get_scripts", "get_cmd_flags", "get_memory")}
    check([u["name"] for u in lists["get_upscalers"]] == ["None", "Lanczos"] and lists["get_loras"] == [] and lists["get_embeddings"] == {
        "loaded": {}, "skipped": {}} and lists["get_scripts"] == {"txt2img": [], "img2img": []} and
        lists["get_memory"]["ram"]["total"] > 0, f"webuiapi listing calls {str(lists)[:300]}")
    api.refresh_checkpoints()
    r = api.txt2img(prompt="x", steps=1, width=64, height=64, override_settings={"sd_model_checkpoint": "tiny-sd1"})
    check("Model: tiny-sd1" in r.info["infotexts"][0], "webuiapi override_settings.sd_model_checkpoint")
    try:
        api.txt2img(prompt="x", steps=1, width=64, height=64, restore_faces=True)
        check(False, "webuiapi restore_faces=True must fail")
    except Exception as e:  # noqa: BLE001 — webuiapi raises its own RuntimeError on a non-200
        check("restore_faces" in str(e), f"webuiapi restore_faces=True refused by name: {str(e)[:200]}")
    p = api.get_progress()
    check(p["progress"] == 0 and "state" in p, f"webuiapi progress {p}")
    # img2img with a mask (left half repainted): the right side, beyond the mask blur, stays as it was.
    init = r.image.convert("RGB")
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (0, 0, 32, 64))
    e = api.img2img(images=[init], mask_image=mask, prompt="a green star", seed=9, width=64, height=64,
                    denoising_strength=1.0, mask_blur=4, inpainting_fill=1, inpaint_full_res=False)
    out_px, in_px = e.image.convert("RGB").load(), init.load()
    kept = all(out_px[x, y] == in_px[x, y] for x in range(43, 64) for y in range(64))
    redrawn = any(out_px[x, y] != in_px[x, y] for x in range(0, 20) for y in range(64))
    check(e.image.size == (64, 64) and kept and redrawn and "Denoising strength: 1" in e.info["infotexts"][0],
          f"webuiapi img2img with a mask: kept {kept}, redrawn {redrawn}, {e.info['infotexts']}")
    # Interrupt through the client while a long generation runs.
    out = {}
    th = threading.Thread(target=lambda: out.setdefault("r", api.txt2img(prompt="long", steps=150, n_iter=4,
                                                                          width=64, height=64)))
    th.start()
    for _ in range(500):
        if api.get_progress()["state"]["sampling_step"] > 1:
            break
        time.sleep(0.01)
    api.interrupt()
    th.join(30)
    check("r" in out and out["r"].images == [] and out["r"].info["interrupted"], "webuiapi interrupt")
    return webuiapi.__name__


def test_openai(s, key):
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{s.port}/v1", api_key=key or "unused", max_retries=0)
    r = client.images.generate(prompt="a blue square", n=2, size="64x64", response_format="b64_json",
                               model="tiny-sd1")
    check(len(r.data) == 2 and r.data[0].revised_prompt == "a blue square", f"openai generate {r}")
    from PIL import Image
    r2_png = r.data[1].b64_json
    im = Image.open(io.BytesIO(base64.b64decode(r.data[1].b64_json)))
    check(im.size == (64, 64), "openai image decodes 64x64")
    r = client.images.generate(prompt="a green triangle", size="auto")
    check(len(r.data) == 1 and r.data[0].b64_json, "openai request without model or response_format")
    try:
        client.images.generate(prompt="x", model="dall-e-2")
        check(False, "an unknown model must fail")
    except openai.NotFoundError as e:
        check(e.code == "model_not_found", f"openai unknown model: code {e.code!r}")
    r = client.images.generate(prompt="x", size="64x64", response_format="url")
    png = requests.get(r.data[0].url, timeout=30)
    check(png.status_code == 200 and Image.open(io.BytesIO(png.content)).size == (64, 64),
          f"openai response_format=url: {r.data[0].url} -> {png.status_code}")
    try:
        client.images.generate(prompt="x", stream=True)
        check(False, "stream=True must fail")
    except openai.BadRequestError as e:
        check(e.code is None and "stream" in str(e), f"openai stream=True refused: {e}")
    except TypeError:   # an SDK without image streaming does not take stream=
        pass
    # Edits: the mask's transparent left half is redrawn, the opaque right half (beyond the blur) kept.
    from PIL import Image as PILImage
    src = PILImage.open(io.BytesIO(base64.b64decode(r2_png))).convert("RGB")
    mask = PILImage.new("RGBA", (64, 64), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, 32, 64))
    buf_i, buf_m = io.BytesIO(), io.BytesIO()
    src.save(buf_i, format="PNG")
    mask.save(buf_m, format="PNG")
    r = client.images.edit(image=("a.png", buf_i.getvalue(), "image/png"), mask=("m.png", buf_m.getvalue(), "image/png"),
                           prompt="a green star", n=2, size="64x64", response_format="b64_json")
    ok = len(r.data) == 2
    for d in r.data:
        px = PILImage.open(io.BytesIO(base64.b64decode(d.b64_json))).convert("RGB").load()
        ok = ok and all(px[x, y] == src.load()[x, y] for x in range(43, 64) for y in range(64))
    check(ok, "openai images.edit: 2 images, the opaque part of the mask unchanged")
    r = client.images.create_variation(image=("a.png", buf_i.getvalue(), "image/png"), n=2, size="64x64",
                                       response_format="b64_json")
    check(len(r.data) == 2 and r.data[0].b64_json != r.data[1].b64_json, "openai images.create_variation")
    try:
        client.images.edit(image=("a.png", buf_i.getvalue(), "image/png"), prompt="x",
                           mask=("m.png", buf_m.getvalue()[:100], "image/png"))
        check(False, "a truncated mask must fail")
    except openai.BadRequestError as e:
        check("mask" in str(e), f"openai truncated mask: {e}")
    try:
        client.images.generate(prompt="x", size="13x13")
        check(False, "bad size must fail")
    except openai.BadRequestError as e:
        check(e.status_code == 400 and "size" in str(e), f"openai size error {e}")
    models = [m.id for m in client.models.list()]
    check(models == ["tiny-sd1"], f"openai models {models}")


def test_requests_sse(s, key):
    h = {"Authorization": f"Bearer {key}"} if key else {}
    r = requests.post(f"http://127.0.0.1:{s.port}/v1/jobs", json={"prompt": "sse", "steps": 6}, headers=h)
    jid = r.json()["id"]
    events = []
    with requests.get(f"http://127.0.0.1:{s.port}/v1/jobs/{jid}/events", headers=h, stream=True) as resp:
        for line in resp.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                events.append(line[7:])
    check(events[-1] == "done" and events.count("progress") >= 1, f"requests SSE {events}")


def main():
    print(f"webuiapi {version('webuiapi')}, openai {version('openai')}, requests {version('requests')}")
    s = Server(EXE, model=TINY_SD1)
    try:
        test_webuiapi(s, None)
        test_openai(s, None)
        test_requests_sse(s, None)
    finally:
        check(s.stop() == 0, "server exits 0")
    # The same clients with an API key (A1111 basic auth, OpenAI bearer).
    s = Server(EXE, "--api-key", "k-123", model=TINY_SD1)
    try:
        api = webuiapi.WebUIApi(host="127.0.0.1", port=s.port, username="u", password="k-123")
        r = api.txt2img(prompt="auth", steps=2, width=64, height=64)
        check(len(r.images) == 1, "webuiapi with basic auth")
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{s.port}/v1", api_key="k-123", max_retries=0)
        check(len(client.images.generate(prompt="auth", size="64x64").data) == 1, "openai with bearer key")
        bad = openai.OpenAI(base_url=f"http://127.0.0.1:{s.port}/v1", api_key="wrong", max_retries=0)
        try:
            bad.images.generate(prompt="x")
            check(False, "wrong key must fail")
        except openai.AuthenticationError:
            check(True, "")
        test_requests_sse(s, "k-123")
    finally:
        check(s.stop() == 0, "auth server exits 0")
    finish()


if __name__ == "__main__":
    main()
