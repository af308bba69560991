"""bench/flythrough.py without a window: the scripted path over a trace scene, and the figures it
makes of a log of frames."""
import numpy as np
import pytest

from studio.controller import Controller
from studio.view import SceneSync
from ttm_fixtures import long_trace, tiny_model
from viz.scene import Scene


@pytest.fixture(scope="module")
def flythrough():
    import importlib.util
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root))          # the bench imports `bench.report` and app.py
    try:
        spec = importlib.util.spec_from_file_location("flythrough", root / "bench" / "flythrough.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(root))
    return module


@pytest.fixture(scope="module")
def scene():
    c = Controller(long_trace(tiny_model(seed=2), min_steps=4))
    c.set_all_memory(True)
    scene = Scene(aspect=16 / 9)
    SceneSync(scene, c, graph=None).update()
    scene.relayout()
    return scene


def test_path_starts_and_ends_at_the_overview_and_flies_into_and_along_the_memory(flythrough, scene):
    lo, hi = scene.bbox()
    start, target = np.array([0.0, 0.0, 3.0 * float(hi[2] - lo[2]) + 300.0]), (lo + hi) / 2
    path = flythrough.FlyPath(scene, start, target)
    assert path.segments == ["into the memory", "to the first step", "along the steps", "back out"]
    for u in (0.0, 1.0):
        p, t = path.at(u)
        np.testing.assert_allclose(p, start)
        np.testing.assert_allclose(t, target)
    mem = scene["memory"].placement
    into, _ = path.keys[1]
    assert (mem.bbox_min[:2] <= into[:2]).all() and (into[:2] <= mem.bbox_max[:2]).all()
    assert mem.bbox_max[2] < into[2] < start[2]        # in front of the stack, close to it
    # along the steps: from beside the first sheet (z = max) to past the last (z = min)
    (first, _), (last, _) = path.keys[2], path.keys[3]
    assert first[2] > mem.bbox_max[2] and last[2] < mem.bbox_min[2]
    u = np.linspace(0, 1, 2001)
    points = np.array([path.at(x)[0] for x in u])
    assert np.abs(np.diff(points, axis=0)).max() < 0.01 * np.abs(points).max()   # no jumps


def test_path_passes_the_graph_when_it_is_shown(flythrough, scene):
    from ttm.graph import extract
    from viz.mappers import map_tensor
    scene.set_layout(map_tensor("graph", extract(tiny_model(seed=2))))
    scene.relayout()
    lo, hi = scene.bbox()
    path = flythrough.FlyPath(scene, np.array([0.0, 0.0, 500.0]), (lo + hi) / 2)
    assert path.segments[-2:] == ["to the graph", "back out"]
    g = scene["graph"].placement
    np.testing.assert_allclose(path.keys[-2][1], (np.asarray(g.bbox_min) + g.bbox_max) / 2)


def test_flying_figures_are_frame_to_frame_times(flythrough):
    ends = np.cumsum([0.0, 0.030, 0.030, 0.030, 0.100])          # one slow frame at the end
    log = [(e, 20.0, 1, k // 3) for k, e in enumerate(ends)]
    line = flythrough.flying_line(log, 1.0, ["a", "b"])
    assert line["frames"] == 5 and line["frame_ms"]["max"] == pytest.approx(100.0)
    assert line["frame_ms"]["p50"] == pytest.approx(30.0)
    assert line["draw_ms"]["p50"] == 20.0 and line["levels"] == {"1": 5}
    assert line["segments"]["a"]["frames"] == 2 and line["segments"]["b"]["frames"] == 2
