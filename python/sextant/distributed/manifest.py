"""The manifest of a sharded index: a JSON file next to the shard files that says what they
hold and how their ids combine. Written last and atomically by build(): a directory with a
manifest holds a complete index.

    {"format": "sextant-sharded-index", "version": 1,
     "factory": "IVF1024,PQ16", "d": 96, "metric": "l2", "ntotal": 10000000,
     "shards": [{"file": "shard-00000.sxt", "ntotal": 2500000, "id_offset": 0,
                 "bytes": 163840512, "xxh64": "9f0c..."}, ...],
     "train": {"vectors": 100000, "seed": 0}, "sextant": "0.1.0"}

Shard s holds the vectors with ids id_offset .. id_offset + ntotal - 1, numbered from 0 in
its own file; the offsets follow each other. xxh64 is the checksum a sextant file ends with
(over all its bytes), so checking a shard against the manifest reads 16 bytes, and reading
the shard verifies the rest.
"""

import json
import os
import tempfile

from .._files import publish

FORMAT = "sextant-sharded-index"
VERSION = 1
_END_MAGIC = b"SXTEND\0\0"


class ManifestError(ValueError):
    """A manifest, or the shard files it describes, that cannot be served as it says."""


def file_checksum(path):
    """The XXH64 a sextant index file ends with, as 16 hex digits, and the file size."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        if size < 16:
            raise ManifestError(f"{path}: {size} bytes is too short for a sextant index file")
        f.seek(size - 16)
        trailer = f.read(16)
    if trailer[8:] != _END_MAGIC:
        raise ManifestError(f"{path}: not a complete sextant index file (no end marker)")
    return f"{int.from_bytes(trailer[:8], 'little'):016x}", size


class Manifest:
    """A parsed, checked manifest. `path` is the manifest file; shard files are next to it."""

    def __init__(self, data, path):
        self.path = os.fspath(path)
        self.directory = os.path.dirname(os.path.abspath(self.path))
        self.data = data
        _check_fields(data, self.path)
        self.factory, self.d, self.metric = data["factory"], data["d"], data["metric"]
        self.ntotal, self.shards = data["ntotal"], data["shards"]

    @classmethod
    def read(cls, path):
        path = os.fspath(path)
        if os.path.isdir(path):
            path = os.path.join(path, "manifest.json")
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            raise ManifestError(f"manifest {path!r} does not exist") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ManifestError(f"manifest {path!r} cannot be read as JSON: {e}") from None
        return cls(data, path)

    def write(self):
        """Writes the manifest atomically (temporary file, fsync, rename)."""
        fd, tmp = tempfile.mkstemp(prefix=".manifest.", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self.data, f, indent=1)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            publish(tmp, self.path)  # readable as the shard files are
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def shard_path(self, s):
        return os.path.join(self.directory, self.shards[s]["file"])

    def check_shard_file(self, s):
        """Raises ManifestError unless shard s's file is there with the size and checksum recorded."""
        path, shard = self.shard_path(s), self.shards[s]
        if not os.path.exists(path):
            raise ManifestError(f"shard {s}: file {path!r} is missing")
        checksum, size = file_checksum(path)
        if size != shard["bytes"] or checksum != shard["xxh64"]:
            raise ManifestError(f"shard {s}: file {path!r} has {size} bytes and checksum {checksum}; the manifest "
                                f"says {shard['bytes']} bytes and {shard['xxh64']} (replaced or modified since "
                                "the build?)")

    def check_files(self):
        for s in range(len(self.shards)):
            self.check_shard_file(s)


def _check_fields(data, path):
    def fail(message):
        raise ManifestError(f"manifest {path!r}: {message}")

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        fail(f"not a sharded-index manifest (its 'format' is not {FORMAT!r})")
    if data.get("version") != VERSION:
        fail(f"version {data.get('version')!r} is not supported (this sextant reads version {VERSION})")
    for key, kind in (("factory", str), ("d", int), ("metric", str), ("ntotal", int), ("shards", list)):
        if not isinstance(data.get(key), kind) or isinstance(data.get(key), bool):
            fail(f"'{key}' must be a {kind.__name__}")
    if data["metric"] not in ("l2", "ip"):
        fail(f"'metric' must be 'l2' or 'ip', got {data['metric']!r}")
    if data["d"] <= 0:
        fail(f"'d' must be positive, got {data['d']}")
    if not data["shards"]:
        fail("it lists no shards")
    expected_offset = 0
    for s, shard in enumerate(data["shards"]):
        if not isinstance(shard, dict):
            fail(f"shard {s} is not an object")
        for key, kind in (("file", str), ("ntotal", int), ("id_offset", int), ("bytes", int), ("xxh64", str)):
            if not isinstance(shard.get(key), kind) or isinstance(shard.get(key), bool):
                fail(f"shard {s}: '{key}' must be a {kind.__name__}")
        if os.path.basename(shard["file"]) != shard["file"] or shard["file"] in ("", ".", ".."):
            fail(f"shard {s}: file {shard['file']!r} must be a file name in the manifest's directory")
        if shard["ntotal"] < 0 or shard["id_offset"] != expected_offset:
            fail(f"shard {s}: ids must follow the previous shard's (id_offset {expected_offset}), got "
                 f"id_offset {shard['id_offset']} with ntotal {shard['ntotal']}")
        expected_offset += shard["ntotal"]
    if expected_offset != data["ntotal"]:
        fail(f"the shards hold {expected_offset} vectors, but 'ntotal' says {data['ntotal']}")
