"""Text groups (viz.text) drawn from the font atlas: one instanced quad per glyph
(shaders/text.glsl). Glyph quads are laid out on the CPU when a group's layout changes; a change
of values (brightness per label) rewrites only the brightness buffer.
"""
from __future__ import annotations

from dataclasses import dataclass

import moderngl
import numpy as np

from viz import text
from viz.draw.marks import MarkMode
from viz.draw.uploads import Uploads
from viz.lod import FULL_DETAIL, MIN_TEXT_PX, Detail
from viz.scene import Group

UNIT_ATLAS = 3      # texture unit of u_atlas (0-2 are the voxel modes')


@dataclass
class _Glyphs:
    quads: moderngl.Buffer      # per glyph: corner xyz, size wh, uv rect, colour rgb
    bright: moderngl.Buffer     # per glyph: its label's brightness
    owner: np.ndarray           # (G,) label of each glyph
    vao: moderngl.VertexArray
    count: int
    tallest: float              # the tallest label's capital height, local units


class Texts(MarkMode):
    kind = text.MARK
    shader = "text"

    def __init__(self, ctx: moderngl.Context, uploads: Uploads):
        super().__init__(ctx, uploads)
        font = text.atlas()
        h, w = font.image.shape
        self.atlas = ctx.texture((w, h), 1, np.ascontiguousarray(font.image).tobytes())
        self.atlas.build_mipmaps()
        self.atlas.filter = (moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR)
        self.prog["u_atlas"] = UNIT_ATLAS
        self._glyphs: dict[int, _Glyphs] = {}

    def build(self, group: Group) -> None:
        self.forget(group.uid)
        rows = text.glyph_quads(group.layout.tags["labels"])
        if len(rows) == 0:
            return
        quads = self.ctx.buffer(np.ascontiguousarray(rows[:, :12]).tobytes())
        owner = rows[:, 12].astype(np.int64)
        bright = self.ctx.buffer(reserve=4 * len(rows))
        vao = self.ctx.vertex_array(self.prog, [
            (quads, "3f 2f 4f 3f/i", "in_corner", "in_size", "in_uv", "in_colour"),
            (bright, "1f/i", "in_bright")])
        self.uploads.add(rows[:, :12].nbytes)
        tallest = max(label.height for label in group.layout.tags["labels"])
        self._glyphs[group.uid] = _Glyphs(quads, bright, owner, vao, len(rows), tallest)
        self.revalue(group)

    def revalue(self, group: Group) -> None:
        glyphs = self._glyphs.get(group.uid)
        if glyphs is not None:
            self.uploads.write(glyphs.bright, group.layout.values[glyphs.owner].astype(np.float32))

    def forget(self, uid: int) -> None:
        glyphs = self._glyphs.pop(uid, None)
        if glyphs is not None:
            for obj in (glyphs.vao, glyphs.quads, glyphs.bright):
                obj.release()

    def worth_drawing(self, group: Group, uniforms: dict, detail: Detail) -> bool:
        """Below full detail, a group whose tallest capitals would stand under MIN_TEXT_PX
        pixels where the group comes nearest the eye is left out: it would be specks, and on a
        CPU rasterizer each glyph costs its two triangles' setup whatever its size. (Pixels of the
        target drawn into: a frame drawn small counts its own.)"""
        glyphs, p = self._glyphs.get(group.uid), group.placement
        if glyphs is None:
            return False
        eye = np.asarray(uniforms["u_eye"], np.float64)
        nearest = np.clip(eye, p.bbox_min, p.bbox_max)
        distance = float(np.linalg.norm(eye - nearest))
        height_px = glyphs.tallest * float(p.scale) * float(uniforms["u_focal_px"])
        return distance <= 0 or height_px / distance >= MIN_TEXT_PX

    def draw_group(self, group: Group, pick: bool = False, detail: Detail = FULL_DETAIL) -> None:
        glyphs = self._glyphs.get(group.uid)
        if glyphs is not None:
            self.atlas.use(UNIT_ATLAS)
            glyphs.vao.render(moderngl.TRIANGLE_STRIP, vertices=4, instances=glyphs.count)

    def release(self) -> None:
        super().release()
        self.atlas.release()
