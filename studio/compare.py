"""Comparing two traces: two problems under one model, or one problem at two training snapshots.

The flow view shows them side by side, or as their signed difference (the second minus the first)
in diverging colours, where zero is the scale's grey: a trace compared with itself is grey
everywhere. `Comparison.ranked` lists the groups and the cells that differ most at a step.
Traces of different lengths are compared over the steps both have.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from studio.input_parse import parse_problem
from studio.snapshot_history import expanded
from ttm import Trace

MODES = ("difference", "side by side")
PER_STEP = ("read.weights", "read.tokens", "attention", "processed", "write.weights", "logits")
EPS = 1e-12


@dataclass
class GroupChange:
    name: str
    relative: float          # ||other - base|| / ||base|| at the step


@dataclass
class CellChange:
    name: str
    index: tuple[int, ...]   # into the tensor at the step
    base: float
    other: float

    @property
    def delta(self) -> float:
        return self.other - self.base


def _at(trace: Trace, name: str, t: int) -> torch.Tensor | None:
    """What the flow shows of `name` at step t (memory: entering the step), or None."""
    if name not in trace:
        return None
    return trace[name][t].float()


class Comparison:
    def __init__(self, base: Trace, other: Trace, label: str):
        if base.config is not None and other.config is not None and (
                base.config.sources("write.weights") != other.config.sources("write.weights")
                or base.config.dim != other.config.dim or base.config.layers != other.config.layers):
            raise ValueError("the two traces come from models of different shapes: nothing to compare cell by cell")
        self.base, self.other, self.label = base, other, label
        self.steps = min(base.steps, other.steps)

    def difference(self) -> Trace:
        """A trace of other - base for every real-valued tensor both have (over the shared
        steps), with the first trace's tokens; its config is the first trace's."""
        k = self.steps
        tensors = {}
        for name, a in self.base.tensors.items():
            if name not in self.other.tensors:
                continue
            b = self.other[name]
            if not a.is_floating_point():
                tensors[name] = a[:k] if name != "embedding" else a
                continue
            if name == "embedding":
                tensors[name] = b.float() - a.float()
            else:
                n = k + 1 if name == "memory" else k
                tensors[name] = b[:n].float() - a[:n].float()
        return Trace(None, self.base.a, self.base.b, tensors, self.base.config)

    def ranked(self, t: int, top: int = 6) -> tuple[list[GroupChange], list[CellChange]]:
        """The groups by relative change at step t, largest first, and the `top` cells that moved
        most relative to their group's scale."""
        groups, cells = [], []
        for name in ("memory", *PER_STEP):
            a, b = _at(self.base, name, t), _at(self.other, name, t)
            if a is None or b is None or a.shape != b.shape:
                continue
            d = b - a
            groups.append(GroupChange(name, float(d.norm() / (a.norm() + EPS))))
            scale = float(a.abs().max()) + EPS
            flat = d.abs().reshape(-1)
            for i in flat.topk(min(top, flat.numel())).indices.tolist():
                index = tuple(int(j) for j in torch.unravel_index(torch.tensor(i), a.shape))
                if float(flat[i]) > 0:
                    cells.append((float(flat[i]) / scale, CellChange(name, index, float(a[index]), float(b[index]))))
        groups.sort(key=lambda g: -g.relative)
        cells.sort(key=lambda c: -c[0])
        return groups, [c for _, c in cells[:top]]


class CompareState:
    """What the person asked to compare with, and the Comparison it makes with the trace on view
    (made again whenever that trace changes: a live snapshot, an edit, a new problem)."""

    def __init__(self):
        self.mode = MODES[0]
        self.problem: tuple[int, int] | None = None
        self.snapshot: int | None = None       # history index
        self.error = ""
        self._made: tuple | None = None
        self._comparison: Comparison | None = None

    @property
    def active(self) -> bool:
        return self.problem is not None or self.snapshot is not None

    def set_problem(self, text: str, max_digits: int) -> None:
        """Compare with problem `text` ("38x42"); InputError when it is not one."""
        self.problem, self.snapshot = parse_problem(text, max_digits), None

    def set_snapshot(self, index: int) -> None:
        self.problem, self.snapshot = None, int(index)

    def clear(self) -> None:
        self.problem = self.snapshot = None

    def comparison(self, controller) -> Comparison | None:
        """The comparison with the trace on view, or None (nothing asked, or it cannot be made:
        `error` says why)."""
        trace = controller.trace
        key = (id(trace), self.problem, self.snapshot)
        if key == self._made:
            return self._comparison
        self._made, self._comparison, self.error = key, None, ""
        if trace is None or not self.active:
            return None
        try:
            if self.problem is not None:
                model = controller.model()
                if model is None:
                    raise ValueError("no model to trace the second problem with yet")
                a, b = self.problem
                model.check_operands(a, b)
                other, label = Trace.record(model, a, b), f"{a} × {b}"
            else:
                entry = controller.history[self.snapshot]
                other, label = expanded(entry.trace), f"{entry.trace.problem} at training step {entry.step}"
                if (entry.trace.a, entry.trace.b) != (trace.a, trace.b):
                    raise ValueError(f"snapshot {self.snapshot} traced {entry.trace.problem}, not {trace.problem}")
            self._comparison = Comparison(trace, other, label)
        except (ValueError, IndexError) as err:
            self.error = str(err)
        return self._comparison
