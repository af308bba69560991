"""Ribbons: links from source rows to target rows (what a read or write weight joins), as a mark
group. Each link is one "voxel" of the group: it sits at its midpoint, shows its value through the
group's colour scale (brighter = larger), so a group's values and colour range can be swapped
like any group's (an overlay repaints the links), and it keeps its ends and width in the tags.

`top_links` keeps the few strongest links per target, so a fan of hundreds stays legible.
"""
from __future__ import annotations

import numpy as np

from viz.voxels import VoxelLayout

MARK = "ribbons"             # layout.tags["mark"] of a ribbon group


def top_links(weights: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(targets, sources): the `k` largest entries of each row of `weights` (targets x sources),
    largest first within a row; rows in order."""
    weights = np.asarray(weights, np.float64)
    k = max(1, min(int(k), weights.shape[1]))
    order = np.argsort(-weights, axis=1, kind="stable")[:, :k]
    targets = np.repeat(np.arange(weights.shape[0]), k)
    return targets, order.reshape(-1)


def ribbon_layout(name: str, starts, ends, values, widths, indices, colormap: str = "sequential",
                  value_range: tuple[float, float] = (0.0, 1.0), tags: dict | None = None) -> VoxelLayout:
    """A ribbon group: link i runs from `starts[i]` to `ends[i]` (local, (L, 3)), `widths[i]` wide
    (local units across the link), showing `values[i]`; `indices[i]` names the weight it shows
    (e.g. (target, source)), as a voxel's index names its tensor element."""
    starts = np.asarray(starts, np.float32).reshape(-1, 3)
    ends = np.asarray(ends, np.float32).reshape(-1, 3)
    if starts.shape != ends.shape:
        raise ValueError(f"ribbon ends have shape {ends.shape}, want {starts.shape} like the starts")
    widths = np.asarray(widths, np.float32).reshape(-1)
    if len(widths) != len(starts):
        raise ValueError(f"ribbon widths have {len(widths)} entries, want {len(starts)}")
    return VoxelLayout(
        name=name, label="", positions=(starts + ends) / 2, values=np.asarray(values, np.float32),
        indices=np.asarray(indices, np.int64), colormap=colormap,
        value_range=value_range,
        tags={"mark": MARK, "starts": starts, "ends": ends, "widths": widths, **(tags or {})})


def curve(start, end, t) -> np.ndarray:
    """Points of a link at parameters `t` (shaders/ribbon.glsl draws the same S-curve): a cubic
    Bezier leaving `start` and reaching `end` along +x, so links meet their rows square on."""
    p0, p3 = np.asarray(start, np.float64), np.asarray(end, np.float64)
    dx = np.array([0.5 * (p3[0] - p0[0]), 0.0, 0.0])
    p1, p2 = p0 + dx, p3 - dx
    t = np.asarray(t, np.float64)[..., None]
    s = 1.0 - t
    return s**3 * p0 + 3 * s * s * t * p1 + 3 * s * t * t * p2 + t**3 * p3
