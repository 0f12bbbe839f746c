#!/usr/bin/env bash
# The comparisons with torchvision and timm, in the comparison venv (.venv-ref: torch 2.14.1,
# torchvision 0.29.1, timm, this package installed without its own torch): the torchvision- and
# timm-marked tests (bitwise equal outputs after loading their weights, the families' counts),
# the inductor test, and a live re-measurement of tests/data/outside_reference.json.
# What it adds to CI is the figure tests.ref_step of benchmarks/results.json.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_ref.sh
PY=.venv-ref/bin/python
# Every torchvision-marked test, wherever it lives (the marker selects; the rest is deselected).
"$PY" -m pytest -q -p no:cacheprovider -m torchvision tests
ARCHC_TEST_INDUCTOR=1 "$PY" -m pytest -q -p no:cacheprovider tests/backends/pytorch/test_torch_backend.py -k inductor
"$PY" scripts/outside_reference.py --check 2>/dev/null
