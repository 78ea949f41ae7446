#!/usr/bin/env python3
"""Expected parses of random prompts, computed by the A1111 web UI's own parser.

    python tools/fixtures_prompt_parse.py PATH/TO/modules/prompt_parser.py

PATH is A1111's modules/prompt_parser.py (needs `lark`; it is not part of
this repository). Random prompts (fixed seed) are drawn from a small grammar
of the prompt language: words (ASCII, Chinese, accents, commas, BREAK), ( )
and (text:w) weights, [ ] de-emphasis, prompt edits [a:b:w] / [b:w] / [a::w],
alternation [a|b], escapes. Two things are left out on purpose, being the
documented departures of tokenizer/prompt_parse.h: ':' inside brackets
other than in weights and edits (A1111's grammar then falls back to literal
text) and BREAK inside brackets (A1111 turns it into the weighted word).
For each prompt and step count, A1111's schedule
(get_learned_conditioning_prompt_schedules with use_old_scheduling=True:
when < 1 is a fraction, >= 1 a step) is run through parse_prompt_attention
per entry; the result goes to tests/fixtures/prompts/a1111_parse.json as
[steps, prompt, [[end_at_step, [[text, weight], ...]], ...]] with BREAK as
["BREAK", -1]. tests/test_prompt_parse.c compares every entry exactly
(weights as doubles, bit for bit).
"""
import importlib.util
import json
import os
import random
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests/fixtures/prompts/a1111_parse.json")
WORDS = ["a", "cat", "red", "sky", "猫", "big house", "  ", ",", "the", "BREAK", "x,y", "16:9", "é"]


def make_prompt(rnd, depth=0):
    out = []
    for _ in range(rnd.randint(0, 3)):
        r = rnd.random()
        if depth < 4 and r < 0.15:
            out.append("(" + make_prompt(rnd, depth + 1) + ")")
        elif depth < 4 and r < 0.25:
            w = rnd.choice(["1.2", "0.5", "1.5", " 2 ", "-1", ".7", "1.25"])
            out.append("(" + make_prompt(rnd, depth + 1) + ":" + w + ")")
        elif depth < 4 and r < 0.33:
            out.append("[" + make_prompt(rnd, depth + 1) + "]")
        elif depth < 4 and r < 0.43:
            when = rnd.choice(["0.5", "3", ".25", "0.1", "7", "1.5", " 2", "12"])
            a, b = make_prompt(rnd, depth + 1), make_prompt(rnd, depth + 1)
            form = rnd.randint(0, 2)
            out.append("[" + (a + ":" + b if form == 0 else b if form == 1 else a + ":") + ":" + when + "]")
        elif depth < 4 and r < 0.48:
            out.append("[" + "|".join(make_prompt(rnd, depth + 1) for _ in range(rnd.randint(2, 3))) + "]")
        elif r < 0.53:
            out.append(rnd.choice(["\\(", "\\)", "\\[", "\\]", "\\\\"]))
        else:
            w = rnd.choice(WORDS)
            if depth > 0 and w in ("16:9", "BREAK"):
                w = "xy"
            out.append((" " if rnd.random() < 0.5 else "") + w + (" " if rnd.random() < 0.5 else ""))
    return "".join(out)


def main():
    spec = importlib.util.spec_from_file_location("a1111_prompt_parser", sys.argv[1])
    pp = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pp)
    rnd = random.Random(20261124)
    rows = []
    while len(rows) < 400:
        prompt, steps = make_prompt(rnd), rnd.choice([1, 4, 10])
        sched = pp.get_learned_conditioning_prompt_schedules([prompt], steps, None, True)[0]
        entries = [[t, [[a, b] for a, b in pp.parse_prompt_attention(text)]] for t, text in sched]
        rows.append([steps, prompt, entries])
    with open(OUT, "w", encoding="utf-8") as f:
        f.write("[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n]\n")
    print(f"wrote {len(rows)} prompts to {OUT}")


if __name__ == "__main__":
    main()
