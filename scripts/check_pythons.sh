#!/usr/bin/env bash
# Each supported Python in a clean venv: install the package with every extra (and the dev tools),
# run the main commands that need no torch, then the tests. Where no CPU build of torch can be had
# for an interpreter (on this project's build machines only Python 3.11's lies on disk, and
# PyTorch's CPU index is out of reach), the torch tests skip and the script says so.
#   bash scripts/check_pythons.sh               # 3.10 3.11 3.12 3.13
#   bash scripts/check_pythons.sh 3.12          # one of them
#   FAST=1 bash scripts/check_pythons.sh        # the fast lane only (-m "not slow")
set -uo pipefail
cd "$(dirname "$0")/.."
VERSIONS=${*:-3.10 3.11 3.12 3.13}
ROOT=$PWD
status=0
for v in $VERSIONS; do
  # pythonX.Y on PATH, or a pyenv install of it (pyenv's shims answer only for the active one).
  PY=""
  for cand in "python$v" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/"python$v"; do
    "$cand" -V >/dev/null 2>&1 && { PY=$cand; break; }
  done
  [ -n "$PY" ] || { echo "== $v: no python$v found: not checked"; status=1; continue; }
  VENV=$(mktemp -d "${TMPDIR:-/tmp}/archc-py$v.XXXXXX")
  echo "== Python $v ($("$PY" -V 2>&1)) in $VENV"
  "$PY" -m venv "$VENV" && "$VENV/bin/python" -m pip install -q --upgrade pip "setuptools>=77" || { status=1; continue; }
  if bash scripts/install_torch.sh "$VENV/bin/python" 2>/dev/null; then
    echo "   torch: installed"
  else
    echo "   torch: no CPU torch for Python $v from this machine: the torch tests skip"
  fi
  "$VENV/bin/python" -m pip install -q -c constraints/torch-cpu.txt \
      -e ".[render,watch,onnx,plot,completion,lsp,dev]" 2> >(grep -v "^WARNING: Location" >&2) || { echo "   install FAILED"; status=1; continue; }
  "$VENV/bin/archc" validate resnet50 && "$VENV/bin/archc" summary resnet50 --depth stage >/dev/null \
    && "$VENV/bin/archc" render resnet50 -o "$VENV/resnet50.svg" >/dev/null || { echo "   main commands FAILED"; status=1; }
  LANE=(); [ -n "${FAST:-}" ] && LANE=(-m "not slow")
  "$VENV/bin/python" -m pytest -q -p no:cacheprovider "${LANE[@]}" 2>&1 | grep -E "^(FAILED|ERROR)|passed|failed"
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
  # The editable install points at this checkout; leave it pointing at the main venv's again.
  rm -rf "$VENV"
done
exit $status
