#!/usr/bin/env bash
# The dependency floors, tested: a venv (.venv-lowest) with every runtime dependency and every
# user-facing extra at the lowest version pyproject.toml allows (scripts/lowest_constraints.py),
# the pinned CPU torch, and the suite run there. Not part of CI's default run (it installs a
# second set of packages); run it when a bound changes.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${VENV:-.venv-lowest}
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip "setuptools>=77"
"$VENV/bin/python" -m pip install -q tomli 2>/dev/null || true
"$VENV/bin/python" scripts/lowest_constraints.py > "$VENV/lowest.txt"
cat constraints/torch-cpu.txt >> "$VENV/lowest.txt"
echo "floors: $(grep -v '^#' "$VENV/lowest.txt" | tr '\n' ' ')"
bash scripts/install_torch.sh "$VENV/bin/python"
"$VENV/bin/python" -m pip install -q -c "$VENV/lowest.txt" -e ".[render,watch,onnx,plot,completion,lsp,dev]"
"$VENV/bin/python" -m pip freeze | grep -i -E "^($(cut -d= -f1 "$VENV/lowest.txt" | grep -v '^#' | paste -sd'|'))=="
"$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
