"""What app.py and demo.py show in the Shell: a Scene kept in step with a Controller, picks
turned into hover / selection, and the keys both share (space, arrows, Ctrl+Z)."""
from __future__ import annotations

from studio.controller import Controller, Selection
from studio.panels import Panels, Perf, scene_viewport
from studio.view import SceneSync, ViewOptions
from viz.scene import Scene


def graph_note(layout, voxel: int) -> str:
    """"node linear_3: call_module process.blocks.0.attn.qkv -> (1, 8, 96), process stage"."""
    tags = layout.tags
    shape = tags["shapes"][voxel]
    return (f"graph node {tags['names'][voxel]}: {tags['ops'][voxel]} {tags['targets'][voxel]}"
            f"{f' -> {tuple(shape)}' if shape else ''}, {tags['groups'][voxel]} stage")


class TraceClient:
    """The Shell's client (see studio.shell) for a Controller's trace."""

    def __init__(self, controller: Controller, graph=None, options: ViewOptions | None = None):
        self.controller = controller
        self.scene = Scene()
        self.sync = SceneSync(self.scene, controller, graph=graph, options=options)
        self.shell = None            # set by attach()
        self.panels: Panels | None = None
        self._framed = False

    def attach(self, shell) -> None:
        self.shell = shell
        if self.panels is not None:
            self.panels.on_frame = shell.frame_all
            self.panels.on_reset_camera = shell.reset_camera
            self.panels.lod = shell.renderer.lod

    # -- the Shell's hooks -------------------------------------------------------------------
    def update(self, dt: float) -> None:
        c = self.controller
        c.poll()
        c.tick(dt)
        if self.sync.update() and self.sync.layouts_changed and self.shell is not None:
            vp = self.shell._viewport()
            if vp is not None:
                self.scene.relayout(vp[2] / vp[3])
            if not self._framed or self._moved_out():
                self.shell.frame_all()
                self._framed = True

    def _moved_out(self) -> bool:
        """True when a layout change left the camera looking at nothing (e.g. groups re-packed)."""
        box = self.scene.bbox()
        if box is None:
            return False
        cam = self.scene.camera
        centre = (box[0] + box[1]) / 2
        return float(((centre - cam.position) * cam.forward).sum()) <= 0

    def scene_viewport(self, size):
        return scene_viewport(size)

    def perf(self) -> Perf:
        s = self.shell.renderer.stats
        return Perf(fps=self.shell.fps, frame_ms=self.shell.frame_ms,
                    voxels=s.cubes + s.sprites + s.slab_voxels, cubes=s.cubes, sprites=s.sprites,
                    slab_voxels=s.slab_voxels, draw_calls=s.draw_calls, render_ms=s.cpu_ms)

    def draw_ui(self, size) -> None:
        if self.panels is not None:
            self.panels.draw(size, self.perf())

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
        sel = self._selection(pick)
        self.controller.hover = sel
        self.scene.hover = (pick.name, pick.voxel) if pick else None

    def on_click(self, pick) -> None:
        sel = self._selection(pick)
        if sel is None:
            self.controller.select(None)
        else:
            self.controller.select(sel.name, sel.index, sel.value, sel.note)
            self.scene.selection = (pick.name, pick.voxel)

    def on_key(self, symbol, modifiers) -> bool:
        from pyglet.window import key
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
