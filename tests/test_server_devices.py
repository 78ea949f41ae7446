"""test_server_devices.py — t2i-server --devices (CPU workers here):

 - two workers: /metrics has a t2i_device_* series per device; six queued
   jobs with different prompts are drawn by both workers (each device's
   t2i_device_jobs_total ok > 0, summing to 6), all done;
 - a failing device (T2I_SERVER_FAULT_DEVICE=1 makes device 1's first engine
   call fail as a broken device would): the job on it fails with 503 and an
   error naming device 1 and "out of rotation"; every other job is done by
   device 0; /metrics shows device 1 down and device 0 up; /health stays
   ready; the server exits 0;
 - one large request on two devices (--parallel-min-pixels 4096: a 64×64
   job with CFG borrows the idle device for CFG parallelism): the lending
   device's t2i_device_lent_total is 1, and the two images (batch 2: a
   UNet batch of 2 on each device, where the library's rule is bit-exact)
   equal, PNG byte for byte, those of a server drawing on one device;
 - --devices refuses a malformed list or a repeated device.
"""
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
from test_server_util import Server, check, finish  # noqa: E402

EXE = sys.argv[1] if len(sys.argv) > 1 else "build/t2i-server"


def metrics(s):
    st, _, data = s.request("GET", "/metrics")
    out = {}
    for line in data.decode().splitlines():
        if line.startswith("t2i_device_"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return st, out


def wait_up(s, n, timeout=60):
    """/health is ready once one device is; wait for all n."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        _, m = metrics(s)
        if sum(v for k, v in m.items() if k.startswith("t2i_device_up{")) == n:
            return True
        time.sleep(0.05)
    return False


def submit_all(s, n):
    ids = []
    for i in range(n):
        st, b = s.json("POST", "/v1/jobs", {"prompt": f"a red circle number {i}", "steps": 4, "seed": i})
        check(st == 202, f"job {i} accepted: {st} {b}")
        ids.append(b.get("id") if isinstance(b, dict) else None)
    return ids


def wait_all(s, ids, timeout=120):
    t0 = time.time()
    states = {}
    while time.time() - t0 < timeout:
        states = {j: s.json("GET", f"/v1/jobs/{j}")[1] for j in ids if j}
        if all(b.get("state") in ("done", "failed", "cancelled") for b in states.values()):
            break
        time.sleep(0.1)
    return states


def test_two_workers():
    s = Server(EXE, "--devices", "0,1", "--queue", "16")
    try:
        check(wait_up(s, 2), "both devices come up")
        st, m = metrics(s)
        check(st == 200 and m.get('t2i_device_up{device="0"}') == 1 and m.get('t2i_device_up{device="1"}') == 1,
              f"both devices up in /metrics: {m}")
        states = wait_all(s, submit_all(s, 6))
        check(all(b.get("state") == "done" for b in states.values()) and len(states) == 6,
              f"six jobs done: {[b.get('state') for b in states.values()]}")
        _, m = metrics(s)
        ok0 = m.get('t2i_device_jobs_total{device="0",result="ok"}', 0)
        ok1 = m.get('t2i_device_jobs_total{device="1",result="ok"}', 0)
        print(f"  two CPU workers: device 0 ran {ok0:.0f} jobs, device 1 ran {ok1:.0f}")
        check(ok0 > 0 and ok1 > 0 and ok0 + ok1 == 6, f"both devices drew jobs: {ok0}, {ok1}")
    finally:
        check(s.stop() == 0, "two-worker server exits 0")


def test_failing_device():
    s = Server(EXE, "--devices", "0,1", "--queue", "16", env={"T2I_SERVER_FAULT_DEVICE": "1"})
    try:
        check(wait_up(s, 2), "both devices come up")
        states = wait_all(s, submit_all(s, 6))
        failed = [b for b in states.values() if b.get("state") == "failed"]
        done = [b for b in states.values() if b.get("state") == "done"]
        print(f"  device 1 fails: {len(done)} done, {len(failed)} failed: {failed[0].get('error') if failed else ''}")
        check(len(failed) == 1 and len(done) == 5, f"one job failed, the others done: {len(failed)}, {len(done)}")
        check(failed and "device 1" in failed[0].get("error", "") and "out of rotation" in failed[0].get("error", ""),
              f"the failed job names the device: {failed}")
        _, m = metrics(s)
        check(m.get('t2i_device_up{device="1"}') == 0 and m.get('t2i_device_up{device="0"}') == 1,
              f"device 1 out of rotation, device 0 up: {m}")
        check(m.get('t2i_device_jobs_total{device="1",result="failed"}') == 1 and
              m.get('t2i_device_jobs_total{device="0",result="ok"}') == 5, f"per-device counts: {m}")
        st, _, _ = s.request("GET", "/health")
        check(st == 200, f"/health while one device serves: {st}")
        st, b = s.json("POST", "/v1/jobs", {"prompt": "after the fault", "steps": 2})
        later = wait_all(s, [b.get("id")]) if st == 202 else {}
        check(st == 202 and all(x.get("state") == "done" for x in later.values()) and later,
              f"a later job is served by the remaining device: {st} {later}")
    finally:
        check(s.stop() == 0, "server with a failed device exits 0")


LARGE = {"prompt": "a red circle on a blue background", "negative_prompt": "blurry", "steps": 4, "seed": 77,
         "cfg_scale": 7.0, "batch_size": 2, "width": 64, "height": 64}


def draw(s, body):
    st, b = s.json("POST", "/sdapi/v1/txt2img", body, timeout=120)
    check(st == 200 and len(b.get("images", [])) == 2, f"txt2img -> {st} {str(b)[:200]}")
    return b.get("images", []) if isinstance(b, dict) else []


def test_large_request():
    one = Server(EXE)
    try:
        ref = draw(one, LARGE)
    finally:
        check(one.stop() == 0, "single-device server exits 0")
    s = Server(EXE, "--devices", "0,1", "--parallel-min-pixels", "4096")
    try:
        check(wait_up(s, 2), "both devices come up")
        got = draw(s, LARGE)
        _, m = metrics(s)
        lent = sum(v for k, v in m.items() if k.startswith("t2i_device_lent_total"))
        print(f"  a 64x64 CFG job on two devices: lent {lent:.0f}, images equal one device's: {got == ref}")
        check(lent == 1, f"one device lent to the job: {m}")
        check(got and got == ref, "CFG-parallel images equal one device's, PNG byte for byte")
        st, b = s.json("POST", "/sdapi/v1/txt2img", dict(LARGE, width=64, height=64, cfg_scale=1.0), timeout=120)
        _, m = metrics(s)
        lent2 = sum(v for k, v in m.items() if k.startswith("t2i_device_lent_total"))
        check(st == 200 and lent2 == 1, f"no guidance, nothing to split: no device lent ({st}, {lent2})")
    finally:
        check(s.stop() == 0, "lending server exits 0")


def test_bad_flags():
    import subprocess
    for bad in ("0,x", "1,1", "", "0,,1"):
        r = subprocess.run([EXE, "--listen", "127.0.0.1:0", "--devices", bad], capture_output=True, text=True,
                           timeout=30)
        check(r.returncode != 0 and "--devices" in r.stderr, f"--devices '{bad}' refused: {r.returncode} {r.stderr}")


def main():
    test_two_workers()
    test_failing_device()
    test_large_request()
    test_bad_flags()
    finish()


if __name__ == "__main__":
    main()
