"""Charts drawn with ttm.raster: a labelled heat map, grouped bars and a line plot.

Each returns a Canvas; `.save(path)` writes the PNG. Values in [0, 1] are shown in percent.
"""
from __future__ import annotations

import math

import numpy as np

from .raster import Canvas, text_size

# Viridis sampled at five points: perceptually ordered and readable in grey scale.
_STOPS = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], float)
# Distinct hues for series (Tableau 10).
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]
INK, GRID = (20, 20, 20), (225, 225, 225)


def ramp(value: float) -> tuple[int, int, int]:
    """Colour of a value in [0, 1] (clipped; NaN is grey)."""
    if not np.isfinite(value):
        return (200, 200, 200)
    pos = float(np.clip(value, 0.0, 1.0)) * (len(_STOPS) - 1)
    i = min(int(pos), len(_STOPS) - 2)
    return tuple(int(round(c)) for c in _STOPS[i] + (pos - i) * (_STOPS[i + 1] - _STOPS[i]))


def _contrast(rgb) -> tuple[int, int, int]:
    return INK if 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] > 140 else (255, 255, 255)


def heatmaps(panels, row_title: str, col_title: str, cell: int = 64) -> Canvas:
    """Side-by-side heat maps. panels: [(title, values (R, C) in [0, 1], row labels, col labels)];
    each cell shows its value in percent with one decimal."""
    rows, cols = np.asarray(panels[0][1]).shape
    left, top, gap = 70, 56, 40
    width = left + len(panels) * (cols * cell + gap)
    canvas = Canvas(width, top + rows * cell + 20)
    for p, (title, values, row_labels, col_labels) in enumerate(panels):
        values = np.asarray(values, float)
        x0 = left + p * (cols * cell + gap)
        canvas.text(x0 + cols * cell / 2, 6, title, INK, scale=2, align="center")
        canvas.text(x0 + cols * cell / 2, 24, col_title, INK, scale=1, align="center")
        for c, label in enumerate(col_labels):
            canvas.text(x0 + (c + 0.5) * cell, top - 4, str(label), INK, scale=2,
                        align="center", valign="bottom")
        for r, label in enumerate(row_labels):
            canvas.text(x0 - 6, top + (r + 0.5) * cell, str(label), INK, scale=2,
                        align="right", valign="middle")
            for c in range(cols):
                color = ramp(values[r, c])
                canvas.rect(x0 + c * cell, top + r * cell, x0 + (c + 1) * cell - 1,
                            top + (r + 1) * cell - 1, color)
                label_text = f"{100 * values[r, c]:.1f}" if np.isfinite(values[r, c]) else "-"
                canvas.text(x0 + (c + 0.5) * cell, top + (r + 0.5) * cell, label_text,
                            _contrast(color), scale=2, align="center", valign="middle")
    canvas.text(8, top + rows * cell / 2, row_title, INK, scale=1, valign="middle")
    return canvas


def _legend(canvas: Canvas, x: float, y: float, labels, scale: int = 2) -> None:
    for i, label in enumerate(labels):
        yy = y + i * 8 * scale
        canvas.rect(x, yy, x + 5 * scale, yy + 5 * scale, PALETTE[i % len(PALETTE)])
        canvas.text(x + 8 * scale, yy, label, INK, scale=scale)


def bar_chart(title: str, groups, series, ymax: float = 1.0, percent: bool = True) -> Canvas:
    """Grouped bars: `groups` names along x, `series` [(label, values per group)] side by side."""
    n_groups, n_series = len(groups), len(series)
    bar, gap = 14, 26
    group_w = n_series * bar + gap
    left, top, plot_h = 60, 40, 260
    label_w = max(text_size(str(g), 1)[0] for g in groups)
    legend_w = max(text_size(label, 2)[0] for label, _ in series) + 30
    width = left + max(n_groups * group_w, label_w) + legend_w + 20
    canvas = Canvas(width, top + plot_h + 40)
    canvas.text(left, 8, title, INK, scale=2)
    for k in range(6):
        value = ymax * k / 5
        y = top + plot_h - plot_h * k / 5
        canvas.line(left, y, left + n_groups * group_w, y, GRID)
        text = f"{100 * value:.0f}" if percent else f"{value:.3g}"
        canvas.text(left - 6, y, text, INK, scale=2, align="right", valign="middle")
    for g, name in enumerate(groups):
        x0 = left + g * group_w + gap / 2
        for s, (_, values) in enumerate(series):
            v = float(np.clip(values[g], 0, ymax)) if np.isfinite(values[g]) else 0.0
            canvas.rect(x0 + s * bar, top + plot_h - plot_h * v / ymax, x0 + (s + 1) * bar - 2,
                        top + plot_h, PALETTE[s % len(PALETTE)])
        canvas.text(x0 + n_series * bar / 2, top + plot_h + 8, str(name), INK, scale=1,
                    align="center")
    canvas.line(left, top + plot_h, left + n_groups * group_w, top + plot_h, INK)
    _legend(canvas, left + n_groups * group_w + 20, top, [label for label, _ in series])
    return canvas


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    step = 10 ** math.floor(math.log10(max(hi - lo, 1e-12) / count))
    step *= next(m for m in (1, 2, 5, 10) if (hi - lo) / (step * m) <= count)
    return [k * step for k in range(math.ceil(lo / step), math.floor(hi / step) + 1)]


def line_plot(title: str, series, xlabel: str, ylabel: str, log2_x: bool = True) -> Canvas:
    """Lines with point markers. series: [(label, xs, ys)]; x on a log2 axis when log2_x."""
    left, top, plot_w, plot_h = 80, 56, 520, 300
    legend_w = max(text_size(label, 2)[0] for label, _, _ in series) + 40
    canvas = Canvas(left + plot_w + legend_w, top + plot_h + 50)
    fx = (lambda x: math.log2(x)) if log2_x else (lambda x: x)
    xs_all = [fx(x) for _, xs, _ in series for x in xs]
    ys_all = [y for _, _, ys in series for y in ys if np.isfinite(y)]
    x_lo, x_hi = min(xs_all), max(xs_all)
    y_hi = max(ys_all) * 1.08
    px = lambda x: left + plot_w * (fx(x) - x_lo) / max(x_hi - x_lo, 1e-12)  # noqa: E731
    py = lambda y: top + plot_h - plot_h * y / y_hi                            # noqa: E731
    canvas.text(left, 8, title, INK, scale=2)
    for y in _ticks(0.0, y_hi):
        canvas.line(left, py(y), left + plot_w, py(y), GRID)
        canvas.text(left - 6, py(y), f"{y:g}", INK, scale=2, align="right", valign="middle")
    x_ticks = sorted({x for _, xs, _ in series for x in xs})
    for x in x_ticks:
        canvas.line(px(x), top, px(x), top + plot_h, GRID)
        canvas.text(px(x), top + plot_h + 6, f"{x:g}", INK, scale=2, align="center")
    canvas.line(left, top + plot_h, left + plot_w, top + plot_h, INK)
    canvas.line(left, top, left, top + plot_h, INK)
    canvas.text(left + plot_w / 2, top + plot_h + 26, xlabel, INK, scale=2, align="center")
    canvas.text(left, top - 14, ylabel, INK, scale=2)
    for s, (_, xs, ys) in enumerate(series):
        color = PALETTE[s % len(PALETTE)]
        points = [(px(x), py(y)) for x, y in zip(xs, ys) if np.isfinite(y)]
        for (xa, ya), (xb, yb) in zip(points, points[1:]):
            canvas.line(xa, ya, xb, yb, color, width=2)
        for x, y in points:
            canvas.rect(x - 3, y - 3, x + 4, y + 4, color)
    _legend(canvas, left + plot_w + 20, top, [label for label, _, _ in series])
    return canvas


def stack(canvases) -> Canvas:
    """Canvases one above the other, left-aligned, on white."""
    out = Canvas(max(c.width for c in canvases), sum(c.height for c in canvases))
    y = 0
    for c in canvases:
        out.pixels[y : y + c.height, : c.width] = c.pixels
        y += c.height
    return out
