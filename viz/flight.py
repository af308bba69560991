"""Getting around without getting lost: smooth camera flights between poses, and a fly speed that
scales with the distance to what is in view. Pure numpy on viz.camera.Camera, no GL.

A flight eases (smoothstep) position and focus distance linearly, and yaw and pitch along the
shorter way round, over FLIGHT_S; the camera's keys and mouse take over the moment they are used.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from viz.camera import Camera

FLIGHT_S = 0.35            # a frame or a jump between steps: short enough never to wait for
MIN_SPEED_SHARE = 0.02     # fly speed never drops below this share of the scene's size
NEAR_SPEED = 1.5           # units per second per unit of distance to the nearest thing in view


@dataclass
class Pose:
    position: np.ndarray
    yaw: float
    pitch: float
    distance: float

    @classmethod
    def of(cls, camera: Camera) -> "Pose":
        return cls(np.array(camera.position, np.float64), camera.yaw, camera.pitch, camera.distance)

    def apply(self, camera: Camera) -> None:
        camera.position = np.array(self.position, np.float64)
        camera.yaw, camera.pitch, camera.distance = self.yaw, self.pitch, self.distance


def blend(a: Pose, b: Pose, t: float) -> Pose:
    """The pose a share `t` in [0, 1] of the way from `a` to `b`."""
    yaw = a.yaw + ((b.yaw - a.yaw + 180.0) % 360.0 - 180.0) * t
    return Pose(a.position + (b.position - a.position) * t, yaw % 360.0,
                a.pitch + (b.pitch - a.pitch) * t, a.distance + (b.distance - a.distance) * t)


class Flight:
    """From the camera's pose now to `target` over `seconds`; `advance` moves the camera."""

    def __init__(self, camera: Camera, target: Pose, seconds: float = FLIGHT_S):
        self.start, self.target, self.seconds = Pose.of(camera), target, max(seconds, 1e-6)
        self.elapsed = 0.0

    @property
    def done(self) -> bool:
        return self.elapsed >= self.seconds

    def advance(self, camera: Camera, dt: float) -> None:
        self.elapsed = min(self.elapsed + dt, self.seconds)
        x = self.elapsed / self.seconds
        blend(self.start, self.target, x * x * (3.0 - 2.0 * x)).apply(camera)


def distance_to_box(point: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Euclidean distance from `point` to the box (0 inside)."""
    p = np.asarray(point, np.float64)
    return float(np.linalg.norm(np.maximum(np.maximum(lo - p, 0.0), p - hi)))


def fly_speed(camera: Camera, boxes: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Units per second for flying: NEAR_SPEED times the distance to the nearest box, within
    [MIN_SPEED_SHARE, 1] of the size of all of them, so a key held down slows near things and
    never shoots past the whole scene in a blink."""
    if not boxes:
        return camera.speed
    lo = np.min([b[0] for b in boxes], axis=0)
    hi = np.max([b[1] for b in boxes], axis=0)
    size = max(float(np.linalg.norm(hi - lo)), 1e-6)
    near = min(distance_to_box(camera.position, *b) for b in boxes)
    return float(np.clip(NEAR_SPEED * near, MIN_SPEED_SHARE * size, size))
