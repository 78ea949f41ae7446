#!/usr/bin/env bash
# Install what building and testing t2i needs on Debian/Ubuntu: a C compiler,
# CMake, and the Debian libraries the engine uses (cJSON, libpng, libjpeg-turbo, OpenBLAS,
# libmicrohttpd, SQLite). The CUDA toolkit is optional: with nvcc on the
# machine (or /usr/local/cuda) the CUDA backend is built as well.
# With --test it also installs what the test suite drives: Chromium (the
# server's web page test) and python3-venv (the server's client tests make a
# venv for the webuiapi and openai packages from PyPI), clang and its runtime
# libraries (libclang-rt-14-dev: ASan, UBSan, libFuzzer) for the sanitizer
# build and the fuzz step.
# Runs apt-get only when something is missing; needs root (or sudo) then.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libcjson-dev libpng-dev libjpeg62-turbo-dev libopenblas-dev
      libmicrohttpd-dev libsqlite3-dev)
if [ "${1:-}" = "--test" ]; then pkgs+=(chromium python3-venv clang libclang-rt-14-dev); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
