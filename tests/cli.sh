#!/usr/bin/env bash
# The t2i CLI: bad arguments give one line on stderr and exit 2; a failing
# model exits 1; a good run writes a PNG whose "parameters" chunk carries the
# A1111 infotext; --dump-stages and --init-noise round-trip.
# usage: tests/cli.sh path/to/t2i   (run from the repository root)
set -u
t2i=$1
model=tests/fixtures/tiny-sd1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { # check NAME EXPECTED_RC [args...]
  local name=$1 want=$2; shift 2
  "$t2i" "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  local lines; lines=$(wc -l <"$tmp/err")
  if [ "$rc" = "$want" ] && { [ "$want" = 0 ] || [ "$lines" -ge 1 ]; }; then
    pass=$((pass+1))
  else
    fail=$((fail+1)); echo "FAIL $name: rc $rc (want $want): $(head -c 300 "$tmp/err")"
  fi
}
check "no prompt"          2 -m $model
check "unknown option"     2 -m $model -p x --bogus
check "steps 0"            2 -m $model -p x --steps 0
check "steps not a number" 2 -m $model -p x --steps ten
check "bad cfg"            2 -m $model -p x --cfg -3
check "bad sampler"        2 -m $model -p x --sampler dpm_fast
check "bad rng"            2 -m $model -p x --rng quantum
check "missing value"      2 -m $model -p
check "stray argument"     2 -m $model -p x extra
check "missing model"      1 -m "$tmp/none" -p x
check "size not /64"       1 -m $model -p x -W 72 -H 64 -q
check "help"               0 --help
check "bad clip skip"      2 -m $model -p x --clip-skip 0
check "bad schedule"       2 -m $model -p x --schedule quadratic
check "ddim + karras"      1 -m $model -p x --sampler ddim --schedule karras -q
check "clip skip too deep" 1 -m $model -p x --clip-skip 40 -q
check "heun, clip skip 2"  0 -m $model -p "a red circle" -s 7 --steps 3 --sampler Heun --clip-skip 2 --schedule karras -o "$tmp/h.png" -q
if grep -aq "Steps: 3, Sampler: Heun, CFG scale: 7.5, Seed: 7, Size: 64x64, Model: tiny-sd1, Schedule type: Karras, Clip skip: 2" "$tmp/h.png"; then
  pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL Heun / clip skip infotext not found in the PNG"; fi
check "lora"               0 -m $model -p "a red circle<lora:peft:0.8>" --lora-dir tests/fixtures/lora -s 7 --steps 2 \
  --lora tests/fixtures/lora/kohya.safetensors:0.5 -o "$tmp/l.png" -q
check "lora misfit"        1 -m $model -p x --steps 2 -q --lora tests/fixtures/lora/bad_shape.safetensors -o "$tmp/l.png"
check "generate"           0 -m $model -p "a red circle" -s 7 --steps 4 --sampler euler -o "$tmp/a.png" -q --dump-stages "$tmp/s.safetensors"
if grep -aq "Steps: 4, Sampler: Euler, CFG scale: 7.5, Seed: 7, Size: 64x64" "$tmp/a.png"; then
  pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL infotext not found in the PNG"; fi
# Feeding the dumped stages back as --init-noise reproduces every stage (with a
# deterministic sampler: Euler a would also draw step noise from the seed).
check "init noise"         0 -m $model -p "a red circle" -s 99 --steps 4 --sampler euler -o "$tmp/b.png" -q \
  --init-noise "$tmp/s.safetensors" --dump-stages "$tmp/s2.safetensors"
if cmp -s "$tmp/s.safetensors" "$tmp/s2.safetensors"; then
  pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL --init-noise did not reproduce the seeded run"; fi
check "batch"              0 -m $model -p x -s 1 --steps 2 -b 2 -o "$tmp/c.png" -q
if [ -f "$tmp/c-0.png" ] && [ -f "$tmp/c-1.png" ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL batch files"; fi
n=$("$t2i" --list-styles | wc -l)
if [ "$n" -ge 1000 ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL --list-styles printed $n lines"; fi
check "style by Chinese name" 0 -m $model -p "a cat" --style 赛博朋克 --style oil_painting:1.2 -s 3 --steps 2 -o "$tmp/d.png" -q
if grep -aq "neon" "$tmp/d.png"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL style text not in the infotext"; fi
check "unknown style"      1 -m $model -p "a cat" --style no_such_style -q -o "$tmp/e.png"
# The Chinese (BERT, Taiyi layout) and SDXL model folders through the CLI.
check "chinese model"      0 -m tests/fixtures/tiny-taiyi -p "一只红色的猫" -s 3 --steps 2 -o "$tmp/f.png" -q
if grep -aq "一只红色的猫" "$tmp/f.png"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL Chinese prompt not in the infotext"; fi
check "sdxl model"         0 -m tests/fixtures/tiny-sdxl -p "a (red:1.2) circle" -n "blurry" -s 3 --steps 2 -o "$tmp/g.png" -q
# Image editing: img2img, inpainting, outpainting, and their bad input.
ed=tests/fixtures/edit
check "img2img"            0 -m $model -p "a cat" -i $ed/init.png --strength 0.6 -s 5 --steps 4 -o "$tmp/h.png" -q
if grep -aq "Denoising strength: 0.6" "$tmp/h.png"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL img2img infotext"; fi
check "inpaint"            0 -m $model -p "a cat" -i $ed/init.png --mask $ed/mask.png --mask-blur 2 --inpaint-fill fill \
  --inpaint-only-masked=8 --invert-mask -s 5 --steps 4 -o "$tmp/i.png" -q
check "outpaint"           0 -m $model -p "a cat" -i $ed/exif6.jpg --outpaint left=11,bottom=11 --strength 1 -s 5 --steps 2 -o "$tmp/j.png" -q
check "inpaint model"      0 -m tests/fixtures/tiny-sd1-inpaint -p "a cat" -i $ed/init.png --mask $ed/mask.png -s 5 --steps 4 -o "$tmp/k.png" -q
check "instruct model"     0 -m tests/fixtures/tiny-sd1-pix2pix -p "make it blue" -i $ed/init.png --image-cfg 1.2 -s 5 --steps 2 -o "$tmp/l.png" -q
check "strength > 1"       2 -m $model -p x -i $ed/init.png --strength 1.5
check "bad outpaint"       2 -m $model -p x -i $ed/init.png --outpaint middle=3
check "bad fill"           2 -m $model -p x -i $ed/init.png --mask $ed/mask.png --inpaint-fill sand
check "mask, no image"     2 -m $model -p x --mask $ed/mask.png
check "not an image"       1 -m $model -p x -i tests/cli.sh -q
check "mask size differs"  1 -m $model -p x -i $ed/init.png --mask $ed/resize_src.png -q
# Single-file checkpoints: generate, --vae, convert to a folder and back.
sf=tests/fixtures/formats/tiny-sd15.safetensors
check "single file"        0 -m $sf --tokenizer tests/fixtures/tiny-sd1/tokenizer -p "a red circle" -s 3 --steps 2 -W 64 -H 64 -o "$tmp/sf1.png" -q \
  --vae tests/fixtures/formats/tiny-sd15-vae.safetensors --prediction epsilon
check "bad --prediction"   2 -m $sf -p x --prediction x0
check "convert"            0 convert $sf "$tmp/sd15" --tokenizer tests/fixtures/tiny-sd1/tokenizer
check "converted folder"   0 -m "$tmp/sd15" -p "a red circle" -s 3 --steps 2 -W 64 -H 64 -o "$tmp/sf2.png" -q
check "convert back"       0 convert "$tmp/sd15" "$tmp/back.safetensors"
check "convert exists"     1 convert $sf "$tmp/sd15"
check "convert one arg"    2 convert $sf
printf 'PK\003\004' > "$tmp/m.ckpt"
check "pickle refused"     1 -m "$tmp/m.ckpt" -p x -q
# Best-of-n with a scorer: the kept image's infotext carries its scores.
check "best-of"            0 -m $model -p "a red circle" -s 3 --steps 2 -W 64 -H 64 --best-of 3 --keep 2 \
  --scorer tests/fixtures/tiny-clip -o "$tmp/best.png" -q
if grep -aq "Rank score: " "$tmp/best.png"; then pass=$((pass + 1)); else echo "FAIL best-of: no scores in the infotext"; fail=$((fail + 1)); fi
# Best-of-n of an edit: candidates of img2img from the same init image.
check "best-of img2img"    0 -m $model -p "a red circle" -s 3 --steps 2 -i "$tmp/a.png" --strength 0.5 --best-of 2 \
  --scorer tests/fixtures/tiny-clip -o "$tmp/best_edit.png" -q
if grep -aq "Rank score: " "$tmp/best_edit.png" && grep -aq "Denoising strength: 0.5" "$tmp/best_edit.png"; then
  pass=$((pass + 1)); else echo "FAIL best-of img2img: no scores or no edit in the infotext"; fail=$((fail + 1)); fi
check "best-of no scorer"  2 -m $model -p x --best-of 3
check "keep over best-of"  2 -m $model -p x --best-of 2 --keep 3 --scorer tests/fixtures/tiny-clip
# --upscale with a Stable Diffusion x4 upscaler folder: 64x64 -> 256x256
check "upscale scale 2"    2 -m $model -p x --upscale tests/fixtures/tiny-x4:2
check "upscale not x4"     1 -m $model -p x --steps 2 --upscale tests/fixtures/tiny-sd2:4 -o "$tmp/nx4.png" -q
check "upscale x4"         0 -m $model -p "a red circle" -s 5 --steps 2 --upscale tests/fixtures/tiny-x4:4 --upscale-noise 30 -o "$tmp/x4.png" -q
if [ "$(od -An -tx1 -j16 -N8 "$tmp/x4.png" 2>/dev/null | tr -d ' \n')" = "0000010000000100" ] && grep -aq "Noise level: 30" "$tmp/x4.png"; then
  pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL --upscale: not a 256x256 PNG with the noise level in its infotext"; fi
# --vae-tiling: a tiled decode runs; a tile not above the overlap or off the VAE grid is refused
check "vae tiling"         0 -m $model -p "a red circle" -s 5 --steps 2 --vae-tiling=32 --vae-tile-overlap 16 -o "$tmp/vt.png" -q
check "tile <= overlap"    1 -m $model -p x --steps 2 --vae-tiling=64 --vae-tile-overlap 64 -o "$tmp/vt2.png" -q
check "tile off the grid"  1 -m $model -p x --steps 2 --vae-tiling=36 --vae-tile-overlap 8 -o "$tmp/vt3.png" -q
check "bad max memory"     2 -m $model -p x --max-memory lots
check "max memory too low" 1 -m $model -p x --steps 2 --max-memory 1000 -o "$tmp/vt4.png" -q
# upscaling (tests/fixtures/esrgan: small random RRDBNets)
esr=tests/fixtures/esrgan
check "upscale x4 to x2"   0 upscale "$tmp/a.png" -o "$tmp/u.png" --upscale $esr/x4:2
if [ "$(od -An -tu1 -j16 -N8 "$tmp/u.png" | tr -s ' ')" = " 0 0 0 128 0 0 0 128" ] && grep -aq "Seed: 7" "$tmp/u.png"; then
  pass=$((pass + 1)); else echo "FAIL upscale: not 128x128 or infotext lost"; fail=$((fail + 1)); fi
check "upscale over scale" 2 upscale "$tmp/a.png" -o "$tmp/u.png" --upscale $esr/x2:4
check "upscale bad file"   1 upscale "$tmp/a.png" -o "$tmp/u.png" --upscale $esr/bad_shape.safetensors
check "upscale no output"  2 upscale "$tmp/a.png" --upscale $esr/x2
check "upscale bad tile"   2 upscale "$tmp/a.png" -o "$tmp/u.png" --upscale $esr/x2 --upscale-tile -4
check "generate+upscale"   0 -m $model -p "a red circle" -s 7 --steps 2 -o "$tmp/g.png" -q --upscale $esr/x2 --upscale-tile 16
check "hires fix"          0 -m $model -p "a red circle" -s 3 --steps 2 --hires 2 --hires-steps 2 --hires-strength 0.5 \
  --hires-upscaler $esr/x2 -o "$tmp/hr.png" -q
if [ "$(od -An -tu1 -j16 -N8 "$tmp/hr.png" | tr -s ' ')" = " 0 0 0 128 0 0 0 128" ] && grep -aq "Hires upscale: 2, Hires steps: 2" "$tmp/hr.png"; then
  pass=$((pass + 1)); else echo "FAIL hires: not 128x128 or no hires infotext"; fail=$((fail + 1)); fi
check "hires bad scale"    2 -m $model -p x --hires 9
check "hires bad strength" 2 -m $model -p x --hires 2 --hires-strength 1.5
check "hires with -i"      2 -m $model -p x --hires 2 -i "$tmp/a.png"
# The default model ships its scorer (models/default/scorer): --best-of needs no --scorer.
if [ -f models/default/scorer/config.json ]; then
  check "best-of default"    0 -m models/default -p "a red circle on a blue background" -s 3 --steps 2 --best-of 2 \
    -o "$tmp/best_default.png" -q
  if grep -aq "Rank score: " "$tmp/best_default.png"; then pass=$((pass + 1)); else echo "FAIL best-of default: no scores"; fail=$((fail + 1)); fi
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
