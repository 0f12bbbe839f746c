#!/usr/bin/env bash
# Mutation testing with mutmut over the given package files (default: language/resolve.py and
# language/scaling.py), running only the fast tests that exercise them. Never part of pytest.
#
#   bash scripts/mutation.sh [FILE ...]        e.g. archcompiler/ir/ops.py archcompiler/blocks/*.py
#   TESTS="tests/test_x.py ..." bash scripts/mutation.sh FILE   to choose the tests
#
# It works in a copy of the checkout (under .cache/mutation), so the working tree is never
# mutated, and prints mutmut's results: every surviving mutant with its id; `mutmut show ID`
# in that folder shows its diff. Install mutmut first: .venv/bin/pip install mutmut==3.8.1.
# docs/testing.md has the score and the survivors judged equivalent.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FILES=("$@")
[ ${#FILES[@]} -gt 0 ] || FILES=(archcompiler/language/resolve.py archcompiler/language/scaling.py)
# The fast tests that reach the spec language, the lowering, the ops and the blocks, with the
# outside references (the torchvision/timm table, the zoo's published counts).
TESTS=${TESTS:-"tests/analysis/test_analysis.py tests/analysis/test_families.py tests/language/test_variants.py
  tests/language/test_overrides.py tests/language/test_schema.py tests/language/test_loader.py tests/language/test_sources.py
  tests/analysis/test_outside_reference.py tests/language/test_rough_edges.py tests/analysis/test_rules.py
  tests/project/test_rules_catalogue.py"}
# Tests that run torch are left out: mutmut forks each worker from a process that ran the
# tests, and a fork after torch ran deadlocks (mutmut's forkserver isolation avoids that, but
# re-imports torch per mutant, which turns mutants into timeouts). None of them pins a count.
DESELECT=${DESELECT:-"not state_dict and not drop_path_is_a_no_op_in_eval and not build_and_render_take_overrides and not ARC501 and not ARC502 and not rules_md_is_current"}
WORK=$ROOT/.cache/mutation
rm -rf "$WORK"
mkdir -p "$WORK"
# A copy of the working tree, without the venvs and caches.
git ls-files -z --cached --others --exclude-standard | (cd "$ROOT" && xargs -0 cp --parents -t "$WORK")
cd "$WORK"
only=$(printf '    %s\n' "${FILES[@]}")
tests=$(for t in $TESTS; do printf '    %s\n' "$t"; done)
cat > setup.cfg <<EOF
[mutmut]
source_paths = archcompiler
only_mutate =
$only
pytest_add_cli_args_test_selection =
$tests
pytest_add_cli_args =
    -p
    no:cacheprovider
    -x
    -q
    -k
    $DESELECT
timeout_multiplier = 3.0
timeout_constant = 5.0
also_copy =
    archcompiler/specs
    archcompiler/schema
    docs
    scripts
    benchmarks
    examples
EOF
# The zoo and the schema are package data under archcompiler/; inside mutants/ they are found the
# same way, through the editable install's mapping.
OMP_NUM_THREADS=1 "$ROOT/.venv/bin/mutmut" run --max-children "${JOBS:-2}" || true
"$ROOT/.venv/bin/mutmut" results --all true 2>/dev/null | tee "$WORK/results.txt" | tail -60 || \
  "$ROOT/.venv/bin/mutmut" results | tee "$WORK/results.txt" | tail -60
