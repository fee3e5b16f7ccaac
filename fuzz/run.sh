#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (address + undefined sanitizers) and
# fuzzes each for a bounded time, one after the other on one core:
#   fuzz/run.sh [seconds per target, default 60] [target...]
# Targets: read_index (sextant and Faiss index files from bytes), index_factory,
# and the embedding producer's readers: safetensors (files from bytes),
# model_config (config.json), tokenizer (tokenizer.json and the text it encodes).
# The committed seeds (fuzz/corpus/<target>) are copied into a working corpus
# under the build directory, so the repository only changes when a finding is
# added by hand: crashing inputs land in $BUILD/artifacts; fix the bug, then
# copy the input into fuzz/corpus/<target>/ (CI replays it through ctest).
# Environment: SEXTANT_FUZZ_BUILD (default build-fuzz), JOBS (build, default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(read_index index_factory safetensors model_config tokenizer)
build="${SEXTANT_FUZZ_BUILD:-build-fuzz}"

CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEXTANT_ENABLE_FUZZ=ON \
  -DSEXTANT_ENABLE_PYTHON=OFF -DSEXTANT_ENABLE_TESTS=OFF -DSEXTANT_ENABLE_EMBED=ON -DSEXTANT_ENABLE_GPU=OFF >/dev/null
cmake --build "$build" -j"${JOBS:-2}" --target $(printf 'fuzz_%s ' "${targets[@]}")

export OMP_NUM_THREADS=1  # one core for the fuzzer, the other for whoever shares the machine
status=0
for t in "${targets[@]}"; do
  work="$build/corpus/$t"
  mkdir -p "$work" "$build/artifacts"
  cp -n fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
  echo "== fuzz_$t for ${seconds}s"
  # rss limit: reading may build the IVF-PQ precomputed table (bounded by a fixed budget).
  "$build/fuzz/fuzz_$t" "$work" -max_total_time="$seconds" -max_len=16384 -timeout=20 -rss_limit_mb=4096 \
    -artifact_prefix="$build/artifacts/$t-" -print_final_stats=1 || status=1
done
exit $status
