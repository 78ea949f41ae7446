"""
patch_exchange_sizes.py — what DistriFusion-style patch parallelism would
exchange per UNet evaluation, counted on the diffusers model itself (built on
the "meta" device: no weights are read, no memory is used).

    /work/pyenv/bin/python perf/patch_exchange_sizes.py UNET_DIR|sdxl LATENT_H LATENT_W [RANKS]

Counted per evaluation (batch 1), FP32, for N row bands:
  conv3x3 halo  every 3x3 conv: the band's first and last input rows,
                2·C·W floats per band (an interior band receives one row
                from each neighbour; stride-2 convs need less: an upper bound)
  GroupNorm     every norm: per group the band's sum and sum of squares,
                2·groups floats per band
  self-attn K/V every attn1: the band's keys and values, 2·(H·W/N)·C floats
                per band (an all-gather: each rank receives the other N−1)
"sdxl" is the stabilityai SDXL base UNet config (no download needed).
"""
import sys
import torch
from diffusers import UNet2DConditionModel

SDXL = dict(addition_embed_type="text_time", addition_time_embed_dim=256, attention_head_dim=[5, 10, 20],
            block_out_channels=[320, 640, 1280], cross_attention_dim=2048,
            down_block_types=["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
            up_block_types=["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"], in_channels=4,
            out_channels=4, layers_per_block=2, norm_num_groups=32, projection_class_embeddings_input_dim=2816,
            sample_size=128, transformer_layers_per_block=[1, 2, 10], use_linear_projection=True)


def main():
    src, H, W = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    N = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    cfg = SDXL if src == "sdxl" else UNet2DConditionModel.load_config(src)
    with torch.device("meta"):
        m = UNet2DConditionModel.from_config(cfg)
    halo = gn = kv = 0  # floats posted by one band (halo, gn) / by all bands together (kv)

    def conv_hook(mod, inp, out):
        nonlocal halo
        if mod.kernel_size[0] == 3:
            halo += 2 * inp[0].shape[1] * inp[0].shape[3]

    def gn_hook(mod, inp, out):
        nonlocal gn
        gn += 2 * mod.num_groups

    def attn_hook(mod, args, kwargs, out):
        nonlocal kv
        if not mod.is_cross_attention:
            x = args[0] if args else kwargs["hidden_states"]
            kv += 2 * x.shape[1] * mod.inner_dim

    for mod in m.modules():
        if isinstance(mod, torch.nn.Conv2d):
            mod.register_forward_hook(conv_hook)
        elif isinstance(mod, torch.nn.GroupNorm):
            mod.register_forward_hook(gn_hook)
        elif type(mod).__name__ == "Attention":
            mod.register_forward_hook(attn_hook, with_kwargs=True)
    kw = {}
    if cfg.get("addition_embed_type") == "text_time":
        p = cfg["projection_class_embeddings_input_dim"] - 6 * cfg["addition_time_embed_dim"]
        kw["added_cond_kwargs"] = {"text_embeds": torch.zeros(1, p, device="meta"),
                                   "time_ids": torch.zeros(1, 6, device="meta")}
    m(torch.zeros(1, cfg["in_channels"], H, W, device="meta"), torch.zeros(1, device="meta"),
      torch.zeros(1, 77, cfg["cross_attention_dim"], device="meta"), **kw)
    kv_recv = kv * (N - 1) // N  # K/V of the other bands
    print(f"{src} latent {H}x{W}, {N} bands, per evaluation, FP32, floats posted per band / received per rank:")
    print(f"  conv3x3 halo rows : {halo:>12} / {halo:>12} (an interior band; the top and bottom bands half)")
    print(f"  GroupNorm stats   : {gn:>12} / {gn * (N - 1):>12}")
    print(f"  self-attn K/V     : {kv // N:>12} / {kv_recv:>12}")
    print(f"  received per rank : {(halo + gn * (N - 1) + kv_recv) * 4 / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
