#!/usr/bin/env python3
"""test_server_abuse.py — t2i-server against slow, greedy and vanishing
clients, and against a crash (the tiny-sd1 fixture, loopback only, every
wait bounded):

  slow clients    --queue + 2 connections trickling a body one byte at a
                  time hold no queue slot (a normal client still gets 200)
                  and are closed once --body-timeout passes;
  dropped request a synchronous request whose client goes away is cancelled;
  job deadline    --job-timeout fails a job that runs past it;
  cost cap        pixels × steps × images over --max-cost is a 400;
  skip            /sdapi/v1/skip ends the running image;
  crash           after SIGKILL under load, every job answered 202 has a row,
                  and rows left queued/running are marked failed: interrupted.

usage: python3 tests/test_server_abuse.py path/to/t2i-server
"""
import base64
import json
import os
import signal
import socket
import sqlite3
import struct
import sys
import tempfile
import threading
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_server_util import Server, check, finish  # noqa: E402

EXE = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="t2i-server-abuse-")


def test_slow_clients(exe):
    q, body_timeout = 1, 3
    s = Server(exe, "--queue", str(q), "--body-timeout", str(body_timeout))
    body = json.dumps({"prompt": "slow", "steps": 1}).encode()
    head = (b"POST /sdapi/v1/txt2img HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body))
    socks = []
    for _ in range(q + 2):
        c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        c.sendall(head + body[:1])
        socks.append(c)
    t0 = time.time()
    closed_at = [None] * len(socks)
    stop = threading.Event()

    def trickle():
        sent = 1
        while not stop.is_set() and sent < len(body) - 1:
            for i, c in enumerate(socks):
                if closed_at[i] is None:
                    try:
                        c.sendall(body[sent:sent + 1])
                    except OSError:
                        closed_at[i] = time.time() - t0
            sent += 1
            stop.wait(0.5)

    th = threading.Thread(target=trickle)
    th.start()
    time.sleep(0.5)
    sts = [s.json("POST", "/sdapi/v1/txt2img", {"prompt": "normal", "steps": 2}, timeout=30)[0] for _ in range(3)]
    check(sts == [200, 200, 200], f"a normal client beside {q + 2} trickling ones (--queue {q}): {sts}")
    # The tricklers are closed once --body-timeout passes: reading gives EOF.
    for i, c in enumerate(socks):
        c.settimeout(max(0.1, body_timeout + 3 - (time.time() - t0)))
        try:
            data = c.recv(4096)
            if closed_at[i] is None:
                closed_at[i] = time.time() - t0
            check(data == b"", f"trickler {i} closed without an answer: {data[:60]!r}")
        except socket.timeout:
            check(False, f"trickler {i} still open after {time.time() - t0:.1f} s")
        except OSError:
            closed_at[i] = closed_at[i] or time.time() - t0
    stop.set()
    th.join(5)
    for c in socks:
        c.close()
    done = [t for t in closed_at if t is not None]
    check(len(done) == len(socks) and max(done) < body_timeout + 2,
          f"tricklers closed after {['%.1f' % t for t in done]} s (--body-timeout {body_timeout})")
    deadline = time.time() + 10   # the server logs a closed connection when it has noticed it
    while True:
        log = [e for e in s.access_log() if e.get("path") == "/sdapi/v1/txt2img" and e["status"] == 408]
        if len(log) >= len(socks) or time.time() > deadline:
            break
        time.sleep(0.05)
    check(len(log) == len(socks), f"each trickler logged as 408: {len(log)}")
    print(f"  slow clients: {len(socks)} tricklers vs --queue {q}: normal client {sts}; tricklers closed after "
          f"{', '.join('%.1f' % t for t in done)} s (--body-timeout {body_timeout})")
    check(s.stop() == 0, "slow-client server exits 0")


def wait_step(s, at_least=2, timeout=20):
    """Wait until the running job has done `at_least` steps; the progress."""
    deadline, p = time.time() + timeout, {}
    while time.time() < deadline:
        p = s.json("GET", "/sdapi/v1/progress")[1]
        if p["state"]["sampling_step"] >= at_least:
            break
        time.sleep(0.02)
    return p


def wait_idle(s, timeout):
    """Seconds until no job is queued or running (None past the timeout)."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        if s.json("GET", "/sdapi/v1/progress")[1]["state"]["job_count"] == 0:
            return time.time() - t0
        time.sleep(0.02)
    return None


def raw_post(port, path, body):
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    data = json.dumps(body).encode()
    c.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
              % (path.encode(), len(data), data))
    return c


def test_jobs_bounded(exe):
    db = os.path.join(TMP, "bounded.db")
    s = Server(exe, "--db", db, "--job-timeout", "2")
    # A synchronous request whose client goes away is cancelled within a step
    # or two (the whole job would take 600 steps).
    c = raw_post(s.port, "/sdapi/v1/txt2img", {"prompt": "dropped", "steps": 150, "n_iter": 4})
    p = wait_step(s, 2)
    c.close()
    dropped_dt = wait_idle(s, 5)
    check(dropped_dt is not None and dropped_dt < 1.5, f"dropped client's job ended {dropped_dt} s after the close "
                                                       f"(step {p['state']['sampling_step']})")
    rows = sqlite3.connect(db).execute("SELECT state, error FROM requests WHERE prompt='dropped' AND api='sdapi'"
                                       ).fetchall()
    check(rows == [("cancelled", "cancelled")], f"dropped job recorded as cancelled: {rows}")
    # The deadline: a job that would run ~6 s fails after --job-timeout 2.
    t0 = time.time()
    st, h, data = s.request("POST", "/sdapi/v1/txt2img", {"prompt": "long", "steps": 150, "n_iter": 4}, timeout=30)
    dt = time.time() - t0
    b = json.loads(data)
    check(st == 504 and "--job-timeout" in b["detail"] and h.get("x-should-retry") == "false" and dt < 4,
          f"deadline: {st} after {dt:.2f} s, {b.get('detail')}, x-should-retry {h.get('x-should-retry')}")
    st, j = s.json("POST", "/v1/jobs", {"prompt": "long", "steps": 150, "n_iter": 4})
    t0 = time.time()
    while time.time() - t0 < 10:
        st, j = s.json("GET", f"/v1/jobs/{j['id']}")
        if j["state"] not in ("queued", "running"):
            break
        time.sleep(0.05)
    dt = time.time() - t0
    check(j["state"] == "failed" and "deadline" in j["error"] and dt < 4,
          f"async job past its deadline: {j['state']} after {dt:.2f} s")
    check(s.stop() == 0, "deadline server exits 0")
    # The cost cap: 64×64 × 150 steps × 4 images = 2.5 M pixel-steps > 2 M.
    s = Server(exe, "--max-cost", "2")
    st, b = s.json("POST", "/sdapi/v1/txt2img", {"prompt": "x", "steps": 150, "n_iter": 4, "width": 64,
                                                 "height": 64})
    check(st == 400 and "--max-cost" in b["detail"] and "2.5 M" in b["detail"], f"cost cap: {st} {b}")
    st, b = s.json("POST", "/v1/images/generations", {"prompt": "x", "n": 10, "size": "128x128"})
    check(st == 400 and "--max-cost" in b["error"]["message"], f"cost cap (openai): {st}")
    st, b = s.json("POST", "/sdapi/v1/txt2img", {"prompt": "x", "steps": 100, "width": 64, "height": 64})
    check(st == 200, f"under the cap: {st}")
    # Skip: the current iteration ends, the next ones run.
    out = {}
    th = threading.Thread(target=lambda: out.setdefault("r", s.json(
        "POST", "/sdapi/v1/txt2img", {"prompt": "skip", "steps": 100, "n_iter": 3, "seed": 10}, timeout=120)))
    th.start()
    wait_step(s, 2)
    st, _ = s.json("POST", "/sdapi/v1/skip", {})
    th.join(120)
    st, b = out.get("r", (0, {}))
    info = json.loads(b["info"]) if st == 200 else {}
    check(st == 200 and len(b["images"]) == 2 and not info.get("interrupted"),
          f"skip: {st}, {len(b.get('images', []))} images of 3")
    print(f"  dropped client: job ended {dropped_dt:.2f} s after the close; deadline 2 s → 504; skip: 2 of 3 images")
    check(s.stop() == 0, "cost-cap server exits 0")


def test_sigkill(exe):
    """Jobs answered 202 survive a SIGKILL as rows; the next start marks the
    unfinished ones failed: interrupted; finished ones keep their state."""
    db = os.path.join(TMP, "crash.db")
    s = Server(exe, "--db", db, "--queue", "32")
    st, b = s.json("POST", "/sdapi/v1/txt2img", {"prompt": "before", "steps": 2})
    done_id = None
    if st == 200:
        done_id = json.loads(b["info"])["image_ids"][0]
    accepted = []
    stop = threading.Event()

    def submitter():
        while not stop.is_set():
            try:
                st, b = s.json("POST", "/v1/jobs", {"prompt": "crash", "steps": 50}, timeout=5)
            except OSError:
                return
            if st == 202:
                accepted.append(b["id"])

    ths = [threading.Thread(target=submitter) for _ in range(3)]
    for t in ths:
        t.start()
    deadline = time.time() + 10
    while len(accepted) < 12 and time.time() < deadline and s.proc.poll() is None:
        time.sleep(0.01)
    time.sleep(0.3)
    s.proc.send_signal(signal.SIGKILL)    # under load: submissions still arriving
    s.proc.wait(10)
    stop.set()
    for t in ths:
        t.join(10)
    con = sqlite3.connect(db)
    rows = dict(con.execute("SELECT id, state FROM requests WHERE prompt='crash'").fetchall())
    con.close()
    missing = [i for i in accepted if i not in rows]
    check(accepted and not missing, f"SIGKILL: {len(accepted)} jobs answered 202, {len(missing)} without a row")
    states = {st: list(rows.values()).count(st) for st in set(rows.values())}
    check(states.get("queued", 0) + states.get("running", 0) > 0, f"unfinished rows after the kill: {states}")
    s2 = Server(exe, "--db", db)
    con = sqlite3.connect(db)
    after = dict(con.execute("SELECT id, state || ': ' || COALESCE(error,'') FROM requests WHERE prompt='crash'"
                             ).fetchall())
    before_row = con.execute("SELECT r.state FROM images i JOIN requests r ON r.id=i.request_id WHERE i.id=?",
                             (done_id,)).fetchone()
    con.close()
    unfinished = [i for i, st in rows.items() if st in ("queued", "running")]
    check(all(after[i].startswith("failed: interrupted") for i in unfinished),
          f"restart marks unfinished rows failed: interrupted: {[after[i] for i in unfinished][:3]}")
    check(all(after[i] == "done: " for i, st in rows.items() if st == "done"), "finished rows keep their state")
    check(before_row == ("done",), f"a job done before the crash stays done: {before_row}")
    check(any("marked failed" in line for line in s2.lines), "the restart says how many it marked")
    print(f"  SIGKILL under load: {len(accepted)} jobs answered 202, all {len(accepted)} with a row "
          f"({states}); after restart {len(unfinished)} marked failed: interrupted")
    check(s2.stop() == 0, "restarted server exits 0")


def test_defaults(exe):
    """No --db: records persist in $XDG_DATA_HOME/t2i/records.db (else
    ~/.local/share/t2i) across restarts. No --model: the embedded default
    model (models/default) is served, as the t2i CLI does."""
    home = tempfile.mkdtemp(prefix="t2i-data-", dir=TMP)
    s = Server(exe, env={"XDG_DATA_HOME": home})
    st, b = s.json("POST", "/sdapi/v1/txt2img", {"prompt": "kept", "steps": 1, "seed": 3})
    check(st == 200, f"generation with the default --db: {st}")
    image_id = json.loads(b["info"])["image_ids"][0] if st == 200 else ""
    st, _ = s.json("POST", "/v1/feedback", {"image_id": image_id, "event": "like"})
    check(s.stop() == 0, "default-db server exits 0")
    db = os.path.join(home, "t2i", "records.db")
    check(os.path.exists(db) and (os.stat(os.path.dirname(db)).st_mode & 0o777) == 0o700,
          f"records in {db}, folder mode 0700")
    s = Server(exe, env={"XDG_DATA_HOME": home})
    st, stats = s.json("GET", "/v1/feedback/stats")
    check(st == 200 and stats["totals"].get("likes") == 1, f"a like survives the restart: {stats.get('totals')}")
    check(s.stop() == 0, "restarted default-db server exits 0")
    s = Server(exe, "--db", ":memory:", model=None, env={"T2I_MODEL": ""})
    st, models = s.json("GET", "/sdapi/v1/sd-models")
    st2, h = s.json("GET", "/health")
    check(st == 200 and [m["title"] for m in models] == ["default"] and h == {"status": "ready"},
          f"no --model: serves {[m['title'] for m in models]}, health {h}")
    st, b = s.json("POST", "/sdapi/v1/txt2img", {"prompt": "a red circle", "steps": 1}, timeout=120)
    check(st == 200 and len(b["images"]) == 1, f"the default model draws: {st}")
    check(s.stop() == 0, "default-model server exits 0")


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def peak_rss_kib(s):
    with open(f"/proc/{s.proc.pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))


def test_png_info_bomb(exe):
    """A ~65 kB PNG declaring 8192×8192 pixels (a 256 MiB decode): png-info
    reads its text without decoding; six at once leave RSS flat."""
    raw = zlib.compress(b"\0" * ((8192 + 1) * 8192), 9)
    png = (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 8192, 8192, 8, 0, 0, 0, 0)) +
           png_chunk(b"tEXt", b"parameters\0a bomb\nSteps: 7, Seed: 5, Size: 8192x8192") + png_chunk(b"IDAT", raw) +
           png_chunk(b"IEND", b""))
    body = {"image": base64.b64encode(png).decode()}
    s = Server(exe, "--max-decodes", "6")   # all six admitted: this measures memory, not the budget
    rss0 = peak_rss_kib(s)
    out = []
    ths = [threading.Thread(target=lambda: out.append(s.json("POST", "/sdapi/v1/png-info", body, timeout=60)))
           for _ in range(6)]
    for t in ths:
        t.start()
    for t in ths:
        t.join(60)
    rss1 = peak_rss_kib(s)
    check(len(out) == 6 and all(st == 200 and b["parameters"].get("Seed") == "5" for st, b in out),
          f"png-info of an 8192×8192 PNG: {[st for st, _ in out]}")
    grew = (rss1 - rss0) // 1024
    if not s.sanitized():
        check(grew < 64, f"peak RSS grew {grew} MiB over six parallel 8192×8192 png-info requests")
    print(f"  png-info bomb: {len(png) // 1024} kB PNG declaring 8192×8192, 6 in parallel: 200s, peak RSS "
          f"{rss0 // 1024} → {rss1 // 1024} MiB")
    check(s.stop() == 0, "png-info server exits 0")
    # The decode budget: an upload that alone exceeds --max-decode-bytes.
    s = Server(exe, "--max-decode-bytes", "32768")
    st, b = s.json("POST", "/sdapi/v1/png-info", body)
    check(st == 413 and b["error"]["param"] == "image" and "--max-decode-bytes" in b["detail"],
          f"png-info over --max-decode-bytes -> {st} {b}")
    check(s.stop() == 0, "decode-budget server exits 0")


def main():
    test_slow_clients(EXE)
    test_jobs_bounded(EXE)
    test_sigkill(EXE)
    test_defaults(EXE)
    test_png_info_bomb(EXE)
    finish()


if __name__ == "__main__":
    main()
