#!/usr/bin/env bash
# Installs what the integration tests and tutorials need besides sextant: LangChain's and
# LlamaIndex's Faiss vector stores, in their smallest packages (no model, no LLM client;
# the tests embed with a hash or with sextant's own MiniLM). Idempotent and quiet.
#   tests/setup.sh            # uses the `python3` on PATH
#   PYTHON=python3.11 tests/setup.sh
set -euo pipefail
PYTHON="${PYTHON:-python3}"
PIP_ROOT_USER_ACTION=ignore "$PYTHON" -m pip install --quiet --disable-pip-version-check \
  "langchain-core>=0.3,<2" "langchain-community>=0.3,<0.5" \
  "llama-index-core>=0.12,<0.15" "llama-index-vector-stores-faiss>=0.3,<0.8"
"$PYTHON" - <<'PY'
from importlib.metadata import version
print("integration packages ready:", ", ".join(f"{p} {version(p)}" for p in
      ("langchain-core", "langchain-community", "llama-index-core", "llama-index-vector-stores-faiss")))
PY
