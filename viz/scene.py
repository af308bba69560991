"""A Scene: the named voxel groups to draw, where each sits, how it is shown, and the camera.

Pure data, no GL, so app code and tests build scenes without a context. Each group carries version
counters; the renderer compares them with what it uploaded and re-sends only what changed. The
scene's `structure_version` moves whenever what is drawn where changes (groups added or removed,
placed, shown or hidden, or given a new layout), so the renderer rebuilds its table of chunks only
then, never for new values.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from viz.camera import Camera
from viz.colormap import normalize
from viz.placement import Placement, over, place
from viz.voxels import VoxelLayout

_uids = itertools.count(1)
_structures = itertools.count(1)   # one counter for every scene: two scenes never share a version


@dataclass(eq=False)
class Group:
    layout: VoxelLayout
    placement: Placement | None = None
    visible: bool = True
    range_override: tuple[float, float] | None = None  # colour range instead of layout.value_range
    highlight: np.ndarray | None = None  # (N,) bool, e.g. cells edited by an intervention
    uid: int = field(default_factory=lambda: next(_uids))
    layout_version: int = 0     # positions, indices or edges changed: GPU data rebuilt
    values_version: int = 0     # values or colour range changed: the values buffer rewritten
    highlight_version: int = 0  # highlight mask changed: the flags buffer rewritten

    @property
    def name(self) -> str:
        return self.layout.name

    @property
    def value_range(self) -> tuple[float, float]:
        return self.range_override if self.range_override is not None else self.layout.value_range

    def normalized(self) -> np.ndarray:
        """(N,) float32 values in [0, 1], the colour-table coordinate of each voxel."""
        return normalize(self.layout.values, self.value_range, self.layout.colormap)

    def world(self, local: np.ndarray) -> np.ndarray:
        """Local voxel coordinates (..., 3) to world units."""
        p = self.placement
        return np.asarray(p.origin, np.float32) + float(p.scale) * np.asarray(local, np.float32)


class Scene:
    """Ordered groups (name -> Group), the camera, and the selected / hovered voxel."""

    def __init__(self, camera: Camera | None = None, aspect: float = 16 / 9):
        self.groups: dict[str, Group] = {}
        self.camera = camera if camera is not None else Camera()
        self.aspect = aspect
        self.selection: tuple[str, int] | None = None  # (group name, voxel) chosen by a click
        self.hover: tuple[str, int] | None = None      # (group name, voxel) under the mouse
        self.structure_version = next(_structures)

    # -- container ---------------------------------------------------------------------------
    def __getitem__(self, name: str) -> Group:
        try:
            return self.groups[name]
        except KeyError:
            raise KeyError(f"scene has no group {name!r}; it has {list(self.groups)}") from None

    def __contains__(self, name: str) -> bool:
        return name in self.groups

    def __iter__(self):
        return iter(self.groups.values())

    def __len__(self) -> int:
        return len(self.groups)

    @property
    def names(self) -> list[str]:
        return list(self.groups)

    def shown(self) -> list[Group]:
        """The groups that are drawn: visible and placed, in scene order."""
        return [g for g in self.groups.values() if g.visible and g.placement is not None]

    # -- editing -----------------------------------------------------------------------------
    def set_layout(self, layout: VoxelLayout) -> Group:
        """Add a group, or replace the layout of the group with the same name (keeping its
        visibility and colour range). Groups are re-placed only when a new one arrives or a
        group's extent changes, so replacing a same-shaped tensor does not move anything; a
        layout of the same geometry (VoxelLayout.same_geometry: a new snapshot of the same
        tensor) only counts as new values, so the renderer rewrites values and nothing else."""
        group = self.groups.get(layout.name)
        if group is not None and group.layout.same_geometry(layout):
            group.layout = layout
            group.values_version += 1
            return group
        if group is None:
            group = self.groups[layout.name] = Group(layout)
            moved = True
        else:
            moved = not np.array_equal(group.layout.extent, layout.extent)
            group.layout = layout
            group.layout_version += 1
            group.values_version += 1
            if group.highlight is not None and len(group.highlight) != layout.count:
                group.highlight = None
                group.highlight_version += 1
            for attr in ("selection", "hover"):
                held = getattr(self, attr)
                if held is not None and held[0] == layout.name and held[1] >= layout.count:
                    setattr(self, attr, None)
        self._restructured()
        if moved:
            self.relayout()
        return group

    def remove(self, name: str) -> None:
        del self.groups[name]
        self._restructured()
        for attr in ("selection", "hover"):
            if (getattr(self, attr) or (None,))[0] == name:
                setattr(self, attr, None)

    def update_values(self, name: str, values) -> None:
        """New values for the same voxels: only this group's values buffer is re-sent."""
        group = self[name]
        values = np.array(values, dtype=np.float32).reshape(-1)  # a copy: later edits by the caller don't leak in
        if len(values) != group.layout.count:
            raise ValueError(f"values for {name!r} have {len(values)} entries, want {group.layout.count}")
        group.layout.values = values
        group.values_version += 1

    def set_visible(self, name: str, visible: bool = True) -> None:
        """Show or hide a group; the others are placed again, as hidden groups take no room."""
        group = self[name]
        if group.visible != bool(visible):
            group.visible = bool(visible)
            self.relayout()

    def set_range(self, name: str, value_range: tuple[float, float] | None = None) -> None:
        """Override the colour range of a group (None: back to the layout's own range)."""
        group = self[name]
        group.range_override = None if value_range is None else (float(value_range[0]), float(value_range[1]))
        group.values_version += 1

    def set_highlight(self, name: str, mask=None) -> None:
        """Mark voxels drawn brighter with an outline ((N,) bool), or clear the marks (None)."""
        group = self[name]
        if mask is not None:
            mask = np.asarray(mask, dtype=bool).reshape(-1)
            if len(mask) != group.layout.count:
                raise ValueError(f"highlight for {name!r} has {len(mask)} entries, want {group.layout.count}")
        group.highlight = mask
        group.highlight_version += 1

    def relayout(self, aspect: float | None = None) -> None:
        """Place every visible group again (viz.placement.place), e.g. for a new window aspect.
        Hidden groups take no room; they keep where they were until shown again. A group tagged
        "over" another (its labels) stands in that group's frame, which makes room for it."""
        if aspect is not None:
            self.aspect = aspect
        shown = [g for g in self.groups.values() if g.visible]
        packed = [g for g in shown if "over" not in g.layout.tags]
        for group, placement in zip(packed, place([g.layout for g in packed], self.aspect)):
            group.placement = placement
        for group in shown:      # drawn in another group's frame: tags "over" (its name), "box"
            host = self.groups.get(group.layout.tags.get("over"))
            if host is not None and host.placement is not None:
                group.placement = over(group.layout, host.placement)
        self._restructured()

    def _restructured(self) -> None:
        self.structure_version = next(_structures)

    # -- geometry ----------------------------------------------------------------------------
    def bbox(self, visible_only: bool = True) -> tuple[np.ndarray, np.ndarray] | None:
        """World (min, max) corners around the (visible) groups, or None when there are none."""
        boxes = [(g.placement.bbox_min, g.placement.bbox_max) for g in self
                 if g.placement is not None and (g.visible or not visible_only)]
        # and the label text standing on each group
        boxes += [(g.placement.label_anchor, g.placement.label_anchor + [0, g.placement.label_height, 0])
                  for g in self if g.placement is not None and (g.visible or not visible_only)]
        if not boxes:
            return None
        return (np.min([b[0] for b in boxes], axis=0).astype(np.float32),
                np.max([b[1] for b in boxes], axis=0).astype(np.float32))

    def group_box(self, names) -> tuple[np.ndarray, np.ndarray] | None:
        """World (min, max) around the shown groups among `names`, or None."""
        boxes = [(g.placement.bbox_min, g.placement.bbox_max) for g in self.shown() if g.name in names]
        if not boxes:
            return None
        return np.min([b[0] for b in boxes], 0), np.max([b[1] for b in boxes], 0)

    def voxel_box(self, name: str, voxel: int) -> tuple[np.ndarray, np.ndarray]:
        """World (centre, half size) of one voxel."""
        group = self[name]
        centre = group.world(group.layout.positions[voxel])
        return centre, np.full(3, 0.5 * float(group.placement.scale), np.float32)
