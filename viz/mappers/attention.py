"""Attention patterns as r x r tiles: heads along x, layers down y, steps along -z.

Accepted shapes: [T, layers, heads, r, r] (whole process stack over time), [T, heads, r, r]
(one layer, e.g. "process.layer2.attn"), [heads, r, r] and [r, r]. Query rows go down, key
columns go right; tiles are one voxel apart. Tiles need not be square (cross-attention works too).
"""
from __future__ import annotations

import numpy as np

from viz.mappers.base import VisMapper
from viz.mappers.generic import STEP_PITCH
from viz.mappers.registry import register

_AXES = {5: ("T", "layer", "head", "r", "r"), 4: ("T", "head", "r", "r"),
         3: ("head", "r", "r"), 2: ("r", "r")}


@register("attention", "process")
class AttentionMapper(VisMapper):
    colormap = "sequential"
    value_range = (0.0, 1.0)
    ndims = (2, 5)

    def axis_names(self, ndim: int) -> tuple[str, ...]:
        return _AXES[ndim]

    def positions(self, shape: tuple[int, ...]) -> np.ndarray:
        # Missing axes are size 1: a per-layer tensor has no layer axis, [heads, r, r] no steps.
        shape = tuple(shape)
        if len(shape) == 4:
            shape = shape[:1] + (1,) + shape[1:]
        steps, layers, heads, q, k = (1,) * (5 - len(shape)) + shape
        s, l, h, i, j = np.unravel_index(np.arange(steps * layers * heads * q * k),
                                         (steps, layers, heads, q, k))
        x = h * (k + 1) + j
        y = -(l * (q + 1) + i)
        z = -s * STEP_PITCH
        return np.stack([x, y, z], axis=1).astype(np.float32)
