"""Ribbon groups (viz.ribbons) as instanced triangle strips, one per link (shaders/ribbon.glsl),
blended with MAX so the brighter of two crossing links shows (on a signed scale, where colours
must not mix, the later link covers the earlier). Ends and widths are uploaded with
the layout; new values or a new colour range rewrite only the values buffer.
"""
from __future__ import annotations

from dataclasses import dataclass

import moderngl
import numpy as np

from viz import ribbons
from viz.draw.base import SAMPLER_UNITS
from viz.draw.marks import MarkMode
from viz.draw.uploads import Uploads
from viz.lod import FULL_DETAIL, Detail
from viz.scene import Group
from viz.shaders import set_uniforms
from viz.voxels import COLORMAPS

SEGMENTS = 24            # at full detail (u_segments): a strip has 2 * (segments + 1) vertices


@dataclass
class _Links:
    ends: moderngl.Buffer       # per link: start xyz, end xyz, width
    values: moderngl.Buffer     # per link: normalized value
    vao: moderngl.VertexArray
    pick_vao: moderngl.VertexArray
    count: int


class Ribbons(MarkMode):
    kind = ribbons.MARK
    shader = "ribbon"
    pickable = True           # a link is a weight: hovering one names it, clicking selects it

    def __init__(self, ctx: moderngl.Context, uploads: Uploads):
        super().__init__(ctx, uploads)
        self.prog["u_lut"] = SAMPLER_UNITS["u_lut"]   # the renderer's colour tables, bound per frame
        self._links: dict[int, _Links] = {}

    def build(self, group: Group) -> None:
        self.forget(group.uid)
        tags = group.layout.tags
        data = np.concatenate([tags["starts"], tags["ends"], tags["widths"][:, None]], axis=1)
        if len(data) == 0:
            return
        ends = self.ctx.buffer(np.ascontiguousarray(data, np.float32).tobytes())
        values = self.ctx.buffer(reserve=4 * len(data))
        shape = (ends, "3f 3f 1f/i", "in_start", "in_end", "in_width")
        vao = self.ctx.vertex_array(self.prog, [shape, (values, "1f/i", "in_value")])
        pick_vao = self.ctx.vertex_array(self.pick_prog, [shape])     # picking has no use for values
        self.uploads.add(data.nbytes)
        self._links[group.uid] = _Links(ends, values, vao, pick_vao, len(data))
        self.revalue(group)

    def revalue(self, group: Group) -> None:
        links = self._links.get(group.uid)
        if links is not None:
            self.uploads.write(links.values, group.normalized())

    def forget(self, uid: int) -> None:
        links = self._links.pop(uid, None)
        if links is not None:
            for obj in (links.vao, links.pick_vao, links.ends, links.values):
                obj.release()

    def draw_group(self, group: Group, pick: bool = False, detail: Detail = FULL_DETAIL) -> None:
        links = self._links.get(group.uid)
        segments = detail.segments(SEGMENTS)
        if links is not None and pick:
            set_uniforms(self.pick_prog, {"u_segments": segments})
            links.pick_vao.render(moderngl.TRIANGLE_STRIP, vertices=2 * (segments + 1), instances=links.count)
        elif links is not None:
            signed = group.layout.colormap == "diverging"
            set_uniforms(self.prog, {"u_lut_row": COLORMAPS.index(group.layout.colormap), "u_signed": signed,
                                     "u_segments": segments})
            # signed colours must not mix (orange and blue would make pink): in draw order, so the
            # strongest links, which viz.flow puts last, lie on top
            self.ctx.blend_equation = moderngl.FUNC_ADD if signed else moderngl.MAX
            self.ctx.blend_func = (moderngl.ONE, moderngl.ZERO) if signed else (moderngl.ONE, moderngl.ONE)
            links.vao.render(moderngl.TRIANGLE_STRIP, vertices=2 * (segments + 1), instances=links.count)
