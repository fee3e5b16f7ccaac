"""Progress bars for long operations: redrawn in place on a terminal, silent when the
stream is piped or redirected (a log gets the results, not the progress).

    bar = Progress("adding vectors", total=len(x))
    for i0 in range(0, len(x), chunk):
        ...
        bar.update(chunk)
    bar.close()

Pure Python with no dependency, so the benchmark harness can use it without
importing sextant's extension.
"""

import sys
import time

WIDTH = 24          # characters of the bar itself
REDRAW_S = 0.1      # at most ten redraws a second


def is_terminal(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class Progress:
    """A one-line bar: label, bar, percentage, count, rate and time left. `total` None
    gives a counter without bar. enabled=None draws only when `stream` (default
    stderr) is a terminal; False never draws."""

    def __init__(self, label, total=None, unit="", stream=None, enabled=None):
        self.label, self.total, self.unit = label, total, unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = is_terminal(self.stream) if enabled is None else bool(enabled)
        self.done, self.start, self.last_draw = 0, time.perf_counter(), 0.0
        self.width = 0   # characters drawn last, to clear them

    def update(self, n=1):
        """Advances by n and redraws (rate-limited; always at the end)."""
        self.done += n
        now = time.perf_counter()
        if self.enabled and (now - self.last_draw >= REDRAW_S or self.done == self.total):
            self.last_draw = now
            self._draw(self.line(now))

    def line(self, now=None):
        elapsed = max((now or time.perf_counter()) - self.start, 1e-9)
        rate = self.done / elapsed
        unit = f" {self.unit}" if self.unit else ""
        if not self.total:
            return f"{self.label}: {self.done:,}{unit} ({rate:,.0f}/s)"
        fraction = min(self.done / self.total, 1.0)
        filled = int(round(fraction * WIDTH))
        left = (self.total - self.done) / rate if rate > 0 else float("inf")
        eta = f", {left:.0f} s left" if 0 < left < float("inf") and fraction < 1 else ""
        return (f"{self.label} [{'#' * filled}{'.' * (WIDTH - filled)}] {fraction:4.0%} "
                f"{self.done:,}/{self.total:,}{unit} ({rate:,.0f}/s{eta})")

    def write(self, text):
        """Prints a line of text above the bar (to stdout), keeping the bar below it."""
        self._clear()
        print(text, flush=True)
        if self.enabled and self.done:
            self._draw(self.line())

    def close(self):
        """Removes the bar (the caller reports the outcome)."""
        self._clear()

    def _draw(self, text):
        self.stream.write("\r" + text + " " * max(self.width - len(text), 0))
        self.stream.flush()
        self.width = len(text)

    def _clear(self):
        if self.enabled and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0
