#!/usr/bin/env python3
"""Reference embeddings for long and weighted prompts (tests/test_conditioning.c).

The semantics followed are the A1111 web UI's (modules/prompt_parser.py
parse_prompt_attention + get_learned_conditioning_prompt_schedules,
modules/sd_hijack_clip.py tokenize_line with comma back-off 20, emphasis
"Original"), re-implemented here from their description in plain Python on
top of transformers' CLIPTokenizer / CLIPTextModel:

  - (text) x1.1, (text:w) xw, [text] x(1/1.1), nested brackets multiply
    innermost first, runs of equal weight merged, BREAK splits chunks;
  - each (text, weight) piece tokenised on its own, tokens packed into
    75-token chunks; when a chunk is full and its last ',' is <= 20 tokens
    back, the tokens after the comma move to the next chunk; chunk =
    BOS + tokens + EOS + pad;
  - each chunk encoded by CLIPTextModel (last_hidden_state), then
    z = z*w; z *= mean(z_before) / mean(z_after)  (means over the chunk);
  - chunks concatenated; the shorter of prompt / negative padded with the
    embedding of the empty prompt.

Two whole txt2img runs with these embeddings go through diffusers'
StableDiffusionPipeline (prompt_embeds / negative_prompt_embeds, Euler,
10 steps, CFG 7.5, seed 1234, 64x64): a 3-chunk weighted prompt against a
1-chunk negative, and a prompt-editing prompt whose conditioning is switched
by callback_on_step_end after step 5 (A1111: sampling step i uses the entry
whose end_at_step >= i, so [cat:dog:0.5] over 10 steps draws "cat" at steps
0..5 and "dog" at 6..9).

Output: tests/fixtures/prompts/tiny-sd1.safetensors (~100 KB).
Run:  /work/pyenv/bin/python tools/fixtures_prompts.py
"""
import json
import os
import re
import sys

import torch
from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline

sys.path.insert(0, os.path.dirname(__file__))
from make_fixtures import save_file  # reproducible safetensors headers  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "tests/fixtures/tiny-sd1")
OUT = os.path.join(ROOT, "tests/fixtures/prompts")

CHUNK = 75
BACKTRACK = 20

# ---- the prompt language (attention part) ---------------------------------

TOKEN_RE = re.compile(r"\\.|\(|\[|:\s*([+-]?[.\d]+)\s*\)|\)|\]|[^\\()\[\]:]+|:", re.S)
BREAK_RE = re.compile(r"\s*\bBREAK\b\s*", re.S)


def parse_attention(text):
    """[(text, weight)], weight None for BREAK; brackets assumed balanced."""
    pieces, opens = [], []   # opens: (start index into pieces, multiplier for a plain close)

    def scale(start, m):
        for p in pieces[start:]:
            if p[1] is not None:
                p[1] *= m

    for m in TOKEN_RE.finditer(text):
        tok, weight = m.group(0), m.group(1)
        if tok.startswith("\\"):
            pieces.append([tok[1:], 1.0])
        elif tok in "([":
            opens.append((len(pieces), 1.1 if tok == "(" else 1 / 1.1))
        elif weight is not None:
            scale(opens.pop()[0], float(weight))
        elif tok in ")]":
            start, mult = opens.pop()
            scale(start, mult)
        else:
            for i, part in enumerate(BREAK_RE.split(tok)):
                if i:
                    pieces.append(["", None])
                pieces.append([part, 1.0])
    assert not opens, "unbalanced"
    if not pieces:
        pieces = [["", 1.0]]
    out = []
    for p in pieces:
        if out and p[1] is not None and out[-1][1] == p[1]:
            out[-1][0] += p[0]
        else:
            out.append(list(p))
    return out


def chunks_of(tok, text):
    comma = tok.convert_tokens_to_ids(",</w>")
    chunks, cur, last_comma = [], [], -1

    def close():
        nonlocal cur, last_comma
        ids = [tok.bos_token_id] + [t for t, _ in cur] + [tok.eos_token_id]
        ws = [1.0] + [w for _, w in cur] + [1.0]
        ids += [tok.pad_token_id] * (CHUNK + 2 - len(ids))
        ws += [1.0] * (CHUNK + 2 - len(ws))
        chunks.append((ids, ws))
        cur, last_comma = [], -1

    for piece, weight in parse_attention(text):
        if weight is None:
            close()
            continue
        for t in tok(piece, add_special_tokens=False).input_ids:
            if t == comma:
                last_comma = len(cur)
            elif len(cur) == CHUNK and last_comma != -1 and len(cur) - last_comma <= BACKTRACK:
                moved = cur[last_comma + 1:]
                cur = cur[:last_comma + 1]
                close()
                cur = moved
            if len(cur) == CHUNK:
                close()
            cur.append((t, weight))
    if cur or not chunks:
        close()
    return chunks


@torch.no_grad()
def encode(tok, te, text):
    ids, ws, zs = [], [], []
    for cid, cw in chunks_of(tok, text):
        z = te(torch.tensor([cid])).last_hidden_state[0]
        w = torch.tensor(cw, dtype=torch.float32)
        before = z.mean()
        z = z * w[:, None]
        z = z * (before / z.mean())
        ids += cid
        ws += cw
        zs.append(z)
    return torch.tensor(ids, dtype=torch.int32), torch.tensor(ws, dtype=torch.float32), torch.cat(zs)


def pad_to(z, n, empty):
    while z.shape[0] < n:
        z = torch.cat([z, empty])
    return z


CASES = {
    "plain": "a red circle on a blue background",
    "weighted": "a (red:1.3) cat on a [blurry] sofa, ((masterpiece)), (detailed fur:0.8) BREAK warm (sunset) light",
    "long": ("a (cozy:1.2) wooden cabin in a snowy pine forest at dusk, warm light glowing from the windows, "
             "smoke curling from the stone chimney, a frozen lake in the foreground reflecting the violet sky, "
             "distant mountains under heavy clouds, fresh footprints leading to the door, a red sled leaning "
             "on the porch, lanterns hanging from the eaves, snowflakes drifting in the air, [muted] colours, "
             "cinematic composition, soft volumetric fog between the trees, highly detailed, sharp focus, "
             "an owl perched on a branch, icicles along the roof, golden hour glow, peaceful winter mood"),
}
NEGATIVE = "blurry, (low quality:1.2), watermark"
EDIT = ("a photo of a cat, (sunset:1.2)", "a photo of a dog, (sunset:1.2)")   # "a photo of a [cat:dog:0.5], (sunset:1.2)"
SEED, STEPS, CFG = 1234, 10, 7.5


def main():
    pipe = StableDiffusionPipeline.from_pretrained(MODEL, dtype=torch.float32, safety_checker=None)
    pipe.scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    tok, te = pipe.tokenizer, pipe.text_encoder
    tensors, md = {}, {}
    for name, text in CASES.items():
        ids, ws, z = encode(tok, te, text)
        tensors[f"{name}.ids"], tensors[f"{name}.mult"], tensors[f"{name}.emb"] = ids, ws, z.contiguous()
        md[f"{name}.prompt"] = text
        print(f"{name}: {ids.numel() // 77} chunks")
    assert tensors["long.ids"].numel() == 3 * 77 and tensors["weighted.ids"].numel() == 2 * 77
    plain_ids = tok(CASES["plain"], padding="max_length", max_length=77, return_tensors="pt").input_ids[0]
    assert torch.equal(plain_ids.to(torch.int32), tensors["plain.ids"])
    # the comma back-off must have moved tokens in "long": chunk 1 ends in padding
    first = tensors["long.ids"][:77].tolist()
    assert first.index(tok.eos_token_id) < 76, "no comma back-off in the long prompt"

    _, _, empty = encode(tok, te, "")
    _, _, neg = encode(tok, te, NEGATIVE)
    pos = tensors["long.emb"]
    n = max(pos.shape[0], neg.shape[0])
    neg_p = pad_to(neg, n, empty)
    tensors["long_run.negative_emb"] = neg_p.contiguous()

    def run(pe, ne, callback=None):
        g = torch.Generator("cpu").manual_seed(SEED)
        kw = dict(prompt_embeds=pe[None], negative_prompt_embeds=ne[None], num_inference_steps=STEPS,
                  guidance_scale=CFG, height=64, width=64, generator=g, output_type="latent")
        if callback:
            kw.update(callback_on_step_end=callback, callback_on_step_end_tensor_inputs=["prompt_embeds"])
        return pipe(**kw).images

    tensors["long_run.latents"] = run(pos, neg_p).contiguous()

    _, _, cat = encode(tok, te, EDIT[0])
    _, _, dog = encode(tok, te, EDIT[1])
    _, _, neg1 = encode(tok, te, NEGATIVE)
    switch_after = int(0.5 * STEPS)   # end_at_step of the first entry

    def swap(p, i, t, kw):
        if i == switch_after:
            return {"prompt_embeds": torch.cat([neg1[None], dog[None]])}
        return {}

    tensors["edit_run.latents"] = run(cat, neg1, swap).contiguous()
    tensors["edit_run.latents_nocb"] = run(cat, neg1).contiguous()   # without the switch, for a sanity check
    assert not torch.allclose(tensors["edit_run.latents"], tensors["edit_run.latents_nocb"])
    md.update(negative_prompt=NEGATIVE, edit_prompt="a photo of a [cat:dog:0.5], (sunset:1.2)",
              seed=str(SEED), steps=str(STEPS), guidance_scale=str(CFG), sampler="euler",
              semantics="A1111 prompt_parser + sd_hijack_clip (comma back-off 20, emphasis Original)")
    os.makedirs(OUT, exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(OUT, "tiny-sd1.safetensors"),
              metadata={k: (v if isinstance(v, str) else json.dumps(v)) for k, v in md.items()})
    print("wrote", os.path.join(OUT, "tiny-sd1.safetensors"))


if __name__ == "__main__":
    main()
