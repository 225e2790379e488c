#!/usr/bin/env bash
# scripts/setup.sh — installs what building and testing distill needs on a
# fresh Debian machine, and nothing that is already there:
#   * the system packages (apt-get update runs only when one is missing), and
#   * a Python virtual environment at .venv with the PyPI packages below.
# Safe to run any number of times; run-main.sh and run-tests.sh call it first.
# DISTILL_PYTHON chooses the interpreter the venv is made from.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# From Debian: the toolchain and the libraries the build links (DESIGN.md,
# "Dependencies"). Add a package here when the build starts to need it.
# python3-dev: Python.h, for the extension that `pip install .` builds.
# libsqlite3-dev, libzstd-dev, nlohmann-json3-dev: the teacher-output store.
# libcurl4-openssl-dev: the HTTP teacher; libcpp-httplib-dev: its tests' server.
# libcli11-dev: the `distill` command line (cli/).
# zlib1g-dev: reading the gzip'ed IDX files of dataset-fashion-mnist, the data
# of the main job (`distill demo`, /usr/share/datasets/fashion-mnist).
# clang-14, libclang-rt-14-dev: the libFuzzer targets of tests/fuzz (clang++
# with -fsanitize=fuzzer; scripts/run-fuzz.sh).
# swig, openjdk-17-jdk-headless, junit5: the Java bindings, their jar and
# JUnit 5 tests; swig, mono-mcs, mono-runtime: the C# bindings and tests
# (bindings/swig; built when these are found, see cmake/DistillSwig.cmake).
# nginx-light: the server bench/teacher_query_openai.py starts on loopback (a
# fixed answer that costs it next to nothing, so the clients are measured).
# libpcre2-dev: the Unicode regex engine of the tokenizer's split patterns
# (the byte-level BPE pre-tokenizer of GPT-2, Llama 3 and Qwen 2).
# fortunes: English text (/usr/share/games/fortunes) for the tokenizer's tests.
APT_PACKAGES=(cmake ninja-build g++ pkg-config doctest-dev libdlpack-dev libopenblas-dev
              python3-venv python3-dev libsqlite3-dev libzstd-dev nlohmann-json3-dev
              libcurl4-openssl-dev libcpp-httplib-dev libcli11-dev zlib1g-dev
              dataset-fashion-mnist clang-14 libclang-rt-14-dev
              swig openjdk-17-jdk-headless junit5 mono-mcs mono-runtime nginx-light
              libpcre2-dev fortunes)
# From PyPI, into .venv: what builds the Python package (pybind11,
# scikit-build-core; run-tests.sh installs it with --no-build-isolation) and
# what its tests, notebook and benchmark use. torch is large (the first
# install takes minutes; pip's cache makes the next one quick).
# safetensors: the reference implementation that checkpoint files are
# checked against (tests/fixtures/safetensors was written with it).
# openai: the official SDK, the peer bench/teacher_query_openai.py measures
# `distill query` against (AsyncOpenAI on the same local server).
# tokenizers, transformers: the independent references the tokenizer and the
# transformer student are checked against (same ids; same logits, gradients
# and losses as LlamaForCausalLM). Tests only, never the library.
PYTHON_PACKAGES=(numpy pytest pybind11 scikit-build-core torch nbclient nbformat ipykernel matplotlib
                 safetensors openai tokenizers transformers)
VENV_DIR=.venv

say() { printf 'setup: %s\n' "$*"; }
fail() {
    printf 'setup: ERROR: %s\n' "$*" >&2
    exit 1
}

# --- system packages --------------------------------------------------------
missing=()
for package in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$package")
    fi
done

if ((${#missing[@]} == 0)); then
    say "system packages: all ${#APT_PACKAGES[@]} present"
else
    command -v apt-get >/dev/null ||
        fail "missing ${missing[*]} and there is no apt-get: install them by hand"
    sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null || fail "missing ${missing[*]}: run as root or install sudo"
        sudo=(sudo)
    fi
    say "system packages: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q || fail "apt-get update failed (is the network up?)"
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" ||
        fail "apt-get install ${missing[*]} failed"
    say "system packages: installed ${missing[*]}"
fi

# --- Python virtual environment --------------------------------------------
# Debian's interpreter by default: python3-venv above is what makes its
# `-m venv` work, whatever other Pythons are on PATH.
python=${DISTILL_PYTHON:-}
if [[ -z "$python" ]]; then
    if [[ -x /usr/bin/python3 ]]; then python=/usr/bin/python3; else python=python3; fi
fi

# A venv whose interpreter no longer runs (its base Python was removed or
# upgraded) is rebuilt rather than half-used.
if [[ -x "$VENV_DIR/bin/python" ]] && "$VENV_DIR/bin/python" -c 'import sys' 2>/dev/null; then
    say "python venv: $VENV_DIR exists ($("$VENV_DIR/bin/python" --version 2>&1))"
else
    rm -rf "$VENV_DIR"
    "$python" -m venv "$VENV_DIR" || fail "'$python -m venv $VENV_DIR' failed"
    say "python venv: created $VENV_DIR from $python ($("$VENV_DIR/bin/python" --version 2>&1))"
fi

missing=()
for package in "${PYTHON_PACKAGES[@]}"; do
    "$VENV_DIR/bin/python" -m pip show -q "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]} == 0)); then
    say "python packages: all present (${PYTHON_PACKAGES[*]})"
else
    say "python packages: installing ${missing[*]}"
    "$VENV_DIR/bin/python" -m pip install -q "${missing[@]}" ||
        fail "pip install ${missing[*]} into $VENV_DIR failed"
    say "python packages: installed ${missing[*]}"
fi
say "done"
