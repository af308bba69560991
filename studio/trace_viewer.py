"""The window app.py and demo.py run in: a viz Viewer whose Scene is kept in step with a
Controller, the panels around the scene (which is framed in the area they leave free), picks
turned into hover / selection, and the keys both share (space, arrows, Ctrl+Home/End, Ctrl+Z, F,
G, Home, Tab). The scene is laid out as a flow or a grid (studio.layouts); studio.navigation moves
the camera.

Import it after deciding on headless mode: viz.window reads DISPLAY when first imported.
"""
from __future__ import annotations

import math

from viz.window import HEADLESS, Viewer  # first: it sets pyglet up before pyglet is imported

import imgui  # noqa: E402, I001
from pyglet.window import key  # noqa: E402

from studio.compare_panel import ComparePanel  # noqa: E402
from studio.controller import Controller  # noqa: E402
from studio.flow_view import FlowSync, step_of  # noqa: E402
from studio.layouts import make_view  # noqa: E402
from studio.navigation import Navigator  # noqa: E402
from studio.panel_frame import scene_viewport  # noqa: E402
from studio.panels import Panels, Perf  # noqa: E402
from studio.picks import selection_of  # noqa: E402
from studio.view import ViewOptions  # noqa: E402
from studio.window_size import HEADLESS_SIZE  # noqa: E402

# While the camera moves, a live view takes a new snapshot at most this often: each costs the
# frame it lands in a re-layout (20 ms on the 2-core CPU), which would make every 30th frame late.
# The newest is shown as soon as the camera stops.
LIVE_WHILE_MOVING_S = 2.0


def screen_size() -> tuple[int, int]:
    """The default screen's size (headless: HEADLESS_SIZE): a window that gives the scene room."""
    if HEADLESS:
        return HEADLESS_SIZE
    import pyglet
    screen = pyglet.display.get_display().get_default_screen()
    return screen.width, screen.height


class TraceViewer(Viewer):
    """A Controller's trace in 3-D with the app's panels; `on_quit` stops the trainer (which saves)."""

    def __init__(self, controller: Controller, graph=None, options: ViewOptions | None = None,
                 size: tuple[int, int] | None = (1280, 720), caption: str = "Token Turing Machine",
                 fps_target: float | None = None, layout: str = "flow", **panel_options):
        scene, sync = make_view(layout, controller, graph=graph, options=options)
        fill_screen, size = size is None, size or screen_size()
        super().__init__(scene, int(size[0]), int(size[1]), caption=caption,
                         visible=not HEADLESS, vsync=not HEADLESS, fps_target=fps_target)
        if fill_screen and not HEADLESS:
            self.maximize()
        self.controller = controller
        self.sync = sync
        self.nav = Navigator(self)
        self.compare_panel = ComparePanel(controller, sync) if isinstance(sync, FlowSync) else None
        self.panels_shown = True     # Tab hides the panels: the scene takes the whole window
        self.panels = Panels(controller, self.sync, on_frame=self.frame_all,
                             on_reset_camera=self.reset_camera, on_graph=self.nav.graph,
                             lod=self.renderer.lod, **panel_options)
        self.saved = None            # the checkpoint written when the window closed, if any
        self._framed = False
        self._training_state = None  # (snapshots, error) when update last looked: panels show them
        self._live_shown_at = -math.inf   # when a snapshot last reached the view

    # -- the Viewer's hooks ------------------------------------------------------------------
    def update(self, dt: float) -> bool:
        c = self.controller
        now = self.adaptive.clock()
        shown = c.viewed_entry
        c.poll(show_newest=not self.adaptive.in_motion or now - self._live_shown_at >= LIVE_WHILE_MOVING_S)
        if c.viewed_entry is not shown:
            self._live_shown_at = now
        c.tick(dt)
        changed = self.sync.update()
        if changed and self.sync.layouts_changed:
            self.scene.relayout(self._aspect())
            follows = isinstance(self.sync, FlowSync)   # the flow's camera follows the steps itself
            if not self._framed or (not follows and (self._untouched or self._moved_out())):
                self.frame_all()
                self._framed = True
        self.nav.update(dt)
        training = (c.snapshots_received, c.training_error)
        changed |= training != self._training_state
        self._training_state = training
        return changed

    def focus_box(self):
        """What the view is about: the current step of a flow, else everything."""
        return self.sync.focus_box()

    def _moved_out(self) -> bool:
        """True when a layout change left the camera looking at nothing (e.g. groups re-packed)."""
        box = self.scene.bbox()
        if box is None:
            return False
        cam = self.scene.camera
        centre = (box[0] + box[1]) / 2
        return float(((centre - cam.position) * cam.forward).sum()) <= 0

    def scene_rect(self, width: int, height: int):
        return scene_viewport((width, height)) if self.panels_shown else (0, 0, width, height)

    def draw_ui(self) -> None:
        self.draw_labels()
        if self.panels_shown:
            self.draw_panels()
        self.draw_compare_panel()
        hover = self.controller.hover
        if hover is not None and hover.name == "graph":
            # Framed whole (G), a node's name is a few pixels tall: say it at the cursor.
            imgui.set_tooltip(hover.note)

    def draw_panels(self) -> None:
        self.panels.draw(self.get_size(), self.measured())

    def draw_compare_panel(self) -> None:
        """The flow layout's compare panel, in the scene's bottom-right corner (folded at first)."""
        if self.compare_panel is not None:
            self.compare_panel.draw(self.scene_rect(*self.get_size()))

    def compare_with(self, problem: str) -> None:
        """Compare the trace on view with another problem ("38x42"), in the flow layout;
        studio.input_parse.InputError when it is no problem this model takes."""
        if not isinstance(self.sync, FlowSync):
            raise ValueError("comparing needs the flow layout (--layout flow)")
        self.sync.compare.set_problem(problem, self.controller.trace.config.max_digits)

    def measured(self) -> Perf:
        s = self.renderer.stats
        return Perf(fps=self.perf["fps"], frame_ms=self.perf["frame_ms"], cubes=s.cubes,
                    sprites=s.sprites, slab_voxels=s.slab_voxels, draw_calls=s.draw_calls,
                    render_ms=s.cpu_ms, adaptive=self.adaptive)

    def on_hover(self, pick) -> None:
        self.controller.set_hover(selection_of(self.scene, pick))
        if isinstance(self.sync, FlowSync):
            self.sync.hover(None if pick is None else pick.name, None if pick is None else pick.voxel)

    def on_select(self, pick) -> None:
        if pick is not None and step_of(pick.name) is not None:   # a dim step: go to it
            self.controller.set_step(step_of(pick.name))
            return
        sel = selection_of(self.scene, pick)
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
        elif symbol == key.HOME and modifiers & key.MOD_CTRL:
            c.set_step(0)
        elif symbol == key.END:
            c.set_step(c.steps - 1)
        elif symbol == key.HOME:
            self.nav.home()
        elif symbol == key.F:
            self.nav.frame()
        elif symbol == key.G:
            self.nav.graph()
        elif symbol == key.TAB:
            self.panels_shown = not self.panels_shown
            self.on_resize(*self.get_size())
        else:
            return False
        return True

    def on_quit(self) -> None:
        self.saved = self.controller.shutdown()
