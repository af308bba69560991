"""The compare panel of the flow view: compare the trace on view with another problem or with a
training snapshot, as a difference or side by side, and see which groups and cells differ most at
the current step; and the graph's switch that collapses the processing unit's layers.

A small window at the top of the scene that folds to one header line (a click opens or closes
it) and can be moved, so it never takes the scene's room for long.
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

    def draw(self, scene_rect: tuple[float, float, float, float]) -> None:
        x, y, w, _ = scene_rect
        imgui.set_next_window_position(x + max(w - WIDTH, 0) / 2, y, imgui.FIRST_USE_EVER)
        imgui.set_next_window_bg_alpha(0.85)
        # A header, not a collapsed window: a window's title bar opens on a double click only,
        # and a single click, what a newcomer tries, did nothing. Dragging the body moves it.
        imgui.begin("##compare and graph", False, imgui.WINDOW_NO_TITLE_BAR
                    | imgui.WINDOW_NO_SAVED_SETTINGS | imgui.WINDOW_ALWAYS_AUTO_RESIZE)
        expanded, _ = imgui.collapsing_header("Compare and graph")
        if expanded:
            imgui.push_text_wrap_pos(WIDTH)
            self._controls()
            self._differences()
            self._graph()
            imgui.pop_text_wrap_pos()
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
