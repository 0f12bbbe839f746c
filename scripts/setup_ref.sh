#!/usr/bin/env bash
# Set up the comparison venv (.venv-ref): the pinned torch, torchvision and timm that the outside
# references come from, plus this package installed without letting pip touch torch. Safe to run
# again; it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv-ref/bin/python ] || "$PY" -m venv .venv-ref
.venv-ref/bin/python -m pip install -q --upgrade pip "setuptools>=77"
# Pinned on purpose: an unpinned torch would resolve to whatever the index holds newest.
.venv-ref/bin/python -c "import torch, torchvision, timm" 2>/dev/null \
  || .venv-ref/bin/python -m pip install -q -c constraints/ref.txt "torch==2.14.1" "torchvision==0.29.1" timm
# The package and its pure dependencies, never a second torch: the constraints hold the pins.
.venv-ref/bin/python -m pip install -q --no-deps -e .
.venv-ref/bin/python -m pip install -q -c constraints/ref.txt pydantic pyyaml jsonschema graphviz shtab \
  pytest hypothesis
