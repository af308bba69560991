"""The flow layout of a step (viz.flow), its view model (studio.flow_view), and getting around
(viz.flight, studio.navigation): layout checks without GL, pixel checks on offscreen renders."""
from __future__ import annotations

import numpy as np
import pytest

from viz import flow
from viz.camera import Camera
from viz.colormap import lut
from viz.flight import Flight, Pose, blend, fly_speed
from viz.flow_scene import FlowScene
from viz.ribbons import curve

SHAPE = flow.FlowShape(m=6, n=3, r=3, d=5, layers=2, heads=2, symbols=tuple("0123456789×ES"),
                       write_sources={"memory": 6, "processed": 3, "input": 3})
STRONGEST = (1, 4)        # read token 1 takes most from source 4 (memory slot 4)


def step_data(seed: int = 0) -> flow.StepArrays:
    rng = np.random.default_rng(seed)
    s = SHAPE
    read = rng.dirichlet(np.ones(s.m + s.n), size=s.r) * 0.5
    read[STRONGEST] = 0.9
    p = rng.dirichlet(np.ones(13))
    return flow.StepArrays(
        memory_in=rng.normal(size=(s.m, s.d)), memory_out=rng.normal(size=(s.m, s.d)),
        input_labels=["4", "PAD", "PAD"], input_pad=np.array([False, True, True]),
        input_features=rng.normal(size=(s.n, s.d)), read_weights=read,
        read_tokens=rng.normal(size=(s.r, s.d)), attention=rng.dirichlet(np.ones(s.r), size=(2, 2, s.r)),
        processed=rng.normal(size=(s.r, s.d)), probs=p, chosen=int(np.argmax(p)),
        write_weights=rng.dirichlet(np.ones(12), size=s.m), change=rng.random(s.m))


def flow_scene(data=None, style=None, origin=(0.0, 0.0, 0.0)) -> FlowScene:
    scene = FlowScene()
    style = style or flow.FlowStyle({"read.weights": (0.0, 0.9), "write.weights": (0.0, 0.5)})
    for layout in flow.flow_step(SHAPE, data or step_data(), 1, "", origin, style):
        scene.set_layout(layout)
    return scene


def test_a_step_has_every_stage_named_by_what_it_shows():
    names = set(flow_scene().names)
    assert {"memory.before", "input", "read.weights", "read.tokens", "attention", "processed", "output",
            "write.sources", "write.weights", "memory.after", "memory.change", "text"} == names


def test_ribbons_keep_the_strongest_links_per_target():
    scene, data = flow_scene(), step_data()
    read = scene["read.weights"].layout
    assert read.count == SHAPE.r * flow.READ_LINKS
    for j in range(SHAPE.r):
        mine = read.values[read.indices[:, 0] == j]
        top = np.sort(data.read_weights[j])[::-1][:flow.READ_LINKS]
        np.testing.assert_allclose(np.sort(mine)[::-1], top, rtol=1e-6)
    assert (np.diff(read.values) >= 0).all()            # weakest first: the strongest drawn on top
    widest = int(np.argmax(read.tags["widths"]))
    assert tuple(read.indices[widest]) == STRONGEST
    write = scene["write.weights"].layout
    assert write.count == SHAPE.m * flow.WRITE_LINKS
    # every link joins the right edge of its source row to the left edge of its target row
    rows = scene["read.tokens"].layout.positions[:, 1].reshape(SHAPE.r, SHAPE.d)[:, 0]
    np.testing.assert_allclose(read.tags["ends"][:, 1], rows[read.indices[:, 0]])


def test_a_signed_step_leaves_out_links_that_carry_nothing():
    data = step_data()
    zero = flow.StepArrays(**{**data.__dict__, "read_weights": np.zeros_like(data.read_weights),
                              "write_weights": np.zeros_like(data.write_weights)})
    scene = flow_scene(zero, flow.FlowStyle(signed=True))
    assert scene["read.weights"].layout.count == 0 and scene["write.weights"].layout.count == 0
    assert {g.layout.colormap for g in scene if not g.layout.tags.get("mark")} == {"diverging"}


def test_a_difference_labels_where_the_answer_probability_went():
    """Signed, the output bars are p(second) - p(first): the first run's answer is labelled with
    its change, and the tokens that gained or lost most with theirs, at their bars' ends."""
    data = step_data()
    probs = np.zeros(13)
    probs[[5, 2, 7, 9]] = [-0.9, 0.85, 0.05, 0.004]      # 5 -> 2, a little to 7, 9 too small
    diff = flow.StepArrays(**{**data.__dict__, "probs": probs, "chosen": 5})
    texts = {lb.text: lb for lb in flow_scene(diff, flow.FlowStyle(signed=True))["text"].layout.tags["labels"]}
    assert "p change  (-0.90)" in texts and "+0.85" in texts and "+0.05" in texts
    assert "+0.00" not in texts
    assert texts["+0.85"].anchor[1] != texts["+0.05"].anchor[1]      # each beside its own bar
    plain = {lb.text for lb in flow_scene(data)["text"].layout.tags["labels"]}
    assert not any(t.startswith("+") for t in plain)


def test_a_missed_step_labels_the_products_token_beside_its_bar():
    data = step_data()
    missed = (data.chosen + 3) % 10
    labels = flow_scene(flow.StepArrays(**{**data.__dict__, "expected": missed}))["text"].layout.tags["labels"]
    product = [lb for lb in labels if lb.text.startswith("product ")]
    assert [lb.text for lb in product] == [f"product {missed}  (p {data.probs[missed]:.2f})"]
    g = flow.FlowGeometry(SHAPE)
    assert product[0].anchor[1] == pytest.approx(float(g.bar_y(missed)))
    assert product[0].colour == flow.PRODUCT_COLOUR
    glyphs = {lb.text: lb.colour for lb in labels if lb.anchor[0] == pytest.approx(g.bars_x - 1.5)}
    assert glyphs[str(missed)] == flow.PRODUCT_COLOUR and glyphs[str(data.chosen)] == flow.ANSWER_COLOUR
    for quiet in (flow.StepArrays(**{**data.__dict__, "expected": data.chosen}), data):
        assert not any(lb.text.startswith("product ") for lb in flow_scene(quiet)["text"].layout.tags["labels"])
    signed = flow_scene(flow.StepArrays(**{**data.__dict__, "expected": missed}), flow.FlowStyle(signed=True))
    assert not any(lb.text.startswith("product ") for lb in signed["text"].layout.tags["labels"])


def test_groups_stand_at_their_origin():
    a, b = flow_scene(), flow_scene(origin=(0.0, 0.0, -100.0))
    for name in a.names:
        np.testing.assert_allclose(b[name].placement.bbox_min - a[name].placement.bbox_min, [0, 0, -100])
    lo, hi = a.bbox()
    assert lo[0] < 0 < hi[0] and lo[1] < 0 < hi[1]      # text and ribbons are inside the box too


def pixel(scene: FlowScene, world, size) -> tuple[float, float]:
    w, h = size
    clip = scene.camera.projection_matrix(w / h) @ scene.camera.view_matrix() @ np.append(world, 1.0)
    ndc = clip[:3] / clip[3]
    return (ndc[0] + 1) / 2 * w, (1 - ndc[1]) / 2 * h


def test_the_brightest_read_link_joins_the_largest_weights_source_and_token(gl):
    from viz.offscreen import render_offscreen
    scene = flow_scene()
    for name in scene.names:
        scene.set_visible(name, name == "read.weights")
    lo, hi = scene.bbox()
    centre = (lo + hi) / 2
    size = (80, 60)
    scene.camera = Camera(position=[centre[0], centre[1], 50.0], near=0.1, far=1000.0)
    img = render_offscreen(scene, size)[..., :3].astype(int)
    brightness = img.sum(axis=2)
    y, x = np.unravel_index(np.argmax(brightness), brightness.shape)
    read = scene["read.weights"].layout
    k = int(np.flatnonzero((read.indices == STRONGEST).all(axis=1))[0])
    path = np.array([pixel(scene, p, size) for p in curve(read.tags["starts"][k], read.tags["ends"][k],
                                                          np.linspace(0, 1, 200))])
    assert np.min(np.hypot(path[:, 0] - x, path[:, 1] - y)) < 2.0   # on the strongest link
    mx, my = (int(round(v)) for v in pixel(scene, curve(read.tags["starts"][k], read.tags["ends"][k], 0.5), size))
    np.testing.assert_allclose(img[my, mx], np.round(lut("sequential")[255, :3] * 255), atol=3)
    other = [i for i in range(read.count) if i != k and read.indices[i][0] != STRONGEST[0]][0]
    ox, oy = (int(round(v)) for v in pixel(scene, curve(read.tags["starts"][other], read.tags["ends"][other], 0.5), size))
    assert brightness[oy, ox] < brightness[my, mx]


# -- the view model over a trace ---------------------------------------------------------------
@pytest.fixture(scope="module")
def trace():
    from ttm_fixtures import long_trace, tiny_model
    return long_trace(tiny_model(), min_steps=3)


def synced(trace, step=1):
    from studio.controller import Controller
    from studio.flow_view import FlowSync
    c = Controller(trace)
    c.set_step(step)
    sync = FlowSync(FlowScene(), c)
    sync.update()
    return c, sync


def test_steps_stack_along_depth_and_the_current_one_keeps_the_tensor_names(trace):
    from studio.flow_view import STEP_DEPTH, parse_name
    c, sync = synced(trace, step=1)
    scene = sync.scene
    assert scene["memory.before"].placement.origin[2] == -STEP_DEPTH
    assert scene["step0/memory.before"].placement.origin[2] == 0.0
    assert parse_name("compare/step2/read.weights").step == 2
    np.testing.assert_allclose(scene["memory.before"].layout.values,
                               trace["memory"][1].float().numpy().reshape(-1))
    # other steps dim: a wider colour range than the current step's
    lo, hi = scene["memory.before"].value_range
    assert scene["step0/memory.before"].value_range[1] > hi
    c.set_step(2)
    sync.update()
    assert scene["memory.before"].placement.origin[2] == -2 * STEP_DEPTH
    assert "step1/memory.before" in scene and "step2/memory.before" not in scene


def test_only_the_grid_layout_offers_every_step_memory(trace):
    """The flow lays every step in depth and draws memory before/after; switched to every-step
    memory it would draw the same and lose its memory picks, so its view panel has no switch."""
    from studio.controller import Controller
    from studio.layouts import make_view
    c = Controller(trace)
    assert make_view("grid", c)[1].shows_every_step_memory
    assert not make_view("flow", c)[1].shows_every_step_memory
    c.set_all_memory(True)
    c.select("memory.before", (1, 1))
    assert c.selection.value is None


def test_g_flies_to_the_graph_from_the_front_and_does_nothing_without_one(trace):
    import time
    from studio.controller import Controller
    from studio.flow_view import FlowSync
    from studio.navigation import Navigator
    from ttm.graph import extract

    class Viewer:                       # what Navigator uses of a TraceViewer
        def __init__(self, sync):
            self.scene, self.sync, self.framed = sync.scene, sync, None

        def frame_box(self, lo, hi):
            self.framed = (lo, hi)
            self.scene.camera.position = (lo + hi) / 2 + [0.0, 0.0, 200.0]

    sync = FlowSync(FlowScene(), Controller(trace), graph=extract(trace.model))
    deadline = time.monotonic() + 30
    while "graph" not in sync.scene:    # laid out on a worker thread
        assert time.monotonic() < deadline
        sync.update()
        time.sleep(0.01)
    viewer = Viewer(sync)
    camera = sync.scene.camera
    camera.yaw, camera.pitch, before = 30.0, -10.0, camera.position.copy()
    nav = Navigator(viewer)
    assert nav.graph()
    parts = [sync.scene[n].placement for n in ("graph", "graph.text")]
    np.testing.assert_allclose(viewer.framed[0], np.min([p.bbox_min for p in parts], 0))
    np.testing.assert_allclose(viewer.framed[1], np.max([p.bbox_max for p in parts], 0))
    target = nav.flight.target
    assert (target.yaw, target.pitch) == (0.0, 0.0)
    np.testing.assert_allclose(target.position[:2], ((viewer.framed[0] + viewer.framed[1]) / 2)[:2])
    np.testing.assert_allclose(camera.position, before)       # it flies there; no jump
    bare = FlowSync(FlowScene(), Controller(trace))
    bare.update()
    empty = Navigator(Viewer(bare))
    assert not empty.graph() and empty.flight is None


def test_the_graph_follows_the_current_step_in_depth(trace):
    """The graph stands under the current step's flow: stepping on moves its nodes and its text
    together (its node layout is kept from step to step, so only its origin changes)."""
    import time
    from studio.controller import Controller
    from studio.flow_view import STEP_DEPTH, FlowSync
    from ttm.graph import extract
    c = Controller(trace)
    sync = FlowSync(FlowScene(), c, graph=extract(trace.model))
    deadline = time.monotonic() + 30
    while "graph" not in sync.scene:
        assert time.monotonic() < deadline
        sync.update()
        time.sleep(0.01)
    for step in (2, 0):
        c.set_step(step)
        sync.update()
        for name in ("graph", "graph.text"):
            placement = sync.scene[name].placement
            assert placement.origin[2] == -STEP_DEPTH * step, (name, step)
            assert placement.bbox_max[2] <= sync.scene["memory.before"].placement.bbox_max[2] + 1.0


def test_a_kept_layout_moved_by_its_origin_is_placed_again_and_restructures():
    """The renderer builds its culling table from placements when the structure changes, so a
    group that moves by its origin alone (same layout object) must count as a change."""
    scene = flow_scene()
    layout = scene["memory.before"].layout
    before = scene.structure_version
    layout.tags["origin"] = np.array([0.0, 0.0, -50.0])
    scene.set_layout(layout)
    assert scene["memory.before"].placement.origin[2] == -50.0
    assert scene.structure_version != before
    again = scene.structure_version
    scene.set_layout(layout)                       # nothing moved: nothing to rebuild
    assert scene.structure_version == again


def test_the_camera_and_the_timeline_follow_each_other(trace):
    from studio.flow_view import STEP_DEPTH
    c, sync = synced(trace, step=1)
    cam = Camera(position=[0.0, 0.0, -STEP_DEPTH * 2 + 300.0], distance=300.0)
    assert sync.step_at(cam) == 2
    sync.show_steps_near(cam)                          # near step 2: step 0 far behind is hidden
    assert not sync.scene["step0/memory.before"].visible
    far = Camera(position=[0.0, 0.0, 5000.0], distance=300.0)
    sync.show_steps_near(far)                          # from afar every step shows
    assert sync.scene["step0/memory.before"].visible
    aside = Camera(position=[0.0, 0.0, 0.0], yaw=90.0)
    assert sync.step_at(aside) is None
    # a jump of the timeline from step 0 to 4 (the first miss's "go to step 4"): the camera on
    # step 0 followed the step it left, though it is far from the one it goes to
    on_step0 = Camera(position=[0.0, 0.0, 300.0], distance=300.0)
    c.set_step(4)
    assert not sync.follows(on_step0) and sync.follows(on_step0, 0)


def test_flights_arrive_and_fly_speed_follows_the_distance():
    cam = Camera(position=[0.0, 0.0, 10.0])
    target = Pose(np.array([5.0, 1.0, 3.0]), 350.0, -10.0, 4.0)
    flight = Flight(cam, target, seconds=0.3)
    flight.advance(cam, 0.1)
    assert 0 < cam.position[0] < 5.0 and not flight.done
    flight.advance(cam, 0.5)
    assert flight.done and np.allclose(cam.position, target.position) and cam.yaw == pytest.approx(350.0)
    assert blend(Pose(np.zeros(3), 10.0, 0, 1), Pose(np.zeros(3), 350.0, 0, 1), 0.5).yaw == pytest.approx(0.0)
    box = (np.array([-1.0, -1.0, -1.0]), np.array([1.0, 1.0, 1.0]))
    near, far = Camera(position=[0.0, 0.0, 3.0]), Camera(position=[0.0, 0.0, 30.0])
    assert fly_speed(near, [box]) < fly_speed(far, [box])
    assert fly_speed(Camera(position=[0.0, 0.0, 0.5]), [box]) > 0      # inside: still moves
    assert fly_speed(Camera(position=[0.0, 0.0, 1e6]), [box]) <= np.linalg.norm(box[1] - box[0]) + 1e-9


def test_a_read_link_can_be_picked_and_names_its_weight(gl):
    from viz.offscreen import pick_offscreen
    scene = flow_scene()
    for name in scene.names:
        scene.set_visible(name, name in ("read.weights", "memory.before"))
    lo, hi = scene.bbox()
    centre = (lo + hi) / 2
    scene.camera = Camera(position=[centre[0], centre[1], 50.0], near=0.1, far=1000.0)
    read = scene["read.weights"].layout
    k = int(np.flatnonzero((read.indices == STRONGEST).all(axis=1))[0])

    def path(i):
        return np.array([pixel(scene, p, (80, 60)) for p in
                         curve(read.tags["starts"][i], read.tags["ends"][i], np.linspace(0.05, 0.95, 60))])

    others = np.concatenate([path(i) for i in range(read.count) if i != k])
    mine = path(k)
    clear = [np.min(np.hypot(*(others - p).T)) for p in mine]     # the point farthest from other links
    x, y = mine[int(np.argmax(clear))]
    pick = pick_offscreen(scene, (80, 60), x, y)
    assert pick is not None and pick.name == "read.weights"
    assert pick.index_in_tensor == STRONGEST and pick.value == pytest.approx(0.9)
    voxel = scene["memory.before"].layout.positions[0]
    mx, my = pixel(scene, voxel, (80, 60))
    assert pick_offscreen(scene, (80, 60), mx, my).name == "memory.before"    # voxels still pick


def test_below_full_detail_links_have_fewer_segments_and_still_follow_their_curve(gl):
    """A moving frame draws each S-curve with fewer segments (viz.lod.Detail.segments): the
    strongest link still lies along its curve, and full detail is what it always was."""
    from viz.lod import FULL_DETAIL, MIN_SEGMENTS, Detail
    from viz.draw.ribbons import SEGMENTS
    from viz.offscreen import render_offscreen
    assert FULL_DETAIL.segments(SEGMENTS) == SEGMENTS
    assert MIN_SEGMENTS <= Detail(1.0, 0.3).segments(SEGMENTS) < Detail(1.0, 0.8).segments(SEGMENTS) < SEGMENTS
    assert Detail(1.0, 0.01).segments(SEGMENTS) == MIN_SEGMENTS
    scene = flow_scene()
    for name in scene.names:
        scene.set_visible(name, name == "read.weights")
    lo, hi = scene.bbox()
    centre, size = (lo + hi) / 2, (160, 120)
    scene.camera = Camera(position=[centre[0], centre[1], 50.0], near=0.1, far=1000.0)
    read = scene["read.weights"].layout
    k = int(np.flatnonzero((read.indices == STRONGEST).all(axis=1))[0])
    path = np.array([pixel(scene, p, size) for p in curve(read.tags["starts"][k], read.tags["ends"][k],
                                                          np.linspace(0.1, 0.9, 9))])
    full, coarse = (render_offscreen(scene, size, detail=d)[..., :3].astype(int).sum(axis=2)
                    for d in (FULL_DETAIL, Detail(1.0, 0.1)))
    for img in (full, coarse):
        lit = [img[int(round(y)) - 1:int(round(y)) + 2, int(round(x)) - 1:int(round(x)) + 2].max() for x, y in path]
        assert min(lit) > 0.8 * img.max()                # the brightest link, all along its curve
    assert not np.array_equal(full, coarse)              # ... drawn with other triangles


def test_a_hovered_flow_only_voxel_says_what_it_is():
    from studio.flow_view import flow_note
    from viz.picking import Pick
    assert flow_note(Pick("output", 3, (7,), 0.25)) == "output: p of 7 = 0.25"
    assert flow_note(Pick("step2/output", 9, (11,), 0.5)) == (
        "step 2: output: p of <EOS> = 0.5 (click: go to step 2)")
    assert flow_note(Pick("compare/memory.change", 4, (4,), 1.5)) == (
        "compared trace, memory slot 4: how far the step moved it (norm of after - before) = 1.5")
    assert flow_note(Pick("memory.before", 0, (0, 1), 0.1)) is None     # the inspector reads it
