#!/usr/bin/env python3
"""Train t2i's embedded default model (models/default) on the procedural shapes data set
(scripts/train/make_dataset.py), CPU only, time-budgeted.

Stages (each can be run alone; --stage all runs them in order):
  vae    AutoencoderKL 4 blocks [16,32,64,64] (8x: 128x128 <-> 4x16x16), L1+MSE+KL,
         no attention, random 32x32 crops, then whole
         128x128 images; then the latent scaling factor = 1/std of the latents
  encode render the training scenes and encode them once with the VAE encoder
         (posterior mean and std, sampled again at every step)
  unet   CLIPTextModel (from scratch, real 49408-token CLIP BPE vocabulary) +
         UNet2DConditionModel [48,96,96] (cross-attention at 8x8 and 4x4) trained together:
         epsilon prediction, SD1.5's scaled_linear betas, offset noise 0.2, min-SNR-5 loss
         weights, loss weight 5 on the latent cells around the objects, 30% of the batch
         at t >= 500, 10% empty captions (for classifier-free guidance), an auxiliary head on
         the text encoder's pooled output that predicts what the caption names (background,
         colour, shape, position, size, count; dropped at export), AdamW with warm-up and
         cosine decay over the time budget, EMA of the weights. Only the embedding rows of
         the tokens the captions use are trained. Writes models/default (FP16 safetensors)
         every --save-every minutes, so an early stop leaves a usable model.

    /work/pyenv/bin/python scripts/train/train_default_model.py --stage all \\
        --vae-minutes 10 --unet-minutes 120 --work /tmp/t2i_default --out models/default
"""
import argparse
import copy
import json
import math
import os
import random
import re
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

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VOCAB = os.path.join(ROOT, "tests", "fixtures", "clip-vocab")

VAE_CFG = dict(in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 4,
               up_block_types=["UpDecoderBlock2D"] * 4, block_out_channels=[16, 32, 64, 64],
               layers_per_block=1, latent_channels=4, norm_num_groups=16, sample_size=128,
               mid_block_add_attention=False)
TE_CFG = dict(vocab_size=49408, hidden_size=128, intermediate_size=512, num_hidden_layers=2,
              num_attention_heads=4, max_position_embeddings=77, hidden_act="quick_gelu",
              bos_token_id=49406, eos_token_id=49407, pad_token_id=49407, projection_dim=128)
UNET_CFG = dict(sample_size=16, in_channels=4, out_channels=4,
                # attention at 8x8 and 4x4 only: at 16x16 the softmax over 256 positions was half
                # of every training step on the CPU, and 8x8 is fine enough to bind words to objects
                down_block_types=["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
                up_block_types=["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
                block_out_channels=[48, 96, 96], layers_per_block=1, cross_attention_dim=128,
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


class UsedTokens(torch.nn.Module):
    """The rows of CLIP's 49,408-token embedding that the captions use, trained as a small
    table (an AdamW step and an EMA update over the whole table cost more than the text
    encoder's own forward pass); full_text_encoder() puts them back into the full table."""

    def __init__(self, full, ids):
        super().__init__()
        lut = torch.full((full.num_embeddings,), -1, dtype=torch.long)
        lut[ids] = torch.arange(len(ids))
        self.register_buffer("ids", ids)
        self.register_buffer("lut", lut)
        self.register_buffer("full", full.weight.detach().clone())
        self.rows = torch.nn.Parameter(full.weight.detach()[ids].clone())

    def forward(self, x):
        j = self.lut[x]
        if (j < 0).any():
            raise ValueError(f"token ids {x[j < 0].unique().tolist()} not in the training vocabulary")
        return F.embedding(j, self.rows)


def text_embeddings(te):
    """CLIPTextEmbeddings (transformers 5 dropped the text_model level)."""
    return te.text_model.embeddings if hasattr(te, "text_model") else te.embeddings


def full_text_encoder(te):
    te = copy.deepcopy(te)
    emb = text_embeddings(te)
    if isinstance(emb.token_embedding, UsedTokens):
        used = emb.token_embedding
        full = torch.nn.Embedding(*used.full.shape)
        with torch.no_grad():
            full.weight.copy_(used.full)
            full.weight[used.ids] = used.rows
        emb.token_embedding = full
    return te


def used_token_ids(tok, scenes):
    rng = random.Random(11)
    caps = [ds.caption(scenes[rng.randrange(len(scenes))], rng) for _ in range(40000)]
    caps.append("")
    ids = set()
    for i in range(0, len(caps), 1000):
        for row in tok(caps[i:i + 1000], truncation=True, max_length=77).input_ids:
            ids.update(row)
    ids.add(tok.pad_token_id)
    return torch.tensor(sorted(ids))


# what a caption says, for the text encoder's auxiliary heads: (name, classes)
ATTRS = (("background", ds.COLOUR_NAMES), ("colour", ds.COLOUR_NAMES), ("shape", ds.SHAPES),
         ("position", ds.POSITIONS), ("size", ds.SIZES), ("count", [1, 2]))


def caption_labels(scene, cap):
    """Class index per ATTRS entry, -100 where the caption does not say it."""
    lab = [-100] * len(ATTRS)
    if not cap:
        return lab
    b = scene["background"]
    if "background" in cap or "背景" in cap or cap.endswith(" on " + b):
        lab[0] = ds.COLOUR_NAMES.index(b)
    objs = scene["objects"]
    lab[5] = len(objs) - 1
    if len(objs) == 1:
        o = objs[0]
        lab[1] = ds.COLOUR_NAMES.index(o["colour"])
        lab[2] = ds.SHAPES.index(o["shape"])
        if any(p in cap for p in ds.EN_POS[o["position"]] + ds.ZH_POS[o["position"]]):
            lab[3] = ds.POSITIONS.index(o["position"])
        if re.search(r"\b(small|large)\b", cap) or "小" in cap or "大" in cap:
            lab[4] = ds.SIZES.index(o["size"])
    return lab


def aux_loss(head, pooled, labels):
    logits = head(pooled)
    loss, k = 0.0, 0
    for i, (_, classes) in enumerate(ATTRS):
        lg, y = logits[:, k:k + len(classes)], labels[:, i]
        k += len(classes)
        if (y >= 0).any():
            loss = loss + F.cross_entropy(lg[y >= 0], y[y >= 0])
    return loss


def object_weights(scenes, k):
    """[n,1,16,16] loss weights: 1 on the background, 1+k on the latent cells within 8 px of an
    object. The objects cover a few percent of the image; unweighted, their colour and shape
    are a faint part of the loss next to the background's."""
    c = (np.arange(16) + 0.5) * 8
    yy, xx = np.meshgrid(c, c, indexing="ij")
    w = np.ones((len(scenes), 1, 16, 16), np.float32)
    for i, s in enumerate(scenes):
        for o in s["objects"]:
            w[i, 0][np.hypot(xx - o["cx"], yy - o["cy"]) <= o["r"] + 8] = 1 + k
    return torch.from_numpy(w)


def train_unet(a, info):
    torch.manual_seed(a.seed)
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
    objw = object_weights(scenes, a.object_weight)
    n = len(scenes)
    used = used_token_ids(tok, scenes)
    text_embeddings(te).token_embedding = UsedTokens(text_embeddings(te).token_embedding, used)
    head = torch.nn.Linear(TE_CFG["hidden_size"], sum(len(c) for _, c in ATTRS))
    log(f"unet {sum(p.numel() for p in unet.parameters()) / 1e6:.2f}M parameters, "
        f"{len(used)} caption tokens", a.work)
    params = list(te.parameters()) + list(unet.parameters())
    opt = torch.optim.AdamW(params + list(head.parameters()), lr=a.lr, weight_decay=0.01, betas=(0.9, 0.99))
    ema_te, ema_unet = copy.deepcopy(te).eval(), copy.deepcopy(unet).eval()
    ema_params = list(ema_te.parameters()) + list(ema_unet.parameters())
    for p in ema_params:
        p.requires_grad_(False)
    rng = random.Random(a.seed + 4)
    t0 = time.time()
    budget = a.unet_minutes * 60
    last_save = t0
    step = 0
    run_loss = run_aux = None
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
        labels = torch.tensor([caption_labels(scenes[i], c) for i, c in zip(idx, caps)])
        ids = tok(caps, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
        it = torch.tensor(idx)
        x0 = (lmean[it].float() + lstd[it].float() * torch.randn(a.batch, 4, 16, 16)) * sf
        noise = torch.randn_like(x0) + a.offset_noise * torch.randn(a.batch, 4, 1, 1)
        t = torch.randint(0, 1000, (a.batch,))
        hi = torch.rand(a.batch) < a.high_noise
        t[hi] = torch.randint(500, 1000, (int(hi.sum()),))
        abar = ac[t].view(-1, 1, 1, 1)
        xt = abar.sqrt() * x0 + (1 - abar).sqrt() * noise
        out = te(ids)
        pred = unet(xt, t, out.last_hidden_state).sample
        if SCHED_CFG["prediction_type"] == "v_prediction":
            target = abar.sqrt() * noise - (1 - abar).sqrt() * x0
            w = torch.ones(a.batch)
        else:
            target = noise
            snr = abar.view(-1) / (1 - abar.view(-1))
            w = torch.clamp(snr, max=5.0) / snr
        err = ((pred - target).pow(2) * objw[it]).mean(dim=(1, 2, 3))
        loss = (w * err).mean()
        aux = aux_loss(head, out.pooler_output, labels)
        opt.zero_grad(set_to_none=True)
        (loss + a.aux_weight * aux).backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        d = min(a.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            torch._foreach_mul_(ema_params, d)
            torch._foreach_add_(ema_params, params, alpha=1 - d)
        run_loss = loss.item() if run_loss is None else 0.98 * run_loss + 0.02 * loss.item()
        run_aux = float(aux) if run_aux is None else 0.98 * run_aux + 0.02 * float(aux)
        if step % 25 == 0:
            log(f"unet step {step} loss {run_loss:.4f} aux {run_aux:.3f} lr {lr:.2e} "
                f"({time.time() - t0:.0f}s, {(time.time() - t0) / step:.2f}s/step)", a.work)
        if time.time() - last_save > a.save_every * 60:
            save(a, ema_te, ema_unet, tok, info, step, time.time() - t0, run_loss)
            last_save = time.time()
    save(a, ema_te, ema_unet, tok, info, step, time.time() - t0, run_loss)
    log(f"unet done: {step} steps in {time.time() - t0:.0f}s", a.work)


def save(a, te, unet, tok, info, step, secs, loss):
    info = dict(info)
    info.update(unet_steps=step, unet_seconds=round(secs), final_loss=loss, batch=a.batch, lr=a.lr,
                offset_noise=a.offset_noise, object_weight=a.object_weight, aux_weight=a.aux_weight,
                high_noise=a.high_noise, seed=a.seed,
                ema=a.ema, n_scenes=a.n_scenes, vae=VAE_CFG, text_encoder=TE_CFG, unet=UNET_CFG,
                scheduler=SCHED_CFG, held_out_pairs=sorted(map(list, ds.HELD_OUT_PAIRS)),
                torch=torch.__version__, threads=torch.get_num_threads())
    te = full_text_encoder(te)
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
    ap.add_argument("--unet-minutes", type=float, default=120)
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--offset-noise", type=float, default=0.2,
                    help="per-channel constant added to the noise, so the model cannot read the "
                    "flat background from the input at high noise and has to take it from the text")
    ap.add_argument("--object-weight", type=float, default=4.0,
                    help="extra loss weight on the latent cells around the objects")
    ap.add_argument("--aux-weight", type=float, default=0.1,
                    help="weight of the text encoder's auxiliary loss: predict the background, "
                    "colour, shape, position, size and count the caption names from its pooled output")
    ap.add_argument("--high-noise", type=float, default=0.3,
                    help="share of the batch drawn from t in [500, 1000), where the layout is decided")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--unet-channels", default=",".join(map(str, UNET_CFG["block_out_channels"])),
                    help="UNet block_out_channels")
    ap.add_argument("--init", help="unet stage: start from this EMA checkpoint (ema_ckpt.pt)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--ema", type=float, default=0.998)
    ap.add_argument("--save-every", type=float, default=8)
    ap.add_argument("--v-prediction", action="store_true",
                    help="v-prediction with zero terminal SNR (rescale_betas_zero_snr) instead of epsilon")
    a = ap.parse_args()
    if a.v_prediction:
        SCHED_CFG.update(prediction_type="v_prediction", rescale_betas_zero_snr=True)
    UNET_CFG["block_out_channels"] = [int(c) for c in a.unet_channels.split(",")]
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
