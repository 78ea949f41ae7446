#!/usr/bin/env python3
"""Write tests/fixtures/tiny-sdxl: a tiny StableDiffusionXLPipeline with the
real SDXL architecture and random weights, and diffusers references.

  text_encoder    CLIPTextModel (quick_gelu, hidden 32), tokenizer pad
                  "<|endoftext|>" (as SDXL's tokenizer/)
  text_encoder_2  CLIPTextModelWithProjection (gelu, hidden 48, projection
                  40, eos_token_id 2 as in SDXL's config: the legacy argmax
                  pooling rule), tokenizer_2 pad "!" (as SDXL's tokenizer_2/)
  unet            UNet2DConditionModel as SDXL's: DownBlock2D then cross-
                  attention blocks, transformer_layers_per_block [1, 2],
                  linear projections, heads given as attention_head_dim,
                  addition_embed_type "text_time" (addition_time_embed_dim 8,
                  projection_class_embeddings_input_dim 40 + 6·8 = 88),
                  cross_attention_dim 32 + 48 = 80
  vae             the tiny AutoencoderKL, scaling_factor 0.13025 (SDXL's)
  scheduler       SDXL's EulerDiscreteScheduler config

ref/ (FP32, from the folder as loaded back):
  text.safetensors    for texts [PROMPT, NEGATIVE_TEXT]: ids / ids_2 (each
                      tokenizer, padded to 77), per encoder the last and the
                      penultimate hidden states, text_embeds (pooled,
                      projected) of text_encoder_2, and prompt_embeds (the
                      pipeline's concat) and pooled_prompt_embeds
  unet.safetensors    one UNet call with added conditions (text_embeds,
                      time_ids) at a fixed timestep
  sampler_euler.safetensors       10 steps, CFG 7.5, 64×64, seed 1234, no
                      negative prompt (force_zeros_for_empty_prompt: zeros)
  sampler_euler_neg.safetensors   the same with negative prompt NEGATIVE_TEXT

Reuses the helpers of tools/make_fixtures.py. usage:
  /work/pyenv/bin/python tools/fixtures_sdxl.py
"""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402  (sets torch to 1 thread, deterministic)

import torch  # noqa: E402
from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel  # noqa: E402
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROMPT = "a red circle on a blue background, high quality"
NEGATIVE_TEXT = "blurry, low quality"
SDXL_SCHEDULER = mf.FULL_CONFIGS["sdxl"]["scheduler/scheduler_config.json"]


def build(vocab_size, tok, tok2):
    torch.manual_seed(601)
    te = CLIPTextModel(CLIPTextConfig(
        vocab_size=vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        max_position_embeddings=77, hidden_act="quick_gelu", projection_dim=32, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id))
    torch.manual_seed(602)
    te2 = CLIPTextModelWithProjection(CLIPTextConfig(
        vocab_size=vocab_size, hidden_size=48, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
        max_position_embeddings=77, hidden_act="gelu", projection_dim=40, bos_token_id=0, eos_token_id=2,
        pad_token_id=1))
    torch.manual_seed(603)
    unet = UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4, block_out_channels=[32, 64], layers_per_block=1,
        down_block_types=["DownBlock2D", "CrossAttnDownBlock2D"],
        up_block_types=["CrossAttnUpBlock2D", "UpBlock2D"], transformer_layers_per_block=[1, 2],
        attention_head_dim=[2, 4], use_linear_projection=True, cross_attention_dim=80, norm_num_groups=8,
        addition_embed_type="text_time", addition_time_embed_dim=8, projection_class_embeddings_input_dim=88)
    torch.manual_seed(604)
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, block_out_channels=[16, 16, 32, 32],
        down_block_types=["DownEncoderBlock2D"] * 4, up_block_types=["UpDecoderBlock2D"] * 4,
        layers_per_block=1, latent_channels=4, norm_num_groups=8, sample_size=64, scaling_factor=0.13025)
    for i, m in enumerate((te, te2, unet, vae)):
        mf.perturb_(m, 6001 + i)
    mf.round_to_(unet, torch.float16)
    for m in (te, te2, unet, vae):
        m.eval().float()
        m.requires_grad_(False)
    sched = EulerDiscreteScheduler.from_config(SDXL_SCHEDULER)
    return te, te2, unet, vae, sched


@torch.no_grad()
def write_refs(pipe, ref):
    os.makedirs(ref, exist_ok=True)
    texts = [PROMPT, NEGATIVE_TEXT]
    t = {}
    for i, (tok, te) in enumerate(((pipe.tokenizer, pipe.text_encoder), (pipe.tokenizer_2, pipe.text_encoder_2))):
        sfx = "" if i == 0 else "_2"
        ids = mf.tokenize(tok, texts).to(torch.int64)
        out = te(ids, output_hidden_states=True)
        t["ids" + sfx] = ids.to(torch.int32).contiguous()
        t["last_hidden" + sfx] = mf.f32(out.last_hidden_state)
        t["penultimate" + sfx] = mf.f32(out.hidden_states[-2])
        if i == 1:
            t["text_embeds_2"] = mf.f32(out.text_embeds)
    pe, _, pooled, _ = pipe.encode_prompt(texts, do_classifier_free_guidance=False)
    t["prompt_embeds"] = mf.f32(pe)
    t["pooled_prompt_embeds"] = mf.f32(pooled)
    assert torch.equal(pe, torch.cat([t["penultimate"], t["penultimate_2"]], dim=-1))
    assert torch.equal(pooled, t["text_embeds_2"])
    mf.save_file(t, os.path.join(ref, "text.safetensors"), metadata=mf.meta(texts=texts))

    g = torch.Generator().manual_seed(7)
    sample = torch.randn((2, 4, 8, 8), generator=g)
    time_ids = torch.tensor([[64.0, 64.0, 0.0, 0.0, 64.0, 64.0], [96.0, 80.0, 8.0, 16.0, 64.0, 48.0]])
    cond = {"text_embeds": pooled, "time_ids": time_ids}
    out = pipe.unet(sample, torch.tensor([mf.TIMESTEP]), encoder_hidden_states=pe, added_cond_kwargs=cond).sample
    mf.save_file({"sample": mf.f32(sample), "timestep": torch.tensor([mf.TIMESTEP]), "encoder_hidden_states": mf.f32(pe),
                  "text_embeds": mf.f32(pooled), "time_ids": time_ids, "out": mf.f32(out)},
                 os.path.join(ref, "unet.safetensors"), metadata=mf.meta(timestep=mf.TIMESTEP))

    info = {}
    for name, neg in (("sampler_euler", None), ("sampler_euler_neg", NEGATIVE_TEXT)):
        common = dict(prompt=PROMPT, negative_prompt=neg, num_inference_steps=mf.STEPS, guidance_scale=mf.CFG,
                      height=64, width=64)
        lat = pipe(**common, generator=torch.Generator("cpu").manual_seed(mf.SEED), output_type="latent").images
        img = pipe(**common, generator=torch.Generator("cpu").manual_seed(mf.SEED), output_type="pt").images
        init_noise = torch.randn((1, 4, 8, 8), generator=torch.Generator("cpu").manual_seed(mf.SEED))
        pe, npe, pp, npp = pipe.encode_prompt(PROMPT, negative_prompt=neg, do_classifier_free_guidance=True)
        md = mf.meta(prompt=PROMPT, negative_prompt=neg or "", negative_is_none=neg is None, steps=mf.STEPS,
                     guidance_scale=mf.CFG, seed=mf.SEED, scheduler=type(pipe.scheduler).__name__,
                     scheduler_config=mf.sched_meta(pipe.scheduler), height=64, width=64)
        mf.save_file({"init_noise": init_noise, "timesteps": mf.f32(pipe.scheduler.timesteps),
                      "sigmas": mf.f32(pipe.scheduler.sigmas), "latents": mf.f32(lat), "image": mf.f32(img),
                      "text_embeddings": mf.f32(torch.cat([npe, pe])), "pooled": mf.f32(torch.cat([npp, pp]))},
                     os.path.join(ref, name + ".safetensors"), metadata=md)
        info[name] = dict(latents_absmax=lat.abs().max().item(), negative_zero=bool((npe == 0).all()),
                          image_range=(img.min().item(), img.max().item()))
    return info


def main():
    out = os.path.join(ROOT, "tests", "fixtures", "tiny-sdxl")
    if os.path.exists(out):
        shutil.rmtree(out)
    with tempfile.TemporaryDirectory() as tmp:
        vocab_size = mf.write_tiny_vocab(os.path.join(ROOT, "tests", "fixtures", "clip-vocab"), tmp)
        tok = mf.make_tokenizer(tmp, "<|endoftext|>")
        tok2 = mf.make_tokenizer(tmp, "!")
        te, te2, unet, vae, sched = build(vocab_size, tok, tok2)
        pipe = StableDiffusionXLPipeline(vae=vae, text_encoder=te, text_encoder_2=te2, tokenizer=tok,
                                         tokenizer_2=tok2, unet=unet, scheduler=sched,
                                         force_zeros_for_empty_prompt=True, add_watermarker=False)
        pipe.save_pretrained(out, safe_serialization=True)
        os.remove(os.path.join(out, "unet", "diffusion_pytorch_model.safetensors"))
        unet.to(torch.float16).save_pretrained(os.path.join(out, "unet"), safe_serialization=True)
        unet.to(torch.float32)
        for part in ("tokenizer", "tokenizer_2"):
            for fn in ("vocab.json", "merges.txt"):
                shutil.copyfile(os.path.join(tmp, fn), os.path.join(out, part, fn))
            mf.clean_tokenizer_config(os.path.join(out, part, "tokenizer_config.json"))
    mf.write_json(os.path.join(out, "scheduler", "scheduler_config.json"), SDXL_SCHEDULER)

    pipe2 = StableDiffusionXLPipeline.from_pretrained(out, dtype=torch.float32)
    pipe2.set_progress_bar_config(disable=True)
    for a, b in ((te, pipe2.text_encoder), (te2, pipe2.text_encoder_2), (unet, pipe2.unet), (vae, pipe2.vae)):
        sa, sb = a.state_dict(), b.state_dict()
        assert set(sa) == set(sb)
        for k in sa:
            assert torch.equal(sa[k], sb[k]), k
    assert pipe2.tokenizer_2.pad_token == "!" and pipe2.config.force_zeros_for_empty_prompt
    info = write_refs(pipe2, os.path.join(out, "ref"))
    for k, v in info.items():
        print(f"  {k}: {v}")
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(out) for f in fs)
    print(f"{out}: {total:,} bytes")


if __name__ == "__main__":
    main()
