"""A cell of a shown tensor that is hovered or selected, and what it is in words.

"slot" here is always a memory slot: row i of memory (m of them), which write weights write into.
A selection is one cell, or a whole slot when its index stops short of the feature axis.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from studio.walkthrough import source_label
from ttm import Trace


@dataclass
class Selection:
    name: str                  # the shown tensor's name ("memory", "read.weights", ...)
    index: tuple[int, ...]     # index into the shown tensor (what a pick returns)
    value: float | None = None
    note: str = ""             # what the view knows about it that the trace does not (graph nodes)

    @property
    def whole_slot(self) -> bool:
        """A memory row: (slot,) of a step's memory, (k, slot) of every step's."""
        return self.name.startswith("memory") and len(self.index) == 1 + (self.name == "memory")

    def refresh(self, shown: torch.Tensor | None) -> None:
        """Read the value again from the tensor now shown under its name (None: off view); a
        whole slot's value is its vector's norm. A noted cell (the graph, pooled blocks) keeps
        the value the view gave it."""
        if self.note:
            return
        depth = len(self.index) + self.whole_slot
        if shown is None or depth != shown.dim() or any(
                not 0 <= i < n for i, n in zip(self.index, shown.shape)):
            self.value = None
        else:
            self.value = float(shown[self.index].norm() if self.whole_slot else shown[self.index])


def memory_index(name: str, index, step: int) -> tuple[int, int, int | None]:
    """(memory step k, slot, feature) in the trace's memory of an index into a shown memory;
    feature is None for a whole slot."""
    index = [int(i) for i in index]
    if name == "memory":
        k, index = index[0], index[1:]
    else:
        k = step + (name == "memory.after")
    slot, feature = (index + [None])[:2]
    return k, slot, feature


def describe(sel: Selection | None, trace: Trace | None, step: int) -> str:
    """What a cell is, for the inspector: "memory after step 1, slot 12, feature 40"."""
    if sel is None or trace is None:
        return ""
    if sel.note:
        return sel.note
    if sel.name.startswith("memory"):
        k, slot, feature = memory_index(sel.name, sel.index, step)
        when = "initial memory" if k == 0 else f"memory after step {k - 1}"
        what = "the whole slot (its norm)" if feature is None else f"feature {feature}"
        return f"{when}, slot {slot}, {what}"
    t = step
    if sel.name in ("read.weights", "write.weights") and len(sel.index) == 2:
        row, col = sel.index
        who = "read token" if sel.name == "read.weights" else "memory slot"
        verb = "draws from" if sel.name == "read.weights" else "takes from"
        return f"step {t}: {who} {row} {verb} {source_label(trace, sel.name, col, t)}"
    if sel.name == "attention" and len(sel.index) == 5:
        _, layer, head, q, k = sel.index
        return f"step {t}: layer {layer} head {head}, read token {q} attends to {k}"
    if sel.name.startswith("process.layer") and len(sel.index) == 3:
        head, q, k = sel.index
        return f"step {t}: {sel.name} head {head}, read token {q} attends to {k}"
    return f"{sel.name}{list(sel.index)}"
