"""Snapshots over training, kept in a bounded ring for replay and scrubbing.

Only the newest `keep_models` entries (and the one on view) keep their model copy, so they can be
edited; older ones are compacted to what the view draws, in float16, to bound memory.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from ttm import Trace

# What an old history entry keeps (in float16) once its model copy is dropped: what the view draws.
HISTORY_TENSORS = ("memory", "read.weights", "read.tokens", "write.weights", "attention", "processed",
                   "logits", "prediction", "inputs", "embedding")


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


def compact(trace: Trace) -> Trace:
    """A copy with only what the view draws, in float16, and without the model (no editing)."""
    kept = {n: (t.half() if t.is_floating_point() else t).clone() for n, t in trace.tensors.items()
            if n in HISTORY_TENSORS}
    return Trace(None, trace.a, trace.b, kept, trace.config)


def expanded(trace: Trace) -> Trace:
    """Float32 tensors again (a compacted trace is viewed, never edited)."""
    if trace.model is not None:
        return trace
    return Trace(None, trace.a, trace.b, {n: (t.float() if t.is_floating_point() else t)
                                           for n, t in trace.tensors.items()}, trace.config)


def trace_bytes(trace: Trace) -> int:
    return sum(t.numel() * t.element_size() for t in trace.tensors.values())


class SnapshotHistory:
    """The ring of HistoryEntry, oldest first, and which entry is on view (`viewing`)."""

    def __init__(self, size: int = 500, keep_models: int = 16):
        if size < 1:
            raise ValueError(f"history_size must be at least 1, got {size}")
        self.entries: deque[HistoryEntry] = deque(maxlen=size)
        self.keep_models = max(1, keep_models)
        self.viewing: int | None = None  # index of the entry on view (None: none yet, or it dropped out)

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> HistoryEntry:
        return self.entries[index]

    def __iter__(self):
        return iter(self.entries)

    @property
    def maxlen(self) -> int:
        return self.entries.maxlen

    @property
    def bytes(self) -> int:
        return sum(trace_bytes(e.trace) for e in self.entries)

    @property
    def viewed(self) -> HistoryEntry | None:
        return None if self.viewing is None else self.entries[self.viewing]

    def add(self, snap) -> None:
        """Append a ttm.train.Snapshot that has a trace; drop the oldest entry when full and
        compact the entry that just fell out of the newest `keep_models`."""
        full = len(self.entries) == self.entries.maxlen
        self.entries.append(HistoryEntry(snap.step, snap.examples, dict(snap.metrics), snap.trace))
        if full and self.viewing is not None:
            self.viewing -= 1  # the entry on view moved down one place (it may have dropped out)
            if self.viewing < 0:
                self.viewing = None
        old = len(self.entries) - 1 - self.keep_models
        if old >= 0 and self.entries[old].editable and old != self.viewing:
            e = self.entries[old]
            self.entries[old] = HistoryEntry(e.step, e.examples, e.metrics, compact(e.trace))

    def view(self, index: int) -> Trace | None:
        """Put entry `index` (negative counts from the newest) on view; its trace in float32, or
        None when the history is empty."""
        if not self.entries:
            return None
        n = len(self.entries)
        self.viewing = index % n if index < 0 else min(index, n - 1)
        return expanded(self.entries[self.viewing].trace)

    def next_index(self) -> int | None:
        """The entry after the one on view (the oldest when none is), or None past the newest."""
        nxt = (self.viewing if self.viewing is not None else -1) + 1
        return nxt if nxt < len(self.entries) else None

    def at_newest(self) -> bool:
        return self.viewing is None or self.viewing >= len(self.entries) - 1

    def newest_model(self):
        """The model of the newest entry that still has one, or None."""
        for entry in reversed(self.entries):
            if entry.editable:
                return entry.trace.model
        return None
