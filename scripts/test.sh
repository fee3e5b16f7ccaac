#!/usr/bin/env bash
# Runs every test: C++ (GoogleTest under ctest, with the C++ tutorial and the
# find_package consumer) and Python (pytest, with the Python tutorials and a
# smoke run of the benchmark harness). Expects scripts/setup.sh to have run.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== C++ tests"
ctest --test-dir build --output-on-failure -j2
echo "== Python tests"
SEXTANT_BUILD_DIR="$PWD/build" python3 -m pytest -q
