#!/usr/bin/env bash
# Builds the C++ library and tests with sanitizers and runs them:
#   scripts/sanitize.sh          AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer): every C++ test
#   scripts/sanitize.sh thread   ThreadSanitizer: the concurrency tests (8 threads searching one index)
#   scripts/sanitize.sh python   ASan + UBSan in the Python module: the bad-input, hostile-input and file suites
# Build trees: build-asan/, build-tsan/, build-asan-py/. Expects scripts/setup.sh to have run (compilers, libraries).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-address}"
common=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEXTANT_ENABLE_TESTS=ON -DSEXTANT_ENABLE_PYTHON=OFF
        -DSEXTANT_ENABLE_GPU=OFF -DSEXTANT_ENABLE_BENCHS=OFF)
case "$mode" in
  address)
    flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
    cmake -S . -B build-asan "${common[@]}" -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" >/dev/null
    cmake --build build-asan -j2
    # OpenBLAS and OpenMP are not instrumented; their one-off allocations are not ours.
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
      ctest --test-dir build-asan --output-on-failure -j2 -E install_and_find_package
    ;;
  thread)
    flags="-fsanitize=thread -fno-omit-frame-pointer"
    cmake -S . -B build-tsan "${common[@]}" -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" >/dev/null
    cmake --build build-tsan -j2 --target sextant_tests
    # One OpenMP thread: libgomp is not instrumented, so its own synchronisation would look like races;
    # the threads under test are the test's own std::threads.
    OMP_NUM_THREADS=1 TSAN_OPTIONS=halt_on_error=1 build-tsan/tests/sextant_tests --gtest_filter='EveryIndex/Concurren*'
    ;;
  python)
    flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
    cmake -S . -B build-asan-py -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEXTANT_ENABLE_TESTS=OFF -DSEXTANT_ENABLE_PYTHON=ON \
      -DSEXTANT_ENABLE_GPU=OFF -DSEXTANT_ENABLE_BENCHS=OFF -Dpybind11_DIR="$(python3 -m pybind11 --cmakedir)" \
      -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_SHARED_LINKER_FLAGS="$flags" -DCMAKE_MODULE_LINKER_FLAGS="$flags" >/dev/null
    cmake --build build-asan-py -j2 --target _sextant
    # The interpreter is not instrumented: the runtimes are preloaded, and its own leaks are not ours.
    # Huge requests must fail as malloc does (MemoryError), not abort. The test that limits the
    # address space is left out: ASan's shadow memory cannot live under RLIMIT_AS.
    LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)" \
      ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allocator_may_return_null=1 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 PYTHONPATH="$PWD/build-asan-py/python" \
      python3 -m pytest -q -p no:cacheprovider tests/python/test_bad_inputs.py tests/python/test_hostile.py \
      tests/python/test_hostile_files.py tests/python/test_index_io.py -k "not allocation_failure_inside_threads"
    ;;
  *) echo "usage: $0 [address|thread|python]" >&2; exit 2 ;;
esac
echo "sanitize ($mode): clean"
