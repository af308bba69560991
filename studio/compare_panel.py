"""The compare panel of the flow view: compare the trace on view with another problem or with a
training snapshot, as a difference or side by side, and see which groups and cells differ most at
the current step; and the graph's switch that collapses the processing unit's layers.

A small window that folds to one header line (a click opens or closes it). It stands in the
scene's bottom-right corner, just above the timeline, and grows upward when opened: over the
output column's empty side, never over the step's heading at the top (where it first stood, and
covered it). Dragged elsewhere, it stays where it was put.
"""
from __future__ import annotations

import imgui

from studio.compare import MODES
from studio.controller import Controller
from studio.flow_view import FlowSync
from studio.input_parse import InputError
from studio.panel_frame import BAD, DIM, WARN, fmt

WIDTH = 420                # the widest it grows: text wraps there, and it sizes itself to what it holds


class ComparePanel:
    def __init__(self, controller: Controller, sync: FlowSync):
        self.controller = controller
        self.sync = sync
        self.problem_text = ""
        self.error = ""
        self.anchored = True       # in the scene's corner, until the user drags it away
        self.rect: tuple[float, float, float, float] | None = None  # (x, y, w, h) last drawn
        self._pressed = False      # the mouse is held since a press on the body: maybe a drag

    def draw(self, scene_rect: tuple[float, float, float, float]) -> None:
        x, y, w, h = scene_rect
        corner = (x + w, y + h)
        # Placed every frame, pivot at its bottom-right, so it grows upward as it opens and follows
        # a resized window; not while a press on its body may be a drag, which imgui applies
        # before Begin and a placement would undo.
        if self.anchored and not self._pressed:
            if self.rect is not None and self.rect[2] > w:   # wider than the scene: start at its left
                imgui.set_next_window_position(x, y + h, imgui.ALWAYS, 0.0, 1.0)
            else:
                imgui.set_next_window_position(*corner, imgui.ALWAYS, 1.0, 1.0)
        imgui.set_next_window_bg_alpha(0.85)
        # A header, not a collapsed window: a window's title bar opens on a double click only,
        # and a single click, what a newcomer tries, did nothing. Dragging the body moves it.
        imgui.begin("##compare and graph", False, imgui.WINDOW_NO_TITLE_BAR
                    | imgui.WINDOW_NO_SAVED_SETTINGS | imgui.WINDOW_ALWAYS_AUTO_RESIZE)
        (px, py), (pw, ph) = imgui.get_window_position(), imgui.get_window_size()
        moved = min(abs(px + pw - corner[0]), abs(px - x)) > 0.5 or abs(py + ph - corner[1]) > 0.5
        if self.anchored and self._pressed and moved:
            self.anchored = False
        self.rect = (px, py, pw, ph)
        expanded, _ = imgui.collapsing_header("Compare and graph")
        if expanded:
            imgui.push_text_wrap_pos(WIDTH)
            self._controls()
            self._differences()
            self._graph()
            imgui.pop_text_wrap_pos()
        # A press that starts on the body, off its items, may be a drag until the button is up
        # (while it is, imgui counts the move as an active item, so ask only at the press).
        pressed_on_body = (imgui.is_mouse_clicked(0) and imgui.is_window_hovered()
                           and not imgui.is_any_item_hovered())
        self._pressed = imgui.is_mouse_down(0) and (self._pressed or pressed_on_body)
        imgui.end()

    def _controls(self) -> None:
        c, state = self.controller, self.sync.compare
        imgui.push_item_width(100)
        entered, self.problem_text = imgui.input_text_with_hint(
            "##compare", "38x42", self.problem_text, 32, imgui.INPUT_TEXT_ENTER_RETURNS_TRUE)
        imgui.pop_item_width()
        imgui.same_line()
        if (imgui.button("Compare") or entered) and c.trace is not None:
            try:
                state.set_problem(self.problem_text, c.trace.config.max_digits)
                self.error = ""
            except InputError as err:
                self.error = str(err)
        if len(c.history) > 1:
            imgui.same_line()
            if imgui.button("with a snapshot"):
                state.set_snapshot(0 if state.snapshot is None else state.snapshot)
            if state.snapshot is not None:
                imgui.set_next_item_width(WIDTH / 2)
                moved, k = imgui.slider_int("##snapshot", state.snapshot, 0, len(c.history) - 1,
                                            "snapshot %d")
                if moved:
                    state.set_snapshot(k)
        if state.active:
            imgui.same_line()
            if imgui.button("Stop"):
                state.clear()
            for mode in MODES:
                if imgui.radio_button(mode, state.mode == mode):
                    state.mode = mode
                imgui.same_line()
            imgui.new_line()
        for message in (self.error, state.error):
            if message:
                imgui.text_colored(message, *BAD)

    def _differences(self) -> None:
        c, comparison = self.controller, self.sync.compare.comparison(self.controller)
        if comparison is None:
            imgui.text_colored("type a problem to compare the trace on view with it", *DIM)
            return
        imgui.text(f"{comparison.label}  vs  {c.trace.problem},  step {c.step}")
        if c.step >= comparison.steps:
            imgui.text_colored(f"the comparison has steps 0-{comparison.steps - 1} only", *WARN)
            return
        groups, cells = comparison.ranked(c.step)
        imgui.text_colored("groups, by relative change:", *DIM)
        for g in groups[:6]:
            imgui.text(f"  {g.name:14} {100 * g.relative:7.1f}%")
        imgui.text_colored("cells that moved most:", *DIM)
        for cell in cells:
            imgui.text(f"  {cell.name}{list(cell.index)}: {fmt(cell.base, '+.3f')} -> {fmt(cell.other, '+.3f')}")

    def _graph(self) -> None:
        graph = self.sync.flow_graph
        if graph is None:
            return
        imgui.separator()
        units = graph.units()
        collapsed = bool(units) and set(units) <= graph.collapsed
        changed, on = imgui.checkbox("graph: each processing layer as one node", collapsed)
        if changed:
            graph.collapsed = set(units) if on else set()
