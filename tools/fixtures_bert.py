#!/usr/bin/env python3
"""Fixtures of the Chinese (BERT) text path: WordPiece ids and a tiny
Taiyi-Stable-Diffusion-layout model.

  tests/fixtures/bert/vocab.txt, tokenizer_config.json
      The real Chinese BERT vocabulary (21128 entries: bert-base-chinese /
      chinese-roberta-wwm-ext, which Taiyi's tokenizer uses), taken from the
      PyPI package cn-clip (MIT), which ships it as cn_clip/clip/vocab.txt.
      Fetched with pip only with --fetch (or when missing).
  tests/fixtures/bert/ids.json
      For every tokenizer variant (tokenizer_config.json flags) and every
      prompt of the corpus, the ids of transformers' BertTokenizer as
      installed (transformers 5: tokenizers-backed):
        unpadded  tokenizer(text).input_ids              ([CLS] … [SEP])
        padded    tokenizer(text, padding="max_length", max_length=32,
                            truncation=True).input_ids
      A variant is {"name", "config": tokenizer_config.json, "vocab":
      "bert" (the real one) or the literal text of a small vocab.txt}.
  tests/fixtures/tiny-taiyi/
      StableDiffusionPipeline with a BertModel text encoder and a
      BertTokenizer (model_index.json as Taiyi-Stable-Diffusion-1B-Chinese's)
      in front of tiny-sd1's UNet / VAE architecture, random weights, and
      diffusers references in ref/ (see make_taiyi).

usage: /work/pyenv/bin/python tools/fixtures_bert.py [--fetch]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixtures_tokenizer  # noqa: E402  (its CLIP corpus is reused)

from transformers import BertTokenizer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BERT_DIR = os.path.join(ROOT, "tests", "fixtures", "bert")
CN_CLIP = "cn-clip==1.6.0"
VOCAB_MD5 = "3b5b76c4aef48ecf8cb3abaafe960f09"
PADDED_LEN = 32

CHINESE = [
    "一只红色的猫",
    "一只可爱的小狗在草地上奔跑，阳光明媚，高清摄影",
    "飞流直下三千尺，唯美，插画",
    "梦回江南，中国古代小镇，唯美，插画",
    "长城，清晨，朦胧，唯美，插画",
    "赛博朋克风格的城市夜景、霓虹灯！雨天？",
    "“引号”与『书名号』【括号】（圆括号）《书名》……——～",
    "繁體中文：龍鳳呈祥，臺灣，優質",
    "罕见字：𠀀𠀁𪚥 扩展A：㐀㐁 兼容：豈更車",
    "2023年的4k高清壁纸，8K超清，1080P",
    "油画风格的猫，by 梵高, masterpiece, best quality",
    "ＦＵＬＬＷＩＤＴＨ　全角字母ＡＢＣ１２３",
    "中文English混合prompt测试123，Hello世界！",
    "一只 cat 在 the moon 上, 4k",
    "日本語のテキストとカタカナ、ひらがな",
    "한국어 텍스트와 中文",
    "[CLS] 一只猫 [SEP] [MASK] [PAD] [UNK] [mask] [cls]",
    "猫[MASK]狗[SEP]",
    "unaffable unbelievable tokenization wordpiece",
    "supercalifragilisticexpialidociousandevenlongerwordthatgoesonandonandonandonandonandonandonandonandonx",
    "supercalifragilisticexpialidociousandevenlongerwordthatgoesonandonandonandonandonandonandonandonandonxy",
    "ｈｔｔｐｓ://example.com/猫?q=1&b=2",
    "emoji 😀🐱 and symbols ©®™ ∑∫√ ≤≥ ←→",
    "\u200b零宽\u200d字符\ufeff与\u00ad软连字符",
    "tab\t换行\n回车\r\n不换行空格\u00a0表意空格\u3000结束",
    "control\x01\x02\x7f\x1bchars",
    "一只猫" * 30,
    "一只<猫咪>和a Red Cat, RED CAT, red cat<猫咪>",
    "ab cd ef x xx abc cafe café cafe\u0301 한 猫猫 un unaffable . , a,b 한한",
]

# Small synthetic vocabulary: CRLF line ends, trailing white space, a
# duplicate (the later line wins), an empty line, a final line without "\n".
TRICKY_VOCAB = ("[PAD]\r\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nab \ncd\u3000\n\nef\r\n##f\nab\n##x\nx\n猫\n##猫\n"
                "a\n##b\n##c\nabc\u00a0\ncafe\ncafé\n##é\n한\nᄒ\n##ᅡ\n##ᆫ\n.\n,\n##,\nun\n##aff\n##able\ny")

VARIANTS = [
    ("uncased", "bert", {"do_lower_case": True, "model_max_length": 512}),
    ("cased", "bert", {"do_lower_case": False, "model_max_length": 512}),
    ("uncased_keep_accents", "bert", {"do_lower_case": True, "strip_accents": False}),
    ("cased_strip_accents", "bert", {"do_lower_case": False, "strip_accents": True}),
    ("no_chinese_split", "bert", {"do_lower_case": True, "tokenize_chinese_chars": False}),
    ("added_tokens", "bert", {
        "do_lower_case": True,
        "added_tokens_decoder": {
            "21128": {"content": "<猫咪>", "special": True, "normalized": False, "lstrip": False,
                      "rstrip": False, "single_word": False},
            "21129": {"content": "Red Cat", "special": False, "normalized": True, "lstrip": False,
                      "rstrip": False, "single_word": False},
        },
    }),
    ("tricky_vocab", TRICKY_VOCAB, {"do_lower_case": True}),
    ("tricky_vocab_cased", TRICKY_VOCAB, {"do_lower_case": False}),
]


def fetch_vocab():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.check_call([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp, CN_CLIP])
        whl = [f for f in os.listdir(tmp) if f.endswith(".whl")][0]
        with zipfile.ZipFile(os.path.join(tmp, whl)) as z:
            data = z.read("cn_clip/clip/vocab.txt")
    import hashlib
    assert hashlib.md5(data).hexdigest() == VOCAB_MD5, "unexpected vocab.txt"
    os.makedirs(BERT_DIR, exist_ok=True)
    with open(os.path.join(BERT_DIR, "vocab.txt"), "wb") as f:
        f.write(data)
    write_json(os.path.join(BERT_DIR, "tokenizer_config.json"), {
        "do_lower_case": True, "model_max_length": 512, "tokenizer_class": "BertTokenizer"})
    n = data.count(b"\n")
    print(f"{BERT_DIR}/vocab.txt: {n} lines from {CN_CLIP}")


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def corpus():
    return CHINESE + fixtures_tokenizer.CORPUS


def random_texts(n=300, seed=2024):
    """Seeded random strings over all of Unicode (surrogates excluded), mixed
    with CJK, combining marks, Hangul, white space and punctuation, so every
    table of tokenizer/bert_unicode.c is exercised against the library."""
    import random
    rng = random.Random(seed)
    pools = [(0x20, 0x7E), (0x4E00, 0x9FFF), (0x300, 0x36F), (0xAC00, 0xD7A3), (0x3000, 0x303F),
             (0xFF00, 0xFFEF), (0x2000, 0x206F), (0xC0, 0x24F), (0x0, 0x10FFFF), (0x0, 0x10FFFF),
             (0x0, 0xFFFF), (0x1F300, 0x1F64F), (0x20000, 0x2FA1F)]
    out = []
    for _ in range(n):
        chars = []
        for _ in range(rng.randrange(1, 40)):
            lo, hi = rng.choice(pools)
            c = rng.randint(lo, hi)
            if 0xD800 <= c <= 0xDFFF or c == 0:
                c = 0x20
            chars.append(chr(c))
        out.append("".join(chars))
    return out


def variant_ids(name, vocab, config, texts):
    with tempfile.TemporaryDirectory() as tmp:
        if vocab == "bert":
            shutil.copyfile(os.path.join(BERT_DIR, "vocab.txt"), os.path.join(tmp, "vocab.txt"))
        else:
            with open(os.path.join(tmp, "vocab.txt"), "w", encoding="utf-8", newline="") as f:
                f.write(vocab)
        write_json(os.path.join(tmp, "tokenizer_config.json"), config)
        tok = BertTokenizer.from_pretrained(tmp)
        assert type(tok).__name__ == "BertTokenizer"
        cases = []
        for text in texts:
            unpadded = tok(text).input_ids
            padded = tok(text, padding="max_length", max_length=PADDED_LEN, truncation=True).input_ids
            assert len(padded) == PADDED_LEN
            cases.append({"text": text, "unpadded": unpadded, "padded": padded})
        return {
            "name": name,
            "vocab": vocab,
            "config": config,
            "cls_id": tok.cls_token_id, "sep_id": tok.sep_token_id, "pad_id": tok.pad_token_id,
            "unk_id": tok.unk_token_id,
            "cases": cases,
        }


def write_ids():
    variants = [variant_ids(*v, corpus()) for v in VARIANTS]
    for name, cfg in (("random_uncased", {"do_lower_case": True}), ("random_cased", {"do_lower_case": False})):
        variants.append(variant_ids(name, "bert", cfg, random_texts()))
    doc = {"padded_len": PADDED_LEN, "variants": variants}
    out = os.path.join(BERT_DIR, "ids.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=True, indent=0)
        f.write("\n")
    n_unk = sum(c["unpadded"].count(v["unk_id"]) for v in doc["variants"] for c in v["cases"])
    print(f"{out}: {len(VARIANTS)} variants x {len(corpus())} prompts + 2 x {len(random_texts())} random strings"
          f" ({n_unk} [UNK] ids in all)")


# --------------------------------------------------------------------------
# tiny-taiyi: the layout of IDEA-CCNL/Taiyi-Stable-Diffusion-1B-Chinese-v0.1
# (a BertModel text encoder and a BertTokenizer in front of SD 1.x's UNet and
# VAE), with tiny-sd1's UNet / VAE architecture and fresh random weights.

TAIYI_PROMPT = "一只红色的猫"
TAIYI_TOKENIZER_CONFIG = {   # as Taiyi's tokenizer/tokenizer_config.json
    "cls_token": "[CLS]",
    "do_basic_tokenize": True,
    "do_lower_case": True,
    "mask_token": "[MASK]",
    "model_max_length": 512,
    "never_split": None,
    "pad_token": "[PAD]",
    "sep_token": "[SEP]",
    "strip_accents": None,
    "tokenize_chinese_chars": True,
    "tokenizer_class": "BertTokenizer",
    "unk_token": "[UNK]",
}


def make_taiyi():
    import torch
    import make_fixtures as mf
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel, AutoencoderKL
    from transformers import BertConfig, BertModel

    out = os.path.join(ROOT, "tests", "fixtures", "tiny-taiyi")
    if os.path.exists(out):
        shutil.rmtree(out)
    tok_dir = os.path.join(out, "tokenizer")
    os.makedirs(tok_dir)
    shutil.copyfile(os.path.join(BERT_DIR, "vocab.txt"), os.path.join(tok_dir, "vocab.txt"))
    write_json(os.path.join(tok_dir, "tokenizer_config.json"), TAIYI_TOKENIZER_CONFIG)
    write_json(os.path.join(tok_dir, "special_tokens_map.json"), {
        "cls_token": "[CLS]", "mask_token": "[MASK]", "pad_token": "[PAD]", "sep_token": "[SEP]",
        "unk_token": "[UNK]"})
    tok = BertTokenizer.from_pretrained(tok_dir)
    assert tok.model_max_length == 512

    torch.manual_seed(501)
    te = BertModel(BertConfig(
        vocab_size=21128, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        hidden_act="gelu", max_position_embeddings=512, type_vocab_size=2, layer_norm_eps=1e-12,
        pad_token_id=0))
    torch.manual_seed(502)
    unet = UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4, block_out_channels=[32, 64],
        layers_per_block=2, down_block_types=["CrossAttnDownBlock2D", "DownBlock2D"],
        up_block_types=["UpBlock2D", "CrossAttnUpBlock2D"], cross_attention_dim=32,
        attention_head_dim=8, norm_num_groups=8, use_linear_projection=False)
    torch.manual_seed(503)
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, block_out_channels=[16, 16, 32, 32],
        down_block_types=["DownEncoderBlock2D"] * 4, up_block_types=["UpDecoderBlock2D"] * 4,
        layers_per_block=1, latent_channels=4, norm_num_groups=8, sample_size=64, scaling_factor=0.18215)
    mf.perturb_(te, 5001)
    mf.perturb_(unet, 5002)
    mf.perturb_(vae, 5003)
    # text encoder and UNet stored in FP16 (the values are exactly FP16 ones)
    mf.round_to_(te, torch.float16)
    mf.round_to_(unet, torch.float16)
    for m in (te, unet, vae):
        m.eval().float()
        m.requires_grad_(False)
    from diffusers import PNDMScheduler
    sched = PNDMScheduler.from_config(mf.SD15_SCHEDULER)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=te, tokenizer=tok, unet=unet, scheduler=sched,
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(out, safe_serialization=True)
    for part, model in (("text_encoder", te), ("unet", unet)):
        d = os.path.join(out, part)
        for f in os.listdir(d):
            if f.endswith(".safetensors"):
                os.remove(os.path.join(d, f))
        model.to(torch.float16).save_pretrained(d, safe_serialization=True)
        model.to(torch.float32)
    # the tokenizer folder as Taiyi's: vocab.txt + the two JSON files, no tokenizer.json
    shutil.rmtree(tok_dir)
    os.makedirs(tok_dir)
    shutil.copyfile(os.path.join(BERT_DIR, "vocab.txt"), os.path.join(tok_dir, "vocab.txt"))
    write_json(os.path.join(tok_dir, "tokenizer_config.json"), TAIYI_TOKENIZER_CONFIG)
    write_json(os.path.join(tok_dir, "special_tokens_map.json"), {
        "cls_token": "[CLS]", "mask_token": "[MASK]", "pad_token": "[PAD]", "sep_token": "[SEP]",
        "unk_token": "[UNK]"})
    mf.write_json(os.path.join(out, "scheduler", "scheduler_config.json"), mf.SD15_SCHEDULER)
    with open(os.path.join(out, "model_index.json")) as f:
        index = json.load(f)
    assert index["text_encoder"] == ["transformers", "BertModel"], index
    assert index["tokenizer"] == ["transformers", "BertTokenizer"], index

    # references from the folder as loaded back (FP32), as make_fixtures does for tiny-sd1
    pipe2 = StableDiffusionPipeline.from_pretrained(out, dtype=torch.float32)
    pipe2.set_progress_bar_config(disable=True)
    assert type(pipe2.tokenizer).__name__ == "BertTokenizer" and type(pipe2.text_encoder).__name__ == "BertModel"
    for a, b in ((te, pipe2.text_encoder), (unet, pipe2.unet), (vae, pipe2.vae)):
        sa, sb = a.state_dict(), b.state_dict()
        for k in sa:
            assert torch.equal(sa[k].float(), sb[k]), k
    assert not getattr(pipe2.text_encoder.config, "use_attention_mask", False)
    mf.PROMPT, mf.NEGATIVE = TAIYI_PROMPT, ""
    mf.SAMPLERS = {"euler": mf.SAMPLERS["euler"]}
    info = mf.write_refs(pipe2, os.path.join(out, "ref"), "taiyi")
    ids = info.pop("ids")
    assert ids.shape == (2, 512)
    info["tokens"] = [t for t in tok.convert_ids_to_tokens(ids[1].tolist()) if t != "[PAD]"]
    return info


# --------------------------------------------------------------------------
# weighted Chinese prompts on tiny-taiyi (tests/test_taiyi.c): the A1111
# prompt language (tools/fixtures_prompts.py's parser) in one BERT chunk of
# 512 tokens: [CLS] + each piece tokenized on its own with its weight
# (truncated to 510) + [SEP] + [PAD]…, BREAK ignored, last_hidden_state,
# emphasis "Original" (z·w, mean restored).

WEIGHTED_ZH = "一只(红色:1.3)的猫，[模糊]，((杰作)) BREAK 油画风格, (cat:0.8)"
NEGATIVE_ZH = "低质量, (模糊:1.2)"


def taiyi_weighted(pipe, text):
    import torch
    import fixtures_prompts as fp
    tok, L = pipe.tokenizer, pipe.tokenizer.model_max_length
    ids, ws = [tok.cls_token_id], [1.0]
    for piece, weight in fp.parse_attention(text):
        if weight is None:
            continue
        for t in tok(piece, add_special_tokens=False).input_ids:
            if len(ids) < L - 1:
                ids.append(t)
                ws.append(weight)
    ids.append(tok.sep_token_id)
    ws.append(1.0)
    ids += [tok.pad_token_id] * (L - len(ids))
    ws += [1.0] * (L - len(ws))
    with torch.no_grad():
        z = pipe.text_encoder(torch.tensor([ids])).last_hidden_state[0]
    w = torch.tensor(ws)
    before = z.mean()
    z = z * w[:, None]
    z = z * (before / z.mean())
    return torch.tensor(ids, dtype=torch.int32), z.contiguous()


def write_weighted_refs():
    import torch
    import make_fixtures as mf
    from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline
    pipe = StableDiffusionPipeline.from_pretrained(os.path.join(ROOT, "tests", "fixtures", "tiny-taiyi"),
                                                   dtype=torch.float32)
    pipe.scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    ids, pos = taiyi_weighted(pipe, WEIGHTED_ZH)
    nids, neg = taiyi_weighted(pipe, NEGATIVE_ZH)
    # a plain prompt is exactly the pipeline's own encoding
    pids, plain = taiyi_weighted(pipe, TAIYI_PROMPT)
    pe, _ = pipe.encode_prompt(TAIYI_PROMPT, "cpu", 1, False)
    assert torch.equal(plain, pe[0])
    lat = pipe(prompt_embeds=pos[None], negative_prompt_embeds=neg[None], num_inference_steps=mf.STEPS,
               guidance_scale=mf.CFG, height=64, width=64, generator=torch.Generator("cpu").manual_seed(mf.SEED),
               output_type="latent").images
    out = os.path.join(ROOT, "tests", "fixtures", "prompts", "tiny-taiyi.safetensors")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    mf.save_file({"weighted.ids": ids, "weighted.emb": pos, "negative.ids": nids, "negative.emb": neg,
                  "weighted_run.latents": lat.contiguous()}, out,
                 metadata={"weighted.prompt": WEIGHTED_ZH, "negative_prompt": NEGATIVE_ZH, "seed": str(mf.SEED),
                           "steps": str(mf.STEPS), "guidance_scale": str(mf.CFG), "sampler": "euler"})
    print(f"{out}: weighted prompt of {int((ids != 0).sum())} tokens")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fetch", action="store_true", help="download the vocabulary again")
    ap.add_argument("--skip-models", action="store_true")
    args = ap.parse_args()
    if args.fetch or not os.path.exists(os.path.join(BERT_DIR, "vocab.txt")):
        fetch_vocab()
    write_ids()
    if not args.skip_models:
        info = make_taiyi()
        for k, v in info.items():
            print(f"  {k}: {v}")
        write_weighted_refs()


if __name__ == "__main__":
    main()
