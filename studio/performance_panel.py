"""The performance panel: frame rate and what the renderer drew, training speed, history memory."""
from __future__ import annotations

from dataclasses import dataclass

import imgui

from studio.controller import Controller
from studio.panel_frame import DIM, Rect, begin_panel, fmt


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


class PerformancePanel:
    def __init__(self, controller: Controller):
        self.controller = controller

    def draw(self, rect: Rect, perf: Perf) -> None:
        c = self.controller
        if begin_panel("Performance", rect):
            imgui.text(f"{perf.fps:5.1f} frames/s   frame {perf.frame_ms:5.1f} ms")
            imgui.text(f"voxels drawn {perf.voxels:,}")
            imgui.text_colored(f"cubes {perf.cubes:,}  sprites {perf.sprites:,}  "
                               f"in slabs {perf.slab_voxels:,}", *DIM)
            imgui.text(f"draw calls {perf.draw_calls}   render {perf.render_ms:.1f} ms")
            eps = c.latest_metrics.get("examples_per_s")
            imgui.text(f"training {fmt(eps, ',.0f')} examples/s")
            imgui.text(f"snapshots {c.snapshots_received}, history {len(c.history)}/"
                       f"{c.history.maxlen} ({c.history_bytes / 2**20:.0f} MB)")
        imgui.end()
