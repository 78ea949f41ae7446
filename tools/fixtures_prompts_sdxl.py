#!/usr/bin/env python3
"""Reference embeddings for long and weighted prompts on SDXL
(tests/test_sdxl.c), the SDXL counterpart of tools/fixtures_prompts.py,
whose A1111 prompt-language and chunking code it reuses.

A1111's SDXL conditioner runs each text encoder as its own "embedder" on the
same chunks (tokens are the same: tokenizer_2 differs only in padding with
"!", A1111's OpenCLIP id_pad 0), so per 77-token chunk:
  z1 = text_encoder(ids).hidden_states[-2]      emphasis on z1 alone
  z2 = text_encoder_2(ids_2).hidden_states[-2]  emphasis on z2 alone
  z  = concat(z1, z2)                           (channels)
  pooled = text_encoder_2(ids_2 of the first chunk).text_embeds (unweighted)
with emphasis "Original": z = z*w; z *= mean(z_before) / mean(z_after).
The shorter of prompt / negative is padded with the empty prompt's chunk.

One whole run goes through diffusers' StableDiffusionXLPipeline with these
embeddings (prompt_embeds, pooled_prompt_embeds and the negative ones; Euler,
10 steps, CFG 7.5, seed 1234, 64x64).

Output: tests/fixtures/prompts/tiny-sdxl.safetensors.
Run:  /work/pyenv/bin/python tools/fixtures_prompts_sdxl.py
"""
import json
import os
import sys

import torch
from diffusers import StableDiffusionXLPipeline

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixtures_prompts as fp  # noqa: E402
from make_fixtures import save_file  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "tests/fixtures/tiny-sdxl")


def emphasis(z, w):
    before = z.mean()
    z = z * w[:, None]
    return z * (before / z.mean())


@torch.no_grad()
def encode(pipe, text):
    tok, tok2 = pipe.tokenizer, pipe.tokenizer_2
    ids, zs, pooled = [], [], None
    for cid, cw in fp.chunks_of(tok, text):
        # tokenizer_2's ids: the padding after the EOS is "!"
        n = cid.index(tok.eos_token_id, 1) + 1
        cid2 = cid[:n] + [tok2.pad_token_id] * (len(cid) - n)
        w = torch.tensor(cw, dtype=torch.float32)
        z1 = pipe.text_encoder(torch.tensor([cid]), output_hidden_states=True).hidden_states[-2][0]
        o2 = pipe.text_encoder_2(torch.tensor([cid2]), output_hidden_states=True)
        z2 = o2.hidden_states[-2][0]
        if pooled is None:
            pooled = o2.text_embeds[0]
        zs.append(torch.cat([emphasis(z1, w), emphasis(z2, w)], dim=-1))
        ids += cid
    return torch.tensor(ids, dtype=torch.int32), torch.cat(zs), pooled


def main():
    pipe = StableDiffusionXLPipeline.from_pretrained(MODEL, dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    text = fp.CASES["long"]
    ids, pos, pooled = encode(pipe, text)
    _, neg, neg_pooled = encode(pipe, fp.NEGATIVE)
    _, empty, _ = encode(pipe, "")
    assert ids.numel() == 3 * 77
    neg = fp.pad_to(neg, pos.shape[0], empty)
    # a plain prompt is exactly what the pipeline's encode_prompt gives
    _, plain, plain_pooled = encode(pipe, fp.CASES["plain"])
    pe, _, pp, _ = pipe.encode_prompt(fp.CASES["plain"], do_classifier_free_guidance=False)
    assert torch.equal(plain, pe[0]) and torch.equal(plain_pooled, pp[0])

    g = torch.Generator("cpu").manual_seed(fp.SEED)
    lat = pipe(prompt_embeds=pos[None], pooled_prompt_embeds=pooled[None], negative_prompt_embeds=neg[None],
               negative_pooled_prompt_embeds=neg_pooled[None], num_inference_steps=fp.STEPS,
               guidance_scale=fp.CFG, height=64, width=64, generator=g, output_type="latent").images
    tensors = {"long.ids": ids, "long.emb": pos.contiguous(), "long.pooled": pooled.contiguous(),
               "negative.emb": neg.contiguous(), "negative.pooled": neg_pooled.contiguous(),
               "long_run.latents": lat.contiguous()}
    md = {"long.prompt": text, "negative_prompt": fp.NEGATIVE, "seed": str(fp.SEED), "steps": str(fp.STEPS),
          "guidance_scale": str(fp.CFG), "sampler": "euler",
          "semantics": "A1111 SDXL conditioner: per-embedder emphasis Original, pooled of the first chunk"}
    out = os.path.join(ROOT, "tests/fixtures/prompts/tiny-sdxl.safetensors")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    save_file(tensors, out, metadata={k: (v if isinstance(v, str) else json.dumps(v)) for k, v in md.items()})
    print("wrote", out, f"({ids.numel() // 77} chunks, negative padded to {neg.shape[0] // 77})")


if __name__ == "__main__":
    main()
