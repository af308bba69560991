"""The window both app.py and demo.py run in: pyglet + moderngl + imgui on a pure black canvas.

It owns what any viewer needs (the GL context, the viz Renderer and Picker, camera controls,
hover and click picking, labels, F12 screenshots, a headless EGL mode, resizes of any size) and
hands the rest to a client object:

    client.scene                          the viz Scene to draw
    client.update(dt)                     once a frame, before drawing (poll, tick, sync)
    client.draw_ui(size)                  imgui panels, inside the frame's imgui frame
    client.on_hover(pick) / on_click(pick)   a viz.picking.Pick or None
    client.on_key(symbol, modifiers) -> bool  True when the client used the key
    client.scene_viewport(size) -> (x, y, w, h)  canvas area the scene is framed into (panels
                                          cover the rest), from the top-left

Call `prepare(headless)` before anything imports pyglet (HEADLESS_GL.md, traps 1 and 2).
"""
from __future__ import annotations

import datetime
import os
import time
from pathlib import Path

import numpy as np

MIN_DRAG_PX = 4          # a press that moves less than this is a click (select), not a look
SCREENSHOT_DIR = "screenshots"


def prepare(headless: bool) -> bool:
    """Set up pyglet/PyOpenGL for a display or for EGL; returns whether we run headless."""
    headless = headless or not os.environ.get("DISPLAY")
    if headless:
        os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    import pyglet
    if headless:
        pyglet.options["headless"] = True
    return headless


def off_centre(proj: np.ndarray, viewport: tuple[int, int, int, int], size: tuple[int, int]) -> np.ndarray:
    """Projection `proj` (made for the viewport's aspect) squeezed into `viewport` (x, y, w, h
    from the top-left) of a `size` canvas, so the scene is centred in the area panels leave free
    while still drawing (dimmed by nothing) under them."""
    W, H = size
    x, y, w, h = viewport
    sx, sy = w / W, h / H
    cx = 2.0 * (x + w / 2) / W - 1.0
    cy = 1.0 - 2.0 * (y + h / 2) / H
    squeeze = np.array([[sx, 0, 0, cx], [0, sy, 0, cy], [0, 0, 1, 0], [0, 0, 0, 1]], np.float64)
    return (squeeze @ np.asarray(proj, np.float64)).astype(np.float32)


class Shell:
    def __init__(self, client, size=(1280, 720), caption="TTM", headless=False, vsync=True):
        import imgui
        import pyglet
        from imgui.integrations.pyglet import create_renderer

        from viz import gl_context
        from viz.picking import Picker
        from viz.renderer import Renderer

        self.client = client
        self.headless = headless
        config = pyglet.gl.Config(red_size=8, green_size=8, blue_size=8, alpha_size=8,
                                  depth_size=24, double_buffer=True, major_version=3, minor_version=3)
        self.window = pyglet.window.Window(int(size[0]), int(size[1]), caption=caption,
                                           resizable=True, config=config, vsync=vsync,
                                           visible=not headless)
        self.ctx = gl_context.for_window()
        self.renderer = Renderer(self.ctx)
        self.picker = Picker(self.ctx)
        self.imgui_context = imgui.create_context()
        imgui.get_io().ini_file_name = None  # panels are placed by code; no imgui.ini litter
        self.imgui_renderer = create_renderer(self.window)
        self.keys = pyglet.window.key.KeyStateHandler()
        self.window.push_handlers(self.keys)
        self.window.push_handlers(on_key_press=self._on_key_press, on_mouse_press=self._on_mouse_press,
                                  on_mouse_release=self._on_mouse_release,
                                  on_mouse_drag=self._on_mouse_drag, on_mouse_scroll=self._on_mouse_scroll,
                                  on_mouse_motion=self._on_mouse_motion, on_close=self._on_close,
                                  on_resize=self._on_resize)
        self.closed = False
        self.frames = 0
        self.fps = 0.0
        self.frame_ms = 0.0
        self._mouse = None          # (x, y) from the top-left, for hover picking
        self._press = None
        self._dragged = False
        self._hover_dirty = False
        self._framed_aspect = None
        self._last_frame = None
        self.last_screenshot: Path | None = None

    # -- sizes and matrices ------------------------------------------------------------------
    @property
    def size(self) -> tuple[int, int]:
        return tuple(int(v) for v in self.window.get_framebuffer_size())

    def _viewport(self) -> tuple[int, int, int, int] | None:
        w, h = self.size
        if w < 2 or h < 2:
            return None
        vx, vy, vw, vh = self.client.scene_viewport((w, h))
        return vx, vy, max(int(vw), 1), max(int(vh), 1)

    def matrices(self):
        """(view, proj) for this frame, or None while the canvas has no area."""
        vp = self._viewport()
        if vp is None:
            return None
        camera = self.client.scene.camera
        proj = off_centre(camera.projection_matrix(vp[2] / vp[3]), vp, self.size)
        return camera.view_matrix(), proj

    def frame_all(self) -> None:
        """Fit every visible group into the free canvas area."""
        vp = self._viewport()
        box = self.client.scene.bbox()
        if vp is None or box is None:
            return
        camera, aspect = self.client.scene.camera, vp[2] / vp[3]
        camera.frame(box[0], box[1], aspect)   # orientation kept; near, far and speed to the box
        if abs(camera.yaw % 360) < 1e-6 and abs(camera.pitch) < 1e-6:
            # Looking straight at the canvas (the default): fit the front face itself rather than
            # the bounding sphere, which leaves a flat, wide layout small in the middle.
            lo, hi = np.asarray(box[0], np.float64), np.asarray(box[1], np.float64)
            half_y = np.tan(np.radians(camera.fov_y) / 2)
            half_w, half_h = (hi[0] - lo[0]) / 2 * 1.04, (hi[1] - lo[1]) / 2 * 1.04
            camera.distance = max(half_h / half_y, half_w / (half_y * aspect), 1.0) + (hi[2] - lo[2])
            camera.position = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, hi[2] + camera.distance])
        self._framed_aspect = aspect

    def frame_voxel(self, name: str, voxel: int) -> None:
        vp = self._viewport()
        if vp is None:
            return
        centre, half = self.client.scene.voxel_box(name, voxel)
        pad = half * 24  # a neighbourhood around the voxel, not the voxel alone
        self.client.scene.camera.frame(centre - pad, centre + pad, vp[2] / vp[3])

    def reset_camera(self) -> None:
        self.client.scene.camera.reset()
        self.frame_all()

    # -- events ------------------------------------------------------------------------------
    def _ui_wants(self, what: str) -> bool:
        import imgui
        io = imgui.get_io()
        return bool(io.want_capture_mouse if what == "mouse" else io.want_capture_keyboard)

    def _on_key_press(self, symbol, modifiers):
        from pyglet.window import key
        if symbol == key.ESCAPE:
            self.closed = True
            return True            # handled here: pyglet's default would close mid-frame
        if self._ui_wants("keyboard"):
            return True
        if symbol == key.F12:
            stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
            self.request_screenshot(Path(SCREENSHOT_DIR) / f"ttm-{stamp}.png")
            return True
        if self.client.on_key(symbol, modifiers):
            return True
        if symbol == key.F:
            sel = self.client.scene.selection
            self.frame_voxel(*sel) if sel else self.frame_all()
            return True
        if symbol == key.R:
            self.reset_camera()
            return True
        return False

    def _on_mouse_press(self, x, y, button, modifiers):
        if self._ui_wants("mouse"):
            return
        self._press = (x, y, button)
        self._dragged = False

    def _on_mouse_release(self, x, y, button, modifiers):
        from pyglet.window import mouse
        press, self._press = self._press, None
        if press is None or self._dragged or button != mouse.LEFT:
            return
        self.client.on_click(self.pick(x, self.window.height - y))

    def _on_mouse_drag(self, x, y, dx, dy, buttons, modifiers):
        from pyglet.window import mouse
        if self._press is None:
            return
        px, py, _ = self._press
        if abs(x - px) + abs(y - py) >= MIN_DRAG_PX:
            self._dragged = True
        camera = self.client.scene.camera
        if buttons & mouse.LEFT:
            camera.look(dx, dy)
        elif buttons & (mouse.RIGHT | mouse.MIDDLE):
            camera.orbit(camera.focus, -dx * camera.sensitivity, -dy * camera.sensitivity)

    def _on_mouse_scroll(self, x, y, scroll_x, scroll_y):
        if not self._ui_wants("mouse"):
            self.client.scene.camera.zoom(scroll_y)

    def _on_mouse_motion(self, x, y, dx, dy):
        self._mouse = (x, self.window.height - y)
        self._hover_dirty = True

    def _on_close(self):
        self.closed = True
        return True

    def _on_resize(self, width, height):
        # pyglet's own handler sets the GL viewport; a zero-area window just draws nothing.
        vp = self._viewport()
        if vp is None:
            return
        aspect = vp[2] / vp[3]
        if self._framed_aspect is None or abs(np.log(aspect / self._framed_aspect)) > 0.25:
            self.client.scene.relayout(aspect)
            self.frame_all()

    # -- picking -----------------------------------------------------------------------------
    def pick(self, x: float, y: float):
        """The voxel under window point (x, y) from the top-left (window units), or None."""
        m = self.matrices()
        if m is None:
            return None
        w, h = self.size
        scale = w / max(self.window.width, 1)  # framebuffer pixels per window unit (HiDPI)
        try:
            return self.picker.pick(self.renderer, self.client.scene, x * scale, y * scale, (w, h),
                                    view=m[0], proj=m[1])
        except IndexError:  # the scene changed between the draw and the pick
            return None

    # -- the frame ---------------------------------------------------------------------------
    def _fly(self, dt: float) -> None:
        from pyglet.window import key
        if self._ui_wants("keyboard"):
            return
        k = self.keys
        forward = k[key.W] - k[key.S]
        right = k[key.D] - k[key.A]
        up = k[key.E] - k[key.Q]
        if forward or right or up:
            self.client.scene.camera.fly(forward, right, up, dt,
                                         fast=k[key.LSHIFT] or k[key.RSHIFT])

    def draw(self, dt: float) -> None:
        import imgui
        t0 = time.perf_counter()
        self._fly(dt)
        self.client.update(dt)
        w, h = self.size
        self.ctx.clear(0.0, 0.0, 0.0, 1.0, depth=1.0)
        m = self.matrices()
        if m is not None:
            self.renderer.render(self.client.scene, (w, h), view=m[0], proj=m[1], clear=False)
            if self._hover_dirty and self._mouse is not None and not self._ui_wants("mouse"):
                self._hover_dirty = False
                self.client.on_hover(self.pick(*self._mouse))
        io = imgui.get_io()
        io.display_size = self.window.width, self.window.height
        imgui.new_frame()
        if m is not None:
            self._labels(m)
            self.client.draw_ui((self.window.width, self.window.height))
        imgui.render()
        self.imgui_renderer.render(imgui.get_draw_data())
        self.frames += 1
        now = time.perf_counter()
        self.frame_ms = 1000.0 * (now - t0)
        if self._last_frame is not None:
            interval = max(now - self._last_frame, 1e-6)
            self.fps = 0.9 * self.fps + 0.1 / interval if self.fps else 1.0 / interval
        self._last_frame = now

    def _labels(self, matrices) -> None:
        import imgui
        draw = imgui.get_background_draw_list()
        scale = self.window.width / max(self.size[0], 1)
        colour = imgui.get_color_u32_rgba(0.85, 0.85, 0.85, 1.0)
        for text, x, y in self.renderer.project_labels(self.client.scene, self.size,
                                                       view=matrices[0], proj=matrices[1]):
            draw.add_text(x * scale, y * scale - 16, colour, text)

    def read_pixels(self) -> np.ndarray:
        """(h, w, 3) uint8 of what was just drawn (the back buffer), top row first."""
        w, h = self.size
        data = self.ctx.screen.read(viewport=(0, 0, w, h), components=3)
        _ = self.ctx.error  # HEADLESS_GL.md trap 6: clear the error the read leaves queued
        return np.frombuffer(data, np.uint8).reshape(h, w, 3)[::-1].copy()

    def request_screenshot(self, path) -> None:
        self._screenshot_to = Path(path)

    def _save_screenshot(self) -> None:
        from viz import png
        path = getattr(self, "_screenshot_to", None)
        if path is None:
            return
        self._screenshot_to = None
        png.write(path, self.read_pixels())
        self.last_screenshot = path
        print(f"screenshot saved to {path}")

    def run(self, frames: int | None = None, screenshot=None, max_fps: float = 60.0) -> None:
        """Draw until closed (Esc or the window's close box), or for `frames` frames; then save
        `screenshot` of the last frame if given."""
        import pyglet
        if self._framed_aspect is None:
            self.frame_all()
        clock = pyglet.clock.get_default()
        last = time.perf_counter()
        while not self.closed and (frames is None or self.frames < frames):
            now = time.perf_counter()
            dt, last = now - last, now
            clock.tick()
            self.window.dispatch_events()
            if self.closed:
                break
            self.draw(dt)
            if frames is not None and self.frames == frames and screenshot:
                self.request_screenshot(screenshot)
            self._save_screenshot()
            self.window.flip()
            spare = 1.0 / max_fps - (time.perf_counter() - now)
            if spare > 0 and frames is None:
                time.sleep(spare)

    def close(self) -> None:
        import imgui
        self.imgui_renderer.shutdown()
        imgui.destroy_context(self.imgui_context)
        self.window.close()
