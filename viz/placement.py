"""Where each voxel group sits on the one shared canvas, so that all of them are visible at once.

Packing: groups go in a fixed semantic order (memory, read, process/attention, write, embeddings,
graph, then the rest in the order given) into shelves, left to right, shelves going down (-y), each
shelf as tall as its tallest group and groups ``gap`` apart. The shelf width is the one, among all
widths at which a shelf breaks differently, whose packed rectangle has the aspect ratio closest to
the window's: wide windows get more groups per shelf. Front faces all sit at z = 0.

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


@dataclass
class Placement:
    name: str
    origin: np.ndarray        # (3,) world position of the group's local origin
    scale: float              # world units per local unit
    bbox_min: np.ndarray      # (3,) world box around every voxel cube of the group
    bbox_max: np.ndarray
    label_anchor: np.ndarray  # (3,) world point just above the group's top-left front corner


def _rank(name: str) -> int:
    head = name.split(".")[0]
    if head == "process":  # process and attention share a rank: both are the process stack
        head = "attention"
    return ORDER.index(head) if head in ORDER else len(ORDER)


def _local_box(layout: VoxelLayout) -> tuple[np.ndarray, np.ndarray]:
    """Box around the unit voxel cubes, in local units."""
    if layout.count == 0:
        return np.full(3, -0.5), np.full(3, 0.5)
    return layout.positions.min(axis=0) - 0.5, layout.positions.max(axis=0) + 0.5


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
    sizes = [tuple((hi[:2] - lo[:2]) * s) for (lo, hi), s in zip(boxes, scales)]

    order = sorted(range(len(layouts)), key=lambda i: _rank(layouts[i].name))  # stable
    ordered = [sizes[i] for i in order]
    # Every shelf width at which the breaks change is the total width of some run of items
    # (O(n^2) candidates, each packed in O(n): instant for the tens of groups a model has).
    candidates = {sum(w for w, _ in ordered[a:b]) + gap * (b - a - 1)
                  for a in range(len(ordered)) for b in range(a + 1, len(ordered) + 1)}

    def misfit(width: float) -> float:
        w, h = _extent(ordered, _shelves(ordered, width, gap), gap)
        return abs(math.log(w / h / aspect))

    shelves = _shelves(ordered, min(sorted(candidates), key=misfit), gap)

    placements: list[Placement | None] = [None] * len(layouts)
    top = 0.0
    for shelf in shelves:
        x = 0.0
        for k in shelf:
            i = order[k]
            (lo, hi), s = boxes[i], scales[i]
            # Put the scaled box's top-left-front corner at (x, top, 0).
            origin = np.array([x, top, 0.0]) - s * np.array([lo[0], hi[1], hi[2]])
            bmin, bmax = origin + s * lo, origin + s * hi
            anchor = np.array([bmin[0], bmax[1] + 1.0, bmax[2]])
            placements[i] = Placement(layouts[i].name, origin, s, bmin, bmax, anchor)
            x += ordered[k][0] + gap
        top -= max(ordered[k][1] for k in shelf) + gap
    return placements
