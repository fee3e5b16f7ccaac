#!/usr/bin/env bash
# Run HERE (a Debian/Ubuntu x86-64 machine with apt and pip), before a device
# run: gathers into .device-deps/ what scripts/device_run.sh needs and a fresh
# GPU machine (CUDA toolkit, Python with torch, pip; no network) may lack:
#   deb/     OpenBLAS with OpenMP threading and its Fortran runtime (unpacked
#            there under /tmp, never into /), and GoogleTest's sources
#            (Debian's googletest; built there with the machine's own compiler);
#   wheels/  pybind11 (pure Python: any Python 3).
# .device-deps/ is ignored by git: name it in the device tool's `carry` list
# (about 6 MB; the tool carries 64 MiB at most with the working tree).
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
rm -rf .device-deps
mkdir -p .device-deps/deb .device-deps/wheels
packages=(libopenblas0-openmp libgfortran5 libquadmath0 googletest)
if ! (cd .device-deps/deb && apt-get download "${packages[@]}"); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  (cd .device-deps/deb && apt-get download "${packages[@]}")
fi
python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  -d .device-deps/wheels "pybind11>=2.12"
ls -l .device-deps/deb .device-deps/wheels
du -sh .device-deps
