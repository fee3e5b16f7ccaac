#!/usr/bin/env bash
# One unattended run on the H200 machine, from the repository root:
#   builds with -DCMAKE_CUDA_ARCHITECTURES=90 (tests and Python on, embed off),
#   runs the GPU tests (ctest -R Gpu; pytest -k gpu), then the GPU benchmark
#   (benchs/bench_gpu.py), printing everything. Logs and bench_gpu.json go to
#   $OUT when it is set (the device tool's output folder).
#
#   gpu/run_device.sh            # everything (about 7 minutes on one H200: build ~2-3, tests ~1, bench ~3)
#   SKIP_BENCH=1 gpu/run_device.sh   # build and tests only
#   BENCH_ARGS=--quick gpu/run_device.sh
#
# System packages the image may lack (OpenBLAS, GoogleTest) are taken from
# .device-deps/*.deb when the machine has none (gpu/prepare_device_deps.sh
# fetches them; carry .device-deps). They are unpacked under /tmp, never into /.
set -u -o pipefail

OUT=${OUT:-/tmp/sextant-device-out}
mkdir -p "$OUT"
ROOT=$(pwd)
BUILD=${BUILD:-/tmp/sextant-build}
DEPS=/tmp/sextant-deps
JOBS=$(nproc)
PY=${PYTHON:-python3}
status=0
stamp() { date +%s; }
T0=$(stamp)
section() { echo; echo "=== $* ($(( $(stamp) - T0 )) s) ==="; }

section "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.mem --format=csv 2>&1 | head -3
nvcc --version | tail -2
$PY -c "import sys, torch, numpy; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda, 'numpy', numpy.__version__)"
echo "cores: $JOBS"

section "dependencies"
ARCH=$(gcc -dumpmachine 2>/dev/null | sed 's/-pc-/-/; s/-unknown-/-/')
ARCH=${ARCH:-x86_64-linux-gnu}
if ls .device-deps/*.deb >/dev/null 2>&1; then
  mkdir -p "$DEPS"
  for f in .device-deps/*.deb; do dpkg -x "$f" "$DEPS"; done
fi
CMAKE_EXTRA=()
# FORCE_DEVICE_DEPS=1 uses .device-deps even where the machine has its own (to test this path).
SYS_OPENBLAS=$(ls /usr/lib/"$ARCH"/openblas-openmp/libopenblas.so* 2>/dev/null | head -1)
DEPS_OPENBLAS="$DEPS/usr/lib/$ARCH/openblas-openmp/libopenblas.so.0"
if [ -e "$DEPS_OPENBLAS" ] && { [ -z "$SYS_OPENBLAS" ] || [ -n "${FORCE_DEVICE_DEPS:-}" ]; }; then
  CMAKE_EXTRA+=("-DSEXTANT_OPENBLAS_OPENMP=$DEPS_OPENBLAS")
  echo "OpenBLAS: from .device-deps"
  # Its Fortran runtime, unless the machine has one.
  if [ -n "${FORCE_DEVICE_DEPS:-}" ] || ! ldconfig -p | grep -q 'libgfortran\.so\.5'; then
    export LD_LIBRARY_PATH="$DEPS/usr/lib/$ARCH${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
elif [ -n "$SYS_OPENBLAS" ]; then
  echo "OpenBLAS: system $SYS_OPENBLAS"
else
  echo "OpenBLAS (OpenMP build): not found, no .device-deps either (gpu/prepare_device_deps.sh); CMake looks for any BLAS"
fi
TESTS=ON
SYS_GTEST=$(ls /usr/lib/"$ARCH"/cmake/GTest/GTestConfig.cmake /usr/lib/cmake/GTest/GTestConfig.cmake \
  /usr/local/lib/cmake/GTest/GTestConfig.cmake 2>/dev/null | head -1)
if [ -e "$DEPS/usr/lib/$ARCH/cmake/GTest/GTestConfig.cmake" ] && { [ -z "$SYS_GTEST" ] || [ -n "${FORCE_DEVICE_DEPS:-}" ]; }; then
  CMAKE_EXTRA+=("-DGTest_DIR=$DEPS/usr/lib/$ARCH/cmake/GTest")
  echo "GoogleTest: from .device-deps"
elif [ -n "$SYS_GTEST" ]; then
  echo "GoogleTest: system"
else
  echo "GoogleTest: NOT FOUND: the C++ tests are not built (gpu/prepare_device_deps.sh, carry .device-deps)"
  TESTS=OFF
fi
GEN=()
command -v ninja >/dev/null 2>&1 && GEN=(-G Ninja)

section "configure"
cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DSEXTANT_ENABLE_GPU=ON -DSEXTANT_ENABLE_PYTHON=ON -DSEXTANT_ENABLE_TESTS=$TESTS -DSEXTANT_ENABLE_EMBED=OFF \
  -DPython_EXECUTABLE="$(command -v $PY)" -Dpybind11_DIR="$($PY -c 'import pybind11; print(pybind11.get_cmake_dir())')" \
  "${CMAKE_EXTRA[@]}" 2>&1 | tee "$OUT/configure.log" | grep -E "sextant|CUDA|GTest|Python|Error|error" || true

section "build (-j$JOBS)"
if ! cmake --build "$BUILD" -j "$JOBS" > "$OUT/build.log" 2>&1; then
  echo "BUILD FAILED; last lines:"
  grep -E "error|Error" "$OUT/build.log" | head -40
  tail -30 "$OUT/build.log"
  exit 1
fi
grep -E "warning" "$OUT/build.log" | sort -u | head -20
echo "build ok"

if [ "$TESTS" = ON ]; then
  section "C++ GPU tests (ctest -R Gpu)"
  (cd "$BUILD" && timeout 300 ctest -R Gpu -j 4 --output-on-failure --timeout 240) 2>&1 | tee "$OUT/ctest.log" | tail -60
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
fi

section "Python GPU tests (pytest -k gpu)"
PYTHONPATH="$BUILD/python" timeout 300 $PY -m pytest "$ROOT/tests/python" -q -p no:cacheprovider -k gpu -x -rs 2>&1 \
  | tee "$OUT/pytest.log" | tail -40
[ "${PIPESTATUS[0]}" = 0 ] || status=1

if [ -z "${SKIP_BENCH:-}" ]; then
  section "benchmark (benchs/bench_gpu.py ${BENCH_ARGS:-})"
  PYTHONPATH="$BUILD/python" PYTHONUNBUFFERED=1 timeout 420 $PY "$ROOT/benchs/bench_gpu.py" --out "$OUT" ${BENCH_ARGS:-} 2>&1 \
    | tee "$OUT/bench.log"
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
fi

section "done: status $status"
exit $status
