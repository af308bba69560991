"""The inspector panel: the hovered and the selected cell, the editor of a selected memory cell
(drag or type a value), and the edits made with their effect on the answer."""
from __future__ import annotations

import math

import imgui

from studio.controller import Controller
from studio.panel_frame import BAD, DIM, GOOD, WARN, Rect, begin_panel, fmt
from studio.view import SceneSync


class InspectorPanel:
    def __init__(self, controller: Controller, sync: SceneSync):
        self.controller = controller
        self.sync = sync
        self.value_text = ""
        self._drag_new = True        # the next drag change starts a new undo entry

    def draw(self, rect: Rect) -> None:
        c = self.controller
        if begin_panel("Inspector", rect):
            imgui.push_text_wrap_pos(0)
            if c.hover is not None:
                imgui.text_colored("hover", *DIM)
                imgui.text(f"{c.hover.name}{list(c.hover.index)} = {fmt(c.hover.value)}")
                imgui.text_colored(c.describe(c.hover), *DIM)
            else:
                imgui.text_colored("hover a voxel to read it; click to select", *DIM)
            imgui.separator()
            sel = c.selection
            if sel is None:
                imgui.text_colored("nothing selected", *DIM)
            else:
                imgui.text(f"selected {sel.name}{list(sel.index)} = {fmt(sel.value)}")
                imgui.text_colored(c.describe(sel), *DIM)
                self._editor()
            imgui.separator()
            self._edits()
            imgui.pop_text_wrap_pos()
        imgui.end()

    def _editor(self) -> None:
        c = self.controller
        refusal = c.edit_refusal()
        if refusal:
            imgui.text_colored(refusal, *DIM)
            return
        value = c.selection.value
        lo, hi = self.sync.current_range("memory") or (-1.0, 1.0)
        speed = max(hi - lo, 1e-3) / 300.0
        imgui.push_item_width(-1)
        changed, new = imgui.drag_float("##drag", value, speed, 0.0, 0.0, "drag: %.4f")
        if imgui.is_item_activated():
            self._drag_new = True
        if changed and math.isfinite(new):
            c.edit_selected(new, merge=not self._drag_new)
            self._drag_new = False
        entered, self.value_text = imgui.input_text_with_hint(
            "##value", "type a value, Enter", self.value_text, 32, imgui.INPUT_TEXT_ENTER_RETURNS_TRUE)
        imgui.pop_item_width()
        if entered:
            try:
                c.edit_selected(float(self.value_text))
                self.value_text = ""
            except ValueError:
                c.notify(f"{self.value_text!r} is not a number")

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
            for e in c.edits[-4:]:
                imgui.bullet_text(e.describe())
            if imgui.button("Undo (Ctrl+Z)"):
                c.undo()
            imgui.same_line()
            if imgui.button("Reset edits"):
                c.reset_edits()
        else:
            imgui.text_colored("select a memory cell, then drag or type a value: the steps after "
                               "it re-run from the edited memory", *DIM)
        if c.message:
            imgui.text_colored(c.message, *WARN)
