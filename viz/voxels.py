"""The one data structure every mapper produces and every renderer consumes."""
from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass

import numpy as np

COLORMAPS = ("diverging", "sequential", "categorical")


@dataclass
class VoxelLayout:
    """Voxels for one named tensor, in the tensor's local 3-D frame (unit spacing, origin at 0).

    Voxel i sits at ``positions[i]``, shows ``values[i]`` and came from ``source[tuple(indices[i])]``
    (or, when ``pooled`` is set, from the block of the source that ``indices[i]`` names after pooling).
    """

    name: str                      # semantic tensor name, e.g. "memory", "read.weights"
    label: str                     # human label drawn next to the group (mentions pooling if any)
    positions: np.ndarray          # (N, 3) float32, voxel centres in local units
    values: np.ndarray             # (N,) float32, the real values shown
    indices: np.ndarray            # (N, ndim) int64, index into the (possibly pooled) source tensor
    colormap: str = "diverging"    # one of COLORMAPS
    value_range: tuple[float, float] = (-1.0, 1.0)  # what maps to the ends of the colour scale
    pooled: tuple[int, ...] | None = None  # pooling factor per source axis, None when exact
    edges: np.ndarray | None = None        # (E, 2) int64 voxel pairs drawn as lines (graphs)
    tags: dict = field(default_factory=dict)  # mapper-specific extras (e.g. node names for graphs)

    def __post_init__(self) -> None:
        self.positions = np.ascontiguousarray(self.positions, dtype=np.float32)
        self.values = np.ascontiguousarray(self.values, dtype=np.float32)
        self.indices = np.ascontiguousarray(self.indices, dtype=np.int64)
        n = len(self.values)
        if self.positions.shape != (n, 3):
            raise ValueError(f"positions has shape {self.positions.shape}, want ({n}, 3)")
        if self.indices.ndim != 2 or self.indices.shape[0] != n:
            raise ValueError(f"indices has shape {self.indices.shape}, want ({n}, ndim)")
        if self.colormap not in COLORMAPS:
            raise ValueError(f"colormap {self.colormap!r} is not one of {COLORMAPS}")
        if self.edges is not None:
            self.edges = np.ascontiguousarray(self.edges, dtype=np.int64).reshape(-1, 2)

    @property
    def count(self) -> int:
        return len(self.values)

    @property
    def extent(self) -> np.ndarray:
        """Size of the group's bounding box in local units (at least one voxel on each axis)."""
        if self.count == 0:
            return np.ones(3, dtype=np.float32)
        return self.positions.max(axis=0) - self.positions.min(axis=0) + 1.0

    def same_geometry(self, other: "VoxelLayout") -> bool:
        """True when `other` draws the same voxels or marks in the same places, from the same source
        cells, and differs at most in values, colour range, colour map and label: a scene then
        swaps it in as new values (only the values buffers are rewritten, nothing is re-placed)."""
        return (self.name == other.name and self.pooled == other.pooled
                and _alike(self.positions, other.positions) and _alike(self.indices, other.indices)
                and _alike(self.edges, other.edges) and _alike(self.tags, other.tags))


def _alike(a, b) -> bool:
    """Deep equality over what layouts hold: arrays, dicts, sequences, dataclasses, scalars."""
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                and a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_alike(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_alike, a, b))
    if is_dataclass(a) and not isinstance(a, type):
        if type(a) is not type(b):
            return False
        try:              # the dataclass's own __eq__ (one C-level tuple comparison) when it can say
            return bool(a == b)
        except (ValueError, TypeError):   # a field holds an array: field by field
            return all(_alike(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))
    return type(a) is type(b) and a == b
