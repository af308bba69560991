"""Wireframe boxes around single voxels (the hovered and the selected one), drawn over everything
(shaders/box.glsl: 12 edges made from gl_VertexID, no buffers)."""
from __future__ import annotations

import moderngl
import numpy as np

from viz.shaders import mat_bytes, program, set_uniforms

BOX_PAD = 1.12              # boxes sit just outside the cube
SELECTION_COLOUR = (1.0, 1.0, 1.0)
HOVER_COLOUR = (0.55, 0.55, 0.55)


class Boxes:
    def __init__(self, ctx: moderngl.Context):
        self.ctx = ctx
        self._prog = program(ctx, "box")
        self._vao = ctx.vertex_array(self._prog, [])

    def draw(self, vp: np.ndarray, boxes: list[tuple[np.ndarray, np.ndarray, tuple]]) -> int:
        """Draw (world centre, world half size, colour) boxes through clip matrix `vp`, with the
        depth test off; returns the number of draw calls."""
        if not boxes:
            return 0
        self.ctx.disable(moderngl.DEPTH_TEST)
        for centre, half, colour in boxes:
            set_uniforms(self._prog, {"u_vp": mat_bytes(vp), "u_center": tuple(centre.tolist()),
                                      "u_half": tuple((half * BOX_PAD).tolist()), "u_colour": colour})
            self._vao.render(moderngl.LINES, vertices=24)
        self.ctx.enable(moderngl.DEPTH_TEST)
        return len(boxes)

    def release(self) -> None:
        self._vao.release()
