"""The interventions on the trace on view, stacked, each re-run with Trace.replay, and their undo.

`traces[0]` is the trace as recorded; each intervention pushes the trace re-run with it and every
one before it in force (studio.interventions.compose), so undo pops back to the exact object it
had, and the original comes back bit for bit. Editing memory entering step k re-runs steps k..:
a "before" cell of step t is memory[t] (re-runs from step t), an "after" cell memory[t+1].
"""
from __future__ import annotations

import dataclasses

import torch

from studio.interventions import Composed, Intervention, compose
from studio.walkthrough import outcome
from ttm import Trace, causal


class EditStack:
    """`edits[i]` made `traces[i + 1]`; `composed[i]` says what entered the steps it re-ran."""

    def __init__(self):
        self.traces: list[Trace] = []
        self.edits: list[Intervention] = []
        self.composed: list[Composed] = []
        self._graph: tuple[Trace, dict[str, float] | None] | None = None   # graph_change's, per trace

    def load(self, trace: Trace) -> None:
        """A new trace on view, without edits."""
        self.traces = [trace]
        self.edits = []
        self.composed = []

    @property
    def current(self) -> Trace | None:
        return self.traces[-1] if self.traces else None

    @property
    def original(self) -> Trace | None:
        return self.traces[0] if self.traces else None

    @property
    def edited(self) -> bool:
        return len(self.traces) > 1

    def push(self, edit: Intervention, merge: bool = False) -> Trace:
        """Re-run with `edit` on top of the stack. `merge` replaces the last edit when it has the
        same key (one undo entry per drag, not one per frame), keeping the value from before the
        drag. A refused edit (ValueError) leaves the stack as it was."""
        last = self.edits[-1] if self.edits else None
        merging = merge and last is not None and edit.key and last.key == edit.key
        if merging:
            edit = dataclasses.replace(edit, old=last.old)
        below = self.edits[:-1] if merging else self.edits
        if all(e.step < edit.step for e in below):
            # Earlier steps only: the trace below already holds them, re-run from edit.step on.
            done = compose(self.traces[len(below)], [edit])
            if below:
                prev = self.composed[len(below) - 1]
                done = Composed(done.trace, {**prev.entered, **done.entered},
                                prev.unreached + done.unreached)
        else:
            done = compose(self.original, below + [edit])
        if merging:
            self.undo()
        self.traces.append(done.trace)
        self.edits.append(edit)
        self.composed.append(done)
        return self.current

    def undo(self) -> bool:
        """Drop the last edit; False when there was none."""
        if not self.edited:
            return False
        self.traces.pop()
        self.edits.pop()
        self.composed.pop()
        return True

    def revert_all(self) -> bool:
        """Drop every edit; False when there was none."""
        if not self.edited:
            return False
        del self.traces[1:]
        self.edits.clear()
        self.composed.clear()
        return True

    def last_entered(self) -> tuple[int, torch.Tensor, dict[str, torch.Tensor]] | None:
        """(step, memory, overrides) that entered the last edit's step, or None (no edits, or the
        re-run answer no longer reaches that step)."""
        if not self.edited:
            return None
        step = self.edits[-1].step
        entered = self.composed[-1].entered.get(step)
        return None if entered is None else (step, *entered)

    def graph_change(self) -> dict[str, float] | None:
        """{fx node: relative change} of the last edit's step against the recorded trace
        (ttm.causal.graph_changes), or None without edits; computed once per trace on view. The
        step's input tokens are the recorded ones: a digit changed by an earlier edit is not in it."""
        if self._graph is None or self._graph[0] is not self.current:
            entered = self.last_entered()
            changes = None
            if entered is not None and entered[0] < self.original.steps:
                step, memory, overrides = entered
                changes = causal.graph_changes(self.original, step, memory=memory, overrides=overrides)
            self._graph = (self.current, changes)
        return self._graph[1]

    def unreached(self) -> list[Intervention]:
        """Edits at steps the re-run answer no longer reaches (they hold nowhere now)."""
        return self.composed[-1].unreached if self.composed else []

    def changed_steps(self) -> list[int]:
        """Steps whose prediction differs from the original trace (or that only one of them has)."""
        if not self.edited:
            return []
        old, new = self.original.answer_tokens, self.current.answer_tokens
        return [i for i in range(max(len(old), len(new)))
                if i >= len(old) or i >= len(new) or old[i] != new[i]]

    def answer_change(self) -> str:
        """'old answer -> new answer' and how sure the model is of each, for the panels ("1554
        (correct) -> 1594 (wrong); log p(answer) -0.0021 -> -0.693")."""
        if self.current is None:
            return ""
        if not self.edited:
            return outcome(self.current)
        return (f"{outcome(self.original)} -> {outcome(self.current)}; log p(answer) "
                f"{self.original.answer_logp:.3g} -> {self.current.answer_logp:.3g}")
