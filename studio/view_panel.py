"""The view panel: which groups are shown, every-step memory, colour ranges (auto or set by hand),
level of detail, what the graph's colours mean, and the camera buttons."""
from __future__ import annotations

import imgui

from studio.controller import Controller
from studio.panel_frame import DIM, Rect, begin_panel
from studio.view import SceneSync
from viz import colormap
from viz.mappers.graph import OP_NAMES, OPS


class ViewPanel:
    def __init__(self, controller: Controller, sync: SceneSync, lod=None, on_frame=None,
                 on_reset_camera=None, on_graph=None):
        self.controller = controller
        self.sync = sync
        self.lod = lod                       # viz.lod.LodSettings of the renderer, edited in place
        self.on_frame = on_frame             # callables set by the window: frame all / reset
        self.on_reset_camera = on_reset_camera   # camera / fly to the graph
        self.on_graph = on_graph

    def draw(self, rect: Rect) -> None:
        c, o = self.controller, self.sync.options
        if begin_panel("View", rect):
            dirty = False
            for k, name in enumerate(o.visible):     # two columns: the panel is short
                if k % 2:
                    imgui.same_line(rect.w / 2)
                changed, o.visible[name] = imgui.checkbox(name, o.visible[name])
                dirty |= changed
            if self.sync.shows_every_step_memory:
                changed, every_step = imgui.checkbox("memory: every step (fly through)", c.all_memory)
                if changed:
                    c.set_all_memory(every_step)
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
            if self.on_graph and "graph" in self.sync.scene:
                imgui.same_line()
                if imgui.button("Graph (G)"):
                    self.on_graph()
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
