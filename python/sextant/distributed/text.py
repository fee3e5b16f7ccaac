"""Text to vectors on Ray: sextant's embedding producer in a pool of Ray actors."""

import os

import numpy as np


class _Embedder:
    """One Ray actor of the pool: loads the model once, then embeds batch after batch."""

    def __init__(self, model, column, layer, pooling, normalize, batch_size, threads):
        import sextant as sx

        sx.set_num_threads(threads)
        self.encoder = sx.embed.Encoder.from_pretrained(model)
        self.column, self.layer, self.pooling = column, layer, pooling
        self.normalize, self.batch_size = normalize, batch_size

    def __call__(self, batch):
        texts = [t.decode("utf-8", "replace") if isinstance(t, bytes) else str(t) for t in batch[self.column]]
        vectors = self.encoder.encode(texts, layer=self.layer, pooling=self.pooling, normalize=self.normalize,
                                      batch_size=self.batch_size)
        return {"vector": np.asarray(vectors, dtype=np.float32)}


def embed(texts, model, *, column="text", layer=-1, pooling="mean", normalize=True, batch_size=64,
          concurrency=1, num_cpus=1):
    """A Ray Dataset with one 'vector' per text, made by sx.embed.Encoder in `concurrency` Ray
    actors of `num_cpus` CPUs each, a fraction allowed (each loads the model once). Lazy: nothing runs until the
    dataset is consumed, by build() for instance; the texts keep their order (row i is text i).

    texts: a Ray Dataset with a `column` of strings; a text file (a str or path-like) or a list
    of path-likes (pathlib.Path), one text per line, empty lines included; or a list of strings.
    model: a model directory (config.json, *.safetensors, tokenizer.json), as for
    sx.embed.Encoder.from_pretrained. layer, pooling, normalize: as Encoder.encode (pooling
    "mean", "cls" or "last": one vector per text)."""
    import ray.data

    if pooling not in ("mean", "cls", "last"):
        raise ValueError(f"pooling must be 'mean', 'cls' or 'last' (one vector per text), got {pooling!r}")
    if not os.path.isdir(model):
        raise ValueError(f"model must be a model directory, got {model!r}")
    for name, value in (("batch_size", batch_size), ("concurrency", concurrency)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if isinstance(num_cpus, bool) or not isinstance(num_cpus, (int, float)) or not num_cpus > 0:
        raise ValueError(f"num_cpus must be a positive number, got {num_cpus!r}")
    ray.data.DataContext.get_current().execution_options.preserve_order = True
    if isinstance(texts, ray.data.Dataset):
        dataset = texts
    elif isinstance(texts, (str, os.PathLike)) or (
            isinstance(texts, (list, tuple)) and texts and all(isinstance(t, os.PathLike) for t in texts)):
        paths = [os.fspath(texts)] if isinstance(texts, (str, os.PathLike)) else [os.fspath(t) for t in texts]
        for path in paths:
            if not os.path.isfile(path):
                raise ValueError(f"text file {path!r} does not exist (pass a list of strings to embed them)")
        dataset, column = ray.data.read_text(paths, drop_empty_lines=False), "text"
    elif isinstance(texts, (list, tuple)) and all(isinstance(t, str) for t in texts):
        dataset, column = ray.data.from_items([{"text": t} for t in texts]), "text"
    else:
        raise TypeError("texts must be a ray.data.Dataset, a text file path or a list of them, or a list of strings")
    return dataset.map_batches(
        _Embedder, fn_constructor_args=(os.fspath(model), column, layer, pooling, normalize, batch_size,
                                        max(1, round(num_cpus))),
        batch_size=16 * batch_size, batch_format="numpy", concurrency=concurrency, num_cpus=num_cpus)
