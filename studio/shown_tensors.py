"""Which tensors of a trace the view shows at step t, and which of their cells an edit changed.

The view shows the memory entering step t and leaving it ("memory.before" = memory[t],
"memory.after" = memory[t+1], side by side) or, for flying through, all of memory[0..T]
("memory"); and what step t read (read.weights[t]), the attention of its processing unit
(attention[t]) and what it wrote (write.weights[t]).
"""
from __future__ import annotations

import numpy as np
import torch

from studio.selection import Selection
from ttm import Trace

DIFF_ATOL = 1e-6   # a cell counts as changed by an edit past this absolute difference
STEP_TENSORS = ("read.weights", "attention", "write.weights")


class ShownTensors:
    def __init__(self):
        self.all_memory = False      # show all of memory[0..T] ("memory") instead of before/after

    def memory_names(self) -> tuple[str, ...]:
        return ("memory",) if self.all_memory else ("memory.before", "memory.after")

    def shown(self, trace: Trace, name: str, t: int) -> torch.Tensor | None:
        """The part of `trace` that the view's tensor `name` holds at step t, or None when the
        view does not show it now."""
        if name.startswith("memory"):
            memory = trace["memory"]
            if name == "memory":
                return memory if self.all_memory else None
            k = t + (name == "memory.after")
            return None if self.all_memory or k >= len(memory) else memory[k]
        if name not in trace or t >= len(trace[name]):
            return None
        # attention keeps a step axis of one: [1, layers, heads, r, r] lays layers down y
        return trace[name][t : t + 1] if name == "attention" else trace[name][t]

    def arrays(self, trace: Trace | None, t: int) -> dict[str, np.ndarray]:
        """name -> array of everything shown at step t, in drawing order."""
        if trace is None:
            return {}
        shown = {name: self.shown(trace, name, t) for name in self.memory_names() + STEP_TENSORS}
        return {n: v.detach().float().numpy() for n, v in shown.items() if v is not None}

    def changed_mask(self, original: Trace, edited: Trace, name: str, t: int) -> np.ndarray | None:
        """(shape of the shown tensor) bool: cells of `name` at step t that differ between the
        two traces; all of them when the original does not show it in that shape."""
        cur = self.shown(edited, name, t)
        old = self.shown(original, name, t)
        if cur is None:
            return None
        if old is None or old.shape != cur.shape:
            return np.ones(cur.shape, bool)
        return (cur - old).abs().numpy() > DIFF_ATOL

    def selection_mask(self, trace: Trace | None, sel: Selection | None, name: str,
                       t: int) -> np.ndarray | None:
        """(shape of the shown tensor) bool: the cells the selection covers (a whole slot: its
        row), or None when it covers none of `name`."""
        shown = None if trace is None else self.shown(trace, name, t)
        if sel is None or sel.name != name or sel.value is None or shown is None:
            return None
        mask = np.zeros(tuple(shown.shape), bool)
        mask[sel.index] = True
        return mask
