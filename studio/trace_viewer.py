"""The window app.py and demo.py run in: a viz Viewer whose Scene is kept in step with a
Controller, the panels around the scene (which is framed in the area they leave free), picks
turned into hover / selection, and the keys both share (space, arrows, Home/End, Ctrl+Z).

Import it after deciding on headless mode: viz.window reads DISPLAY when first imported.
"""
from __future__ import annotations

from viz.window import HEADLESS, Viewer  # first: it sets pyglet up before pyglet is imported

from pyglet.window import key  # noqa: E402, I001

from studio.controller import Controller  # noqa: E402
from studio.panel_frame import scene_viewport  # noqa: E402
from studio.panels import Panels, Perf  # noqa: E402
from studio.selection import Selection  # noqa: E402
from studio.view import SceneSync, ViewOptions  # noqa: E402
from viz.scene import Scene  # noqa: E402


def graph_note(layout, voxel: int) -> str:
    """"node linear_3: call_module process.blocks.0.attn.qkv -> (1, 8, 96), process stage"."""
    tags = layout.tags
    shape = tags["shapes"][voxel]
    return (f"graph node {tags['names'][voxel]}: {tags['ops'][voxel]} {tags['targets'][voxel]}"
            f"{f' -> {tuple(shape)}' if shape else ''}, {tags['groups'][voxel]} stage")


class TraceViewer(Viewer):
    """A Controller's trace in 3-D with the app's panels; `on_quit` stops the trainer (which saves)."""

    def __init__(self, controller: Controller, graph=None, options: ViewOptions | None = None,
                 size: tuple[int, int] = (1280, 720), caption: str = "Token Turing Machine",
                 **panel_options):
        super().__init__(Scene(), int(size[0]), int(size[1]), caption=caption,
                         visible=not HEADLESS, vsync=not HEADLESS)
        self.controller = controller
        self.sync = SceneSync(self.scene, controller, graph=graph, options=options)
        self.panels = Panels(controller, self.sync, on_frame=self.frame_all,
                             on_reset_camera=self.reset_camera, lod=self.renderer.lod, **panel_options)
        self.saved = None            # the checkpoint written when the window closed, if any
        self._framed = False

    # -- the Viewer's hooks ------------------------------------------------------------------
    def update(self, dt: float) -> None:
        c = self.controller
        c.poll()
        c.tick(dt)
        if self.sync.update() and self.sync.layouts_changed:
            self.scene.relayout(self._aspect())
            if not self._framed or self._untouched or self._moved_out():
                self.frame_all()
                self._framed = True

    def _moved_out(self) -> bool:
        """True when a layout change left the camera looking at nothing (e.g. groups re-packed)."""
        box = self.scene.bbox()
        if box is None:
            return False
        cam = self.scene.camera
        centre = (box[0] + box[1]) / 2
        return float(((centre - cam.position) * cam.forward).sum()) <= 0

    def scene_rect(self, width: int, height: int):
        return scene_viewport((width, height))

    def draw_ui(self) -> None:
        self.draw_labels()
        self.panels.draw(self.get_size(), self.measured())

    def measured(self) -> Perf:
        s = self.renderer.stats
        return Perf(fps=self.perf["fps"], frame_ms=self.perf["frame_ms"],
                    voxels=s.cubes + s.sprites + s.slab_voxels, cubes=s.cubes, sprites=s.sprites,
                    slab_voxels=s.slab_voxels, draw_calls=s.draw_calls, render_ms=s.cpu_ms)

    def _selection(self, pick) -> Selection | None:
        if pick is None:
            return None
        group = self.scene.groups.get(pick.name)
        if pick.name == "graph" and group is not None:
            return Selection(pick.name, pick.index_in_tensor, pick.value, graph_note(group.layout, pick.voxel))
        if pick.name == "embedding.pca" and group is not None:
            label = group.layout.tags["labels"][pick.voxel]
            return Selection(pick.name, pick.index_in_tensor, None, f"token {label!r} in embedding PCA space")
        if group is not None and group.layout.pooled is not None:
            return Selection(pick.name, pick.index_in_tensor, pick.value,
                             f"{pick.name} pooled block {list(pick.index_in_tensor)} (mean {pick.value:.4f})")
        return Selection(pick.name, pick.index_in_tensor, pick.value)

    def on_hover(self, pick) -> None:
        self.controller.set_hover(self._selection(pick))

    def on_select(self, pick) -> None:
        sel = self._selection(pick)
        if sel is None:
            self.controller.select(None)
        else:
            self.controller.select(sel.name, sel.index, sel.value, sel.note)

    def on_key(self, symbol, modifiers) -> bool:
        c = self.controller
        if symbol == key.SPACE:
            c.toggle_play()
        elif symbol == key.RIGHT:
            c.step_by(1)
        elif symbol == key.LEFT:
            c.step_by(-1)
        elif symbol == key.Z and modifiers & (key.MOD_CTRL | key.MOD_COMMAND):
            c.undo()
        elif symbol == key.HOME:
            c.set_step(0)
        elif symbol == key.END:
            c.set_step(c.steps - 1)
        else:
            return False
        return True

    def on_quit(self) -> None:
        self.saved = self.controller.shutdown()
