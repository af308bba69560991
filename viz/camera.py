"""A fly-through camera: pure math on numpy, no GL.

Conventions: right-handed world, y up; yaw 0 and pitch 0 look along -z (OpenGL's default); angles
in degrees. Matrices are row-major numpy (4, 4) float32 for ``clip = P @ V @ p`` (the renderer
transposes them for GL). The camera keeps a focus point ``distance`` ahead of it: zoom dollies
toward it and orbit turns around a given target.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np

WORLD_UP = np.array([0.0, 1.0, 0.0])
PITCH_LIMIT = 89.0   # degrees: at 90 the view direction is parallel to up and yaw is undefined
FAST = 4.0           # speed multiplier while shift is held
ZOOM_STEP = 0.85     # distance factor per unit of zoom (one scroll click)


def check_aspect(aspect: float) -> float:
    """``aspect`` as a float, or a ValueError when it is not a usable window width/height."""
    try:
        value = float(aspect)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"aspect must be a positive finite width/height, got {aspect!r} "
                         "(guard window resizes to zero before asking for a projection)")
    return value


@dataclass
class Camera:
    position: np.ndarray = field(default_factory=lambda: np.array([0.0, 0.0, 10.0]))
    yaw: float = 0.0          # degrees, positive turns right (toward +x)
    pitch: float = 0.0        # degrees, positive looks up, clamped to +-PITCH_LIMIT
    fov_y: float = 60.0       # vertical field of view, degrees
    near: float = 0.1
    far: float = 1000.0
    distance: float = 10.0    # to the focus point straight ahead
    speed: float = 10.0       # fly speed, world units per second
    sensitivity: float = 0.15  # mouse look, degrees per pixel

    def __post_init__(self) -> None:
        self.position = np.asarray(self.position, dtype=np.float64).reshape(3)
        self._initial = {f.name: getattr(self, f.name) for f in fields(self)}
        self._initial["position"] = self.position.copy()
        self._framed: tuple | None = None  # the last frame() call's box and aspect, for reset()

    # -- directions -------------------------------------------------------------------------
    @property
    def forward(self) -> np.ndarray:
        y, p = math.radians(self.yaw), math.radians(self.pitch)
        return np.array([math.cos(p) * math.sin(y), math.sin(p), -math.cos(p) * math.cos(y)])

    @property
    def right(self) -> np.ndarray:
        y = math.radians(self.yaw)
        return np.array([math.cos(y), 0.0, math.sin(y)])

    @property
    def up(self) -> np.ndarray:
        return np.cross(self.right, self.forward)

    @property
    def focus(self) -> np.ndarray:
        return self.position + self.forward * self.distance

    # -- matrices ---------------------------------------------------------------------------
    def view_matrix(self) -> np.ndarray:
        r, u, f = self.right, self.up, self.forward
        view = np.eye(4)
        view[0, :3], view[1, :3], view[2, :3] = r, u, -f
        view[:3, 3] = -view[:3, :3] @ self.position
        return view.astype(np.float32)

    def projection_matrix(self, aspect: float) -> np.ndarray:
        aspect = check_aspect(aspect)
        f = 1.0 / math.tan(math.radians(self.fov_y) / 2)
        n, fa = self.near, self.far
        proj = np.zeros((4, 4))
        proj[0, 0], proj[1, 1] = f / aspect, f
        proj[2, 2], proj[2, 3] = (fa + n) / (n - fa), 2 * fa * n / (n - fa)
        proj[3, 2] = -1.0
        return proj.astype(np.float32)

    # -- motion -----------------------------------------------------------------------------
    def fly(self, forward: float, right: float, up: float, dt: float, fast: bool = False) -> None:
        """Move by axis inputs in [-1, 1] (W/S, D/A, E/Q) for ``dt`` seconds; up is world up."""
        step = self.speed * dt * (FAST if fast else 1.0)
        self.position = self.position + step * (
            forward * self.forward + right * self.right + up * WORLD_UP)

    def look(self, dx: float, dy: float) -> None:
        """Mouse look by a pixel delta; dy > 0 looks up (pyglet's y axis points up)."""
        self.yaw = (self.yaw + dx * self.sensitivity) % 360.0
        self.pitch = float(np.clip(self.pitch + dy * self.sensitivity, -PITCH_LIMIT, PITCH_LIMIT))

    def look_at(self, target) -> None:
        """Turn (not move) to face ``target``; the focus distance becomes the distance to it."""
        offset = np.asarray(target, dtype=np.float64) - self.position
        length = float(np.linalg.norm(offset))
        if length == 0:
            return
        fx, fy, fz = offset / length
        self.yaw = math.degrees(math.atan2(fx, -fz)) % 360.0
        self.pitch = float(np.clip(math.degrees(math.asin(fy)), -PITCH_LIMIT, PITCH_LIMIT))
        self.distance = length

    def orbit(self, target, d_yaw: float, d_pitch: float) -> None:
        """Swing around ``target`` by angles in degrees, keeping the distance to it."""
        target = np.asarray(target, dtype=np.float64)
        self.look_at(target)
        self.yaw = (self.yaw + d_yaw) % 360.0
        self.pitch = float(np.clip(self.pitch + d_pitch, -PITCH_LIMIT, PITCH_LIMIT))
        self.position = target - self.forward * self.distance

    def zoom(self, amount: float) -> None:
        """Dolly toward the focus point (amount > 0) or away, by a distance factor per unit; the
        distance stops at the near plane (closer, the point is clipped anyway), so the camera never
        reaches the point, let alone passes through it, and can always zoom back out."""
        focus = self.focus
        self.distance = max(self.distance * ZOOM_STEP ** amount, self.near)
        self.position = focus - self.forward * self.distance

    def frame(self, bbox_min, bbox_max, aspect: float) -> None:
        """Back off along the current view direction until the box's bounding sphere fits, and
        set near/far and fly speed to the box's size."""
        aspect = check_aspect(aspect)
        lo, hi = np.asarray(bbox_min, dtype=np.float64), np.asarray(bbox_max, dtype=np.float64)
        centre = (lo + hi) / 2
        radius = max(float(np.linalg.norm(hi - lo)) / 2, 0.5)
        half_y = math.radians(self.fov_y) / 2
        half = min(half_y, math.atan(math.tan(half_y) * aspect))
        self.distance = radius / math.sin(half)
        self.position = centre - self.forward * self.distance
        self.far = 4.0 * (self.distance + radius)
        self.near = self.far * 1e-4  # keeps 24-bit depth precise over the whole range
        self.speed = radius
        self._framed = (lo, hi, aspect)

    def reset(self) -> None:
        """Back to the starting orientation; looking straight at the last framed box, if any."""
        framed = self._framed
        for name, value in self._initial.items():
            setattr(self, name, value.copy() if isinstance(value, np.ndarray) else value)
        if framed is not None:
            self.frame(*framed)

    def ray(self, ndc_x: float, ndc_y: float, aspect: float) -> tuple[np.ndarray, np.ndarray]:
        """(origin, unit direction) of the world ray through a point in normalized device
        coordinates (-1..1, y up), for picking without a GL read-back."""
        aspect = check_aspect(aspect)
        t = math.tan(math.radians(self.fov_y) / 2)
        direction = self.forward + ndc_x * t * aspect * self.right + ndc_y * t * self.up
        return self.position.copy(), direction / np.linalg.norm(direction)
