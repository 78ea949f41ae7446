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
import json
import os
import signal
import socket
import sqlite3
import sys
import tempfile
import threading
import time

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
    log = [e for e in s.access_log() if e.get("path") == "/sdapi/v1/txt2img" and e["status"] == 408]
    check(len(log) == len(socks), f"each trickler logged as 408: {len(log)}")
    print(f"  slow clients: {len(socks)} tricklers vs --queue {q}: normal client {sts}; tricklers closed after "
          f"{', '.join('%.1f' % t for t in done)} s (--body-timeout {body_timeout})")
    check(s.stop() == 0, "slow-client server exits 0")


def main():
    test_slow_clients(EXE)
    finish()


if __name__ == "__main__":
    main()
