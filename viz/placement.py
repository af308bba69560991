"""Where each voxel group sits on the one shared canvas, so that all of them are visible at once.

Packing: groups go in a fixed semantic order (memory, read, process/attention, write, embeddings,
graph, then the rest in the order given) into shelves, left to right, shelves going down (-y), each
shelf as tall as its tallest group and groups ``gap`` apart. The shelf width is the one, among all
widths at which a shelf breaks differently, whose packed rectangle has the aspect ratio closest to
the window's: wide windows get more groups per shelf. Front faces all sit at z = 0.

Labels: each group keeps a band above it for its label, and is given at least the label's width,
so labels of neighbours never collide at the framed view. Text has no world size, so its height
``label_height`` is set to LABEL_TEXT of the canvas height: what a 13 px label measures when the
framed canvas is a few hundred pixels high (viz.labels shortens labels seen from farther away).

Scale: a group whose larger footprint side exceeds MAX_RATIO times the median group's is shrunk
(uniformly, as ``scale``) down to that size, so one huge tensor does not make the others specks.
World position of a voxel: ``origin + scale * local_position``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from viz.camera import check_aspect
from viz.voxels import VoxelLayout

ORDER = ("memory", "read", "process", "attention", "write", "embedding", "graph")
MAX_RATIO = 4.0
LABEL_TEXT = 0.032   # label text height / canvas height: 14 px when the canvas fills ~500 px
CHAR_WIDTH = 0.55    # width of one label character / text height (imgui's default font: 7 / 13)
LABEL_BAND = 1.5     # height of the band above a group / text height


@dataclass
class Placement:
    name: str
    origin: np.ndarray        # (3,) world position of the group's local origin
    scale: float              # world units per local unit
    bbox_min: np.ndarray      # (3,) world box around every voxel cube of the group
    bbox_max: np.ndarray
    label_anchor: np.ndarray  # (3,) world point just above the group's top-left front corner
    label_height: float = 0.0  # world height of the text standing on the anchor


def _rank(name: str) -> int:
    head = name.split(".")[0]
    if head == "process":  # process and attention share a rank: both are the process stack
        head = "attention"
    return ORDER.index(head) if head in ORDER else len(ORDER)


def _local_box(layout: VoxelLayout) -> tuple[np.ndarray, np.ndarray]:
    """Box around the unit voxel cubes, in local units, or the room the layout asks for
    (`tags["room"]`: a group with text drawn over it, such as the graph's names)."""
    if "room" in layout.tags:
        lo, hi = layout.tags["room"]
        return np.asarray(lo, float), np.asarray(hi, float)
    if layout.count == 0:
        return np.full(3, -0.5), np.full(3, 0.5)
    return layout.positions.min(axis=0) - 0.5, layout.positions.max(axis=0) + 0.5


def over(layout: VoxelLayout, host: Placement) -> Placement:
    """The placement of a group drawn in another's local frame (its labels): the host's origin
    and scale, around the group's own local box (`tags["box"]`)."""
    lo, hi = (np.asarray(b, float) for b in layout.tags["box"])
    origin = np.asarray(host.origin, float)
    bmin, bmax = origin + host.scale * lo, origin + host.scale * hi
    return Placement(layout.name, origin, host.scale, bmin, bmax,
                     np.array([bmin[0], bmax[1], bmax[2]]), 0.0)


def _shelves(sizes: list[tuple[float, float]], width: float, gap: float) -> list[list[int]]:
    """Greedy shelf breaks of items (in order) so that no shelf is wider than ``width``."""
    shelves, used = [[]], -gap
    for i, (w, _) in enumerate(sizes):
        if shelves[-1] and used + gap + w > width * (1 + 1e-9):  # rounding must not break a run
            shelves.append([])
            used = -gap
        shelves[-1].append(i)
        used += gap + w
    return shelves


def _extent(sizes, shelves, gap) -> tuple[float, float]:
    width = max(sum(sizes[i][0] for i in s) + gap * (len(s) - 1) for s in shelves)
    height = sum(max(sizes[i][1] for i in s) for s in shelves) + gap * (len(shelves) - 1)
    return width, height


def place(layouts: list[VoxelLayout], aspect: float, gap: float = 4.0) -> list[Placement]:
    """Placements for ``layouts``, returned in the same order as given (see the module docstring)."""
    aspect = check_aspect(aspect)
    if not layouts:
        return []
    boxes = [_local_box(layout) for layout in layouts]
    sides = [float(max(hi[:2] - lo[:2])) for lo, hi in boxes]
    limit = MAX_RATIO * float(np.median(sides))
    scales = [min(1.0, limit / side) for side in sides]
    boxes_2d = [tuple((hi[:2] - lo[:2]) * s) for (lo, hi), s in zip(boxes, scales)]
    order = sorted(range(len(layouts)), key=lambda i: _rank(layouts[i].name))  # stable

    def pack(text: float):
        """(text, gap, footprints in packing order, shelves, canvas height) for a text height."""
        room = max(gap, text)
        sizes = [(max(w, CHAR_WIDTH * text * len(layouts[i].label)), h + LABEL_BAND * text)
                 for i, (w, h) in ((i, boxes_2d[i]) for i in order)]
        # Every shelf width at which the breaks change is the total width of some run of items
        # (O(n^2) candidates, each packed in O(n): instant for the tens of groups a model has).
        candidates = {sum(w for w, _ in sizes[a:b]) + room * (b - a - 1)
                      for a in range(len(sizes)) for b in range(a + 1, len(sizes) + 1)}

        def misfit(width: float) -> float:
            w, h = _extent(sizes, _shelves(sizes, width, room), room)
            return abs(math.log(w / h / aspect))

        shelves = _shelves(sizes, min(sorted(candidates), key=misfit), room)
        return text, room, sizes, shelves, _extent(sizes, shelves, room)[1]

    # The text height is a share of the canvas height, which the label room itself changes: start
    # from the canvas the groups alone would make, then pack once more with what that gives.
    text = LABEL_TEXT * pack(0.0)[4]
    text, gap, ordered, shelves, _ = pack(LABEL_TEXT * pack(text)[4])

    placements: list[Placement | None] = [None] * len(layouts)
    top = 0.0
    for shelf in shelves:
        x = 0.0
        for k in shelf:
            i = order[k]
            (lo, hi), s = boxes[i], scales[i]
            # The label band on top, then the scaled box's top-left-front corner at (x, top - band, 0).
            origin = np.array([x, top - LABEL_BAND * text, 0.0]) - s * np.array([lo[0], hi[1], hi[2]])
            bmin, bmax = origin + s * lo, origin + s * hi
            anchor = np.array([bmin[0], bmax[1] + 0.25 * text, bmax[2]])
            placements[i] = Placement(layouts[i].name, origin, s, bmin, bmax, anchor, text)
            x += ordered[k][0] + gap
        top -= max(ordered[k][1] for k in shelf) + gap
    return placements
