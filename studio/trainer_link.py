"""The app's end of the background trainer (ttm.train.Trainer): run/pause, stop-and-save, the
snapshots it publishes, and the training curve and metrics they carry."""
from __future__ import annotations

import math
import queue
from dataclasses import dataclass, field


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


class TrainerLink:
    """Works with no trainer too (a trace viewed on its own): then nothing arrives."""

    def __init__(self, trainer=None):
        self.trainer = trainer
        self.series = Series()
        self.latest_metrics: dict = {}
        self.snapshots_received = 0

    @property
    def error(self) -> str | None:
        err = getattr(self.trainer, "error", None)
        if err is None:
            return None
        return f"{type(err).__name__}: {err}"

    @property
    def paused(self) -> bool:
        return bool(self.trainer and self.trainer.paused)

    def toggle(self) -> None:
        if self.trainer is None:
            return
        if self.trainer.paused:
            self.trainer.resume()
        else:
            self.trainer.pause()

    def set_sample_problem(self, a: int, b: int) -> None:
        if self.trainer is not None:
            self.trainer.set_sample_problem(a, b)

    def shutdown(self, timeout: float):
        """Stop the trainer thread; its loop saves the checkpoint atomically on the way out.

        Returns the path written, or None when nothing was (no trainer, it never started, or the
        save failed: `trainer.save_error` says why).
        Raises TimeoutError when the thread is still running after `timeout` seconds."""
        if self.trainer is None:
            return None
        was_alive = self.trainer.alive
        self.trainer.stop(timeout)
        if self.trainer.alive:
            raise TimeoutError(f"the trainer did not stop within {timeout:.0f} s")
        if self.trainer.save_error is not None:
            return None
        return self.trainer.cfg.out if was_alive or self.trainer.step else None

    def waiting(self):
        """Every snapshot waiting in the trainer's queue, oldest first (never blocks)."""
        if self.trainer is None:
            return
        while True:
            try:
                snap = self.trainer.snapshots.get_nowait()
            except queue.Empty:
                return
            yield snap

    def record(self, snap) -> None:
        """Count a snapshot and keep its metrics and training curve."""
        self.snapshots_received += 1
        self.latest_metrics = dict(snap.metrics)
        for step, loss, exact in snap.history:
            self.series.add(step, loss, exact)
        self.series.add(snap.step, snap.metrics.get("loss"), snap.metrics.get("exact"))
