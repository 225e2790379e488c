#!/usr/bin/env bash
# scripts/prepare-gpu-checks.sh — the CPU-machine half of the GPU checks.
# The GPU machine has the CUDA image (nvcc, cuBLAS, PyTorch, the cuDNN pip
# wheel, Python 3.12) but none of the -dev packages this build needs and no
# package registry, so everything is built HERE, for sm_90, and gathered
# into one ignored folder that the device tool carries, build/gpu-bundle/,
# as bundle.tar.gz (OpenBLAS alone is 36 MB; packed, the whole is ~25 MB)
# beside a copy of its MANIFEST.txt. Inside the archive:
#
#     bin/      distill_tests, distill_core_tests, the kd-loss and
#               student-step benchmarks
#     lib/      libdistill.so.0, libdistill_cuda.so.0, and every library
#               they load (ldd) that a bare CUDA image may lack: SQLite,
#               zstd, libcurl and its dependencies, OpenBLAS, libgomp, ...
#               Not glibc, libstdc++ or libgcc_s (every image has them), not
#               libcuda, cudart, cuBLAS or cuDNN (the image's own).
#     python/   what the Python extension needs to be built there: its
#               sources, the package, the C headers, dlpack.h, the pybind11
#               headers (from the venv), and tests/python
#     data/     tests/fixtures
#     MANIFEST.txt  commit, date, files and sizes
#
# It fails if the packed bundle plus the files the device tool sends anyway
# (the tracked tree) exceed the tool's 64 MiB. Then run scripts/run-gpu-checks.sh
# there (its header has the exact device call). Rehearse it here with
#   scripts/run-gpu-checks.sh --bundle build/gpu-bundle
# (no GPU: every CUDA test reports itself skipped).
#
# Usage: scripts/prepare-gpu-checks.sh [-j N] [--build-dir DIR] [--bundle DIR]
#                                      [--python PYTHON_WITH_PYBIND11]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

jobs=2
build=build/gpu-prep
bundle=build/gpu-bundle
stage=build/gpu-stage  # the unpacked bundle, packed into $bundle at the end
python=${PYTHON:-}
while (($#)); do
    case $1 in
    -j) jobs=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    --bundle) bundle=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    *) echo "usage: $0 [-j N] [--build-dir DIR] [--bundle DIR] [--python PYTHON]" >&2; exit 2 ;;
    esac
done
if [[ -z $python ]]; then
    for candidate in .venv/bin/python /work/main/.venv/bin/python python3; do
        if "$candidate" -c 'import pybind11' 2>/dev/null; then python=$candidate; break; fi
    done
fi
limit=$((64 * 1024 * 1024))

[[ -f /work/ccache.env ]] && source /work/ccache.env
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDISTILL_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES=90 -DDISTILL_BUILD_TESTS=ON -DDISTILL_BUILD_BENCH=ON \
    -DDISTILL_BUILD_PYTHON=OFF -DDISTILL_BUILD_JAVA=OFF -DDISTILL_BUILD_CSHARP=OFF
programs=(distill_tests distill_core_tests distill_bench_kd_loss distill_bench_student_step)
cmake --build "$build" -j "$jobs" --target "${programs[@]}" distill distill_cuda

rm -rf "$stage" "$bundle"
mkdir -p "$stage"/{bin,lib,python,data} "$bundle"
for program in "${programs[@]}"; do cp "$build/bin/$program" "$stage/bin/"; done
# The libraries under their SONAMEs (what DT_NEEDED and the backend loader
# ask for), as real files.
cp -L "$build/lib/libdistill.so.0" "$build/lib/libdistill_cuda.so.0" "$stage/lib/"

# system_library SONAME: true for what the CUDA image provides itself.
system_library() {
    case $1 in
    linux-vdso.so* | ld-linux*.so* | libc.so* | libm.so* | libpthread.so* | libdl.so* | \
        librt.so* | libresolv.so* | libutil.so* | libstdc++.so* | libgcc_s.so*) return 0 ;;
    libcuda.so* | libcudart.so* | libcublas*.so* | libcudnn*.so* | libnvidia-*.so*) return 0 ;;
    libdistill*.so*) return 0 ;;  # ours, copied above
    esac
    return 1
}
missing=0
for object in "$stage"/bin/* "$stage"/lib/libdistill*.so.0; do
    while read -r soname arrow path _; do
        [[ $arrow == "=>" ]] || continue
        system_library "$soname" && continue
        if [[ $path == "not" ]]; then
            echo "prepare-gpu-checks: $object needs $soname, which is not found here" >&2
            missing=1
            continue
        fi
        [[ -e $stage/lib/$soname ]] || cp -L "$path" "$stage/lib/$soname"
    done < <(LD_LIBRARY_PATH="$stage/lib" ldd "$object")
done
((missing == 0)) || exit 1

# The Python extension's inputs (built on the device for its Python).
mkdir -p "$stage/python/include"
cp -r bindings/python/src bindings/python/distill "$stage/python/"
cp -r capi/include/distill "$stage/python/include/"
dlpack=$(echo '#include <dlpack/dlpack.h>' | c++ -x c++ -H -fsyntax-only - 2>&1 |
    awk '/dlpack\.h/ {print $2; exit}')
mkdir -p "$stage/python/include/dlpack"
cp "$dlpack" "$stage/python/include/dlpack/"
if [[ -n $python ]]; then
    pybind11_include=$("$python" -c 'import pybind11; print(pybind11.get_include())')
    cp -r "$pybind11_include/pybind11" "$stage/python/include/"
else
    echo "prepare-gpu-checks: no Python with pybind11 found; the device builds the extension" \
        "only if its own Python has pybind11" >&2
fi
mkdir -p "$stage/python/tests"
cp tests/python/*.py "$stage/python/tests/"
cp -r tests/fixtures/. "$stage/data/"
cp bench/student_step_torch.py "$stage/bin/"

{
    echo "distill GPU-check bundle"
    echo "commit: $(git rev-parse HEAD)$(git diff --quiet HEAD || echo ' (with uncommitted changes)')"
    echo "made: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n), CUDA archs 90"
    echo "files:"
    (cd "$stage" && find . -type f ! -name MANIFEST.txt -printf '%s\t%p\n' | sort -k2)
} >"$stage/MANIFEST.txt"
cp "$stage/MANIFEST.txt" "$bundle/"
tar -czf "$bundle/bundle.tar.gz" -C "$stage" .
# Size: the packed bundle plus what the device tool sends anyway (the
# tracked tree and untracked files that git does not ignore).
bundle_bytes=$(du -sb "$bundle" | cut -f1)
tree_bytes=$(git ls-files -z --cached --others --exclude-standard |
    xargs -0 stat -c %s 2>/dev/null | awk '{s += $1} END {print s + 0}')
echo "packed bytes: $bundle_bytes; tree bytes: $tree_bytes; limit: $limit" >>"$bundle/MANIFEST.txt"
awk -v b="$bundle_bytes" -v t="$tree_bytes" -v d="$bundle" 'BEGIN {
    printf "bundle %s (packed): %.1f MiB; tracked tree %.1f MiB; together %.1f of 64 MiB\n",
        d, b / 1048576, t / 1048576, (b + t) / 1048576 }'
if ((bundle_bytes + tree_bytes > limit)); then
    echo "prepare-gpu-checks: over the device tool's 64 MiB; strip or drop something" >&2
    exit 1
fi
