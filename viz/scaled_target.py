"""Where a frame below full detail is drawn: an offscreen colour texture and depth buffer at a
fraction of the viewport's pixels, then stretched over the viewport with linear filtering
(shaders/stretch.glsl: one triangle). On a CPU rasterizer a frame costs about the pixels it
shades, so this is the level of detail that buys the most time while the view moves
(viz.adaptive)."""
from __future__ import annotations

import moderngl

from viz import gl_context
from viz.shaders import program

UNIT_FRAME = 4      # texture unit of u_frame (0-3 are the voxel modes' and the text atlas')


class ScaledTarget:
    def __init__(self, ctx: moderngl.Context):
        self.ctx = ctx
        self.size: tuple[int, int] | None = None
        self._fbo: moderngl.Framebuffer | None = None
        self._prog = program(ctx, "stretch")
        self._prog["u_frame"] = UNIT_FRAME
        self._vao = ctx.vertex_array(self._prog, [])

    def use(self, size: tuple[int, int]) -> None:
        """Bind the target at `size` (made anew only when the size changes)."""
        if size != self.size:
            self._release_target()
            colour = self.ctx.texture(size, 4)
            colour.filter = (moderngl.LINEAR, moderngl.LINEAR)
            colour.repeat_x = colour.repeat_y = False     # no bleed from the far edge
            self._fbo = self.ctx.framebuffer([colour], self.ctx.depth_renderbuffer(size))
            self.size = size
        self._fbo.use()

    def stretch(self, target: moderngl.Framebuffer, rect: tuple[int, int, int, int]) -> None:
        """Draw what the target holds over `rect` (x, y, w, h from the bottom-left) of `target`,
        which is left bound, with its viewport and enabled state as they were."""
        ctx, viewport = self.ctx, self.ctx.viewport
        target.use()
        ctx.viewport = rect
        self._fbo.color_attachments[0].use(UNIT_FRAME)
        ctx.disable(moderngl.DEPTH_TEST | moderngl.BLEND)
        self._vao.render(moderngl.TRIANGLES, vertices=3)
        ctx.viewport = viewport

    def _release_target(self) -> None:
        if self._fbo is not None:
            gl_context.release_framebuffer(self._fbo)
        self._fbo, self.size = None, None

    def release(self) -> None:
        self._release_target()
        self._vao.release()
