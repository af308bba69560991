"""What the causal tools paint onto the flow view: slot effects over the memory entering the
current step, or the digit probes over the memory entering and leaving it (the controller's
overlays, diverging around 0), and the fx graph's nodes coloured by their relative change after
the last intervention (unchanged nodes at the dark end), each with a legend drawn beside it by
the GL text renderer."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from viz.text import Label, text_layout

MEMORY = "memory.before"
MEMORY_AFTER = "memory.after"
MEMORY_LEGEND = "overlay.memory"
GRAPH_LEGEND = "overlay.graph"
LEGEND_HEIGHT = 4.0
LEGEND_COLOUR = (1.0, 0.72, 0.35)
FLOOR_DECADE = -4          # graph changes below 1e-4 share the dimmest lit shade
LIT = 0.5                  # how far above "unchanged" the dimmest changed node sits


def paint(scene, controller) -> None:
    """Apply both overlays to `scene` as the controller has them now (or take them off)."""
    _paint_memory(scene, controller)
    _paint_graph(scene, controller)


def _legend(scene, name: str, lines: list[str], origin, anchor) -> None:
    labels = [Label(text, (anchor[0], anchor[1] - 1.4 * LEGEND_HEIGHT * i, 0.0), LEGEND_HEIGHT,
                    LEGEND_COLOUR) for i, text in enumerate(lines)]
    layout = text_layout(name, labels)
    layout.tags["origin"] = np.asarray(origin, np.float32)
    scene.set_layout(layout)


def _drop(scene, name: str) -> None:
    if name in scene:
        scene.remove(name)


def _paint_memory(scene, controller) -> None:
    after = controller.overlay(MEMORY_AFTER) if MEMORY_AFTER in scene else None
    _paint_values(scene, MEMORY_AFTER, after)     # the digit probes paint memory leaving the step too
    overlay = controller.overlay(MEMORY) if MEMORY in scene else None
    _paint_values(scene, MEMORY, overlay)
    if overlay is None:
        _drop(scene, MEMORY_LEGEND)
        return
    group = scene[MEMORY]
    lo, hi = overlay.value_range
    scale = overlay.scale or f"colour scale: {lo:+.3f} (blue) .. 0 (grey) .. {hi:+.3f} (orange)"
    _legend(scene, MEMORY_LEGEND, [overlay.legend, scale],
            group.layout.tags["origin"], (-0.5, 40.0))   # above the step's header line


def _paint_values(scene, name: str, overlay) -> None:
    """The overlay's values and range on group `name`, or (None) its own range back; its own
    values come back with every rebuild of the step."""
    if overlay is None:
        if name in scene and scene[name].range_override is not None:
            scene.set_range(name, None)
        return
    scene.update_values(name, overlay.values[tuple(scene[name].layout.indices.T)])
    scene.set_range(name, overlay.value_range)


def node_changes(layout, changes: dict[str, float]) -> np.ndarray:
    """(nodes,) the relative change of each drawn graph node: the largest of its members (a
    collapsed layer stands for all of its nodes)."""
    members = layout.tags.get("members") or [[n] for n in layout.tags["names"]]
    return np.array([max((changes.get(n, 0.0) for n in group), default=0.0) for group in members],
                    np.float32)


def change_shade(changes: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """Relative changes to colour-scale values: log10, so that 1e-4 and 2 both read, with exactly
    unchanged nodes (0) alone at the dark end; returns the values and their range."""
    finite = changes[np.isfinite(changes)]
    top = max(float(finite.max()) if finite.size else 0.0, 10.0 ** FLOOR_DECADE)
    changes = np.where(np.isfinite(changes), changes, top)
    lifted = np.log10(np.maximum(changes, 10.0 ** FLOOR_DECADE)) - FLOOR_DECADE + LIT
    return np.where(changes > 0, lifted, 0.0).astype(np.float32), (0.0, float(np.log10(top)) - FLOOR_DECADE + LIT)


def _paint_graph(scene, controller) -> None:
    changes = controller.graph_change() if "graph" in scene else None
    if not changes:
        _drop(scene, GRAPH_LEGEND)
        return
    group = scene["graph"]
    raw = node_changes(group.layout, changes)
    values, value_range = change_shade(raw)
    # The legend's first line takes over the group's label: the window draws that label in
    # screen pixels just above the nodes, where it would cover the legend's last line.
    title = group.layout.label or "graph"
    scene.set_layout(replace(group.layout, values=values, colormap="sequential", value_range=value_range,
                             label=""))
    changed = int((raw > 0).sum())
    left, top_row = float(group.layout.positions[:, 0].min()), float(group.layout.positions[:, 1].max())
    _legend(scene, GRAPH_LEGEND,
            [f"{title}: how far each node moved after the edit at step {controller.graph_change_step}",
             f"colour: log10 ||after - before|| / ||before||, from 1e{FLOOR_DECADE} (dim) to "
             f"{float(np.nanmax(np.where(np.isfinite(raw), raw, np.nan))):.3g} (bright);",
             f"{len(raw) - changed} nodes exactly unchanged (darkest), {changed} changed"],
            group.layout.tags["origin"], (left, top_row + 16.0))
