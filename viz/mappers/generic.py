"""The fallback for any tensor without a semantic mapper: an N-D grid of voxels.

Layout rule (x right, y up, z toward the viewer; a voxel is one unit):
- 0-D: one voxel at the origin. 1-D: a row along +x.
- 2-D (R, C): a grid, rows going down (-y), columns along +x.
- 3-D (D, R, C): a block, the first axis going away from the viewer (-z), then rows, columns.
- N-D: the leading N-3 axes are flattened row-major into a tile number t; the 3-D blocks are laid
  out as tiles in a near-square grid of ceil(sqrt(T)) tiles per row (tile t in row t // cols,
  column t % cols), with a one-voxel gap between neighbouring tiles.
Tensors over the voxel budget are mean-pooled first (see pooling.py); the grid is of the result.
"""
from __future__ import annotations

import math

import numpy as np

from viz.mappers.base import VisMapper

STEP_PITCH = 4.0  # z distance between time steps: room to fly between slabs and see each face


def grid_positions(shape: tuple[int, ...], z_pitch: float = 1.0) -> np.ndarray:
    """(N, 3) voxel centres of the module's layout rule, the first of the last 3 axes ``z_pitch``
    apart along -z (1: a solid block; STEP_PITCH: slabs one per step)."""
    shape = tuple(shape)
    depth, rows, cols = ((1, 1, 1) + shape)[-3:]
    tiles = math.prod(shape[:-3])
    per_row = math.ceil(math.sqrt(tiles))
    t, rest = np.divmod(np.arange(tiles * depth * rows * cols), depth * rows * cols)
    d, rest = np.divmod(rest, rows * cols)
    r, c = np.divmod(rest, cols)
    tile_row, tile_col = np.divmod(t, per_row)
    x = tile_col * (cols + 1) + c
    y = -(tile_row * (rows + 1) + r)
    z = -d * z_pitch
    return np.stack([x, y, z], axis=1).astype(np.float32)


class GenericMapper(VisMapper):
    """Any tensor, drawn with the module's N-D grid rule."""

    def positions(self, shape: tuple[int, ...]) -> np.ndarray:
        return grid_positions(shape)
