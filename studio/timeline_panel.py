"""The timeline panel: the problem traced (type a new one), the answer, stepping and playing the
trace, and scrubbing or replaying the snapshots over training."""
from __future__ import annotations

import imgui

from studio.controller import Controller
from studio.input_parse import InputError, parse_problem
from studio.panel_frame import BAD, DIM, GOOD, WARN, Rect, begin_panel, trust_color
from studio.walkthrough import outcome, timing, verdict_mark
from ttm.confidence import percent

SPEED_W = 100                    # the history row's snapshots/s slider


def _slider(slider, label: str, value, lo, hi, fmt: str, width: float, on_change) -> None:
    """imgui.slider_int or slider_float, `width` px wide, calling `on_change(value)` when moved."""
    imgui.push_item_width(width)
    moved, value = slider(label, value, lo, hi, fmt)
    imgui.pop_item_width()
    if moved:
        on_change(value)


class TimelinePanel:
    def __init__(self, controller: Controller):
        self.controller = controller
        t = controller.trace
        self.problem_text = f"{t.a}x{t.b}" if t is not None else "37x42"
        self.problem_error = ""

    def draw(self, rect: Rect) -> None:
        c = self.controller
        if begin_panel("Timeline", rect):
            self._problem_row()
            if c.trace is not None:
                t = c.trace
                imgui.text(f"target {t.expected}   prediction ")
                imgui.same_line(spacing=0)
                trust = c.digit_trust()
                if trust:
                    self._trusted_digits(trust)
                    imgui.same_line(spacing=0)
                    imgui.text_colored(" " + verdict_mark(t), *(GOOD if t.correct else BAD))
                else:
                    imgui.text_colored(outcome(t), *(GOOD if t.correct else BAD))
                self._first_miss_on_hover()
                if t.seconds is not None:     # on this row: the panel's height is the scene's
                    imgui.same_line()
                    imgui.text_colored(f"   {timing(t)}", *DIM)
                # The prediction's digits are coloured by how often each is right: no line for it.
                for line in c.how_sure(timed=False, digit_line=False):
                    imgui.text_colored(line, *(WARN if line.startswith("warning") else DIM))
                report = c.step_report()
                imgui.text_colored(c.step_summary(), *(BAD if report is not None and report.wrong else DIM))
                if imgui.button("<"):
                    c.step_by(-1)
                imgui.same_line()
                if imgui.button("Pause" if c.playing else "Play", width=48):
                    c.toggle_play()
                imgui.same_line()
                if imgui.button(">"):
                    c.step_by(1)
                imgui.same_line()
                _slider(imgui.slider_int, "##step", c.step, 0, max(c.steps - 1, 0), "step %d",
                        max(rect.w - 330, 60), c.set_step)
                imgui.same_line()
                _slider(imgui.slider_float, "##speed", c.speed, 0.25, 10.0, "%.2f steps/s", 110,
                        c.set_speed)
            self._history_row(rect)
        imgui.end()

    def _first_miss_on_hover(self) -> None:
        """Hovering a wrong answer's verdict says where it first left the product; a click goes
        to that step. Asked only on hover: live training brings a new trace every snapshot, and
        finding the miss reads all its steps."""
        if not imgui.is_item_hovered():
            return
        miss = self.controller.first_miss()
        if miss is None:
            return
        imgui.begin_tooltip()
        imgui.push_text_wrap_pos(imgui.get_font_size() * 36)    # the line runs to ~150 characters
        imgui.text(miss.line)
        imgui.text_colored(f"click: go to step {miss.step}", *DIM)
        imgui.pop_text_wrap_pos()
        imgui.end_tooltip()
        if imgui.is_mouse_clicked(0):
            self.controller.set_step(miss.step)

    @staticmethod
    def _trusted_digits(trust) -> None:
        """The answer digit by digit, each coloured by how often the model gets it right on
        this cell (hover: the figure), so a glance shows which digits to believe."""
        for i, (digit, right) in enumerate(trust):
            if i:
                imgui.same_line(spacing=0)
            imgui.text_colored(digit, *trust_color(right))
            if imgui.is_item_hovered():
                imgui.set_tooltip("not measured" if right is None
                                  else f"this digit is right {percent(right)} of the time")

    def _problem_row(self) -> None:
        imgui.push_item_width(110)
        entered, self.problem_text = imgui.input_text(
            "##problem", self.problem_text, 32, imgui.INPUT_TEXT_ENTER_RETURNS_TRUE)
        imgui.pop_item_width()
        imgui.same_line()
        if imgui.button("Trace problem") or entered:
            self.submit_problem(self.problem_text)
        if self.problem_error:
            imgui.same_line()
            imgui.text_colored(self.problem_error, *BAD)

    def submit_problem(self, text: str) -> bool:
        """Trace the problem typed; False (and `problem_error` says why) when it cannot be."""
        model = self.controller.model()
        if model is None:
            self.problem_error = "no model yet: wait for the first snapshot"
            return False
        try:
            a, b = parse_problem(text, model.config.max_digits)
            self.controller.set_problem(a, b)
        except (InputError, ValueError) as err:
            self.problem_error = str(err)
            return False
        self.problem_error = ""
        return True

    def _history_row(self, rect: Rect) -> None:
        c = self.controller
        n = len(c.history)
        if n == 0:
            if c.trainer is not None:
                imgui.text_colored("history: no snapshots yet", *DIM)
            return
        changed, follow = imgui.checkbox("live", c.follow_live)
        if changed:
            c.set_follow_live(follow)
        imgui.same_line()
        if imgui.button("Stop" if c.history_playing else "Replay training", width=120):
            c.toggle_history_play()
        imgui.same_line()
        changed, keep = imgui.checkbox("keep edits", c.keep_edits)
        if changed:
            c.set_keep_edits(keep)
        if imgui.is_item_hovered():
            imgui.set_tooltip("edits stay in force on the other snapshots of training\n"
                              "(made again for each snapshot's model): scrub or replay\n"
                              "to see how the same intervention plays out as it learns")
        imgui.same_line()
        shown = c.viewing if c.viewing is not None else n - 1
        entry = c.history[shown]
        # what the row has left, less the speed slider beside it
        room = imgui.get_content_region_available_width() - SPEED_W - imgui.get_style().item_spacing.x
        label = f"snapshot {shown + 1} of {n}: training step {entry.step:,}"
        if imgui.calc_text_size(label).x > room - 12:       # a narrow window: the short form
            label = f"{shown + 1}/{n}: step {entry.step:,}"
        _slider(imgui.slider_int, "##history", shown, 0, n - 1, label, max(room, 60), c.scrub_history)
        imgui.same_line()
        _slider(imgui.slider_float, "##hspeed", c.history_speed, 1.0, 60.0, "%.0f snaps/s", SPEED_W,
                c.set_history_speed)
        if not c.follow_live and c.trace is not None:
            imgui.text_colored(f"viewing {c.trace.problem} at training step {entry.step:,} "
                               f"(newest: {c.history[-1].step:,})"
                               + (f", {c.live_note}" if c.live_note else ""), *WARN)
