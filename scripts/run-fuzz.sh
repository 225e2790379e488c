#!/usr/bin/env bash
# scripts/run-fuzz.sh — builds the libFuzzer targets of tests/fuzz/ with clang
# (ASan + UBSan) in build/fuzz and runs each one for DISTILL_FUZZ_SECONDS
# seconds (default 20). A target is found by its seed corpus: every folder
# tests/fuzz/corpus/<name>/ runs build/fuzz/fuzz_<name>, with the dictionary
# tests/fuzz/<name>.dict when there is one. New inputs go to
# build/fuzz/corpus/<name>/ (the seeds in the tree are only read), crashing
# inputs to build/fuzz/artifacts/<name>/. One summary line per target; the
# exit code is non-zero when any target crashed or failed to build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=${DISTILL_FUZZ_SECONDS:-20}
build=build/fuzz
[[ "$seconds" =~ ^[0-9]+$ ]] || {
    echo "run-fuzz: DISTILL_FUZZ_SECONDS: expected a whole number of seconds, got '$seconds'" >&2
    exit 2
}

compiler=${DISTILL_FUZZ_CXX:-}
if [[ -z "$compiler" ]]; then
    for candidate in clang++ clang++-14; do
        if command -v "$candidate" >/dev/null; then
            compiler=$candidate
            break
        fi
    done
fi
[[ -n "$compiler" ]] || {
    echo "run-fuzz: expected clang++ (Debian clang-14, libclang-rt-14-dev; scripts/setup.sh installs them), found none" >&2
    exit 1
}

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S tests/fuzz -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER="$compiler" >"$build.configure.log" 2>&1 || {
    cat "$build.configure.log" >&2
    echo "run-fuzz: configuring tests/fuzz failed" >&2
    exit 1
}
cmake --build "$build" || {
    echo "run-fuzz: building the fuzz targets failed" >&2
    exit 1
}

failures=0
for seeds in tests/fuzz/corpus/*/; do
    name=$(basename "$seeds")
    target=fuzz_$name
    binary=$build/$target
    if [[ ! -x "$binary" ]]; then
        echo "run-fuzz: $target: no such target (tests/fuzz/CMakeLists.txt has no distill_add_fuzzer($name ...))"
        failures=$((failures + 1))
        continue
    fi
    corpus=$build/corpus/$name
    artifacts=$build/artifacts/$name
    log=$build/$target.log
    mkdir -p "$corpus" "$artifacts"
    options=(-max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
             -artifact_prefix="$artifacts/")
    [[ -f tests/fuzz/$name.dict ]] && options+=(-dict="tests/fuzz/$name.dict")
    if "$binary" "${options[@]}" "$corpus" "$seeds" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        inputs=$(find "$corpus" -type f | wc -l)
        echo "run-fuzz: $target: ok, ${runs:-?} inputs run in ${seconds} s, corpus of $inputs new inputs (log: $log)"
    else
        crash=$(ls -t "$artifacts" 2>/dev/null | head -n 1)
        [[ -n "$crash" ]] && crash=$artifacts/$crash || crash="none saved"
        echo "run-fuzz: $target: CRASH (input: $crash; log: $log)"
        grep -m 5 -E 'ERROR: |runtime error:|invariant broken|terminate called' "$log" | sed 's/^/    /' || true
        failures=$((failures + 1))
    fi
done
((failures == 0))
