"""The fx graph in lanes (viz.mappers.layered): nodes never overlap, every edge runs forward in
stage order, collapsing a layer keeps every other node where it was, with dot and without it."""
from __future__ import annotations

import shutil
import time

import numpy as np
import pytest

from ttm.graph import FxGraph, FxNode
from viz.mappers.layered import LANE_GAP, LayeredGraphMapper, barycenter_order

ENGINES = [False] + ([True] if shutil.which("dot") else [])


def node(name, op, target, inputs=(), group="other"):
    return FxNode(name, op, target, tuple(inputs), None, group)


def model_like(layers: int = 3, width: int = 2):
    """A small graph shaped like the TTM's step: inputs, a read, `layers` blocks, a write, output."""
    nodes = [node("memory", "placeholder", "memory"), node("x", "placeholder", "x"),
             node("p", "get_attr", "source_type"),
             node("read_norm", "call_module", "read.norm", ("memory", "x", "p"), "read"),
             node("read", "call_function", "softmax", ("read_norm",), "read")]
    last = "read"
    for i in range(layers):
        heads = [node(f"b{i}_h{k}", "call_module", f"process.blocks.{i}.attn.h{k}", (last,), "process")
                 for k in range(width)]
        add = node(f"b{i}_add", "call_function", "add", (last, *(h.name for h in heads)), "process")
        mlp = node(f"b{i}_mlp", "call_module", f"process.blocks.{i}.mlp", (add.name,), "process")
        nodes += [*heads, add, mlp]
        last = mlp.name
    nodes += [node("write", "call_module", "write.summarize", (last, "memory", "p"), "write"),
              node("out", "output", "output", ("write",))]
    return FxGraph(tuple(nodes))


def anchors_of(graph):
    return [f"layer {n.target.split('.')[2]}" if n.target.startswith("process.blocks.") else None
            for n in graph.nodes]


def lanes_and_positions(layout):
    lanes = layout.tags["lanes"]
    lane = np.array([next(k for k, ln in enumerate(lanes) if ln.bottom - 1e-6 <= y <= ln.top + 1e-6)
                     for y in layout.positions[:, 1]])
    return lane, layout.positions


@pytest.mark.parametrize("use_dot", ENGINES)
def test_no_two_nodes_overlap_and_edges_run_forward(use_dot):
    graph = model_like()
    layout = LayeredGraphMapper().map("graph", graph, anchors_of(graph), use_dot=use_dot)
    pos = layout.positions
    gaps = np.linalg.norm(pos[:, None] - pos[None], axis=-1) + np.eye(len(pos)) * 1e9
    assert gaps.min() >= 1.0                                   # nodes are unit cubes: none touch
    lane, _ = lanes_and_positions(layout)
    for a, b in layout.edges:
        assert lane[a] < lane[b] or (lane[a] == lane[b] and pos[a, 0] < pos[b, 0]), \
            f"{layout.tags['names'][a]} -> {layout.tags['names'][b]} runs backward"
    titles = [ln.title for ln in layout.tags["lanes"]]
    assert titles == ["read", "process: layer 0", "process: layer 1", "process: layer 2", "write"]
    tops = [ln.top for ln in layout.tags["lanes"]]
    assert all(t1 - t0 <= -LANE_GAP for t0, t1 in zip(tops, tops[1:]))   # lanes in stage order, downward


@pytest.mark.parametrize("use_dot", ENGINES)
def test_collapse_and_expand_keep_every_other_node_in_place(use_dot):
    graph = model_like()
    mapper = LayeredGraphMapper()
    full = mapper.map("graph", graph, anchors_of(graph), use_dot=use_dot)
    folded = mapper.map("graph", graph, anchors_of(graph), collapsed={"layer 1"}, use_dot=use_dot)
    where = dict(zip(full.tags["names"], map(tuple, full.positions)))
    for name, p in zip(folded.tags["names"], map(tuple, folded.positions)):
        if name != "layer 1":
            assert where[name] == p
    layer = folded.tags["names"].index("layer 1")
    assert set(folded.tags["members"][layer]) == {"b1_h0", "b1_h1", "b1_add", "b1_mlp"}
    assert folded.count == full.count - 3
    names = folded.tags["names"]
    edges = {(names[a], names[b]) for a, b in folded.edges}
    assert ("b0_mlp", "layer 1") in edges and ("layer 1", "b2_h0") in edges
    assert full.label == f"graph [{full.count} nodes, {len(full.edges)} edges]"
    assert folded.label == f"graph [{folded.count} nodes, {len(folded.edges)} edges; {full.count} uncollapsed]"
    again = mapper.map("graph", graph, anchors_of(graph), use_dot=use_dot)
    np.testing.assert_array_equal(again.positions, full.positions)


def crossings(rank, place, edges):
    """Pairs of edges between the same two ranks that cross."""
    count = 0
    for i, (a, b) in enumerate(edges):
        for c, d in edges[i + 1:]:
            if rank[a] == rank[c] and rank[b] == rank[d]:
                count += (place[a] - place[c]) * (place[b] - place[d]) < 0
    return count


def test_barycenter_sweeps_remove_crossings():
    # two ranks of four; the edges join them in reverse order: every pair crosses at first
    rank = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    edges = np.array([[0, 7], [1, 6], [2, 5], [3, 4]])
    before = crossings(rank, np.array([0, 1, 2, 3, 0, 1, 2, 3]), edges.tolist())
    after = crossings(rank, barycenter_order(rank, edges), edges.tolist())
    assert before == 6 and after == 0


def test_the_flow_lays_the_graph_out_off_the_ui_thread():
    from studio.flow_graph import FlowGraph
    graph = model_like()
    fg = FlowGraph(graph)
    assert fg.anchors == anchors_of(graph)
    deadline = time.monotonic() + 30
    while not fg.poll():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert fg.layout.count == len(graph.nodes)
    fg.collapsed = set(fg.units())
    while not fg.poll():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert fg.layout.count == len(graph.nodes) - 3 * 3
