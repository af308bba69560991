"""Camera math: projections, framing, fly/look/orbit/zoom, rays, and the aspect guard."""
import itertools
import math

import numpy as np
import pytest

from viz.camera import FAST, PITCH_LIMIT, Camera


def to_ndc(cam, point, aspect):
    clip = cam.projection_matrix(aspect).astype(np.float64) @ cam.view_matrix() @ np.append(point, 1.0)
    return clip[:3] / clip[3], clip[3]


def inside(ndc, w):
    return w > 0 and bool(np.all(np.abs(ndc) <= 1.0))


def test_matrices_are_float32_4x4_and_view_is_rigid():
    cam = Camera(position=[1.0, 2.0, 3.0], yaw=30.0, pitch=-20.0)
    view, proj = cam.view_matrix(), cam.projection_matrix(1.5)
    assert view.shape == proj.shape == (4, 4) and view.dtype == proj.dtype == np.float32
    np.testing.assert_allclose(view[:3, :3] @ view[:3, :3].T, np.eye(3), atol=1e-6)
    np.testing.assert_allclose(view @ np.append(cam.position, 1.0), [0, 0, 0, 1], atol=1e-5)


def test_point_in_front_projects_inside_and_behind_does_not():
    cam = Camera(position=[0.0, 0.0, 10.0], yaw=40.0, pitch=10.0)
    ndc, w = to_ndc(cam, cam.position + 5 * cam.forward, 16 / 9)
    assert inside(ndc, w)
    np.testing.assert_allclose(ndc[:2], [0, 0], atol=1e-5)
    _, w = to_ndc(cam, cam.position - 5 * cam.forward, 16 / 9)
    assert w < 0
    # Default orientation looks down -z with +x to the right and +y up.
    cam = Camera()
    ndc, _ = to_ndc(cam, np.array([1.0, 1.0, 0.0]), 1.0)
    assert ndc[0] > 0 and ndc[1] > 0


@pytest.mark.parametrize("aspect", [0.3, 1.0, 16 / 9, 5.0])
@pytest.mark.parametrize("yaw, pitch", [(0.0, 0.0), (35.0, -25.0), (200.0, 60.0)])
def test_frame_puts_all_box_corners_in_view(aspect, yaw, pitch):
    lo, hi = np.array([-3.0, -200.0, -40.0]), np.array([300.0, 5.0, 0.0])
    cam = Camera(yaw=yaw, pitch=pitch)
    cam.frame(lo, hi, aspect)
    for corner in itertools.product(*zip(lo, hi)):
        assert inside(*to_ndc(cam, np.array(corner), aspect)), corner
    np.testing.assert_allclose(cam.focus, (lo + hi) / 2, atol=1e-6)


def test_orbit_keeps_distance_and_faces_target():
    cam = Camera(position=[4.0, 3.0, 12.0], yaw=10.0)
    target = np.array([1.0, -2.0, 0.5])
    start = np.linalg.norm(cam.position - target)
    for d_yaw, d_pitch in [(30, 0), (-75, 20), (400, -200), (0, 150)]:
        cam.orbit(target, d_yaw, d_pitch)
        assert np.linalg.norm(cam.position - target) == pytest.approx(start)
        ndc, w = to_ndc(cam, target, 1.0)
        assert w > 0 and np.allclose(ndc[:2], 0, atol=1e-5)
        assert abs(cam.pitch) <= PITCH_LIMIT


def test_look_turns_and_clamps_pitch():
    cam = Camera()
    cam.look(100, 0)
    assert cam.forward[0] > 0  # mouse right turns right
    cam.look(0, 1e6)
    assert cam.pitch == PITCH_LIMIT
    cam.look(0, -1e7)
    assert cam.pitch == -PITCH_LIMIT
    assert np.all(np.isfinite(cam.view_matrix()))


def test_fly_moves_along_the_view_and_world_up():
    cam = Camera(yaw=90.0)  # looking along +x
    cam.fly(1, 0, 0, dt=0.5)
    np.testing.assert_allclose(cam.position, [5.0, 0.0, 10.0], atol=1e-9)
    cam.fly(0, 1, 1, dt=0.1, fast=True)
    np.testing.assert_allclose(cam.position, [5.0, FAST, 10.0 + FAST], atol=1e-9)


def test_zoom_approaches_but_never_passes_the_focus():
    cam = Camera()
    focus = cam.focus.copy()
    for _ in range(500):
        cam.zoom(3.0)
        assert np.dot(focus - cam.position, cam.forward) > 0
    np.testing.assert_allclose(cam.focus, focus, atol=1e-6)
    assert cam.distance == cam.near
    before = cam.distance
    cam.zoom(-1.0)
    assert cam.distance > before


def test_reset_returns_to_the_framed_front_view():
    cam = Camera()
    cam.frame([0, 0, -5], [10, 10, 0], 2.0)
    home = cam.position.copy(), cam.yaw, cam.pitch
    cam.fly(1, 1, 1, dt=3.0)
    cam.look(300, 200)
    cam.zoom(5)
    cam.reset()
    np.testing.assert_allclose(cam.position, home[0])
    assert (cam.yaw, cam.pitch) == home[1:]


def test_ray_passes_through_the_projected_point():
    cam = Camera(position=[2.0, 1.0, 8.0], yaw=-30.0, pitch=15.0)
    point = np.array([-1.0, 3.0, -4.0])
    ndc, _ = to_ndc(cam, point, 1.6)
    origin, direction = cam.ray(ndc[0], ndc[1], 1.6)
    assert np.linalg.norm(direction) == pytest.approx(1.0)
    to_point = point - origin
    np.testing.assert_allclose(direction, to_point / np.linalg.norm(to_point), atol=1e-5)


@pytest.mark.parametrize("aspect", [0, 0.0, -1.0, math.nan, math.inf, None])
def test_bad_aspect_is_a_clear_error(aspect):
    cam = Camera()
    for call in (lambda: cam.projection_matrix(aspect), lambda: cam.ray(0, 0, aspect),
                 lambda: cam.frame([0, 0, 0], [1, 1, 1], aspect)):
        with pytest.raises(ValueError, match="aspect must be a positive finite"):
            call()
