"""Progress of a distributed build: Ray tasks report, the driver draws bars on a terminal."""

import sys
import time


class ProgressBoard:
    """Rows added so far, per shard. Held by a Ray actor that the shard tasks update."""

    def __init__(self, nshards):
        self.done = [0] * nshards

    def update(self, shard, rows):
        self.done[shard] = rows

    def snapshot(self):
        return list(self.done)


class Bars:
    """One bar per shard (up to max_rows of them) and one for the total, redrawn in place on
    stderr when it is a terminal. Draws nothing otherwise (logs get the build's summary only)."""

    def __init__(self, totals, label, enabled=None, max_rows=16, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.totals, self.label, self.max_rows = totals, label, max_rows
        self.start = time.perf_counter()
        self.drawn = 0

    def _bar(self, name, done, total, width=30):
        fraction = done / total if total else 1.0
        filled = int(width * fraction)
        return f"{name:>10} [{'#' * filled}{'.' * (width - filled)}] {fraction:6.1%} {done:,}/{total:,}"

    def draw(self, done):
        if not self.enabled:
            return
        lines = []
        if len(self.totals) <= self.max_rows:
            lines += [self._bar(f"shard {s}", d, t) for s, (d, t) in enumerate(zip(done, self.totals))]
        total, all_done = sum(self.totals), sum(done)
        rate = all_done / max(time.perf_counter() - self.start, 1e-9)
        lines.append(self._bar(self.label, all_done, total) + f"  {rate:,.0f}/s")
        if self.drawn:
            self.stream.write(f"\x1b[{self.drawn}F")  # back to the first line of the previous drawing
        self.stream.write("".join(line + "\x1b[K\n" for line in lines))
        self.stream.flush()
        self.drawn = len(lines)
