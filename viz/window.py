"""A pyglet window that shows a Scene with moderngl: fly, look, orbit, hover, select, screenshot,
and imgui panels on top (override `draw_ui`). The app and the demo subclass `Viewer`; the hooks
they override are grouped under "hooks for subclasses" below. The scene can be kept to a part of
the window (`scene_rect`), e.g. the area panels leave free: it is framed and centred there.

Frames are drawn on demand (viz.redraw): the event loop turns MAX_FPS times a second, and a turn
that finds nothing changed draws nothing. While the view moves, viz.adaptive lowers the detail to
hold a frame-rate target; a still picture is drawn at full detail.

Import this module before anything imports pyglet or imgui: with no DISPLAY it switches pyglet to
headless EGL and PyOpenGL (imgui's renderer) to EGL, which must happen first (HEADLESS_GL.md).

Controls: WASD fly, Q/E down/up, shift fast; left or right drag looks around; middle drag or
alt + left drag orbits the selection (or the point ahead); scroll zooms; left click selects;
F frames the selection's tensor (or everything); R resets the camera; F12 saves a screenshot;
Esc quits (calling `on_quit` first). Resizes to any size, zero included, are safe.
"""
from __future__ import annotations

import os
import time
from collections import deque
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
from PIL import Image  # noqa: E402
from pyglet.window import key, mouse  # noqa: E402

from viz import gl_calls, gl_context  # noqa: E402
from viz.adaptive import AdaptiveDetail, default_target  # noqa: E402
from viz.labels import fit_labels, stand_ins  # noqa: E402
from viz.lod import FULL_DETAIL  # noqa: E402
from viz.picking import Pick, Picker  # noqa: E402
from viz.redraw import MOVING, RedrawSchedule, camera_state  # noqa: E402
from viz.renderer import Renderer  # noqa: E402
from viz.scene import Scene  # noqa: E402

ORBIT_DEG_PER_PX = 0.3
CLICK_SLOP_PX = 4          # a press that moves less than this before release is a click, not a drag
LABEL_COLOUR = (0.85, 0.85, 0.85, 1.0)
MAX_FPS = 120              # turns of the event loop per second: held keys, clocks, snapshots looked at
DRAWING_EVENTS = frozenset({"on_draw", "on_refresh"})   # what drawing a frame dispatches: not input


def gl_config() -> pyglet.gl.Config:
    """RGBA8 + depth24, GL 3.3 core: headless pyglet otherwise may pick a 16-bit colour buffer."""
    return pyglet.gl.Config(red_size=8, green_size=8, blue_size=8, alpha_size=8, depth_size=24,
                            double_buffer=True, major_version=3, minor_version=3, forward_compatible=True)


class Viewer(pyglet.window.Window):
    def __init__(self, scene: Scene | None = None, width: int = 1280, height: int = 720,
                 caption: str = "TTM voxels", visible: bool = True, ui: bool = True, vsync: bool = False,
                 fps_target: float | None = None):
        self.redraw = RedrawSchedule()   # first: pyglet dispatches events while it makes the window
        super().__init__(width, height, caption, resizable=True, config=gl_config(), vsync=vsync,
                         visible=visible)
        self.ctx = gl_context.for_window()
        self.scene = scene if scene is not None else Scene(aspect=width / max(height, 1))
        self.renderer = Renderer(self.ctx)
        self.picker = Picker(self.ctx)
        self.adaptive = AdaptiveDetail(fps_target or default_target(gl_context.is_software(self.ctx)))
        self.detail = FULL_DETAIL    # of the frame being drawn
        self.hover: Pick | None = None
        self.selected: Pick | None = None
        self.keys = key.KeyStateHandler()
        self.push_handlers(self.keys)
        self.perf = {"fps": 0.0, "frame_ms": 0.0, "render_ms": 0.0}   # fps: frames drawn in the last second
        self.frames = 0              # frames drawn
        self._drawn_at: deque[float] = deque(maxlen=MAX_FPS)
        self._in_frame = False       # imgui's process_inputs ticks pyglet's clock, so pump can re-enter
        self._wake_owed = False      # a paced frame's wake-up is scheduled (pump)
        self.closed = False          # set once, when the window starts closing
        self.screenshot_dir = Path("screenshots")
        self._mouse = (0.0, 0.0)
        self._hover_dirty = False
        self._press: tuple[float, float, int] | None = None   # (x, y, button) of a press not yet a drag
        self._dragging = False
        self._untouched = True       # the camera is where frame_all put it: follow resizes
        self._screenshot_to: Path | None = None
        self.imgui = None
        self._text_sizes: dict[str, tuple[float, float]] = {}   # stand-ins' boxes, by text
        if ui:
            imgui.create_context()
            imgui.get_io().ini_file_name = None   # no imgui.ini dropped in the working directory
            self.imgui = create_renderer(self)    # its handlers go on top: they see events first

    # -- hooks for subclasses ------------------------------------------------------------------
    def update(self, dt: float) -> bool:
        """App work on every turn of the event loop; True when what the window shows changed
        (a frame is drawn then). Nothing here."""
        return False

    def draw_ui(self) -> None:
        """imgui widgets over the scene; the default draws group labels and the hover tooltip."""
        self.draw_labels()
        if self.hover is not None and not self._dragging:
            h = self.hover
            imgui.begin_tooltip()
            imgui.text(f"{h.name}[{', '.join(map(str, h.index_in_tensor))}] = {h.value:.5g}")
            imgui.end_tooltip()

    def scene_rect(self, width: int, height: int) -> tuple[float, float, float, float]:
        """(x, y, w, h) in window units from the top-left: where the scene is drawn and framed
        in a window of that size (the whole window here; panels may claim the rest)."""
        return 0, 0, width, height

    def on_select(self, pick: Pick | None) -> None:
        """Called when a click selects a voxel (or the background: None)."""

    def on_hover(self, pick: Pick | None) -> None:
        """Called when the voxel under the mouse was looked up again (None: background)."""

    def on_key(self, symbol: int, modifiers: int) -> bool:
        """A key imgui did not take, before the viewer's own (F, R, F12, Esc): True if used."""
        return False

    def on_quit(self) -> None:
        """Called once as the window closes (Esc, the close box, close()), GL still alive."""

    # -- camera ------------------------------------------------------------------------------
    def focus_box(self):
        """(lo, hi) of what F (with nothing selected) and the first framing show: everything."""
        return self.scene.bbox()

    def frame_all(self) -> None:
        box = self.focus_box()
        if box is not None:
            self.frame_box(*box)
        self._untouched = True

    def frame_selection(self) -> None:
        sel = self.scene.selection
        if sel is None or sel[0] not in self.scene or not self.scene[sel[0]].visible:
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

    def reset_camera(self) -> None:
        """The starting orientation, everything framed."""
        self.scene.camera.reset()
        self.frame_all()

    def _orbit_target(self) -> np.ndarray:
        sel = self.scene.selection
        if sel is not None and sel[0] in self.scene and self.scene[sel[0]].visible:
            return self.scene.voxel_box(*sel)[0]
        return self.scene.camera.focus

    def viewport(self) -> tuple[int, int, int, int] | None:
        """`scene_rect` in framebuffer pixels (x, y, w, h from the top-left), at least one pixel
        and inside the framebuffer; None while the window has no area."""
        fw, fh = self.get_framebuffer_size()
        ww, wh = self.get_size()
        if fw <= 0 or fh <= 0 or ww <= 0 or wh <= 0:
            return None
        r = fw / ww
        x, y, w, h = (float(v) * r for v in self.scene_rect(ww, wh))
        x = min(max(int(round(x)), 0), fw - 1)
        y = min(max(int(round(y)), 0), fh - 1)
        return x, y, min(max(int(round(w)), 1), fw - x), min(max(int(round(h)), 1), fh - y)

    def _aspect(self) -> float:
        vp = self.viewport()
        return vp[2] / vp[3] if vp is not None else 16 / 9

    # -- input -------------------------------------------------------------------------------
    def dispatch_event(self, event_type, *args):
        if event_type not in DRAWING_EVENTS:
            self.redraw.input()
        return super().dispatch_event(event_type, *args)

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
            return pyglet.event.EVENT_HANDLED    # typing in a panel; Esc there leaves the field
        if self.on_key(symbol, modifiers):
            pass
        elif symbol == key.F:
            self.frame_selection()
        elif symbol == key.R:
            self.reset_camera()
        elif symbol == key.F12:
            self.save_screenshot()
        else:
            return super().on_key_press(symbol, modifiers)   # Escape closes
        return pyglet.event.EVENT_HANDLED

    def on_resize(self, width, height):
        # pyglet's own handler sets a viewport for its 2-D drawing; the renderer sets its own
        vp = self.viewport()
        if vp is not None and self._untouched:
            aspect = vp[2] / vp[3]
            if abs(np.log(aspect / self.scene.aspect)) > 0.05:
                self.scene.relayout(aspect)
            self.frame_all()
        return pyglet.event.EVENT_HANDLED

    # -- per frame ---------------------------------------------------------------------------
    def pick_at(self, x: float, y: float) -> Pick | None:
        """The voxel under window point (x, y) (pyglet coordinates: from the bottom-left)."""
        vp = self.viewport()
        if vp is None:
            return None
        r, h = self._pixel_ratio(), self.get_framebuffer_size()[1]
        vx, vy, vw, vh = vp
        return self.picker.pick(self.renderer, self.scene, x * r - vx, h - 1 - y * r - vy, (vw, vh))

    def tick(self, dt: float) -> bool:
        """Held keys fly the camera, then the app updates; True when the app's picture changed."""
        if not self._ui_wants("want_capture_keyboard"):
            k = self.keys
            forward = k[key.W] - k[key.S]
            right = k[key.D] - k[key.A]
            up = k[key.E] - k[key.Q]
            if forward or right or up:
                self.scene.camera.fly(forward, right, up, dt, fast=k[key.LSHIFT] or k[key.RSHIFT])
                self._untouched = False
                self._hover_dirty = True
        return bool(self.update(dt))

    def pump(self, dt: float) -> bool:
        """One turn of the event loop: tick, then draw a frame only if one is due (viz.redraw);
        True when it drew."""
        if self._in_frame or self.closed:
            return False
        changed = self.tick(dt)
        reason = self.redraw.due(camera_state(self.scene.camera),
                                 changed=changed or self._screenshot_to is not None,
                                 typing=self._ui_wants("want_text_input"),
                                 still_owed=self.adaptive.still_frame_owed())
        if reason is None:
            return False
        moving = reason in MOVING
        if moving:                  # paced: moving frames come at the target rate, no faster
            wait = self.adaptive.wait_s()
            if wait > 0:
                if wait < 1 / MAX_FPS and not self._wake_owed:   # due before the next turn: wake for it
                    self._wake_owed = True
                    pyglet.clock.schedule_once(self._wake, wait)
                return False
        self.draw_frame(dt, moving=moving)
        return True

    def _wake(self, _dt: float) -> None:
        """A paced frame's moment, between two turns of the loop. The camera keeps to the
        turns' clock (dt 0 here), so held keys move it once for each stretch of time."""
        self._wake_owed = False
        self.pump(0.0)

    def draw_frame(self, dt: float, moving: bool = False) -> None:
        """Draw and flip one frame at the detail viz.adaptive picks, and hand it the frame's cost."""
        start = time.perf_counter()
        self._in_frame = True
        try:
            self.detail = self.adaptive.begin(moving, full=self._screenshot_to is not None)
            self.switch_to()
            self.on_draw()          # called, not dispatched: outside pyglet's loop it would queue
            self.flip()
            gl_calls.finish()       # a CPU rasterizer works on after the calls return: count it
        finally:
            self._in_frame = False
        now = time.perf_counter()
        self.adaptive.end(1000.0 * (now - start))
        self.redraw.drawn(camera_state(self.scene.camera))
        self._drawn_at.append(now)
        self.perf["frame_ms"] = 1000.0 * (now - start)
        self.perf["fps"] = float(sum(t > now - 1.0 for t in self._drawn_at))

    def on_draw(self):
        now = time.perf_counter()
        w, h = self.get_framebuffer_size()
        vp = self.viewport()
        if vp is None or self.closed:   # minimized, resized to nothing, or on its way out
            return
        self.frames += 1
        self.ctx.screen.use()
        if self._hover_dirty and not self._dragging:
            self.hover = self.pick_at(*self._mouse)
            self.scene.hover = None if self.hover is None else (self.hover.name, self.hover.voxel)
            self._hover_dirty = False
            self.on_hover(self.hover)
        self.renderer.render(self.scene, (w, h), viewport=vp, detail=self.detail)
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

    def draw_labels(self) -> None:
        """Each visible group's label above its top-left corner, cut short where the next begins."""
        vp = self.viewport()
        if vp is None:
            return
        ratio, line = self._pixel_ratio(), imgui.get_text_line_height()
        labels = [(text, x / ratio, y / ratio - line) for text, x, y in
                  self.renderer.project_labels(self.scene, self.get_framebuffer_size(), viewport=vp)]
        draw_list = imgui.get_background_draw_list()
        colour = imgui.get_color_u32_rgba(*LABEL_COLOUR)
        taken = []
        for text, x, y in fit_labels(labels, lambda t: imgui.calc_text_size(t).x, line,
                                     (vp[0] + vp[2]) / ratio):
            draw_list.add_text(x, y, colour, text)
            size = imgui.calc_text_size(text)
            taken.append((x, y, size.x, size.y))
        self._draw_stand_ins(vp, ratio, draw_list, taken)

    def _draw_stand_ins(self, vp, ratio: float, draw_list, taken) -> None:
        """Scene text that reads too small (a graph's names from afar) again in the window's font,
        on a dark box that hides the blur under it, where it has room (viz.labels.stand_ins)."""
        rows = self.renderer.project_text(self.scene, self.get_framebuffer_size(), viewport=vp)
        if not rows:
            return
        labels = [(lb.text, x / ratio, y / ratio, cap / ratio, lb.align, lb.valign) for lb, x, y, cap in rows]
        inside = (vp[0] / ratio, vp[1] / ratio, (vp[0] + vp[2]) / ratio, (vp[1] + vp[3]) / ratio)
        back = imgui.get_color_u32_rgba(0.0, 0.0, 0.0, 0.8)
        for i, left, top, w, h in stand_ins(labels, self._text_size, inside, taken):
            draw_list.add_rect_filled(left - 1, top, left + w + 1, top + h, back)
            draw_list.add_text(left, top, imgui.get_color_u32_rgba(*rows[i][0].colour, 1.0), labels[i][0])

    def _text_size(self, text: str) -> tuple[float, float]:
        """A stand-in's box, measured once per text: the names of a graph are a fixed few hundred."""
        size = self._text_sizes.get(text)
        if size is None:
            if len(self._text_sizes) > 4096:       # another graph or model each time: start again
                self._text_sizes.clear()
            got = imgui.calc_text_size(text)
            size = self._text_sizes[text] = (got.x, got.y)
        return size

    def save_screenshot(self, path=None) -> Path:
        """Ask for a PNG of the next drawn frame (scene and panels); returns where it will go."""
        path = Path(path) if path else self.screenshot_dir / time.strftime("ttm-%Y%m%d-%H%M%S.png")
        self._screenshot_to = path
        return path

    def _write_screenshot(self, path: Path, size) -> None:
        w, h = size
        data = self.ctx.screen.read(viewport=(0, 0, w, h), components=3)
        _ = self.ctx.error            # screen.read leaves GL_INVALID_OPERATION queued (trap 6)
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.frombuffer(data, np.uint8).reshape(h, w, 3)[::-1]).save(path, format="PNG")
        print(f"screenshot: {path}")

    def _pixel_ratio(self) -> float:
        w = self.get_size()[0]
        return self.get_framebuffer_size()[0] / w if w > 0 else 1.0

    # -- running -----------------------------------------------------------------------------
    def run_frames(self, frames: int, dt: float = 1 / 60, screenshot=None) -> None:
        """Drive the window by hand (headless runs, tests): events, tick, draw, flip, a frame
        each time, due or not; stops early when the window closes. `screenshot`: a PNG of the
        last frame goes there."""
        for i in range(frames):
            if screenshot is not None and i == frames - 1:
                self.save_screenshot(screenshot)
            self.switch_to()
            self.dispatch_events()
            if self.closed:
                return
            self.tick(dt)
            self.draw_frame(dt)

    def run(self) -> None:
        """pyglet's event loop, until the window closes: `pump` MAX_FPS times a second, and
        nothing in between but waiting for events."""
        pyglet.clock.schedule_interval(self.pump, 1 / MAX_FPS)
        try:
            pyglet.app.run(None)
        finally:
            pyglet.clock.unschedule(self.pump)

    def on_close(self):
        self.close()
        return pyglet.event.EVENT_HANDLED

    def close(self):
        """Call on_quit, then let go of imgui and the window; safe to call more than once."""
        if self.closed:
            return
        self.closed = True
        self.on_quit()
        pyglet.clock.unschedule(self.pump)
        pyglet.clock.unschedule(self._wake)
        if self.imgui is not None:
            self.imgui.shutdown()
            self.imgui = None
        super().close()
