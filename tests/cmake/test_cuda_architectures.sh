#!/usr/bin/env bash
# The CUDA architectures cmake/DistillCuda.cmake picks, and that CMake
# accepts them (enable_language(CUDA) runs), and whether DISTILL_CUDA=IF_GPU
# (the wheel's default) builds the backend: configures cuda_architectures/
# in throwaway build dirs, each with a fake nvidia-smi first on PATH (a GPU
# line, two GPUs, an old driver, a failing one, none).
# Usage: test_cuda_architectures.sh CMAKE NVCC REPO_CMAKE_DIR
set -uo pipefail
cmake_bin=$1 nvcc=$2 cmake_dir=$3
project=$(cd "$(dirname "${BASH_SOURCE[0]}")/cuda_architectures" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# check NAME DISTILL_CUDA EXPECTED_WITH_CUDA EXPECTED_ARCHS NVIDIA_SMI_BODY:
# configures with a fake nvidia-smi that runs NVIDIA_SMI_BODY (empty: no
# nvidia-smi at all on PATH).
check() {
    local name=$1 mode=$2 expected_with=$3 expected=$4 body=$5
    local bin=$work/$name/bin build=$work/$name/build
    mkdir -p "$bin" "$build"
    if [[ -n $body ]]; then
        printf '#!/bin/sh\n%s\n' "$body" >"$bin/nvidia-smi"
        chmod +x "$bin/nvidia-smi"
    fi
    # PATH: the fake first, then only what cmake and the compilers need
    # (a real nvidia-smi elsewhere on PATH must not be found).
    if ! PATH="$bin:/usr/bin:/bin" "$cmake_bin" -S "$project" -B "$build" -G Ninja \
        -DDISTILL_CMAKE_DIR="$cmake_dir" -DDISTILL_CUDA="$mode" \
        -DCMAKE_CUDA_COMPILER="$nvcc" >"$work/$name.log" 2>&1; then
        printf 'FAIL %s: configure failed\n' "$name"
        cat "$work/$name.log"
        failures=$((failures + 1))
        return
    fi
    local with got
    with=$(cat "$build/with_cuda.txt")
    got=$(cat "$build/archs.txt")
    if [[ $with == "$expected_with" && $got == "$expected" ]]; then
        printf 'ok   %s (DISTILL_CUDA=%s): CUDA %s, archs "%s"\n' "$name" "$mode" "$with" "$got"
    else
        printf 'FAIL %s (DISTILL_CUDA=%s): expected CUDA %s with archs "%s", got CUDA %s with "%s"\n' \
            "$name" "$mode" "$expected_with" "$expected" "$with" "$got"
        failures=$((failures + 1))
    fi
}

h200='case "$*" in *compute_cap*) echo 9.0;; *) echo "GPU 0: NVIDIA H200 (UUID: GPU-0)";; esac'
ampere='case "$*" in *compute_cap*) echo 8.6;; *) echo "GPU 0: NVIDIA RTX A6000 (UUID: GPU-0)";; esac'
two='case "$*" in *compute_cap*) printf "8.6\n8.9\n8.6\n";; *) printf "GPU 0: A\nGPU 1: B\nGPU 2: C\n";; esac'
old='case "$*" in *compute_cap*) echo "Field \"compute_cap\" is not a valid field to query."; exit 2;; *) echo "GPU 0: Tesla V100 (UUID: GPU-0)";; esac'
failing='echo "NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver." >&2; exit 9'

check h200 ON ON "90" "$h200"
check ampere ON ON "90;86" "$ampere"
check two-gpus ON ON "90;86;89" "$two"
check old-driver ON ON "90" "$old"
check failing-driver ON ON "90" "$failing"
check no-nvidia-smi ON ON "90" ""
check if-gpu-h200 IF_GPU ON "90" "$h200"
check if-gpu-failing-driver IF_GPU OFF "" "$failing"
check if-gpu-no-nvidia-smi IF_GPU OFF "" ""
check auto-no-nvidia-smi AUTO ON "90" ""
exit $((failures > 0))
