#!/usr/bin/env python3
"""test_server_judging.py — the server's judging (server/judging.c,
docs/judging.md): every image scored and recorded beside its feedback,
best_of / keep / best_of_weights on txt2img, /v1/stats by expansion, by
expansion style and by score bucket with the score–like correlation, and
the feedback loop: records with likes for one style make the expansion
choose that style more often, deterministically.

The scorer is the fixture CLIP (tests/fixtures/tiny-clip: random weights,
so the scores mean nothing; what is checked is that they are computed,
carried and recorded).

    python3 tests/test_server_judging.py build/t2i-server
"""
import base64
import json
import math
import os
import sqlite3
import struct
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_server_util import ROOT, Server, check, finish  # noqa: E402

TINY_CLIP = os.path.join(ROOT, "tests", "fixtures", "tiny-clip")


def png_parameters(b64):
    """The tEXt 'parameters' chunk of a base64 PNG (A1111's infotext)."""
    data = base64.b64decode(b64)
    pos = 8
    while pos + 8 <= len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"tEXt" and body.startswith(b"parameters\0"):
            return body[len(b"parameters\0"):].decode("latin-1")
        if kind == b"iTXt" and body.startswith(b"parameters\0"):
            rest = body[len(b"parameters\0"):]
            flag = rest[0]
            rest = rest[2:]
            rest = rest[rest.index(b"\0") + 1:]
            rest = rest[rest.index(b"\0") + 1:]
            return (zlib.decompress(rest) if flag else rest).decode("utf-8")
        pos += 12 + n
    return None


def txt2img(srv, body):
    st, r = srv.json("POST", "/sdapi/v1/txt2img", {"steps": 2, **body}, timeout=300)
    info = json.loads(r["info"]) if st == 200 else None
    return st, r, info


def test_scores_and_best_of(exe, db):
    srv = Server(exe, "--scorer", TINY_CLIP, "--db", db)
    try:
        st, r, info = txt2img(srv, {"prompt": "a red circle", "seed": 3})
        check(st == 200, f"txt2img with a scorer: {st}")
        ids = list(info["image_ids"])
        sc = info["scores"][0]
        check(sc is not None and 0 <= sc["clip_score"] <= 100, f"every image judged: {sc}")
        check(sc["aesthetic"] is None, "no aesthetic head: aesthetic null")
        check(info["expansion_styles"] == [None], f"no expansion, no style: {info['expansion_styles']}")

        # best-of: 4 candidates (seeds 10..13), the best 2 kept, best first
        st, r, info = txt2img(srv, {"prompt": "a blue square", "seed": 10, "best_of": 4, "keep": 2})
        check(st == 200, f"best_of 4 keep 2: {st} {r}")
        ids += info["image_ids"]
        n = len(r["images"])
        check(1 <= n <= 2, f"best_of returns at most keep images (fewer when duplicates were dropped): {n}")
        ranks = [s["rank_score"] for s in info["scores"]]
        check(ranks == sorted(ranks, reverse=True), f"best first: {ranks}")
        check(all(10 <= s <= 13 for s in info["all_seeds"][:n]), f"kept seeds among the candidates: {info['all_seeds']}")
        check(info.get("best_of") == 4, "info names best_of")
        for i in range(n):
            text = png_parameters(r["images"][i])
            check(text is not None and "CLIP score: " in text and "Rank score: " in text,
                  f"PNG infotext carries the scores: {text and text[-80:]}")
            check("Rank score: " in info["infotexts"][i], "info infotexts carry the scores")
        # the same request gives the same images and scores
        st2, r2, info2 = txt2img(srv, {"prompt": "a blue square", "seed": 10, "best_of": 4, "keep": 2})
        check(st2 == 200 and r2["images"] == r["images"] and info2["scores"] == info["scores"],
              "best_of is reproducible")
        # weights: all weight on sharpness orders by sharpness
        st, r, info = txt2img(srv, {"prompt": "a blue square", "seed": 10, "best_of": 4, "keep": 4,
                                    "best_of_weights": {"relevance": 0, "aesthetic": 0, "sharpness": 1}})
        sharp = [s["sharpness"] for s in info["scores"]]
        check(st == 200 and sharp == sorted(sharp, reverse=True), f"sharpness weight orders by sharpness: {sharp}")
        # the rank score is the documented formula with these weights (FP32 rounding: 1e-6)
        for sc in info["scores"]:
            want = min(math.log10(1 + sc["sharpness"]) / 3, 1)
            check(abs(sc["rank_score"] - want) <= 1e-6, f"rank score {sc['rank_score']} = sharpness term {want}")

        # best-of on an edit: candidates of img2img from the same init image, judged and ranked the same way
        init = r["images"][0]
        st, r2 = srv.json("POST", "/sdapi/v1/img2img", {"prompt": "a blue square", "steps": 2, "seed": 10,
                                                        "init_images": [init], "denoising_strength": 0.5,
                                                        "best_of": 3, "keep": 2}, timeout=300)
        info2 = json.loads(r2["info"]) if st == 200 else {}
        n2 = len(r2.get("images", [])) if st == 200 else 0
        check(st == 200 and 1 <= n2 <= 2 and len(info2.get("scores", [])) == n2, f"img2img best_of 3 keep 2: {st} {n2}")
        text2 = png_parameters(r2["images"][0]) if n2 else ""
        check("Rank score: " in (text2 or "") and "Denoising strength: 0.5" in (text2 or ""),
              f"img2img best-of infotext has the scores and the edit: {text2}")
        ranks = [s["rank_score"] for s in info2.get("scores", [])]
        check(ranks == sorted(ranks, reverse=True), f"img2img best-of best first: {ranks}")

        # bad input, each naming its field
        for body, field in [({"best_of": 2, "batch_size": 2}, "best_of"), ({"best_of": 2, "keep": 3}, "keep"),
                            ({"best_of": 0}, "best_of"), ({"best_of": 65}, "best_of"),
                            ({"best_of": 2, "best_of_weights": {"relevance": -1}}, "best_of_weights.relevance"),
                            ({"best_of": 2, "best_of_weights": 3}, "best_of_weights")]:
            st, e = srv.json("POST", "/sdapi/v1/txt2img", {"prompt": "x", "steps": 2, **body})
            check(st == 400 and field in json.dumps(e), f"{body}: 400 naming {field}: {st} {e}")

        # stats: a like on the first image, by expansion / score bucket / correlation
        for i in ids[:2]:
            srv.json("POST", "/v1/feedback", {"image_id": i, "event": "like"})
        srv.json("POST", "/v1/feedback", {"image_id": ids[0], "event": "download"})
        st, stats = srv.json("GET", "/v1/stats")
        check(st == 200, f"/v1/stats: {st}")
        tot = stats["totals"]
        check(tot["liked_images"] == 2 and tot["downloaded_images"] == 1, f"totals: {tot}")
        check(abs(tot["like_rate"] - 2 / tot["images"]) < 1e-9 and abs(tot["download_rate"] - 1 / tot["images"]) < 1e-9,
              f"rates are shares of images: {tot}")
        check([x["key"] for x in stats["by_expansion"]] == ["off"], f"by_expansion: {stats['by_expansion']}")
        buckets = stats["by_score_bucket"]
        check(sum(b["images"] for b in buckets) == tot["images"] and
              all(b["key"] == "(not judged)" or (len(b["key"]) == 5 and b["key"][2] == "-") for b in buckets),
              f"by_score_bucket: {[b['key'] for b in buckets]}")
        corr = stats["score_like_correlation"]["clip_score"]
        check(corr["n"] == tot["images"] and corr["pearson_r"] is not None and -1 <= corr["pearson_r"] <= 1,
              f"correlation: {corr}")
        # the same correlation by hand from the records
        con = sqlite3.connect(db)
        rows = con.execute("SELECT j.clip_score, EXISTS(SELECT 1 FROM feedback f WHERE f.image_id=j.image_id"
                           " AND f.event='like') FROM image_judging j").fetchall()
        con.close()
        n_ = len(rows)
        mx = sum(x for x, _ in rows) / n_
        my = sum(y for _, y in rows) / n_
        cov = sum((x - mx) * (y - my) for x, y in rows)
        r_ = cov / (sum((x - mx) ** 2 for x, _ in rows) * sum((y - my) ** 2 for _, y in rows)) ** 0.5
        check(abs(r_ - corr["pearson_r"]) < 1e-9, f"Pearson r {corr['pearson_r']} vs by hand {r_}")
    finally:
        srv.stop()


def test_best_of_needs_scorer(exe):
    srv = Server(exe, "--db", ":memory:")
    try:
        st, e = srv.json("POST", "/sdapi/v1/txt2img", {"prompt": "x", "steps": 2, "best_of": 2})
        check(st == 400 and "scorer" in json.dumps(e), f"best_of without a scorer: 400 naming it: {st} {e}")
        st, r, info = txt2img(srv, {"prompt": "x", "seed": 1})
        check(st == 200 and info["scores"] == [None], "without a scorer images are recorded unjudged")
    finally:
        srv.stop()


def expansion_styles(srv, seeds, liked):
    out = []
    for s in seeds:
        st, r, info = txt2img(srv, {"prompt": "a cat", "seed": s, "expand": True, "expand_liked_styles": liked})
        check(st == 200, f"expanded txt2img seed {s}: {st}")
        out.append(info["expansion_styles"][0] if st == 200 else None)
    return out


def test_feedback_loop(exe, db):
    seeds = list(range(100, 124))
    srv = Server(exe, "--db", db)
    try:
        before = expansion_styles(srv, seeds, True)   # no likes yet: as without preferences
        plain = expansion_styles(srv, seeds, False)
    finally:
        srv.stop()
    check(before == plain, "with no liked style the option changes nothing")
    # the style the expansion picked least often (but at least once) for cats
    counts = {s: plain.count(s) for s in set(plain) if s}
    liked = sorted(counts, key=lambda s: (counts[s], s))[0]
    # seed the records: 20 expanded images of animals in that style, all liked,
    # and 20 in another style, none liked
    other = sorted(s for s in counts if s != liked)[0]
    con = sqlite3.connect(db)
    for k in range(40):
        img = f"seeded{k:026d}"
        style = liked if k < 20 else other
        con.execute("INSERT INTO requests(id, prompt, sampler) VALUES(?, 'a dog', 'Euler a')", (f"req{k}",))
        con.execute("INSERT INTO images(id, request_id, idx, seed) VALUES(?, ?, 0, ?)", (img, f"req{k}", k))
        con.execute("INSERT INTO image_judging(image_id, expand, expand_style, subject) VALUES(?, 1, ?, 'animal')",
                    (img, style))
        if k < 20:
            con.execute("INSERT INTO feedback(image_id, event) VALUES(?, 'like')", (img,))
    con.commit()
    con.close()
    srv = Server(exe, "--db", db)
    try:
        after = expansion_styles(srv, seeds, True)
        again = expansion_styles(srv, seeds[:6], True)
        without = expansion_styles(srv, seeds, False)
        st, stats = srv.json("GET", "/v1/stats")
    finally:
        srv.stop()
    # 20 liked of 20: weight 20/21, so the liked style is drawn with
    # probability ~0.49 plus its share of the exploring draws; without the
    # option it stays at its share of the fitting styles
    n_before, n_after = plain.count(liked), after.count(liked)
    print(f"feedback loop: '{liked}' chosen {n_before}/{len(seeds)} without preferences, {n_after}/{len(seeds)} "
          f"with the records' preferences", flush=True)
    check(n_after >= n_before + 5 and n_after >= len(seeds) // 4,
          f"liked style chosen more often: {n_before} -> {n_after} of {len(seeds)}")
    check(after.count(other) <= plain.count(other) + 1, f"unliked style not favoured: {plain.count(other)} -> "
          f"{after.count(other)}")
    check(again == after[:6], "deterministic for the same records and seeds")
    check(without == plain, "without the option the records change nothing")
    rows = {r["key"]: r for r in stats["by_expansion_style"]}
    check(rows.get(f"animal/{liked}", {}).get("liked_images") == 20, f"by_expansion_style: {list(rows)[:6]}")


def main():
    exe = sys.argv[1]
    if not os.path.exists(os.path.join(TINY_CLIP, "model.safetensors")):
        print("tests/fixtures/tiny-clip missing: skipped")
        sys.exit(77)
    with tempfile.TemporaryDirectory(prefix="t2i-judging-") as tmp:
        test_scores_and_best_of(exe, os.path.join(tmp, "scores.db"))
        test_best_of_needs_scorer(exe)
        test_feedback_loop(exe, os.path.join(tmp, "loop.db"))
    finish()


if __name__ == "__main__":
    main()
