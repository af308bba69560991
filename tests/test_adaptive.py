"""The adaptive detail controller (viz.adaptive) on a fake clock, and the levels it moves (no GL)."""
import math

import pytest

from viz import adaptive
from viz.adaptive import AdaptiveDetail
from viz.lod import FULL_DETAIL, Detail, LodSettings


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def moving_frames(a: AdaptiveDetail, clock: FakeClock, ms: float, n: int) -> None:
    """`n` moving frames that each cost `ms`, back to back."""
    for _ in range(n):
        a.begin(moving=True)
        clock.now += ms / 1000
        a.end(ms)


@pytest.fixture
def clocked():
    clock = FakeClock()
    return AdaptiveDetail(30.0, clock=clock), clock


def test_levels_go_down_from_full_detail():
    assert adaptive.LEVELS[0] == FULL_DETAIL
    for hi, lo in zip(adaptive.LEVELS, adaptive.LEVELS[1:]):
        assert lo.render_scale < hi.render_scale and lo.budget_share < hi.budget_share


def test_full_detail_keeps_the_settings_and_lower_levels_cut_the_budgets():
    full = LodSettings.for_renderer(software=True)
    assert FULL_DETAIL.settings(full) is full
    low = Detail(0.5, 0.25).settings(full)
    assert low.max_cubes == full.max_cubes // 4 and low.max_sprites == full.max_sprites // 4
    assert low.cube_px == 4 * full.cube_px
    assert Detail(0.5, 0.25).settings(LodSettings()).max_cubes is None   # no budget stays none


def test_slow_frames_lower_the_detail_fast_frames_restore_it(clocked):
    a, clock = clocked
    slow = 4 * a.budget_ms
    moving_frames(a, clock, slow, 1)
    assert a.level == 0                       # one slow frame is not a trend
    moving_frames(a, clock, slow, 1)
    expected = math.ceil(math.log(4) / -math.log(adaptive.STEP_COST))
    a.begin(moving=True)
    assert a.level == expected and a.detail.render_scale < 1 and a.detail.budget_share < 1
    a.end(0.9 * a.budget_ms)                  # within the budget: stays
    moving_frames(a, clock, 0.9 * a.budget_ms, 5)
    assert a.level == expected
    fast = 0.5 * a.budget_ms
    moving_frames(a, clock, fast, adaptive.RAISE_AFTER * expected)
    a.begin(moving=True)
    assert a.level == 0 and a.detail == FULL_DETAIL


def fly(a: AdaptiveDetail, clock: FakeClock, cost, frames: int) -> list[int]:
    """`frames` moving frames whose cost depends on their level (`cost(detail)`); the levels."""
    levels = []
    for _ in range(frames):
        detail = a.begin(moving=True)
        levels.append(a.level)
        ms = cost(detail)
        clock.now += ms / 1000
        a.end(ms)
    return levels


def test_pixel_bound_frames_settle_at_the_finest_level_that_fits(clocked):
    a, clock = clocked
    pixels = lambda d: 3.0 + 60.0 * d.render_scale ** 2        # noqa: E731  (ms: a close-up)
    levels = fly(a, clock, pixels, 120)
    settled = levels[-1]
    assert set(levels[-30:]) == {settled}                       # no oscillation
    assert pixels(adaptive.LEVELS[settled]) <= a.budget_ms
    assert pixels(adaptive.LEVELS[settled - 1]) > adaptive.RAISE_BELOW * a.budget_ms


def test_detail_that_buys_no_time_is_not_given_up(clocked):
    a, clock = clocked
    fixed = lambda d: 2.0 * a.budget_ms + 2.0 * d.render_scale ** 2   # noqa: E731  (the cost is elsewhere)
    levels = fly(a, clock, fixed, 150)
    assert max(levels) > 0                                      # it tried
    assert levels[-20:] == [0] * 20                             # and came back to full detail


def test_detail_never_goes_below_the_last_level(clocked):
    a, clock = clocked
    moving_frames(a, clock, 100 * a.budget_ms, 10)
    a.begin(moving=True)
    assert a.level == len(adaptive.LEVELS) - 1


def test_full_detail_comes_back_when_the_motion_stops(clocked):
    a, clock = clocked
    moving_frames(a, clock, 3 * a.budget_ms, 2)
    a.begin(moving=True)
    a.end(0.9 * a.budget_ms)                  # within the budget: the level stays
    low = a.level
    assert low > 0 and not a.still_frame_owed()
    clock.now += a.still_s / 2
    assert not a.still_frame_owed()
    assert a.begin(moving=False) == adaptive.LEVELS[low]   # still part of the motion
    a.end(5.0)
    clock.now += a.still_s
    assert a.still_frame_owed()               # a still picture at full detail is owed
    assert a.begin(moving=False) == FULL_DETAIL
    a.end(80.0)                               # a still frame may cost what it costs
    assert not a.still_frame_owed()
    assert a.begin(moving=True) == adaptive.LEVELS[low]    # moving again: where it was


def test_a_screenshot_frame_is_full_detail_even_while_moving(clocked):
    a, clock = clocked
    moving_frames(a, clock, 3 * a.budget_ms, 4)
    assert a.begin(moving=True, full=True) == FULL_DETAIL


def test_moving_frames_are_paced_by_their_ends_at_the_target_rate(clocked):
    """The next moving frame starts a frame interval after the last one ended, less the cost of
    the dearest recent moving frame, so that it ends (is shown) on time."""
    a, clock = clocked
    margin = adaptive.PACE_MARGIN
    a.begin(moving=True)
    clock.now += 0.005
    a.end(5.0)
    clock.now += 0.010
    assert a.wait_s() == pytest.approx(1 / 30 - margin * 0.005 - 0.010)
    for cost in (12.0, 8.0):          # the dearest of the last few counts, not the last one
        a.begin(moving=True)
        clock.now += cost / 1000
        a.end(cost)
    assert a.wait_s() == pytest.approx(1 / 30 - margin * 0.012)
    clock.now += 1 / 30
    assert a.wait_s() <= 0
    a.begin(moving=True)
    clock.now += 0.1
    a.end(100.0)                      # dearer than a frame interval: the next one starts at once
    assert a.wait_s() <= 0


def test_target_is_checked_and_kept_in_range(clocked):
    a, _ = clocked
    for bad in (0, -5, math.nan, math.inf):
        with pytest.raises(ValueError, match="not a positive number of frames/s"):
            a.target_fps = bad
    a.target_fps = 1e6
    assert a.target_fps == adaptive.MAX_FPS
    a.target_fps = 60
    assert a.target_ms == pytest.approx(1000 / 60)
    assert adaptive.default_target(software=True) == 30 and adaptive.default_target(software=False) == 60


def test_recent_frame_times_are_kept_for_the_panel(clocked):
    a, clock = clocked
    moving_frames(a, clock, 12.0, adaptive.HISTORY + 5)
    assert len(a.recent) == adaptive.HISTORY and a.recent[-1] == 12.0
    assert a.describe() == "full detail"
    moving_frames(a, clock, 5 * a.budget_ms, 2)
    a.begin(moving=True)
    assert a.describe().startswith(f"level {a.level}/{len(adaptive.LEVELS) - 1}: ")


def test_performance_panel_draws_target_level_and_plot_on_a_bare_imgui_context(clocked):
    imgui = pytest.importorskip("imgui")
    from studio.controller import Controller
    from studio.panel_frame import Rect
    from studio.performance_panel import Perf, PerformancePanel
    a, clock = clocked
    panel = PerformancePanel(Controller())
    ctx = imgui.create_context()
    try:
        io = imgui.get_io()
        io.fonts.get_tex_data_as_rgba32()
        io.display_size = (640, 400)
        for frames in (0, 40):                # an empty plot, then a full one
            moving_frames(a, clock, 3 * a.budget_ms, frames)
            imgui.new_frame()
            panel.draw(Rect(8, 8, 318, 150), Perf(frame_ms=12.0, fps=30, adaptive=a))
            imgui.render()
    finally:
        imgui.destroy_context(ctx)


def test_pixels_at_full_detail_are_unchanged_and_lower_levels_show_the_same_picture(gl):
    import numpy as np

    from viz.camera import Camera
    from viz.mappers import map_tensor
    from viz.renderer import Renderer
    from viz.scene import Scene
    size, viewport = (160, 120), (20, 10, 120, 90)          # the scene in part of the framebuffer
    scene = Scene(aspect=viewport[2] / viewport[3])
    scene.set_layout(map_tensor("memory", np.random.default_rng(0).standard_normal((2, 30, 40)).astype(np.float32)))
    scene.relayout()
    lo, hi = scene.bbox()
    scene.camera = Camera(position=[(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, hi[2] + 45.0], yaw=8.0, pitch=-6.0)
    fbo = gl.framebuffer([gl.renderbuffer(size, 4)], gl.depth_renderbuffer(size))
    renderer = Renderer(gl)

    def image(detail=None):
        fbo.use()
        if detail is None:
            renderer.render(scene, size, viewport=viewport)
        else:
            renderer.render(scene, size, viewport=viewport, detail=detail)
        assert gl.fbo is fbo                                  # the caller's framebuffer stays bound
        return np.frombuffer(fbo.read(components=3), np.uint8).reshape(size[1], size[0], 3)[::-1].astype(int)

    try:
        before = image()
        assert (before.sum(-1) > 0).mean() > 0.1
        assert np.array_equal(image(FULL_DETAIL), before)
        low = image(adaptive.LEVELS[5])
        x, y, w, h = viewport
        outside = np.ones(before.shape[:2], bool)
        outside[y:y + h, x:x + w] = False
        assert low[outside].max() == 0                         # stretched over the viewport only
        assert not np.array_equal(low, before)
        assert np.abs(low - before).mean() < 20                # the same picture, coarser
        assert abs(low.mean() - before.mean()) < 0.1 * before.mean()
        assert np.array_equal(image(), before)                 # full detail again: the same pixels
    finally:
        renderer.release()     # not fbo: it stays the context's bound framebuffer (gc frees it)


def test_in_motion_lasts_still_s_after_the_last_moving_frame(clocked):
    a, clock = clocked
    assert not a.in_motion
    a.begin(moving=True)
    a.end(5.0)
    clock.now += 0.9 * a.still_s
    assert a.in_motion
    clock.now += 0.2 * a.still_s
    assert not a.in_motion
