"""test_server_precision.py — t2i-server --precision (docs/precision.md):

 - a name that is no rung, or a rung the backend does not offer (fp16 on
   the CPU), is refused at startup: exit 2, one line naming --precision and
   what the CPU offers, before any port is opened;
 - --precision int8w runs: the same request (seed, steps) gives an image,
   and its PNG differs from the fp32 server's (the rung reached the engine:
   the tiny fixture's GEMM weights are quantised), while fp32 given by name
   equals the default server's image byte for byte.
"""
import subprocess
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
from test_server_util import Server, check, finish  # noqa: E402

EXE = sys.argv[1] if len(sys.argv) > 1 else "build/t2i-server"
REQ = {"prompt": "a red circle", "steps": 2, "seed": 5, "width": 64, "height": 64}


def test_refused():
    for bad, want in (("fp64", "must be fp32, fp16, bf16, int8w or w8a8"), ("fp16", "cpu: fp32, int8w"),
                      ("w8a8", "cpu: fp32, int8w")):
        r = subprocess.run([EXE, "--listen", "127.0.0.1:0", "--db", ":memory:", "--precision", bad],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 2 and "--precision" in r.stderr and want in r.stderr
              and "listening" not in r.stderr, f"--precision {bad} refused: {r.returncode} {r.stderr}")


def image(*args):
    s = Server(EXE, "--db", ":memory:", *args)
    try:
        st, b = s.json("POST", "/sdapi/v1/txt2img", REQ, timeout=120)
        check(st == 200 and len(b.get("images", [])) == 1, f"{args}: txt2img -> {st}")
        return b["images"][0] if st == 200 else None
    finally:
        s.stop()


def test_runs():
    default, fp32, int8w = image(), image("--precision", "fp32"), image("--precision", "int8w")
    check(default is not None and default == fp32, "--precision fp32 draws the default CPU image")
    check(int8w is not None and int8w != fp32, "--precision int8w draws a different (quantised) image")


def main():
    test_refused()
    test_runs()
    finish()


if __name__ == "__main__":
    main()
