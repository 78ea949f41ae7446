#!/usr/bin/env python3
"""rss_run.py — run a command and report its resident memory, sampled from
/proc/<pid>/status every 20 ms: peak VmRSS (VmHWM), and the peaks of the
anonymous part (RssAnon: heap copies of weights, activations) and the
file-backed part (RssFile: mmapped weight files, clean and reclaimable).

    python3 perf/rss_run.py [--label TEXT] -- COMMAND ARGS...

Prints one line "label: peak RSS X MiB (anon peak Y MiB, file peak Z MiB),
wall W s, exit E" and appends it as JSON to --json FILE when given. Used
for t2i's per-rung memory figures and for the same figures of
stable-diffusion.cpp (perf/sdcpp_memory.sh). Linux only.
"""
import argparse
import json
import subprocess
import sys
import time


def status_kib(pid):
    vals = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
                    vals[k] = int(v.split()[0])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return vals


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", default="run")
    ap.add_argument("--json")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    if not cmd:
        sys.exit("usage: rss_run.py [--label TEXT] [--json FILE] -- COMMAND ...")
    t0 = time.time()
    p = subprocess.Popen(cmd)
    peak = {"VmHWM": 0, "RssAnon": 0, "RssFile": 0}
    while p.poll() is None:
        v = status_kib(p.pid)
        for k in peak:
            peak[k] = max(peak[k], v.get(k, 0))
        time.sleep(0.02)
    wall = time.time() - t0
    mib = {k: v / 1024 for k, v in peak.items()}
    print(f"{a.label}: peak RSS {mib['VmHWM']:.0f} MiB (anon peak {mib['RssAnon']:.0f} MiB, "
          f"file peak {mib['RssFile']:.0f} MiB), wall {wall:.1f} s, exit {p.returncode}")
    if a.json:
        with open(a.json, "a") as f:
            f.write(json.dumps({"label": a.label, "cmd": cmd, "peak_rss_mib": mib["VmHWM"],
                                "anon_peak_mib": mib["RssAnon"], "file_peak_mib": mib["RssFile"],
                                "wall_s": wall, "exit": p.returncode}) + "\n")
    sys.exit(p.returncode)


if __name__ == "__main__":
    main()
