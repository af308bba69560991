"""The TTM memory over time: [T+1, m, d] drawn as one slab per step, stacked along -z.

Each slab is m rows (memory tokens, going down) by d columns (features, going right); step 0 (the
initial memory) is the front slab, nearest the default camera.
"""
from __future__ import annotations

import numpy as np

from viz.mappers.base import VisMapper
from viz.mappers.generic import STEP_PITCH, grid_positions
from viz.mappers.registry import register


@register("memory")
class MemoryMapper(VisMapper):
    axes = ("T+1", "m", "d")
    ndims = (2, 3)  # a single step's [m, d] is one slab

    def positions(self, shape: tuple[int, ...]) -> np.ndarray:
        return grid_positions(shape, z_pitch=STEP_PITCH)
