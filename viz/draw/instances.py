"""One scene group's voxels as GPU instances: position, value and highlight buffers in chunk order
(viz.lod.chunk_layout), which the cube, sprite and edge modes all read.

Positions are uploaded when the layout changes; values and highlight flags are written in place
when their version moves; a buffer only grows (orphan), never shrinks. Each sync says what changed
(InstanceUpdate), so the modes that keep data derived from the instances (slab grids, edge lists)
follow without comparing versions themselves.
"""
from __future__ import annotations

from dataclasses import dataclass

import moderngl
import numpy as np

from viz import lod
from viz.draw.uploads import Uploads
from viz.scene import Group

# locations fixed by `layout(location = N)` in shaders/*.glsl
LOC_POS, LOC_VALUE, LOC_FLAG = 2, 3, 4


@dataclass
class InstanceUpdate:
    """What one sync changed."""
    layout: bool                # positions and chunks rebuilt
    values: np.ndarray | None   # (N,) float32 normalized values in instance order, when they changed
    flags: np.ndarray | None    # (N,) float32 1 = highlighted, in instance order, when they changed


class GroupInstances:
    def __init__(self, ctx: moderngl.Context, uploads: Uploads):
        self.uploads = uploads
        self.chunks: lod.Chunks | None = None
        self.layout_version = self.values_version = self.highlight_version = -1
        self.pos = ctx.buffer(reserve=12)
        self.val = ctx.buffer(reserve=4)
        self.flag = ctx.buffer(reserve=4)

    def sync(self, group: Group) -> InstanceUpdate | None:
        """Bring the GPU copy up to date with `group`; None when nothing changed."""
        layout = self.layout_version != group.layout_version
        if layout:
            self.chunks = lod.chunk_layout(group.layout.positions)
            self.uploads.write(self.pos, group.layout.positions[self.chunks.perm])
            self.layout_version = group.layout_version
            self.values_version = self.highlight_version = -1
        values = flags = None
        if self.values_version != group.values_version:
            values = group.normalized()[self.chunks.perm]
            self.uploads.write(self.val, values)
            self.values_version = group.values_version
        if self.highlight_version != group.highlight_version:
            mask = group.highlight
            n = len(self.chunks.perm)
            flags = np.zeros(n, np.float32) if mask is None else mask[self.chunks.perm].astype(np.float32)
            self.uploads.write(self.flag, flags)
            self.highlight_version = group.highlight_version
        if not layout and values is None and flags is None:
            return None
        return InstanceUpdate(layout, values, flags)

    def voxel(self, instance: int) -> int:
        """The voxel (index into the layout) that `instance` shows."""
        return int(self.chunks.perm[instance])

    def bind(self, vao: moderngl.VertexArray, first: int = 0, per_instance: bool = True) -> None:
        """Point the vertex array's position, value and flag attributes at instance `first`, read
        per instance (cubes; GL 3.3 has no base instance, so each draw binds its own start) or per
        vertex (sprites, edges)."""
        divisor = 1 if per_instance else 0
        vao.bind(LOC_POS, "f", self.pos, "3f", offset=12 * first, divisor=divisor)
        vao.bind(LOC_VALUE, "f", self.val, "f", offset=4 * first, divisor=divisor)
        vao.bind(LOC_FLAG, "f", self.flag, "f", offset=4 * first, divisor=divisor)

    def release(self) -> None:
        for buffer in (self.pos, self.val, self.flag):
            buffer.release()
