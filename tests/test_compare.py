"""Comparing traces (studio.compare) and the flow view of a comparison: a trace compared with
itself is zero everywhere, in its numbers and in its pixels."""
from __future__ import annotations

import numpy as np
import pytest

from studio.compare import Comparison, CompareState
from studio.controller import Controller
from studio.flow_data import difference_arrays, step_arrays
from studio.flow_view import FlowSync
from studio.input_parse import InputError
from viz.camera import Camera
from viz.colormap import lut
from viz.flow_scene import FlowScene


@pytest.fixture(scope="module")
def model():
    from ttm_fixtures import tiny_model
    return tiny_model()


@pytest.fixture(scope="module")
def trace(model):
    return model.trace(12, 3)


def test_a_trace_compared_with_itself_differs_nowhere(trace):
    comparison = Comparison(trace, trace, "itself")
    groups, cells = comparison.ranked(0)
    assert groups and all(g.relative == 0 for g in groups) and cells == []
    diff = difference_arrays(step_arrays(trace, 0), step_arrays(trace, 0))
    for name in ("memory_in", "read_weights", "attention", "probs", "write_weights", "change"):
        assert not np.any(getattr(diff, name))


def test_the_most_changed_cells_come_first(model, trace):
    other = model.trace(13, 3)
    groups, cells = Comparison(trace, other, "13 × 3").ranked(0)
    assert [g.relative for g in groups] == sorted((g.relative for g in groups), reverse=True)
    assert cells and all(c.delta != 0 for c in cells)
    assert Comparison(trace, other, "").steps == min(trace.steps, other.steps)
    diff = difference_arrays(step_arrays(trace, 0), step_arrays(other, 0))
    assert "2→3" in diff.input_labels                     # the operand that differs, both ways
    assert diff.expected is None                          # a difference has no one product


def test_each_step_knows_the_token_the_product_has_there(trace):
    """12 × 3 = 36: 6, 3, then EOS; steps past the product's end (a run that goes on) have none."""
    assert [step_arrays(trace, t).expected for t in range(min(trace.steps, 3))] == [6, 3, 11][:trace.steps]
    assert trace.steps <= 3 or step_arrays(trace, 3).expected is None


def test_compare_state_says_what_it_cannot_compare(trace):
    c = Controller(trace)
    state = CompareState()
    with pytest.raises(InputError):
        state.set_problem("12 apples", 2)
    assert state.comparison(c) is None and not state.active
    state.set_problem("12x4", trace.config.max_digits)
    assert state.comparison(c).label == "12 × 4"
    assert state.comparison(c) is state.comparison(c)      # made once per trace on view
    state.set_snapshot(3)                                  # the controller has no history
    assert state.comparison(c) is None and state.error


def zero_colour() -> np.ndarray:
    return lut("diverging")[128, :3] * 255


def test_a_trace_compared_with_itself_is_the_zero_colour_everywhere(gl, trace):
    from viz.offscreen import render_offscreen, renderer_for
    c = Controller(trace)
    sync = FlowSync(FlowScene(), c)
    sync.compare.set_problem("12x3", trace.config.max_digits)
    sync.update()
    scene = sync.scene
    assert scene["memory.before"].layout.colormap == "diverging"
    for group in scene:
        if group.layout.tags.get("mark") == "text" or group.name.startswith("step"):
            scene.set_visible(group.name, False)          # words are not numbers; one step in view
    lo, hi = sync.step_box()
    centre = (lo + hi) / 2
    scene.camera = Camera(position=[centre[0], centre[1], hi[2] + 1.1 * (hi[0] - lo[0])], far=1e5)
    renderer_for(scene).light.direction = (0.0, 0.0, 1.0)   # head on: a front face shows its exact colour
    img = render_offscreen(scene, (80, 60))[..., :3].astype(float)
    lit = img.sum(axis=2) > 0
    assert lit.sum() > 40                                 # the flow is in view
    zero = zero_colour()
    # every drawn pixel is the zero grey, head on or on a face the light reaches less
    shade = (img[lit] @ zero) / (zero @ zero)
    np.testing.assert_allclose(img[lit], shade[:, None] * zero, atol=3)
    assert np.median(shade) == pytest.approx(1.0, abs=0.02)  # front faces: the zero grey itself


def test_the_compare_panel_stands_in_the_scenes_corner_open_or_folded_and_stays_where_dragged(trace):
    """It grows upward from the scene's bottom-right corner, so opened it never covers the step's
    heading at the top of the scene; a drag moves it for good."""
    imgui = pytest.importorskip("imgui")
    from studio.compare_panel import ComparePanel
    c = Controller(trace)
    sync = FlowSync(FlowScene(), c)
    sync.update()
    panel = ComparePanel(c, sync)
    scene = (10.0, 40.0, 900.0, 600.0)
    corner = (scene[0] + scene[2], scene[1] + scene[3])
    ctx = imgui.create_context()
    try:
        io = imgui.get_io()
        io.fonts.get_tex_data_as_rgba32()
        io.display_size = (1280, 720)
        io.delta_time = 1 / 60

        def frames(n, pos, down):
            for _ in range(n):
                io.mouse_pos = pos
                io.mouse_down[0] = down
                imgui.new_frame()
                panel.draw(scene)
                imgui.render()

        def bottom_right():
            x, y, w, h = panel.rect
            return x + w, y + h

        away = (5.0, 5.0)
        frames(3, away, False)
        folded = panel.rect
        assert bottom_right() == pytest.approx(corner) and folded[3] < 40
        header = (folded[0] + 30, folded[1] + folded[3] / 2)
        frames(1, header, True)                       # a click on the header opens it
        frames(3, header, False)
        opened = panel.rect
        assert opened[3] > folded[3] + 30, "the header click did not open the panel"
        assert bottom_right() == pytest.approx(corner) and opened[1] > scene[1]
        assert panel.anchored

        body = (opened[0] + opened[2] - 8, opened[1] + opened[3] - 4)  # the body's corner, off items
        frames(2, body, True)
        frames(4, (body[0] - 300, body[1] - 200), True)
        frames(2, (body[0] - 300, body[1] - 200), False)
        assert not panel.anchored
        moved = bottom_right()
        assert moved[0] < corner[0] - 250 and moved[1] < corner[1] - 150
        frames(3, away, False)                        # and there it stays
        assert bottom_right() == pytest.approx(moved)

        panel.anchored = True                         # a scene narrower than the panel: it starts
        scene = (10.0, 40.0, 60.0, 600.0)             # at the scene's left, not off its left edge
        frames(3, away, False)
        assert panel.rect[0] == pytest.approx(scene[0]) and bottom_right()[1] == pytest.approx(640.0)
        assert panel.anchored
    finally:
        imgui.destroy_context(ctx)
