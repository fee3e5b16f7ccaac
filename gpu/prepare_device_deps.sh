#!/usr/bin/env bash
# Run HERE (a Debian/Ubuntu x86-64 machine with apt), from the repository
# root, before a device run: downloads the few system packages the build needs
# that the H200 image may lack (OpenBLAS with OpenMP threading and its Fortran
# runtime, GoogleTest) as .deb files into .device-deps/ (ignored: .gitignore).
# gpu/run_device.sh unpacks them under /tmp on the device machine, never into /,
# and uses them only when the machine has no copy of its own. Name .device-deps
# in the device tool's `carry` list. About 10 MB.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
mkdir -p .device-deps
cd .device-deps
apt-get download libopenblas0-openmp libgfortran5 libquadmath0 libgtest-dev
ls -la
