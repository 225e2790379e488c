#!/usr/bin/env bash
# scripts/run-main.sh — builds everything (release preset) and runs the main
# job. For now that is the distillation-loss benchmark: JSON lines on stdout,
# each kernel against the slow reference and the machine's memory bandwidth,
# then the same figures from PyTorch when that comparison script exists.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/setup.sh
cmake --preset release
cmake --build --preset release

build/release/bin/distill_bench_kd_loss
if [[ -f bench/kd_loss_torch.py ]]; then
    .venv/bin/python bench/kd_loss_torch.py
fi
