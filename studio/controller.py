"""The app's state without GL, behind one object the window and the panels talk to.

Each job lives in its own module; the Controller ties them together and keeps one rule: whenever
what the view draws changes, the selection's value is read again and `version` goes up.
    trainer_link.py      the trainer: run/pause, stop-and-save, snapshots, training curve
    snapshot_history.py  snapshots over training in a bounded ring, old ones compacted
    timeline.py          the step on view and the play clocks (steps, history replay)
    shown_tensors.py     which tensors the view shows at a step, and what an edit changed
    selection.py         the hovered / selected cell or slot and what it is in words
    interventions.py     edits of memory and weights, ablations, patches: what each changes
    edit_stack.py        the interventions stacked, re-run with Trace.replay, with undo
    causal_state.py      slot effects and the effect map, computed off the UI thread

The window calls `poll()` and `tick(dt)` once a frame and reads everything else from here; tests
drive the same object with no window at all. Selecting or editing stops following live training,
so a new snapshot never takes away what a person is working on (`live_note` says so).
"""
from __future__ import annotations

from operator import attrgetter

import numpy as np

from studio.causal_state import CausalState
from studio.edit_stack import EditStack
from studio.intervening import Intervening
from studio.selection import Selection, describe, memory_index
from studio.shown_tensors import ShownTensors
from studio.snapshot_history import SnapshotHistory
from studio.timeline import PlaybackClock, Timeline
from studio.trainer_link import TrainerLink
from studio.walkthrough import Miss, StepReport, first_miss, how_sure, step_report, step_summary
from ttm import Trace
from ttm.confidence import cell_confidence


class Controller(Intervening):
    """Intervening (studio/intervening.py) holds its methods that edit the trace and ask why."""

    def __init__(self, trace: Trace | None = None, trainer=None, history_size: int = 500,
                 keep_models: int = 16):
        self._history = SnapshotHistory(history_size, keep_models)
        self._link = TrainerLink(trainer)
        self._edits = EditStack()
        self._timeline = Timeline(speed=2.0)
        self._history_clock = PlaybackClock(8.0)   # snapshots per second while replaying history
        self._shown = ShownTensors()
        self._follow_live = True     # new snapshots replace the view (off while scrubbing or editing)
        self._newest_held = False    # a snapshot came in that poll(show_newest=False) did not show
        self._live_note = ""         # why following live stopped by itself, for the timeline
        self._causal = CausalState()
        self._renormalize = True     # a weight edit keeps its row a distribution
        self._keep_edits = False     # edits dropped when another snapshot comes on view
        self._kept = None            # (edits, (a, b)): the person's edits, made again on snapshots
        self._outcomes: dict[int, tuple[str, str]] = {}   # training step -> answers without / with them
        self._message = ""
        self._selection: Selection | None = None
        self._hover: Selection | None = None
        self._version = 0
        self._report: tuple | None = None    # (trace, step, its StepReport) last given
        self._miss: tuple | None = None      # (trace, walkthrough.first_miss of it) last given
        self.other_models: dict[str, dict] = {}   # path -> metrics of checkpoints one could run instead
        self.switch_flag = "--checkpoint"         # the program's flag that runs one of them
        if trace is not None:
            self._show(trace)

    # -- what the parts hold, read-only: change it through the methods below ----------------
    history = property(attrgetter("_history"))                    # a SnapshotHistory
    trainer = property(attrgetter("_link.trainer"))
    series = property(attrgetter("_link.series"))
    latest_metrics = property(attrgetter("_link.latest_metrics"))
    snapshots_received = property(attrgetter("_link.snapshots_received"))
    training_error = property(attrgetter("_link.error"))
    training_paused = property(attrgetter("_link.paused"))
    keep_models = property(attrgetter("_history.keep_models"))
    viewing = property(attrgetter("_history.viewing"))            # index of the entry on view
    viewed_entry = property(attrgetter("_history.viewed"))
    history_bytes = property(attrgetter("_history.bytes"))
    follow_live = property(attrgetter("_follow_live"))
    holding_snapshot = property(attrgetter("_newest_held"))      # poll(show_newest=False) kept one back
    live_note = property(attrgetter("_live_note"))
    trace = property(attrgetter("_edits.current"))                # the trace on view, edits and all
    original = property(attrgetter("_edits.original"))            # ... as recorded
    edited = property(attrgetter("_edits.edited"))
    edits = property(attrgetter("_edits.edits"))
    step = property(attrgetter("_timeline.step"))
    steps = property(attrgetter("_timeline.steps"))
    playing = property(attrgetter("_timeline.clock.playing"))
    speed = property(attrgetter("_timeline.clock.rate"))          # timeline steps per second
    history_playing = property(attrgetter("_history_clock.playing"))
    history_speed = property(attrgetter("_history_clock.rate"))   # snapshots per second
    all_memory = property(attrgetter("_shown.all_memory"))
    selection = property(attrgetter("_selection"))
    hover = property(attrgetter("_hover"))
    message = property(attrgetter("_message"))   # last notice for the person (edit refused, ...)
    version = property(attrgetter("_version"))   # bumped whenever what the view draws changes
    renormalize = property(attrgetter("_renormalize"))
    causal_overlay = property(attrgetter("_causal.overlay"))
    ablation = property(attrgetter("_causal.ablation"))
    probe_digit = property(attrgetter("_causal.digit"))

    # -- training ----------------------------------------------------------------------------
    def toggle_training(self) -> None:
        self._link.toggle()

    def shutdown(self, timeout: float = 60.0):
        """Stop the causal work and the trainer (it saves on the way out); the path written, or None."""
        self._causal.stop()
        try:
            return self._link.shutdown(timeout)
        except TimeoutError as err:
            self._message = str(err)
            return None

    def poll(self, show_newest: bool = True) -> int:
        """Take every snapshot waiting in the trainer's queue and the causal results that came in
        (never blocks); returns how many snapshots. With `show_newest` False they go into the
        history but the view stays as it is, until a later poll that may show them (the window
        holds a live view still while the camera flies: a new trace costs it a re-layout)."""
        got = 0
        for snap in self._link.waiting():
            self.add_snapshot(snap, show=show_newest)
            got += 1
        if show_newest and self._newest_held:
            self._newest_held = False
            if self._follow_live:
                self.show_snapshot(-1)
        if self._causal.follow(self.trace, self.step):
            self._version += 1
        if self._causal.mean_arrived():
            self._carry_edits_again()
        return got

    def add_snapshot(self, snap, show: bool = True) -> None:
        self._link.record(snap)
        if snap.trace is None:
            return
        self._history.add(snap)
        if not show:
            self._newest_held = True
        elif self._follow_live:
            self.show_snapshot(-1)

    # -- history -----------------------------------------------------------------------------
    def show_snapshot(self, index: int) -> None:
        """View history entry `index` (negative counts from the newest); edits are dropped, or
        with keep_edits made again for it."""
        trace = self._history.view(index)
        if trace is None:
            return
        self._show(trace, keep_step=True)
        if not self._keep_edits:
            self._kept, self._outcomes = None, {}    # dropped: ticking "keep edits" later brings back none
        elif self._kept is not None:
            self._carry_edits(*self._kept)

    def set_follow_live(self, follow: bool) -> None:
        self._follow_live = follow
        self._live_note = ""
        if follow:
            self._history_clock.stop()
            self.show_snapshot(-1)

    def _stop_live(self, why: str) -> None:
        """Stop following live by itself (a new snapshot would take away `why`: "a selection"),
        saying so in `live_note`."""
        if self._follow_live:
            self._follow_live = False
            self._live_note = f"paused by {why}"
        self._history_clock.stop()

    def scrub_history(self, index: int) -> None:
        """The person picked a snapshot: stop following live and view it."""
        self._follow_live = False
        self.show_snapshot(index)

    def toggle_history_play(self) -> None:
        self._history_clock.toggle()
        if self._history_clock.playing:
            self._follow_live = False
            if self._history.at_newest():
                self.show_snapshot(0)

    def set_history_speed(self, snapshots_per_s: float) -> None:
        self._history_clock.rate = snapshots_per_s

    # -- the trace on view -------------------------------------------------------------------
    def _show(self, trace: Trace, keep_step: bool = False) -> None:
        self._edits.load(trace)
        self._timeline.fit(trace.steps, keep_step)
        self._view_changed()

    def _view_changed(self) -> None:
        """What the view draws changed: the selection's value is read again, the version bumped."""
        sel = self._selection
        if sel is not None:
            trace = self.trace
            sel.refresh(None if trace is None else self._shown.shown(trace, sel.name, self.step))
        self._version += 1

    def model(self):
        """The frozen CPU model behind the trace on view, else the newest one kept in history."""
        if self.trace is not None and self.trace.model is not None:
            return self.trace.model
        return self._history.newest_model()

    def set_problem(self, a: int, b: int) -> None:
        """Record a new sample problem with the model on view; later snapshots use it too.

        Raises ValueError (from the model's operand check) when the model cannot take it."""
        model = self.model()
        if model is None:
            raise ValueError("no model to run yet: wait for the first snapshot")
        model.check_operands(a, b)
        self._link.set_sample_problem(a, b)
        self._show(Trace.record(model, a, b))
        self._kept, self._outcomes = None, {}
        self._message = f"now tracing {a} × {b}"

    # -- timeline ----------------------------------------------------------------------------
    def set_step(self, step: int) -> None:
        if self._timeline.set_step(step):
            self._view_changed()

    def step_by(self, delta: int) -> None:
        self.set_step(self.step + delta)

    def toggle_play(self) -> None:
        if self._timeline.toggle_play():
            self._view_changed()

    def set_speed(self, steps_per_s: float) -> None:
        self._timeline.clock.rate = steps_per_s

    def tick(self, dt: float) -> None:
        """Advance playing timelines by `dt` seconds (steps loop; history stops at the newest)."""
        if self._timeline.tick(dt):
            self._view_changed()
        if not self._history:
            return
        for _ in range(self._history_clock.ticks(dt)):
            nxt = self._history.next_index()
            if nxt is None:
                self._history_clock.stop()
                break
            self.show_snapshot(nxt)

    # -- what the view draws -----------------------------------------------------------------
    def set_all_memory(self, on: bool) -> None:
        """Show all of memory[0..T] ("memory", to fly through) instead of before/after."""
        if on != self._shown.all_memory:
            self._shown.all_memory = on
            self._view_changed()

    def view_tensors(self) -> dict[str, np.ndarray]:
        """name -> array for the current step (see studio.shown_tensors), in drawing order."""
        return self._shown.arrays(self.trace, self.step)

    def changed_mask(self, name: str) -> np.ndarray | None:
        """(shape of the shown tensor) bool: cells that differ from the original trace, or None
        when nothing was edited."""
        if not self.edited:
            return None
        return self._shown.changed_mask(self.original, self.trace, name, self.step)

    def selection_mask(self, name: str) -> np.ndarray | None:
        """(shape of the shown tensor) bool: the cells the selection covers (a slot: its row)."""
        return self._shown.selection_mask(self.trace, self.selection, name, self.step)

    # -- selection ---------------------------------------------------------------------------
    def select(self, name: str | None, index=None, value: float | None = None, note: str = "") -> None:
        """Select a cell of a shown tensor (None: clear the selection). `value` and `note` serve
        groups that are not trace tensors (the graph), whose value the trace cannot look up."""
        self._selection = None if name is None else Selection(name, tuple(int(i) for i in index),
                                                              value, note)
        if name is not None:
            self._stop_live("a selection")
        self._view_changed()

    def select_slot(self) -> None:
        """Widen a selected memory cell to its whole slot (the row)."""
        sel = self.selection
        if sel is not None and sel.name.startswith("memory") and not sel.whole_slot:
            self.select(sel.name, sel.index[:-1])

    def set_hover(self, sel: Selection | None) -> None:
        self._hover = sel

    def memory_index(self, name: str, index) -> tuple[int, int, int | None]:
        return memory_index(name, index, self.step)

    def describe(self, sel: Selection | None) -> str:
        return describe(sel, self.trace, self.step)

    # -- text for panels ---------------------------------------------------------------------
    def _metrics_on_view(self) -> dict | None:
        """The metrics of the snapshot on view, else the checkpoint's, else the newest."""
        entry = self.viewed_entry
        metrics = entry.metrics if entry is not None else getattr(self.trace.model, "metrics", None)
        return metrics or self.latest_metrics

    def how_sure(self, **shown) -> list[str]:
        """The run's time and how often the model gets the problem's cell right, from the metrics
        of the snapshot on view (else the checkpoint's): see walkthrough.how_sure (and its
        `timed`, `digit_line`)."""
        if self.trace is None:
            return []
        return how_sure(self.trace, self._metrics_on_view(), self.other_models,
                        switch=self.switch_flag, **shown)

    def digit_trust(self) -> list[tuple[str, float | None]]:
        """The answer's digits with how often each is right on the problem's cell, when that cell
        is weak enough to warn about (else empty): see CellConfidence.digit_trust."""
        if self.trace is None:
            return []
        confidence = cell_confidence(self._metrics_on_view() or {}, self.trace.a, self.trace.b)
        return confidence.digit_trust(self.trace.answer) if confidence.warning() else []

    def step_report(self) -> StepReport | None:
        """The step on view in words (walkthrough.step_report); kept for the trace and step on
        view, since panels ask every frame and it takes a softmax and the carry probe's read."""
        trace = self.trace
        if trace is None:
            return None
        held = self._report
        if held is None or held[0] is not trace or held[1] != self.step:
            held = self._report = (trace, self.step, step_report(trace, self.step))
        return held[2]

    def first_miss(self) -> Miss | None:
        """Where the answer on view first left the product (walkthrough.first_miss), kept per
        trace: it reads every step."""
        if self.trace is None:
            return None
        if self._miss is None or self._miss[0] is not self.trace:
            self._miss = (self.trace, first_miss(self.trace))
        return self._miss[1]

    def step_summary(self) -> str:
        """'step 2 (0-4): input 5, produced 5 (p 0.98)', for the timeline."""
        report = self.step_report()
        return "" if report is None else step_summary(report, self.trace.steps)

    def notify(self, message: str) -> None:
        """A notice for the person (a refused input, ...), shown until the next one."""
        self._message = message
