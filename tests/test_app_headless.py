"""app.py and demo.py end to end without a display: a headless EGL window, a tiny model training
in the background, frames drawn, snapshots received, a screenshot and a checkpoint written.

Run in subprocesses: a window's GL context must not share a process with the standalone EGL
context other GL tests make (HEADLESS_GL.md, traps 4 and 5)."""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ttm import save
from ttm_fixtures import tiny_model

ROOT = Path(__file__).resolve().parent.parent


def _egl_available() -> bool:
    probe = "import moderngl; moderngl.create_standalone_context(backend='egl').release()"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=60).returncode == 0


pytestmark = pytest.mark.skipif(not _egl_available(), reason="no EGL: install libegl1 libgl1-mesa-dri")


def _run(args, timeout=150):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(ROOT)}
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=env)


def _check_screenshot(path: Path, size):
    image = np.asarray(Image.open(path).convert("RGB"))
    assert image.shape[:2] == (size[1], size[0])
    rgb = image[..., :3].astype(int)
    border = [rgb[:2].reshape(-1, 3), rgb[-2:].reshape(-1, 3), rgb[:, :2].reshape(-1, 3),
              rgb[:, -2:].reshape(-1, 3)]
    for edge in border:
        assert edge.max() == 0, "the canvas border must stay pure black"
    h, w = rgb.shape[:2]
    centre = rgb[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4]
    assert (centre.sum(-1) > 30).mean() > 0.02, "the centre shows voxels and panels"


def test_app_trains_draws_and_saves_headless(tmp_path):
    shot, out = tmp_path / "app.png", tmp_path / "app.pt"
    r = _run(["app.py", "--headless", "--from-scratch", "--tiny", "--frames", "8",
              "--wait-snapshots", "2", "--snapshot-every", "0.2", "--size", "800x500",
              "--screenshot", str(shot), "--out", str(out)])
    assert r.returncode == 0, r.stderr[-3000:]
    m = re.search(r"frames (\d+), snapshots (\d+), training step (\d+), saved (\S+)", r.stdout)
    assert m, r.stdout
    frames, snapshots, step = (int(m.group(i)) for i in (1, 2, 3))
    assert frames >= 8 and snapshots >= 2 and step >= 1
    assert Path(m.group(4)) == out and out.is_file()       # the checkpoint written on exit
    assert "Traceback" not in r.stderr
    _check_screenshot(shot, (800, 500))


def test_app_refuses_to_overwrite_the_shipped_model():
    r = _run(["app.py", "--headless", "--from-scratch", "--tiny", "--frames", "1",
              "--out", "models/ttm-multiply.pt"], timeout=60)
    assert r.returncode != 0 and "overwrite the shipped model" in r.stderr


def test_demo_window_headless_screenshot(tmp_path):
    ckpt, shot = tmp_path / "tiny.pt", tmp_path / "demo.png"
    save(tiny_model(seed=1), ckpt)
    r = _run(["demo.py", "12", "34", "--checkpoint", str(ckpt), "--headless", "--step", "1",
              "--frames", "3", "--size", "640x400", "--screenshot", str(shot)])
    assert r.returncode == 0, r.stderr[-3000:]
    assert "12 × 34 = " in r.stdout
    _check_screenshot(shot, (640, 400))


def test_window_survives_tiny_zero_and_huge_resizes_and_quits_on_escape(tmp_path):
    ckpt = tmp_path / "tiny.pt"
    save(tiny_model(seed=1), ckpt)
    script = f"""
from studio.trace_viewer import TraceViewer
from pyglet.window import key
from studio.controller import Controller
from ttm import load
model = load({str(ckpt)!r})
v = TraceViewer(Controller(model.trace(3, 4)), size=(320, 200))
quits = []
v.on_quit = lambda: quits.append(v.frames)
for w, h in [(1, 1), (0, 0), (0, 300), (5000, 3000), (3, 2000), (320, 200)]:
    v.get_framebuffer_size = v.get_size = lambda size=(w, h): size   # headless surfaces keep their size
    v.dispatch_event("on_resize", w, h)
    v.run_frames(2)
del v.get_framebuffer_size, v.get_size
v.dispatch_event("on_key_press", key.ESCAPE, 0)
v.run_frames(5)                                   # stops at once: the window is closing
v.close()
print("ok", v.frames, quits)
"""
    r = _run(["-c", script])
    assert r.returncode == 0 and "ok 8 [8]" in r.stdout, (r.stdout, r.stderr[-3000:])
