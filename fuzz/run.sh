#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (address + undefined sanitizers) and
# fuzzes each for a bounded time, one after the other on one core:
#   fuzz/run.sh [seconds per target, default 60] [target...]
# Targets: read_sextant and read_faiss (index files from bytes, one reader
# each, mutated by a structure-aware mutator that keeps a sextant file's
# checksum valid), index_factory, and the embedding producer's readers:
# safetensors (files from bytes), model_config (config.json), tokenizer
# (tokenizer.json and the text it encodes).
# The committed seeds (fuzz/corpus/<target>; both index-file targets draw on
# fuzz/corpus/read_index, each taking the files of its format) are copied into
# a working corpus under the build directory, so the repository only changes
# when a finding is added by hand: crashing inputs land in $BUILD/artifacts;
# fix the bug, then copy the input into fuzz/corpus/<corpus>/ (CI replays it
# through ctest).
# Environment: SEXTANT_FUZZ_BUILD (default build-fuzz), JOBS (build, default 2).
# Needs clang (libFuzzer ships with it): installed with apt when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(read_sextant read_faiss index_factory safetensors model_config tokenizer)
build="${SEXTANT_FUZZ_BUILD:-build-fuzz}"

if ! command -v clang++ >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang >/dev/null
fi
command -v clang++ >/dev/null || { echo "fuzz/run.sh needs clang++ (libFuzzer)" >&2; exit 1; }

CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEXTANT_ENABLE_FUZZ=ON \
  -DSEXTANT_ENABLE_PYTHON=OFF -DSEXTANT_ENABLE_TESTS=OFF -DSEXTANT_ENABLE_EMBED=ON -DSEXTANT_ENABLE_GPU=OFF >/dev/null
cmake --build "$build" -j"${JOBS:-2}" --target $(printf 'fuzz_%s ' "${targets[@]}")

export OMP_NUM_THREADS=1  # one core for the fuzzer, the other for whoever shares the machine
status=0
for t in "${targets[@]}"; do
  work="$build/corpus/$t"
  mkdir -p "$work" "$build/artifacts"
  case "$t" in
    read_sextant | read_faiss)
      want=$([ "$t" = read_sextant ] && echo yes || echo no)
      for f in fuzz/corpus/read_index/*; do
        is_sextant=$(cmp -s -n 7 "$f" <(printf SEXTANT) && echo yes || echo no)
        if [ "$is_sextant" = "$want" ]; then cp -n "$f" "$work"/; fi
      done ;;
    *) cp -n fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true ;;
  esac
  echo "== fuzz_$t for ${seconds}s"
  # rss limit: reading may build the IVF-PQ precomputed table (bounded by a fixed budget).
  "$build/fuzz/fuzz_$t" "$work" -max_total_time="$seconds" -max_len=32768 -timeout=20 -rss_limit_mb=4096 \
    -artifact_prefix="$build/artifacts/$t-" -print_final_stats=1 || status=1
done
exit $status
