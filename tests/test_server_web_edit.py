#!/usr/bin/env python3
"""test_server_web_edit.py — the web page's editing panel in headless
Chromium (DevTools protocol, as test_server_web.py; skipped without
Chromium): upload a PNG through the file input, paint a mask stroke with
synthesized mouse events (which the page receives as pointer events) on the
left of the image, set the strength, submit, and check the result card: the
same size, redrawn under the stroke, every pixel beyond the blurred stroke
identical to the upload. Then "Edit" on that result, outpaint 64 px to the
right, submit: a 128x64 image whose old half (beyond the seam's blur) is
unchanged. Each wait is bounded (60 s at most).

usage: python3 tests/test_server_web_edit.py path/to/t2i-server
"""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_server_util import Server, check, finish  # noqa: E402
from test_server_web import DevTools, start_chromium  # noqa: E402
from test_server_edit import png_decode  # noqa: E402

EXE = sys.argv[1]


def columns_equal(a, b, w_a, w_b, h, ch, xs):
    return all(a[(y * w_a + x) * ch:(y * w_a + x + 1) * ch] == b[(y * w_b + x) * ch:(y * w_b + x + 1) * ch]
               for y in range(h) for x in xs)


def result_png(cdp, index):
    """The PNG bytes of the index-th newest result card."""
    src = cdp.eval(f"document.querySelectorAll('#results .card img')[{index}].src")
    return base64.b64decode(src.split(",", 1)[1])


def drag(cdp, points):
    """Press, move through points, release: page (CSS) coordinates."""
    x, y = points[0]
    cdp.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
    cdp.call("Input.dispatchMouseEvent", type="mousePressed", x=x, y=y, button="left", buttons=1, clickCount=1)
    for x, y in points[1:]:
        cdp.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y, button="left", buttons=1)
    cdp.call("Input.dispatchMouseEvent", type="mouseReleased", x=x, y=y, button="left", buttons=0, clickCount=1)


def main():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("SKIP: chromium not installed (apt-get install chromium)")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="t2i-server-web-edit-")
    s = Server(EXE, "--db", ":memory:")
    st, b = s.json("POST", "/sdapi/v1/txt2img", {"prompt": "a red circle", "steps": 4, "seed": 11, "width": 64,
                                                 "height": 64})
    init = base64.b64decode(b["images"][0])
    init_path = os.path.join(tmp, "init.png")
    with open(init_path, "wb") as f:
        f.write(init)
    _, _, ch, init_px = png_decode(init)
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
        cdp.call("DOM.enable")
        cdp.call("Emulation.setDeviceMetricsOverride", width=980, height=2000, deviceScaleFactor=1, mobile=False)
        cdp.call("Page.navigate", url=f"http://127.0.0.1:{s.port}/")
        check(cdp.wait_for("document.getElementById('health')?.textContent === 'ready'"), "page loaded")
        # Upload through the file input.
        root = cdp.call("DOM.getDocument")["root"]["nodeId"]
        node = cdp.call("DOM.querySelector", nodeId=root, selector="#edit-file")["nodeId"]
        cdp.call("DOM.setFileInputFiles", files=[init_path], nodeId=node)
        loaded = cdp.wait_for("document.getElementById('edit-image').width === 64 && "
                              "document.getElementById('edit-box').classList.contains('loaded')")
        check(loaded, "uploaded image on the canvas")
        if not loaded:
            return
        # A vertical stroke 8 image px from the left edge, brush 12 px: covers x <= 14.
        cdp.eval("(() => { const b = document.getElementById('brush-size'); b.value = '12';"
                 " b.dispatchEvent(new Event('input')); })()")
        rect = cdp.eval("(() => { const r = document.getElementById('edit-mask').getBoundingClientRect();"
                        " return [r.left, r.top, r.width, r.height]; })()")
        left, top, width, height = rect
        scale = width / 64
        drag(cdp, [(left + 8 * scale, top + (4 + k * 7) * scale) for k in range(9)])
        painted = cdp.eval("(() => { const c = document.getElementById('edit-mask').getContext('2d');"
                           " const d = c.getImageData(0, 0, 64, 64).data; let on = 0, far = 0;"
                           " for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) {"
                           " const a = d[(y * 64 + x) * 4 + 3]; if (a > 127) { on++; if (x > 15) far++; } }"
                           " return [on, far]; })()")
        check(painted and painted[0] > 300 and painted[1] == 0, f"the stroke painted the mask's left band: {painted}")
        cdp.eval("""(() => { document.getElementById('prompt').value = 'a green star';
            document.getElementById('steps').value = '6'; document.getElementById('seed').value = '5';
            const st = document.getElementById('strength'); st.value = '1'; st.dispatchEvent(new Event('input'));
            document.getElementById('edit-submit').click(); })()""")
        ok = cdp.wait_for("(() => { const i = document.querySelector('#results .card img');"
                          " return i && i.complete && i.naturalWidth === 64; })()", timeout=60)
        status = cdp.eval("document.getElementById('edit-status').textContent")
        check(ok, f"the edited image is shown (status: {status})")
        if ok:
            _, _, _, px = png_decode(result_png(cdp, 0))
            # Mask blur 4: 2*int(2.5*4+0.5)+1 = 21 taps, so the stroke's influence ends by x = 14 + 10.
            check(columns_equal(px, init_px, 64, 64, 64, ch, range(25, 64)), "unmasked pixels unchanged")
            check(not columns_equal(px, init_px, 64, 64, 64, ch, range(0, 10)), "the painted area redrawn")
            # Reuse the result: "Edit" on its card, then outpaint 64 px to the right.
            cdp.eval("document.querySelector('#results .card .edit-this').click()")
            check(cdp.wait_for("document.getElementById('edit-image').width === 64"), "result loaded into the editor")
            cdp.eval("(() => { document.getElementById('outpaint-px').value = '64';"
                     " document.getElementById('outpaint-right').click(); })()")
            check(cdp.eval("document.getElementById('edit-image').width === 128 && "
                           "document.getElementById('strength').value === '1'"), "outpaint right grows the canvas")
            cdp.eval("document.getElementById('edit-submit').click()")
            ok2 = cdp.wait_for("(() => { const i = document.querySelector('#results .card img');"
                               " return i && i.complete && i.naturalWidth === 128; })()", timeout=60)
            check(ok2, "the outpainted 128x64 image is shown")
            if ok2:
                _, _, _, src = png_decode(result_png(cdp, 1))
                _, _, _, out = png_decode(result_png(cdp, 0))
                check(columns_equal(out, src, 128, 64, 64, ch, range(0, 53)), "outpainting keeps the old pixels")
                edge = [src[(y * 64 + 63) * ch:(y * 64 + 64) * ch] for y in range(64)]
                check(any(out[(y * 128 + x) * ch:(y * 128 + x + 1) * ch] != edge[y] for y in range(64)
                          for x in range(80, 128)), "the new band is drawn, not the edge colours left as filled")
        out = os.environ.get("T2I_SERVER_SCREENSHOT_EDIT")
        if out:
            shot = cdp.call("Page.captureScreenshot", format="png")
            with open(out, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
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
