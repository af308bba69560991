"""The performance panel: the frame-rate target and the level of detail holding it, recent frame
times, what the renderer drew, training speed, history memory."""
from __future__ import annotations

from dataclasses import dataclass

import imgui
import numpy as np

from studio.controller import Controller
from studio.panel_frame import DIM, Rect, begin_panel, fmt
from viz.adaptive import MAX_FPS, MIN_FPS, AdaptiveDetail

PLOT_H = 30


@dataclass
class Perf:
    """What the window measured, for the performance panel."""
    fps: float = 0.0         # frames drawn in the last second (none while nothing changes)
    frame_ms: float = 0.0    # what the last frame cost
    cubes: int = 0
    sprites: int = 0
    slab_voxels: int = 0
    draw_calls: int = 0
    render_ms: float = 0.0
    adaptive: AdaptiveDetail | None = None   # the window's frame-time controller (its target is set here)


class PerformancePanel:
    def __init__(self, controller: Controller):
        self.controller = controller

    def draw(self, rect: Rect, perf: Perf) -> None:
        c = self.controller
        if begin_panel("Performance", rect):
            imgui.text(f"frame {perf.frame_ms:5.1f} ms, {perf.fps:3.0f} drawn/s")
            if perf.adaptive is not None:
                self._detail(perf.adaptive)
            imgui.text_colored(f"cubes {perf.cubes:,}  sprites {perf.sprites:,}  "
                               f"slabs {perf.slab_voxels:,}", *DIM)
            line = f"draw calls {perf.draw_calls}, render {perf.render_ms:.1f} ms"
            if c.trainer is None:       # the demo: no training, no history to speak of
                imgui.text(line)
            else:
                imgui.text(f"{line}, train {fmt(c.latest_metrics.get('examples_per_s'), ',.0f')} ex/s")
                imgui.text_colored(f"snapshots {c.snapshots_received}, history {len(c.history)}/"
                                   f"{c.history.maxlen} ({c.history_bytes / 2**20:.0f} MB)", *DIM)
        imgui.end()

    @staticmethod
    def _detail(adaptive: AdaptiveDetail) -> None:
        """The target (dragged to change), and recent frame times on a scale whose middle is the
        target's frame interval, with the level in force written over them."""
        imgui.same_line()
        imgui.push_item_width(-1)
        changed, target = imgui.drag_int("##fps_target", int(round(adaptive.target_fps)), 0.2,
                                         int(MIN_FPS), int(MAX_FPS), "target %d fps")
        imgui.pop_item_width()
        if changed:
            adaptive.target_fps = target
        times = np.asarray(adaptive.recent or [0.0], np.float32)
        imgui.plot_lines("##frame_ms", times, overlay_text=adaptive.describe(), scale_min=0.0,
                         scale_max=2.0 * adaptive.target_ms,     # slower frames touch the top
                         graph_size=(imgui.get_content_region_available()[0], PLOT_H))
