#!/usr/bin/env bash
# Mutation testing with mutmut over the given package files (default: language/resolve.py and
# language/scaling.py), running only the fast tests that exercise them. Never part of pytest.
#
#   bash scripts/mutation.sh [FILE ...]        e.g. archcompiler/ir/ops.py archcompiler/blocks/*.py
#   TESTS="tests/test_x.py ..." bash scripts/mutation.sh FILE   to choose the tests
#   SAMPLE=150 SEED=23 bash scripts/mutation.sh FILE ...   a seeded random sample of at most 150
#       mutants per file instead of all of them (the score is then an estimate; say so)
#   WORK=.cache/mutation-ops bash scripts/mutation.sh ...      another work folder
#   KEEP=1 bash scripts/mutation.sh ...   reuse the work folder: mutmut resumes, keeping results
#   KEEP=1 NAMES="mod.x_f__mutmut_3 ..." bash scripts/mutation.sh ...   rerun those mutants only
#       (after adding tests: the tests are copied again and mutmut finds the new ones)
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
  tests/project/test_rules_catalogue.py tests/analysis/test_descendants.py
  tests/analysis/test_mutation_kills.py tests/analysis/test_explain.py tests/report/test_summary.py
  tests/corpus/test_fuzz.py::test_doubled_width_past_bound_is_a_diagnostic
  tests/corpus/test_fuzz.py::test_doubled_width_past_bound_cli"}
# Tests that run torch are left out: mutmut forks each worker from a process that ran the
# tests, and a fork after torch ran deadlocks (mutmut's forkserver isolation avoids that, but
# re-imports torch per mutant, which turns mutants into timeouts). None of them pins a count.
DESELECT=${DESELECT:-"not state_dict and not drop_path_is_a_no_op_in_eval and not build_and_render_take_overrides and not ARC501 and not ARC502 and not rules_md_is_current and not timm_convnext_layout"}
WORK=$(realpath -m "${WORK:-$ROOT/.cache/mutation}")
[ -n "${KEEP:-}" ] || rm -rf "$WORK"
mkdir -p "$WORK"
# A copy of the working tree, without the venvs and caches (with KEEP, the tests are refreshed).
git ls-files -z --cached --others --exclude-standard | (cd "$ROOT" && xargs -0 cp -f --parents -t "$WORK")
[ -z "${KEEP:-}" ] || [ ! -d "$WORK/mutants/tests" ] || cp -rf "$ROOT/tests/." "$WORK/mutants/tests/"
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
# The analysis memo (analysis/memo.py) lowers and shapes each distinct block once per process:
# with it on, mutmut's stats would credit a block's lowering only to the first test that
# reached it, and run too few tests per mutant.
export ARCHC_MEMO=0
MUTMUT=("$ROOT/.venv/bin/mutmut")
if [ -n "${NAMES:-}" ]; then
  # shellcheck disable=SC2086  # one word per mutant name
  OMP_NUM_THREADS=1 "${MUTMUT[@]}" run --max-children "${JOBS:-2}" $NAMES || true
elif [ -n "${SAMPLE:-}" ]; then
  # Generate the mutants and the test stats only (a name that matches nothing stops mutmut
  # there), then draw the sample per file with SEED and run those mutants by name.
  OMP_NUM_THREADS=1 "${MUTMUT[@]}" run --max-children 1 'no.such.mutant' >/dev/null 2>&1 || true
  "${MUTMUT[@]}" results --all true 2>/dev/null | sed 's/^ *//; s/: .*//' > all-mutants.txt
  python3 - "$SAMPLE" "${SEED:-23}" <<'PY' > sample.txt
import random, re, sys
size, seed = int(sys.argv[1]), int(sys.argv[2])
by_file: dict[str, list[str]] = {}
for name in open("all-mutants.txt").read().split():
    # module.x_function__mutmut_N or module.xǁClassǁmethod__mutmut_N
    by_file.setdefault(re.sub(r"\.x[_ǁ].*", "", name), []).append(name)
for module, names in sorted(by_file.items()):
    names = sorted(names)
    for name in sorted(random.Random(f"{seed}:{module}").sample(names, min(size, len(names)))):
        print(name)
PY
  echo "sample: $(wc -l < sample.txt) of $(wc -l < all-mutants.txt) mutants (seed ${SEED:-23})"
  # xargs would split a long list into several runs; one run per 200 names is fine.
  xargs -n 200 "${MUTMUT[@]}" run --max-children "${JOBS:-2}" < sample.txt || true
else
  OMP_NUM_THREADS=1 "${MUTMUT[@]}" run --max-children "${JOBS:-2}" || true
fi
"$ROOT/.venv/bin/mutmut" results --all true 2>/dev/null | tee "$WORK/results.txt" | tail -60 || \
  "$ROOT/.venv/bin/mutmut" results | tee "$WORK/results.txt" | tail -60
