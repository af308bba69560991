"""Which voxel is under a pixel: draw (group + 1, instance + 1) into a small integer framebuffer with
blending off, as the screen shows the scene (same level of detail, slabs included), and read the
centre pixel; 0 is the background.

Only the PICK_SIZE x PICK_SIZE pixels around the cursor are drawn: the projection is zoomed onto
them, so every chunk that misses them is culled and the pass costs little.
"""
from __future__ import annotations

from dataclasses import dataclass

import moderngl
import numpy as np

from viz.renderer import Renderer
from viz.scene import Scene

PICK_SIZE = 15   # odd, so the cursor's pixel is the centre one; sprites centred up to 7 px away still draw


@dataclass(frozen=True)
class Pick:
    name: str                        # group (tensor) name
    voxel: int                       # index into the group's layout
    index_in_tensor: tuple[int, ...]  # layout.indices[voxel]: where in the (pooled) tensor it came from
    value: float                     # layout.values[voxel]


def window_matrix(x: float, y: float, size: tuple[int, int], k: int = PICK_SIZE) -> np.ndarray:
    """Row-major clip -> clip matrix that maps the k x k pixels centred on pixel (x, y) (from the
    top-left) of a `size` viewport onto the whole clip square, one pixel to one pixel."""
    w, h = size
    cx = 2.0 * (int(x) + 0.5) / w - 1.0
    cy = 1.0 - 2.0 * (int(y) + 0.5) / h
    sx, sy = w / k, h / k
    return np.array([[sx, 0, 0, -cx * sx], [0, sy, 0, -cy * sy], [0, 0, 1, 0], [0, 0, 0, 1]], np.float64)


class Picker:
    def __init__(self, ctx: moderngl.Context):
        self.ctx = ctx
        self._ids = ctx.texture((PICK_SIZE, PICK_SIZE), 2, dtype="u4")
        self._depth = ctx.depth_renderbuffer((PICK_SIZE, PICK_SIZE))
        self.fbo = ctx.framebuffer([self._ids], self._depth)

    def pick(self, renderer: Renderer, scene: Scene, x: float, y: float, size: tuple[int, int],
             view=None, proj=None) -> Pick | None:
        """The voxel drawn at pixel (x, y), counted from the top-left of a `size` viewport, or None.
        Matrices default to the scene camera's, as in Renderer.render."""
        w, h = size
        if not (0 <= x < w and 0 <= y < h):
            return None
        previous = self.ctx.fbo
        self.fbo.use()
        self.fbo.clear(0, 0, 0, 0, depth=1.0)
        renderer.draw_ids(scene, size, window_matrix(x, y, size), view=view, proj=proj)
        c = PICK_SIZE // 2
        group, instance = np.frombuffer(self.fbo.read(viewport=(c, c, 1, 1), components=2, dtype="u4"), np.uint32)
        if previous is not None:
            previous.use()
        if group == 0:
            return None
        g, voxel = renderer.resolve(int(group) - 1, int(instance) - 1)
        layout = g.layout
        return Pick(g.name, voxel, tuple(int(i) for i in layout.indices[voxel]), float(layout.values[voxel]))

    def release(self) -> None:
        for obj in (self.fbo, self._ids, self._depth):
            obj.release()
