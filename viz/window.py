"""A pyglet window that shows a Scene with moderngl: fly, look, orbit, hover, select, screenshot,
and imgui panels on top (override `draw_ui`). The app and the demo subclass `Viewer`.

Import this module before anything imports pyglet or imgui: with no DISPLAY it switches pyglet to
headless EGL and PyOpenGL (imgui's renderer) to EGL, which must happen first (HEADLESS_GL.md).

Controls: WASD fly, Q/E down/up, shift fast; left or right drag looks around; middle drag or
alt + left drag orbits the selection (or the point ahead); scroll zooms; left click selects;
F frames the selection's tensor (or everything); R resets the camera; F12 saves a screenshot.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

HEADLESS = not os.environ.get("DISPLAY")
if HEADLESS:
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

import pyglet  # noqa: E402

if HEADLESS:
    pyglet.options["headless"] = True

import imgui  # noqa: E402
import numpy as np  # noqa: E402
from imgui.integrations.pyglet import create_renderer  # noqa: E402
from pyglet.window import key, mouse  # noqa: E402

from viz import gl_context, png  # noqa: E402
from viz.picking import Pick, Picker  # noqa: E402
from viz.renderer import Renderer  # noqa: E402
from viz.scene import Scene  # noqa: E402

ORBIT_DEG_PER_PX = 0.3
CLICK_SLOP_PX = 4          # a press that moves less than this before release is a click, not a drag
LABEL_COLOUR = (0.85, 0.85, 0.85, 1.0)


def gl_config() -> pyglet.gl.Config:
    """RGBA8 + depth24, GL 3.3 core: headless pyglet otherwise may pick a 16-bit colour buffer."""
    return pyglet.gl.Config(red_size=8, green_size=8, blue_size=8, alpha_size=8, depth_size=24,
                            double_buffer=True, major_version=3, minor_version=3, forward_compatible=True)


class Viewer(pyglet.window.Window):
    def __init__(self, scene: Scene | None = None, width: int = 1280, height: int = 720,
                 caption: str = "TTM voxels", visible: bool = True, ui: bool = True, vsync: bool = False):
        super().__init__(width, height, caption, resizable=True, config=gl_config(), vsync=vsync,
                         visible=visible)
        self.ctx = gl_context.for_window()
        self.scene = scene if scene is not None else Scene(aspect=width / max(height, 1))
        self.renderer = Renderer(self.ctx)
        self.picker = Picker(self.ctx)
        self.hover: Pick | None = None
        self.selected: Pick | None = None
        self.keys = key.KeyStateHandler()
        self.push_handlers(self.keys)
        self.perf = {"fps": 0.0, "frame_ms": 0.0, "render_ms": 0.0}
        self.screenshot_dir = Path("screenshots")
        self._mouse = (0.0, 0.0)
        self._hover_dirty = False
        self._press: tuple[float, float, int] | None = None   # (x, y, button) of a press not yet a drag
        self._dragging = False
        self._untouched = True       # the camera is where frame_all put it: follow resizes
        self._last_draw = time.perf_counter()
        self._screenshot_to: Path | None = None
        self.imgui = None
        if ui:
            imgui.create_context()
            imgui.get_io().ini_file_name = None   # no imgui.ini dropped in the working directory
            self.imgui = create_renderer(self)    # its handlers go on top: they see events first
        pyglet.clock.schedule(self.tick)

    # -- hooks for subclasses ------------------------------------------------------------------
    def update(self, dt: float) -> None:
        """Per-frame app work before drawing (nothing here)."""

    def draw_ui(self) -> None:
        """imgui widgets over the scene; the default draws group labels and the hover tooltip."""
        ratio = self._pixel_ratio()
        draw_list = imgui.get_background_draw_list()
        colour = imgui.get_color_u32_rgba(*LABEL_COLOUR)
        for text, x, y in self.renderer.project_labels(self.scene, self.get_framebuffer_size()):
            draw_list.add_text(x / ratio, y / ratio - imgui.get_text_line_height(), colour, text)
        if self.hover is not None and not self._dragging:
            h = self.hover
            imgui.begin_tooltip()
            imgui.text(f"{h.name}[{', '.join(map(str, h.index_in_tensor))}] = {h.value:.5g}")
            imgui.end_tooltip()

    def on_select(self, pick: Pick | None) -> None:
        """Called when a click selects a voxel (or the background: None)."""

    # -- camera ------------------------------------------------------------------------------
    def frame_all(self) -> None:
        box = self.scene.bbox()
        if box is not None:
            self.frame_box(*box)
        self._untouched = True

    def frame_selection(self) -> None:
        sel = self.scene.selection
        if sel is None or sel[0] not in self.scene:
            self.frame_all()
            return
        p = self.scene[sel[0]].placement
        self.frame_box(p.bbox_min, p.bbox_max)
        self._untouched = False

    def frame_box(self, lo, hi, margin: float = 1.08) -> None:
        """Keep the view direction and come as close as the box's 8 corners allow: Camera.frame
        fits the bounding sphere (and sets near, far, speed, reset), which leaves a wide border."""
        cam, aspect = self.scene.camera, self._aspect()
        cam.frame(lo, hi, aspect)
        lo, hi = np.asarray(lo, float), np.asarray(hi, float)
        centre = (lo + hi) / 2
        corners = np.array([[(lo, hi)[(i >> a) & 1][a] for a in range(3)] for i in range(8)]) - centre
        x, y, z = corners @ cam.right, corners @ cam.up, corners @ cam.forward
        ty = np.tan(np.radians(cam.fov_y) / 2) / margin
        # a corner at depth d + z fits when |x| <= tx (d + z) and |y| <= ty (d + z)
        d = float(np.max(np.maximum(np.abs(x) / (ty * aspect), np.abs(y) / ty) - z))
        d = max(d, cam.near * 2)
        cam.position = centre - cam.forward * d
        cam.distance = d

    def _orbit_target(self) -> np.ndarray:
        sel = self.scene.selection
        if sel is not None and sel[0] in self.scene:
            return self.scene.voxel_box(*sel)[0]
        return self.scene.camera.focus

    def _aspect(self) -> float:
        w, h = self.get_framebuffer_size()
        return w / h if w > 0 and h > 0 else 16 / 9

    # -- input -------------------------------------------------------------------------------
    def _ui_wants(self, what: str) -> bool:
        return self.imgui is not None and getattr(imgui.get_io(), what)

    def on_mouse_motion(self, x, y, dx, dy):
        self._mouse = (x, y)
        self._hover_dirty = True

    def on_mouse_press(self, x, y, button, modifiers):
        if self._ui_wants("want_capture_mouse"):
            return
        self._press = (x, y, button)
        self._dragging = False

    def on_mouse_drag(self, x, y, dx, dy, buttons, modifiers):
        self._mouse = (x, y)
        if self._press is None:   # the press went to imgui
            return
        px, py, _ = self._press
        if not self._dragging and abs(x - px) + abs(y - py) < CLICK_SLOP_PX:
            return
        self._dragging = True
        self._untouched = False
        cam = self.scene.camera
        if buttons & mouse.MIDDLE or (buttons & mouse.LEFT and modifiers & key.MOD_ALT):
            cam.orbit(self._orbit_target(), dx * ORBIT_DEG_PER_PX, dy * ORBIT_DEG_PER_PX)
        elif buttons & (mouse.LEFT | mouse.RIGHT):
            cam.look(dx, dy)

    def on_mouse_release(self, x, y, button, modifiers):
        press, self._press = self._press, None
        was_drag, self._dragging = self._dragging, False
        self._hover_dirty = True
        if press is None or was_drag or button != mouse.LEFT:
            return
        pick = self.pick_at(x, y)
        self.selected = pick
        self.scene.selection = None if pick is None else (pick.name, pick.voxel)
        self.on_select(pick)

    def on_mouse_scroll(self, x, y, scroll_x, scroll_y):
        if self._ui_wants("want_capture_mouse"):
            return
        self.scene.camera.zoom(scroll_y)
        self._untouched = False
        self._hover_dirty = True

    def on_key_press(self, symbol, modifiers):
        if self._ui_wants("want_capture_keyboard"):
            return
        if symbol == key.F:
            self.frame_selection()
        elif symbol == key.R:
            self.scene.camera.reset()
            self._untouched = False
        elif symbol == key.F12:
            self.save_screenshot()
        else:
            return super().on_key_press(symbol, modifiers)   # Escape closes
        return pyglet.event.EVENT_HANDLED

    def on_resize(self, width, height):
        # pyglet's own handler sets a viewport for its 2-D drawing; the renderer sets its own
        if width > 0 and height > 0:
            aspect = width / height
            if self._untouched and abs(np.log(aspect / self.scene.aspect)) > 0.05:
                self.scene.relayout(aspect)
                self.frame_all()
        return pyglet.event.EVENT_HANDLED

    # -- per frame ---------------------------------------------------------------------------
    def pick_at(self, x: float, y: float) -> Pick | None:
        """The voxel under window point (x, y) (pyglet coordinates: from the bottom-left)."""
        w, h = self.get_framebuffer_size()
        if w <= 0 or h <= 0:
            return None
        r = self._pixel_ratio()
        return self.picker.pick(self.renderer, self.scene, x * r, h - 1 - y * r, (w, h))

    def tick(self, dt: float) -> None:
        if not self._ui_wants("want_capture_keyboard"):
            k = self.keys
            forward = k[key.W] - k[key.S]
            right = k[key.D] - k[key.A]
            up = k[key.E] - k[key.Q]
            if forward or right or up:
                self.scene.camera.fly(forward, right, up, dt, fast=k[key.LSHIFT] or k[key.RSHIFT])
                self._untouched = False
                self._hover_dirty = True
        self.update(dt)

    def on_draw(self):
        now = time.perf_counter()
        dt, self._last_draw = now - self._last_draw, now
        self.perf["frame_ms"] = 1000.0 * dt
        self.perf["fps"] = 0.9 * self.perf["fps"] + 0.1 / max(dt, 1e-6)
        w, h = self.get_framebuffer_size()
        if w <= 0 or h <= 0:          # minimized or resized to nothing
            return
        self.ctx.screen.use()
        if self._hover_dirty and not self._dragging:
            self.hover = self.pick_at(*self._mouse)
            self.scene.hover = None if self.hover is None else (self.hover.name, self.hover.voxel)
            self._hover_dirty = False
        self.renderer.render(self.scene, (w, h))
        self.perf["render_ms"] = 1000.0 * (time.perf_counter() - now)
        if self.imgui is not None:
            self.imgui.process_inputs()
            imgui.new_frame()
            self.draw_ui()
            imgui.render()
            self.imgui.render(imgui.get_draw_data())
        if self._screenshot_to is not None:
            self._write_screenshot(self._screenshot_to, (w, h))
            self._screenshot_to = None

    def save_screenshot(self, path=None) -> Path:
        """Ask for a PNG of the next drawn frame (scene and panels); returns where it will go."""
        path = Path(path) if path else self.screenshot_dir / time.strftime("ttm-%Y%m%d-%H%M%S.png")
        self._screenshot_to = path
        return path

    def _write_screenshot(self, path: Path, size) -> None:
        w, h = size
        data = self.ctx.screen.read(viewport=(0, 0, w, h), components=3)
        _ = self.ctx.error            # screen.read leaves GL_INVALID_OPERATION queued (trap 6)
        png.write(path, np.frombuffer(data, np.uint8).reshape(h, w, 3)[::-1])
        print(f"screenshot: {path}")

    def _pixel_ratio(self) -> float:
        w = self.get_size()[0]
        return self.get_framebuffer_size()[0] / w if w > 0 else 1.0

    # -- running -----------------------------------------------------------------------------
    def run_frames(self, frames: int, dt: float = 1 / 60) -> None:
        """Drive the window by hand (headless runs, tests): events, tick, draw, flip."""
        for _ in range(frames):
            self.switch_to()
            self.dispatch_events()
            self.tick(dt)
            self.on_draw()
            self.flip()

    def run(self) -> None:
        pyglet.app.run(1 / 120)

    def on_close(self):
        pyglet.clock.unschedule(self.tick)
        if self.imgui is not None:
            self.imgui.shutdown()
            self.imgui = None
        super().on_close()
