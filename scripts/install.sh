#!/usr/bin/env bash
# Set up a fresh machine: a virtual environment in .venv with edge-distill and every extra.
# torch==2.13.0 goes first: that CPU build lies on this machine's disk, while an unpinned
# torch (asked for by an extra) would pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# every package at the version the README's numbers were measured with (scripts/constraints.txt)
.venv/bin/python -m pip install -q -c scripts/constraints.txt torch==2.13.0
# peers (fastText, Model2Vec) for the report: checked with pip --dry-run to downgrade nothing in .[all]
.venv/bin/python -m pip install -q -c scripts/constraints.txt -e '.[all,peers]'
# JavaScript clients (examples/node, examples/web) and the browser their tests drive: Debian's
# chromium (apt only when it is missing), node from apt only when missing, then npm ci where a
# package-lock.json is newer than the installed tree, and the WASM build copied next to the page.
if ! command -v chromium >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  pkgs="chromium chromium-driver"; command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs npm"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $pkgs >/dev/null
fi
for dir in examples/node examples/web; do
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  fi
done
node examples/web/vendor.js >/dev/null
echo "edge-distill installed in .venv ($(.venv/bin/python -c 'import torch, onnxruntime; print("torch", torch.__version__, "onnxruntime", onnxruntime.__version__)'))"
