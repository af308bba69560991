"""Where each imgui panel goes, and what every panel shares: the fixed window it opens in, its
colours and its number format.

Panel rectangles come from `layout(size)`, which keeps every panel inside the window and a margin
away from its border (the canvas edge stays black) for any size, tiny and huge included.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import imgui

from ttm.confidence import WARN_BELOW

MARGIN = 8
SIDE_W = 318
TIMELINE_H = 212         # the app's rows: problem, answer, two checks, warning, step, play, snapshots, "viewing"
PERF_H = 150
GOOD, BAD, DIM, WARN = (0.45, 0.9, 0.45, 1.0), (1.0, 0.45, 0.4, 1.0), (0.6, 0.6, 0.6, 1.0), (1.0, 0.8, 0.3, 1.0)
FIXED = imgui.WINDOW_NO_MOVE | imgui.WINDOW_NO_RESIZE | imgui.WINDOW_NO_SAVED_SETTINGS | imgui.WINDOW_NO_COLLAPSE


@dataclass
class Rect:
    x: float
    y: float
    w: float
    h: float


def layout(size: tuple[int, int]) -> dict[str, Rect]:
    """Panel rectangles for a window of `size` (pixels, origin top-left): a column each side,
    the timeline along the bottom between them. Sizes shrink, never below zero, to fit."""
    w, h = max(int(size[0]), 0), max(int(size[1]), 0)
    side = max(min(SIDE_W, (w - 4 * MARGIN) / 3), 0)
    col_h = max(h - 2 * MARGIN, 0)
    perf_h = min(PERF_H, col_h / 3)
    train_h = max(col_h - perf_h - MARGIN, 0)
    insp_h = min(max(col_h * 0.44, 0), col_h)
    right = w - MARGIN - side
    mid_x = MARGIN * 2 + side
    mid_w = max(right - MARGIN - mid_x, 0)
    tl_h = min(TIMELINE_H, col_h / 2)
    return {
        "training": Rect(MARGIN, MARGIN, side, train_h),
        "performance": Rect(MARGIN, MARGIN + train_h + MARGIN, side, perf_h),
        "inspector": Rect(right, MARGIN, side, insp_h),
        "view": Rect(right, MARGIN * 2 + insp_h, side, max(col_h - insp_h - MARGIN, 0)),
        "timeline": Rect(mid_x, h - MARGIN - tl_h, mid_w, tl_h),
    }


def scene_viewport(size: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x, y, w, h) from the top-left of the canvas area the panels leave free for the scene,
    a margin away from them and from the window's border."""
    rects = layout(size)
    x0 = rects["training"].x + rects["training"].w + MARGIN
    x1 = rects["inspector"].x - MARGIN
    y1 = rects["timeline"].y - MARGIN
    return int(x0), MARGIN, int(max(x1 - x0, 1)), int(max(y1 - MARGIN, 1))


def begin_panel(name: str, rect: Rect) -> bool:
    """Open the fixed window of a panel at `rect`; True when its contents should be drawn.
    Call imgui.end() after it either way."""
    imgui.set_next_window_position(rect.x, rect.y)
    imgui.set_next_window_size(max(rect.w, 1), max(rect.h, 1))
    imgui.set_next_window_bg_alpha(0.82)
    expanded, _ = imgui.begin(name, False, FIXED)
    return expanded


def fmt(value, spec: str = ".4f", none: str = "-") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return none
    return format(value, spec)


def trust_color(right: float | None) -> tuple[float, float, float, float]:
    """How a rate of being right reads in every panel: GOOD from 90% (the warnings' line), WARN
    from 50%, BAD below, DIM unmeasured."""
    if right is None:
        return DIM
    return GOOD if right >= WARN_BELOW else WARN if right >= 0.5 else BAD
