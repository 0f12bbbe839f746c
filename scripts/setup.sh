#!/usr/bin/env bash
# Set up a development environment on a fresh machine: a venv with the pinned CPU build of torch,
# the package with its dev tools, graphviz's `dot` binary and Chromium (for the page tests). Safe
# to run again; it skips what is already there.
#   PYTHON=python3.12 bash scripts/setup.sh   # another interpreter (see the README's table)
#   VENV=.venv-312 bash scripts/setup.sh      # another venv folder
#   TORCH_VARIANT=cu128 bash scripts/setup.sh # a CUDA build of the same torch, from its index
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip "setuptools>=77"
# The CPU build of the pinned torch: `+cpu` is a version only PyTorch's CPU index (or a local copy
# of its wheel) has, so pip can never fall back to PyPI's CUDA build of the same version.
CONSTRAINTS=constraints/torch-cpu.txt
if [ "${TORCH_VARIANT:-cpu}" = cpu ]; then
  bash scripts/install_torch.sh "$VENV/bin/python"
else  # the same version built for CUDA, held by a pin of its own
  CONSTRAINTS=$(mktemp)
  bash scripts/install_torch.sh "$VENV/bin/python" "$CONSTRAINTS"
fi
# Every later call holds the pin: a dependency asking for another torch fails instead of
# replacing the CPU build.
"$VENV/bin/python" -m pip install -q -c "$CONSTRAINTS" -e ".[dev]"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
if ! command -v dot >/dev/null 2>&1; then
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
fi
# The page tests drive Debian's Chromium with Playwright (from the dev extra). Never
# `playwright install`: the browser is the system one.
if [ ! -x /usr/bin/chromium ]; then
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
