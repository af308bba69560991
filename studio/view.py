"""Keeps a viz Scene in step with a Controller: one voxel group per shown tensor, the fx graph,
colour ranges steady over a trace, edit highlights, and the selection box. No GL here.

Colour ranges are computed over the whole trace on view (not the one step), so scrubbing the
timeline never rescales colours: a cell that looks brighter is larger. Attention runs from 0 to
its largest weight in the trace: with r keys a uniform row is 1/r everywhere, so on a fixed
[0, 1] scale every tile would look the same dim colour.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from studio.controller import Controller
from studio.flow_graph import anchors, graph_text
from ttm import tokens as tok
from studio.walkthrough import segments
from viz.flow_scene import local_box
from viz.mappers import map_tensor
from viz.scene import Scene

GROUPS = ("memory", "read.weights", "attention", "write.weights", "graph", "embedding.pca")
DEFAULT_VISIBLE = {"memory": True, "read.weights": True, "attention": True, "write.weights": True,
                   "graph": True, "embedding.pca": False}
SEQUENTIAL_FLOOR = 0.05  # weights ranges never go below this top, so near-uniform weights stay dim


@dataclass
class ViewOptions:
    visible: dict[str, bool] = field(default_factory=lambda: dict(DEFAULT_VISIBLE))
    auto_range: dict[str, bool] = field(default_factory=lambda: {g: True for g in GROUPS})
    manual_range: dict[str, tuple[float, float]] = field(default_factory=dict)
    percentile: float = 99.5  # auto ranges ignore the top 0.5% so one outlier does not grey all


def auto_range(trace, name: str, percentile: float) -> tuple[float, float]:
    """Colour range of tensor `name` over the whole trace (diverging: symmetric around 0).
    Attention keeps its peaks (they are what it is about): [0, max], not a percentile."""
    data = trace[name].detach().float().abs().numpy().reshape(-1)
    if name == "attention":
        return (0.0, max(float(data.max()) if data.size else 1.0, 1e-6))
    top = float(np.percentile(data, percentile)) if data.size else 1.0
    if name == "memory":
        top = max(top, 1e-6)
        return (-top, top)
    return (0.0, max(top, SEQUENTIAL_FLOOR))


class SceneSync:
    shows_every_step_memory = True    # the view panel may switch memory to all of memory[0..T]

    def __init__(self, scene: Scene, controller: Controller, graph=None,
                 options: ViewOptions | None = None):
        self.scene = scene
        self.controller = controller
        self.options = options or ViewOptions()
        self.graph = graph           # a ttm.graph.FxGraph, drawn once, or None
        self._seen = None
        self._ranges: dict[str, tuple[float, float]] = {}
        self._trace = None
        self._embedding = None
        self.layouts_changed = False  # set by update() when groups were added or moved

    def mark_dirty(self) -> None:
        """Re-apply everything on the next update (after a view option changed)."""
        self._seen = None

    def update(self) -> bool:
        """Bring the scene up to date with the controller; True when anything changed."""
        c = self.controller
        key = (c.version, id(c.trace), c.all_memory)
        if key == self._seen:
            return False
        self._seen = key
        before = {g.name: (g.layout.extent.tolist(), g.placement) for g in self.scene}
        if c.trace is not None and c.trace is not self._trace:
            self._trace = c.trace
            self._ranges = {n: auto_range(c.trace, n, self.options.percentile)
                            for n in ("memory", "read.weights", "write.weights", "attention")
                            if n in c.trace}
        shown = c.view_tensors()
        for name in [g.name for g in self.scene if g.name.startswith("memory") and g.name not in shown]:
            self.scene.remove(name)   # switched between every-step and before/after memory
        for name, array in shown.items():
            self._set(name, array)
        if self.graph is not None and "graph" not in self.scene:
            self._add_graph()
        if c.trace is not None and self._embedding is not c.trace["embedding"]:
            self._embedding = c.trace["embedding"]
            self.scene.set_layout(map_tensor("embedding.pca", self._embedding, labels=list(tok.SYMBOLS)))
        self.apply_options()
        self._sync_selection()
        after = {g.name: (g.layout.extent.tolist(), g.placement) for g in self.scene}
        self.layouts_changed = before.keys() != after.keys() or any(
            before[n][1] is not after[n][1] for n in after)
        return True

    def _add_graph(self) -> None:
        """The fx graph in lanes, as the flow draws it, with its names over it ("graph.text",
        in the graph's frame, which makes room for them). Laid out here, once: dot takes about
        50 ms for this model's graph."""
        nodes = map_tensor("graph", self.graph, anchors=anchors(self.graph))
        names = graph_text(nodes)
        box = local_box(names)
        names.tags.update(over="graph", box=box)
        lo, hi = local_box(nodes)
        nodes.tags["room"] = (np.minimum(lo, box[0]), np.maximum(hi, box[1]))
        self.scene.set_layout(nodes)
        self.scene.set_layout(names)

    def _set(self, name: str, array: np.ndarray) -> None:
        label = self.label(name, array.shape)
        group = self.scene.groups.get(name)
        same = (group is not None and group.layout.pooled is None
                and group.layout.tags.get("shape") == array.shape)
        if same:
            self.scene.update_values(name, array)
        else:
            options = {}
            if name in ("read.weights", "write.weights"):
                options["segments"] = segments(self.controller.trace, name)
            layout = map_tensor(name, array, **options)
            layout.tags["shape"] = array.shape
            layout.tags["mapped_label"] = layout.label
            layout.label = label           # before placement, which makes room for it
            self.scene.set_layout(layout)
        group = self.scene[name]
        group.layout.label = label
        mask = self.controller.changed_mask(name)
        if mask is None or group.layout.pooled is not None:
            if group.highlight is not None:
                self.scene.set_highlight(name, None)
        else:
            self.scene.set_highlight(name, mask)

    def label(self, name: str, shape: tuple[int, ...]) -> str:
        """A short label with the step it shows (the view holds one step at a time); the mapper's
        long label (axes, segments) is in the layout's tags for the inspector."""
        c = self.controller
        dims = "x".join(str(n) for n in shape)
        if name == "memory":
            return f"memory, every step [{dims}]"
        if name == "memory.before":
            return f"memory entering step {c.step} [{dims}]"
        if name == "memory.after":
            return f"memory after step {c.step} [{dims}]"
        if name == "attention" and len(shape) == 5:   # [1 step, layers, heads, r, r]
            return f"attention [{shape[1]} layers x {shape[2]} heads]"
        short = {"read.weights": "read weights", "write.weights": "write weights"}.get(name, name)
        return f"{short} [{dims}]"

    def apply_options(self) -> None:
        o = self.options
        for group in self.scene:
            name = group.name
            # one switch (and one scale) for every memory group, one for the graph and its names
            key = name.split(".")[0] if name.startswith(("memory", "graph")) else name
            self.scene.set_visible(name, o.visible.get(key, True))   # hidden groups take no room
            if key not in self._ranges:
                continue
            wanted = self._ranges[key] if o.auto_range.get(key, True) else o.manual_range.get(
                key, self._ranges[key])
            if group.range_override != wanted:
                self.scene.set_range(name, wanted)

    def focus_box(self) -> tuple[np.ndarray, np.ndarray] | None:
        """What F and the first framing show: everything."""
        return self.scene.bbox()

    def current_range(self, name: str) -> tuple[float, float] | None:
        for group in self.scene:
            if group.name == name or (name == "memory" and group.name.startswith("memory")):
                return group.value_range
        return None

    def _sync_selection(self) -> None:
        """Put the scene's selection box on the controller's selected cell."""
        sel = self.controller.selection
        self.scene.selection = self.voxel_of(sel.name, sel.index) if sel else None

    def voxel_of(self, name: str, index) -> tuple[str, int] | None:
        return voxel_of(self.scene, name, index)


def voxel_of(scene: Scene, name: str, index) -> tuple[str, int] | None:
    """The voxel of `scene` that shows `index` of tensor `name` (a pooled block's index for pooled
    groups, the node number for the graph), or None when no voxel does (marks have none)."""
    group = scene.groups.get(name)
    if group is None or group.layout.tags.get("mark"):
        return None
    indices = group.layout.indices
    if len(index) != indices.shape[1]:
        return None
    hits = np.flatnonzero((indices == np.asarray(index, np.int64)).all(axis=1))
    return (name, int(hits[0])) if len(hits) else None
