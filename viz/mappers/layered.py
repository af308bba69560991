"""The fx graph as a layered network that reads like the model: one lane per stage, top to bottom
in stage order (read, the processing unit's layers one lane each, write), each lane a left-to-right
layered drawing of its nodes, so every edge runs forward: right within a lane, down between lanes.

Within a lane, nodes are ranked and ordered in each rank to cut crossings: by Graphviz `dot` (one
run for every lane at once) when it is installed and the graph small enough for it to be quick,
else ranked by depth (longest path, a late-used value moved next to its first consumer) and
ordered by barycenter sweeps here (numpy, vectorized per rank: bench/graph_layout.py).

`anchors` (model knowledge, given by the caller) name the unit a node's module belongs to, e.g.
"layer 0" for the modules of the processing unit's first block; a node of the same stage without
an anchor belongs to the latest unit among its inputs. A unit is a lane, and collapsing it draws
the lane as one node at the lane's centre; every other node keeps its place, since the layout is
always made expanded.
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

import numpy as np

from viz.mappers.graph import OPS, checked_nodes, depths, edge_list, settle
from viz.mappers.registry import register
from viz.voxels import VoxelLayout

X_PITCH, Y_PITCH = 5.0, 3.0  # units between ranks, and between the nodes of one rank
LANE_GAP = 10.0              # between lanes, room for a lane's title
DOT_LIMIT = 2000             # nodes above which the barycenter sweeps replace dot (dot grows faster)
DOT_TIMEOUT_S = 10.0
SWEEPS = 6                   # barycenter passes, alternating down and up the ranks
STAGES = ("read", "process", "write")


@dataclass
class Lane:
    title: str               # "read", "process: layer 0", "write"
    unit: str | None         # the anchor unit it holds, or None
    top: float               # y of its first row of nodes
    bottom: float            # y of its last


@dataclass
class Layered:
    positions: np.ndarray    # (N, 3) node centres, units
    lane: np.ndarray         # (N,) lane of each node
    lanes: list[Lane]
    engine: str              # "dot" or "barycenter"


def topological(n: int, edges: np.ndarray) -> np.ndarray:
    """Node indices in an order where every edge runs forward (by depth, then index)."""
    return np.lexsort((np.arange(n), np.asarray(depths(range(n), edges))))


def lanes_of(groups: list[str], edges: np.ndarray, anchors: list[str | None]) -> tuple[np.ndarray, list[tuple[str, str | None]]]:
    """(lane index per node, (stage, unit) per lane in order). See the module docstring."""
    n = len(groups)
    order = topological(n, edges)
    inputs: list[list[int]] = [[] for _ in range(n)]
    consumers: list[list[int]] = [[] for _ in range(n)]
    for s, d in edges.tolist():
        inputs[d].append(s)
        consumers[s].append(d)
    units: list[str] = []                 # in order of first appearance
    unit: list[str | None] = [None] * n
    for v in order.tolist():
        if anchors[v] is not None:
            unit[v] = anchors[v]
        elif groups[v] != "other":
            same = [unit[u] for u in inputs[v] if groups[u] == groups[v] and unit[u] is not None]
            unit[v] = max(same, key=units.index) if same else None
        if unit[v] is not None and unit[v] not in units:
            units.append(unit[v])
    keys = [(g, None) for g in STAGES]
    for g in STAGES:
        used = [u for u in units if any(unit[v] == u and groups[v] == g for v in range(n))]
        at = keys.index((g, None)) + 1
        keys[at:at] = [(g, u) for u in used]
    lane = np.full(n, -1, np.int64)
    for v in range(n):
        if groups[v] != "other":
            lane[v] = keys.index((groups[v], unit[v]))
    for v in order[::-1].tolist():        # an "other" node joins its first consumer's lane
        if lane[v] < 0:
            seen = [lane[c] for c in consumers[v] if lane[c] >= 0]
            lane[v] = min(seen) if seen else -1
    for v in order.tolist():              # ... or its last input's; then no edge may run back up
        ins = [lane[u] for u in inputs[v]]
        if lane[v] < 0:
            lane[v] = max(ins) if ins else 0
        lane[v] = max([lane[v], *ins])
    used = np.unique(lane)
    return np.searchsorted(used, lane), [keys[k] for k in used.tolist()]


def barycenter_order(rank: np.ndarray, edges: np.ndarray, sweeps: int = SWEEPS) -> np.ndarray:
    """(N,) place of each node within its rank, after barycenter sweeps over edges (src, dst)
    that run between ranks: each rank is sorted by the mean place of its neighbours in the ranks
    before it (down sweeps) or after it (up sweeps), ties kept in their order."""
    n = len(rank)
    order = np.lexsort((np.arange(n), rank))
    place = np.empty(n, np.float64)
    starts = np.searchsorted(rank[order], np.arange(rank.max() + 2))
    members = [order[starts[k]:starts[k + 1]] for k in range(len(starts) - 1)]
    for nodes in members:
        place[nodes] = np.arange(len(nodes))
    src, dst = edges[:, 0], edges[:, 1]
    down = [np.flatnonzero(rank[dst] == k) for k in range(len(members))]
    up = [np.flatnonzero(rank[src] == k) for k in range(len(members))]
    local = np.empty(n, np.int64)
    for nodes in members:
        local[nodes] = np.arange(len(nodes))
    for sweep in range(sweeps):
        downward = sweep % 2 == 0
        for k in (range(1, len(members)) if downward else range(len(members) - 2, -1, -1)):
            nodes = members[k]
            if len(nodes) < 2:
                continue
            e = down[k] if downward else up[k]
            me, other = (dst[e], src[e]) if downward else (src[e], dst[e])
            sums = np.bincount(local[me], weights=place[other], minlength=len(nodes))
            counts = np.bincount(local[me], minlength=len(nodes))
            key = np.where(counts > 0, sums / np.maximum(counts, 1), place[nodes])
            ranked = nodes[np.argsort(key, kind="stable")]
            place[ranked] = np.arange(len(nodes))
            members[k] = ranked
            local[ranked] = np.arange(len(nodes))
    return place


def dot_layout(n: int, edges: np.ndarray) -> np.ndarray | None:
    """(n, 2) node centres (x right, y up, in ranks and places) from Graphviz dot, left to right;
    None when dot is missing or fails."""
    exe = shutil.which("dot")
    if exe is None:
        return None
    lines = ["digraph G {", "rankdir=LR; nodesep=0.2; ranksep=0.3;",
             'node [shape=box, width=0.2, height=0.2, fixedsize=true, label=""];']
    lines += [f"n{i};" for i in range(n)]
    lines += [f"n{s} -> n{d};" for s, d in edges.tolist()]
    lines.append("}")
    try:
        out = subprocess.run([exe, "-Tplain"], input="\n".join(lines), capture_output=True, text=True,
                             timeout=DOT_TIMEOUT_S, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    xy = np.full((n, 2), np.nan)
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] == "node":
            xy[int(parts[1][1:])] = float(parts[2]), float(parts[3])
    if np.isnan(xy).any():
        return None
    return np.stack([xy[:, 0] / 0.5, xy[:, 1] / 0.4], axis=1)   # inches -> ranks, places


def layered(groups: list[str], edges: np.ndarray, anchors: list[str | None], use_dot: bool = True) -> Layered:
    """Node centres, lanes and which engine placed them (see the module docstring)."""
    n = len(groups)
    lane, keys = lanes_of(groups, edges, anchors)
    depth = np.asarray(settle(edges, depths(range(n), edges)))
    pos = np.zeros((n, 3))
    inner = edges[lane[edges[:, 0]] == lane[edges[:, 1]]]
    drawn = dot_layout(n, inner) if use_dot and n <= DOT_LIMIT else None   # the lanes side by side
    lanes, top = [], 0.0
    for k, (stage, unit) in enumerate(keys):
        nodes = np.flatnonzero(lane == k)
        if drawn is not None:
            xy = drawn[nodes]
        else:
            local = np.full(n, -1, np.int64)
            local[nodes] = np.arange(len(nodes))
            rank = depth[nodes] - depth[nodes].min()
            place = barycenter_order(rank, local[inner[lane[inner[:, 0]] == k]])
            counts = np.bincount(rank)
            xy = np.stack([rank, (counts[rank] - 1) / 2 - place], axis=1).astype(float)
        x = (xy[:, 0] - xy[:, 0].min()) * X_PITCH
        y = (xy[:, 1] - xy[:, 1].max()) * Y_PITCH
        pos[nodes, 0], pos[nodes, 1] = x, top + y
        bottom = top + float(y.min())
        lanes.append(Lane(stage if unit is None else f"{stage}: {unit}", unit, top, bottom))
        top = bottom - LANE_GAP
    return Layered(pos, lane, lanes, "barycenter" if drawn is None else "dot")


@register("graph")
class LayeredGraphMapper:
    """The fx graph (as viz.mappers.graph takes it) drawn in lanes; options `anchors` (per node,
    the unit its module belongs to, or None) and `collapsed` (units drawn as one node each).
    Not a VisMapper: a graph is not a tensor, so nothing is pooled or shaped here."""

    def map(self, name: str, graph, anchors=None, collapsed=(), use_dot: bool = True) -> VoxelLayout:
        nodes = checked_nodes(name, graph)
        edges = edge_list(graph)
        anchors = list(anchors) if anchors is not None else [None] * len(nodes)
        if len(anchors) != len(nodes):
            raise ValueError(f"anchors has {len(anchors)} entries, want one per node ({len(nodes)})")
        depths([n.name for n in nodes], edges)       # a cycle is named here, by its nodes
        lay = layered([n.group for n in nodes], edges, anchors, use_dot)
        return collapsed_layout(name, nodes, edges, lay, set(collapsed))


def graph_label(name: str, nodes: int, edges: int, all_nodes: int) -> str:
    """"graph [187 nodes, 220 edges]", or with layers collapsed "graph [65 nodes, 80 edges;
    187 uncollapsed]": what is drawn, and what it stands for."""
    more = f"; {all_nodes} uncollapsed" if all_nodes != nodes else ""
    return f"{name} [{nodes} nodes, {edges} edges{more}]"


def collapsed_layout(name: str, nodes, edges: np.ndarray, lay: Layered, collapsed: set[str]) -> VoxelLayout:
    """The layout with the lanes of `collapsed` units each drawn as one node at the lane's centre."""
    keep = np.ones(len(nodes), bool)
    target = np.arange(len(nodes))          # the node each node is drawn as
    rows = []                               # (name, op, target, group, shape, position, members)
    for i, node in enumerate(nodes):
        rows.append((node.name, node.op, str(node.target), node.group, node.shape, lay.positions[i], [node.name]))
    for k, lane in enumerate(lay.lanes):
        if lane.unit not in collapsed:
            continue
        members = np.flatnonzero(lay.lane == k)
        keep[members] = False
        last = nodes[int(members[-1])]
        target[members] = len(rows)
        rows.append((lane.unit, "call_module", lane.unit, last.group, last.shape,
                     lay.positions[members].mean(axis=0), [nodes[int(i)].name for i in members]))
    shown = np.flatnonzero(np.append(keep, np.ones(len(rows) - len(nodes), bool)))
    new_index = np.full(len(rows), -1, np.int64)
    new_index[shown] = np.arange(len(shown))
    pairs = new_index[target[edges]] if len(edges) else np.zeros((0, 2), np.int64)
    pairs = np.unique(pairs[pairs[:, 0] != pairs[:, 1]], axis=0) if len(pairs) else pairs
    picked = [rows[i] for i in shown]
    return VoxelLayout(
        name=name, label=graph_label(name, len(picked), len(pairs), len(nodes)),
        positions=np.array([r[5] for r in picked]), values=[OPS.index(r[1]) for r in picked],
        indices=np.arange(len(picked))[:, None], colormap="categorical", value_range=(0.0, 255.0),
        edges=pairs,
        tags={"names": [r[0] for r in picked], "ops": [r[1] for r in picked],
              "targets": [r[2] for r in picked], "groups": [r[3] for r in picked],
              "shapes": [r[4] for r in picked], "members": [r[6] for r in picked],
              "lanes": lay.lanes, "engine": lay.engine})
