#!/usr/bin/env bash
# The include rule of the source tree, checked (ctest "layers"; also runnable
# by hand from the repository root). Layers, bottom to top — a file may
# include its own folder, the public header t2i.h, and the layers below it:
#
#   base/                      status and errors, dtypes, strings, JSON
#   formats/ tokenizer/ graph/ file formats; text -> ids; the compute graph
#                              (siblings: each sees base/ only)
#   kernels/                   backends (sees graph/ for nodes and ops)
#   runtime/                   the engine: models, plans, samplers, pipelines
#   product/                   what users ask for: styles, expansion, infotext,
#                              image files, the public txt2img
#
# Programs sit on top: the CLI (tools/t2i.c), t2i-eval (tools/t2i_eval.c) and
# the server (server/) use the public API only (include/t2i.h plus their own folder). t2i-bench and
# t2i-plan are engine developers' tools and may include any layer.
set -euo pipefail
cd "$(dirname "$0")/.."

allowed() {   # folder -> the include prefixes it may use
    case "$1" in
    base) echo "base/" ;;
    formats) echo "base/ formats/" ;;
    tokenizer) echo "base/ tokenizer/" ;;
    graph) echo "base/ graph/" ;;
    kernels) echo "base/ graph/ kernels/" ;;
    runtime) echo "base/ formats/ tokenizer/ graph/ kernels/ runtime/" ;;
    product) echo "base/ formats/ tokenizer/ graph/ kernels/ runtime/ product/" ;;
    server) echo "server/" ;;
    cli) echo "" ;;
    esac
}

bad=0
check() {   # layer file
    local layer=$1 f=$2 inc ok p
    while IFS= read -r inc; do
        [ "$inc" = "t2i.h" ] && continue
        case "$inc" in */*) ;; *) continue ;; esac   # same-folder or system-style names
        ok=0
        for p in $(allowed "$layer"); do
            case "$inc" in "$p"*) ok=1 ;; esac
        done
        if [ $ok = 0 ]; then
            echo "layers: $f includes \"$inc\" (layer $layer may include: t2i.h $(allowed "$layer"))"
            bad=1
        fi
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
}

for layer in base formats tokenizer graph kernels runtime product server; do
    while IFS= read -r f; do check "$layer" "$f"; done < <(find "$layer" -type f \
        \( -name '*.c' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh' -o -name '*.cpp' -o -name '*.def' \))
done
check cli tools/t2i.c
check cli tools/t2i_eval.c
if [ $bad = 0 ]; then echo "layers: every include follows the layer rule"; fi
exit $bad
