#!/usr/bin/env python3
"""compare_results.py — flag figures that got worse since the previous run.

Reads every JSON line of perf/results/*.jsonl written by t2i-bench. The
lines of the run under test are those whose "tag" equals --tag (nightly.sh
tags each run with a unique id). Each is compared with the most recent
earlier line of the same configuration:

    (tool, device, backend, preset, mode, width, height, batch, unet_batch,
     steps, cfg, sampler, threads)

and every figure more than --threshold percent worse is listed:

    lower is better   seconds.{text_encoder, unet_step, vae_decode_per_image,
                      end_to_end, per_image}, memory_bytes.backend_total
    higher is better  it_per_s, images_per_s, unet_tflops_per_s

Exit status 1 if anything regressed (the list is printed), 0 otherwise
(also when a configuration has no earlier result: printed as "new").

    python3 perf/compare_results.py --tag nightly-20261124T0300Z [--threshold 5]
"""
import argparse
import glob
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

KEY = ("tool", "device", "backend", "preset", "mode", "width", "height", "batch", "unet_batch", "steps", "cfg",
       "sampler", "threads")
LOWER = ("seconds.text_encoder", "seconds.unet_step", "seconds.vae_decode_per_image", "seconds.end_to_end",
         "seconds.per_image", "memory_bytes.backend_total")
HIGHER = ("it_per_s", "images_per_s", "unet_tflops_per_s")


def get(rec, dotted):
    for part in dotted.split("."):
        if not isinstance(rec, dict) or part not in rec:
            return None
        rec = rec[part]
    return rec if isinstance(rec, (int, float)) and not isinstance(rec, bool) else None


def load(results_dir):
    recs = []
    for path in sorted(glob.glob(os.path.join(results_dir, "*.jsonl"))):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    r = json.loads(line)
                except json.JSONDecodeError:
                    print("warning: %s:%d is not JSON, ignored" % (path, n), file=sys.stderr)
                    continue
                if r.get("tool") == "t2i-bench":
                    recs.append(r)
    return recs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tag", required=True, help="tag of the run under test")
    ap.add_argument("--results", default=os.path.join(ROOT, "perf", "results"))
    ap.add_argument("--threshold", type=float, default=5.0, help="percent")
    args = ap.parse_args()

    recs = load(args.results)
    current = [r for r in recs if r.get("tag") == args.tag]
    if not current:
        print("compare_results: no t2i-bench lines tagged %s in %s" % (args.tag, args.results))
        return 1
    worse, checked = [], 0
    for cur in current:
        key = tuple(cur.get(k) for k in KEY)
        earlier = [r for r in recs if r.get("tag") != args.tag and tuple(r.get(k) for k in KEY) == key
                   and r.get("time", "") <= cur.get("time", "")]
        label = "%s %s %dx%d b%d %s steps %s" % (cur.get("device"), cur.get("preset"), cur.get("width", 0),
                                                 cur.get("height", 0), cur.get("batch", 0), cur.get("steps"),
                                                 cur.get("mode"))
        if not earlier:
            print("new      %s (no earlier result)" % label)
            continue
        prev = max(earlier, key=lambda r: r.get("time", ""))
        for fig in LOWER + HIGHER:
            a, b = get(prev, fig), get(cur, fig)
            if a is None or b is None or a <= 0 or b <= 0:
                continue
            checked += 1
            change = (b / a - 1) * 100 if fig in LOWER else (a / b - 1) * 100  # > 0: worse
            if change > args.threshold:
                worse.append("%s: %s %.4g -> %.4g (%.1f%% worse; previous %s at %s)" % (
                    label, fig, a, b, change, prev.get("commit"), prev.get("time")))
    print("compared %d figures of %d measurements against their previous results" % (checked, len(current)))
    if worse:
        print("REGRESSIONS (> %.1f%% worse):" % args.threshold)
        for w in worse:
            print("  " + w)
        return 1
    print("no figure more than %.1f%% worse" % args.threshold)
    return 0


if __name__ == "__main__":
    sys.exit(main())
