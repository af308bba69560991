"""The base of every tensor mapper: checks, pooling, colours and labels, shared by all of them.

A mapper turns one named tensor into a VoxelLayout with one voxel per element of the (possibly
mean-pooled) tensor. Subclasses only say where each element goes: ``positions(shape)``.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from viz.mappers import pooling
from viz.voxels import VoxelLayout

MAX_VOXELS = 262144  # per tensor: what a software-GL frame still draws at an interactive rate


def as_finite_array(name: str, data) -> np.ndarray:
    """``data`` (numpy array or torch tensor) as a numpy array, refusing what cannot be drawn."""
    if hasattr(data, "detach"):
        # .float(): bfloat16 has no numpy dtype, and the layout keeps float32 anyway.
        data = data.detach().cpu().float()
    array = np.asarray(data)
    if array.size == 0:
        raise ValueError(f"cannot draw {name!r}: it is empty (shape {array.shape})")
    if array.dtype.kind not in "biuf":
        raise ValueError(f"cannot draw {name!r}: dtype {array.dtype} is not real numbers")
    bad = array.size - int(np.count_nonzero(np.isfinite(array)))
    if bad:
        raise ValueError(f"cannot draw {name!r}: {bad} of {array.size} values are not finite")
    return array


def element_indices(shape: tuple[int, ...]) -> np.ndarray:
    """(N, ndim) int64 index of every element, in C (row-major) order; (1, 0) for a scalar."""
    size = int(np.prod(shape))
    return np.indices(shape).reshape(len(shape), size).T.astype(np.int64)


def auto_colors(values: np.ndarray) -> tuple[str, tuple[float, float]]:
    """Diverging and symmetric for signed data, sequential from 0 otherwise ([0, 1] for weights)."""
    lo, hi = float(values.min()), float(values.max())
    if lo < 0:
        a = max(-lo, hi)
        return "diverging", (-a, a)
    return "sequential", (0.0, max(hi, 1.0))


def format_shape(shape: tuple[int, ...]) -> str:
    return ",".join(str(n) for n in shape)


class VisMapper(ABC):
    """Maps a named tensor to voxels. Subclass, set the class attributes, implement the one
    abstract method ``positions``; override ``annotate`` to take options (labels, segments).

    Register a subclass for a semantic name with ``@register("name")`` (viz.mappers.registry).
    """

    colormap: str | None = None        # None: chosen from the data by auto_colors
    value_range: tuple[float, float] | None = None  # with colormap: used when the data fit in it
    axes: tuple[str, ...] | None = None  # names of the trailing axes shown in the label
    ndims: tuple[int, int] = (0, 64)   # accepted number of dimensions, inclusive

    def __init__(self, max_voxels: int = MAX_VOXELS):
        self.max_voxels = max_voxels

    @abstractmethod
    def positions(self, shape: tuple[int, ...]) -> np.ndarray:
        """(N, 3) local voxel centres for the elements of an array of ``shape``, in C order."""

    def annotate(self, shape: tuple[int, ...], **options) -> tuple[str, dict]:
        """(label suffix, tags) for a source tensor of ``shape``; the options of map() arrive here."""
        if options:
            raise TypeError(f"{type(self).__name__} takes no options, got {sorted(options)}")
        return "", {}

    def map(self, name: str, data, **options) -> VoxelLayout:
        array = as_finite_array(name, data)
        lo, hi = self.ndims
        if not lo <= array.ndim <= hi:
            want = f" ({' x '.join(self.axes)})" if self.axes else ""
            raise ValueError(f"cannot draw {name!r}: shape {array.shape} has {array.ndim} dims, "
                             f"want {lo} to {hi}{want}")
        suffix, tags = self.annotate(array.shape, **options)
        factors = pooling.pool_factors(array.shape, self.max_voxels)
        values = pooling.mean_pool(array, factors) if factors else array
        colormap, value_range = self.colors(values)
        return VoxelLayout(
            name=name,
            label=self.label(name, array.shape) + pooling.describe(factors) + suffix,
            positions=self.positions(values.shape),
            values=values.reshape(-1),
            indices=element_indices(values.shape),
            colormap=colormap,
            value_range=value_range,
            pooled=factors,
            tags=tags,
        )

    def colors(self, values: np.ndarray) -> tuple[str, tuple[float, float]]:
        """The class's fixed scale when the data fit in it, else one from the data, so that data
        outside the expected range (logits under an attention name, say) are never clipped unseen."""
        if self.colormap is not None and self.value_range is not None:
            lo, hi = self.value_range
            if lo <= values.min() and values.max() <= hi:
                return self.colormap, self.value_range
        return auto_colors(values)

    def axis_names(self, ndim: int) -> tuple[str, ...] | None:
        """Names of the axes of an ``ndim``-D source: the last ``ndim`` of ``axes``."""
        if self.axes and 0 < ndim <= len(self.axes):
            return self.axes[len(self.axes) - ndim:]
        return None

    def label(self, name: str, shape: tuple[int, ...]) -> str:
        """e.g. "memory [T+1 x m x d] = [9,96,128]", or "x [3,4]" for unnamed axes."""
        names = self.axis_names(len(shape))
        if names:
            return f"{name} [{' x '.join(names)}] = [{format_shape(shape)}]"
        return f"{name} [{format_shape(shape)}]"
