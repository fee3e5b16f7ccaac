"""Progress of a distributed build: Ray tasks report, the driver draws bars on a terminal."""

import sys

from ..contrib.progress import Progress, is_terminal


class ProgressBoard:
    """Rows added so far, per shard. Held by a Ray actor that the shard tasks update."""

    def __init__(self, nshards):
        self.done = [0] * nshards

    def update(self, shard, rows):
        self.done[shard] = rows

    def snapshot(self):
        return list(self.done)


class Bars:
    """A bar per shard (up to max_rows of them) and one for the total, redrawn in place on
    stderr when it is a terminal (sextant.contrib.progress's bars, stacked). Draws nothing
    otherwise: a log gets the build's outcome only."""

    def __init__(self, totals, label, enabled=None, max_rows=16, stream=None):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = is_terminal(self.stream) if enabled is None else bool(enabled)
        names = [f"shard {s}" for s in range(len(totals))] if len(totals) <= max_rows else []
        self.shards = [Progress(name, total, enabled=False) for name, total in zip(names, totals)]
        self.total = Progress(label, sum(totals), enabled=False)
        self.drawn = 0

    def draw(self, done):
        if not self.enabled:
            return
        for bar, rows in zip(self.shards, done):
            bar.done = rows
        self.total.done = sum(done)
        lines = [bar.line() for bar in self.shards + [self.total]]
        if self.drawn:
            self.stream.write(f"\x1b[{self.drawn}F")  # back to the first line drawn last time
        self.stream.write("".join(line + "\x1b[K\n" for line in lines))
        self.stream.flush()
        self.drawn = len(lines)
