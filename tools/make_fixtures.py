#!/usr/bin/env python3
"""Write the committed test fixtures of t2i (see tests/fixtures/README.md).

  tests/fixtures/tiny-sd1/, tests/fixtures/tiny-sd2/
      Tiny Stable Diffusion models with the real SD1.x / SD2.x architectures
      and seeded random weights, in the diffusers folder layout, plus
      reference outputs of diffusers/transformers (FP32 on CPU) in ref/.
  perf/configs/{sd15,sd21,sdxl}/
      Full-size architecture configs (no weights), as published on the Hub,
      checked against known parameter counts on the meta device.

Deterministic: fixed seeds, one torch thread; re-running gives identical
files. Needs torch, diffusers, transformers, safetensors, numpy.

usage: python tools/make_fixtures.py [--repo REPO_ROOT]
"""
import argparse
import json
import os
import shutil
import tempfile

import numpy as np
import torch

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

import diffusers  # noqa: E402
import transformers  # noqa: E402
from diffusers import (  # noqa: E402
    AutoencoderKL,
    DDIMScheduler,
    DPMSolverMultistepScheduler,
    EulerAncestralDiscreteScheduler,
    EulerDiscreteScheduler,
    PNDMScheduler,
    StableDiffusionPipeline,
    UNet2DConditionModel,
)
import safetensors.torch  # noqa: E402
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer  # noqa: E402

transformers.logging.set_verbosity_error()
diffusers.logging.set_verbosity_error()

PROMPT = "a red circle on a blue background, high quality"
NEGATIVE = ""
STEPS = 10
CFG = 7.5
SEED = 1234
TIMESTEP = 617.0
N_MERGES = 2000

SAMPLERS = {
    "euler": (EulerDiscreteScheduler, {}),
    "euler_a": (EulerAncestralDiscreteScheduler, {}),
    "ddim": (DDIMScheduler, {}),
    "dpmpp_2m": (DPMSolverMultistepScheduler, {}),
    "dpmpp_2m_karras": (DPMSolverMultistepScheduler, {"use_karras_sigmas": True}),
}


# --------------------------------------------------------------------------
# tokenizer


def write_tiny_vocab(clip_vocab_dir, out_dir):
    """vocab.json + merges.txt of a truncated real CLIP BPE vocabulary."""
    with open(os.path.join(clip_vocab_dir, "vocab.json"), encoding="utf-8") as f:
        real = json.load(f)
    by_id = [tok for tok, _ in sorted(real.items(), key=lambda kv: kv[1])]
    with open(os.path.join(clip_vocab_dir, "merges.txt"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    assert lines[0].startswith("#version")
    merges = lines[1:1 + N_MERGES]
    assert len(merges) == N_MERGES and all(len(m.split(" ")) == 2 for m in merges)
    vocab = by_id[:256]
    assert all(not t.endswith("</w>") for t in vocab)
    vocab = vocab + [t + "</w>" for t in vocab]
    assert vocab == by_id[:512]
    vocab += [m.replace(" ", "") for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    assert len(vocab) == len(set(vocab)) == 512 + N_MERGES + 2
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({t: i for i, t in enumerate(vocab)}, f, ensure_ascii=False)
    with open(os.path.join(out_dir, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(merges) + "\n")
    return len(vocab)


def make_tokenizer(src_dir, pad_token):
    tok = CLIPTokenizer.from_pretrained(src_dir, pad_token=pad_token, model_max_length=77)
    assert tok.model_max_length == 77 and tok.pad_token == pad_token
    return tok


def tokenize(tok, texts):
    return tok(texts, padding="max_length", max_length=tok.model_max_length, truncation=True,
               return_tensors="pt").input_ids


# --------------------------------------------------------------------------
# models


def perturb_(model, seed):
    """Add seeded noise to every parameter (norm weights/biases included),
    about 10% of each tensor's spread (absolute 0.1 for constant tensors)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            s = p.detach().float().std().item() if p.numel() > 1 else 0.0
            if not s > 1e-6:
                s = 1.0
            p.add_(0.1 * s * torch.randn(p.shape, generator=g, dtype=torch.float32))


def round_to_(model, dtype):
    with torch.no_grad():
        for p in model.parameters():
            p.data = p.data.to(dtype).float()


def build_models(kind, vocab_size, tok):
    bos, eos, pad = tok.bos_token_id, tok.eos_token_id, tok.pad_token_id
    if kind == "sd1":
        torch.manual_seed(101)
        te = CLIPTextModel(CLIPTextConfig(
            vocab_size=vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
            num_attention_heads=4, max_position_embeddings=77, hidden_act="quick_gelu",
            projection_dim=32, bos_token_id=bos, eos_token_id=eos, pad_token_id=pad))
        torch.manual_seed(102)
        unet = UNet2DConditionModel(
            sample_size=8, in_channels=4, out_channels=4, block_out_channels=[32, 64],
            layers_per_block=2, down_block_types=["CrossAttnDownBlock2D", "DownBlock2D"],
            up_block_types=["UpBlock2D", "CrossAttnUpBlock2D"], cross_attention_dim=32,
            attention_head_dim=8, norm_num_groups=8, use_linear_projection=False)
        sched = PNDMScheduler(
            beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
            num_train_timesteps=1000, steps_offset=1, skip_prk_steps=True, set_alpha_to_one=False,
            prediction_type="epsilon")
        sched.register_to_config(clip_sample=False)  # as in SD1.5's scheduler_config.json
        unet_dtype = torch.float16
    else:
        torch.manual_seed(201)
        te = CLIPTextModel(CLIPTextConfig(
            vocab_size=vocab_size, hidden_size=48, intermediate_size=96, num_hidden_layers=2,
            num_attention_heads=4, max_position_embeddings=77, hidden_act="gelu",
            projection_dim=48, bos_token_id=bos, eos_token_id=eos, pad_token_id=pad))
        torch.manual_seed(202)
        unet = UNet2DConditionModel(
            sample_size=8, in_channels=4, out_channels=4, block_out_channels=[32, 64, 64],
            layers_per_block=1,
            down_block_types=["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
            up_block_types=["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
            attention_head_dim=[2, 4, 4], use_linear_projection=True, upcast_attention=True,
            cross_attention_dim=48, norm_num_groups=8)
        sched = DDIMScheduler(
            beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
            num_train_timesteps=1000, prediction_type="v_prediction", steps_offset=1,
            clip_sample=False, set_alpha_to_one=False, timestep_spacing="leading")
        sched.register_to_config(skip_prk_steps=True)  # as in SD2.1's scheduler_config.json
        unet_dtype = torch.bfloat16
    torch.manual_seed(303 if kind == "sd1" else 403)
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, block_out_channels=[16, 16, 32, 32],
        down_block_types=["DownEncoderBlock2D"] * 4, up_block_types=["UpDecoderBlock2D"] * 4,
        layers_per_block=1, latent_channels=4, norm_num_groups=8, sample_size=64,
        scaling_factor=0.18215)
    base = 1000 if kind == "sd1" else 2000
    perturb_(te, base + 1)
    perturb_(unet, base + 2)
    perturb_(vae, base + 3)
    round_to_(unet, unet_dtype)
    for m in (te, unet, vae):
        m.eval().float()
        m.requires_grad_(False)
    return te, unet, vae, sched, unet_dtype


# --------------------------------------------------------------------------
# references


def meta(**kw):
    return {k: (v if isinstance(v, str) else json.dumps(v, sort_keys=True)) for k, v in kw.items()}


def sched_meta(sched):
    cfg = {k: v for k, v in dict(sched.config).items() if k != "_use_default_values"}
    return json.dumps(cfg, sort_keys=True)


def save_file(tensors, path, metadata=None):
    """safetensors.torch.save_file with a reproducible header: the library serializes the
    metadata from a hash map (key order changes from run to run); here the header JSON is
    re-serialized with sorted keys (data bytes and offsets unchanged)."""
    blob = safetensors.torch.save(tensors, metadata=metadata)
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + n])
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + blob[8 + n:])


def f32(t):
    return t.detach().to(torch.float32).contiguous().clone()


def smooth_image():
    y, x = torch.meshgrid(torch.arange(64, dtype=torch.float64), torch.arange(64, dtype=torch.float64),
                          indexing="ij")
    r = torch.sqrt((x - 24.0) ** 2 + (y - 36.0) ** 2)
    chans = [
        0.8 * torch.tanh((16.0 - r) / 4.0),
        0.7 * torch.sin(2 * np.pi * (x / 64.0 + 0.5 * y / 64.0)),
        0.9 * torch.cos(2 * np.pi * (y / 48.0)) * torch.cos(2 * np.pi * x / 96.0),
    ]
    return torch.stack(chans)[None].to(torch.float32).clamp(-1, 1).contiguous()


@torch.no_grad()
def write_refs(pipe, ref_dir, kind):
    os.makedirs(ref_dir, exist_ok=True)
    tok, te, unet, vae = pipe.tokenizer, pipe.text_encoder, pipe.unet, pipe.vae
    info = {}

    # text encoder
    ids = tokenize(tok, [NEGATIVE, PROMPT]).to(torch.int64)
    hidden = te(ids).last_hidden_state
    save_file({"ids": ids.to(torch.int32).contiguous(), "hidden": f32(hidden)},
              os.path.join(ref_dir, "text.safetensors"),
              metadata=meta(prompt=PROMPT, negative_prompt=NEGATIVE, rows="0=negative_prompt,1=prompt"))
    info["ids"] = ids

    # one UNet evaluation at a fixed timestep
    g = torch.Generator().manual_seed(7)
    sample = torch.randn((2, 4, 8, 8), generator=g)
    out = unet(sample, torch.tensor([TIMESTEP]), encoder_hidden_states=hidden).sample
    out_int = unet(sample, int(TIMESTEP), encoder_hidden_states=hidden).sample
    assert torch.equal(out, out_int)
    save_file({"sample": f32(sample), "timestep": torch.tensor([TIMESTEP], dtype=torch.float32),
               "encoder_hidden_states": f32(hidden), "out": f32(out)},
              os.path.join(ref_dir, "unet.safetensors"), metadata=meta(timestep=TIMESTEP))

    # VAE decode (input already divided by scaling_factor) and encode
    g = torch.Generator().manual_seed(8)
    latents = torch.randn((1, 4, 8, 8), generator=g) / vae.config.scaling_factor
    image = vae.decode(latents).sample
    save_file({"latents": f32(latents), "image": f32(image)},
              os.path.join(ref_dir, "vae_decode.safetensors"),
              metadata=meta(scaling_factor=vae.config.scaling_factor, note="raw decoder output, no clamp"))
    img = smooth_image()
    mean = vae.encode(img).latent_dist.mean
    save_file({"image": img, "mean": f32(mean)}, os.path.join(ref_dir, "vae_encode.safetensors"),
              metadata=meta(note="mean of the latent distribution, unscaled"))
    info["vae_decode_range"] = (image.min().item(), image.max().item())

    # whole sampler runs
    base_sched = pipe.scheduler
    for sid, (cls, extra) in SAMPLERS.items():
        pipe.scheduler = cls.from_config(base_sched.config, **extra)
        common = dict(prompt=PROMPT, negative_prompt=NEGATIVE, num_inference_steps=STEPS,
                      guidance_scale=CFG, height=64, width=64)
        lat = pipe(**common, generator=torch.Generator("cpu").manual_seed(SEED),
                   output_type="latent").images
        ts = pipe.scheduler.timesteps.clone()
        sig = getattr(pipe.scheduler, "sigmas", None)
        sig = None if sig is None else sig.clone()
        img = pipe(**common, generator=torch.Generator("cpu").manual_seed(SEED), output_type="pt").images
        assert torch.equal(ts, pipe.scheduler.timesteps)
        init_noise = torch.randn((1, 4, 8, 8), generator=torch.Generator("cpu").manual_seed(SEED))
        tensors = {"init_noise": init_noise, "timesteps": f32(ts), "latents": f32(lat), "image": f32(img)}
        if sig is not None:
            tensors["sigmas"] = f32(sig)
        md = meta(prompt=PROMPT, negative_prompt=NEGATIVE, steps=STEPS, guidance_scale=CFG, seed=SEED,
                  scheduler=type(pipe.scheduler).__name__,
                  scheduler_config=sched_meta(pipe.scheduler),
                  init_noise_sigma=float(pipe.scheduler.init_noise_sigma),
                  height=64, width=64)
        save_file(tensors, os.path.join(ref_dir, f"sampler_{sid}.safetensors"), metadata=md)
        info[sid] = dict(timesteps_dtype=str(ts.dtype), timesteps=ts.tolist(),
                         sigmas=None if sig is None else [round(s, 4) for s in sig.tolist()],
                         init_noise_sigma=float(pipe.scheduler.init_noise_sigma),
                         latents_absmax=lat.abs().max().item(),
                         image_range=(img.min().item(), img.max().item()))
        if sid == "euler_a":
            gens = [torch.Generator("cpu").manual_seed(SEED), torch.Generator("cpu").manual_seed(SEED + 1)]
            lat2 = pipe(**common, num_images_per_prompt=2, generator=gens, output_type="latent").images
            # same run up to float reassociation in batch-size dependent kernels
            assert (lat2[0:1] - lat).abs().max() <= 1e-4 * max(1.0, lat.abs().max().item())
            init2 = torch.cat([torch.randn((1, 4, 8, 8), generator=torch.Generator("cpu").manual_seed(SEED + i))
                               for i in range(2)])
            save_file({"init_noise": init2, "timesteps": f32(pipe.scheduler.timesteps),
                       "sigmas": f32(pipe.scheduler.sigmas), "latents": f32(lat2)},
                      os.path.join(ref_dir, "sampler_euler_a_batch2.safetensors"),
                      metadata=meta(prompt=PROMPT, negative_prompt=NEGATIVE, steps=STEPS, guidance_scale=CFG,
                                    seed=SEED, seeds=[SEED, SEED + 1], num_images_per_prompt=2,
                                    scheduler=type(pipe.scheduler).__name__,
                                    scheduler_config=sched_meta(pipe.scheduler), height=64, width=64))
            info["euler_a_batch2_row0_maxdiff"] = (lat2[0:1] - lat).abs().max().item()
    pipe.scheduler = base_sched
    return info


# --------------------------------------------------------------------------
# tiny models


def clean_tokenizer_config(path):
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    for k in ("is_local", "local_files_only", "name_or_path"):
        cfg.pop(k, None)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")


def make_tiny(repo, kind):
    name = "tiny-" + kind
    out = os.path.join(repo, "tests", "fixtures", name)
    if os.path.exists(out):
        shutil.rmtree(out)
    with tempfile.TemporaryDirectory() as tmp:
        vocab_size = write_tiny_vocab(os.path.join(repo, "tests", "fixtures", "clip-vocab"), tmp)
        tok = make_tokenizer(tmp, "<|endoftext|>" if kind == "sd1" else "!")
        te, unet, vae, sched, unet_dtype = build_models(kind, vocab_size, tok)
        pipe = StableDiffusionPipeline(vae=vae, text_encoder=te, tokenizer=tok, unet=unet, scheduler=sched,
                                       safety_checker=None, feature_extractor=None,
                                       requires_safety_checker=False)
        pipe.set_progress_bar_config(disable=True)
        pipe.save_pretrained(out, safe_serialization=True)
        # re-save the UNet in its storage dtype (the parameters already hold exactly these values)
        os.remove(os.path.join(out, "unet", "diffusion_pytorch_model.safetensors"))
        unet.to(unet_dtype).save_pretrained(os.path.join(out, "unet"), safe_serialization=True)
        unet.to(torch.float32)
        # the tokenizer folder as the Hub repos have it: vocab.json + merges.txt next to tokenizer.json
        for fn in ("vocab.json", "merges.txt"):
            shutil.copyfile(os.path.join(tmp, fn), os.path.join(out, "tokenizer", fn))
    clean_tokenizer_config(os.path.join(out, "tokenizer", "tokenizer_config.json"))
    if kind == "sd1":
        # SD1.5's scheduler_config.json as published: only these keys. Keys absent from the file
        # take the defaults of whichever scheduler class is built from it with from_config (so
        # EulerDiscreteScheduler.from_config gets timestep_spacing "linspace", DDIM "leading").
        write_json(os.path.join(out, "scheduler", "scheduler_config.json"), SD15_SCHEDULER)

    # The references are computed by the pipeline as loaded back from the saved folder (FP32), so
    # they are what diffusers gives for exactly these files. Check it holds the same weights.
    pipe2 = StableDiffusionPipeline.from_pretrained(out, dtype=torch.float32)
    pipe2.set_progress_bar_config(disable=True)
    assert pipe2.safety_checker is None and pipe2.feature_extractor is None
    for a, b in ((te, pipe2.text_encoder), (unet, pipe2.unet), (vae, pipe2.vae)):
        sa, sb = a.state_dict(), b.state_dict()
        assert set(sa) == set(sb)
        for k in sa:
            assert sb[k].dtype == torch.float32 and torch.equal(sa[k], sb[k]), k
    tok2 = pipe2.tokenizer
    assert tok2.pad_token == tok.pad_token and tok2.model_max_length == 77
    assert torch.equal(tokenize(tok2, [NEGATIVE, PROMPT]), tokenize(tok, [NEGATIVE, PROMPT]))
    with tempfile.TemporaryDirectory() as tmp:  # vocab.json + merges.txt alone give the same ids
        for fn in ("vocab.json", "merges.txt"):
            shutil.copyfile(os.path.join(out, "tokenizer", fn), os.path.join(tmp, fn))
        tok3 = make_tokenizer(tmp, tok.pad_token)
    assert torch.equal(tokenize(tok3, [NEGATIVE, PROMPT]), tokenize(tok, [NEGATIVE, PROMPT]))

    info = write_refs(pipe2, os.path.join(out, "ref"), kind)
    info["tokens"] = tok.convert_ids_to_tokens(info.pop("ids")[1].tolist())
    return info


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


SD15_SCHEDULER = {
    "_class_name": "PNDMScheduler",
    "_diffusers_version": "0.6.0",
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "clip_sample": False,
    "num_train_timesteps": 1000,
    "prediction_type": "epsilon",
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "trained_betas": None,
}


# --------------------------------------------------------------------------
# full-size configs

UNET_COMMON = {
    "_class_name": "UNet2DConditionModel",
    "act_fn": "silu",
    "center_input_sample": False,
    "downsample_padding": 1,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "in_channels": 4,
    "layers_per_block": 2,
    "mid_block_scale_factor": 1,
    "norm_eps": 1e-05,
    "norm_num_groups": 32,
    "out_channels": 4,
}
SD_DOWN = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"]
SD_UP = ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]


def vae_cfg(version, sample_size, **extra):
    c = {
        "_class_name": "AutoencoderKL",
        "_diffusers_version": version,
        "act_fn": "silu",
        "block_out_channels": [128, 256, 512, 512],
        "down_block_types": ["DownEncoderBlock2D"] * 4,
        "in_channels": 3,
        "latent_channels": 4,
        "layers_per_block": 2,
        "norm_num_groups": 32,
        "out_channels": 3,
        "sample_size": sample_size,
        "up_block_types": ["UpDecoderBlock2D"] * 4,
    }
    c.update(extra)
    return c


def clip_text_cfg(arch, hidden, inter, heads, layers, act, proj, dtype, version, **extra):
    c = {
        "architectures": [arch],
        "attention_dropout": 0.0,
        "bos_token_id": 0,
        "dropout": 0.0,
        "eos_token_id": 2,
        "hidden_act": act,
        "hidden_size": hidden,
        "initializer_factor": 1.0,
        "initializer_range": 0.02,
        "intermediate_size": inter,
        "layer_norm_eps": 1e-05,
        "max_position_embeddings": 77,
        "model_type": "clip_text_model",
        "num_attention_heads": heads,
        "num_hidden_layers": layers,
        "pad_token_id": 1,
        "projection_dim": proj,
        "torch_dtype": dtype,
        "transformers_version": version,
        "vocab_size": 49408,
    }
    c.update(extra)
    return c


def sched_cfg(cls, version, **extra):
    c = {
        "_class_name": cls,
        "_diffusers_version": version,
        "beta_end": 0.012,
        "beta_schedule": "scaled_linear",
        "beta_start": 0.00085,
        "clip_sample": False,
        "num_train_timesteps": 1000,
        "set_alpha_to_one": False,
        "skip_prk_steps": True,
        "steps_offset": 1,
        "trained_betas": None,
    }
    c.update(extra)
    return dict(sorted(c.items()))


FULL_CONFIGS = {
    "sd15": {
        "model_index.json": {
            "_class_name": "StableDiffusionPipeline",
            "_diffusers_version": "0.6.0",
            "feature_extractor": ["transformers", "CLIPImageProcessor"],
            "safety_checker": ["stable_diffusion", "StableDiffusionSafetyChecker"],
            "scheduler": ["diffusers", "PNDMScheduler"],
            "text_encoder": ["transformers", "CLIPTextModel"],
            "tokenizer": ["transformers", "CLIPTokenizer"],
            "unet": ["diffusers", "UNet2DConditionModel"],
            "vae": ["diffusers", "AutoencoderKL"],
        },
        "unet/config.json": dict(sorted({
            **UNET_COMMON,
            "_diffusers_version": "0.6.0",
            "attention_head_dim": 8,
            "block_out_channels": [320, 640, 1280, 1280],
            "cross_attention_dim": 768,
            "down_block_types": SD_DOWN,
            "sample_size": 64,
            "up_block_types": SD_UP,
        }.items())),
        "vae/config.json": vae_cfg("0.6.0", 512),
        "text_encoder/config.json": clip_text_cfg(
            "CLIPTextModel", 768, 3072, 12, 12, "quick_gelu", 768, "float32", "4.22.0.dev0",
            _name_or_path="openai/clip-vit-large-patch14"),
        "scheduler/scheduler_config.json": sched_cfg("PNDMScheduler", "0.6.0"),
    },
    "sd21": {
        "model_index.json": {
            "_class_name": "StableDiffusionPipeline",
            "_diffusers_version": "0.10.0.dev0",
            "feature_extractor": ["transformers", "CLIPImageProcessor"],
            "requires_safety_checker": False,
            "safety_checker": [None, None],
            "scheduler": ["diffusers", "DDIMScheduler"],
            "text_encoder": ["transformers", "CLIPTextModel"],
            "tokenizer": ["transformers", "CLIPTokenizer"],
            "unet": ["diffusers", "UNet2DConditionModel"],
            "vae": ["diffusers", "AutoencoderKL"],
        },
        "unet/config.json": dict(sorted({
            **UNET_COMMON,
            "_diffusers_version": "0.10.0.dev0",
            "attention_head_dim": [5, 10, 20, 20],
            "block_out_channels": [320, 640, 1280, 1280],
            "cross_attention_dim": 1024,
            "down_block_types": SD_DOWN,
            "dual_cross_attention": False,
            "num_class_embeds": None,
            "only_cross_attention": False,
            "sample_size": 96,
            "up_block_types": SD_UP,
            "upcast_attention": True,
            "use_linear_projection": True,
        }.items())),
        "vae/config.json": vae_cfg("0.8.0", 768),
        "text_encoder/config.json": clip_text_cfg(
            "CLIPTextModel", 1024, 4096, 16, 23, "gelu", 512, "float32", "4.25.0.dev0",
            _name_or_path="hf-models/stable-diffusion-v2-768x768/text_encoder"),
        "scheduler/scheduler_config.json": sched_cfg("DDIMScheduler", "0.8.0", prediction_type="v_prediction"),
    },
    "sdxl": {
        "model_index.json": {
            "_class_name": "StableDiffusionXLPipeline",
            "_diffusers_version": "0.19.0.dev0",
            "force_zeros_for_empty_prompt": True,
            "add_watermarker": None,
            "scheduler": ["diffusers", "EulerDiscreteScheduler"],
            "text_encoder": ["transformers", "CLIPTextModel"],
            "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
            "tokenizer": ["transformers", "CLIPTokenizer"],
            "tokenizer_2": ["transformers", "CLIPTokenizer"],
            "unet": ["diffusers", "UNet2DConditionModel"],
            "vae": ["diffusers", "AutoencoderKL"],
        },
        "unet/config.json": dict(sorted({
            **UNET_COMMON,
            "_diffusers_version": "0.19.0.dev0",
            "addition_embed_type": "text_time",
            "addition_embed_type_num_heads": 64,
            "addition_time_embed_dim": 256,
            "attention_head_dim": [5, 10, 20],
            "block_out_channels": [320, 640, 1280],
            "class_embed_type": None,
            "class_embeddings_concat": False,
            "conv_in_kernel": 3,
            "conv_out_kernel": 3,
            "cross_attention_dim": 2048,
            "cross_attention_norm": None,
            "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
            "dual_cross_attention": False,
            "encoder_hid_dim": None,
            "encoder_hid_dim_type": None,
            "mid_block_only_cross_attention": None,
            "mid_block_type": "UNetMidBlock2DCrossAttn",
            "num_attention_heads": None,
            "num_class_embeds": None,
            "only_cross_attention": False,
            "projection_class_embeddings_input_dim": 2816,
            "resnet_out_scale_factor": 1.0,
            "resnet_skip_time_act": False,
            "resnet_time_scale_shift": "default",
            "sample_size": 128,
            "time_cond_proj_dim": None,
            "time_embedding_act_fn": None,
            "time_embedding_dim": None,
            "time_embedding_type": "positional",
            "timestep_post_act": None,
            "transformer_layers_per_block": [1, 2, 10],
            "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
            "upcast_attention": None,
            "use_linear_projection": True,
        }.items())),
        "vae/config.json": vae_cfg("0.20.0.dev0", 1024, _name_or_path="../sdxl-vae/", force_upcast=True,
                                   scaling_factor=0.13025),
        "text_encoder/config.json": clip_text_cfg(
            "CLIPTextModel", 768, 3072, 12, 12, "quick_gelu", 768, "float16", "4.32.0.dev0"),
        "text_encoder_2/config.json": clip_text_cfg(
            "CLIPTextModelWithProjection", 1280, 5120, 20, 32, "gelu", 1280, "float16", "4.32.0.dev0"),
        "scheduler/scheduler_config.json": sched_cfg(
            "EulerDiscreteScheduler", "0.19.0.dev0", interpolation_type="linear", prediction_type="epsilon",
            sample_max_value=1.0, timestep_spacing="leading", use_karras_sigmas=False),
    },
}

EXPECTED_PARAMS = {
    ("sd15", "unet"): 859_520_964,
    ("sd21", "unet"): 865_910_724,
    ("sdxl", "unet"): 2_567_463_684,
    ("sd15", "vae"): 83_653_863,
    ("sd21", "vae"): 83_653_863,
    ("sdxl", "vae"): 83_653_863,
    ("sd15", "text_encoder"): 123_060_480,
    ("sd21", "text_encoder"): 340_387_840,
    ("sdxl", "text_encoder"): 123_060_480,
    ("sdxl", "text_encoder_2"): 694_659_840,  # OpenCLIP ViT-bigG text tower incl. text_projection
}


def count_params(model_dir, comp):
    with open(os.path.join(model_dir, comp, "config.json")) as f:
        cfg = json.load(f)
    with torch.device("meta"):
        if comp == "unet":
            m = UNet2DConditionModel.from_config(cfg)
        elif comp == "vae":
            m = AutoencoderKL.from_config(cfg)
        else:
            tc = CLIPTextConfig(**{k: v for k, v in cfg.items() if not k.startswith("_")})
            m = (CLIPTextModelWithProjection if cfg["architectures"][0] == "CLIPTextModelWithProjection"
                 else CLIPTextModel)(tc)
    return sum(p.numel() for p in m.parameters())


def make_full_configs(repo):
    counts = {}
    for name, files in FULL_CONFIGS.items():
        d = os.path.join(repo, "perf", "configs", name)
        for rel, cfg in files.items():
            p = os.path.join(d, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            write_json(p, cfg)
        for comp in ("unet", "vae", "text_encoder", "text_encoder_2"):
            if not os.path.exists(os.path.join(d, comp, "config.json")):
                continue
            n = count_params(d, comp)
            counts[(name, comp)] = n
            want = EXPECTED_PARAMS[(name, comp)]
            assert n == want, f"{name}/{comp}: {n:,} parameters, expected {want:,}"
        # the scheduler configs must load in diffusers
        sc = files["scheduler/scheduler_config.json"]
        getattr(diffusers, sc["_class_name"]).from_config(sc)
    return counts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    print(f"torch {torch.__version__}, diffusers {diffusers.__version__}, transformers {transformers.__version__}")
    for kind in ("sd1", "sd2"):
        info = make_tiny(args.repo, kind)
        if not args.quiet:
            print(f"== tiny-{kind}")
            for k, v in info.items():
                print(f"  {k}: {v}")
    counts = make_full_configs(args.repo)
    for (name, comp), n in counts.items():
        print(f"  {name}/{comp}: {n:,} parameters (ok)")
    total = 0
    for top in ("tiny-sd1", "tiny-sd2"):
        for root, _, files in os.walk(os.path.join(args.repo, "tests", "fixtures", top)):
            total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    print(f"tests/fixtures/tiny-sd1 + tiny-sd2: {total:,} bytes")


if __name__ == "__main__":
    main()
