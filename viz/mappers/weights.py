"""Read/write importance weights [T, k, N]: one slab per step, k summary-token rows by N columns.

Each row holds one summary token's weights over the N source tokens, which are segments laid end to
end (for a read: memory, then input). ``map(..., segments={"memory": m, "input": n})`` names them,
in column order, so the label and ``tags["segments"]`` say which columns are which.
"""
from __future__ import annotations

import numpy as np

from viz.mappers.base import VisMapper
from viz.mappers.generic import STEP_PITCH, grid_positions
from viz.mappers.registry import register


@register("read.weights", "write.weights")
class WeightsMapper(VisMapper):
    colormap = "sequential"
    value_range = (0.0, 1.0)
    axes = ("T", "k", "N")
    ndims = (2, 3)  # a single step's [k, N] is one slab

    def positions(self, shape: tuple[int, ...]) -> np.ndarray:
        return grid_positions(shape, z_pitch=STEP_PITCH)

    def annotate(self, shape: tuple[int, ...], segments: dict[str, int] | None = None):
        """Source-column ranges [start, stop) of each named segment, checked against N."""
        if segments is None:
            return "", {}
        if sum(segments.values()) != shape[-1] or min(segments.values()) < 0:
            raise ValueError(f"segments {segments} do not add up to the {shape[-1]} columns "
                             f"of a tensor of shape {shape}")
        ranges, start = {}, 0
        for name, length in segments.items():
            ranges[name] = (start, start + length)
            start += length
        columns = ", ".join(f"{name} {a}:{b}" for name, (a, b) in ranges.items())
        return f" columns {columns}", {"segments": ranges}
