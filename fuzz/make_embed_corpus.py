"""Writes the seed corpora of the embedding producer's fuzz targets (small
files, committed): fuzz/corpus/safetensors (safetensors blobs of every common
dtype), fuzz/corpus/model_config (config.json of BERT and DeepSeek-V2/V3 models,
from the test fixtures plus variants), fuzz/corpus/tokenizer (for each fixed
tokenizer of fuzz_tokenizer.cpp a few texts, and trimmed copies of the test
fixtures' tokenizer.json files followed by a NUL byte and a text).
Needs only numpy. Run from anywhere:
    python3 fuzz/make_embed_corpus.py
"""

import json
import pathlib
import struct

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE / "corpus"
FIXTURES = HERE.parent / "tests" / "fixtures" / "embed"


def compact(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------- safetensors

def safetensors_blob(tensors, metadata=None, align=8):
    """tensors: list of (name, dtype name, shape, raw bytes)."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = compact(header).encode()
    text += b" " * (-len(text) % align)  # the writers pad the header with spaces
    return struct.pack("<Q", len(text)) + text + data


def bf16(values):
    return (np.asarray(values, dtype=np.float32).view(np.uint32) >> 16).astype("<u2").tobytes()


def safetensors_seeds(rng):
    f32 = rng.standard_normal((2, 3)).astype("<f4")
    yield "f32", safetensors_blob([("weight", "F32", f32.shape, f32.tobytes())])
    yield "mixed", safetensors_blob([
        ("bert.embeddings.word_embeddings.weight", "F16", (4, 2), rng.standard_normal((4, 2)).astype("<f2").tobytes()),
        ("bert.embeddings.LayerNorm.weight", "BF16", (2,), bf16([1.0, -0.5])),
        ("bert.embeddings.position_ids", "I64", (1, 4), np.arange(4, dtype="<i8").tobytes()),
        ("pooler.dense.bias", "F32", (2,), np.array([0.25, -1], dtype="<f4").tobytes()),
    ], metadata={"format": "pt"})
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 6.1e-5, 1e-8, 65504], dtype="<f2")
    yield "f16_special", safetensors_blob([("h", "F16", (8,), special.tobytes()),
                                           ("b", "BF16", (2, 2), bf16([np.nan, np.inf, 1e-40, -3]))])
    fp8 = rng.integers(0, 256, size=(4, 6), dtype=np.uint8)
    yield "fp8_block", safetensors_blob([
        ("model.layers.0.mlp.down_proj.weight", "F8_E4M3", (4, 6), fp8.tobytes()),
        ("model.layers.0.mlp.down_proj.weight_scale_inv", "F32", (1, 1), np.array([0.5], dtype="<f4").tobytes()),
    ], metadata={"format": "pt"})
    yield "f64_ints", safetensors_blob([
        ("d", "F64", (3,), np.array([1.5, -2, 1e300], dtype="<f8").tobytes()),
        ("i32", "I32", (2,), np.array([7, -7], dtype="<i4").tobytes()),
        ("u8", "U8", (3,), bytes([0, 128, 255])), ("mask", "BOOL", (2,), bytes([0, 1])),
        ("i16", "I16", (1,), struct.pack("<h", -2)), ("e5m2", "F8_E5M2", (2,), bytes([0x3C, 0xFC])),
    ])
    yield "empty_and_scalar", safetensors_blob([
        ("empty", "F32", (0, 4), b""), ("scalar", "F32", (), struct.pack("<f", 3.0)),
        ("zero_dim", "I64", (2, 0, 3), b""),
    ])
    yield "no_tensors", safetensors_blob([], metadata={"format": "pt"})
    yield "unaligned", safetensors_blob([("a", "U16", (3,), struct.pack("<3H", 1, 2, 3)),
                                         ("b", "BF16", (1,), bf16([2.0]))], align=1)


# ---------------------------------------------------------------- config.json

def config_seeds():
    for name in ["bert", "deepseek_v2", "deepseek_v3", "deepseek_v3_yarn"]:
        yield name, json.loads((FIXTURES / name / "config.json").read_text(encoding="utf-8"))
    yield "bert_defaults", {"model_type": "bert"}
    yield "bert_relu", {"model_type": "bert", "hidden_size": 32, "num_attention_heads": 2, "hidden_act": "relu",
                        "layer_norm_eps": 1e-5, "position_embedding_type": "absolute", "vocab_size": 10}
    v3 = json.loads((FIXTURES / "deepseek_v3" / "config.json").read_text(encoding="utf-8"))
    v3.pop("rope_parameters", None)
    v3["rope_theta"] = 10000
    v3["rope_scaling"] = {"type": "yarn", "factor": 40, "original_max_position_embeddings": 4096,
                          "beta_fast": 32, "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 1.0}
    v3["quantization_config"] = {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8",
                                 "weight_block_size": [128, 128]}
    yield "deepseek_v3_fp8_rope_scaling", v3
    yield "deepseek_v2_lite", {
        "model_type": "deepseek_v2", "vocab_size": 102400, "hidden_size": 2048, "intermediate_size": 10944,
        "moe_intermediate_size": 1408, "num_hidden_layers": 27, "num_attention_heads": 16, "q_lora_rank": None,
        "kv_lora_rank": 512, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128,
        "n_routed_experts": 64, "n_shared_experts": 2, "num_experts_per_tok": 6, "first_k_dense_replace": 1,
        "moe_layer_freq": 1, "n_group": 1, "topk_group": 1, "topk_method": "group_limited_greedy",
        "scoring_func": "softmax", "norm_topk_prob": False, "routed_scaling_factor": 1.0,
        "rope_scaling": {"type": "yarn", "factor": 40, "original_max_position_embeddings": 4096,
                         "beta_fast": 32, "beta_slow": 1, "mscale": 0.707, "mscale_all_dim": 0.707},
        "max_position_embeddings": 163840, "rms_norm_eps": 1e-6, "rope_theta": 10000}
    yield "deepseek_v3_dense", {"model_type": "deepseek_v3", "vocab_size": 64, "hidden_size": 16,
                                "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                                "rope_parameters": {"rope_type": "default", "rope_theta": 5e5}}


# ---------------------------------------------------------------- tokenizers

TEXTS = [
    "Hello, world! This is a simple sentence.",
    "Café, naïve, résumé, déjà vu, Ångström, Straße, İstanbul.",
    "東京は日本の首都です。北京是中国的首都。 한국어 문장",
    "Emoji: 🙂😀👍🏽 ❤️ 🚀 and numbers 1234567890, 3.14159",
    "Tabs\tand\nnewlines\r\nand   multiple    spaces   ",
    "don't won't it's we're they've I'm you'll he'd -- x",
    "[CLS] special [SEP] [MASK] tokens <｜begin▁of▁sentence｜>the<｜User｜> the other",
    "Control\u0007chars\u200band zero\u200dwidth\u00a0nbsp e\u0301 ﬁ ½ Ｆｕｌｌ",
    "x" * 120,
]
INVALID_UTF8 = [b"bad \xff\xfe utf-8 \xc3\x28 \xe2\x82 \xf0\x9f\x98", b"\xed\xa0\x80 surrogate \xc0\xaf overlong \x00 nul"]


def trimmed_wordpiece():
    spec = json.loads((FIXTURES / "tokenizers" / "wordpiece.json").read_text(encoding="utf-8"))
    vocab = spec["model"]["vocab"]
    spec["model"]["vocab"] = {t: i for t, i in vocab.items() if i < 160}
    spec.pop("decoder", None)
    spec["post_processor"]["pair"] = []
    return spec


def trimmed_bpe(name, merges=60):
    spec = json.loads((FIXTURES / "tokenizers" / name).read_text(encoding="utf-8"))
    model = spec["model"]
    vocab = model["vocab"]
    kept = {t: i for t, i in vocab.items() if i < 258}
    model["merges"] = [m for m in model["merges"][:merges] if all(p in kept for p in m)]
    for left, right in model["merges"]:
        kept[left + right] = vocab[left + right]
    model["vocab"] = kept
    spec.pop("decoder", None)
    spec["post_processor"]["pair"] = []
    return spec


def tokenizer_variants():
    wp = trimmed_wordpiece()
    yield "wordpiece", wp
    wp2 = json.loads(compact(wp))
    wp2["post_processor"] = {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]}
    wp2["truncation"] = {"direction": "Right", "max_length": 8, "strategy": "LongestFirst", "stride": 0}
    wp2["padding"] = {"strategy": "BatchLongest", "direction": "Right", "pad_to_multiple_of": 4, "pad_id": 0,
                      "pad_type_id": 0, "pad_token": "[PAD]"}
    wp2["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "Replace", "pattern": {"String": "``"}, "content": "\""}, {"type": "Lowercase"},
        {"type": "StripAccents"}, {"type": "Strip", "strip_left": True, "strip_right": True}]}
    wp2["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"},
                                                                  {"type": "Digits", "individual_digits": False}]}
    yield "wordpiece_processing", wp2
    yield "bpe_deepseek_v3", trimmed_bpe("bpe_deepseek_v3.json")
    gpt2 = trimmed_bpe("bpe_gpt2.json")
    gpt2["post_processor"] = {"type": "Sequence", "processors": [
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        {"type": "RobertaProcessing", "sep": ["<｜end▁of▁sentence｜>", 1], "cls": ["<｜begin▁of▁sentence｜>", 0],
         "trim_offsets": True, "add_prefix_space": True}]}
    yield "bpe_gpt2", gpt2
    split = trimmed_bpe("bpe_deepseek_v3.json", merges=20)
    split["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithNext", "invert": False},
        {"type": "Split", "pattern": {"Regex": "\\s?[^\\s\\p{L}\\p{N}]+"}, "behavior": "Contiguous", "invert": False},
        {"type": "Split", "pattern": {"Regex": "\\s+$"}, "behavior": "Removed", "invert": True},
        {"type": "Split", "pattern": {"Regex": "\\p{N}+"}, "behavior": "MergedWithPrevious", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": False}]}
    split["model"]["ignore_merges"] = True
    split["normalizer"] = {"type": "Prepend", "prepend": "\u2581"}
    yield "bpe_split_behaviours", split
    # SentencePiece-style BPE: byte fallback, string merges, an unknown token.
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(0, 256, 5):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    merges = []
    for word in ["▁the", "▁a", "in", "ab"]:
        prefix = word[0]
        vocab.setdefault(prefix, len(vocab))
        for c in word[1:]:
            vocab.setdefault(c, len(vocab))
            vocab.setdefault(prefix + c, len(vocab))
            merges.append(f"{prefix} {c}")
            prefix += c
    yield "bpe_byte_fallback", {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": 1, "content": "<s>", "special": True}, {"id": 2, "content": "</s>", "special": True}],
        "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"},
                                                           {"type": "Replace", "pattern": {"String": " "},
                                                            "content": "▁"}]},
        "pre_tokenizer": None,
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                      {"Sequence": {"id": "A", "type_id": 0}},
                                      {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                           "pair": [], "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]},
                                                          "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "fuse_unk": True, "byte_fallback": True,
                  "vocab": vocab, "merges": merges}}


def tokenizer_seeds():
    texts = [t.encode() for t in TEXTS] + INVALID_UTF8
    # Modes 0..3: the fixed tokenizers; the first byte also picks a truncation length (byte / 5).
    for mode in range(4):
        for i, text in enumerate(texts):
            first = mode + 5 * (0 if i % 3 else 3 + i)
            yield f"fixed{mode}_{i}", bytes([first]) + text
    # Mode 4: tokenizer.json, a NUL byte, the text.
    for i, (name, spec) in enumerate(tokenizer_variants()):
        for j in range(2):
            text = texts[(3 * i + j) % len(texts)]
            yield f"json_{name}_{j}", bytes([4 + 5 * (6 * j)]) + compact(spec).encode() + b"\0" + text


def main():
    rng = np.random.default_rng(0)
    groups = {"safetensors": list(safetensors_seeds(rng)),
              "model_config": [(n, compact(c).encode()) for n, c in config_seeds()],
              "tokenizer": list(tokenizer_seeds())}
    for target, seeds in groups.items():
        out = ROOT / target
        out.mkdir(parents=True, exist_ok=True)
        for name, data in seeds:
            assert len(data) <= 16384, (target, name, len(data))  # fuzz/run.sh's -max_len
            (out / f"seed_{name}").write_bytes(data)


if __name__ == "__main__":
    main()
