"""Memory edits of the trace on view, each re-run with Trace.replay, and their undo.

Editing memory[k][slot, feature] re-runs steps k.. from the edited memory: a "before" cell of
step t is memory[t] (re-runs from step t), an "after" cell memory[t+1] (from step t+1).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from studio.selection import Selection, memory_index
from studio.walkthrough import outcome
from ttm import Trace


@dataclass
class Edit:
    """One memory cell set to a value: memory[index] (index = (slot, feature)) entering `step`."""
    step: int
    slot: int
    feature: int
    old: float
    new: float

    def describe(self) -> str:
        return (f"memory[{self.step}][{self.slot}, {self.feature}]: "
                f"{self.old:+.3f} -> {self.new:+.3f}")


class EditStack:
    """`traces[0]` is the trace as recorded, each edit pushes the re-run trace; `edits[i]` made
    `traces[i + 1]`."""

    def __init__(self):
        self.traces: list[Trace] = []
        self.edits: list[Edit] = []

    def load(self, trace: Trace) -> None:
        """A new trace on view, without edits."""
        self.traces = [trace]
        self.edits = []

    @property
    def current(self) -> Trace | None:
        return self.traces[-1] if self.traces else None

    @property
    def original(self) -> Trace | None:
        return self.traces[0] if self.traces else None

    @property
    def edited(self) -> bool:
        return len(self.traces) > 1

    def apply(self, k: int, slot: int, feature: int, value: float, merge: bool = False) -> Trace:
        """memory[k][slot, feature] = value, then replay steps k.. (Trace.replay). `merge` replaces
        the last edit when it was of the same cell (one undo entry per drag, not one per frame)."""
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"a memory value must be a finite number, got {value}")
        last = self.edits[-1] if self.edits else None
        if merge and last is not None and (last.step, last.slot, last.feature) == (k, slot, feature):
            self.traces.pop()
            old = self.edits.pop().old
        else:
            old = float(self.current["memory"][k, slot, feature])
        base = self.current
        memory = base["memory"][k].clone()
        memory[slot, feature] = value
        self.traces.append(base.replay(k, memory))
        self.edits.append(Edit(k, slot, feature, old, value))
        return self.current

    def undo(self) -> bool:
        """Drop the last edit; False when there was none."""
        if not self.edited:
            return False
        self.traces.pop()
        self.edits.pop()
        return True

    def revert_all(self) -> bool:
        """Drop every edit; False when there was none."""
        if not self.edited:
            return False
        del self.traces[1:]
        self.edits.clear()
        return True

    def changed_steps(self) -> list[int]:
        """Steps whose prediction differs from the original trace (or that only one of them has)."""
        if not self.edited:
            return []
        old, new = self.original.answer_tokens, self.current.answer_tokens
        return [i for i in range(max(len(old), len(new)))
                if i >= len(old) or i >= len(new) or old[i] != new[i]]

    def answer_change(self) -> str:
        """'old answer -> new answer' for the panel ("1554 (correct) -> 1594 (wrong)")."""
        if self.current is None:
            return ""
        if not self.edited:
            return outcome(self.current)
        return f"{outcome(self.original)} -> {outcome(self.current)}"


def edit_refusal(sel: Selection | None, trace: Trace, step: int, keep_models: int) -> str | None:
    """Why the selected cell of `trace` at `step` cannot be edited, or None when it can."""
    if sel is None or not sel.name.startswith("memory"):
        return "select a memory cell to edit it"
    if sel.value is None:
        return "the selected cell is not on view at this step"
    if trace.model is None:
        return ("this snapshot's weights were not kept (only the newest "
                f"{keep_models} are); follow live or pick a newer one to edit")
    k, _, _ = memory_index(sel.name, sel.index, step)
    if k >= trace.steps:
        return "the memory after the last step is read by no step, so editing it changes nothing"
    return None
