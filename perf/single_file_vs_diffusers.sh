#!/usr/bin/env bash
# single_file_vs_diffusers.sh — single-file load time and LoRA switch time,
# t2i against diffusers, side by side on this CPU, as whole processes.
#
#   perf/single_file_vs_diffusers.sh [MODEL.safetensors] [RUNS]
#
# MODEL: a single-file checkpoint in the original naming (default: the tiny
# fixture tests/fixtures/formats/tiny-sd15.safetensors, a check that the
# script works; for the figure that matters, an SD1.5-size file — make one
# with random weights by `SD15=1`: perf/configs/sd15 saved as one file by
# scripts/fixtures/fixtures_single_file.py's renames, about 2.1 GB in F16,
# written under $WORK). RUNS: counted runs per command (default 5, after one
# warm-up). The script
#   1. converts MODEL to a diffusers folder with `t2i convert` (diffusers'
#      from_single_file takes it as `config=`, offline);
#   2. writes a kohya LoRA of rank 8 on every attention projection of the
#      UNet (lora_unet_*), random values;
#   3. times four pairs of processes, each drawing one 64×64 image in one
#      step (so loading dominates), A1111-style t2i CLI against a diffusers
#      script doing the same:
#        load      t2i -m MODEL            vs  from_single_file(MODEL, config=folder)
#        load+lora t2i -m MODEL --lora L   vs  the same + load_lora_weights(L)
#      The LoRA switch time is the second row's median minus the first's
#      (both merge the LoRA into the weights: t2i at load, diffusers by
#      fuse_lora()).
# Each command runs RUNS times after a warm-up, alternating t2i and
# diffusers; the table gives the median wall time of each and the ratio.
# Wrap every run in another timer with TIMER='cmd args' (it is called as
# `$TIMER -- COMMAND...` and its output kept in $WORK/timer-*.txt), else
# /usr/bin/time's elapsed seconds are used.
#
# Figures taken while other jobs share the machine are not meaningful: run
# it on an otherwise idle machine and say how busy it was.
#
# Needs: build/t2i (cmake build), Python with torch, diffusers, safetensors
# ($PYTHON, default /work/pyenv/bin/python, else python3).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:-tests/fixtures/formats/tiny-sd15.safetensors}
RUNS=${2:-5}
T2I=${T2I:-build/t2i}
PYTHON=${PYTHON:-$( [ -x /work/pyenv/bin/python ] && echo /work/pyenv/bin/python || echo python3)}
WORK=${WORK:-$(mktemp -d /tmp/t2i-sf-bench.XXXXXX)}
TOKENIZER=${TOKENIZER:-tests/fixtures/tiny-sd1/tokenizer}
export OMP_NUM_THREADS=${THREADS:-$(nproc)}

if [ "${SD15:-0}" = 1 ]; then
    MODEL=$WORK/sd15-random.safetensors
    TOKENIZER=models/default/tokenizer   # the real CLIP vocabulary, as SD1.5
    [ -f "$MODEL" ] || "$PYTHON" - "$MODEL" <<'PY'
import json, os, sys, torch
sys.path.insert(0, "scripts/fixtures")
import fixtures_single_file as sf
from diffusers import AutoencoderKL, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel
torch.manual_seed(0)
cfg = "perf/configs/sd15"
unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(os.path.join(cfg, "unet")))
vae = AutoencoderKL.from_config(AutoencoderKL.load_config(os.path.join(cfg, "vae")))
te = CLIPTextModel(CLIPTextConfig.from_pretrained(os.path.join(cfg, "text_encoder")))
sd = sf.to_single_file(te, unet, vae)
sf.save_file({k: v.to(torch.float16).contiguous() for k, v in sd.items()}, sys.argv[1])
print("wrote", sys.argv[1], os.path.getsize(sys.argv[1]), "bytes")
PY
fi

FOLDER=$WORK/folder
LORA=$WORK/lora.safetensors
[ -d "$FOLDER" ] || "$T2I" convert "$MODEL" "$FOLDER" --tokenizer "$TOKENIZER"
"$PYTHON" - "$FOLDER" "$LORA" <<'PY'
import re, sys, torch
from diffusers import UNet2DConditionModel
from safetensors.torch import save_file
unet = UNet2DConditionModel.from_pretrained(sys.argv[1], subfolder="unet")
g, out = torch.Generator().manual_seed(1), {}
for name, w in unet.state_dict().items():
    if not re.search(r"\.attn[12]\.(to_q|to_k|to_v|to_out\.0)\.weight$", name):
        continue
    key = "lora_unet_" + name[: -len(".weight")].replace(".", "_")
    out[key + ".lora_down.weight"] = torch.randn((8, w.shape[1]), generator=g) * 0.01
    out[key + ".lora_up.weight"] = torch.randn((w.shape[0], 8), generator=g) * 0.01
    out[key + ".alpha"] = torch.tensor(8.0)
save_file(out, sys.argv[2])
PY

cat > "$WORK/diffusers_run.py" <<'PY'
import sys, torch
from diffusers import StableDiffusionPipeline
model, folder, lora = sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None
pipe = StableDiffusionPipeline.from_single_file(model, config=folder, local_files_only=True, safety_checker=None,
                                                feature_extractor=None, torch_dtype=torch.float32)
if lora:
    pipe.load_lora_weights(lora)
    pipe.fuse_lora()
pipe.set_progress_bar_config(disable=True)
pipe("x", num_inference_steps=1, height=64, width=64, generator=torch.Generator().manual_seed(1))
PY

run_timed() {   # tag cmd... -> prints seconds
    local tag=$1; shift
    if [ -n "${TIMER:-}" ]; then
        local t0 t1
        t0=$(date +%s.%N)
        $TIMER -- "$@" >>"$WORK/timer-$tag.txt" 2>&1
        t1=$(date +%s.%N)
        echo "$t1 - $t0" | bc
    else
        /usr/bin/time -f %e -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/err-$tag.txt" || {
            echo "failed: $*" >&2; cat "$WORK/err-$tag.txt" >&2; exit 1; }
        cat "$WORK/time.txt"
    fi
}

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

T2I_ARGS=(-m "$MODEL" --tokenizer "$TOKENIZER" -p x --steps 1 -W 64 -H 64 -s 1 -o "$WORK/out.png" -q)
PY_ARGS=("$PYTHON" "$WORK/diffusers_run.py" "$MODEL" "$FOLDER")
declare -A T
for row in load lora; do
    extra_t=() extra_p=()
    if [ $row = lora ]; then extra_t=(--lora "$LORA:1.0"); extra_p=("$LORA"); fi
    run_timed warm "$T2I" "${T2I_ARGS[@]}" "${extra_t[@]}" >/dev/null
    run_timed warm "${PY_ARGS[@]}" "${extra_p[@]}" >/dev/null
    : >"$WORK/$row-t2i.txt"; : >"$WORK/$row-dif.txt"
    for _ in $(seq "$RUNS"); do
        run_timed "$row-t2i" "$T2I" "${T2I_ARGS[@]}" "${extra_t[@]}" >>"$WORK/$row-t2i.txt"
        run_timed "$row-dif" "${PY_ARGS[@]}" "${extra_p[@]}" >>"$WORK/$row-dif.txt"
    done
    T[$row-t2i]=$(median <"$WORK/$row-t2i.txt")
    T[$row-dif]=$(median <"$WORK/$row-dif.txt")
done

bytes=$(stat -c %s "$MODEL")
printf '\nsingle file %s (%s bytes), %s runs each after a warm-up, medians of whole-process wall seconds\n' \
    "$MODEL" "$bytes" "$RUNS"
printf '%-34s %10s %10s %8s\n' "" t2i diffusers ratio
printf '%-34s %10.3f %10.3f %8.2f\n' "load + one 64x64 step" "${T[load-t2i]}" "${T[load-dif]}" \
    "$(echo "${T[load-t2i]} / ${T[load-dif]}" | bc -l)"
printf '%-34s %10.3f %10.3f %8.2f\n' "load + LoRA + one 64x64 step" "${T[lora-t2i]}" "${T[lora-dif]}" \
    "$(echo "${T[lora-t2i]} / ${T[lora-dif]}" | bc -l)"
printf '%-34s %10.3f %10.3f\n' "LoRA switch (difference)" "$(echo "${T[lora-t2i]} - ${T[load-t2i]}" | bc -l)" \
    "$(echo "${T[lora-dif]} - ${T[load-dif]}" | bc -l)"
echo "(work files in $WORK)"
