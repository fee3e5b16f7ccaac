#!/usr/bin/env bash
# One unattended run on a GPU machine (an NVIDIA H100 or H200) that has the
# CUDA toolkit, Python with torch and numpy, and pip, but nothing of this
# project and no network:
#
#   1. HERE, on the development machine, first:  scripts/prepare_device_deps.sh
#      It gathers .device-deps/ (OpenBLAS, GoogleTest's sources, pybind11),
#      which is ignored by git: carry it along with the working tree.
#   2. THERE, from the repository root:          scripts/device_run.sh
#
# This script never reaches for the network (no apt, no pip download): what the
# machine lacks comes from .device-deps/, unpacked under /tmp, never into /.
#
# Stages, in this order, each bounded in time (bounds for BUDGET_S=480, scaled
# with it) so that the whole run stays within BUDGET_S seconds (480: about 8
# minutes); each one's result goes to $OUT/summary.txt as soon as it ends, and
# everything is printed:
#   deps       what .device-deps/ brings, where the machine lacks it
#   configure  -DCMAKE_CUDA_ARCHITECTURES=90, GPU and tests on (Python and embed off)
#   build-gpu  the GPU tests only (ninja -k 0): a compile error elsewhere cannot hide them
#   test-gpu   ctest -R Gpu (every launch synchronised: a fault names its kernel)
#   build-py   the Python module (a second configure: Python headers may be missing)
#   test-py    pytest tests/python/test_gpu.py
#   bench      benchs/bench_gpu.py (needs torch with CUDA)
#   build-all  everything else (ninja -k 0), as time allows
#
# Results in $OUT (the device tool's output folder; /tmp/sextant-device-out
# otherwise): summary.txt, build.log, ctest.log, pytest.log, bench.log, bench_gpu.json.
#
#   SKIP_BENCH=1 scripts/device_run.sh        # build and tests only
#   BENCH_ARGS=--quick scripts/device_run.sh  # smaller benchmark sizes
#   BUDGET_S=540 scripts/device_run.sh
#   BUDGET_S=3000 scripts/device_run.sh       # a 2-core machine without a GPU (a dry run)
# FORCE_DEVICE_DEPS=1 uses .device-deps/ even where the machine has its own
# copy (to check that path on a machine that has everything).
set -u -o pipefail

ROOT=$(pwd)
OUT=${OUT:-/tmp/sextant-device-out}
BUILD=${BUILD:-/tmp/sextant-build}
DEPS=/tmp/sextant-deps
BUDGET_S=${BUDGET_S:-480}
JOBS=$(nproc)
PY=$(command -v "${PYTHON:-python3}")
mkdir -p "$OUT" "$DEPS"
T0=$(date +%s)
DEADLINE=$((T0 + BUDGET_S))
SUMMARY="$OUT/summary.txt"
: > "$SUMMARY"
status=0

note() { echo "$*" | tee -a "$SUMMARY"; }
section() { echo; echo "=== $* ($(($(date +%s) - T0)) s) ==="; }

# stage NAME LIMIT_S LOG COMMAND...: runs COMMAND (a program or one of the
# functions below; stdout and stderr to LOG and the screen) for at most LIMIT_S
# seconds and what is left of the budget; timeout stops its whole process group.
stage() {
  local name=$1 limit=$(($2 * BUDGET_S / 480)) log=$3
  shift 3
  local left=$((DEADLINE - $(date +%s)))
  ((left < limit)) && limit=$left
  section "$name (at most $limit s)"
  if ((limit < 15)); then
    note "$name: skipped: out of time"
    return 1
  fi
  local t=$(date +%s)
  echo "=== $name" >> "$log"
  local prelude
  prelude="$(declare -p GEN COMMON CMAKE_DEPS DEPS ARCH JOBS PY BUILD ROOT PYBIND11_DIR 2>/dev/null)
$(declare -f deps keep_going build_python)"
  timeout --kill-after=10 "$limit" bash -c "$prelude"$'\n''"$@"' "$name" "$@" 2>&1 | tee -a "$log"
  local rc=${PIPESTATUS[0]}
  local took=$(($(date +%s) - t))
  if ((rc == 0)); then
    note "$name: ok ($took s)"
  elif ((rc == 124 || rc == 137)); then
    note "$name: TIMED OUT after $took s"
    status=1
  else
    note "$name: FAILED (exit $rc, $took s)"
    status=1
  fi
  return "$rc"
}

section "machine"
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || echo "nvidia-smi: none"
  command -v nvcc >/dev/null || export PATH="$PATH:/usr/local/cuda/bin"
  nvcc --version 2>&1 | tail -1
  cmake --version | head -1
  "$PY" -c "import sys, numpy; print('python', sys.version.split()[0], 'numpy', numpy.__version__)"
  "$PY" -c "import torch as t; print('torch', t.__version__, 'cuda', t.version.cuda, 'gpu', t.cuda.is_available())" \
    2>/dev/null || echo "torch: not importable"
  echo "cores: $JOBS, budget: $BUDGET_S s"
} 2>&1 | tee "$OUT/machine.txt"
command -v nvcc >/dev/null || export PATH="$PATH:/usr/local/cuda/bin"

# --- deps: OpenBLAS, GoogleTest, pybind11 from .device-deps/ where the machine lacks them
ARCH=$(gcc -dumpmachine 2>/dev/null | sed 's/-pc-/-/; s/-unknown-/-/')
ARCH=${ARCH:-x86_64-linux-gnu}
CMAKE_DEPS=()
deps() {
  local carried=.device-deps
  if ls "$carried"/deb/*.deb >/dev/null 2>&1; then
    for f in "$carried"/deb/*.deb; do dpkg -x "$f" "$DEPS" || return 1; done
  else
    echo "no .device-deps/deb (run scripts/prepare_device_deps.sh on the development machine, carry .device-deps)"
  fi
  local sys_blas deps_blas="$DEPS/usr/lib/$ARCH/openblas-openmp/libopenblas.so.0"
  sys_blas=$(ls /usr/lib/"$ARCH"/openblas-openmp/libopenblas.so* 2>/dev/null | head -1)
  if [ -e "$deps_blas" ] && { [ -z "$sys_blas" ] || [ -n "${FORCE_DEVICE_DEPS:-}" ]; }; then
    echo "OpenBLAS: $deps_blas (carried)"
    echo "-DSEXTANT_OPENBLAS_OPENMP=$deps_blas" >> "$DEPS/cmake-args"
    # Its Fortran runtime, for the linker and at run time, unless the machine has one.
    if [ -n "${FORCE_DEVICE_DEPS:-}" ] || ! ldconfig -p | grep -q 'libgfortran\.so\.5'; then
      echo "$DEPS/usr/lib/$ARCH" > "$DEPS/library-path"
    fi
  else
    echo "OpenBLAS: ${sys_blas:-none carried or installed: CMake looks for any BLAS}"
  fi
  local sys_gtest
  sys_gtest=$(ls /usr/lib/"$ARCH"/cmake/GTest/GTestConfig.cmake /usr/lib/cmake/GTest/GTestConfig.cmake \
    /usr/local/lib/cmake/GTest/GTestConfig.cmake 2>/dev/null | head -1)
  if [ -d "$DEPS/usr/src/googletest" ] && { [ -z "$sys_gtest" ] || [ -n "${FORCE_DEVICE_DEPS:-}" ]; }; then
    echo "GoogleTest: building the carried sources with this machine's compiler"
    cmake -S "$DEPS/usr/src/googletest" -B "$DEPS/gtest-build" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release \
      -DBUILD_GMOCK=OFF -DCMAKE_INSTALL_PREFIX="$DEPS/gtest" -DCMAKE_POSITION_INDEPENDENT_CODE=ON >/dev/null &&
      cmake --build "$DEPS/gtest-build" -j "$JOBS" >/dev/null &&
      cmake --install "$DEPS/gtest-build" >/dev/null || return 1
    echo "-DGTest_DIR=$(dirname "$(find "$DEPS/gtest" -name GTestConfig.cmake | head -1)")" >> "$DEPS/cmake-args"
  else
    echo "GoogleTest: ${sys_gtest:-NOT FOUND: no C++ tests}"
  fi
  if [ -z "${FORCE_DEVICE_DEPS:-}" ] && "$PY" -c "import pybind11" 2>/dev/null; then
    echo "pybind11: $("$PY" -c 'import pybind11; print(pybind11.__version__)') (installed)"
  elif ls "$carried"/wheels/pybind11-*.whl >/dev/null 2>&1; then
    "$PY" -m pip install --quiet --no-index --no-deps --disable-pip-version-check --target "$DEPS/site" \
      "$carried"/wheels/pybind11-*.whl || return 1
    echo "$DEPS/site" > "$DEPS/python-path"
    echo "pybind11: carried wheel"
  else
    echo "pybind11: none: no Python module"
  fi
}
GEN=()
command -v ninja >/dev/null 2>&1 && GEN=(-G Ninja)
rm -f "$DEPS/cmake-args" "$DEPS/library-path" "$DEPS/python-path"
stage deps 120 "$OUT/build.log" deps
[ -e "$DEPS/cmake-args" ] && mapfile -t CMAKE_DEPS < "$DEPS/cmake-args"
[ -e "$DEPS/library-path" ] && export LD_LIBRARY_PATH="$(cat "$DEPS/library-path")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
[ -e "$DEPS/python-path" ] && export PYTHONPATH="$(cat "$DEPS/python-path")${PYTHONPATH:+:$PYTHONPATH}"

# --- build and run the GPU tests before anything else
# keep_going TARGET...: builds the targets, carrying on past failed compilations.
keep_going() {
  if [ ${#GEN[@]} -gt 0 ]; then
    cmake --build "$BUILD" -j "$JOBS" --target "$@" -- -k 0
  else
    cmake --build "$BUILD" -j "$JOBS" --target "$@" -- -k
  fi
}
COMMON=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DSEXTANT_ENABLE_GPU=ON
        -DSEXTANT_ENABLE_TESTS=ON -DSEXTANT_ENABLE_EMBED=OFF -DSEXTANT_ENABLE_BENCHS=OFF)
stage configure 90 "$OUT/build.log" \
  cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" "${COMMON[@]}" -DSEXTANT_ENABLE_PYTHON=OFF "${CMAKE_DEPS[@]}"
stage build-gpu 300 "$OUT/build.log" keep_going sextant_gpu_tests sextant_gpu_host_tests
stage test-gpu 150 "$OUT/ctest.log" \
  ctest --test-dir "$BUILD" -R Gpu -j 4 --timeout 120 --output-on-failure

# --- the Python module and its GPU tests
PYBIND11_DIR=$("$PY" -c 'import pybind11; print(pybind11.get_cmake_dir())' 2>/dev/null)
build_python() {
  cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" "${COMMON[@]}" -DSEXTANT_ENABLE_PYTHON=ON "${CMAKE_DEPS[@]}" \
    -DPython_EXECUTABLE="$PY" -Dpybind11_DIR="$PYBIND11_DIR" && keep_going _sextant
}
if stage build-py 150 "$OUT/build.log" build_python; then
  stage test-py 150 "$OUT/pytest.log" env PYTHONPATH="$BUILD/python${PYTHONPATH:+:$PYTHONPATH}" \
    "$PY" -m pytest "$ROOT/tests/python/test_gpu.py" -q -rs -p no:cacheprovider
  if [ -n "${SKIP_BENCH:-}" ]; then
    note "bench: skipped (SKIP_BENCH)"
  elif ! "$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
    note "bench: skipped: no torch with a CUDA device here"
  else
    stage bench 420 "$OUT/bench.log" env PYTHONPATH="$BUILD/python${PYTHONPATH:+:$PYTHONPATH}" \
      PYTHONUNBUFFERED=1 "$PY" "$ROOT/benchs/bench_gpu.py" --out "$OUT" ${BENCH_ARGS:-}
  fi
fi

# --- everything else, as time allows (a compile error here hides no GPU result)
stage build-all 240 "$OUT/build.log" keep_going all

section "summary"
cat "$SUMMARY"
echo "status $status ($(($(date +%s) - T0)) s)" | tee -a "$SUMMARY"
exit $status
