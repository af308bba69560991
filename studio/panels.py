"""imgui panels over the 3-D canvas: training, inspector (with editing), timeline, view, performance.

Panels read and change the Controller (the app state) and the SceneSync's view options; they
never touch GL, so they also run in tests on a bare imgui context. Panel rectangles come from
`layout(size)`, which keeps every panel inside the window and a margin away from its border
(the canvas edge stays black) for any size, tiny and huge included.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import imgui
import numpy as np

from studio.controller import Controller
from studio.input_parse import InputError, parse_problem
from studio.view import SceneSync
from studio.walkthrough import format_step, step_report, verdict
from ttm.metrics import format_cells
from viz import colormap
from viz.mappers.graph import OPS

MARGIN = 8
SIDE_W = 318
TIMELINE_H = 190
PERF_H = 150
GOOD, BAD, DIM, WARN = (0.45, 0.9, 0.45, 1.0), (1.0, 0.45, 0.4, 1.0), (0.6, 0.6, 0.6, 1.0), (1.0, 0.8, 0.3, 1.0)
OP_NAMES = {"placeholder": "input", "get_attr": "parameter", "call_module": "module",
            "call_function": "function", "call_method": "method", "output": "output"}
FIXED = imgui.WINDOW_NO_MOVE | imgui.WINDOW_NO_RESIZE | imgui.WINDOW_NO_SAVED_SETTINGS | imgui.WINDOW_NO_COLLAPSE


@dataclass
class Rect:
    x: float
    y: float
    w: float
    h: float


def layout(size: tuple[int, int]) -> dict[str, Rect]:
    """Panel rectangles for a window of `size` (pixels, origin top-left): a column each side,
    the timeline along the bottom between them. Sizes shrink, never below zero, to fit."""
    w, h = max(int(size[0]), 0), max(int(size[1]), 0)
    side = max(min(SIDE_W, (w - 4 * MARGIN) / 3), 0)
    col_h = max(h - 2 * MARGIN, 0)
    perf_h = min(PERF_H, col_h / 3)
    train_h = max(col_h - perf_h - MARGIN, 0)
    insp_h = min(max(col_h * 0.44, 0), col_h)
    right = w - MARGIN - side
    mid_x = MARGIN * 2 + side
    mid_w = max(right - MARGIN - mid_x, 0)
    tl_h = min(TIMELINE_H, col_h / 2)
    return {
        "training": Rect(MARGIN, MARGIN, side, train_h),
        "performance": Rect(MARGIN, MARGIN + train_h + MARGIN, side, perf_h),
        "inspector": Rect(right, MARGIN, side, insp_h),
        "view": Rect(right, MARGIN * 2 + insp_h, side, max(col_h - insp_h - MARGIN, 0)),
        "timeline": Rect(mid_x, h - MARGIN - tl_h, mid_w, tl_h),
    }


def scene_viewport(size: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x, y, w, h) from the top-left of the canvas area the panels leave free for the scene,
    a margin away from them and from the window's border."""
    rects = layout(size)
    x0 = rects["training"].x + rects["training"].w + MARGIN
    x1 = rects["inspector"].x - MARGIN
    y1 = rects["timeline"].y - MARGIN
    return int(x0), MARGIN, int(max(x1 - x0, 1)), int(max(y1 - MARGIN, 1))


def _begin(name: str, rect: Rect) -> bool:
    imgui.set_next_window_position(rect.x, rect.y)
    imgui.set_next_window_size(max(rect.w, 1), max(rect.h, 1))
    imgui.set_next_window_bg_alpha(0.82)
    expanded, _ = imgui.begin(name, False, FIXED)
    return expanded


def _fmt(value, spec: str = ".4f", none: str = "-") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return none
    return format(value, spec)


@dataclass
class Perf:
    """What the window measured, for the performance panel."""
    fps: float = 0.0
    frame_ms: float = 0.0
    voxels: int = 0
    cubes: int = 0
    sprites: int = 0
    slab_voxels: int = 0
    draw_calls: int = 0
    render_ms: float = 0.0


@dataclass
class Panels:
    controller: Controller
    sync: SceneSync
    checkpoint_out: str = ""
    device: str = "cpu"
    on_frame: object = None          # callables set by the window: frame all / reset camera
    on_reset_camera: object = None
    lod: object = None               # viz.lod.LodSettings of the renderer, edited in place
    problem_text: str = ""
    problem_error: str = ""
    value_text: str = ""
    _drag_new: bool = field(default=True, repr=False)

    def __post_init__(self):
        t = self.controller.trace
        self.problem_text = f"{t.a}x{t.b}" if t is not None else "37x42"

    # -- all of them -------------------------------------------------------------------------
    def draw(self, size: tuple[int, int], perf: Perf) -> None:
        rects = layout(size)
        if min(size) < 120:  # nothing readable fits; the scene alone is drawn
            return
        self.training(rects["training"])
        self.performance(rects["performance"], perf)
        self.inspector(rects["inspector"])
        self.view(rects["view"])
        self.timeline(rects["timeline"])

    # -- training ----------------------------------------------------------------------------
    def training(self, rect: Rect) -> None:
        c = self.controller
        if _begin("Training", rect):
            trainer = c.trainer
            if trainer is None:
                imgui.text_colored("no trainer", *DIM)
            else:
                if c.training_error:
                    state, colour = "stopped by an error", BAD
                elif not trainer.alive:
                    state, colour = "stopped", DIM
                else:
                    state, colour = ("paused", WARN) if trainer.paused else ("running", GOOD)
                if imgui.button("Run" if trainer.paused else "Pause", width=70):
                    c.toggle_training()
                imgui.same_line()
                imgui.text_colored(f"{state} on {self.device}", *colour)
                m = c.latest_metrics
                stage = m.get("stage", trainer.curriculum.stage)
                imgui.text(f"step {trainer.step:,}   examples {trainer.examples:,}")
                imgui.text(f"curriculum stage {stage} of {trainer.curriculum.final_stage}")
                imgui.same_line()
                imgui.text_colored(f"({stage}-digit operands)", *DIM)
                imgui.text(f"learning rate {_fmt(m.get('lr'), '.2e')}")
                imgui.text(f"loss {_fmt(m.get('loss'))}   exact match {_fmt(m.get('exact'), '.1%')}")
                if m.get("cell_exact"):  # the latest evaluation; the sampler favours the weakest
                    imgui.push_text_wrap_pos(0)
                    imgui.text_colored("per cell " + format_cells(m["cell_exact"]), *DIM)
                    imgui.pop_text_wrap_pos()
                self._plots(rect)
                if c.training_error:
                    imgui.push_text_wrap_pos(0)
                    imgui.text_colored(f"training error: {c.training_error}", *BAD)
                    imgui.pop_text_wrap_pos()
                imgui.text_colored(f"saves to {self.checkpoint_out} on exit", *DIM)
        imgui.end()

    def _plots(self, rect: Rect) -> None:
        s = self.controller.series
        width = max(rect.w - 20, 10)
        height = max(min(60.0, (rect.h - 220) / 2), 16)
        loss = np.array([v for v in s.loss if math.isfinite(v) and v > 0], np.float32)
        if len(loss):
            log = np.log10(loss).astype(np.float32)
            imgui.plot_lines("##loss", log, overlay_text=f"log10 loss {log[-1]:.2f}",
                             graph_size=(width, height))
        else:
            imgui.text_colored("loss: waiting for the first snapshot", *DIM)
        exact = np.array([v for v in s.exact if math.isfinite(v)], np.float32)
        if len(exact):
            imgui.plot_lines("##exact", exact, overlay_text=f"exact match {exact[-1]:.0%}",
                             scale_min=0.0, scale_max=1.0, graph_size=(width, height))
        else:
            imgui.text_colored("exact match: not evaluated yet", *DIM)

    # -- performance -------------------------------------------------------------------------
    def performance(self, rect: Rect, perf: Perf) -> None:
        c = self.controller
        if _begin("Performance", rect):
            imgui.text(f"{perf.fps:5.1f} frames/s   frame {perf.frame_ms:5.1f} ms")
            imgui.text(f"voxels drawn {perf.voxels:,}")
            imgui.text_colored(f"cubes {perf.cubes:,}  sprites {perf.sprites:,}  "
                               f"in slabs {perf.slab_voxels:,}", *DIM)
            imgui.text(f"draw calls {perf.draw_calls}   render {perf.render_ms:.1f} ms")
            eps = c.latest_metrics.get("examples_per_s")
            imgui.text(f"training {_fmt(eps, ',.0f')} examples/s")
            imgui.text(f"snapshots {c.snapshots_received}, history {len(c.history)}/"
                       f"{c.history.maxlen} ({c.history_bytes / 2**20:.0f} MB)")
        imgui.end()

    # -- inspector and editing ---------------------------------------------------------------
    def inspector(self, rect: Rect) -> None:
        c = self.controller
        if _begin("Inspector", rect):
            imgui.push_text_wrap_pos(0)
            if c.hover is not None:
                imgui.text_colored("hover", *DIM)
                imgui.text(f"{c.hover.name}{list(c.hover.index)} = {_fmt(c.hover.value)}")
                imgui.text_colored(c.describe(c.hover), *DIM)
            else:
                imgui.text_colored("hover a voxel to read it; click to select", *DIM)
            imgui.separator()
            sel = c.selection
            if sel is None:
                imgui.text_colored("nothing selected", *DIM)
            else:
                imgui.text(f"selected {sel.name}{list(sel.index)} = {_fmt(sel.value)}")
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
                c.message = f"{self.value_text!r} is not a number"

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

    # -- timeline ----------------------------------------------------------------------------
    def timeline(self, rect: Rect) -> None:
        c = self.controller
        if _begin("Timeline", rect):
            self._problem_row()
            if c.trace is not None:
                t = c.trace
                imgui.text(f"target {t.expected}   prediction ")
                imgui.same_line(spacing=0)
                imgui.text_colored(f"{t.answer if t.answer is not None else '-'} "
                                   f"({'correct' if t.correct else 'wrong'})",
                                   *(GOOD if t.correct else BAD))
                imgui.text_colored(c.step_summary(), *DIM)
                if imgui.button("<"):
                    c.step_by(-1)
                imgui.same_line()
                if imgui.button("Pause" if c.playing else "Play", width=48):
                    c.toggle_play()
                imgui.same_line()
                if imgui.button(">"):
                    c.step_by(1)
                imgui.same_line()
                imgui.push_item_width(max(rect.w - 330, 60))
                moved, step = imgui.slider_int("##step", c.step, 0, max(c.steps - 1, 0), "step %d")
                imgui.pop_item_width()
                if moved:
                    c.set_step(step)
                imgui.same_line()
                imgui.push_item_width(110)
                _, c.speed = imgui.slider_float("##speed", c.speed, 0.25, 10.0, "%.2f steps/s")
                imgui.pop_item_width()
            self._history_row(rect)
        imgui.end()

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
        shown = c.viewing if c.viewing is not None else n - 1
        entry = c.history[shown]
        imgui.push_item_width(max(rect.w - 340, 60))
        moved, index = imgui.slider_int("##history", shown, 0, n - 1,
                                        f"snapshot {shown + 1} of {n}: training step {entry.step:,}")
        imgui.pop_item_width()
        if moved:
            c.follow_live = False
            c.show_snapshot(index)
        imgui.same_line()
        imgui.push_item_width(100)
        _, c.history_speed = imgui.slider_float("##hspeed", c.history_speed, 1.0, 60.0, "%.0f snaps/s")
        imgui.pop_item_width()
        if not c.follow_live and c.trace is not None:
            imgui.text_colored(f"viewing {c.trace.problem} at training step {entry.step:,} "
                               f"(newest: {c.history[-1].step:,})", *WARN)

    # -- view --------------------------------------------------------------------------------
    def view(self, rect: Rect) -> None:
        c, o = self.controller, self.sync.options
        if _begin("View", rect):
            dirty = False
            for k, name in enumerate(o.visible):     # two columns: the panel is short
                if k % 2:
                    imgui.same_line(rect.w / 2)
                changed, o.visible[name] = imgui.checkbox(name, o.visible[name])
                dirty |= changed
            changed, c.all_memory = imgui.checkbox("memory: every step (fly through)", c.all_memory)
            if changed:
                c.version += 1
            self._graph_legend()
            imgui.text_colored("colour range (auto: over the whole trace)", *DIM)
            for name in ("memory", "read.weights", "write.weights", "attention"):
                current = self.sync.current_range(name)
                if current is None:
                    continue
                changed, auto = imgui.checkbox(f"auto##{name}", o.auto_range.get(name, True))
                if changed:
                    o.auto_range[name] = auto
                    o.manual_range.setdefault(name, current)
                    dirty = True
                imgui.same_line()
                imgui.text(f"{name.replace('.', ' ').replace('weights', 'w.'):9}")
                imgui.same_line()
                imgui.push_item_width(-1)
                lo, hi = current
                moved, (lo, hi) = imgui.drag_float2(f"##range{name}", lo, hi,
                                                    max(hi - lo, 1e-3) / 200, 0.0, 0.0, "%.3f")
                imgui.pop_item_width()
                if moved and hi > lo:
                    o.auto_range[name] = False
                    o.manual_range[name] = (lo, hi)
                    dirty = True
            if self.lod is not None:
                _, self.lod.enabled = imgui.checkbox("level of detail", self.lod.enabled)
                imgui.same_line()
                imgui.push_item_width(-1)
                _, self.lod.cube_px = imgui.slider_float("##cubepx", self.lod.cube_px, 1.0, 30.0,
                                                         "cubes from %.0f px")
                imgui.pop_item_width()
            if self.on_frame and imgui.button("Frame (F)"):
                self.on_frame()
            imgui.same_line()
            if self.on_reset_camera and imgui.button("Reset camera (R)"):
                self.on_reset_camera()
            if dirty:
                self.sync.mark_dirty()
        imgui.end()


    def _graph_legend(self) -> None:
        """What the colours of the graph's nodes mean (op kinds, as viz.mappers.graph codes them)."""
        group = self.sync.scene.groups.get("graph")
        if group is None or not group.visible:
            return
        imgui.text_colored("graph nodes:", *DIM)
        for k, op in enumerate(OPS):
            if k % 3:
                imgui.same_line()
            imgui.text_colored(f"{OP_NAMES[op]:9}", *colormap.PALETTE[k % len(colormap.PALETTE)], 1.0)


def walkthrough_panel(controller: Controller, rect: Rect) -> None:
    """The demo's side panel: the current step in words, the answer so far, and the verdict."""
    c = controller
    if _begin("Step by step", rect):
        imgui.push_text_wrap_pos(0)
        t = c.trace
        if t is not None:
            imgui.text(f"{t.problem}   step {c.step} (0-{t.steps - 1})   (left/right arrows)")
            imgui.separator()
            for line in format_step(step_report(t, c.step)):
                imgui.text(line)
            imgui.separator()
            if c.step == t.steps - 1:
                imgui.text_colored(verdict(t), *(GOOD if t.correct else BAD))
            else:
                imgui.text_colored("press the right arrow for the next step", *DIM)
        imgui.pop_text_wrap_pos()
    imgui.end()
