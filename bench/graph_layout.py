"""How long the fx graph's layered layout takes (viz.mappers.layered) as graphs grow: a synthetic
graph shaped like a deep model (inputs, a read stage, `blocks` processing layers of parallel
branches that merge, a write stage) of up to 10,000 nodes; the target is 10,000 nodes in <= 5 s.

    python bench/graph_layout.py [--nodes 1000 10000] [--out docs/graph_layout.jsonl]

Each size is laid out as the flow view lays it out (Graphviz dot where it is installed and the
graph within DOT_LIMIT nodes, else the barycenter sweeps) and by the barycenter sweeps alone,
fastest of --repeats runs; one JSON line per (nodes, engine). The flow view runs this on a worker thread, so the window never waits.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import report  # noqa: E402
from ttm.graph import FxGraph, FxNode  # noqa: E402
from viz.mappers.layered import DOT_LIMIT, LayeredGraphMapper  # noqa: E402


def synthetic(nodes: int, width: int = 4, seed: int = 0) -> tuple[FxGraph, list]:
    """A model-like DAG of about `nodes` nodes and the layer anchors of its processing blocks."""
    rng = np.random.default_rng(seed)
    out, anchors = [FxNode("x", "placeholder", "x", (), None, "other")], [None]
    last = "x"

    def add(name, op, target, inputs, group, anchor=None):
        out.append(FxNode(name, op, target, tuple(inputs), None, group))
        anchors.append(anchor)

    for k in range(20):
        add(f"r{k}", "call_function", "mul", (last,), "read")
        last = f"r{k}"
    per_block = 3 * width + 2
    blocks = max(1, (nodes - 60) // per_block)
    for b in range(blocks):
        unit = f"layer {b}"
        ends = []
        for w in range(width):
            prev = last
            for s in range(3):
                name = f"b{b}_{w}_{s}"
                inputs = (prev,) if s or rng.random() < 0.8 else (prev, f"r{rng.integers(20)}")
                add(name, "call_module" if s == 1 else "call_function", f"process.blocks.{b}.f{s}", inputs,
                    "process", unit if s == 1 else None)
                prev = name
            ends.append(prev)
        add(f"b{b}_add", "call_function", "add", (last, *ends), "process")
        add(f"b{b}_norm", "call_module", f"process.blocks.{b}.norm", (f"b{b}_add",), "process", unit)
        last = f"b{b}_norm"
    for k in range(max(0, nodes - len(out) - 1)):
        add(f"w{k}", "call_function", "add", (last,) + ((out[1].name,) if k % 7 == 0 else ()), "write")
        last = f"w{k}"
    add("out", "output", "output", (last,), "other")
    return FxGraph(tuple(out)), anchors


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nodes", type=int, nargs="+", default=[1000, 10000])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", default="docs/graph_layout.jsonl")
    args = p.parse_args(argv)
    machine, lines = report.machine(), []
    for n in args.nodes:
        graph, anchors = synthetic(n)
        for use_dot in (True, False):
            best, engine = float("inf"), ""
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                layout = LayeredGraphMapper().map("graph", graph, anchors, use_dot=use_dot)
                best = min(best, time.perf_counter() - t0)
                engine = layout.tags["engine"]
            report.emit(lines, {"bench": "graph_layout", "nodes": len(graph.nodes), "edges": len(graph.edges),
                                "asked_dot": use_dot, "engine": engine, "seconds": round(best, 4),
                                "target_s": 5.0, "dot_limit": DOT_LIMIT, "machine": machine})
    report.write_jsonl(args.out, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
