"""Text on screen, in the window's font, over the scene.

Group labels: placement leaves room for every label at the framed view; from farther away labels
come closer together than their text is long, and each is then cut (with "...") where the next one
starts. Stand-ins: text drawn in the scene (GL, world-sized) that the view shows too small to read
gets a screen-sized copy where it has room, the biggest first. Pure arithmetic on pixel
positions: the window measures text with its own font.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

ELLIPSIS = "..."
PAD_PX = 6.0           # kept free before the next label
READABLE_PX = 8.0      # a capital this tall on screen reads; smaller scene text gets a stand-in
SPECK_PX = 1.0         # ... unless it is under a pixel: its group is a thumbnail from here
GAP_PX = 3.0           # kept free around a stand-in


def fit_labels(labels: list[tuple[str, float, float]], text_width: Callable[[str], float],
               line_height: float, right: float) -> list[tuple[str, float, float]]:
    """`labels` as (text, x, y) (left end of the text's baseline, pixels), each text cut to the
    room before the nearest label to its right whose line overlaps, and before `right`; labels
    with no room for one character and the ellipsis are dropped."""
    out = []
    for text, x, y in labels:
        ends = [ox for _, ox, oy in labels if ox > x and abs(oy - y) < line_height]
        room = min([right, *ends]) - x - PAD_PX
        fitted = fit_text(text, room, text_width)
        if fitted:
            out.append((fitted, x, y))
    return out


def fit_text(text: str, room: float, text_width: Callable[[str], float]) -> str:
    """`text`, or its longest prefix + "..." that is at most `room` wide ("" when none is)."""
    if text_width(text) <= room:
        return text
    lo, hi = 0, len(text)          # binary search on the prefix length: widths grow with it
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text_width(text[:mid].rstrip() + ELLIPSIS) <= room:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + ELLIPSIS if lo > 0 else ""


def stand_ins(labels: list[tuple[str, float, float, float, float, float]],
              text_size: Callable[[str], tuple[float, float]],
              inside: tuple[float, float, float, float],
              taken=()) -> list[tuple[int, float, float, float, float]]:
    """`labels`: scene text as (text, x, y, cap_px, align, valign): its anchor in pixels, the
    height of its capitals on screen and its alignment (viz.text.Label's). Those READABLE_PX
    tall or more are left to the scene, and specks under SPECK_PX too (a stand-in for them
    would dwarf the group they name); the others, biggest first (a graph's lane titles before
    its node names), come back as (index in `labels`, left, top, width, height) of a
    `text_size` box aligned on the anchor as the scene text is, kept where it lies inside
    `inside` (x0, y0, x1, y1) and clear of every stand-in kept before it and of the `taken`
    boxes (left, top, width, height: text already there, such as the group labels)."""
    small = sorted((i for i, lb in enumerate(labels) if SPECK_PX <= lb[3] < READABLE_PX),
                   key=lambda i: -labels[i][3])
    x0, y0, x1, y1 = inside
    kept = []
    boxes = np.zeros((len(taken) + len(small), 4))      # filled up to n: what is on screen so far
    for n, (left, top, w, h) in enumerate(taken):
        boxes[n] = (left, top, left + w, top + h)
    n = len(taken)
    for i in small:
        text, x, y, _, align, valign = labels[i]
        w, h = text_size(text)
        left, top = x - align * w, y - (1.0 - valign) * h
        if left < x0 or top < y0 or left + w > x1 or top + h > y1:
            continue
        box = (left - GAP_PX, top - GAP_PX, left + w + GAP_PX, top + h + GAP_PX)
        on = boxes[:n]
        if ((on[:, 0] < box[2]) & (box[0] < on[:, 2]) & (on[:, 1] < box[3]) & (box[1] < on[:, 3])).any():
            continue
        kept.append((i, left, top, w, h))
        boxes[n] = box
        n += 1
    return kept
