#!/usr/bin/env bash
# scripts/run-tests.sh — builds everything and runs every test, from a fresh
# machine: the system packages and the venv (setup.sh), the release build
# (CUDA too where nvcc exists; GPU tests skip themselves without a GPU) and
# its CTest suite (the Java and C# bindings' tests and samples included),
# the same suite under ASan + UBSan (without those), the threaded tests
# under ThreadSanitizer (the tsan preset: store, collect, HTTP teacher,
# thread team, fused MLP; no OpenMP, no CUDA), the libFuzzer targets
# (run-fuzz.sh, DISTILL_FUZZ_SECONDS each), and the Python package
# (pip install . into .venv, then pytest over tests/python). Every suite runs
# even after one fails; the last line is the summary and the exit code is
# non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/setup.sh

passed=()
failed=()

# run_suite NAME COMMAND...: runs one suite, records its outcome.
run_suite() {
    local name=$1
    shift
    printf '\n=== %s\n' "$name"
    if "$@"; then
        passed+=("$name")
    else
        failed+=("$name")
        printf '=== %s FAILED\n' "$name" >&2
    fi
}

preset_suite() {
    local preset=$1
    cmake --preset "$preset" && cmake --build --preset "$preset" && ctest --preset "$preset"
}

python_suite() {
    # Builds and installs the package from the working tree into .venv (the
    # build tree under build/python/ is kept, so a rebuild is incremental),
    # then runs pytest over tests/python against the installed package.
    .venv/bin/python -m pip install -q --no-build-isolation --no-deps . || return 1
    .venv/bin/python -m pytest -q tests/python
}

run_suite "release (ctest)" preset_suite release
run_suite "sanitize (ctest, ASan + UBSan)" preset_suite sanitize
run_suite "tsan (ctest, ThreadSanitizer)" preset_suite tsan
run_suite "fuzz (libFuzzer, ASan + UBSan)" scripts/run-fuzz.sh
if compgen -G 'tests/python/test_*.py' >/dev/null || compgen -G 'tests/python/*_test.py' >/dev/null; then
    run_suite "python (pytest)" python_suite
fi

printf '\nsuites passed: %s\n' "${passed[*]:-none}"
if ((${#failed[@]})); then
    printf 'suites FAILED: %s\n' "${failed[*]}"
fi
printf 'run-tests: %d passed, %d failed\n' "${#passed[@]}" "${#failed[@]}"
((${#failed[@]} == 0))
