"""The project's charts, drawn with matplotlib (Agg, no window): labelled heat maps, grouped bars,
line plots. Values in [0, 1] are shown in percent.

Callers import this module where they draw a chart, so `import ttm` and the command lines run
without --png never load matplotlib. Each function returns a Figure; `save` writes it as a PNG.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

# The one colour scale of the charts: perceptually ordered and readable in grey scale.
HEAT_COLORMAP = "viridis"


def _figure(width: float, height: float) -> Figure:
    """A Figure on its own Agg canvas: no pyplot state, safe off the main thread."""
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save(fig: Figure, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def heatmaps(panels, xlabel: str, ylabel: str, title: str = "",
             cell_inches: float | None = None) -> Figure:
    """Heat maps side by side on one colour bar; each cell shows its value in percent.

    panels: [(title, values (R, C) in [0, 1], row labels, column labels)]; NaN is a grey "-".
    cell_inches: the side of a cell, for panels of many rows and columns (default: the figure
    is sized for a few of each).
    """
    cmap = matplotlib.colormaps[HEAT_COLORMAP].with_extremes(bad="lightgrey")
    norm = Normalize(0.0, 100.0)
    rows, cols = np.shape(panels[0][1])
    if cell_inches is None:
        fig = _figure(3.6 * len(panels) + 1.2, 0.7 * rows + 1.9)
    else:
        fig = _figure(cell_inches * cols * len(panels) + 2.0, cell_inches * rows + 2.0)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (name, values, row_labels, col_labels) in zip(axes, panels):
        percent = 100 * np.asarray(values, float)                             # (R, C)
        image = ax.imshow(np.ma.masked_invalid(percent), cmap=cmap, norm=norm,
                          interpolation="nearest")
        for (r, c), value in np.ndenumerate(percent):
            red, green, blue, _ = cmap(norm(value)) if np.isfinite(value) else (1, 1, 1, 1)
            ink = "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.55 else "white"
            ax.text(c, r, f"{value:.1f}" if np.isfinite(value) else "-", ha="center",
                    va="center", color=ink, fontsize=10)
        ax.set_xticks(range(cols), [str(x) for x in col_labels])
        ax.set_yticks(range(rows), [str(y) for y in row_labels])
        ax.set(title=name, xlabel=xlabel, ylabel=ylabel)
    fig.colorbar(image, ax=axes, label="percent", shrink=0.9)
    if title:
        fig.suptitle(title)
    return fig


def bar_chart(title: str, groups, series, xlabel: str, ylabel: str) -> Figure:
    """Grouped bars in percent: `groups` along x, `series` [(label, values per group)] side by
    side; a NaN value (not measured) draws no bar, rather than a bar at 0."""
    fig = _figure(max(6.0, 1.2 * len(groups) + 2.5), 4.2)
    ax = fig.subplots()
    x = np.arange(len(groups))
    width = 0.8 / len(series)
    for i, (label, values) in enumerate(series):
        offset = (i - (len(series) - 1) / 2) * width
        ax.bar(x + offset, 100 * np.asarray(values, float), width, label=label)
    ax.set_xticks(x, [str(g) for g in groups])
    ax.set_yticks(range(0, 101, 20))
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel, ylim=(0, 104))
    ax.yaxis.grid(True, color="0.88")
    ax.set_axisbelow(True)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def line_plots(panels, xlabel: str, ylabel: str, log2_x: bool = True) -> Figure:
    """Lines with point markers, one plot above the other.

    panels: [(title, [(label, xs, ys)])]; x on a log2 axis ticked at the measured xs when log2_x.
    """
    fig = _figure(7.5, 3.6 * len(panels))
    axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
    for ax, (title, series) in zip(axes, panels):
        for label, xs, ys in series:
            ax.plot(xs, ys, marker="o", markersize=4, label=label)
        if log2_x:
            ax.set_xscale("log", base=2)
            ticks = sorted({x for _, xs, _ in series for x in xs})
            ax.set_xticks(ticks, [f"{x:g}" for x in ticks])
            ax.minorticks_off()
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
        ax.set_ylim(bottom=0)
        ax.grid(True, color="0.88")
        ax.legend(frameon=False)
    return fig
