"""Where a frame below full detail is drawn: an offscreen colour and depth buffer at a fraction of
the viewport's pixels, then stretched over the viewport with linear filtering (a framebuffer blit,
through viz.gl_calls so the wait for the pixels lets other threads run). On a CPU rasterizer a
frame costs about the pixels it shades, so this is the level of detail that buys the most time
while the view moves (viz.adaptive)."""
from __future__ import annotations

import moderngl

from viz import gl_calls, gl_context


class ScaledTarget:
    def __init__(self, ctx: moderngl.Context):
        self.ctx = ctx
        self.size: tuple[int, int] | None = None
        self._fbo: moderngl.Framebuffer | None = None

    def use(self, size: tuple[int, int]) -> None:
        """Bind the target at `size` (made anew only when the size changes)."""
        if size != self.size:
            self.release()
            self._fbo = self.ctx.framebuffer([self.ctx.renderbuffer(size, 4)], self.ctx.depth_renderbuffer(size))
            self.size = size
        self._fbo.use()

    def stretch(self, target: moderngl.Framebuffer, rect: tuple[int, int, int, int]) -> None:
        """Copy what the target holds over `rect` (x, y, w, h from the bottom-left) of `target`,
        which is bound again afterwards."""
        gl_calls.blit(self._fbo.glo, target.glo, (0, 0, *self.size), rect)
        target.use()

    def release(self) -> None:
        if self._fbo is not None:
            gl_context.release_framebuffer(self._fbo)
        self._fbo, self.size = None, None
