"""Redraw on demand: the window draws a frame only when something changed, and otherwise sleeps,
so a view nobody touches leaves the cores to the trainer.

A frame is due when input arrived (and for SETTLE_FRAMES frames after it: imgui updates hover and
active widgets a frame late), when the camera moved (held keys, drags, framing, a transition), when
the app says what it shows changed (a snapshot landed, playback moved a step, a panel changed), every
CARET_S while a text field has the keyboard (the caret blinks), and when the adaptive controller
owes a still picture at full detail. No GL here: tests drive it with a fake clock.
"""
from __future__ import annotations

import math
import time

SETTLE_FRAMES = 3
CARET_S = 0.4
INPUT, CAMERA, CHANGE, CARET, STILL = "input", "camera", "change", "caret", "still"
MOVING = frozenset({INPUT, CAMERA})   # reasons that make a frame part of a motion (viz.adaptive)


def camera_state(camera) -> tuple:
    """Everything about a viz.camera.Camera that changes the picture, comparable with ==."""
    return (*(float(v) for v in camera.position), camera.yaw, camera.pitch, camera.fov_y,
            camera.near, camera.far)


class RedrawSchedule:
    def __init__(self, clock=time.perf_counter):
        self.clock = clock
        self._owed = SETTLE_FRAMES      # the first picture, settled
        self._camera: tuple | None = None
        self._caret_at = -math.inf

    def input(self) -> None:
        """An event reached the window: draw now and settle."""
        self._owed = SETTLE_FRAMES

    def due(self, camera: tuple, changed: bool = False, typing: bool = False,
            still_owed: bool = False) -> str | None:
        """Why the next frame must be drawn (one of the reasons above), or None: sleep.
        `camera`: camera_state now; `changed`: the app's picture changed; `typing`: a text field
        has the keyboard; `still_owed`: the adaptive controller wants a picture at full detail."""
        if self._owed > 0:
            return INPUT
        if camera != self._camera:
            return CAMERA
        if changed:
            return CHANGE
        if typing and self.clock() - self._caret_at >= CARET_S:
            return CARET
        if still_owed:
            return STILL
        return None

    def drawn(self, camera: tuple) -> None:
        """A frame was drawn with the camera at `camera`."""
        self._owed = max(self._owed - 1, 0)
        self._camera = camera
        self._caret_at = self.clock()
