"""The fx graph in the flow view: laid out in lanes (viz.mappers.layered) on a worker thread, so a
large graph never holds up the window; placed under the current step's flow; lane titles and node
names in GL text (small: they read close up; from afar the window draws those that fit again in
its own font, and the inspector names a hovered node); the processing unit's layers collapsible
to one node each; and linked to the flow both ways through the hook points (a node's hook
produces a tensor the flow draws as a group). The grid view draws the same lanes and names
(graph_text), laid out once, without the links.

The model knowledge lives here: which module paths form a layer ("process.blocks.<i>."), and which
hook point (ttm.hooks) each node is.
"""
from __future__ import annotations

import re
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from viz.colormap import PALETTE
from viz.flow_scene import local_box
from viz.mappers.graph import OP_NAMES, OPS
from viz.mappers.layered import LayeredGraphMapper
from viz.text import Label, text_layout
from viz.voxels import VoxelLayout

LAYER = re.compile(r"^process\.blocks\.(\d+)\.")
GAP = 40.0                       # between the flow and the graph under it
LANE_TITLE, NODE_NAME = 3.0, 0.6
TITLE_COLOUR, NAME_COLOUR = (0.9, 0.9, 0.9), (0.7, 0.7, 0.7)
# the flow group that shows what a hook point makes (ribbons stand for the block they feed)
FLOW_GROUP = {"read.weights": "read.tokens", "read.tokens": "read.tokens", "processed": "processed",
              "write.weights": "memory.after", "memory": "memory.after", "logits": "output"}
_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="graph-layout")


def anchors(graph) -> list[str | None]:
    """The processing-unit layer each node's module belongs to ("layer 2"), or None."""
    out = []
    for node in graph.nodes:
        m = LAYER.match(str(node.target)) if node.op == "call_module" else None
        out.append(f"layer {m.group(1)}" if m else None)
    return out


def hook_groups(graph, model) -> list[str | None]:
    """The flow group each node's hook point fills (None for nodes that are no hook point)."""
    from ttm.hooks import hook_points
    points = {id(point) for point in hook_points(model).values()}
    names = {path: module.name for path, module in model.named_modules() if id(module) in points}
    out = []
    for node in graph.nodes:
        hook = names.get(str(node.target)) if node.op == "call_module" else None
        if hook is not None and re.fullmatch(r"process\.layer\d+\.attn", hook):
            out.append("attention")
        else:
            out.append(FLOW_GROUP.get(hook))
    return out


def short_name(op: str, target: str, name: str) -> str:
    """A node's label in the picture: its module's last name ("qkv"), its function or method
    ("matmul"), or its own name for inputs and the output; the inspector gives the full one.
    A module numbered in its parent (nn.Sequential's) is named with it: "mlp.0"."""
    if op in ("call_module", "get_attr"):
        parts = target.split(".")
        return ".".join(parts[-2:]) if parts[-1].isdigit() else parts[-1]   # "mlp.0", not "0"
    if op in ("call_function", "call_method"):
        return target
    return name


def name_rank(op: str, target: str) -> int:
    """Which names come first where not all fit (viz.labels.stand_ins keeps the order among text
    of one size): the inputs and output, the named modules, functions, methods, and the
    bookkeeping of getitem and attributes last."""
    if op in ("call_function", "call_method") and target in ("getitem", "getattr"):
        return 5
    return {"placeholder": 0, "output": 0, "call_module": 1, "call_function": 2,
            "call_method": 3}.get(op, 4)


def graph_text(nodes: VoxelLayout) -> VoxelLayout:
    """The "graph.text" group of a laid-out graph (viz.mappers.layered), in its local frame: the
    lane titles left of the lanes, each node's short name above it, and under the lanes what
    the node colours mean (the categorical scale). The names go most telling first (name_rank)."""
    labels = [Label(lane.title, (-4.0, (lane.top + lane.bottom) / 2, 0.0), LANE_TITLE, TITLE_COLOUR,
                    align=1.0, valign=0.5) for lane in nodes.tags["lanes"]]
    names = sorted(zip(nodes.tags["ops"], nodes.tags["targets"], nodes.tags["names"], nodes.positions),
                   key=lambda node: name_rank(node[0], node[1]))
    labels += [Label(short_name(op, target, name), (x, y + 0.8, 0.0), NODE_NAME, NAME_COLOUR, align=0.5)
               for op, target, name, (x, y, _) in names]
    bottom = min(lane.bottom for lane in nodes.tags["lanes"]) - 6.0
    for k, op in enumerate(OPS):
        labels.append(Label(OP_NAMES[op], (k * 16.0, bottom, 0.0), LANE_TITLE * 0.6,
                            tuple(float(c) for c in PALETTE[k % len(PALETTE)])))
    text = text_layout("graph.text", labels)
    text.tags["stand_ins"] = True       # from afar the names come again in the window's font
    return text


class FlowGraph:
    def __init__(self, graph, model=None):
        self.graph = graph
        self.anchors = anchors(graph)
        self.hooks = hook_groups(graph, model) if model is not None else [None] * len(graph.nodes)
        self.collapsed: set[str] = set()
        self._job: Future | None = None
        self._wanted: frozenset | None = None   # the collapse set of the job running or done
        self.layout = None                       # the laid-out nodes, once the worker is done

    def units(self) -> list[str]:
        return sorted({a for a in self.anchors if a is not None})

    def poll(self) -> bool:
        """Start a layout for the collapse set if none is running for it; True when a finished
        one is new (take it with `layout`)."""
        wanted = frozenset(self.collapsed)
        if self._wanted != wanted and (self._job is None or self._job.done()):
            self._wanted = wanted
            self._job = _worker.submit(LayeredGraphMapper().map, "graph", self.graph, self.anchors, wanted)
        if self._job is not None and self._job.done() and self._job.result() is not self.layout:
            self.layout = self._job.result()
            return True
        return False

    def layouts(self, under: tuple[np.ndarray, np.ndarray], z: float):
        """(nodes, text) placed with their top-left under the box `under`, front at depth z."""
        nodes = self.layout
        lo, hi = local_box(nodes)
        origin = np.array([under[0][0] - lo[0], under[0][1] - GAP - hi[1], z])
        nodes.tags["origin"] = origin
        nodes.tags["hooks"] = self._hooks_of(nodes)
        text = graph_text(nodes)
        text.tags["origin"] = origin
        return nodes, text

    def _hooks_of(self, nodes) -> list[str | None]:
        """Per drawn node the flow group it fills (a collapsed layer: its attention)."""
        by_name = {n.name: h for n, h in zip(self.graph.nodes, self.hooks)}
        return [next((by_name[m] for m in members if by_name.get(m)), None)
                for members in nodes.tags["members"]]
