#!/usr/bin/env bash
# The whole check, as CI runs it (.ci/run, the README's second command, after scripts/setup.sh):
# lint, strict types, the tests, the comparisons with torchvision and timm in their own venv, and
# the built wheel installed and smoke-tested outside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== ruff"; .venv/bin/ruff check .
echo "== mypy --strict"; .venv/bin/mypy
echo "== pytest"; .venv/bin/python -m pytest -q
echo "== torchvision and timm"; bash scripts/test_ref.sh
echo "== the wheel, outside the checkout"; bash scripts/smoke_wheel.sh
