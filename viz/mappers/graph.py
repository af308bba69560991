"""The model's torch.fx graph as a 3-D network of node voxels joined by edges.

Input: an object with ``.nodes``, each node having ``name, op, target, shape, group``, and ``.edges``,
(source name, consumer name) pairs, as ttm.graph.FxGraph has them.
Layout: x = depth: the longest path from a node without inputs, then moved on to one before the
node's first consumer, so a value made early but used late (a parameter slice feeding the write
stage) sits next to its use rather than pulling an edge across the network. A long graph would be a thin strip,
so the depth axis wraps into rows like lines of text, snaking (odd rows run right to left) so that
consecutive depths stay neighbours; the row length is the one whose network is closest to ASPECT.
Within a row each group (read, process, write, other) is a band of its own, bands going down y in
that order and one behind another along -z; nodes of one group at one depth stack down y.
A voxel's value is the index of its op kind in OPS, drawn with the categorical scale.
"""
from __future__ import annotations

import numpy as np

from viz.mappers.registry import register
from viz.voxels import VoxelLayout

OPS = ("placeholder", "get_attr", "call_module", "call_function", "call_method", "output")
GROUPS = ("read", "process", "write", "other")
PITCH = (3.0, 2.0, 6.0)  # x, y, z spacing: gaps wide enough to see the edges between voxels
WRAP_MIN = 16            # depths in a row before a graph wraps at all
ASPECT = 2.0             # wanted width / height of a wrapped network
BAND_GAP, ROW_GAP = 1, 3  # y pitches between the group bands of a row, and between rows


def edge_list(graph) -> np.ndarray:
    """(E, 2) int64 (input, consumer) node indices of `graph.edges`, its (source name, consumer
    name) pairs: the one place the mapper reads how the nodes connect."""
    index = {node.name: i for i, node in enumerate(graph.nodes)}
    if len(index) < len(graph.nodes):
        raise ValueError("the graph has two nodes with the same name")
    pairs = list(graph.edges)
    for src, dst in pairs:
        if src not in index:
            raise ValueError(f"node {dst!r} takes input {src!r}, which is not a node")
    return np.array([(index[src], index[dst]) for src, dst in pairs], np.int64).reshape(-1, 2)


def depths(nodes, edges: np.ndarray) -> list[int]:
    """Longest path from a node without inputs to each node (Kahn's order: no recursion limit)."""
    children: list[list[int]] = [[] for _ in nodes]
    waiting = [0] * len(nodes)
    for src, dst in edges.tolist():
        children[src].append(dst)
        waiting[dst] += 1
    depth = [0] * len(nodes)
    ready = [i for i, w in enumerate(waiting) if w == 0]
    for i in ready:  # grows while it is walked
        for c in children[i]:
            depth[c] = max(depth[c], depth[i] + 1)
            waiting[c] -= 1
            if waiting[c] == 0:
                ready.append(c)
    if len(ready) < len(nodes):
        stuck = [nodes[i].name for i, w in enumerate(waiting) if w > 0]
        raise ValueError(f"the graph has a cycle through nodes {stuck}")
    return depth


def settle(edges: np.ndarray, depth: list[int]) -> list[int]:
    """Each node that has consumers moved to one depth before the first of them (never earlier
    than `depth`, the longest-path depth, which is a valid order to walk backwards in)."""
    inputs: list[list[int]] = [[] for _ in depth]
    for src, dst in edges.tolist():
        inputs[dst].append(src)
    first_use = [None] * len(depth)
    settled = list(depth)
    for i in sorted(range(len(depth)), key=lambda i: -depth[i]):
        if first_use[i] is not None:
            settled[i] = first_use[i] - 1
        for j in inputs[i]:
            first_use[j] = settled[i] if first_use[j] is None else min(first_use[j], settled[i])
    return settled


def checked_nodes(name: str, graph) -> list:
    """The graph's nodes, or a ValueError when there are none or one has an unknown op or group."""
    nodes = list(graph.nodes)
    if not nodes:
        raise ValueError(f"cannot draw {name!r}: the graph has no nodes")
    for node in nodes:
        if node.op not in OPS or node.group not in GROUPS:
            raise ValueError(f"node {node.name!r} has op {node.op!r} and group {node.group!r}, "
                             f"want an op in {OPS} and a group in {GROUPS}")
    return nodes


@register("graph")
class GraphMapper:
    """Not a VisMapper: a graph is not a tensor, so nothing is pooled or shaped here."""

    def map(self, name: str, graph) -> VoxelLayout:
        if not (hasattr(graph, "nodes") and hasattr(graph, "edges")):
            raise ValueError(f"cannot draw {name!r}: want a graph with .nodes and .edges, "
                             f"got {type(graph).__name__}")
        nodes = checked_nodes(name, graph)
        edges = edge_list(graph)
        depth = settle(edges, depths(nodes, edges))
        cells = best_wrap([GROUPS.index(node.group) for node in nodes], depth)
        return VoxelLayout(
            name=name,
            label=f"{name} [{len(nodes)} nodes, {len(edges)} edges]",
            positions=cells * PITCH,
            values=[OPS.index(node.op) for node in nodes],
            indices=np.arange(len(nodes))[:, None],
            colormap="categorical",
            value_range=(0.0, 255.0),  # op code k -> categorical entry k
            edges=edges,
            tags={"names": [n.name for n in nodes], "ops": [n.op for n in nodes],
                  "targets": [str(n.target) for n in nodes], "groups": [n.group for n in nodes],
                  "shapes": [n.shape for n in nodes]},
        )


def wrapped(group: list[int], depth: list[int], wrap: int) -> np.ndarray:
    """(N, 3) cells in pitch units for rows of `wrap` depths (see the module docstring)."""
    group, depth = np.asarray(group), np.asarray(depth)
    row = depth // wrap
    col = np.where(row % 2 == 0, depth % wrap, wrap - 1 - depth % wrap)
    rank = np.zeros(len(depth), int)      # place in the stack of its group's nodes at its depth
    taken: dict[tuple[int, int], int] = {}
    for i, key in enumerate(zip(group.tolist(), depth.tolist())):
        rank[i] = taken.get(key, 0)
        taken[key] = rank[i] + 1
    y = np.zeros(len(depth))
    top = 0
    for r in np.unique(row):
        for g in np.unique(group[row == r]):           # the row's bands, in GROUPS order
            band = (row == r) & (group == g)
            y[band] = -(top + rank[band])
            top += int(rank[band].max()) + 1 + BAND_GAP
        top += ROW_GAP - BAND_GAP
    return np.stack([col, y, -group.astype(float)], axis=1).astype(np.float64)


def best_wrap(group: list[int], depth: list[int]) -> np.ndarray:
    """`wrapped` cells at the row length whose network (in world units) is closest to ASPECT;
    graphs of up to WRAP_MIN depths stay one row."""
    levels = max(depth) + 1
    best, misfit = None, np.inf
    for wrap in range(min(WRAP_MIN, levels), levels + 1):
        cells = wrapped(group, depth, wrap)
        w, h = (np.ptp(cells[:, :2], axis=0) + 1) * PITCH[:2]
        off = abs(np.log(w / h / ASPECT))
        if off < misfit:
            best, misfit = cells, off
    return best
