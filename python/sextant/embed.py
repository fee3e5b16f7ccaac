"""The embedding producer: Hugging Face checkpoints (BERT-family encoders,
DeepSeek-V2/V3 decoders) turned into float32 vectors, ready for an index.

    import sextant as sx
    enc = sx.embed.Encoder.from_pretrained("path/to/all-MiniLM-L6-v2")
    X = enc.encode(["a sentence", "another"])            # (2, 384), L2-normalised mean pooling
    H = enc.encode(texts, layer=3, pooling="none")       # list of (tokens_i, hidden) arrays
    sx.embed.index_corpus(enc, lines, index)             # stream a corpus into an index

Command line:
    python -m sextant.embed --model DIR --input corpus.txt --layer -1 --pooling mean -o vectors.npy
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
from typing import Iterable, Sequence

import numpy as np

from ._files import publish
from ._sextant import embed as _embed
from .contrib.progress import Progress

Tokenizer = _embed.Tokenizer
read_safetensors = _embed.read_safetensors

POOLINGS = ("none", "mean", "cls", "last")


class Encoder:
    """A model directory (config.json, *.safetensors, tokenizer.json) ready to embed text or token ids."""

    def __init__(self, core):
        self._core = core

    @classmethod
    def from_pretrained(cls, path) -> "Encoder":
        """Loads config.json, the safetensors weights (sharded or not) and tokenizer.json from a directory."""
        return cls(_embed._Encoder(str(path)))

    hidden_size = property(lambda self: self._core.hidden_size, doc="Width of every hidden state.")
    num_layers = property(lambda self: self._core.num_layers, doc="Transformer layers N (N + 1 hidden states).")
    max_length = property(lambda self: self._core.max_length, doc="Truncation length of texts, special tokens included.")
    family = property(lambda self: self._core.family, doc="'bert', 'deepseek_v2' or 'deepseek_v3'.")

    def __repr__(self):
        return (f"<sextant.embed.Encoder {self.family} layers={self.num_layers} hidden={self.hidden_size} "
                f"max_length={self.max_length}>")

    def tokenize(self, texts: Sequence[str], add_special_tokens: bool = True) -> list[list[int]]:
        """Token ids of each text, truncated to max_length, without padding."""
        if isinstance(texts, str):
            raise TypeError("tokenize takes a list of strings, not one string")
        return self._core.tokenize(list(texts), add_special_tokens)

    def encode(self, inputs, layer=-1, pooling: str = "mean", normalize: bool = True, batch_size: int = 32):
        """Vectors of the inputs at hidden state `layer` (0 = embeddings, -1 = last; a list of layers
        returns a list of results).

        inputs: a list of strings, or a list of token-id sequences (lists or 1-D integer arrays).
        pooling="mean" | "cls" | "last": a float32 (n, hidden) array; pooling="none": a list of
        (tokens_i, hidden) arrays, one per input. normalize: scale every vector to unit L2 norm.
        """
        if isinstance(inputs, str):
            raise TypeError("encode takes a list of strings or of token-id lists, not one string")
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}; got {pooling!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        layers = [layer] if isinstance(layer, (int, np.integer)) else list(layer)
        if not layers or not all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in layers):
            raise TypeError("layer must be an int or a non-empty list of ints")
        inputs = list(inputs)
        if inputs and all(isinstance(x, str) for x in inputs):
            results = self._core.embed_texts(inputs, layers, pooling, bool(normalize), int(batch_size))
        else:
            ids = [_as_ids(x, i) for i, x in enumerate(inputs)]
            results = self._core.embed_ids(ids, layers, pooling, bool(normalize), int(batch_size))
        out = []
        for values, offsets in results:
            if pooling == "none":
                out.append([values[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)])
            else:
                out.append(values)
        return out[0] if isinstance(layer, (int, np.integer)) else out


def _as_ids(seq, i):
    if isinstance(seq, str):
        raise TypeError("inputs must be all strings or all token-id sequences, not a mix")
    arr = np.asarray(seq)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"input {i} must be a 1-D sequence of integer token ids")
    return arr.astype(np.int64).tolist()


def _batches(items: Iterable, size: int):
    it = iter(items)
    while True:
        chunk = list(itertools.islice(it, size))
        if not chunk:
            return
        yield chunk


def index_corpus(encoder: Encoder, texts: Iterable[str], index, batch_size: int = 256, progress: bool = True,
                 layer: int = -1, pooling: str = "mean", normalize: bool = True) -> int:
    """Embeds `texts` (any iterable, consumed in chunks of batch_size, so a file's lines stream
    through) and adds the vectors to `index`. Returns the number of vectors added."""
    if pooling == "none":
        raise ValueError("index_corpus needs one vector per text: pooling must be mean, cls or last")
    total = len(texts) if hasattr(texts, "__len__") else None
    bar = Progress("embedding", total, unit="texts", enabled=None if progress else False)
    added = 0
    try:
        for chunk in _batches(texts, batch_size):
            vectors = encoder.encode(chunk, layer=layer, pooling=pooling, normalize=normalize,
                                     batch_size=min(batch_size, 32))
            index.add(vectors)
            added += len(chunk)
            bar.update(len(chunk))
    finally:
        bar.close()
    return added


def _read_lines(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [line.rstrip("\n") for line in f if line.strip()]
    except UnicodeDecodeError as e:
        raise ValueError(f"input file {path!r} is not UTF-8 text ({e})") from None


def _write_embeddings(args, encoder, texts, out_file):
    """Embeds the texts into out_file (an open binary file), as main() describes."""
    normalize = not args.no_normalize
    bar = Progress("embedding", len(texts), unit="texts", enabled=False if args.quiet else None)
    if args.pooling == "none":
        parts, offsets = [], [0]
        for chunk in _batches(texts, 256):
            for tokens in encoder.encode(chunk, args.layer, "none", normalize, args.batch_size):
                parts.append(tokens)
                offsets.append(offsets[-1] + len(tokens))
            bar.update(len(chunk))
        bar.close()
        vectors = np.concatenate(parts) if parts else np.zeros((0, encoder.hidden_size), np.float32)
        np.savez(out_file, vectors=vectors, offsets=np.asarray(offsets, np.int64))
        return
    # Written through a memory map: the corpus never has to fit in memory twice.
    out = np.lib.format.open_memmap(out_file.name, mode="w+", dtype=np.float32,
                                    shape=(len(texts), encoder.hidden_size))
    row = 0
    for chunk in _batches(texts, 256):
        out[row:row + len(chunk)] = encoder.encode(chunk, args.layer, args.pooling, normalize, args.batch_size)
        row += len(chunk)
        bar.update(len(chunk))
    bar.close()
    out.flush()
    del out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sextant.embed",
                                     description="Embed a text corpus (one text per line) with a Hugging Face model.")
    parser.add_argument("--model", required=True, help="model directory (config.json, safetensors, tokenizer.json)")
    parser.add_argument("--input", required=True, help="UTF-8 text file, one text per line (blank lines skipped)")
    parser.add_argument("--layer", type=int, default=-1, help="hidden state: 0 = embeddings, -1 = last (default)")
    parser.add_argument("--pooling", choices=POOLINGS, default="mean")
    parser.add_argument("--no-normalize", action="store_true", help="keep the raw vectors (default: unit L2 norm)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.add_argument("-o", "--output", required=True,
                        help="vectors.npy ((n, hidden) float32); with --pooling none, an .npz holding "
                             "'vectors' (all tokens) and 'offsets' (sequence i = rows offsets[i]:offsets[i+1])")
    args = parser.parse_args(argv)

    # The vectors go to a temporary file next to the output, renamed over it once complete:
    # a failed run leaves no output (a pipeline that ignores the exit status indexes nothing),
    # and errors are one line.
    temp = None
    try:
        encoder = Encoder.from_pretrained(args.model)
        texts = _read_lines(args.input)
        directory, name = os.path.split(os.path.abspath(args.output))
        with tempfile.NamedTemporaryFile(dir=directory, prefix=f".{name[:200]}.", suffix=".tmp",
                                         delete=False) as out_file:
            temp = out_file.name
            _write_embeddings(args, encoder, texts, out_file)
        publish(temp, args.output)
        temp = None
    except (ValueError, OSError, RuntimeError, MemoryError) as e:
        print(f"python -m sextant.embed: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("python -m sextant.embed: interrupted", file=sys.stderr)
        return 130
    finally:
        if temp is not None:
            os.unlink(temp)
    if not args.quiet:
        print(f"wrote {len(texts)} {'token sequences' if args.pooling == 'none' else 'vectors'} "
              f"to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
