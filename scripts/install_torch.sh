#!/usr/bin/env bash
# Install the pinned torch into a venv's Python, unless that exact version is there already:
#   bash scripts/install_torch.sh VENV/bin/python [CONSTRAINTS_OUT]
# The pin is constraints/torch-cpu.txt (torch==X+cpu). TORCH_VARIANT=cu128 takes the same version
# built for CUDA from its index instead; then CONSTRAINTS_OUT (if given) receives that pin, for
# the caller's later pip calls. A local wheel (pip's find-links) is tried first, then the index.
# Exit 1 when neither has it (another Python, no network).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$1
VERSION=$(sed -n 's/^torch==\([0-9.]*\)+cpu$/\1/p' constraints/torch-cpu.txt)
VARIANT=${TORCH_VARIANT:-cpu}
TORCH="torch==$VERSION+$VARIANT"
INDEX=${TORCH_INDEX_URL:-https://download.pytorch.org/whl/$VARIANT}
[ -z "${2:-}" ] || echo "$TORCH" > "$2"
"$PY" -c "import sys, torch; sys.exit(torch.__version__ != '$VERSION+$VARIANT')" 2>/dev/null && exit 0
"$PY" -m pip install -q "$TORCH" 2>/dev/null \
  || "$PY" -m pip install -q --index-url "$INDEX" --extra-index-url https://pypi.org/simple "$TORCH"
