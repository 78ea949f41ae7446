#!/usr/bin/env python3
"""Write the real CLIP BPE vocabulary (vocab.json + merges.txt) in the layout
of transformers' CLIPTokenizer.

Source: the PyPI package open_clip_torch, which ships OpenAI's
bpe_simple_vocab_16e6.txt.gz. The wheel is downloaded with pip (no import of
open_clip, no torch needed) and the vocabulary is built exactly as OpenAI's
simple_tokenizer.py builds it: 256 byte symbols, the same with '</w>', one
entry per merge, then <|startoftext|> and <|endoftext|> (49408 entries).

usage: tools/fetch_clip_vocab.py OUT_DIR
"""
import gzip, io, json, os, subprocess, sys, tempfile, zipfile


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/clip-vocab"
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.check_call([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                               "-d", tmp, "open_clip_torch==3.3.0"])
        whl = [f for f in os.listdir(tmp) if f.endswith(".whl")][0]
        with zipfile.ZipFile(os.path.join(tmp, whl)) as z:
            raw = z.read("open_clip/bpe_simple_vocab_16e6.txt.gz")
    lines = gzip.GzipFile(fileobj=io.BytesIO(raw)).read().decode("utf-8").split("\n")
    merges = lines[1:49152 - 256 - 2 + 1]
    vocab = list(bytes_to_unicode().values())
    vocab += [v + "</w>" for v in vocab]
    vocab += ["".join(m.split()) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({t: i for i, t in enumerate(vocab)}, f, ensure_ascii=False)
    with open(os.path.join(out, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(merges) + "\n")
    print(f"{out}: {len(vocab)} tokens, {len(merges)} merges")


if __name__ == "__main__":
    main()
