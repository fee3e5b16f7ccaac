"""sextant.contrib: Python extras built on numpy (and, where useful, the public sextant API).

    from sextant.contrib import datasets, evaluation
    xb, xq = datasets.load_fashion_mnist()
    D, I = evaluation.ground_truth(xb, xq, 100, "l2")

The modules here import numpy only, never the compiled extension, so benchmark
harnesses can use them in a process that runs a peer library (one OpenMP/BLAS
runtime per process).
"""

from . import datasets, evaluation, progress

__all__ = ["datasets", "evaluation", "progress"]
