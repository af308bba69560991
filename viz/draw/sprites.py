"""Point sprites, one per voxel: the middle level of detail, for voxels off a grid (graph layouts),
or all mid-size voxels with LodSettings.grid_sprites (shaders/sprite.glsl). One draw per run of a
group's consecutive SPRITES chunks (viz.lod.Plan.runs).
"""
from __future__ import annotations

import moderngl

from viz import lod
from viz.draw.base import DrawMode, Pass
from viz.draw.uploads import Uploads


class Sprites(DrawMode):
    shader = "sprite"

    def __init__(self, ctx: moderngl.Context, uploads: Uploads):
        super().__init__(ctx, uploads)
        # the instance buffers are bound per draw, to the run's group
        self._vaos = {pick: ctx.vertex_array(prog, []) for pick, prog in self.programs.items()}

    def draw(self, p: Pass) -> int:
        prog, vao = self.frame_program(p), self._vaos[p.pick]
        groups, first, count = p.plan.runs(p.table, lod.SPRITES)
        for g, start, n in zip(groups, first.tolist(), count.tolist()):
            p.use_group(prog, g).bind(vao, per_instance=False)
            # one vertex per instance; starting at `first` makes gl_VertexID the instance number
            vao.render(moderngl.POINTS, vertices=n, first=start)
        return len(groups)

    def release(self) -> None:
        for vao in self._vaos.values():
            vao.release()
