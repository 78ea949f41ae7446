#!/usr/bin/env python3
"""test_server_assets.py — t2i-server --lora-dir and --embeddings-dir:

  - GET /sdapi/v1/loras lists the folder's files as A1111 does ([{name,
    alias, path, metadata}], sorted by name), a corrupt file too (its
    metadata says why it cannot be used);
  - GET /sdapi/v1/embeddings puts usable textual inversions under "loaded"
    ({shape: width, vectors: rows}) and a corrupt file under "skipped";
  - <lora:kohya:0.8> in a prompt is resolved from --lora-dir (the image
    differs from the same seed without it), an embedding's name from
    --embeddings-dir;
  - a missing LoRA, a corrupt LoRA and a corrupt embedding used in a prompt
    fail that request with an error naming the file, and the server goes on
    drawing the next request.

usage: python3 tests/test_server_assets.py <t2i-server>   (from the source root)
"""
import base64
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_server_util import ROOT, Server, check, finish  # noqa: E402

EXE = sys.argv[1]
LORA = os.path.join(ROOT, "tests", "fixtures", "lora")


def image(s, prompt):
    st, b = s.json("POST", "/sdapi/v1/txt2img", {"prompt": prompt, "steps": 2, "seed": 7, "width": 64, "height": 64})
    return st, (base64.b64decode(b["images"][0]) if st == 200 and b.get("images") else b)


def main():
    tmp = tempfile.mkdtemp(prefix="t2i-server-assets-")
    loras, embs = os.path.join(tmp, "loras"), os.path.join(tmp, "embeddings")
    os.makedirs(loras)
    os.makedirs(embs)
    for name in ("kohya", "peft"):
        os.symlink(os.path.join(LORA, name + ".safetensors"), os.path.join(loras, name + ".safetensors"))
    for name in ("myemb", "negemb"):
        os.symlink(os.path.join(LORA, name + ".safetensors"), os.path.join(embs, name + ".safetensors"))
    for d in (loras, embs):
        with open(os.path.join(d, "broken.safetensors"), "wb") as f:
            f.write(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with open(os.path.join(loras, "notes.txt"), "w") as f:
        f.write("not a LoRA\n")
    s = Server(EXE, "--lora-dir", loras, "--embeddings-dir", embs)
    try:
        st, b = s.json("GET", "/sdapi/v1/loras")
        names = [e.get("name") for e in b] if st == 200 else []
        check(names == ["broken", "kohya", "peft"], f"loras: {st} {names}")
        for e in b if st == 200 else []:
            check(e["alias"] == e["name"] and e["path"] == os.path.join(loras, e["name"] + ".safetensors") and
                  isinstance(e["metadata"], dict), f"lora entry {e}")
            check(("error" in e["metadata"]) == (e["name"] == "broken"), f"lora entry error: {e}")
        st, b = s.json("GET", "/sdapi/v1/embeddings")
        check(st == 200 and sorted(b["loaded"]) == ["myemb", "negemb"] and list(b["skipped"]) == ["broken"],
              f"embeddings: {st} {b}")
        if st == 200 and "myemb" in b["loaded"]:
            e = b["loaded"]["myemb"]
            check(e["shape"] == 32 and e["vectors"] >= 1 and "step" in e and "sd_checkpoint" in e, f"myemb: {e}")
            check("broken" in b["skipped"]["broken"]["error"], f"skipped broken: {b['skipped']}")

        st0, plain = image(s, "a red circle")
        st1, with_lora = image(s, "a red circle <lora:kohya:0.8>")
        check(st0 == 200 and st1 == 200 and plain != with_lora, f"<lora:kohya:0.8> changes the image: {st0} {st1}")
        st2, with_emb = image(s, "a red circle myemb")
        check(st2 == 200 and with_emb != plain, f"the embedding myemb is used: {st2}")

        for prompt, needle in (("x <lora:missing:1>", "missing"), ("x <lora:broken:1>", "broken"),
                               ("x broken", "broken")):
            st, b = s.json("POST", "/sdapi/v1/txt2img", {"prompt": prompt, "steps": 1, "width": 64, "height": 64})
            text = str(b)
            check(st != 200 and needle in text and ".safetensors" in text, f"{prompt!r} -> {st} {text[:300]}")
            st, _ = image(s, "a red circle")
            check(st == 200, f"the server goes on after {prompt!r}: {st}")
    finally:
        check(s.stop() == 0, "assets server exits 0")
    finish()


if __name__ == "__main__":
    main()
