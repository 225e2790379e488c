#!/usr/bin/env bash
# scripts/run-main.sh — builds everything (release preset) and runs the main
# job, `distill demo`, on its embedded default: Fashion-MNIST (Debian's
# dataset-fashion-mnist, installed by setup.sh). A 2.4M-parameter teacher
# learns from the 60,000 labelled images (cached after the first run), a
# 24x smaller student is trained on 1,000 labels alone and, separately, by
# distillation from the teacher's answers on the other 59,000 images; the
# table goes to stdout, progress to stderr, and report.html + summary.json
# to distill-demo/. Extra arguments go to `distill demo` (e.g. --quick).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/setup.sh
cmake --preset release
cmake --build --preset release

build/release/bin/distill demo "$@"
