"""The one data structure every mapper produces and every renderer consumes."""
from __future__ import annotations

from dataclasses import dataclass, field

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
