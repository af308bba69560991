"""A Scene whose groups stand where their layouts say (`tags["origin"]`, at scale 1), not packed
on shelves: the flow layout (viz.flow) and the layered graph (viz.mappers.layered) place themselves.

Boxes come from what a group draws: voxel cubes, the glyph boxes of text, both ends of ribbons,
so framing and culling see the whole of each group.
"""
from __future__ import annotations

import numpy as np

from viz import ribbons, text
from viz.draw.marks import mark_kind
from viz.placement import Placement
from viz.scene import Scene
from viz.voxels import VoxelLayout


def local_box(layout: VoxelLayout) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) local corners around everything the group draws."""
    kind = mark_kind(layout)
    if kind == text.MARK:
        boxes = [text.label_box(lb) for lb in layout.tags["labels"]]
        if boxes:
            return np.min([b[0] for b in boxes], 0), np.max([b[1] for b in boxes], 0)
    elif kind == ribbons.MARK and layout.count:
        ends = np.concatenate([layout.tags["starts"], layout.tags["ends"]])
        return ends.min(0), ends.max(0)
    elif layout.count:
        return layout.positions.min(0) - 0.5, layout.positions.max(0) + 0.5
    return np.full(3, -0.5), np.full(3, 0.5)


def placed(layout: VoxelLayout) -> Placement:
    origin = np.asarray(layout.tags.get("origin", (0.0, 0.0, 0.0)), np.float64)
    lo, hi = local_box(layout)
    return Placement(layout.name, origin, 1.0, origin + lo, origin + hi,
                     np.array([origin[0] + lo[0], origin[1] + hi[1], origin[2] + hi[2]]), 0.0)


class FlowScene(Scene):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._placed: dict[int, tuple] = {}  # group uid -> (layout version, origin) placed

    def set_layout(self, layout: VoxelLayout):
        """As Scene.set_layout; the group then stands at its layout's origin, wherever that moved."""
        group = super().set_layout(layout)
        if self._place(group):
            self._restructured()     # the renderer's culling table holds each group's origin
        return group

    def remove(self, name: str) -> None:
        self._placed.pop(self[name].uid, None)
        super().remove(name)

    def relayout(self, aspect: float | None = None) -> None:
        """Every group at its own origin; the aspect is kept for the camera only."""
        if aspect is not None:
            self.aspect = aspect
        for group in self.groups.values():
            self._place(group)
        self._restructured()

    def _place(self, group) -> bool:
        """Place the group where its layout says, if that changed; True when it did. The origin
        is part of the key: a layout kept from frame to frame (the graph's, which follows the
        current step in depth) moves by its origin alone, with the same geometry."""
        key = (group.layout_version, tuple(np.asarray(group.layout.tags.get("origin", ()), float)))
        if self._placed.get(group.uid) == key and group.placement is not None:
            return False
        group.placement = placed(group.layout)
        self._placed[group.uid] = key
        return True
