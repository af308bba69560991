"""Mean pooling that shrinks a tensor under a voxel budget, so big tensors are summarized, never cut.

Rule: while the tensor has more elements than the budget, the axis that is currently longest
(after pooling; the last such axis on a tie) gets its integer factor raised by one. The factors are
chosen first and the source is pooled once, so every pooled value is exactly the mean of its block
of the source. When a factor does not divide its axis, the last block on that axis is shorter and
its value is the mean of the elements it has.
"""
from __future__ import annotations

import numpy as np


def pool_factors(shape: tuple[int, ...], max_voxels: int) -> tuple[int, ...] | None:
    """Per-axis pooling factors that bring ``shape`` under ``max_voxels``; None when it fits."""
    if max_voxels < 1:
        raise ValueError(f"max_voxels must be at least 1, got {max_voxels}")
    factors = [1] * len(shape)
    pooled = list(shape)
    while int(np.prod(pooled)) > max_voxels:
        axis = len(pooled) - 1 - int(np.argmax(pooled[::-1]))  # longest axis, last on a tie
        factors[axis] += 1
        pooled[axis] = -(-shape[axis] // factors[axis])
    return tuple(factors) if any(f > 1 for f in factors) else None


def mean_pool(array: np.ndarray, factors: tuple[int, ...]) -> np.ndarray:
    """Block means of ``array`` with one block size per axis (float64, shape ceil(n / f))."""
    total = array
    counts = np.ones((), dtype=np.float64)
    for axis, (n, f) in enumerate(zip(array.shape, factors)):
        starts = np.arange(0, n, f)
        if f > 1:  # sums in float64 without first copying the whole source to float64
            total = np.add.reduceat(total, starts, axis=axis, dtype=np.float64)
        counts = np.multiply.outer(counts, np.minimum(f, n - starts).astype(np.float64))
    return total / counts


def describe(factors: tuple[int, ...] | None) -> str:
    """Label suffix naming the pooling, e.g. " mean-pooled x2 on axis 2"; "" when exact."""
    if factors is None:
        return ""
    parts = [f"x{f} on axis {axis}" for axis, f in enumerate(factors) if f > 1]
    return " mean-pooled " + ", ".join(parts)
