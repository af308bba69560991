"""The inspector panel: the selected cell, the editor of the selection (a memory cell: drag or
type a value; a whole slot: set, scale or zero it; a read, write or attention weight: set it, its
row renormalized), the edits made with their effect on the answer, and the hovered cell."""
from __future__ import annotations

import math

import imgui

from studio.causal_panel import ACTION, act
from studio.controller import Controller
from studio.panel_frame import BAD, DIM, GOOD, WARN, Rect, begin_panel, fmt
from studio.selection import Selection
from studio.view import SceneSync


def heading(sel: Selection) -> str:
    """"memory.before[3, 40] = 0.1234"; a noted cell without a value (a graph node) is named alone,
    since its note says what it is."""
    if sel.value is None and sel.note:
        return f"{sel.name}{list(sel.index)}"
    return f"{sel.name}{list(sel.index)} = {fmt(sel.value)}"


class InspectorPanel:
    def __init__(self, controller: Controller, sync: SceneSync):
        self.controller = controller
        self.sync = sync
        self.value_text = ""
        self.scale_text = "0.5"
        self._drag_new = True        # the next drag change starts a new undo entry

    def draw(self, rect: Rect) -> None:
        c = self.controller
        if begin_panel("Inspector", rect):
            imgui.push_text_wrap_pos(0)
            sel = c.selection
            if sel is None:
                imgui.text_colored("nothing selected", *DIM)
            else:
                imgui.text(f"selected {heading(sel)}")
                imgui.text_colored(c.describe(sel), *DIM)
                self._slot_digits(sel)
                self._editor()
            imgui.separator()
            self._edits()
            imgui.separator()
            # Last: the hover comes and goes with every move of the mouse and its text is one to
            # several lines, so anything below it jumped; above it the editor's field and the Undo
            # button stay put while the mouse travels from the scene to them.
            if c.hover is not None:
                imgui.text_colored("hover", *DIM)
                imgui.text(heading(c.hover))
                imgui.text_colored(c.describe(c.hover), *DIM)
                self._slot_digits(c.hover)
            else:
                imgui.text_colored("hover a voxel to read it; click to select", *DIM)
            imgui.pop_text_wrap_pos()
        imgui.end()

    def _slot_digits(self, sel: Selection) -> None:
        told = self.controller.slot_digits(sel)
        if told:
            imgui.text_colored(told, *GOOD)

    def _editor(self) -> None:
        c = self.controller
        target = c.edit_target()
        if target is None:
            imgui.text_colored(c.edit_refusal(), *DIM)
            return
        imgui.push_item_width(-1)
        if target.kind == "weight":
            _, on = imgui.checkbox("renormalize the row (it stays a distribution)", c.renormalize)
            c.set_renormalize(on)
            self._drag(0.0, 1.0 if c.renormalize else 0.0, 1.0 / 300.0)
        elif target.kind == "cell":
            lo, hi = self.sync.current_range("memory") or (-1.0, 1.0)
            self._drag(0.0, 0.0, max(hi - lo, 1e-3) / 300.0)
            if imgui.button("whole slot"):
                c.select_slot()
        else:
            self._slot_buttons()
        hint = "every feature = , Enter" if target.kind == "slot" else "type a value, Enter"
        entered, self.value_text = imgui.input_text_with_hint(
            "##value", hint, self.value_text, 32, imgui.INPUT_TEXT_ENTER_RETURNS_TRUE)
        imgui.pop_item_width()
        if entered:
            try:
                value = float(self.value_text)
            except ValueError:
                c.notify(f"{self.value_text!r} is not a number")
                return
            if act(c, c.edit_selected, value):
                self.value_text = ""

    def _over_training(self, outcomes: list[tuple[int, str, str]]) -> None:
        """The kept edits' effect on each snapshot of training they were in force on: a strip
        by training step, red where they changed the answer; hover one for its answers."""
        if not outcomes:
            return
        changed = sum(before != after for _, before, after in outcomes)
        first, last = outcomes[0][0], outcomes[-1][0]
        span = f"training step {first:,}" if first == last else f"training steps {first:,}-{last:,}"
        imgui.text_colored(f"over training (scrub or replay): the edits changed the answer on "
                           f"{changed} of {len(outcomes)} snapshots, {span}", *DIM)
        x0, y0 = imgui.get_cursor_screen_pos()
        width = imgui.get_content_region_available_width()
        cell = min(10.0, width / len(outcomes))
        draw = imgui.get_window_draw_list()
        for k, (_, before, after) in enumerate(outcomes):
            colour = BAD if before != after else DIM
            draw.add_rect_filled(x0 + k * cell, y0, x0 + (k + 1) * cell - (cell > 3), y0 + 10,
                                 imgui.get_color_u32_rgba(*colour))
        imgui.invisible_button("##over-training", max(cell * len(outcomes), 1.0), 10)
        if imgui.is_item_hovered():
            k = min(int((imgui.get_mouse_pos()[0] - x0) // cell), len(outcomes) - 1)
            step, before, after = outcomes[max(k, 0)]
            imgui.set_tooltip(f"training step {step:,}: {before} -> {after}")

    def _drag(self, lo: float, hi: float, speed: float) -> None:
        """Drag the selected value (one undo entry per drag); lo == hi: unbounded."""
        c = self.controller
        changed, new = imgui.drag_float("##drag", c.selection.value, speed, lo, hi, "drag: %.4f")
        if imgui.is_item_activated():
            self._drag_new = True
        if changed and math.isfinite(new):
            act(c, c.edit_selected, new, not self._drag_new)
            self._drag_new = False

    def _slot_buttons(self) -> None:
        c = self.controller
        if imgui.button("zero"):
            act(c, c.zero_selected)
        imgui.same_line()
        if imgui.button("scale by"):
            try:
                factor = float(self.scale_text)
            except ValueError:
                c.notify(f"{self.scale_text!r} is not a number")
            else:
                act(c, c.scale_selected, factor)
        imgui.same_line()
        imgui.push_item_width(60)
        _, self.scale_text = imgui.input_text("##scale", self.scale_text, 16)
        imgui.pop_item_width()
        imgui.same_line()
        if imgui.button(ACTION[c.ablation]):
            act(c, c.ablate_slots, [c.memory_index(c.selection.name, c.selection.index)[1]])

    def _edits(self) -> None:
        c = self.controller
        if c.trace is None:
            return
        colour = GOOD if c.trace.correct else BAD
        if c.edited:
            imgui.text("answer:")
            imgui.same_line()
            imgui.text_colored(c.answer_change(), *colour)
            changed = c.changed_steps()
            imgui.text_colored(f"digits changed at steps {changed}" if changed
                               else "no digit changed", *DIM)
            for e in c.edits[-4:]:     # bullet_text would not wrap: a long edit ran off the panel
                imgui.bullet()
                imgui.same_line()
                imgui.text(e.describe())
            if imgui.button("Undo (Ctrl+Z)"):
                c.undo()
            imgui.same_line()
            if imgui.button("Reset edits"):
                c.reset_edits()
            if c.keep_edits:
                self._over_training(c.kept_outcomes())
        else:
            imgui.text_colored("select a memory cell or slot, or a read, write or attention "
                               "weight, and set it: the steps after it re-run", *DIM)
        if c.message and not (c.edited and c.message == c.answer_change()):   # shown above
            imgui.text_colored(c.message, *WARN)
