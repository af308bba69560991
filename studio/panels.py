"""The imgui panels over the 3-D canvas, one module each: training, performance, inspector (with
editing), view, timeline and why? (causal), placed by studio.panel_frame.layout.

Panels read the Controller (the app state) and change it only through its methods, and they set
the SceneSync's view options; they never touch GL, so they also run in tests on a bare imgui context.
"""
from __future__ import annotations

from studio.causal_panel import CausalPanel, below_training
from studio.controller import Controller
from studio.inspector_panel import InspectorPanel
from studio.panel_frame import layout
from studio.performance_panel import Perf, PerformancePanel
from studio.timeline_panel import TimelinePanel
from studio.training_panel import TrainingPanel
from studio.view import SceneSync
from studio.view_panel import ViewPanel

TINY_WINDOW = 120  # px: below this nothing readable fits, and the scene alone is drawn


class Panels:
    """All of the app's panels; `on_frame` / `on_reset_camera` / `on_graph` are the window's
    camera actions, `lod` the renderer's viz.lod.LodSettings (edited in place)."""

    def __init__(self, controller: Controller, sync: SceneSync, checkpoint_out: str = "",
                 device: str = "cpu", on_frame=None, on_reset_camera=None, on_graph=None, lod=None):
        self.training = TrainingPanel(controller, device, checkpoint_out)
        self.performance = PerformancePanel(controller)
        self.inspector = InspectorPanel(controller, sync)
        self.view = ViewPanel(controller, sync, lod, on_frame, on_reset_camera, on_graph)
        self.timeline = TimelinePanel(controller)
        self.causal = CausalPanel(controller)

    def draw(self, size: tuple[int, int], perf: Perf) -> None:
        if min(size) < TINY_WINDOW:
            return
        rects = layout(size)
        rects["training"], rects["causal"] = below_training(rects["training"])
        self.training.draw(rects["training"])
        self.causal.draw(rects["causal"])
        self.performance.draw(rects["performance"], perf)
        self.inspector.draw(rects["inspector"])
        self.view.draw(rects["view"])
        self.timeline.draw(rects["timeline"])
