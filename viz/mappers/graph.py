"""The model's torch.fx graph as a 3-D network of node voxels joined by edges.

Input: an object with ``.nodes``, each node having ``name, op, target, inputs, shape, group``.
Layout: x = depth (longest path from a node without inputs), nodes of one group at the same depth
stacked down y in graph order, groups one behind another along -z (read, process, write, other).
A voxel's value is the index of its op kind in OPS, drawn with the categorical scale.
"""
from __future__ import annotations

import numpy as np

from viz.mappers.registry import register
from viz.voxels import VoxelLayout

OPS = ("placeholder", "get_attr", "call_module", "call_function", "call_method", "output")
GROUPS = ("read", "process", "write", "other")
PITCH = (3.0, 2.0, 6.0)  # x, y, z spacing: gaps wide enough to see the edges between voxels


def depths(nodes) -> list[int]:
    """Longest path from a node without inputs to each node (Kahn's order: no recursion limit)."""
    index = {node.name: i for i, node in enumerate(nodes)}
    if len(index) < len(nodes):
        raise ValueError("the graph has two nodes with the same name")
    children: list[list[int]] = [[] for _ in nodes]
    waiting = [len(node.inputs) for node in nodes]
    for i, node in enumerate(nodes):
        for p in node.inputs:
            if p not in index:
                raise ValueError(f"node {node.name!r} takes input {p!r}, which is not a node")
            children[index[p]].append(i)
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


@register("graph")
class GraphMapper:
    """Not a VisMapper: a graph is not a tensor, so nothing is pooled or shaped here."""

    def map(self, name: str, graph) -> VoxelLayout:
        if not hasattr(graph, "nodes"):
            raise ValueError(f"cannot draw {name!r}: want a graph with .nodes, "
                             f"got {type(graph).__name__}")
        nodes = list(graph.nodes)
        if not nodes:
            raise ValueError(f"cannot draw {name!r}: the graph has no nodes")
        for node in nodes:
            if node.op not in OPS or node.group not in GROUPS:
                raise ValueError(f"node {node.name!r} has op {node.op!r} and group {node.group!r}, "
                                 f"want an op in {OPS} and a group in {GROUPS}")
        depth = depths(nodes)
        slots: dict[tuple[int, str], int] = {}
        cells = []
        for node, d in zip(nodes, depth):
            slot = slots[d, node.group] = slots.get((d, node.group), -1) + 1
            cells.append((d, -slot, -GROUPS.index(node.group)))
        index = {node.name: i for i, node in enumerate(nodes)}
        edges = [(index[p], i) for i, node in enumerate(nodes) for p in node.inputs]
        return VoxelLayout(
            name=name,
            label=f"{name} [{len(nodes)} nodes, {len(edges)} edges]",
            positions=np.array(cells, dtype=np.float64) * PITCH,
            values=[OPS.index(node.op) for node in nodes],
            indices=np.arange(len(nodes))[:, None],
            colormap="categorical",
            value_range=(0.0, 255.0),  # op code k -> categorical entry k
            edges=np.array(edges, dtype=np.int64).reshape(-1, 2),
            tags={"names": [n.name for n in nodes], "ops": [n.op for n in nodes],
                  "targets": [str(n.target) for n in nodes], "groups": [n.group for n in nodes],
                  "shapes": [n.shape for n in nodes]},
        )
