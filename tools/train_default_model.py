#!/usr/bin/env python3
"""Train t2i's embedded default model (models/default) on the procedural shapes data set
(tools/make_dataset.py), CPU only, time-budgeted.

Stages (each can be run alone; --stage all runs them in order):
  vae    AutoencoderKL 4 blocks [16,32,64,64] (8x: 128x128 <-> 4x16x16), L1+MSE+KL,
         no attention, random 32x32 crops, then whole
         128x128 images; then the latent scaling factor = 1/std of the latents
  encode render the training scenes and encode them once with the VAE encoder
         (posterior mean and std, sampled again at every step)
  unet   CLIPTextModel (from scratch, real 49408-token CLIP BPE vocabulary) +
         UNet2DConditionModel [32,64,64] trained together: epsilon prediction,
         SD1.5's scaled_linear betas, offset noise 0.2, min-SNR-5 loss weights, 10% empty captions
         (for classifier-free guidance), AdamW with warm-up and cosine decay over the
         time budget, EMA of the weights. Writes models/default (FP16 safetensors)
         every --save-every minutes, so an early stop leaves a usable model.

    /work/pyenv/bin/python tools/train_default_model.py --stage all \\
        --vae-minutes 10 --unet-minutes 60 --work /tmp/t2i_default --out models/default
"""
import argparse
import copy
import json
import math
import os
import random
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_dataset as ds  # noqa: E402

from diffusers import (AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline,  # noqa: E402
                       UNet2DConditionModel)
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB = os.path.join(ROOT, "tests", "fixtures", "clip-vocab")

VAE_CFG = dict(in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 4,
               up_block_types=["UpDecoderBlock2D"] * 4, block_out_channels=[16, 32, 64, 64],
               layers_per_block=1, latent_channels=4, norm_num_groups=16, sample_size=128,
               mid_block_add_attention=False)
TE_CFG = dict(vocab_size=49408, hidden_size=128, intermediate_size=512, num_hidden_layers=2,
              num_attention_heads=4, max_position_embeddings=77, hidden_act="quick_gelu",
              bos_token_id=49406, eos_token_id=49407, pad_token_id=49407, projection_dim=128)
UNET_CFG = dict(sample_size=16, in_channels=4, out_channels=4,
                down_block_types=["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
                up_block_types=["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
                block_out_channels=[32, 64, 64], layers_per_block=1, cross_attention_dim=128,
                attention_head_dim=4, norm_num_groups=8)
SCHED_CFG = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                 prediction_type="epsilon", timestep_spacing="trailing", steps_offset=1)


def log(msg, work):
    line = time.strftime("%H:%M:%S ") + msg
    print(line, flush=True)
    with open(os.path.join(work, "train.log"), "a") as f:
        f.write(line + "\n")


def to_tensor(imgs):
    return torch.from_numpy(imgs).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


# ---- VAE ---------------------------------------------------------------------------------

def train_vae(a):
    """Two phases: random crops (cheap, learns colours and edges), then whole images
    (GroupNorm statistics are per image, so a crop-only VAE does not carry over)."""
    torch.manual_seed(0)
    init = os.path.join(a.work, "vae")
    if a.vae_init and os.path.exists(init):
        vae = AutoencoderKL.from_pretrained(init)
    else:
        vae = AutoencoderKL(**VAE_CFG)
    scenes = ds.make_scenes(3000, seed=99)
    imgs = ds.render_all(scenes)
    opt = torch.optim.AdamW(vae.parameters(), lr=1e-3, weight_decay=0.0)
    rng = np.random.default_rng(0)
    t0 = time.time()
    step = 0
    for phase, minutes, crop, batch, base_lr in (("crops", a.vae_minutes, a.vae_crop, a.vae_batch, 1e-3),
                                                 ("full", a.vae_full_minutes, 128, 8, 5e-4)):
        tp = time.time()
        budget = minutes * 60
        pstep = 0
        while time.time() - tp < budget:
            frac = (time.time() - tp) / budget
            for g in opt.param_groups:
                g["lr"] = base_lr * min(1.0, (pstep + 1) / 50) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
            idx = rng.integers(0, len(imgs), batch)
            ox, oy = rng.integers(0, 128 - crop + 1, 2) // 8 * 8
            x = to_tensor(imgs[idx, oy:oy + crop, ox:ox + crop])
            post = vae.encode(x).latent_dist
            z = post.sample()
            rec = vae.decode(z).sample
            kl = post.kl().mean() / (crop * crop * 3)
            loss = F.l1_loss(rec, x) + F.mse_loss(rec, x) + 1e-4 * kl
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            pstep += 1
            if step % 20 == 0:
                log(f"vae {phase} step {step} loss {loss.item():.4f} l1 {F.l1_loss(rec, x).item():.4f} "
                    f"kl {kl.item():.3f} ({time.time() - t0:.0f}s)", a.work)
    vae.eval()
    with torch.no_grad():
        x = to_tensor(imgs[:256])
        zs = torch.cat([vae.encode(x[i:i + 32]).latent_dist.sample() for i in range(0, 256, 32)])
        sf = 1.0 / zs.std().item()
        rec = torch.cat([vae.decode(zs[i:i + 32]).sample for i in range(0, 256, 32)])
        err = (rec - x).abs().mean().item()
    vae.register_to_config(scaling_factor=sf)
    vae.save_pretrained(os.path.join(a.work, "vae"))
    log(f"vae done: {step} steps in {time.time() - t0:.0f}s, full-image L1 {err:.4f}, "
        f"latent mean {zs.mean().item():.3f} std {zs.std().item():.3f} -> scaling_factor {sf:.4f}", a.work)
    return {"vae_steps": step, "vae_seconds": round(time.time() - t0), "vae_l1_full": err,
            "scaling_factor": sf}


def train_decoder(a):
    """Fine-tune the VAE decoder alone on whole images with the encoder frozen: the
    latents the UNet learns do not change, the pictures get sharper. Writes WORK/vae_dec."""
    torch.manual_seed(2)
    vae = AutoencoderKL.from_pretrained(os.path.join(a.work, "vae"))
    vae.encoder.requires_grad_(False)
    vae.quant_conv.requires_grad_(False)
    params = list(vae.decoder.parameters()) + list(vae.post_quant_conv.parameters())
    opt = torch.optim.AdamW(params, lr=2e-4, weight_decay=0.0)
    scenes = ds.make_scenes(4000, seed=98)
    imgs = ds.render_all(scenes)
    rng = np.random.default_rng(1)
    t0 = time.time()
    budget = a.decoder_minutes * 60
    step = 0
    while time.time() - t0 < budget:
        frac = (time.time() - t0) / budget
        for g in opt.param_groups:
            g["lr"] = 2e-4 * min(1.0, (step + 1) / 50) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        x = to_tensor(imgs[rng.integers(0, len(imgs), 8)])
        with torch.no_grad():
            z = vae.encode(x).latent_dist.sample()
        rec = vae.decode(z).sample
        loss = F.l1_loss(rec, x) + F.mse_loss(rec, x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % 20 == 0:
            log(f"decoder step {step} loss {loss.item():.4f} l1 {F.l1_loss(rec, x).item():.4f} "
                f"({time.time() - t0:.0f}s)", a.work)
        if step % 200 == 0 or time.time() - t0 >= budget:
            tmp = os.path.join(a.work, "vae_dec.tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            vae.save_pretrained(tmp)
            shutil.rmtree(os.path.join(a.work, "vae_dec"), ignore_errors=True)
            os.rename(tmp, os.path.join(a.work, "vae_dec"))
    log(f"decoder done: {step} steps in {time.time() - t0:.0f}s", a.work)
    return {"decoder_steps": step, "decoder_seconds": round(time.time() - t0)}


def best_vae_dir(a):
    d = os.path.join(a.work, "vae_dec")
    return d if os.path.exists(d) else os.path.join(a.work, "vae")


def encode(a):
    """Encode the training scenes once (posterior mean and std). --shard k/n encodes
    every n-th chunk starting at k, so n processes can share the work."""
    vae = AutoencoderKL.from_pretrained(os.path.join(a.work, "vae")).eval()
    scenes = ds.make_scenes(a.n_scenes, seed=1234)
    k, n = (int(v) for v in a.shard.split("/"))
    t0 = time.time()
    out = {}
    with torch.no_grad():
        for i in range(k * 100, len(scenes), 100 * n):
            x = to_tensor(ds.render_all(scenes[i:i + 100]))
            d = vae.encode(x).latent_dist
            out[i] = (d.mean.half(), d.std.half())
    torch.save(out, os.path.join(a.work, f"latents_{k}of{n}.pt"))
    if k == 0:
        with open(os.path.join(a.work, "scenes.json"), "w") as f:
            json.dump(scenes, f)
    log(f"encoded shard {k}/{n} of {len(scenes)} scenes in {time.time() - t0:.0f}s", a.work)


def load_latents(a, n):
    chunks = {}
    for f in os.listdir(a.work):
        if f.startswith("latents_") and f.endswith(".pt"):
            chunks.update(torch.load(os.path.join(a.work, f)))
    keys = sorted(chunks)
    assert keys == list(range(0, n, 100)), "missing latent shards"
    return torch.cat([chunks[i][0] for i in keys]), torch.cat([chunks[i][1] for i in keys])


# ---- text encoder + UNet -----------------------------------------------------------------

def make_tokenizer():
    tok = CLIPTokenizer(os.path.join(VOCAB, "vocab.json"), os.path.join(VOCAB, "merges.txt"),
                        pad_token="<|endoftext|>", model_max_length=77)
    return tok


def export(a, te, unet, tok, extra):
    vae = AutoencoderKL.from_pretrained(best_vae_dir(a))
    sched = EulerDiscreteScheduler(**SCHED_CFG)
    te = copy.deepcopy(te).half()
    unet = copy.deepcopy(unet).half()
    vae = vae.half()
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=te, tokenizer=tok, unet=unet, scheduler=sched,
                                   safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    tmp = a.out.rstrip("/") + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    pipe.save_pretrained(tmp, safe_serialization=True)
    for f in ("vocab.json", "merges.txt"):
        shutil.copy(os.path.join(VOCAB, f), os.path.join(tmp, "tokenizer", f))
    with open(os.path.join(tmp, "training.json"), "w") as f:
        json.dump(extra, f, indent=1, ensure_ascii=False)
    keep = os.path.join(a.out, "README.md")
    if os.path.exists(keep):
        shutil.copy(keep, os.path.join(tmp, "README.md"))
    shutil.rmtree(a.out, ignore_errors=True)
    os.rename(tmp, a.out)


def train_unet(a, info):
    torch.manual_seed(1)
    tok = make_tokenizer()
    te = CLIPTextModel(CLIPTextConfig(**TE_CFG))
    unet = UNet2DConditionModel(**UNET_CFG)
    if a.init:
        ck = torch.load(a.init)
        te.load_state_dict(ck["te"])
        unet.load_state_dict(ck["unet"])
        info = dict(info, init=f"{a.init} (step {ck['step']})")
        log(f"starting from {a.init} (step {ck['step']})", a.work)
    sched = EulerDiscreteScheduler(**SCHED_CFG)
    ac = sched.alphas_cumprod.float()
    vae_cfg = json.load(open(os.path.join(a.work, "vae", "config.json")))
    sf = vae_cfg["scaling_factor"]
    scenes = json.load(open(os.path.join(a.work, "scenes.json")))
    lmean, lstd = load_latents(a, len(scenes))
    n = len(scenes)
    params = list(te.parameters()) + list(unet.parameters())
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.01, betas=(0.9, 0.99))
    ema_te, ema_unet = copy.deepcopy(te).eval(), copy.deepcopy(unet).eval()
    ema_params = list(ema_te.parameters()) + list(ema_unet.parameters())
    for p in ema_params:
        p.requires_grad_(False)
    rng = random.Random(5)
    empty_ids = tok([""], padding="max_length", max_length=77, truncation=True,
                    return_tensors="pt").input_ids
    t0 = time.time()
    budget = a.unet_minutes * 60
    last_save = t0
    step = 0
    run_loss = None
    while True:
        el = time.time() - t0
        if el >= budget:
            break
        frac = el / budget
        lr = a.lr * min(1.0, (step + 1) / 200) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = lr
        idx = [rng.randrange(n) for _ in range(a.batch)]
        caps = [("" if rng.random() < 0.1 else ds.caption(scenes[i], rng)) for i in idx]
        ids = tok(caps, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
        it = torch.tensor(idx)
        x0 = (lmean[it].float() + lstd[it].float() * torch.randn(a.batch, 4, 16, 16)) * sf
        noise = torch.randn_like(x0) + a.offset_noise * torch.randn(a.batch, 4, 1, 1)
        t = torch.randint(0, 1000, (a.batch,))
        abar = ac[t].view(-1, 1, 1, 1)
        xt = abar.sqrt() * x0 + (1 - abar).sqrt() * noise
        emb = te(ids).last_hidden_state
        pred = unet(xt, t, emb).sample
        if SCHED_CFG["prediction_type"] == "v_prediction":
            target = abar.sqrt() * noise - (1 - abar).sqrt() * x0
            loss = (pred - target).pow(2).mean()
        else:
            snr = abar.view(-1) / (1 - abar.view(-1))
            w = torch.clamp(snr, max=5.0) / snr
            loss = (w * (pred - noise).pow(2).mean(dim=(1, 2, 3))).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        d = min(a.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            torch._foreach_mul_(ema_params, d)
            torch._foreach_add_(ema_params, params, alpha=1 - d)
        run_loss = loss.item() if run_loss is None else 0.98 * run_loss + 0.02 * loss.item()
        if step % 25 == 0:
            log(f"unet step {step} loss {run_loss:.4f} lr {lr:.2e} ({time.time() - t0:.0f}s, "
                f"{(time.time() - t0) / step:.2f}s/step)", a.work)
        if time.time() - last_save > a.save_every * 60:
            save(a, ema_te, ema_unet, tok, info, step, time.time() - t0, run_loss)
            last_save = time.time()
    save(a, ema_te, ema_unet, tok, info, step, time.time() - t0, run_loss)
    log(f"unet done: {step} steps in {time.time() - t0:.0f}s", a.work)


def save(a, te, unet, tok, info, step, secs, loss):
    info = dict(info)
    info.update(unet_steps=step, unet_seconds=round(secs), final_loss=loss, batch=a.batch, lr=a.lr,
                offset_noise=a.offset_noise,
                ema=a.ema, n_scenes=a.n_scenes, vae=VAE_CFG, text_encoder=TE_CFG, unet=UNET_CFG,
                scheduler=SCHED_CFG, held_out_pairs=sorted(map(list, ds.HELD_OUT_PAIRS)),
                torch=torch.__version__, threads=torch.get_num_threads())
    export(a, te, unet, tok, info)
    torch.save({"te": te.state_dict(), "unet": unet.state_dict(), "step": step},
               os.path.join(a.work, "ema_ckpt.pt"))
    log(f"saved {a.out} at step {step}", a.work)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stage", choices=["vae", "encode", "decoder", "unet", "export", "all"], default="all")
    ap.add_argument("--work", default="/tmp/t2i_default")
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "default"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--vae-minutes", type=float, default=10)
    ap.add_argument("--vae-batch", type=int, default=24)
    ap.add_argument("--vae-full-minutes", type=float, default=6)
    ap.add_argument("--vae-init", action="store_true", help="continue from WORK/vae")
    ap.add_argument("--vae-crop", type=int, default=32)
    ap.add_argument("--decoder-minutes", type=float, default=30)
    ap.add_argument("--n-scenes", type=int, default=8000)
    ap.add_argument("--shard", default="0/1", help="encode stage: this process's share k/n")
    ap.add_argument("--unet-minutes", type=float, default=60)
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--offset-noise", type=float, default=0.2,
                    help="per-channel constant added to the noise, so the model cannot read the "
                    "flat background from the input at high noise and has to take it from the text")
    ap.add_argument("--init", help="unet stage: start from this EMA checkpoint (ema_ckpt.pt)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--ema", type=float, default=0.998)
    ap.add_argument("--save-every", type=float, default=8)
    ap.add_argument("--v-prediction", action="store_true",
                    help="v-prediction with zero terminal SNR (rescale_betas_zero_snr) instead of epsilon")
    a = ap.parse_args()
    if a.v_prediction:
        SCHED_CFG.update(prediction_type="v_prediction", rescale_betas_zero_snr=True)
    torch.set_num_threads(a.threads)
    os.makedirs(a.work, exist_ok=True)
    info_path = os.path.join(a.work, "info.json")
    info = json.load(open(info_path)) if os.path.exists(info_path) else {}
    if a.stage in ("vae", "all"):
        prev = info.get("vae_seconds", 0) if a.vae_init else 0
        info.update(train_vae(a))
        info["vae_seconds"] += prev
        json.dump(info, open(info_path, "w"))
    if a.stage in ("encode", "all"):
        encode(a)
    if a.stage in ("decoder", "all"):
        info.update(train_decoder(a))
        json.dump(info, open(info_path, "w"))
    if a.stage in ("unet", "all"):
        train_unet(a, info)
    if a.stage == "export":  # again from the last EMA checkpoint (e.g. with a newer decoder)
        ck = torch.load(os.path.join(a.work, "ema_ckpt.pt"))
        te = CLIPTextModel(CLIPTextConfig(**TE_CFG))
        unet = UNet2DConditionModel(**UNET_CFG)
        te.load_state_dict(ck["te"])
        unet.load_state_dict(ck["unet"])
        prev = json.load(open(os.path.join(a.out, "training.json")))
        prev.update({k: v for k, v in info.items() if k.startswith("decoder")})
        export(a, te, unet, make_tokenizer(), prev)
        log(f"exported {a.out} from the step {ck['step']} checkpoint with {best_vae_dir(a)}", a.work)


if __name__ == "__main__":
    main()
