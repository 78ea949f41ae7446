#!/usr/bin/env python3
"""test_server_web.py — the web page in headless Chromium: load it, pick a
style through the search box, submit a prompt, watch the progress (SSE),
see the image, click "Like", and find the feedback row in SQLite. Saves a
screenshot to $T2I_SERVER_SCREENSHOT (if set).

Drives Chromium over the DevTools protocol with a minimal WebSocket client
(standard library only). Chromium is Debian's `chromium` package; without
it the test is skipped (exit 77). All of Chromium's name resolution is
mapped to nothing except 127.0.0.1, so it reaches no other address.

usage: python3 tests/test_server_web.py path/to/t2i-server
"""
import base64
import json
import os
import re
import shutil
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_server_util import Server, check, finish  # noqa: E402

EXE = sys.argv[1]


class WebSocket:
    """Just enough RFC 6455 for the DevTools protocol: text frames, client
    masking, no extensions."""

    def __init__(self, url):
        m = re.match(r"ws://([^/:]+):(\d+)(/.*)", url)
        host, port, path = m.group(1), int(m.group(2)), m.group(3)
        if host not in ("127.0.0.1", "localhost"):
            raise RuntimeError("loopback only")
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError(f"websocket handshake failed: {head[:100]!r}")
        self.buf = b""

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("websocket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, text):
        data = text.encode()
        mask = os.urandom(4)
        n = len(data)
        head = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else
                                bytes([0x80 | 126]) + struct.pack(">H", n) if n < 65536 else
                                bytes([0x80 | 127]) + struct.pack(">Q", n))
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def recv(self):
        message = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)
            op = b0 & 0x0F
            if op == 8:
                raise ConnectionError("websocket closed by peer")
            if op in (0, 1, 2):
                message += payload
                if b0 & 0x80:
                    return message.decode()


class DevTools:
    def __init__(self, ws_url):
        self.ws = WebSocket(ws_url)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        my = self.next_id
        self.ws.send(json.dumps({"id": my, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"JS error in {expr[:60]}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait_for(self, expr, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = self.eval(expr)
            if v:
                return v
            time.sleep(0.05)
        return None


def start_chromium(exe, profile):
    args = [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--disable-extensions", "--metrics-recording-only",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
            f"--user-data-dir={profile}", "--window-size=1000,760", "about:blank"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace")
    found = {}

    def reader():
        for line in proc.stderr:
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            if m:
                found["url"] = m.group(1)

    threading.Thread(target=reader, daemon=True).start()
    deadline = time.time() + 60
    while "url" not in found and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    return proc, found.get("url")


def main():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("SKIP: chromium not installed (apt-get install chromium)")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="t2i-server-web-")
    db = os.path.join(tmp, "records.db")
    s = Server(EXE, "--db", db)
    proc, browser_url = start_chromium(chromium, os.path.join(tmp, "profile"))
    if not browser_url:
        proc.kill()
        s.stop()
        print("SKIP: chromium did not start a DevTools endpoint")
        sys.exit(77)
    try:
        port = int(re.match(r"ws://[^:]+:(\d+)/", browser_url).group(1))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            pages = [t for t in json.load(r) if t["type"] == "page"]
        cdp = DevTools(pages[0]["webSocketDebuggerUrl"])
        cdp.call("Page.enable")
        cdp.call("Runtime.enable")
        cdp.call("Emulation.setDeviceMetricsOverride", width=980, height=900, deviceScaleFactor=1, mobile=False)
        cdp.call("Page.navigate", url=f"http://127.0.0.1:{s.port}/")
        n_styles = cdp.wait_for("document.querySelectorAll('#styles li').length")
        check(n_styles and n_styles >= 1000, f"style picker filled from /sdapi/v1/prompt-styles ({n_styles})")
        check(cdp.wait_for("document.getElementById('health').textContent === 'ready'"), "health shown")
        # Search in Chinese, pick the one match.
        visible = cdp.eval("""(() => { const q = document.getElementById('style-search');
            q.value = '水彩画'; q.dispatchEvent(new Event('input'));
            const v = [...document.querySelectorAll('#styles li')].filter(li => !li.hidden);
            v[0].querySelector('input').click(); return v.map(li => li.textContent.trim()); })()""")
        check(visible and visible[0] == "Watercolor Painting · 水彩画" and len(visible) < 10,
              f"searching 水彩画 finds Watercolor Painting: {visible}")
        cdp.eval("""(() => { document.getElementById('prompt').value = 'a red circle on a blue background';
            document.getElementById('size').value = '64'; document.getElementById('steps').value = '30';
            document.getElementById('seed').value = '4242';
            document.getElementById('generate').click(); })()""")
        saw_progress = cdp.wait_for("document.getElementById('progress').value > 0 && "
                                    "document.getElementById('status').textContent", timeout=30)
        check(saw_progress, f"live progress shown ({saw_progress})")
        ok = cdp.wait_for("(() => { const i = document.querySelector('#results .card img');"
                          " return i && i.complete && i.naturalWidth === 64; })()", timeout=60)
        check(ok, "the generated 64×64 image is shown")
        image_id = cdp.eval("document.querySelector('#results .card').dataset.imageId")
        cdp.eval("document.querySelector('#results .card .like').click()")
        check(cdp.wait_for("document.querySelector('#results .card .like').classList.contains('done')"),
              "like acknowledged")
        con = sqlite3.connect(db)
        rows = con.execute("SELECT f.event, r.prompt, r.styles, i.seed FROM feedback f JOIN images i ON"
                           " i.id = f.image_id JOIN requests r ON r.id = i.request_id WHERE f.image_id = ?",
                           (image_id,)).fetchall()
        con.close()
        check(rows == [("like", "a red circle on a blue background", '["Watercolor Painting"]', 4242)],
              f"feedback row in SQLite: {rows}")
        shot = cdp.call("Page.captureScreenshot", format="png")
        out = os.environ.get("T2I_SERVER_SCREENSHOT")
        if out:
            with open(out, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
            print(f"  screenshot: {out}")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        check(s.stop() == 0, "server exits 0")
    finish()


if __name__ == "__main__":
    main()
