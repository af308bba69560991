"""Graph edges as lines between voxel centres (shaders/edges.glsl), for groups whose layout has
edges and that have a chunk in view. Not drawn for picking: a line is no voxel.
"""
from __future__ import annotations

from dataclasses import dataclass

import moderngl
import numpy as np

from viz.draw.base import DrawMode, Pass
from viz.draw.instances import GroupInstances, InstanceUpdate
from viz.draw.uploads import Uploads
from viz.scene import Group


@dataclass
class _Lines:
    """One group's edges: instance pairs in an index buffer over the group's instance buffers."""
    indices: moderngl.Buffer
    vao: moderngl.VertexArray
    vertices: int = 0      # 2 per edge


class Edges(DrawMode):
    shader = "edges"
    pickable = False

    def __init__(self, ctx: moderngl.Context, uploads: Uploads):
        super().__init__(ctx, uploads)
        self._lines: dict[int, _Lines] = {}

    def sync(self, group: Group, instances: GroupInstances, update: InstanceUpdate) -> None:
        if not update.layout:
            return
        edges = group.layout.edges
        lines = self._lines.get(group.uid)
        if edges is None or len(edges) == 0:
            if lines is not None:
                lines.vertices = 0
            return
        data = instances.chunks.instance_of(edges).astype(np.int32)            # (E, 2)
        if lines is None:
            indices = self.ctx.buffer(reserve=data.nbytes)
            vao = self.ctx.vertex_array(self.programs[False], [], indices)
            instances.bind(vao, per_instance=False)   # the same buffers for the group's lifetime
            lines = self._lines[group.uid] = _Lines(indices, vao)
        self.uploads.write(lines.indices, data)
        lines.vertices = data.size

    def forget(self, uid: int) -> None:
        lines = self._lines.pop(uid, None)
        if lines is not None:
            lines.vao.release()
            lines.indices.release()

    def draw(self, p: Pass) -> int:
        prog = self.frame_program(p)
        calls = 0
        for g in np.flatnonzero(p.plan.in_view(p.table)):
            lines = self._lines.get(p.groups[g].uid)
            if lines is not None and lines.vertices:
                p.use_group(prog, g)
                lines.vao.render(moderngl.LINES, vertices=lines.vertices)
                calls += 1
        return calls

    def release(self) -> None:
        for uid in list(self._lines):
            self.forget(uid)
