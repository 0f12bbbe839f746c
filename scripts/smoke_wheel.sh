#!/usr/bin/env bash
# What a user installs, tested outside the checkout: build the sdist and the wheel, check that the
# wheel holds every tracked file of the package, install it with the CPU torch into a fresh venv in
# a temporary folder, and run the main commands there. Then check that the installed package is
# typed for a user's `mypy --strict`, and that the sdist's own tests run from the unpacked sdist.
# Needs the dev venv (scripts/setup.sh) for `build` and mypy.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
DEV=$REPO/.venv/bin/python
TMP=$(mktemp -d "${TMPDIR:-/tmp}/archc-smoke.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
say() { printf '== %s\n' "$*"; }

say "build the sdist and the wheel"
"$DEV" -m build -q --outdir "$TMP/dist" . >/dev/null
WHEEL=$(ls "$TMP"/dist/archcompiler-*.whl)
SDIST=$(ls "$TMP"/dist/archcompiler-*.tar.gz)
"$DEV" -m tests.support.dist "$WHEEL" "$SDIST"

say "install the wheel into a fresh venv outside the checkout"
PY=${PYTHON:-python3}
"$PY" -m venv "$TMP/venv"
V=$TMP/venv/bin
"$V/python" -m pip install -q --upgrade pip
bash scripts/install_torch.sh "$V/python"
"$V/python" -m pip install -q -c constraints/torch-cpu.txt "$WHEEL[render]"

cd "$TMP"
say "archc, run in $TMP"
"$V/archc" --version
"$V/archc" list | head -3
"$V/archc" validate resnet50
"$V/archc" summary resnet50 --json > summary.json
"$V/python" -c "import json; d = json.load(open('summary.json')); assert d['params'] == 25557032, d['params']"
"$V/archc" build resnet18 -o resnet18.pt 2> build.err
if grep -i "warning" build.err; then echo "archc build printed a warning" >&2; exit 1; fi
"$V/archc" render resnet18 -o resnet18.svg
test -s resnet18.svg && test -s resnet18.pt
"$V/python" - <<'PY'
"""The installed zoo's modelines point at the installed schema; the package is importable."""
import re
from pathlib import Path
import archcompiler
root = Path(archcompiler.__file__).parent
assert (root / "py.typed").is_file()
specs = sorted((root / "specs").rglob("*.yaml"))
assert len(specs) > 40, len(specs)
for spec in specs:
    match = re.search(r"\$schema=(\S+)", spec.read_text(encoding="utf-8"))
    if match:
        assert (spec.parent / match.group(1)).resolve().is_file(), (spec, match.group(1))
print(f"ok: {len(specs)} installed specs, every $schema modeline resolves")
PY

say "python -m archcompiler from the repository root, with the wheel installed"
(cd "$REPO" && "$V/python" -m archcompiler validate resnet50)

say "a user's mypy --strict sees the package's types (py.typed)"
cat > user.py <<'PY'
import archcompiler

report: archcompiler.Report = archcompiler.analyze("resnet18")
params: int = report.params
PY
"$REPO/.venv/bin/mypy" --strict --no-incremental --python-executable "$V/python" user.py
echo 'bad: str = archcompiler.analyze("resnet18")' >> user.py
if "$REPO/.venv/bin/mypy" --strict --no-incremental --python-executable "$V/python" user.py >/dev/null; then
  echo "mypy accepted a wrong type: the package's types are not seen" >&2; exit 1
fi
echo "ok: mypy --strict checks a user's calls against the installed package"

say "the sdist's tests run from the unpacked sdist"
mkdir sdist && tar -xzf "$SDIST" -C sdist
cd sdist/archcompiler-*
"$V/python" -m pip install -q -c "$REPO/constraints/torch-cpu.txt" pytest hypothesis jsonschema
"$V/python" -m pytest -q -p no:cacheprovider tests/language/test_schema.py tests/project/test_packaging.py tests/analysis/test_analysis.py
say "smoke test passed"
