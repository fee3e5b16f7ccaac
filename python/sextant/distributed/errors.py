"""The errors of sextant.distributed, and Ray's errors told plainly."""


class BuildError(RuntimeError):
    """A shard (or the training) failed on every try; names it and gives the last error."""


class ShardUnavailableError(RuntimeError):
    """No replica of a shard answered: the search would miss that shard's vectors."""


def task_error(error):
    """What a Ray task or actor call raised, without Ray's wrapping (or Ray's own account of a
    worker's death)."""
    import ray

    if isinstance(error, ray.exceptions.RayTaskError) and error.cause is not None:
        return f"{type(error.cause).__name__}: {error.cause}"
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
