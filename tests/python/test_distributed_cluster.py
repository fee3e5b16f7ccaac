"""sextant.distributed on a Ray cluster of two nodes on this machine (ray.cluster_utils.Cluster):
shard tasks and actors spread over the nodes, and the answers are those of one index."""
import os

import numpy as np
import pytest

import sextant as sx

ray = pytest.importorskip("ray")
sxd = pytest.importorskip("sextant.distributed")
from ray.cluster_utils import Cluster  # noqa: E402


@pytest.fixture(scope="module")
def two_nodes():
    env = {"PYTHONPATH": os.environ["PYTHONPATH"]} if os.environ.get("PYTHONPATH") else {}
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False, runtime_env={"env_vars": env})
    yield cluster
    ray.shutdown()
    cluster.shutdown()


def test_build_and_search_across_two_nodes(two_nodes, tmp_path, rng):
    assert len([n for n in ray.nodes() if n["Alive"]]) == 2
    xb = rng.standard_normal((3000, 16), dtype=np.float32)
    xq = rng.standard_normal((40, 16), dtype=np.float32)
    np.save(tmp_path / "base.npy", xb)
    manifest = sxd.build([tmp_path / "base.npy"], "Flat", shards=2, out_dir=tmp_path / "index", metric="ip",
                         progress=False)
    assert manifest.ntotal == 3000
    one = sx.IndexFlatIP(16)
    one.add(xb)
    with sxd.ShardedIndex.open(manifest.path, replicas=2, num_cpus=0.5) as index:
        stats = [replica for shard in index.stats() for replica in shard]
        assert len({r["node"] for r in stats}) == 2 and len({r["pid"] for r in stats}) == 4  # spread over the nodes
        D, I = index.search(xq, 10)
        D1, I1 = one.search(xq, 10)
        np.testing.assert_array_equal(I, I1)
        np.testing.assert_array_equal(D, D1)
