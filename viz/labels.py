"""Group labels on screen: shortened so that none runs into the next one on its line.

Placement leaves room for every label at the framed view; from farther away labels come closer
together than their text is long, and each is then cut (with "...") where the next one starts.
Pure arithmetic on pixel positions: the window measures text with its own font.
"""
from __future__ import annotations

from typing import Callable

ELLIPSIS = "..."
PAD_PX = 6.0           # kept free before the next label


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
