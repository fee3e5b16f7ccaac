"""Index files that pass the framing checks (a sextant file's checksum is recomputed after
the lie) but hold a value whose harm would show later: each is refused when read, with or
without mmap, or loads harmless and survives an add and a search. The files are the
committed fuzz findings (fuzz/make_hostile_corpus.py writes them; ctest replays them too)."""
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import sextant as sx

CORPUS = pathlib.Path(__file__).resolve().parents[2] / "fuzz" / "corpus" / "read_index"

REFUSED = {
    "refineflat-ivf-next-id-2p31": "labels that are not positions",
    "idmap-ivf-next-id-1e8": "labels that are not positions",
    "hnsw-nan-vector": "NaN",
    "flat-nan-vector": "must be finite",
    "flat-overflowing-vector": "squared L2 norm",
    "flat-lying-norm": "stored squared norm",
    "ivfflat-inf-code": "must be finite",
    "ivf-negative-id": "holds id -1",
    "sqfp16-inf-code": "decodes to a vector with NaN",
    "pq-huge-centroid": "above the limit",
    "pq-aniso-threshold-7": "anisotropic threshold",
    "sq8-huge-range": "above the limit",
    "idmap-negative-id": "negative",
    "faiss-hnsw-nan-vector": "must be finite",
    "rabitq-nan-factor": "NaN or infinite correction factor",
    "faiss-rabitq-nan-center": "centroid has a NaN",
    "pqfs-ntotal-wraps": "the header says",
    "rabitqfs-ntotal-wraps": "the header says",
}
HARMLESS = ["hnsw-efconstruction-2p30", "faiss-hnsw-efconstruction-2p30"]


def finding(name):
    path = CORPUS / f"finding-{name}"
    if not path.exists() and name.startswith("faiss"):
        pytest.skip("written with faiss-cpu")
    return path


@pytest.mark.parametrize("name", sorted(REFUSED))
@pytest.mark.parametrize("mmap", [False, True])
def test_lying_file_is_refused(name, mmap):
    with pytest.raises(ValueError, match=REFUSED[name]):
        sx.read_index(finding(name), mmap=mmap)


@pytest.mark.parametrize("name", HARMLESS)
def test_huge_parameter_is_harmless(name):
    # efConstruction = 2^30 used to allocate 8 GB at the next add; under 600 MB it must just work.
    code = textwrap.dedent(f"""
        import resource
        import numpy as np, sextant as sx
        index = sx.read_index({str(finding(name))!r})
        x = np.random.default_rng(0).standard_normal((200, index.d)).astype('float32')
        index.search(x, 5)  # the threads exist before the limit (glibc aborts a thread without TLS)
        with open('/proc/self/statm') as f:
            limit = int(f.read().split()[0]) * resource.getpagesize() + 600 * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        index.add(x)
        D, I = index.search(x[:10], 1)
        assert (I[:, 0] == np.arange(index.ntotal - 200, index.ntotal - 190)).all()
        print("ok")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]


def test_the_hostile_files_are_committed():
    names = {p.name[len("finding-"):] for p in CORPUS.glob("finding-*")}
    written = set(REFUSED) | set(HARMLESS)
    assert written - {n for n in written if n.startswith("faiss")} <= names
