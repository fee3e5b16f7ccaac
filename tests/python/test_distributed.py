"""sextant.distributed on a local Ray instance (ray.init(num_cpus=2)): sharded builds and
searches answer like one index, faults are survived or reported, manifests are checked."""
import glob
import json
import os
import pathlib
import signal

import numpy as np
import pytest

import sextant as sx

ray = pytest.importorskip("ray")
sxd = pytest.importorskip("sextant.distributed")
from sextant.distributed.sources import FileRows  # noqa: E402

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "embed"
D = 24


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    # Workers import sextant as this process does (a build tree on PYTHONPATH, or the installed package).
    env = {"PYTHONPATH": os.environ["PYTHONPATH"]} if os.environ.get("PYTHONPATH") else {}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": env})
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """4,001 clustered vectors in two .npy files (ids run across them), queries near them."""
    from sextant.contrib import datasets

    root = tmp_path_factory.mktemp("data")
    xb = datasets.clustered(4001, D, 40, seed=1)
    xq = datasets.clustered(60, D, 40, seed=2)
    np.save(root / "a.npy", xb[:2500])
    np.save(root / "b.npy", xb[2500:].astype(np.float64))  # any real dtype is read as float32
    return root, xb, xq, [root / "a.npy", root / "b.npy"]


def recall(I, gt):
    return np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(I, gt)])


def test_file_sources_read_rows_across_files(tmp_path, rng):
    from sextant.contrib import datasets

    x = rng.standard_normal((50, 6)).astype(np.float32)
    np.save(tmp_path / "a.npy", x[:20].astype(np.float16))
    np.save(tmp_path / "f.npy", np.asfortranarray(x[20:30]))
    datasets.write_vecs(tmp_path / "b.fvecs", x[30:])
    source = sxd.FileSource([tmp_path / "a.npy", tmp_path / "f.npy", tmp_path / "b.fvecs"])
    assert (source.nrows, source.d) == (50, 6)
    parts = source.parts(3)
    got = np.concatenate([batch for part in parts for batch in part.batches(batch_rows=7)])
    np.testing.assert_allclose(got, x, rtol=1e-3)  # float16 rows are as float16 keeps them
    np.testing.assert_array_equal(got[20:], x[20:])
    sample = source.sample(12, seed=3)
    rows = np.sort(np.random.default_rng(3).choice(50, size=12, replace=False))
    np.testing.assert_array_equal(sample, got[rows])
    raw = bytearray((tmp_path / "b.fvecs").read_bytes())
    raw[(4 + 24) * 5:(4 + 24) * 5 + 4] = (7).to_bytes(4, "little")  # row 5 claims 7 dimensions
    (tmp_path / "b.fvecs").write_bytes(bytes(raw))
    with pytest.raises(sxd.SourceError, match="dimension 7, expected 6"):
        list(sxd.FileSource([tmp_path / "b.fvecs"]).parts(1)[0].batches())
    (tmp_path / "c.fvecs").write_bytes(raw[:-3])
    with pytest.raises(sxd.SourceError, match="whole number"):
        sxd.FileSource([tmp_path / "c.fvecs"])
    with pytest.raises(sxd.SourceError, match="different dimensions"):
        np.save(tmp_path / "d.npy", x[:, :4])
        sxd.FileSource([tmp_path / "a.npy", tmp_path / "d.npy"])


def test_flat_shards_answer_like_one_index_bit_for_bit(data, tmp_path):
    root, xb, xq, files = data
    for metric, one in (("l2", sx.IndexFlatL2(D)), ("ip", sx.IndexFlatIP(D))):
        out = tmp_path / metric
        manifest = sxd.build(files, "Flat", shards=3, out_dir=out, metric=metric, progress=False)
        assert manifest.ntotal == 4001 and [s["id_offset"] for s in manifest.shards] == [0, 1333, 2667]
        assert sorted(os.listdir(out)) == ["manifest.json", "shard-00000.sxt", "shard-00001.sxt", "shard-00002.sxt"]
        modes = {f: os.stat(out / f).st_mode for f in os.listdir(out)}
        assert len(set(modes.values())) == 1, modes  # the manifest is as readable as the shards
        one.add(xb)
        with sxd.ShardedIndex.open(out / "manifest.json", replicas=2, num_cpus=0.25) as index:
            assert (index.nshards, index.replicas, index.ntotal, index.d) == (3, 2, 4001, D)
            for k in (1, 10, 50):
                D1, I1 = one.search(xq, k)
                D2, I2 = index.search(xq, k)
                np.testing.assert_array_equal(I1, I2)
                np.testing.assert_array_equal(D1, D2)
            sel = sx.IDSelectorRange(1000, 3000)  # over the global ids, across shard boundaries
            np.testing.assert_array_equal(one.search(xq, 5, sel=sel)[1], index.search(xq, 5, sel=sel)[1])
            radius = 4.0 if metric == "l2" else 10.0
            for a, b in zip(one.range_search(xq, radius), index.range_search(xq, radius)):
                np.testing.assert_array_equal(a, b)


def test_dataset_source_and_bad_input(data, tmp_path):
    root, xb, xq, files = data
    dataset = ray.data.from_numpy(xb)  # one column, "data"
    sxd.build(dataset, "Flat", shards=2, out_dir=tmp_path, column="data", progress=False)
    one = sx.IndexFlatL2(D)
    one.add(xb)
    with sxd.ShardedIndex.open(tmp_path, num_cpus=0.5) as index:
        np.testing.assert_array_equal(index.search(xq, 7)[1], one.search(xq, 7)[1])
        with pytest.raises(ValueError, match=r"shape \(n, 24\)"):
            index.search(xq[:, :5], 3)
        with pytest.raises(TypeError, match="numeric"):
            index.search(np.array([["a"] * D]), 3)
        with pytest.raises(ValueError, match="NaN"):
            index.search(np.full((1, D), np.nan), 3)
        with pytest.raises(ValueError, match="k must be"):
            index.search(xq, 0)
        with pytest.raises(ValueError, match="nprobe"):
            index.search(xq, 3, nprobe=4)  # a flat shard reads no nprobe: its error comes back as it is
        with pytest.raises(TypeError, match="keywords"):
            index.search(xq, 3, params=sx.SearchParams())
    with pytest.raises(FileExistsError):
        sxd.build(dataset, "Flat", shards=2, out_dir=tmp_path, column="data")
    with pytest.raises(ValueError, match="no column 'vector'"):
        sxd.build(dataset, "Flat", shards=2, out_dir=tmp_path / "x")
    with pytest.raises(ValueError, match="shards must be"):
        sxd.build(files, "Flat", shards=0, out_dir=tmp_path / "x")
    with pytest.raises(ValueError, match="cannot parse"):
        sxd.build(files, "IVF0,Flat", shards=2, out_dir=tmp_path / "x")
    with pytest.raises(ValueError, match="IDMap"):
        sxd.build(files, "IDMap,Flat", shards=2, out_dir=tmp_path / "x")
    with pytest.raises(ValueError, match="metric"):
        sxd.build(files, "Flat", shards=2, out_dir=tmp_path / "x", metric="cosine")
    with pytest.raises(ValueError, match="does not exist"):
        sxd.build([root / "missing.npy"], "Flat", shards=2, out_dir=tmp_path / "x")


def test_approximate_shards_keep_the_recall_of_one_index(data, tmp_path):
    root, xb, xq, files = data
    _, gt = sx.knn(xq, xb, 10)
    # IVF-PQ: shards of one trained index probe the same lists with the same codes.
    manifest = sxd.build(files, "IVF32,PQ8", shards=4, out_dir=tmp_path / "ivfpq", train_sample=4001,
                         progress=False)
    one = sx.index_factory(D, "IVF32,PQ8")
    one.train(xb)
    one.add(xb)
    # HNSW: four smaller graphs instead of one; at a working efSearch both find nearly everything.
    sxd.build(files, "HNSW16", shards=4, out_dir=tmp_path / "hnsw", progress=False)
    hnsw = sx.index_factory(D, "HNSW16")
    hnsw.add(xb)
    for path, single, knobs in ((tmp_path / "ivfpq", one, {"nprobe": 8}), (tmp_path / "hnsw", hnsw, {"efSearch": 64})):
        with sxd.ShardedIndex.open(path, num_cpus=0.5) as index:
            r_sharded = recall(index.search(xq, 10, **knobs)[1], gt)
            r_single = recall(single.search(xq, 10, **knobs)[1], gt)
            assert abs(r_sharded - r_single) <= 0.005, (path.name, r_sharded, r_single)
            assert r_single > 0.6
    # The shard files merge back into the one index (ids shifted by each shard's offset).
    merged = sx.read_index(manifest.shard_path(0))
    for s in range(1, 4):
        merged.merge_from(sx.read_index(manifest.shard_path(s)), manifest.shards[s]["id_offset"])
    for a, b in zip(merged.search(xq, 10, nprobe=8), one.search(xq, 10, nprobe=8)):
        np.testing.assert_array_equal(a, b)


def test_dead_actors_restart_or_are_reported(data, tmp_path):
    root, xb, xq, files = data
    sxd.build(files, "Flat", shards=2, out_dir=tmp_path, progress=False)
    expected = sx.knn(xq, xb, 5)
    with sxd.ShardedIndex.open(tmp_path, num_cpus=0.5, max_restarts=2) as index:
        pid = index.stats()[1][0]["pid"]
        os.kill(pid, signal.SIGKILL)  # the actor of shard 1 dies
        D, I = index.search(xq, 5)  # Ray restarts it; it reloads its shard; the call is sent again
        np.testing.assert_array_equal(I, expected[1])
        assert index.stats()[1][0]["pid"] != pid
    with sxd.ShardedIndex.open(tmp_path, num_cpus=0.5, max_restarts=0) as index:
        ray.kill(index.actor(1))
        with pytest.raises(sxd.ShardUnavailableError, match="shard 1"):
            index.search(xq, 5)
        D, I, missing = index.search(xq, 5, allow_partial=True)
        assert missing == [1]
        assert (I < 2000).all()  # shard 0's ids only, and its nearest ones
        lims, _, I_range, missing = index.range_search(xq, 1e9, allow_partial=True)
        assert missing == [1] and lims[-1] == 60 * 2000


def test_failed_build_task_is_retried_without_leftovers(data, tmp_path):
    root, xb, xq, files = data
    marker = tmp_path / "failed-once"
    out = tmp_path / "index"

    class DyingRows(FileRows):
        def batches(self, batch_rows=65536):
            if self.dies and not marker.exists():
                marker.touch()
                (out / "shard-00001.sxt.tmp.dead01").write_bytes(b"half a shard")
                os._exit(1)  # the worker process ends in the middle of writing its shard
            yield from super().batches(batch_rows)

    class DiesOnce(sxd.FileSource):
        """Shard 1's first try dies."""

        def parts(self, n):
            parts = [DyingRows(p.source, p.lo, p.hi) for p in super().parts(n)]
            for s, part in enumerate(parts):
                part.dies = s == 1
            return parts

    manifest = sxd.build(DiesOnce(files), "IVF16,Flat", shards=3, out_dir=out, retries=2, progress=False)
    assert marker.exists()  # it did die once
    assert sorted(os.listdir(out)) == ["manifest.json", "shard-00000.sxt", "shard-00001.sxt", "shard-00002.sxt"]
    with sxd.ShardedIndex.open(manifest.path, num_cpus=0.5) as index:
        _, gt = sx.knn(xq, xb, 10)
        assert recall(index.search(xq, 10, nprobe=16)[1], gt) == 1.0

    class AlwaysFails(sxd.FileSource):
        def sample(self, n, seed):
            raise OSError("the disk is gone")

    with pytest.raises(sxd.BuildError, match="training failed: OSError: the disk is gone"):
        sxd.build(AlwaysFails(files), "IVF16,Flat", shards=2, out_dir=tmp_path / "never", retries=1)
    assert not glob.glob(str(tmp_path / "never" / "*"))


def test_manifest_tampering_is_refused(data, tmp_path):
    root, xb, xq, files = data
    manifest = sxd.build(files, "Flat", shards=2, out_dir=tmp_path, progress=False)
    path = tmp_path / "manifest.json"
    good = json.loads(path.read_text())

    def open_with(edit):
        data = json.loads(json.dumps(good))
        edit(data)
        path.write_text(json.dumps(data))
        return sxd.ShardedIndex.open(path, num_cpus=0.5)

    with pytest.raises(sxd.ManifestError, match="shard 1: file .* checksum"):
        open_with(lambda m: m["shards"][1].update(xxh64="0" * 16))
    with pytest.raises(sxd.ManifestError, match="follow the previous shard"):
        open_with(lambda m: m["shards"][1].update(id_offset=5))
    with pytest.raises(sxd.ManifestError, match="must be a file name"):
        open_with(lambda m: m["shards"][0].update(file="../elsewhere.sxt"))
    with pytest.raises(sxd.ManifestError, match="version"):
        open_with(lambda m: m.update(version=99))
    path.write_text("{not json")
    with pytest.raises(sxd.ManifestError, match="JSON"):
        sxd.ShardedIndex.open(path)
    path.write_text(json.dumps(good))
    shard1 = pathlib.Path(manifest.shard_path(1))
    sx.write_index(sx.IndexFlatL2(D), shard1)  # replaced by another index
    with pytest.raises(sxd.ManifestError, match="shard 1"):
        sxd.ShardedIndex.open(path)
    shard1.unlink()
    with pytest.raises(sxd.ManifestError, match="shard 1: file .* is missing"):
        sxd.ShardedIndex.open(path)


def test_text_through_the_embedding_producer(tmp_path):
    model = FIXTURES / "bert"
    texts = [f"sentence number {i} about {topic}" for i, topic in enumerate(["ships", "stars", "maps"] * 12)]
    (tmp_path / "corpus.txt").write_text("\n".join(texts) + "\n")
    vectors = sxd.embed(tmp_path / "corpus.txt", model, batch_size=8, concurrency=2, num_cpus=0.5)
    sxd.build(vectors, "Flat", shards=2, out_dir=tmp_path / "index", metric="ip", progress=False)
    encoder = sx.embed.Encoder.from_pretrained(model)
    local = encoder.encode(texts)
    one = sx.IndexFlatIP(local.shape[1])
    one.add(local)
    with sxd.ShardedIndex.open(tmp_path / "index", num_cpus=0.5) as index:
        assert index.ntotal == len(texts)
        D1, I1 = one.search(local[:5], 4)
        D2, I2 = index.search(local[:5], 4)
        np.testing.assert_array_equal(I1[:, 0], np.arange(5))
        np.testing.assert_array_equal(I2[:, 0], np.arange(5))  # the text of line i has id i
        np.testing.assert_allclose(D1, D2, rtol=1e-5)
    with pytest.raises(ValueError, match="pooling"):
        sxd.embed(texts, model, pooling="none")


def test_command_line(data, tmp_path, capsys):
    from sextant import cli

    root, xb, xq, files = data
    np.save(tmp_path / "q.npy", xq)
    out = tmp_path / "index"
    assert cli.main(["build", "--factory", "IVF16,Flat", "--input", str(files[0]), "--shards", "2", "--max-train",
                     "2000", "-o", str(out)]) == 0
    assert cli.main(["info", str(out)]) == 0
    info = capsys.readouterr().out
    assert "2 shards" in info and "ids 1,250..2,499" in info and info.count(": ok") == 2
    assert cli.main(["search", str(out / "manifest.json"), "--queries", str(tmp_path / "q.npy"), "-k", "5",
                     "--nprobe", "16", "--replicas", "2", "-o", str(tmp_path / "I.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "I.npy"), sx.knn(xq, xb[:2500], 5)[1])
    assert cli.main(["bench", str(out), "--queries", str(tmp_path / "q.npy"), "--base", str(files[0]),
                     "--nprobe", "16", "--repeat", "1"]) == 0
    assert "1.0000" in capsys.readouterr().out  # nprobe = nlist: exact
    assert cli.main(["build", "--factory", "Flat", "--input", str(files[0]), "--ray", "-o", str(tmp_path / "x")]) == 1
    assert "give --shards" in capsys.readouterr().err
    assert cli.main(["build", "--factory", "Flat", "--input", str(files[0]), "--shards", "2", "--train",
                     str(files[0]), "-o", str(tmp_path / "x")]) == 1
    assert "--train is not used with --shards" in capsys.readouterr().err
    assert cli.main(["build", "--factory", "Flat", "--input", str(files[0]), "--shards", "2", "-o", str(out)]) == 1
    assert "overwrite" in capsys.readouterr().err


def test_progress_bars_per_shard_on_a_terminal_only():
    import io

    from sextant.distributed.progress import Bars

    stream = io.StringIO()
    bars = Bars([10, 20], "2 shards", enabled=True, stream=stream)
    bars.draw([5, 20])
    bars.draw([10, 20])
    lines = stream.getvalue().split("\x1b[3F")  # the second drawing starts back on the first line
    assert len(lines) == 2 and lines[1].count("\n") == 3
    assert "shard 0 [" in lines[1] and "100% 10/10" in lines[1] and "2 shards [" in lines[1]
    quiet = io.StringIO()
    Bars([10], "1 shard", stream=quiet).draw([10])  # StringIO is no terminal
    assert quiet.getvalue() == ""
