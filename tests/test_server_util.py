"""test_server_util.py — shared helpers for the t2i-server tests (stdlib only):
start the real server on an ephemeral loopback port with a fixture model,
talk HTTP/1.1 to it, count checks.

Every server test program is `python3 tests/test_server*.py <t2i-server>`
run from the source root (ctest does that); exit 0 = pass, 1 = fail,
77 = skipped.
"""
import base64
import http.client
import json
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY_SD1 = os.path.join(ROOT, "tests", "fixtures", "tiny-sd1")
TINY_SD2 = os.path.join(ROOT, "tests", "fixtures", "tiny-sd2")

passed = 0
failed = 0

# The servers a test starts keep their default records (--db unset) in a
# temporary data folder, never in the user's ~/.local/share/t2i.
DATA_HOME = None


def data_home():
    global DATA_HOME
    if DATA_HOME is None:
        import tempfile
        DATA_HOME = tempfile.mkdtemp(prefix="t2i-server-data-")
    return DATA_HOME


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}", flush=True)
    return cond


def finish():
    print(f"{passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)


class Server:
    """A t2i-server process on 127.0.0.1:<ephemeral port>."""

    def __init__(self, exe, *args, model=TINY_SD1, wait_ready=True, env=None):
        cmd = [exe, "--listen", "127.0.0.1:0", "--threads", "1"]
        if model:
            cmd += ["--model", model]
        cmd += list(args)
        env = {**os.environ, "XDG_DATA_HOME": data_home(), **(env or {})}
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     errors="replace", env=env)
        self.lines = []
        self.port = None
        got_port = threading.Event()

        def reader():
            for line in self.proc.stderr:
                self.lines.append(line.rstrip("\n"))
                m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
                if m:
                    self.port = int(m.group(1))
                    got_port.set()
            got_port.set()

        self.reader = threading.Thread(target=reader, daemon=True)
        self.reader.start()
        got_port.wait(30)
        if self.port is None:
            raise RuntimeError("server did not start:\n" + "\n".join(self.lines))
        if wait_ready:
            deadline = time.time() + 30
            while time.time() < deadline:
                st, _, _ = self.request("GET", "/health")
                if st == 200:
                    break
                time.sleep(0.05)

    def conn(self, timeout=60):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, raw=None, timeout=60):
        """Returns (status, headers dict (lower-case names), body bytes)."""
        c = self.conn(timeout)
        h = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def json(self, method, path, body=None, headers=None, timeout=60):
        st, h, data = self.request(method, path, body, headers, timeout=timeout)
        try:
            return st, json.loads(data) if data else None
        except ValueError:
            return st, {"_raw": data[:200]}

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.reader.join(5)
        reports = [l for l in self.lines if "runtime error:" in l or "Sanitizer" in l]
        check(not reports, f"sanitizer reports: {reports[:3]}")
        return rc

    def sanitized(self):
        """True when the server runs under AddressSanitizer (RSS is then
        dominated by its quarantine, so memory-growth checks do not apply):
        GCC's shared libasan shows in the maps, clang's runtime is linked
        into the executable."""
        try:
            with open(f"/proc/{self.proc.pid}/maps") as f:
                if "libasan" in f.read():      # gcc: the shared runtime
                    return True
            with open(f"/proc/{self.proc.pid}/exe", "rb") as f:
                return b"__asan_init" in f.read()   # clang: linked in statically
        except OSError:
            return False

    def access_log(self):
        out = []
        for line in self.lines:
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out


def png_size(data):
    """(width, height) of a PNG, or None if it is not one."""
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def b64png_size(s):
    try:
        return png_size(base64.b64decode(s, validate=True))
    except ValueError:
        return None
