"""The app's state without GL: the trainer it owns, snapshots over training, the trace on view,
the timeline, the selection, and memory edits re-run with Trace.replay (with undo).

The window calls `poll()` and `tick(dt)` once a frame and reads everything else from here; tests
drive the same object with no window at all.

Timeline: the view shows one step t of the trace: the memory entering it and leaving it
("memory.before" = memory[t], "memory.after" = memory[t+1], side by side), what it read (read.weights[t]), the attention of its
processing unit (attention[t]) and what it wrote (write.weights[t]). Editing a "before" cell re-runs
from step t, an "after" cell from step t+1.
"""
from __future__ import annotations

import math
import queue
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import torch

from ttm import Trace
from ttm import tokens as tok
from studio.walkthrough import source_label

DIFF_ATOL = 1e-6   # a cell counts as changed by an edit past this absolute difference
# What an old history entry keeps (in float16) once its model copy is dropped: what the view draws.
HISTORY_TENSORS = ("memory", "read.weights", "write.weights", "attention", "logits", "prediction",
                   "inputs", "embedding")
STEP_TENSORS = ("read.weights", "attention", "write.weights")


@dataclass
class HistoryEntry:
    """One snapshot over training. `trace.model` is None once the entry is compacted."""
    step: int
    examples: int
    metrics: dict
    trace: Trace

    @property
    def editable(self) -> bool:
        return self.trace.model is not None


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


@dataclass
class Selection:
    name: str                  # the shown tensor's name ("memory", "read.weights", ...)
    index: tuple[int, ...]     # index into the shown tensor (what a pick returns)
    value: float | None = None
    note: str = ""             # what the view knows about it that the trace does not (graph nodes)


@dataclass
class Series:
    """Points for the training plot: (step, loss, exact match)."""
    steps: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    exact: list = field(default_factory=list)

    def add(self, step, loss, exact) -> None:
        if self.steps and step <= self.steps[-1]:
            return
        self.steps.append(step)
        self.loss.append(math.nan if loss is None else float(loss))
        self.exact.append(math.nan if exact is None else float(exact))


def compact(trace: Trace) -> Trace:
    """A copy with only what the view draws, in float16, and without the model (no editing)."""
    kept = {n: (t.half() if t.is_floating_point() else t).clone() for n, t in trace.tensors.items()
            if n in HISTORY_TENSORS}
    return Trace(None, trace.a, trace.b, kept)


def expanded(trace: Trace) -> Trace:
    """Float32 tensors again (a compacted trace is viewed, never edited)."""
    if trace.model is not None:
        return trace
    return Trace(None, trace.a, trace.b, {n: (t.float() if t.is_floating_point() else t)
                                           for n, t in trace.tensors.items()})


def trace_bytes(trace: Trace) -> int:
    return sum(t.numel() * t.element_size() for t in trace.tensors.values())


class Controller:
    def __init__(self, trace: Trace | None = None, trainer=None, history_size: int = 500,
                 keep_models: int = 16):
        if history_size < 1:
            raise ValueError(f"history_size must be at least 1, got {history_size}")
        self.trainer = trainer
        self.history: deque[HistoryEntry] = deque(maxlen=history_size)
        self.keep_models = max(1, keep_models)
        self.series = Series()
        self.follow_live = True      # new snapshots replace the view (off while scrubbing or editing)
        self.viewing: int | None = None  # index into history of the entry on view (None: none yet)
        self.snapshots_received = 0
        self.latest_metrics: dict = {}
        self.message = ""            # last notice for the user (edit refused, problem set, ...)
        # the trace on view: _stack[0] is the original, each edit pushes the re-run trace
        self._stack: list[Trace] = []
        self.edits: list[Edit] = []
        self.step = 0
        self.playing = False
        self.speed = 2.0             # timeline steps per second while playing
        self.history_playing = False
        self.history_speed = 8.0     # snapshots per second while replaying history
        self._clock = 0.0
        self._history_clock = 0.0
        self.all_memory = False      # show all of memory[0..T] ("memory") instead of before/after
        self.selection: Selection | None = None
        self.hover: Selection | None = None
        self.version = 0             # bumped whenever what the view draws changes
        if trace is not None:
            self._show(trace)

    # -- training ----------------------------------------------------------------------------
    @property
    def training_error(self) -> str | None:
        err = getattr(self.trainer, "error", None)
        if err is None:
            return None
        return f"{type(err).__name__}: {err}"

    @property
    def training_paused(self) -> bool:
        return bool(self.trainer and self.trainer.paused)

    def toggle_training(self) -> None:
        if self.trainer is None:
            return
        if self.trainer.paused:
            self.trainer.resume()
        else:
            self.trainer.pause()

    def shutdown(self, timeout: float = 60.0):
        """Stop the trainer thread; its loop saves the checkpoint atomically on the way out.

        Returns the path written, or None when there was no trainer (or it never started)."""
        if self.trainer is None:
            return None
        was_alive = self.trainer.alive
        self.trainer.stop(timeout)
        if self.trainer.alive:
            self.message = f"the trainer did not stop within {timeout:.0f} s"
            return None
        return self.trainer.cfg.out if was_alive or self.trainer.step else None

    def poll(self) -> int:
        """Take every snapshot waiting in the trainer's queue (never blocks); returns how many."""
        if self.trainer is None:
            return 0
        got = 0
        while True:
            try:
                snap = self.trainer.snapshots.get_nowait()
            except queue.Empty:
                break
            self.add_snapshot(snap)
            got += 1
        return got

    def add_snapshot(self, snap) -> None:
        self.snapshots_received += 1
        self.latest_metrics = dict(snap.metrics)
        for step, loss, exact in snap.history:
            if not self.series.steps or step > self.series.steps[-1]:
                self.series.add(step, loss, exact)
        self.series.add(snap.step, snap.metrics.get("loss"), snap.metrics.get("exact"))
        if snap.trace is None:
            return
        full = len(self.history) == self.history.maxlen
        self.history.append(HistoryEntry(snap.step, snap.examples, dict(snap.metrics), snap.trace))
        if full and self.viewing is not None:
            self.viewing -= 1  # the entry on view moved down one place (it may have dropped out)
            if self.viewing < 0:
                self.viewing = None
        old = len(self.history) - 1 - self.keep_models
        if old >= 0 and self.history[old].editable and old != self.viewing:
            e = self.history[old]
            self.history[old] = HistoryEntry(e.step, e.examples, e.metrics, compact(e.trace))
        if self.follow_live:
            self.show_snapshot(len(self.history) - 1)

    @property
    def history_bytes(self) -> int:
        return sum(trace_bytes(e.trace) for e in self.history)

    def show_snapshot(self, index: int) -> None:
        """View history entry `index` (negative counts from the newest); edits are dropped."""
        if not self.history:
            return
        index = index % len(self.history) if index < 0 else min(index, len(self.history) - 1)
        self.viewing = index
        self._show(expanded(self.history[index].trace), keep_step=True)

    def set_follow_live(self, follow: bool) -> None:
        self.follow_live = follow
        if follow:
            self.history_playing = False
            self.show_snapshot(-1)

    @property
    def viewed_entry(self) -> HistoryEntry | None:
        return None if self.viewing is None else self.history[self.viewing]

    # -- the trace on view -------------------------------------------------------------------
    @property
    def trace(self) -> Trace | None:
        return self._stack[-1] if self._stack else None

    @property
    def original(self) -> Trace | None:
        return self._stack[0] if self._stack else None

    @property
    def edited(self) -> bool:
        return len(self._stack) > 1

    def _show(self, trace: Trace, keep_step: bool = False) -> None:
        self._stack = [trace]
        self.edits = []
        self.step = min(self.step, trace.steps - 1) if keep_step else 0
        self._refresh_selection()
        self._changed()

    def _changed(self) -> None:
        self.version += 1

    def model(self):
        """The frozen CPU model behind the trace on view, else the newest one kept in history."""
        if self.trace is not None and self.trace.model is not None:
            return self.trace.model
        for entry in reversed(self.history):
            if entry.editable:
                return entry.trace.model
        return None

    def set_problem(self, a: int, b: int) -> None:
        """Record a new sample problem with the model on view; later snapshots use it too.

        Raises ValueError (from the model's operand check) when the model cannot take it."""
        model = self.model()
        if model is None:
            raise ValueError("no model to run yet: wait for the first snapshot")
        model.check_operands(a, b)
        if self.trainer is not None:
            self.trainer.set_sample_problem(a, b)
        self._show(Trace.record(model, a, b))
        self.message = f"now tracing {a} × {b}"

    # -- timeline ----------------------------------------------------------------------------
    @property
    def steps(self) -> int:
        return self.trace.steps if self.trace is not None else 0

    def set_step(self, step: int) -> None:
        step = int(np.clip(step, 0, max(self.steps - 1, 0)))
        if step != self.step:
            self.step = step
            self._refresh_selection()
            self._changed()

    def step_by(self, delta: int) -> None:
        self.set_step(self.step + delta)

    def toggle_play(self) -> None:
        self.playing = not self.playing
        if self.playing and self.step >= self.steps - 1:
            self.set_step(0)
        self._clock = 0.0

    def toggle_history_play(self) -> None:
        self.history_playing = not self.history_playing
        self._history_clock = 0.0
        if self.history_playing:
            self.follow_live = False
            if self.viewing is None or self.viewing >= len(self.history) - 1:
                self.show_snapshot(0)

    def tick(self, dt: float) -> None:
        """Advance playing timelines by `dt` seconds (steps loop; history stops at the newest)."""
        if self.playing and self.steps:
            self._clock += dt * self.speed
            while self._clock >= 1.0:
                self._clock -= 1.0
                self.set_step((self.step + 1) % self.steps)
        if self.history_playing and self.history:
            self._history_clock += dt * self.history_speed
            while self._history_clock >= 1.0:
                self._history_clock -= 1.0
                nxt = (self.viewing if self.viewing is not None else -1) + 1
                if nxt >= len(self.history):
                    self.history_playing = False
                    break
                self.show_snapshot(nxt)

    # -- what the view draws -----------------------------------------------------------------
    def memory_names(self) -> tuple[str, ...]:
        return ("memory",) if self.all_memory else ("memory.before", "memory.after")

    def view_tensors(self) -> dict[str, np.ndarray]:
        """name -> array for the current step (see the module docstring), in drawing order."""
        trace, t = self.trace, self.step
        if trace is None:
            return {}
        shown = {name: self._shown(trace, name) for name in self.memory_names()}
        for name in STEP_TENSORS:
            if name in trace:
                # attention keeps a step axis of one: [1, layers, heads, r, r] lays layers down y
                shown[name] = trace[name][t : t + 1] if name == "attention" else trace[name][t]
        return {n: v.detach().float().numpy() for n, v in shown.items()}

    def changed_mask(self, name: str) -> np.ndarray | None:
        """(shape of the shown tensor) bool: cells that differ from the original trace, or None
        when nothing was edited."""
        if not self.edited:
            return None
        cur = self._shown(self.trace, name)
        old = self._shown(self.original, name)
        if cur is None:
            return None
        if old is None or old.shape != cur.shape:
            return np.ones(cur.shape, bool)
        return (cur - old).abs().numpy() > DIFF_ATOL

    def _shown(self, trace: Trace, name: str) -> torch.Tensor | None:
        t = self.step
        if name.startswith("memory"):
            memory = trace["memory"]
            if name == "memory":
                return memory if self.all_memory else None
            k = t + (name == "memory.after")
            return None if self.all_memory or k >= len(memory) else memory[k]
        if name not in trace or t >= len(trace[name]):
            return None
        return trace[name][t : t + 1] if name == "attention" else trace[name][t]

    def changed_steps(self) -> list[int]:
        """Steps whose prediction differs from the original trace (or that only one of them has)."""
        if not self.edited:
            return []
        old, new = self.original.answer_tokens, self.trace.answer_tokens
        return [i for i in range(max(len(old), len(new)))
                if i >= len(old) or i >= len(new) or old[i] != new[i]]

    # -- selection and editing ---------------------------------------------------------------
    def select(self, name: str | None, index=None, value: float | None = None, note: str = "") -> None:
        """Select a cell of a shown tensor (None: clear the selection). `value` and `note` serve
        groups that are not trace tensors (the graph), whose value the trace cannot look up."""
        self.selection = None if name is None else Selection(name, tuple(int(i) for i in index),
                                                             value, note)
        self._refresh_selection()
        self._changed()

    def _refresh_selection(self) -> None:
        sel = self.selection
        if sel is None:
            return
        if sel.note:
            return
        shown = self._shown(self.trace, sel.name) if self.trace is not None else None
        if shown is None or len(sel.index) != shown.dim() or any(
                not 0 <= i < n for i, n in zip(sel.index, shown.shape)):
            sel.value = None
        else:
            sel.value = float(shown[sel.index])

    def memory_index(self, name: str, index) -> tuple[int, int, int]:
        """(memory step k, slot, feature) in the trace's memory of an index into a shown memory."""
        if name == "memory":
            k, slot, feature = (int(i) for i in index)
            return k, slot, feature
        slot, feature = (int(i) for i in index)
        return self.step + (name == "memory.after"), slot, feature

    def describe(self, sel: Selection | None) -> str:
        """What a cell is, for the inspector: "memory entering step 2, slot 12, feature 40"."""
        if sel is None or self.trace is None:
            return ""
        if sel.note:
            return sel.note
        if sel.name.startswith("memory"):
            k, slot, feature = self.memory_index(sel.name, sel.index)
            when = "initial memory" if k == 0 else f"memory after step {k - 1}"
            return f"{when}, slot {slot}, feature {feature}"
        t = self.step
        if sel.name in ("read.weights", "write.weights") and len(sel.index) == 2:
            row, col = sel.index
            who = "read token" if sel.name == "read.weights" else "memory slot"
            verb = "draws from" if sel.name == "read.weights" else "takes from"
            return f"step {t}: {who} {row} {verb} {source_label(self.trace, sel.name, col, t)}"
        if sel.name == "attention" and len(sel.index) == 5:
            _, layer, head, q, k = sel.index
            return f"step {t}: layer {layer} head {head}, read token {q} attends to {k}"
        return f"{sel.name}{list(sel.index)}"

    def edit_refusal(self) -> str | None:
        """Why the selection cannot be edited now, or None when it can."""
        sel = self.selection
        if sel is None or not sel.name.startswith("memory"):
            return "select a memory cell to edit it"
        if sel.value is None:
            return "the selected cell is not on view at this step"
        if self.trace.model is None:
            return ("this snapshot's weights were not kept (only the newest "
                    f"{self.keep_models} are); follow live or pick a newer one to edit")
        k, _, _ = self.memory_index(sel.name, sel.index)
        if k >= self.steps:
            return "the memory after the last step is read by no step, so editing it changes nothing"
        return None

    def edit_selected(self, value: float, merge: bool = False) -> None:
        """Set the selected memory cell and re-run the steps after it. `merge` replaces the last
        edit when it was of the same cell (one undo entry per drag, not one per frame)."""
        refusal = self.edit_refusal()
        if refusal:
            raise ValueError(refusal)
        k, slot, feature = self.memory_index(self.selection.name, self.selection.index)
        self.edit_memory(k, slot, feature, value, merge=merge)

    def edit_memory(self, k: int, slot: int, feature: int, value: float, merge: bool = False) -> Trace:
        """memory[k][slot, feature] = value, then replay steps k.. (Trace.replay)."""
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"a memory value must be a finite number, got {value}")
        if merge and self.edits and (self.edits[-1].step, self.edits[-1].slot,
                                     self.edits[-1].feature) == (k, slot, feature):
            self._stack.pop()
            old = self.edits.pop().old
        else:
            old = float(self.trace["memory"][k, slot, feature])
        base = self.trace
        memory = base["memory"][k].clone()
        memory[slot, feature] = value
        self._stack.append(base.replay(k, memory))
        self.edits.append(Edit(k, slot, feature, old, value))
        self.follow_live = False      # a new snapshot would throw the edit away
        self.history_playing = False
        self.step = min(self.step, self.steps - 1)
        self._refresh_selection()
        self.message = self.answer_change()
        self._changed()
        return self.trace

    def undo(self) -> None:
        if self.edited:
            self._stack.pop()
            self.edits.pop()
            self.step = min(self.step, self.steps - 1)
            self._refresh_selection()
            self._changed()

    def reset_edits(self) -> None:
        if self.edited:
            del self._stack[1:]
            self.edits.clear()
            self.step = min(self.step, self.steps - 1)
            self._refresh_selection()
            self._changed()

    def answer_change(self) -> str:
        """'old answer -> new answer' for the panel ("1554 (correct) -> 1594 (wrong)")."""
        if self.trace is None:
            return ""

        def say(trace: Trace) -> str:
            verdict = "correct" if trace.correct else "wrong"
            return f"{trace.answer if trace.answer is not None else 'no digits'} ({verdict})"

        if not self.edited:
            return say(self.trace)
        return f"{say(self.original)} -> {say(self.trace)}"

    # -- text for panels ---------------------------------------------------------------------
    def step_summary(self) -> str:
        """'step 2 of 5: input 5, produced 5 (p 0.98)'"""
        trace, t = self.trace, self.step
        if trace is None:
            return ""
        inputs = [i for i in trace["inputs"][t].tolist() if i != tok.PAD]
        digit = int(trace["prediction"][t])
        p = float(torch.softmax(trace["logits"][t].float(), -1)[digit])
        return (f"step {t} (0-{trace.steps - 1}): input {tok.tokens_to_string(inputs)}, "
                f"produced {tok.SYMBOLS[digit]} (p {p:.2f})")
