#!/usr/bin/env bash
# The names the static library defines for its users (ctest "exports"; also
# runnable by hand: tools/check_exports.sh build/libt2i.a). A program that
# links libt2i.a shares one global namespace with it, so every global
# symbol carries a prefix:
#
#   t2i_    the library (public API and internal helpers alike)
#   cpu_    the CPU backend's kernels and thread pool (kernels/cpu/)
#   cuda_   the CUDA backend's kernels (kernels/cuda/, CUDA builds)
#
# Checked: the strong definitions (nm types T D B R G S C). Not checked: weak
# ones (V, W: C++ template instances, header-only NVTX, the EH personality
# reference), C++ mangled names (_Z..., from the CUDA translation units:
# they cannot collide with C names) and names reserved to the
# implementation (__..., _X...), which the compilers emit.
set -euo pipefail
lib="${1:?usage: check_exports.sh libt2i.a}"
bad=$(nm -g --defined-only "$lib" 2>/dev/null | awk 'NF == 3 && $2 ~ /^[TDBRGSC]$/ { print $3 }' |
      grep -Ev '^(t2i_|cpu_|cuda_|_Z|__|_[A-Z])' | sort -u || true)
if [ -n "$bad" ]; then
    echo "$lib defines global symbols without the t2i_/cpu_/cuda_ prefix:" >&2
    echo "$bad" | sed 's/^/  /' >&2
    echo "make them static, or give them the prefix of their layer" >&2
    exit 1
fi
echo "exports ok: every global symbol of $lib has a prefix"
