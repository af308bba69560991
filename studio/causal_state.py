"""Slot effects and the steps x slots effect map of the trace on view, and the digit probes of
its model, computed off the UI thread.

While the causal overlay is on, `follow(trace, step)` (once a frame) asks for what the view needs:
the slot effects of the step on view (ttm.causal.ablate_slots), then the map of the whole answer
(ttm.causal.effect_map). While a digit is chosen, it asks for the digit probes of the trace's
model and cell (ttm.probes), kept per model, since they describe the model, not one run. One
worker thread runs one job at a time; a job that is no longer wanted (another step, trace or
ablation came on view) stops at its next step through ttm.causal's `on_step`, and a finished
result is kept only while its trace is on view, so a stale one is never shown. `progress` says
what runs and how far it got. A kept "mean" ablation on a snapshot whose model has no mean yet
asks for one (`want_mean`): it is computed here too, and `mean_arrived` tells the controller to
make the kept edits again.

The worker runs a private copy of each model: a replay on the UI thread hooks the model it runs
(ttm.hooks.capture), and a forward pass of that same model on another thread would trip those
hooks. The copy is made on the UI thread, between replays, when the model has no hooks.
"""
from __future__ import annotations

import copy
import threading
import weakref
from dataclasses import dataclass

import numpy as np

from ttm import Trace, causal, probes

# The least drop in log p(answer), in nats, that paints full colour: about p down by a tenth.
# Scaled to the largest effect alone, a model whose every slot moves the answer by 1e-4 nats
# would be painted as if some slots mattered fully; below this they stay near grey.
FULL_COLOUR_NATS = 0.1


@dataclass(frozen=True)
class Job:
    """One computation for one trace (compared by identity: a re-run trace is another trace)."""
    kind: str                  # "effects" (one step), "map" (every step), "probes" or "mean"
    trace: Trace
    step: int                  # the step of "effects"; -1 for the others
    ablation: str              # "" for "probes"
    source: Trace | None = None

    @property
    def label(self) -> str:
        if self.kind in ("probes", "mean"):
            da, db = self.trace.cell
            what = "digit probes" if self.kind == "probes" else f"mean memory entering step {self.step}"
            return f"{what} of {da}x{db} problems"
        what = f"slot effects at step {self.step}" if self.kind == "effects" else "effect map"
        return f"{what} ({self.ablation})"


class Cancelled(Exception):
    """Raised inside a job (from its on_step) when it is no longer wanted."""


class Worker:
    """A daemon thread that runs the wanted jobs in order, one at a time."""

    def __init__(self):
        self._cond = threading.Condition()
        self._queue: list[tuple[Job, object]] = []   # (job, fn(on_step) -> value) to run next
        self._running: Job | None = None
        self._cancel = False
        self._progress = (0, 0)
        self._done: list[tuple[Job, object, str]] = []  # (job, value, error message)
        self._thread: threading.Thread | None = None

    def want(self, jobs: list[tuple[Job, object]]) -> None:
        """Run these next, in order (instead of whatever was queued); the running job stops
        unless it is one of them."""
        with self._cond:
            finished = {job for job, _, _ in self._done}
            self._queue = [(j, fn) for j, fn in jobs if j != self._running and j not in finished]
            self._cancel = self._running is not None and all(j != self._running for j, _ in jobs)
            if self._queue and self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="causal", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def take(self) -> list[tuple[Job, object, str]]:
        """Finished jobs since the last call: (job, value, "") or (job, None, error message)."""
        with self._cond:
            done, self._done = self._done, []
        return done

    def running(self) -> tuple[Job, int, int] | None:
        """(job, steps done, steps in all) of the job in flight, or None."""
        with self._cond:
            return None if self._running is None else (self._running, *self._progress)

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until nothing is queued or running (for tests); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and self._running is None, timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue)
                (job, fn), self._queue = self._queue[0], self._queue[1:]
                self._running, self._cancel, self._progress = job, False, (0, 0)
            value, error = None, ""
            try:
                value = fn(self._on_step)
            except Cancelled:
                error = None
            except Exception as err:   # shown in the panel, never raised into the window
                error = str(err) if isinstance(err, (ValueError, IndexError)) and str(err) else repr(err)
            with self._cond:
                if error is not None:
                    self._done.append((job, value, error))
                self._running = None
                self._cond.notify_all()

    def _on_step(self, done: int, total: int) -> None:
        with self._cond:
            self._progress = (done, total)
            if self._cancel:
                raise Cancelled


@dataclass(frozen=True)
class EffectMap:
    """The steps x slots map of one trace: row k holds each slot ablated entering step k."""
    digit: np.ndarray      # [T, m] drop in log p of step k's own answer token
    total: np.ndarray      # [T, m] drop in log p of the answer tokens of steps k.. (slot effects)
    changes: np.ndarray    # [T, m] bool: the greedy answer would change
    ablation: str


class CausalState:
    def __init__(self):
        self.overlay = False       # compute and show the slot effects of the step on view
        self.ablation = "mean"     # "zero" moves little in this model: a zero slot is mostly ignored
        self.source: Trace | None = None   # the second problem of the "source" ablation and patches
        self.digit: str | None = None      # the digit (ttm.probes' "a0", "p2") whose holders paint memory
        self._worker = Worker()
        self._results: dict[Job, object] = {}
        self._errors: dict[Job, str] = {}
        self._private: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._probes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> {cell: DigitProbes}
        self._means_for: tuple[Trace, set[int]] | None = None   # a trace of the model, the steps
        self._mean_arrived = False

    def jobs(self, trace: Trace | None, step: int) -> list[Job]:
        """What the overlay and the digit probes need for the trace and step on view, most
        urgent first."""
        if trace is None or trace.model is None or not 0 <= step < trace.steps:
            return []
        wanted = []
        if self._means_for is not None and self._means_for[0].model is trace.model:
            known, steps = self._means_for
            wanted += [Job("mean", known, k, "mean") for k in sorted(steps) if self.known_mean(known, k) is None]
        if self.digit is not None:
            wanted.append(Job("probes", trace, -1, ""))
        if not self.overlay:
            return wanted
        source = self.source_for(trace.model) if self.ablation == "source" else None
        if self.ablation == "source" and source is None:
            return wanted
        return wanted + [Job("effects", trace, step, self.ablation, source),
                         Job("map", trace, -1, self.ablation, source)]

    def _job(self, trace: Trace | None, step: int, kind: str) -> Job | None:
        return next((j for j in self.jobs(trace, step) if j.kind == kind), None)

    def digit_probes(self, trace: Trace | None) -> probes.DigitProbes | None:
        """The digit probes of the trace's model and cell, once computed (whatever the digit)."""
        if trace is None or trace.model is None:
            return None
        return self._probes.get(trace.model, {}).get(trace.cell)

    def source_for(self, model) -> Trace | None:
        """The source problem traced by `model` (traced again when the model on view changed:
        patching takes traces of one model)."""
        if self.source is not None and model is not None and self.source.model is not model:
            self.source = Trace.record(model, self.source.a, self.source.b)
        return self.source

    def known_mean(self, trace: Trace, step: int):
        """The "mean" ablation's memory entering `step` if the worker or an ablation on the UI
        thread computed it already (for this model), else None: computing it takes a second or
        more of work."""
        twin = self._private.get(trace.model)
        known = None if twin is None else causal.cached_mean_memory(twin, trace.cell, step)
        return causal.cached_mean_memory(trace.model, trace.cell, step) if known is None else known

    def want_mean(self, trace: Trace, step: int) -> None:
        """Compute the "mean" ablation's memory entering `step` for trace's model off the UI
        thread (while a trace of that model is on view); asking for another model's drops the
        rest."""
        if self._means_for is None or self._means_for[0].model is not trace.model:
            self._means_for = (trace, set())
        self._means_for[1].add(step)

    def mean_arrived(self) -> bool:
        """True once after a mean asked for with want_mean came in."""
        arrived, self._mean_arrived = self._mean_arrived, False
        return arrived

    def follow(self, trace: Trace | None, step: int) -> bool:
        """Keep finished results of `trace` (others are stale: dropped) and ask for what is
        missing; True when a new result came in."""
        got = False
        for job, value, error in self._worker.take():
            if job.kind == "mean":
                self._mean_arrived = self._mean_arrived or not error
                if error and self._means_for is not None:
                    self._means_for[1].discard(job.step)    # not asked for again
            elif job.kind == "probes" and not error:
                self._probes.setdefault(job.trace.model, {})[job.trace.cell] = value
                got = got or job.trace is trace
            elif job.trace is trace:
                if error:
                    self._errors[job] = error
                else:
                    self._results[job] = value
                    got = True
        self._results = {j: v for j, v in self._results.items() if j.trace is trace}
        self._errors = {j: e for j, e in self._errors.items() if j.trace is trace}
        missing = [j for j in self.jobs(trace, step) if j not in self._results and j not in self._errors
                   and not (j.kind == "probes" and self.digit_probes(trace) is not None)]
        self._worker.want([(j, self._runner(j)) for j in missing])
        return got

    def effects(self, trace: Trace | None, step: int) -> causal.SlotAblation | None:
        job = self._job(trace, step, "effects")
        return self._results.get(job) if job else None

    def effect_map(self, trace: Trace | None) -> EffectMap | None:
        job = self._job(trace, 0, "map")
        rows = self._results.get(job) if job else None
        if rows is None:
            return None
        digit = np.stack([r.per_step[:, 0].numpy() for r in rows])
        total = np.stack([r.effect.numpy() for r in rows])
        changes = np.stack([r.changes_answer.numpy() for r in rows])
        return EffectMap(digit, total, changes, rows[0].ablation)

    def error(self, trace: Trace | None, step: int) -> str:
        return next((self._errors[j] for j in self.jobs(trace, step) if j in self._errors), "")

    def progress(self) -> tuple[str, float] | None:
        """(what runs, fraction done) of the job in flight, or None when idle."""
        running = self._worker.running()
        if running is None:
            return None
        job, done, total = running
        return job.label, done / total if total else 0.0

    def wait(self, timeout: float = 30.0) -> bool:
        return self._worker.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Overlay off and the job in flight stopped (at its next step): before the app exits."""
        self.overlay = False
        self._worker.want([])
        self._worker.wait(timeout)

    def _runner(self, job: Job):
        trace, source = self._private_trace(job.trace), job.source
        if source is not None and source.model is job.trace.model:
            source = Trace(trace.model, source.a, source.b, source.tensors, source.config)
        if job.kind == "probes":
            return lambda on_step: probes.digit_probes(trace.model, trace.cell, on_state=on_step)
        if job.kind == "mean":     # one batched forward pass, cached with the worker's model
            return lambda on_step: causal.mean_memory(trace.model, trace.cell, job.step)
        if job.kind == "effects":
            return lambda on_step: causal.ablate_slots(trace, job.step, job.ablation, source, on_step)
        return lambda on_step: causal.effect_map(trace, job.ablation, source, on_step)

    def _private_trace(self, trace: Trace) -> Trace:
        """`trace` on the worker's own copy of its model (see the module's docstring)."""
        model = trace.model
        if model not in self._private:
            self._private[model] = copy.deepcopy(model).eval()
        return Trace(self._private[model], trace.a, trace.b, trace.tensors, trace.config)


@dataclass(frozen=True)
class Overlay:
    """Values to paint over a shown tensor instead of its own (the view's colour scale, range
    and legend with them)."""
    values: np.ndarray                  # shaped like the shown tensor
    value_range: tuple[float, float]    # symmetric around 0
    legend: str
    colormap: str = "diverging"
    scale: str = ""                     # the legend's colour-scale line; "" for the numbers'


def overlay(name: str, shape: tuple[int, ...], effects, rows: EffectMap | None,
            step: int) -> Overlay | None:
    """The causal overlay of the shown tensor `name` of `shape`: every slot of the memory
    entering the step on view ("memory.before") coloured by its slot effect; every step's memory
    ("memory") by the effect map, row k by the effects entering step k; the map itself
    ("effects", [steps, m]) by the drop of each step's own digit."""
    if name == "memory.before" and effects is not None:
        per_slot, ablation = effects.effect.numpy(), effects.ablation
        values = np.broadcast_to(per_slot[:, None], shape)
        legend = f"slot effects entering step {step}"
    elif name == "memory" and rows is not None:
        per_slot, ablation = rows.total, rows.ablation
        values = np.zeros(shape, np.float32)
        values[: len(per_slot)] = per_slot[:, :, None]
        legend = "slot effects entering every step"
    elif name == "effects" and rows is not None:
        per_slot = values = rows.digit
        ablation, legend = rows.ablation, "effect map: steps x slots, on each step's own digit"
    else:
        return None
    top = max(float(np.abs(per_slot).max()), FULL_COLOUR_NATS)
    how = {"zero": "zeroed", "mean": "set to its mean", "source": "from the source problem"}[ablation]
    none_matters = effects.why_none_matters() if name == "memory.before" else None
    return Overlay(np.ascontiguousarray(values, np.float32), (-top, top),
                   f"{legend}: {none_matters}" if none_matters else
                   f"{legend}: drop in log p(answer) with the slot {how} "
                   "(orange: the answer needs it, blue: it does better without)")


def probe_overlay(name: str, shape: tuple[int, ...], found: probes.DigitProbes, digit: str,
                  step: int) -> Overlay | None:
    """The digit overlay of the shown memory `name` ("memory.before": the memory entering the
    step on view; "memory.after": leaving it): each slot coloured by how well a linear probe
    tells `digit` from it alone, as a share of the way from chance (grey, 0) to always right
    (orange, 1); below chance is blue. None for a state past the shortest product's end (not
    probed) or another tensor."""
    state = {"memory.before": step, "memory.after": step + 1}.get(name)
    if state is None or not 0 <= state < found.states or digit not in found.digits:
        return None
    i = found.digits.index(digit)
    chance = float(found.chance[i])
    accuracy = found.accuracy[state, :, i].numpy()
    gain = probes.over_chance(accuracy, chance)
    best = int(np.argmax(accuracy))
    where = "entering" if name == "memory.before" else "leaving"
    legend = (f"{probes.digit_label(digit)} {where} step {step}: how well each slot alone tells "
              f"it (a linear probe, {found.held_out} held-out problems); best slot {best} "
              f"{100 * accuracy[best]:.0f}%, {int((accuracy >= probes.HELD).sum())} slots at "
              f"{100 * probes.HELD:.0f}%+")
    scale = (f"colour: grey = chance ({100 * chance:.0f}%) .. orange = always right; blue: below "
             f"chance; memory after step {step} likewise")
    values = np.broadcast_to(gain[:, None], shape).astype(np.float32)
    return Overlay(np.ascontiguousarray(values), (-1.0, 1.0), legend, scale=scale)
