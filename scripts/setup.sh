#!/usr/bin/env bash
# Set up a development environment on a fresh machine: a venv with pinned torch, the package with
# its dev tools, graphviz's `dot` binary and Chromium (for the page tests). Safe to run again; it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip "setuptools>=77"
# Pinned on purpose: an unpinned torch would resolve to a multi-GB CUDA build.
.venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -e ".[dev]"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
if ! command -v dot >/dev/null 2>&1; then
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
fi
# The page tests drive Debian's Chromium with Playwright (from the dev extra). Never
# `playwright install`: the browser is the system one.
if [ ! -x /usr/bin/chromium ]; then
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
