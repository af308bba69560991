"""Marks: groups that are not voxels (text, ribbons) but live in the scene like any group, so they
are placed, shown, hidden, framed and recoloured with the rest. A mark group's layout says its
kind in `tags["mark"]`; the renderer leaves such groups out of the voxel modes (cubes, sprites,
slabs, edges, picking) and hands them to the MarkMode of that kind, drawn after the voxels, blended,
with the depth test on and depth writes off (so marks never hide one another).
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import moderngl
import numpy as np

from viz.draw.uploads import Uploads
from viz.lod import FULL_DETAIL, Detail
from viz.scene import Group, Scene
from viz.shaders import program, set_uniforms
from viz.voxels import VoxelLayout


def mark_kind(layout: VoxelLayout) -> str | None:
    """"text", "ribbons", ... for a mark group's layout; None for voxels."""
    return layout.tags.get("mark")


class MarkMode(ABC):
    """Draws the scene's mark groups of one `kind`, from shaders/<shader>.glsl."""
    kind: str
    shader: str
    blend_equation = moderngl.FUNC_ADD
    blend_func = (moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA)
    pickable = False     # also drawn into the picking pass, from the PICKING variant of the shader

    def __init__(self, ctx: moderngl.Context, uploads: Uploads):
        self.ctx = ctx
        self.uploads = uploads
        self.prog = program(ctx, self.shader)
        self.pick_prog = program(ctx, self.shader, "PICKING") if self.pickable else None
        self._versions: dict[int, tuple[int, int]] = {}   # uid -> (layout, values) versions held

    def sync(self, scene: Scene) -> None:
        """Bring what this mode holds in step with the scene's groups of its kind."""
        live = set()
        for group in scene:
            if mark_kind(group.layout) != self.kind:
                continue
            live.add(group.uid)
            held = self._versions.get(group.uid)
            if held is None or held[0] != group.layout_version:
                self.build(group)
            elif held[1] != group.values_version:
                self.revalue(group)
            self._versions[group.uid] = (group.layout_version, group.values_version)
        for uid in [u for u in self._versions if u not in live]:
            del self._versions[uid]
            self.forget(uid)

    @abstractmethod
    def build(self, group: Group) -> None:
        """(Re)make the GPU data of a group whose layout is new or changed."""

    @abstractmethod
    def revalue(self, group: Group) -> None:
        """Rewrite the values-dependent data of a group (its layout is unchanged)."""

    @abstractmethod
    def forget(self, uid: int) -> None:
        """Release what this mode holds for the group `uid`, which left the scene."""

    @abstractmethod
    def draw_group(self, group: Group, pick: bool = False, detail: Detail = FULL_DETAIL) -> None:
        """Draw one shown group of this kind with self.prog (or self.pick_prog, when `pick`), whose
        frame uniforms are set, at `detail`."""

    def worth_drawing(self, group: Group, uniforms: dict, detail: Detail) -> bool:
        """Whether a group adds enough to this frame at `detail` to be drawn (`uniforms`: the
        frame's, u_eye and u_focal_px among them). At full detail every group is."""
        return True

    def draw(self, groups: list[Group], uniforms: dict, first_id: int | None = None,
             detail: Detail = FULL_DETAIL) -> int:
        """Draw the shown `groups` of this kind (any order given) at `detail`; returns the draw
        calls. With `first_id`, draw ids for picking instead: group k of `groups` as first_id + k."""
        pick = first_id is not None
        if pick and not self.pickable:
            return 0
        prog = self.pick_prog if pick else self.prog
        mine = [(k, g) for k, g in enumerate(groups) if mark_kind(g.layout) == self.kind and g.uid in self._versions
                and (detail.full or self.worth_drawing(g, uniforms, detail))]
        if not mine:
            return 0
        set_uniforms(prog, uniforms)
        if not pick:
            self.ctx.blend_equation = self.blend_equation
            self.ctx.blend_func = self.blend_func
        for k, group in mine:
            set_uniforms(prog, {"u_origin": tuple(np.asarray(group.placement.origin, float).tolist()),
                                "u_scale": float(group.placement.scale), "u_group": (first_id or 0) + k})
            self.draw_group(group, pick, detail)
        return len(mine)

    def release(self) -> None:
        for uid in list(self._versions):
            del self._versions[uid]
            self.forget(uid)
