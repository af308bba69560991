"""The flow view model: keeps a FlowScene in step with a Controller, every step of the trace laid
out by viz.flow (read -> process -> write), steps stacked along depth, the current one bright.

Group names: the current step's groups are named by what they show ("memory.before",
"read.weights", "attention", ...), so selection, editing and overlays address them as in the grid
view; another step's carry "step{t}/" in front, and the second trace of a side-by-side comparison
"compare/" before that. A comparison drawn as a difference replaces the trace's numbers by
(second - first) on diverging scales. The fx graph (studio.flow_graph) stands under the current
step, linked to the flow both ways on hover. No GL here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.compare import CompareState
from studio.controller import Controller
from studio.flow_data import difference_arrays, flow_ranges, flow_shape, signed_ranges, step_arrays
from studio import flow_overlay
from studio.flow_graph import FlowGraph
from studio.view import ViewOptions, voxel_of
from ttm import tokens as tok
from viz import flow
from viz.flow_scene import FlowScene

STEP_DEPTH = 420.0          # world units between steps along -z: earlier steps stay behind the camera
FACING = 0.7                # the camera looks along the stack when -forward.z is above this
WHOLE_VIEW = 2.0            # farther than this many steps from the current plane: the whole stack shows
SIDE_GAP = 90.0             # between the two traces of a side-by-side comparison
COMPARED = "compare/"
FLOW_VISIBLE = {"memory": True, "read.weights": True, "attention": True, "write.weights": True,
                "graph": True, "other steps": True}
FLOW_ONLY = {"input": "input token {0} (its embedding), feature {1}",
             "output": "output: p of {0}",
             "write.sources": "write source {0}: its mean weight over the memory slots",
             "memory.change": "memory slot {0}: how far the step moved it (norm of after - before)"}


@dataclass(frozen=True)
class FlowName:
    base: str                # what the group shows: "memory.before", "text", ...
    step: int | None         # None: the current step
    compared: bool           # the second trace of a side-by-side comparison

    def __str__(self) -> str:
        return (COMPARED if self.compared else "") + ("" if self.step is None else f"step{self.step}/") + self.base


def parse_name(name: str) -> FlowName:
    compared = name.startswith(COMPARED)
    rest = name[len(COMPARED):] if compared else name
    head, sep, tail = rest.partition("/")
    if sep and head.startswith("step") and head[4:].isdigit():
        return FlowName(tail, int(head[4:]), compared)
    return FlowName(rest, None, compared)


def step_of(name: str) -> int | None:
    """The step of a group that is not the current step's ("step3/memory.before" -> 3), else None."""
    return parse_name(name).step


def flow_note(pick) -> str | None:
    """What a picked voxel is when the inspector cannot read it from the trace on view: a group
    only the flow has, another step's, or the compared trace's; None otherwise."""
    n = parse_name(pick.name)
    about = FLOW_ONLY.get(n.base)
    if about is not None:
        index = list(pick.index_in_tensor)
        if n.base == "output":      # a token by its symbol: "p of 7", "p of <EOS>"
            index[0] = tok.SYMBOLS[index[0]]
        about = about.format(*index)
    elif n.step is not None or n.compared:
        about = f"{n.base}{list(pick.index_in_tensor)}"
    else:
        return None
    where = "compared trace, " if n.compared else ""
    where += f"step {n.step}: " if n.step is not None else ""
    click = f" (click: go to step {n.step})" if n.step is not None else ""
    return f"{where}{about} = {pick.value:.4g}{click}"


class FlowSync:
    """The view model of the flow layout, with SceneSync's interface (update, options, ranges,
    voxel_of, focus_box) and what the flow adds: steps in depth, comparison, graph links."""

    # Every step is already laid out in depth ("other steps"): memory stays before/after.
    shows_every_step_memory = False

    def __init__(self, scene: FlowScene, controller: Controller, graph=None,
                 options: ViewOptions | None = None):
        self.scene = scene
        self.controller = controller
        self.options = options or ViewOptions(visible=dict(FLOW_VISIBLE))
        self.graph = graph           # a ttm.graph.FxGraph, drawn under the flow, or None
        self.compare = CompareState()
        self._graph: FlowGraph | None = None
        self._seen = None
        self._ranges: tuple | None = None     # (key, ranges) of the trace or difference on view
        self._near: set[int] | None = None   # steps shown besides the current one; None: all
        self._hovered: tuple[str, str] | None = None   # ("flow", group) lit from a graph node, or
                                                       # ("graph", group) whose nodes a voxel lights
        self._lit: set[str] = set()          # groups given a highlight by _light
        self.layouts_changed = False

    def mark_dirty(self) -> None:
        self._seen = None

    def origin(self, t: int, compared: bool = False) -> tuple[float, float, float]:
        x = self._side_offset() if compared else 0.0
        return (x, 0.0, -STEP_DEPTH * t)

    def _side_offset(self) -> float:
        box = self.step_box()
        return 0.0 if box is None else float(box[1][0] - box[0][0]) + SIDE_GAP

    def step_box(self, t: int | None = None, compared: bool = False) -> tuple[np.ndarray, np.ndarray] | None:
        """World box around step t's flow (the current step by default)."""
        step = None if t is None or t == self.controller.step else t
        return self.scene.group_box({g.name for g in self.scene
                                     if (parse_name(g.name).step, parse_name(g.name).compared) == (step, compared)
                                     and not g.name.startswith("graph")})

    def focus_box(self) -> tuple[np.ndarray, np.ndarray] | None:
        """What F and the first framing show: the current step's flow (both, side by side)."""
        boxes = [b for b in (self.step_box(), self.step_box(compared=True)) if b is not None]
        if not boxes:
            return None
        return np.min([b[0] for b in boxes], 0), np.max([b[1] for b in boxes], 0)

    # -- the camera and the stack of steps ---------------------------------------------------
    def follows(self, camera, step: int | None = None) -> bool:
        """The camera is on a step, not on the whole stack: it looks along the stack from within
        WHOLE_VIEW steps of `step` (the current one by default). Then it and the timeline follow
        each other."""
        current = self.origin(self.controller.step if step is None else step)[2]
        return (self.controller.trace is not None and -camera.forward[2] >= FACING
                and abs(float(camera.position[2]) - current) <= WHOLE_VIEW * STEP_DEPTH)

    def step_at(self, camera) -> int | None:
        """The step whose plane the camera's focus is nearest, while it follows the steps."""
        if not self.follows(camera):
            return None
        t = -float(camera.focus[2]) / STEP_DEPTH
        return int(round(t)) if -0.5 <= t <= self.controller.trace.steps - 0.5 else None

    def show_steps_near(self, camera) -> None:
        """Other steps show when the camera is within a step's depth of them, so the one in view
        is not crossed by dim copies behind it; seen from afar or aside, every step shows."""
        trace = self.controller.trace
        if trace is None:
            return
        z = float(camera.position[2])
        near = ({t for t in range(trace.steps) if abs(z - self.origin(t)[2]) < STEP_DEPTH}
                if self.follows(camera) else None)
        if near != self._near:
            self._near = near
            self.apply_options()

    def show_every_step(self) -> None:
        if self._near is not None:
            self._near = None
            self.apply_options()

    # -- keeping the scene in step -----------------------------------------------------------
    @property
    def flow_graph(self) -> FlowGraph | None:
        """The graph's layout state (collapse, links), made with the first model seen."""
        if self._graph is None and self.graph is not None:
            self._graph = FlowGraph(self.graph, self.controller.model())
        return self._graph

    def update(self) -> bool:
        c = self.controller
        comparison = self.compare.comparison(c)
        key = (c.version, id(c.trace), id(comparison), self.compare.mode)
        graph_ready = self.flow_graph is not None and self.flow_graph.poll()
        if key == self._seen and not graph_ready:
            return False
        self._seen = key
        before = {g.name: g.placement for g in self.scene}
        wanted: set[str] = set()
        if c.trace is not None:
            self._set_steps(comparison, wanted)
        for name in [g.name for g in self.scene if g.name not in wanted and not g.name.startswith("graph")]:
            self.scene.remove(name)
        self._place_graph()
        flow_overlay.paint(self.scene, c)
        self.apply_options()
        self._light()
        self._sync_selection()
        after = {g.name: g.placement for g in self.scene}
        self.layouts_changed = before.keys() != after.keys() or any(
            before[n] is None or not np.allclose(before[n].origin, after[n].origin) for n in after)
        return True

    def _set_steps(self, comparison, wanted: set[str]) -> None:
        c, trace = self.controller, self.controller.trace
        shape = flow_shape(trace)
        steps = comparison.steps if comparison is not None else trace.steps
        mine = [step_arrays(trace, t) for t in range(steps)]
        signed = comparison is not None and self.compare.mode == "difference"
        if signed:
            theirs = [step_arrays(comparison.other, t) for t in range(steps)]
            drawn = [(False, [difference_arrays(a, b) for a, b in zip(mine, theirs)],
                      f"{comparison.label}  −  {trace.problem}")]
        elif comparison is not None:
            drawn = [(False, mine, trace.problem),
                     (True, [step_arrays(comparison.other, t) for t in range(steps)], comparison.label)]
        else:
            drawn = [(False, mine, "")]
        ranges = self._ranges_for(trace, comparison, drawn[0][1] if signed else None)
        for compared, arrays, caption in drawn:
            for t, data in enumerate(arrays):
                current = t == c.step
                style = flow.FlowStyle(ranges, current=current, signed=signed, caption=caption)
                prefix = str(FlowName("", None if current else t, compared))
                for layout in flow.flow_step(shape, data, t, prefix, self.origin(t, compared), style):
                    wanted.add(layout.name)
                    self.scene.set_layout(layout)

    def _ranges_for(self, trace, comparison, differences) -> dict[str, tuple[float, float]]:
        """Colour ranges of what is drawn, steady while it stays on view; set by hand where asked."""
        key = (id(trace), id(comparison), differences is not None)
        if self._ranges is None or self._ranges[0] != key:
            auto = (signed_ranges(differences, self.options.percentile) if differences is not None
                    else flow_ranges(trace, self.options.percentile))
            self._ranges = (key, auto)
        return self._chosen(self._ranges[1])

    def _chosen(self, auto: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        o = self.options
        return {n: (r if o.auto_range.get(n, True) else o.manual_range.get(n, r)) for n, r in auto.items()}

    def _place_graph(self) -> None:
        """The graph (once laid out) under the current step's flow, in its plane."""
        graph = self.flow_graph
        box = self.step_box()
        if graph is None or graph.layout is None or box is None:
            return
        for layout in graph.layouts(box, self.origin(self.controller.step)[2]):
            group = self.scene.groups.get(layout.name)
            if (group is None or group.layout is not layout
                    or not np.allclose(group.placement.origin, layout.tags["origin"])):
                self.scene.set_layout(layout)

    def apply_options(self) -> None:
        o = self.options
        for group in self.scene:
            n = parse_name(group.name)
            key = "memory" if n.base.startswith("memory") else n.base
            show = o.visible.get(key, True) and (n.step is None or (
                o.visible.get("other steps", True) and (self._near is None or n.step in self._near)))
            self.scene.set_visible(group.name, show)

    # -- highlights: edits, and the graph <-> flow links -------------------------------------
    def hover(self, name: str | None, voxel: int | None) -> None:
        """The window's hover: a graph node lights the flow group its hook fills, a voxel of the
        current step's flow lights the graph nodes whose hooks fill its group."""
        lit = None
        if name == "graph" and voxel is not None:
            hooks = self.scene["graph"].layout.tags.get("hooks")
            lit = ("flow", hooks[voxel]) if hooks and hooks[voxel] else None
        elif name is not None:
            n = parse_name(name)
            lit = ("graph", name) if n.step is None and not n.compared else None
        if lit != self._hovered:
            self._hovered = lit
            self._light()

    def _light(self) -> None:
        """Set the highlights that edits and the hover call for, touching only groups that change."""
        wanted: dict[str, np.ndarray] = {}
        sel = self.controller.selection
        for name in ("memory.before", "memory.after"):
            masks = [self.controller.changed_mask(name)] if name in self.scene else []
            if masks and sel is not None and sel.whole_slot:   # a whole slot has no box: light its row
                masks.append(self.controller.selection_mask(name))
            masks = [np.asarray(m, bool).reshape(-1) for m in masks if m is not None]
            if masks:
                wanted[name] = np.logical_or.reduce(masks)
        side, h = self._hovered or (None, None)
        if side == "flow" and h in self.scene:
            wanted[h] = np.ones(self.scene[h].layout.count, bool)
        if side == "graph" and "graph" in self.scene:
            nodes = np.array([g == h for g in self.scene["graph"].layout.tags.get("hooks", [])], bool)
            if nodes.any():
                wanted["graph"] = nodes
        for name in self._lit | set(wanted):
            if name not in self.scene:
                continue
            mask, held = wanted.get(name), self.scene[name].highlight
            if (mask is None) != (held is None) or (mask is not None and not np.array_equal(mask, held)):
                self.scene.set_highlight(name, mask)
        self._lit = set(wanted)

    def current_range(self, name: str) -> tuple[float, float] | None:
        return None if self._ranges is None else self._chosen(self._ranges[1]).get(name)

    def _sync_selection(self) -> None:
        sel = self.controller.selection
        self.scene.selection = self.voxel_of(sel.name, sel.index) if sel else None

    def voxel_of(self, name: str, index) -> tuple[str, int] | None:
        return voxel_of(self.scene, name, index)
