"""k-means with Faiss's Python interface: km = Kmeans(d, k); km.train(x); km.centroids."""

import numpy as np

from ._sextant import METRIC_L2, Clustering, IndexFlat, KMeansInit, KMeansParams


class Kmeans:
    """k-means of d-dimensional vectors into k centroids.

    train(x) runs k-means (exact GEMM assignment, or `assigner`, any empty
    index; with gpu=True, or a device number, or a StandardGpuResources, the
    assignment step runs on the GPU); afterwards `centroids` is (k, d), `obj` holds the objective after
    each iteration, and assign(x) returns the (distance, label) of each row's
    nearest centroid. init="kmeans++" (the default) draws the starting centroids by k-means++
    on a sample; init="random" draws them uniformly, as Faiss does.
    """

    def __init__(self, d, k, niter=25, nredo=1, spherical=False, seed=1234, verbose=False, init="kmeans++",
                 max_points_per_centroid=256, min_points_per_centroid=39, metric=METRIC_L2, gpu=False):
        if init not in ("random", "kmeans++"):
            raise ValueError(f"init must be 'random' or 'kmeans++', got {init!r}")
        self.d, self.k, self.metric = d, k, metric
        self.params = KMeansParams()
        self.params.niter = niter
        self.params.nredo = nredo
        self.params.spherical = spherical
        self.params.seed = seed
        self.params.verbose = verbose
        self.params.init = KMeansInit.random if init == "random" else KMeansInit.kmeans_plus_plus
        self.params.max_points_per_centroid = max_points_per_centroid
        self.params.min_points_per_centroid = min_points_per_centroid
        self.gpu = gpu
        self.centroids = None
        self.obj = None
        self.index = None

    def train(self, x, assigner=None):
        """Runs k-means on the (n, d) array x; returns the final objective."""
        if self.gpu is not False and self.gpu is not None and assigner is None:
            self.centroids, self.obj = _gpu_kmeans(x, self.k, self.params, self.metric, self.gpu)
        else:
            clustering = Clustering(self.d, self.k, self.params, self.metric)
            clustering.train(x, assigner)
            self.centroids = clustering.centroids
            self.obj = clustering.obj
        self.index = IndexFlat(self.d, self.metric)
        self.index.add(self.centroids)
        return float(self.obj[-1]) if len(self.obj) else None

    def assign(self, x):
        """(D, I): for each row of x, the distance to and the id of its nearest centroid."""
        if self.index is None:
            raise RuntimeError("Kmeans.assign() needs train() first")
        D, I = self.index.search(x, 1)
        return D.ravel(), I.ravel()


def _gpu_kmeans(x, k, params, metric, gpu):
    from . import gpu as sxgpu

    if isinstance(gpu, bool):
        res = sxgpu.StandardGpuResources(0)
    elif isinstance(gpu, int):
        res = sxgpu.StandardGpuResources(gpu)
    else:
        res = gpu  # a StandardGpuResources
    return sxgpu.kmeans(x, k, params, metric, res=res)
