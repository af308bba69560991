"""What every drawing of the model's torch.fx graph shares (viz.mappers.layered draws it): the
node and edge checks, the op kinds a node's colour codes (its value is the index in OPS, drawn
with the categorical scale), and the ranks of a layered drawing.

Input: an object with ``.nodes``, each node having ``name, op, target, shape, group``, and ``.edges``,
(source name, consumer name) pairs, as ttm.graph.FxGraph has them.
Rank: the longest path from a node without inputs, then moved on to one before the node's first
consumer (`settle`), so a value made early but used late (a parameter slice feeding the write
stage) sits next to its use rather than pulling an edge across the network.
"""
from __future__ import annotations

import numpy as np

OPS = ("placeholder", "get_attr", "call_module", "call_function", "call_method", "output")
# what the colour legend calls each op kind
OP_NAMES = {"placeholder": "input", "get_attr": "parameter", "call_module": "module",
            "call_function": "function", "call_method": "method", "output": "output"}
GROUPS = ("read", "process", "write", "other")


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


def depths(names, edges: np.ndarray) -> list[int]:
    """Longest path from a node without inputs to each node (Kahn's order: no recursion limit);
    `names` (one per node) are what a cycle's error lists."""
    children: list[list[int]] = [[] for _ in names]
    waiting = [0] * len(names)
    for src, dst in edges.tolist():
        children[src].append(dst)
        waiting[dst] += 1
    depth = [0] * len(names)
    ready = [i for i, w in enumerate(waiting) if w == 0]
    for i in ready:  # grows while it is walked
        for c in children[i]:
            depth[c] = max(depth[c], depth[i] + 1)
            waiting[c] -= 1
            if waiting[c] == 0:
                ready.append(c)
    if len(ready) < len(names):
        stuck = [names[i] for i, w in enumerate(waiting) if w > 0]
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
    """The graph's nodes, or a ValueError when it is no graph, has no nodes, or one has an
    unknown op or group."""
    if not (hasattr(graph, "nodes") and hasattr(graph, "edges")):
        raise ValueError(f"cannot draw {name!r}: want a graph with .nodes and .edges, "
                         f"got {type(graph).__name__}")
    nodes = list(graph.nodes)
    if not nodes:
        raise ValueError(f"cannot draw {name!r}: the graph has no nodes")
    for node in nodes:
        if node.op not in OPS or node.group not in GROUPS:
            raise ValueError(f"node {node.name!r} has op {node.op!r} and group {node.group!r}, "
                             f"want an op in {OPS} and a group in {GROUPS}")
    return nodes
