"""Lit instanced cubes, one instance per voxel: the near level of detail (shaders/voxel.glsl).

Only the 3 faces that look toward the eye are drawn, made in the vertex shader from gl_VertexID;
one draw per run of a group's consecutive CUBES chunks (viz.lod.Plan.runs).
"""
from __future__ import annotations

import moderngl
import numpy as np

from viz import lod
from viz.draw.base import DrawMode, Pass
from viz.draw.uploads import Uploads
from viz.shaders import set_uniforms

# the 3 visible faces of a cube, 2 triangles each; voxel.glsl makes corners from these ids
CUBE_INDICES = np.array([[4 * f + 0, 4 * f + 1, 4 * f + 3, 4 * f + 0, 4 * f + 3, 4 * f + 2]
                         for f in range(3)], np.int32).reshape(-1)


class Cubes(DrawMode):
    shader = "voxel"

    def __init__(self, ctx: moderngl.Context, uploads: Uploads):
        super().__init__(ctx, uploads)
        self._ibo = ctx.buffer(CUBE_INDICES.tobytes())
        # the instance attributes are bound per draw, to the run's group and first instance
        self._vaos = {pick: ctx.vertex_array(prog, [], self._ibo) for pick, prog in self.programs.items()}

    def draw(self, p: Pass) -> int:
        prog, vao = self.frame_program(p), self._vaos[p.pick]
        groups, first, count = p.plan.runs(p.table, lod.CUBES)
        for g, start, n in zip(groups, first.tolist(), count.tolist()):
            p.use_group(prog, g).bind(vao, start)
            set_uniforms(prog, {"u_first": start})
            vao.render(moderngl.TRIANGLES, vertices=len(CUBE_INDICES), instances=n)
        return len(groups)

    def release(self) -> None:
        for obj in (*self._vaos.values(), self._ibo):
            obj.release()
