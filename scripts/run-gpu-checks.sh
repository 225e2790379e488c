#!/usr/bin/env bash
# scripts/run-gpu-checks.sh — the device half of the GPU checks: runs what
# scripts/prepare-gpu-checks.sh gathered into build/gpu-bundle on the CPU
# machine, and builds nothing but the Python extension (for the device's
# own Python). Each step runs under its own `timeout`, inside one overall
# budget (default 480 s, so that the whole call ends well inside the device
# tool's 10 minutes); a step that no longer fits is reported as skipped.
#
# The session's call (after scripts/prepare-gpu-checks.sh, in the checkout
# that the device tool sends; the bundle must be no older than the tree):
#   run  command: scripts/run-gpu-checks.sh
#        carry:   ["build/gpu-bundle"]
#        timeout_s: 600
# What comes back under $OUT (the tool returns at most 8 files):
#   summary.txt          the table printed last
#   gpu-checks.log       every step's output, appended as it runs
#   logs.tar.gz          one log per step (written at the end)
#   kd-loss-bench.jsonl, student-step-bench.jsonl   the benchmarks' figures
#
# Steps: gpu (nvidia-smi), libraries (cuDNN, cuBLAS and the CUDA runtime
# found where the image keeps them: its Python's site-packages nvidia/*/lib,
# then /usr/local/cuda; every bundled program's ldd resolved), the CUDA test
# cases of distill_tests (C ABI) and distill_core_tests (student
# primitives; then the transformer's: lm primitives, device transformer,
# loss curve), the Python extension built with the device's python3 headers
# and tests/python/test_cuda.py against it, compute-sanitizer memcheck and
# racecheck over the kd-loss CUDA cases (memcheck over the student
# primitives, memcheck and racecheck over the lm primitives), then the
# kd-loss and student-step benchmarks with --quick.
# Without a GPU (a rehearsal on the CPU machine) the CUDA test cases report
# themselves skipped and the sanitizer and GPU benchmark steps are skipped.
#
# Usage: scripts/run-gpu-checks.sh [--bundle DIR] [--budget SECONDS]
# Environment: PYTHON (default python3), OUT (the log folder; default
# build/gpu-checks).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bundle=build/gpu-bundle
budget=480
while (($#)); do
    case $1 in
    --bundle) bundle=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    *) echo "usage: $0 [--bundle DIR] [--budget SECONDS]" >&2; exit 2 ;;
    esac
done
started=$SECONDS
python=${PYTHON:-python3}
bundle=$(cd "$bundle" 2>/dev/null && pwd) || {
    echo "run-gpu-checks: no bundle at $bundle: run scripts/prepare-gpu-checks.sh first and" \
        "carry build/gpu-bundle" >&2
    exit 2
}
# The bundle as carried: bundle.tar.gz, unpacked here into a temporary folder.
if [[ -f $bundle/bundle.tar.gz ]]; then
    unpacked=$(mktemp -d)
    tar -xzf "$bundle/bundle.tar.gz" -C "$unpacked" || { echo "run-gpu-checks: cannot unpack" \
        "$bundle/bundle.tar.gz" >&2; exit 2; }
    bundle=$unpacked
fi
out=${OUT:-build/gpu-checks}
mkdir -p "$out"
out=$(cd "$out" && pwd)
logs=$(mktemp -d)
work=$(mktemp -d)
combined=$out/gpu-checks.log
: >"$combined"
export bundle python logs work out
head -3 "$bundle/MANIFEST.txt" | tee -a "$combined"

names=() results=() times=() notes=()
record() {  # record NAME RESULT SECONDS NOTE
    names+=("$1") results+=("$2") times+=("$3") notes+=("$4")
}

# step NAME TIMEOUT NOTE_FN COMMAND...: runs COMMAND under `timeout`, within
# what is left of the budget; its output goes to $logs/NAME.log and the
# combined log, its last lines to stdout. NOTE_FN LOG RC prints the note.
step() {
    local name=$1 limit=$2 note_fn=$3
    shift 3
    local left=$((budget - (SECONDS - started) - 10))
    ((limit > left)) && limit=$left
    if ((limit < 15)); then
        record "$name" skipped 0 "out of the ${budget} s budget"
        return
    fi
    printf '\n=== %s (timeout %d s)\n' "$name" "$limit" | tee -a "$combined"
    local log=$logs/$name.log begin=$SECONDS rc
    # bash -c: a step may be one of this script's functions.
    export -f $(compgen -A function)
    timeout --kill-after=10 "$limit" bash -c '"$@"' step "$@" >"$log" 2>&1
    rc=$?
    cat "$log" >>"$combined"
    tail -n 12 "$log"
    local took=$((SECONDS - begin)) note
    note=$("$note_fn" "$log" "$rc")
    if ((rc == 124 || rc == 137)); then
        record "$name" TIMEOUT "$took" "killed after ${limit} s; ${note}"
    elif [[ $note == skipped:* ]]; then
        record "$name" skipped "$took" "${note#skipped: }"
    elif ((rc != 0)); then
        record "$name" FAILED "$took" "exit ${rc}; ${note}"
    else
        record "$name" passed "$took" "$note"
    fi
}

no_note() { :; }
# doctest's last summary lines, and how many cases said they were skipped.
doctest_note() {
    local cases skipped
    cases=$(grep -E '^\[doctest\] test cases:' "$1" | tail -1 | sed 's/\[doctest\] //; s/ *|/,/g')
    skipped=$(grep -c 'no CUDA device: skipped' "$1")
    if ((skipped > 0)); then
        echo "${cases:-no doctest summary}; ${skipped} cases skipped: no CUDA device"
    else
        echo "${cases:-no doctest summary}"
    fi
}
sanitizer_note() {
    if grep -qE 'Device not supported|Target application terminated before first instrumented' "$1"; then
        echo "skipped: compute-sanitizer could not instrument this device (see its log)"
        return
    fi
    local summary
    summary=$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$1" | tail -1 | sed 's/^=* *//')
    echo "${summary:-no sanitizer summary}; $(doctest_note "$1" "$2")"
}
pytest_note() {
    grep -qx 'skipped: .*' "$1" && { grep -x 'skipped: .*' "$1" | head -1; return; }
    grep -E '(passed|failed|skipped|error)' "$1" | tail -1
}
bench_note() { echo "$(grep -c '^{' "$1") JSON lines"; }

# ---- the GPU and the libraries ---------------------------------------------
have_gpu=0
gpu_info() {
    nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv
}
gpu_note() {
    if (($2 == 0)); then tail -1 "$1"; else echo "skipped: no GPU (nvidia-smi failed)"; fi
}
step gpu 30 gpu_note gpu_info
timeout 20 nvidia-smi -L >/dev/null 2>&1 && have_gpu=1

# The directories holding cuDNN, cuBLAS and the CUDA runtime: the pip wheels
# under the Python's site-packages (nvidia/cudnn/lib, nvidia/cublas/lib,
# nvidia/cu13/lib, ...), then the toolkit's own.
library_dirs=()
find_libraries() {
    local roots=() file dir
    mapfile -t roots < <("$python" -c 'import site, sys
print("\n".join(site.getsitepackages() + [site.getusersitepackages()]))' 2>/dev/null)
    roots+=(/usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/lib/x86_64-linux-gnu)
    for file in libcudnn.so.9 libcublas.so.13 libcublasLt.so.13 libcudart.so.13; do
        dir=""
        for root in "${roots[@]}"; do
            [[ -d $root ]] || continue
            dir=$(find "$root" -maxdepth 4 -name "$file" -printf '%h\n' 2>/dev/null | head -1)
            [[ -n $dir ]] && break
        done
        if [[ -n $dir ]]; then
            echo "$file: $dir"
            [[ " ${library_dirs[*]} " == *" $dir "* ]] || library_dirs+=("$dir")
        else
            echo "$file: NOT FOUND (searched ${roots[*]})"
        fi
    done
}
find_libraries >"$logs/library-search.txt" 2>&1
cat "$logs/library-search.txt" | tee -a "$combined"
library_path=$bundle/lib
for dir in "${library_dirs[@]}"; do library_path+=:$dir; done
export LD_LIBRARY_PATH=$library_path${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export DISTILL_CUDA_BACKEND=$bundle/lib/libdistill_cuda.so.0

check_libraries() {
    local object bad=0
    cat "$logs/library-search.txt"
    for object in "$bundle"/bin/distill_* "$bundle"/lib/*.so*; do
        if ldd "$object" | grep 'not found'; then
            echo "  ^ needed by $object"
            bad=1
        fi
    done
    grep -q 'NOT FOUND' "$logs/library-search.txt" && bad=1
    return $bad
}
libraries_note() {
    if (($2 == 0)); then echo "every bundled program resolves; cuDNN and cuBLAS found"; else
        echo "missing: $(grep -hoE '[^ ]+ => not found|[^ :]+: NOT FOUND' "$1" | sort -u | tr '\n' ' ')"
    fi
}
step libraries 30 libraries_note check_libraries

# ---- the Python extension, built in the background meanwhile ---------------
export python_pkg=$work/python
build_extension() {
    local include pybind ext src objects=() pids=() failed=0
    command -v c++ >/dev/null || { echo "skipped: no C++ compiler (c++) on this machine"; return 0; }
    include=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])') || {
        echo "skipped: $python does not run"; return 0; }
    [[ -f $include/Python.h ]] || {
        echo "skipped: no Python.h for $("$python" -V 2>&1) (looked in $include)"; return 0; }
    pybind=$bundle/python/include
    [[ -f $pybind/pybind11/pybind11.h ]] ||
        pybind=$("$python" -c 'import pybind11; print(pybind11.get_include())' 2>/dev/null) || {
        echo "skipped: no pybind11 headers (neither bundled nor in $python)"; return 0; }
    ext=$("$python" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
    mkdir -p "$python_pkg"
    cp -r "$bundle/python/distill" "$python_pkg/"
    cp "$bundle/lib/libdistill.so.0" "$bundle/lib/libdistill_cuda.so.0" "$python_pkg/distill/"
    echo "building distill/_distill$ext for $("$python" -V 2>&1) with $include and $pybind"
    for src in "$bundle"/python/src/*.cpp; do
        objects+=("$work/$(basename "$src" .cpp).o")
        c++ -O1 -std=c++20 -fPIC -fvisibility=hidden -DNDEBUG -I"$include" -I"$pybind" \
            -I"$bundle/python/include" -c "$src" -o "${objects[-1]}" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
    ((failed == 0)) || { echo "compiling the extension failed"; return 1; }
    c++ -shared -o "$python_pkg/distill/_distill$ext" "${objects[@]}" \
        "$python_pkg/distill/libdistill.so.0" -Wl,-rpath,'$ORIGIN' || return 1
    echo "built $python_pkg/distill/_distill$ext"
}
# Under its own timeout (which ends the compilers too) so that it never
# outlives this script's budget.
export -f $(compgen -A function)
(
    timeout --kill-after=5 $((budget - (SECONDS - started))) bash -c build_extension \
        >"$logs/python-extension-build.log" 2>&1
    echo $? >"$work/extension.rc"
) &
wait_extension() {
    while [[ ! -f $work/extension.rc ]]; do sleep 1; done
    cat "$logs/python-extension-build.log"
    return "$(cat "$work/extension.rc")"
}
# The build's own log: the step's is empty when it timed out.
extension_note() {
    local log=$logs/python-extension-build.log
    grep -m1 '^skipped: ' "$log" || grep -m1 '^built ' "$log" || tail -1 "$log"
}

# ---- the CUDA tests ----------------------------------------------------------
step abi-cuda-tests 180 doctest_note "$bundle/bin/distill_tests" -tc="cuda*"
step core-cuda-tests 120 doctest_note "$bundle/bin/distill_core_tests" -tc="cuda*" -tce="cuda lm*"
# The transformer student on the device: the lm primitives against core/lm,
# the device transformer against the CPU model, the loss curve of a few
# optimiser steps (tests/core/test_cuda_lm.cpp).
step lm-cuda-tests 120 doctest_note "$bundle/bin/distill_core_tests" -tc="cuda lm*"

step python-extension 240 extension_note wait_extension
python_tests() {
    if [[ ! -f $(echo "$python_pkg"/distill/_distill*.so) ]]; then
        echo "skipped: no extension ($(extension_note))"
        return 0
    fi
    cd "$bundle/python/tests" &&
        PYTHONPATH=$python_pkg PYTHONUNBUFFERED=1 "$python" -m pytest -q -rs -p no:cacheprovider \
            test_cuda.py
}
step python-cuda-tests 150 pytest_note python_tests

# ---- compute-sanitizer -------------------------------------------------------
sanitizer=""
for candidate in /usr/local/cuda/bin/compute-sanitizer "$(command -v compute-sanitizer)"; do
    [[ -n $candidate && -x $candidate ]] && { sanitizer=$candidate; break; }
done
# The kd-loss cases without the biggest (a sanitizer slows kernels tens of
# times; racecheck, which follows every shared-memory access, also without
# the large vocabularies). doctest splits filters at commas.
kd_cases=(-tc="cuda:*" -tce="*smoke*,*global memory*")
race_cases=(-tc="cuda:*" -tce="*smoke*,*V = *")
if ((have_gpu == 0)); then
    record memcheck skipped 0 "no GPU"
    record racecheck skipped 0 "no GPU"
    record memcheck-students skipped 0 "no GPU"
    record memcheck-lm skipped 0 "no GPU"
    record racecheck-lm skipped 0 "no GPU"
elif [[ -z $sanitizer ]]; then
    record memcheck skipped 0 "no compute-sanitizer in /usr/local/cuda/bin or on PATH"
    record racecheck skipped 0 "no compute-sanitizer"
    record memcheck-students skipped 0 "no compute-sanitizer"
    record memcheck-lm skipped 0 "no compute-sanitizer"
    record racecheck-lm skipped 0 "no compute-sanitizer"
else
    step memcheck 120 sanitizer_note "$sanitizer" --tool memcheck --error-exitcode 99 \
        "$bundle/bin/distill_tests" "${kd_cases[@]}"
    step racecheck 120 sanitizer_note "$sanitizer" --tool racecheck --error-exitcode 99 \
        "$bundle/bin/distill_tests" "${race_cases[@]}"
    step memcheck-students 90 sanitizer_note "$sanitizer" --tool memcheck --error-exitcode 99 \
        "$bundle/bin/distill_core_tests" -tc="cuda student primitives*"
    # The transformer primitives: memcheck over all of them, racecheck (the
    # attention kernels share tiles through shared memory) too.
    step memcheck-lm 90 sanitizer_note "$sanitizer" --tool memcheck --error-exitcode 99 \
        "$bundle/bin/distill_core_tests" -tc="cuda lm primitives*"
    step racecheck-lm 90 sanitizer_note "$sanitizer" --tool racecheck --error-exitcode 99 \
        "$bundle/bin/distill_core_tests" -tc="cuda lm primitives*"
fi

# ---- benchmarks (--quick) ----------------------------------------------------
kd_bench() {
    "$bundle/bin/distill_bench_kd_loss" --quick | tee "$out/kd-loss-bench.jsonl"
}
step kd-loss-bench 90 bench_note kd_bench
student_bench() {
    "$python" "$bundle/bin/student_step_torch.py" --bench "$bundle/bin/distill_bench_student_step" \
        --device cuda --seconds 0.5 | tee "$out/student-step-bench.jsonl"
}
if ((have_gpu)); then
    step student-step-bench 90 bench_note student_bench
else
    record student-step-bench skipped 0 "no GPU"
fi

# ---- the table ---------------------------------------------------------------
tar -czf "$out/logs.tar.gz" -C "$logs" . 2>/dev/null
failures=0
{
    printf '\n%-20s %-8s %6s  %s\n' step result seconds note
    for i in "${!names[@]}"; do
        printf '%-20s %-8s %6s  %s\n' "${names[$i]}" "${results[$i]}" "${times[$i]}" "${notes[$i]}"
        [[ ${results[$i]} == FAILED || ${results[$i]} == TIMEOUT ]] && failures=$((failures + 1))
    done
    printf 'run-gpu-checks: %d steps, %d failed or timed out, %d s in all; logs in %s\n' \
        "${#names[@]}" "$failures" "$((SECONDS - started))" "$out"
} | tee "$out/summary.txt" | tee -a "$combined"
rm -rf "$logs" "$work" "${unpacked:-}"
grep -q ', 0 failed or timed out' "$out/summary.txt"
