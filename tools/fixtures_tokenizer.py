#!/usr/bin/env python3
"""Reference token ids for tests/test_tokenizer.c, from transformers'
CLIPTokenizer as installed (the `tokenizers`-backed class of transformers 5.x;
ftfy is not installed, and that class does not use it anyway).

For every prompt of CORPUS and every vocabulary folder it records
  padded:   tokenizer(text, padding="max_length", max_length=77,
                      truncation=True).input_ids
  unpadded: tokenizer(text).input_ids   (BOS + all ids + EOS)
into tests/fixtures/tokenizer/<name>.json:
  {"vocab_dir": ..., "pad_id": ..., "bos_id": ..., "eos_id": ...,
   "model_max_length": ..., "vocab_size": ...,
   "cases": [{"text": ..., "padded": [...], "unpadded": [...]}, ...]}

Folders: tests/fixtures/clip-vocab (real CLIP vocabulary, pad <|endoftext|>)
-> clip_ids.json; tests/fixtures/tiny-sd1/tokenizer -> tiny_sd1_ids.json and
tests/fixtures/tiny-sd2/tokenizer (pad "!") -> tiny_sd2_ids.json where they
exist.

usage: /work/pyenv/bin/python tools/fixtures_tokenizer.py
"""
import json
import os

from transformers import CLIPTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LONG = ("a breathtaking matte painting of an ancient castle on a cliff above a stormy sea, "
        "dramatic lighting, volumetric clouds, god rays, highly detailed, intricate, 8k, "
        "trending on artstation, by greg rutkowski and alphonse mucha, octane render, "
        "unreal engine 5, cinematic composition, golden hour, sharp focus, masterpiece, "
        "best quality, ultra realistic, hdr, depth of field, bokeh, wide angle lens")

CORPUS = [
    # plain ASCII
    "a photograph of an astronaut riding a horse",
    "a red circle on a blue background",
    "A cat",
    "cat",
    "the quick brown fox jumps over the lazy dog",
    "portrait of a woman, oil on canvas",
    # punctuation
    "Hello, world!",
    "what?! no... yes!!! (maybe) [really] {ok} <tag> @user #hashtag $5 %50 ^_^ & * ~ `code`",
    "masterpiece, best quality, (detailed:1.2), [blurry], <lora:xyz:0.8>",
    "a--b__c//d\\\\e||f;;g::h",
    "\"quoted\" and 'single quoted'",
    # contractions
    "it's a dog's life, we're here, they've gone, I'm fine, you'll see, he'd go, don't",
    "IT'S WE'RE THEY'VE I'M YOU'LL HE'D DON'T",
    "'s 't 're 've 'm 'll 'd",
    "rock'n'roll o'clock ''s '''",
    # numbers
    "1024x768 pixels, 3.14159, 2023-01-01, 100%",
    "4k 8K uhd 1080p 60fps v1.5 sd2.1",
    "١٢٣ Arabic-Indic digits, ½ ⅓ ², Ⅻ roman",
    # accents and normalization
    "café naïve Ångström résumé",
    "cafe\u0301 (e + combining acute) vs caf\u00e9",
    "Å (A + ring: A\u030a) and \u212b (angstrom sign)",
    "Vi\u1ec7t Nam, ti\u1ebfng Vi\u1ec7t, Vie\u0323\u0302t",
    "a\u0323\u0307 ordering q\u0307\u0323",
    "İstanbul ΣΟΦΙΑ ΟΔΟΣ Straße ẞ",
    "ﬁne ligature ＦＵＬＬＷＩＤＴＨ ｈａｌｆ",
    "한국어 텍스트 \u1100\u1161\u11a8 jamo",
    # emoji
    "a cat 🐱 with a hat 🎩 😀😀",
    "family 👨‍👩‍👧‍👦 flag 🇯🇵 skin 👍🏽 heart ❤️",
    # Chinese, Japanese, mixed
    "一只猫在月亮上",
    "一幅山水画，水墨风格，高清",
    "赛博朋克风格的城市夜景，霓虹灯，雨天",
    "日本の桜の木の下で猫が寝ている",
    "カタカナとひらがな、漢字",
    "一只 cat 在 the moon 上, 4k",
    "中文English混合prompt测试123",
    # white space
    "a\tcat\nand\r\na dog",
    "multiple     spaces    between   words",
    "   leading and trailing spaces   ",
    "\u00a0nbsp\u2003em space\u3000ideographic space\u2028line sep",
    "\n\n\t\t",
    # control characters and invisible
    "bell\x07 null\x01 escape\x1b[0m delete\x7f",
    "file\x1csep\x1dgroup\x1erecord\x1funit",
    "zero\u200bwidth\u200cnon\u200djoiner\ufeffbom",
    "soft\u00adhyphen \u0085nel",
    # empty and trivial
    "",
    " ",
    "a",
    ".",
    # special tokens inside the prompt
    "<|endoftext|>",
    "a cat<|endoftext|>a dog",
    "<|startoftext|>hello<|endoftext|>",
    "<|ENDOFTEXT|> upper case is not special",
    "!!<|endoftext|>!! <|endoftext|>?? x<|startoftext|>",
    "<|endoftext <| endoftext |> <||>",
    # upper case
    "A PHOTO OF AN ASTRONAUT",
    "CamelCaseWords and MiXeD CaSe",
    # long prompts (> 77 tokens)
    LONG,
    LONG + ", " + LONG,
    "a " * 100,
    "supercalifragilisticexpialidocious" * 20,
    "!" * 300,
    "一只猫" * 40,
    # other scripts
    "Привет мир, красивая картина",
    "مرحبا بالعالم",
    "שלום עולם",
    "नमस्ते दुनिया",
    "สวัสดีชาวโลก",
    "Ελληνικά γράμματα",
    "𝔉𝔯𝔞𝔨𝔱𝔲𝔯 𝕕𝕠𝕦𝕓𝕝𝕖 math letters",
]


def folder_ids(vocab_dir, out_name):
    path = os.path.join(ROOT, vocab_dir)
    if not os.path.isdir(path):
        print(f"{vocab_dir}: missing, {out_name} not written")
        return
    tok = CLIPTokenizer.from_pretrained(path)
    cases = []
    for text in CORPUS:
        padded = tok(text, padding="max_length", max_length=77, truncation=True).input_ids
        unpadded = tok(text).input_ids
        assert len(padded) == 77
        cases.append({"text": text, "padded": padded, "unpadded": unpadded})
    doc = {
        "vocab_dir": vocab_dir,
        "bos_id": tok.bos_token_id,
        "eos_id": tok.eos_token_id,
        "pad_id": tok.pad_token_id,
        "vocab_size": tok.vocab_size,
        "cases": cases,
    }
    out = os.path.join(ROOT, "tests/fixtures/tokenizer", out_name)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=True, indent=0)
        f.write("\n")
    print(f"{out}: {len(cases)} prompts, pad {tok.pad_token!r} = {tok.pad_token_id}")


if __name__ == "__main__":
    folder_ids("tests/fixtures/clip-vocab", "clip_ids.json")
    folder_ids("tests/fixtures/tiny-sd1/tokenizer", "tiny_sd1_ids.json")
    folder_ids("tests/fixtures/tiny-sd2/tokenizer", "tiny_sd2_ids.json")
