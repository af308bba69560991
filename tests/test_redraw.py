"""Redraw on demand: the schedule on a fake clock (viz.redraw), then the app's window headless: it
draws nothing over a quiet second on pyglet's event loop, and draws at once on input, a new
snapshot and a camera move. The window runs in a subprocess (its GL context must not share a
process with the standalone EGL context of the other GL tests: HEADLESS_GL.md, traps 4 and 5)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from viz import redraw
from viz.camera import Camera
from viz.redraw import RedrawSchedule, camera_state

ROOT = Path(__file__).resolve().parent.parent


class FakeClock:
    def __init__(self):
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


def settled(schedule: RedrawSchedule, camera: tuple) -> None:
    while schedule.due(camera) is not None:
        schedule.drawn(camera)


def test_schedule_draws_the_first_picture_then_sleeps():
    s, cam = RedrawSchedule(FakeClock()), camera_state(Camera())
    for _ in range(redraw.SETTLE_FRAMES):
        assert s.due(cam) == redraw.INPUT
        s.drawn(cam)
    assert s.due(cam) is None


def test_schedule_input_settles_for_a_few_frames():
    s, cam = RedrawSchedule(FakeClock()), camera_state(Camera())
    settled(s, cam)
    s.input()
    reasons = []
    while (reason := s.due(cam)) is not None:
        reasons.append(reason)
        s.drawn(cam)
    assert reasons == [redraw.INPUT] * redraw.SETTLE_FRAMES


def test_schedule_camera_change_and_still_frames():
    clock, camera = FakeClock(), Camera()
    s = RedrawSchedule(clock)
    settled(s, camera_state(camera))
    camera.yaw += 1.0
    assert s.due(camera_state(camera)) == redraw.CAMERA
    s.drawn(camera_state(camera))
    cam = camera_state(camera)
    assert s.due(cam) is None
    assert s.due(cam, changed=True) == redraw.CHANGE
    assert s.due(cam, still_owed=True) == redraw.STILL
    assert {redraw.INPUT, redraw.CAMERA} == redraw.MOVING


def test_schedule_blinks_the_caret_while_typing():
    clock, cam = FakeClock(), camera_state(Camera())
    s = RedrawSchedule(clock)
    settled(s, cam)
    clock.now += redraw.CARET_S * 0.6
    assert s.due(cam, typing=True) is None
    clock.now += redraw.CARET_S * 0.6
    assert s.due(cam, typing=True) == redraw.CARET
    s.drawn(cam)
    clock.now += redraw.CARET_S / 2
    assert s.due(cam, typing=True) is None
    clock.now += redraw.CARET_S
    assert s.due(cam, typing=True) == redraw.CARET


def _egl_available() -> bool:
    probe = "import moderngl; moderngl.create_standalone_context(backend='egl').release()"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=60).returncode == 0


WINDOW_SCRIPT = """
import json, time
from studio.trace_viewer import TraceViewer
import pyglet
from studio.controller import Controller
from ttm.train import TrainConfig, Trainer
from ttm_fixtures import tiny_config

trainer = Trainer(TrainConfig(device="cpu", out=OUT, sample_problem=(3, 4)), tiny_config())
controller = Controller(trainer=trainer)
trainer.publish()                              # the first picture, as app.py does
v = TraceViewer(controller, size=(320, 200))
out = {}
def settle():                                  # moving frames are paced: let their time pass
    for _ in range(10):
        v.pump(1 / 60)
        time.sleep(0.04)

settle()                                       # the first picture and its settle frames
start = v.frames
for _ in range(60):                            # a quiet second of turns, as fast as they come
    v.pump(1 / 60)
out["quiet_turns"] = v.frames - start
def run_loop(seconds):
    pyglet.clock.schedule_once(lambda dt: pyglet.app.exit(), seconds)
    v.run()

run_loop(0.3)                                  # the events the window queued before the loop ran
start, cpu = v.frames, time.process_time()
run_loop(1.0)                                  # a quiet second on pyglet's event loop
out["quiet_loop"], out["quiet_cpu_s"] = v.frames - start, time.process_time() - cpu

def draws_at_once(act):
    time.sleep(0.05)                           # past the pacing of moving frames
    act()
    start = v.frames
    drew = v.pump(1 / 60)
    return drew and v.frames == start + 1

out["input"] = draws_at_once(lambda: v.dispatch_event("on_mouse_motion", 100, 100, 2, 0))
settle()
start = v.frames
for _ in range(10):
    v.pump(1 / 60)
out["settled"] = v.frames - start
out["snapshot"] = draws_at_once(trainer.publish)
out["camera"] = draws_at_once(lambda: v.scene.camera.zoom(1.0))
v.close()
print(json.dumps(out))
"""


@pytest.mark.skipif(not _egl_available(), reason="no EGL: install libegl1 libgl1-mesa-dri")
def test_window_sleeps_when_quiet_and_draws_at_once_on_input_snapshot_and_camera(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}", "HOME": str(ROOT)}
    script = f"OUT = {str(tmp_path / 't.pt')!r}\n" + WINDOW_SCRIPT
    r = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                       timeout=150, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["quiet_turns"] == 0 and out["quiet_loop"] == 0, out
    assert out["quiet_cpu_s"] < 0.5, out      # waiting, not spinning (a busy loop takes ~1 s)
    assert out["input"] and out["snapshot"] and out["camera"], out
    assert out["settled"] == 0, out
