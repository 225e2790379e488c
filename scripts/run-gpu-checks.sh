#!/usr/bin/env bash
# scripts/run-gpu-checks.sh — the checks that need a GPU, as one script for
# a session that is lent one: builds the `cuda` preset (CUDA required) and
# runs every CUDA test case (kd-loss kernels, student primitives against the
# CPU layers, CUDA trainer and predict against the CPU ones), then the CUDA
# kd-loss and student-step benchmarks. On a machine without a GPU the tests skip themselves
# and say so. Logs go to $OUT when it is set (the device tool's folder),
# else to build/cuda/gpu-checks/. Usage: scripts/run-gpu-checks.sh [-j N]
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

jobs=${2:-$(nproc)}
logs=${OUT:-build/cuda/gpu-checks}
mkdir -p "$logs"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv >"$logs/gpu.txt" 2>&1
cat "$logs/gpu.txt"

status=0
step() {  # step NAME COMMAND...: runs, logs to $logs/NAME.log, remembers a failure
    local name=$1
    shift
    printf '\n=== %s\n' "$name"
    if ! "$@" 2>&1 | tee "$logs/$name.log"; then
        status=1
        printf '=== %s FAILED\n' "$name"
    fi
}

step configure cmake --preset cuda -DDISTILL_BUILD_JAVA=OFF -DDISTILL_BUILD_CSHARP=OFF \
    -DDISTILL_BUILD_PYTHON=OFF -DDISTILL_BUILD_BENCH=ON
step build cmake --build build/cuda -j "$jobs" --target distill_tests distill_core_tests \
    distill_cuda distill_bench_kd_loss distill_bench_student_step
export DISTILL_CUDA_BACKEND=$PWD/build/cuda/lib/libdistill_cuda.so.0
step core-cuda-tests build/cuda/bin/distill_core_tests -tc="cuda*" -s
step abi-cuda-tests build/cuda/bin/distill_tests -tc="cuda*,*cuda*"
step kd-loss-bench build/cuda/bin/distill_bench_kd_loss
# The student step on the GPU against PyTorch's (PyTorch's side is skipped,
# saying so, where torch is not installed).
step student-step-bench python3 bench/student_step_torch.py \
    --bench build/cuda/bin/distill_bench_student_step --device cuda
exit $status
