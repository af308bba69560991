"""The Controller's methods that change the trace on view and ask why it answered as it did.

`Intervening` is mixed into studio.controller.Controller and works on its parts: the edit stack
(`_edits`), the causal state (`_causal`), the timeline, the shown tensors. Every change goes
through `intervene`: the stack re-runs the trace, following live stops (a new snapshot would
throw the edits away), and the view is told. Refused input is a ValueError with a sentence for
the person; the panels show it.
"""
from __future__ import annotations

import numpy as np

from studio.causal_state import EffectMap, Overlay, overlay, probe_overlay
from studio.input_parse import parse_problem
from studio.interventions import (Intervention, MeanNotKnown, Target, ablate, carried, editable,
                                  scale_slot, set_value, target_of)
from studio.selection import memory_index
from studio.walkthrough import outcome
from ttm import Trace, causal, probes


class Intervening:
    # -- editing the selection ---------------------------------------------------------------
    def edit_refusal(self) -> str | None:
        """Why the selection cannot be edited now, or None when it can."""
        try:
            self._target()
        except ValueError as err:
            return str(err)
        return None

    def edit_target(self) -> Target | None:
        """What the selection would edit (kind "cell", "slot" or "weight"), or None."""
        try:
            return self._target()
        except ValueError:
            return None

    def edit_selected(self, value: float, merge: bool = False) -> Trace:
        """Set the selected memory cell, every feature of the selected slot, or the selected
        weight (its row renormalized when `renormalize` is on), then re-run from its step.
        `merge` folds the edits of one drag into one undo entry."""
        return self.intervene(set_value(self.trace, self._target(), value, self._renormalize), merge)

    def scale_selected(self, factor: float) -> Trace:
        """Multiply the selected memory slot (or cell) by `factor`."""
        return self.intervene(scale_slot(self._target(), factor))

    def zero_selected(self) -> Trace:
        """Zero the selected memory slot or cell; a selected weight is set to 0 (renormalized)."""
        target = self._target()
        return self.edit_selected(0.0) if target.kind == "weight" else self.scale_selected(0.0)

    def set_renormalize(self, on: bool) -> None:
        self._renormalize = bool(on)

    def _target(self) -> Target:
        return target_of(self.selection, editable(self.trace, self.keep_models), self.step,
                         self.keep_models)

    # -- ablating and patching slots entering the step on view -------------------------------
    def ablate_slots(self, slots=None, ablation: str | None = None) -> Trace:
        """Replace memory slots entering the step on view (None: all) as the causal overlay
        ablates them (`ablation`, default the overlay's): zeroed, set to their mean over random
        problems, or taken from the source problem."""
        trace = editable(self.trace, self.keep_models)
        ablation = ablation or self.ablation
        inert = causal.changes_nothing(ablation, self.step)
        if inert:      # refused, not an edit on the stack that changed nothing and said nothing
            raise ValueError(f"{inert}: zero it, or step on")
        source = self._causal.source_for(trace.model) if ablation == "source" else None
        known = self._causal.known_mean(trace, self.step) if ablation == "mean" else None
        return self.intervene(ablate(trace, self.step, slots, ablation, source, known))

    def patch(self, source: str, slots=None) -> Trace:
        """Take memory slots entering the step on view (None: all) from a second problem typed
        as `source` ("38x42"), traced by the same model."""
        self.set_source(source)
        return self.ablate_slots(slots, "source")

    def set_source(self, text: str) -> None:
        """The second problem of patches and of the "source" ablation; ValueError (an
        InputError) when the model cannot take it."""
        model = editable(self.trace, self.keep_models).model
        a, b = parse_problem(text, model.config.max_digits)
        self._causal.source = Trace.record(model, a, b)
        self._version += 1

    @property
    def source(self) -> Trace | None:
        return self._causal.source

    # -- the stack -----------------------------------------------------------------------------
    def intervene(self, edit: Intervention, merge: bool = False) -> Trace:
        """Re-run the trace on view with `edit` on top of the edits before it. ValueError when
        it is refused; the trace on view stays as it was."""
        try:
            self._edits.push(edit, merge)
        except IndexError as err:
            raise ValueError(str(err)) from None
        self._stop_live("edits")
        self._remember_edits()
        lost = self._edits.unreached()
        self._message = self.answer_change() + (
            f"; {len(lost)} edit(s) at steps the answer no longer reaches hold nowhere" if lost else "")
        self._edits_changed()
        return self.trace

    @property
    def keep_edits(self) -> bool:
        """Edits stay in force when another snapshot of training comes on view (scrubbing,
        replaying, following live), made again for its model: how the same intervention
        plays out as the model learns."""
        return self._keep_edits

    def set_keep_edits(self, on: bool) -> None:
        self._keep_edits = bool(on)

    def _carry_edits(self, edits: list[Intervention], problem: tuple[int, int]) -> None:
        """Make `edits` (made on `problem`) again on the trace just put on view; those that
        cannot be are left out of it, each with its reason in the message."""
        trace = self.trace
        if (trace.a, trace.b) != problem:
            self._message = (f"edits not kept: this snapshot traced {trace.problem}, they were made "
                             f"on {problem[0]} × {problem[1]}")
            return
        try:
            editable(trace, self.keep_models)
        except ValueError as err:
            self._message = f"edits not kept: {err}"
            return
        dropped = []
        for edit in edits:
            try:
                self._edits.push(carried(edit, self.trace, self._causal.known_mean))
            except MeanNotKnown as err:
                self._causal.want_mean(self.original, edit.step)
                dropped.append(f"{edit.what}: {err}")
            except (ValueError, IndexError) as err:
                dropped.append(f"{edit.what}: {err}")
        self._message = self.answer_change() + "".join(f"; not kept: {d}" for d in dropped)
        self._record_outcome()
        self._edits_changed()

    def kept_outcomes(self) -> list[tuple[int, str, str]]:
        """(training step, answer without the edits, answer with them: "1554 (correct)") of
        each snapshot the person's edits were in force on, by step; since they last changed."""
        return [(step, *self._outcomes[step]) for step in sorted(self._outcomes)]

    def _record_outcome(self) -> None:
        entry = self.viewed_entry
        if entry is not None and self.edited:
            self._outcomes[entry.step] = (outcome(self.original), outcome(self.trace))

    def _carry_edits_again(self) -> None:
        """A mean a kept ablation waited for came in: the kept edits made again on the snapshot."""
        if self._keep_edits and self._kept is not None and self.original is not None:
            self._edits.load(self.original)
            self._carry_edits(*self._kept)

    def undo(self) -> None:
        if self._edits.undo():
            self._remember_edits()
            self._edits_changed()

    def reset_edits(self) -> None:
        if self._edits.revert_all():
            self._remember_edits()
            self._edits_changed()

    def _remember_edits(self) -> None:
        """The person changed the edits: the ones keep_edits makes again on other snapshots
        (kept whole while a snapshot on view cannot take some, or any, of them)."""
        self._kept = (list(self.edits), (self.trace.a, self.trace.b)) if self.edited else None
        self._outcomes = {}
        self._record_outcome()

    def _edits_changed(self) -> None:
        self._timeline.fit(self.trace.steps)
        self._view_changed()

    def answer_change(self) -> str:
        return self._edits.answer_change()

    def changed_steps(self) -> list[int]:
        return self._edits.changed_steps()

    def differing_slots(self, name: str = "memory.after") -> list[int]:
        """Memory slots of the shown memory `name` that differ from the recorded trace."""
        mask = self.changed_mask(name)
        if mask is None or mask.ndim != 2:
            return []
        return np.flatnonzero(mask.any(axis=1)).tolist()

    def graph_change(self) -> dict[str, float] | None:
        """{fx node name: ||after - before|| / ||before||} at the last edit's step (see
        graph_change_step), or None without edits."""
        return self._edits.graph_change()

    @property
    def graph_change_step(self) -> int | None:
        entered = self._edits.last_entered()
        return None if entered is None else entered[0]

    # -- asking why: slot effects, computed off the UI thread --------------------------------
    def set_causal_overlay(self, on: bool) -> None:
        """Compute the slot effects of the step on view (and the map of every step) and paint
        them over memory; `poll()` starts the work and takes in its results."""
        self._causal.overlay = bool(on)
        if on:   # the effects are of the trace on view: a new snapshot would throw them away
            self._causal.digit = None             # both paint the memory: one at a time
            self._stop_live("the slot effects")
        self._version += 1

    def set_probe_digit(self, digit: str | None) -> None:
        """Paint memory by how well each slot alone tells `digit` ("a0": a's units, "p2": the
        product's hundreds; see ttm.probes), or stop (None). The probes of the model and cell
        on view are computed off the UI thread; ValueError for a digit the cell does not have."""
        if digit is not None:
            names = probes.digit_names(editable(self.trace, self.keep_models).cell)
            if digit not in names:
                raise ValueError(f"{digit!r} is not a digit of {self.trace.problem}: one of {names}")
            self._causal.overlay = False
            self._stop_live("the digit probes")   # a new snapshot's model would need new probes
        self._causal.digit = digit
        self._version += 1

    def digit_probes(self) -> probes.DigitProbes | None:
        """The digit probes of the model and cell on view, once computed."""
        return self._causal.digit_probes(self.trace)

    def slot_digits(self, sel, top: int = 3) -> str | None:
        """What the memory slot of `sel` tells best, once the digit probes are in: "tells a's
        units 100%, b's tens 98%, ... (linear probes; chance about 10%)"; None otherwise."""
        found = self.digit_probes()
        if found is None or sel is None or not sel.name.startswith("memory") or not sel.index:
            return None
        k, slot, _ = memory_index(sel.name, sel.index, self.step)
        if not (0 <= k < found.states and 0 <= slot < found.accuracy.shape[1]):
            return None
        told = [f"{probes.digit_label(d)} {100 * a:.0f}%" for d, a in found.slot(k, slot)[:top]]
        return f"tells {', '.join(told)} (linear probes on this slot alone)"

    def set_ablation(self, ablation: str) -> None:
        if ablation not in causal.ABLATIONS:
            raise ValueError(f"ablation must be one of {causal.ABLATIONS}, got {ablation!r}")
        if ablation == "source" and self.source is None:
            raise ValueError("type a second problem (the source) first")
        self._causal.ablation = ablation
        self._version += 1

    def slot_effects(self) -> causal.SlotAblation | None:
        """The slot effects of the step on view (effect, per_step, changes_answer, ranked), once
        computed for the trace on view; None before, or with the overlay off."""
        return self._causal.effects(self.trace, self.step)

    def effect_map(self) -> EffectMap | None:
        return self._causal.effect_map(self.trace)

    def causal_progress(self) -> tuple[str, float] | None:
        """(what is being computed, fraction done), or None when nothing is."""
        return self._causal.progress()

    def causal_error(self) -> str:
        return self._causal.error(self.trace, self.step)

    def wait_causal(self, timeout: float = 60.0) -> bool:
        """Block until the causal work asked for is done, then take it in (tests, headless)."""
        self.poll()
        done = self._causal.wait(timeout)
        self.poll()
        return done

    def overlay(self, name: str) -> Overlay | None:
        """What the view paints over the shown tensor `name` while the causal overlay is on
        ("memory.before", "memory", "effects"; see causal_state.overlay) or a digit is probed
        ("memory.before", "memory.after"; causal_state.probe_overlay), or None."""
        if name == "effects":
            rows = self.effect_map()
            shape = None if rows is None else rows.digit.shape
        else:
            shown = None if self.trace is None else self._shown.shown(self.trace, name, self.step)
            shape = None if shown is None else tuple(shown.shape)
        if shape is None:
            return None
        found = self.digit_probes()
        if self._causal.digit is not None:
            return None if found is None else probe_overlay(name, shape, found, self._causal.digit, self.step)
        if not self.causal_overlay:
            return None
        return overlay(name, shape, self.slot_effects(), self.effect_map(), self.step)
