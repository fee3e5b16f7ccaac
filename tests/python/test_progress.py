"""Progress bars: drawn on a terminal (a pseudo-terminal here), silent when the output is
piped, for the Python progress bar, `sextant build`, k-means with verbose and the embedder."""
import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import numpy as np

from sextant.contrib.progress import Progress


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_draws_on_a_terminal_only():
    tty = FakeTerminal()
    bar = Progress("adding", total=10, unit="vectors", stream=tty)
    for _ in range(10):
        bar.update(1)
    bar.close()
    drawn = tty.getvalue()
    assert "\radding [" in drawn and "100% 10/10 vectors" in drawn and drawn.endswith("\r")
    piped = io.StringIO()
    bar = Progress("adding", total=10, stream=piped)
    bar.update(10)
    bar.write("a result line")
    bar.close()
    assert piped.getvalue() == ""
    counter = Progress("embedding", total=None, unit="texts", stream=FakeTerminal())
    counter.update(5)
    assert counter.line().startswith("embedding: 5 texts (")


def run_on_terminal(args, **kwargs):
    """Runs a command with stderr on a pseudo-terminal; returns (returncode, stderr text)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=slave, **kwargs)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return proc.wait(), b"".join(chunks).decode(errors="replace")


KMEANS = ("import numpy as np, sextant as sx; x = np.random.default_rng(0).standard_normal((2000, 8), dtype=np.float32); "
          "sx.Kmeans(8, 16, niter=5, verbose=True).train(x)")


def test_kmeans_verbose_bar_on_a_terminal_summary_when_piped():
    code, err = run_on_terminal([sys.executable, "-c", KMEANS])
    assert code == 0, err
    assert "\rk-means [" in err and "iteration 5/5" in err and "k-means: 16 centroids from 2000 points" in err
    piped = subprocess.run([sys.executable, "-c", KMEANS], capture_output=True, text=True)
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr.splitlines() == [line for line in piped.stderr.splitlines() if line.startswith("k-means: ")]
    assert len(piped.stderr.splitlines()) == 1 and "\r" not in piped.stderr


def test_sextant_build_bar_on_a_terminal_quiet_when_piped(tmp_path):
    x = np.random.default_rng(1).standard_normal((3000, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    build = [sys.executable, "-m", "sextant", "build", "--factory", "IVF16,Flat", "--input", str(tmp_path / "x.npy"),
             "-o", str(tmp_path / "index.sxt")]
    code, err = run_on_terminal(build)
    assert code == 0, err
    assert "\radding 3,000 vectors [" in err and "\rk-means [" in err
    piped = subprocess.run(build, capture_output=True, text=True)
    assert piped.returncode == 0, piped.stderr
    assert "\r" not in piped.stderr and "[" not in piped.stderr
    assert "adding 3,000 vectors: done in" in piped.stderr and "wrote" in piped.stderr
    quiet = subprocess.run(build[:3] + ["--quiet"] + build[3:], capture_output=True, text=True)
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_embed_command_bar_on_a_terminal_quiet_when_piped(tmp_path):
    model = Path(__file__).resolve().parents[1] / "fixtures" / "embed" / "bert"
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(f"line number {i}\n" for i in range(300)), encoding="utf-8")
    embed = [sys.executable, "-m", "sextant.embed", "--model", str(model), "--input", str(corpus),
             "-o", str(tmp_path / "vectors.npy")]
    code, err = run_on_terminal(embed)
    assert code == 0, err
    assert "\rembedding [" in err and "300/300 texts" in err
    piped = subprocess.run(embed, capture_output=True, text=True)
    assert piped.returncode == 0, piped.stderr
    assert "\r" not in piped.stderr and piped.stderr.strip() == f"wrote 300 vectors to {tmp_path / 'vectors.npy'}"
