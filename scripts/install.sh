#!/usr/bin/env bash
# Set up a fresh machine: a virtual environment in .venv with edge-distill and every extra.
# torch==2.13.0 goes first: that CPU build lies on this machine's disk, while an unpinned
# torch (asked for by an extra) would pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q torch==2.13.0
# peers (fastText, Model2Vec) for the report: checked with pip --dry-run to downgrade nothing in .[all]
.venv/bin/python -m pip install -q -e '.[all,peers]'
echo "edge-distill installed in .venv ($(.venv/bin/python -c 'import torch, onnxruntime; print("torch", torch.__version__, "onnxruntime", onnxruntime.__version__)'))"
