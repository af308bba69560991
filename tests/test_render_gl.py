"""The renderer, picking and level of detail, on tiny offscreen framebuffers (80 x 60).

Pixels are compared with the colours the mapped values must get: lut[round(t * 255)] for
t = normalize(value), lit head-on (ambient + diffuse = 1). A cube face that faces the camera shows
exactly that colour, drawn as a cube or traced in a slab; sprites stand in for a cube with the
area-weighted light of the faces it would show (`cube_shade`), which the test computes the same way.
"""
from __future__ import annotations

import numpy as np
import pytest

from viz import lod
from viz.camera import Camera
from viz.colormap import lut, normalize
from viz.scene import Scene
from viz.voxels import VoxelLayout

W, H = 80, 60
HEAD_ON = (0.0, 0.0, 1.0)
ATOL = 2  # 8-bit rounding of the lookup table


def make_layout(name, positions, values, colormap="sequential", value_range=(0.0, 1.0), edges=None):
    positions = np.asarray(positions, np.float32)
    return VoxelLayout(name, f"{name} label", positions, np.asarray(values, np.float32),
                       np.arange(len(positions))[:, None], colormap, value_range, edges=edges)


def sheet(nx, ny):
    """(nx * ny, 3) voxel centres of a sheet facing +z, row-major, rows going down."""
    y, x = np.mgrid[0:ny, 0:nx]
    return np.stack([x.ravel(), -y.ravel(), np.zeros(nx * ny)], axis=1)


def front_view(scene: Scene, distance: float) -> None:
    """Camera straight down -z at the middle of the scene, `distance` in front of it."""
    lo, hi = scene.bbox()
    centre = (lo + hi) / 2.0
    scene.camera = Camera(position=[centre[0], centre[1], hi[2] + distance], near=0.05, far=10_000.0)


def pixel_of(scene: Scene, name: str, voxel: int) -> tuple[int, int]:
    """(x, y) from the top-left of the pixel under a voxel's centre."""
    g = scene[name]
    p = np.append(g.world(g.layout.positions[voxel]), 1.0)
    clip = scene.camera.projection_matrix(W / H) @ scene.camera.view_matrix() @ p
    ndc = clip[:3] / clip[3]
    return int((ndc[0] + 1) / 2 * W), int((1 - ndc[1]) / 2 * H)


def expected(colormap: str, value: float, value_range=(0.0, 1.0), shade: float = 1.0) -> np.ndarray:
    t = float(normalize(np.array([value]), value_range, colormap)[0])
    return np.round(lut(colormap)[int(round(t * 255)), :3] * shade * 255)


def cube_shade(to_eye: np.ndarray) -> float:
    """How sprites light the cube they stand in for seen along `to_eye`, for the head-on light of a
    camera looking down -z: the faces toward the eye, weighted by |to_eye| per axis."""
    from viz.renderer import Light
    light = Light()
    lit = np.array([light.ambient] * 2 + [light.ambient + light.diffuse])   # only +z faces the light
    return float(np.abs(to_eye) @ lit / np.abs(to_eye).sum())


def sprite_shade(scene: Scene, name: str, voxel: int) -> float:
    """cube_shade of a sprite: lit once, at the voxel's centre."""
    g = scene[name]
    return cube_shade(scene.camera.position - g.world(g.layout.positions[voxel]))


def setup(gl, scene: Scene, settings: lod.LodSettings | None = None):
    from viz.offscreen import renderer_for
    from viz.renderer import Light
    renderer = renderer_for(scene)
    renderer.light = Light(direction=HEAD_ON)
    if settings is not None:
        renderer.lod = settings
    return renderer


def render(scene):
    from viz.offscreen import render_offscreen
    return render_offscreen(scene, (W, H))


FORCED = {"cubes": lod.LodSettings(cube_px=0.0, slab_px=0.0),
          "sprites": lod.LodSettings(cube_px=1e9, slab_px=0.0, grid_sprites=True),
          "slab": lod.LodSettings(cube_px=1e9, slab_px=1e9)}


def test_background_is_pure_black(gl):
    scene = Scene(aspect=W / H)
    scene.set_layout(make_layout("a", [[0, 0, 0]], [0.5]))
    front_view(scene, 6.0)
    setup(gl, scene)
    img = render(scene)
    assert img.shape == (H, W, 4) and img.dtype == np.uint8
    for corner in (img[0, 0], img[0, -1], img[-1, 0], img[-1, -1]):
        assert tuple(corner[:3]) == (0, 0, 0)
    assert img[H // 2, W // 2, :3].sum() > 0   # and the voxel is there


@pytest.mark.parametrize("mode", ["cubes", "sprites", "slab"])
@pytest.mark.parametrize("colormap,value,value_range", [
    ("sequential", 1.0, (0.0, 1.0)),      # top of the scale
    ("diverging", -2.0, (-2.0, 2.0)),     # bottom of the scale
    ("diverging", 0.0, (-1.0, 1.0)),      # the middle
])
def test_a_value_shows_its_colour_at_every_level_of_detail(gl, mode, colormap, value, value_range):
    scene = Scene(aspect=W / H)
    scene.set_layout(make_layout("a", [[0, 0, 0]], [value], colormap, value_range))
    front_view(scene, 3.0)
    renderer = setup(gl, scene, FORCED[mode])
    img = render(scene)
    stats = renderer.stats
    assert (stats.cubes, stats.sprites, stats.slab_voxels)["cubes sprites slab".split().index(mode)] == 1
    x, y = pixel_of(scene, "a", 0)
    shade = sprite_shade(scene, "a", 0) if mode == "sprites" else 1.0
    np.testing.assert_allclose(img[y, x, :3], expected(colormap, value, value_range, shade), atol=ATOL)


@pytest.mark.parametrize("mode", ["cubes", "sprites", "slab"])
def test_picking_returns_the_voxel_under_the_pixel(gl, mode):
    from viz.offscreen import pick_offscreen
    scene = Scene(aspect=W / H)
    values = np.linspace(0.0, 1.0, 12)
    layout = make_layout("grid", sheet(4, 3), values)
    layout.indices = np.stack(np.unravel_index(np.arange(12), (3, 4)), axis=1)
    scene.set_layout(layout)
    scene.set_layout(make_layout("other", sheet(2, 2), [0.1] * 4))
    front_view(scene, 12.0)
    renderer = setup(gl, scene, FORCED[mode])
    render(scene)
    for voxel in (0, 5, 11):
        x, y = pixel_of(scene, "grid", voxel)
        pick = pick_offscreen(scene, (W, H), x, y)
        assert pick is not None, f"nothing picked at {(x, y)} for voxel {voxel} ({renderer.stats})"
        assert (pick.name, pick.voxel) == ("grid", voxel)
        assert pick.index_in_tensor == tuple(np.unravel_index(voxel, (3, 4)))
        assert pick.value == pytest.approx(values[voxel])
    assert pick_offscreen(scene, (W, H), 0, 0) is None          # background
    assert pick_offscreen(scene, (W, H), W + 5, 3) is None      # off the viewport
    assert gl.error == "GL_NO_ERROR"


def test_a_hidden_group_draws_nothing_and_cannot_be_picked(gl):
    from viz.offscreen import pick_offscreen
    scene = Scene(aspect=W / H)
    scene.set_layout(make_layout("a", sheet(3, 3), np.ones(9)))
    front_view(scene, 8.0)
    setup(gl, scene)
    assert render(scene)[..., :3].any()
    scene.set_visible("a", False)
    assert not render(scene)[..., :3].any()
    x, y = pixel_of(scene, "a", 4)
    assert pick_offscreen(scene, (W, H), x, y) is None


def test_update_values_changes_the_pixels_and_sends_only_that_buffer(gl):
    scene = Scene(aspect=W / H)
    scene.set_layout(make_layout("a", sheet(3, 3), np.zeros(9)))
    scene.set_layout(make_layout("b", sheet(3, 3), np.zeros(9)))
    front_view(scene, 14.0)
    renderer = setup(gl, scene, FORCED["cubes"])
    render(scene)
    x, y = pixel_of(scene, "a", 4)
    before = render(scene)[y, x, :3].copy()
    assert renderer.stats.uploaded_bytes == 0            # nothing changed, nothing sent
    scene.update_values("a", np.ones(9))
    after = render(scene)[y, x, :3]
    assert renderer.stats.uploaded_bytes == 9 * 4        # one float per voxel of one group
    np.testing.assert_allclose(before, expected("sequential", 0.0), atol=ATOL)
    np.testing.assert_allclose(after, expected("sequential", 1.0), atol=ATOL)
    with pytest.raises(ValueError, match="want 9"):
        scene.update_values("a", np.ones(8))


def test_a_new_snapshot_of_the_same_tensor_sends_only_its_values(gl):
    """set_layout with a layout of the same geometry (what each training snapshot brings) recolours
    like update_values: the pixels follow the new values, one float per voxel is sent, and the
    chunk table stays; a layout with other voxels is uploaded whole."""
    scene = Scene(aspect=W / H)
    scene.set_layout(make_layout("a", sheet(3, 3), np.zeros(9)))
    front_view(scene, 8.0)
    renderer = setup(gl, scene, FORCED["cubes"])
    render(scene)
    table, (x, y) = renderer.table, pixel_of(scene, "a", 4)
    scene.set_layout(make_layout("a", sheet(3, 3), np.ones(9)))
    after = render(scene)[y, x, :3]
    assert renderer.stats.uploaded_bytes == 9 * 4 and renderer.table is table
    np.testing.assert_allclose(after, expected("sequential", 1.0), atol=ATOL)
    scene.set_layout(make_layout("a", sheet(3, 3) + np.float32([0, 0, 1]), np.ones(9)))
    render(scene)
    assert renderer.stats.uploaded_bytes > 9 * 4 and renderer.table is not table


def test_the_chunk_table_is_rebuilt_only_when_the_structure_changes(gl):
    from viz.offscreen import pick_offscreen
    scene = Scene(aspect=W / H)
    scene.set_layout(make_layout("a", sheet(3, 3), np.zeros(9)))
    scene.set_layout(make_layout("b", sheet(3, 3), np.zeros(9)))
    front_view(scene, 14.0)
    renderer = setup(gl, scene)
    render(scene)
    table = renderer.table
    scene.update_values("a", np.ones(9))
    scene.set_range("b", (0.0, 2.0))
    scene.set_highlight("a", np.ones(9, bool))
    render(scene)
    assert renderer.table is table                        # new values: the same chunks
    scene.set_visible("b", False)                         # `a` is placed again, alone
    front_view(scene, 8.0)
    render(scene)
    assert renderer.table is not table and renderer.table.n_groups == 1
    x, y = pixel_of(scene, "a", 4)
    assert (pick_offscreen(scene, (W, H), x, y).name, renderer.stats.groups_drawn) == ("a", 1)
    table = renderer.table
    scene.relayout(aspect=3.0)
    render(scene)
    assert renderer.table is not table                    # placed again: rebuilt
    np.testing.assert_allclose(renderer.table.lo.min(0), scene["a"].placement.bbox_min, atol=1e-5)


def test_a_colour_range_override_recolours(gl):
    scene = Scene(aspect=W / H)
    scene.set_layout(make_layout("a", [[0, 0, 0]], [0.5]))
    front_view(scene, 3.0)
    setup(gl, scene)
    x, y = pixel_of(scene, "a", 0)
    np.testing.assert_allclose(render(scene)[y, x, :3], expected("sequential", 0.5), atol=ATOL)
    scene.set_range("a", (0.0, 0.5))
    np.testing.assert_allclose(render(scene)[y, x, :3], expected("sequential", 1.0), atol=ATOL)


def test_a_far_group_becomes_a_slab_with_the_right_colours(gl):
    """Voxels under ~1.5 px are drawn as one textured slab, and it still shows (and picks) each value."""
    from viz.offscreen import pick_offscreen
    scene = Scene(aspect=W / H)
    rng = np.random.default_rng(0)
    values = rng.random(64 * 48)
    scene.set_layout(make_layout("far", sheet(64, 48), values))
    front_view(scene, 100.0)                                   # about half a pixel per voxel
    scene.camera.position += [0.13, 0.07, 0.0]     # keep the group's edges off pixel centres
    renderer = setup(gl, scene)
    img = render(scene)
    assert renderer.stats.slab_voxels == 64 * 48 and renderer.stats.cubes == renderer.stats.sprites == 0
    hits = 0
    for voxel in rng.choice(len(values), 40, replace=False):
        x, y = pixel_of(scene, "far", voxel)
        pick = pick_offscreen(scene, (W, H), x, y)
        if pick is None:
            continue   # the pixel centre fell between voxels
        hits += 1
        np.testing.assert_allclose(img[y, x, :3], expected("sequential", values[pick.voxel]), atol=ATOL)
        assert abs(pick.voxel - voxel) in (0, 1, 63, 64, 65)   # this voxel or a neighbour
    assert hits >= 30


def test_lod_mixes_cubes_sprites_and_culls_what_is_behind(gl):
    """A long row running away from the camera: cubes near, sprites or slabs far, nothing behind."""
    scene = Scene(aspect=W / H)
    n = 40_000
    scene.set_layout(make_layout("row", np.stack([np.arange(n) % 20, np.zeros(n), -(np.arange(n) // 20)], 1),
                                 np.linspace(0, 1, n)))
    g = scene["row"]
    mid = g.world(np.array([10.0, 0.0, -1000.0]))
    scene.camera = Camera(position=mid + np.array([0.0, 3.0, 0.0]), near=0.05, far=5000.0)
    renderer = setup(gl, scene, lod.LodSettings())
    render(scene)
    s = renderer.stats
    assert s.cubes > 0 and s.sprites + s.slab_voxels > 0 and s.chunks_culled > 0
    assert s.cubes + s.sprites + s.slab_voxels < n


def test_highlighted_voxels_are_brighter(gl):
    scene = Scene(aspect=W / H)
    scene.set_layout(make_layout("a", sheet(2, 1), [0.3, 0.3]))
    front_view(scene, 4.0)
    setup(gl, scene, FORCED["cubes"])
    img0 = render(scene)
    scene.set_highlight("a", [False, True])
    img1 = render(scene)
    x0, y0 = pixel_of(scene, "a", 0)
    x1, y1 = pixel_of(scene, "a", 1)
    np.testing.assert_array_equal(img0[y0, x0], img1[y0, x0])
    assert img1[y1, x1, :3].astype(int).sum() > img0[y1, x1, :3].astype(int).sum() + 60


@pytest.mark.parametrize("mode", ["cubes", "sprites", "slab"])
def test_nan_is_grey_and_highlight_shows_at_every_level_of_detail(gl, mode):
    scene = Scene(aspect=W / H)
    scene.set_layout(make_layout("a", sheet(3, 1), [0.2, 0.2, 0.2]))
    scene.set_layout(make_layout("empty", np.zeros((0, 3)), []))      # nothing to draw, nothing breaks
    front_view(scene, 5.0)
    setup(gl, scene, FORCED[mode])
    plain = render(scene)
    scene.update_values("a", [np.nan, 0.2, 0.2])
    scene.set_highlight("a", [False, False, True])
    img = render(scene)
    (x0, y0), (x1, y1), (x2, y2) = (pixel_of(scene, "a", i) for i in range(3))
    shade = sprite_shade(scene, "a", 0) if mode == "sprites" else 1.0
    np.testing.assert_allclose(img[y0, x0, :3], np.round(0.35 * 255 * shade), atol=ATOL)
    np.testing.assert_array_equal(img[y1, x1], plain[y1, x1])
    assert img[y2, x2, :3].astype(int).sum() > plain[y2, x2, :3].astype(int).sum() + 60


def test_edges_selection_labels_and_empty_sizes(gl):
    from viz.offscreen import render_offscreen
    scene = Scene(aspect=W / H)
    scene.set_layout(make_layout("graph", [[0, 0, 0], [12, 0, 0]], [1.0, 1.0], edges=[[0, 1]]))
    front_view(scene, 14.0)
    renderer = setup(gl, scene)
    img = render(scene)
    (xa, ya), (xb, yb) = pixel_of(scene, "graph", 0), pixel_of(scene, "graph", 1)
    assert img[(ya + yb) // 2, (xa + xb) // 2, :3].any()          # the edge between them
    scene.selection = ("graph", 0)
    assert (render(scene) != img).any()
    unlabelled = make_layout("names", [[6, 2, 0]], [1.0])
    unlabelled.label = ""                  # no text: it must not cut its neighbours' labels short
    scene.set_layout(unlabelled)
    labels = renderer.project_labels(scene, (W, H))
    assert [text for text, _, _ in labels] == ["graph label"]
    assert all(0 <= x <= W and 0 <= y <= H for _, x, y in labels)
    assert render_offscreen(scene, (0, 0)).shape == (0, 0, 4)
    renderer.render(scene, (0, 37))                                  # a minimized window
    assert renderer.project_labels(scene, (0, 0)) == []


def test_a_viewport_keeps_the_scene_centred_in_its_rectangle(gl):
    scene = Scene(aspect=1.0)
    scene.set_layout(make_layout("a", sheet(3, 3), np.ones(9)))
    front_view(scene, 8.0)
    renderer = setup(gl, scene)
    fbo = gl.simple_framebuffer((W, H))
    fbo.use()
    vp = (40, 10, 30, 30)                               # x, y, w, h from the top-left
    renderer.render(scene, (W, H), viewport=vp)
    img = np.frombuffer(fbo.read(components=3), np.uint8).reshape(H, W, 3)[::-1]
    (y0, x0), (y1, x1) = np.argwhere(img.sum(-1) > 0).min(0), np.argwhere(img.sum(-1) > 0).max(0)
    assert 40 <= x0 and x1 < 70 and 10 <= y0 and y1 < 40   # nothing outside the rectangle ...
    assert abs((x0 + x1) / 2 - 54.5) <= 1 and abs((y0 + y1) / 2 - 24.5) <= 1   # ... centred in it
    [(_, x, y)] = renderer.project_labels(scene, (W, H), viewport=vp)
    assert 40 <= x < 70 and 10 <= y < 40
    # fbo is not released: it stays the bound framebuffer, and moderngl binds the bound one again
    # after making another, which is a GL error once it is deleted


def test_lod_plan_without_gl():
    """Chunking and the per-chunk choice are pure numpy: near cubes, small slabs, budgets, culling."""
    pos = sheet(200, 100).astype(np.float32)
    chunks = lod.chunk_layout(pos)
    assert sorted(chunks.perm.tolist()) == list(range(len(pos)))
    assert chunks.count.sum() == len(pos) and chunks.grid is not None
    assert (np.diff(chunks.start) == chunks.count[:-1]).all()
    table = lod.ChunkTable.build([chunks], [np.zeros(3)], [1.0])
    cam = Camera(position=[100.0, -50.0, 30.0], near=0.1, far=1e4)
    view, proj = cam.view_matrix(), cam.projection_matrix(16 / 9)
    near = lod.plan(table, view, proj, (1280, 720), lod.LodSettings())
    assert set(near.mode.tolist()) == {lod.CUBES, lod.CULLED}         # close: cubes, or out of view
    capped = lod.plan(table, view, proj, (1280, 720), lod.LodSettings(max_cubes=5000))
    assert 0 < capped.voxels(table, lod.CUBES) < 5000 + chunks.count.max()   # the nearest chunks stay cubes
    assert set(capped.mode.tolist()) == {lod.CUBES, lod.SLAB, lod.CULLED}    # the rest: slabs (on a grid)
    cam.position = np.array([100.0, -50.0, 5000.0])
    far = lod.plan(table, cam.view_matrix(), proj, (1280, 720), lod.LodSettings())
    assert (far.mode == lod.SLAB).all()
    loose = lod.chunk_layout(pos * 1.37)                              # off any grid (a graph layout)
    assert loose.grid is None
    mid = lod.plan(lod.ChunkTable.build([chunks, loose], [np.zeros(3), np.array([0.0, -200.0, 0.0])],
                                        [1.0, 1.0 / 1.37]),
                   Camera(position=[100.0, -150.0, 250.0], far=1e4).view_matrix(), proj, (1280, 720),
                   lod.LodSettings())
    assert set(mid.mode[:chunks.size].tolist()) <= {lod.SLAB, lod.CULLED}   # mid-size, on a grid
    assert lod.SPRITES in set(mid.mode[chunks.size:].tolist())             # mid-size, off the grid
    cam.yaw = 180.0                                                   # looking away
    away = lod.plan(table, cam.view_matrix(), proj, (1280, 720), lod.LodSettings())
    assert (away.mode == lod.CULLED).all()


def test_plan_runs_are_draw_calls_over_consecutive_instances():
    """Each run is (group, first instance, instance count) of consecutive chunks of one group in
    one mode, nearest first; together the runs cover exactly that mode's instances."""
    chunks = [lod.chunk_layout(sheet(200, 100).astype(np.float32)), lod.chunk_layout(sheet(50, 40) * 1.37)]
    table = lod.ChunkTable.build(chunks, [np.zeros(3), np.array([0.0, -200.0, 0.0])], [1.0, 1.0 / 1.37])
    cam = Camera(position=[60.0, -80.0, 90.0], near=0.1, far=1e4)
    plan = lod.plan(table, cam.view_matrix(), cam.projection_matrix(16 / 9), (1280, 720),
                    lod.LodSettings(max_cubes=5000))
    assert {lod.CUBES, lod.SLAB, lod.CULLED} <= set(plan.mode.tolist())
    for mode in (lod.CUBES, lod.SPRITES, lod.SLAB):
        groups, first, count = plan.runs(table, mode)
        assert count.sum() == plan.voxels(table, mode)
        drawn = {(g, i) for g, f, n in zip(groups, first, count) for i in range(f, f + n)}
        chosen = {(table.group[c], i) for c in np.flatnonzero(plan.mode == mode)
                  for i in range(table.start[c], table.start[c] + table.count[c])}
        assert drawn == chosen and len(drawn) == count.sum()           # each instance once
        near = [plan.depth[(table.group == g) & (table.start >= f) & (table.start < f + n)].min()
                for g, f, n in zip(groups, first, count)]
        assert near == sorted(near)
    in_view = plan.in_view(table)
    assert in_view.tolist() == [bool((plan.mode[table.group == g] != lod.CULLED).any()) for g in range(2)]


def assert_shows_voxels(path, size: tuple[int, int], black_border: bool = True) -> None:
    """A PNG of `size` whose middle is filled with voxels of many colours (not an empty or a flat
    frame) and, with `black_border`, the black background all around them."""
    from PIL import Image
    with Image.open(path) as image:
        assert (image.format, image.size) == ("PNG", size)
        img = np.asarray(image.convert("RGB")).astype(int)
    h, w = img.shape[:2]
    middle = img[h // 4: 3 * h // 4, w // 4: 3 * w // 4].reshape(-1, 3)
    assert (middle.sum(-1) > 60).mean() > 0.5, "the middle of the picture is (nearly) black"
    assert len(np.unique(middle, axis=0)) > 10, "the middle of the picture is one flat colour"
    if black_border:
        assert not np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]]).any()


def window_scenario(out_dir: str) -> None:
    """Drive a headless Viewer by events; run by the test below in a fresh process, because a window
    and the tests' standalone EGL context must not share one (HEADLESS_GL.md traps 4 and 5)."""
    from pathlib import Path

    from viz.window import Viewer  # first: it switches pyglet to headless before pyglet.window loads
    from pyglet.window import key, mouse  # noqa: I001
    scene = Scene(aspect=4 / 3)
    scene.set_layout(make_layout("a", sheet(7, 5), np.linspace(0, 1, 35)))   # a voxel at the centre
    v = Viewer(scene, 160, 120, visible=False)

    def send(*event):   # pyglet queues events sent from outside its loop: deliver them now
        v.dispatch_event(*event)
        v.dispatch_events()

    v.frame_all()
    v.run_frames(1)
    send("on_mouse_motion", 80, 60, 1, 1)                  # pyglet points: from the bottom-left
    v.run_frames(1)
    assert v.hover is not None and v.hover.name == "a", v.hover
    assert scene.hover == ("a", v.hover.voxel)
    send("on_mouse_press", 80, 60, mouse.LEFT, 0)
    send("on_mouse_release", 80, 60, mouse.LEFT, 0)
    assert scene.selection == ("a", v.hover.voxel) and v.selected == v.hover, (v.selected, v.hover)
    yaw = scene.camera.yaw
    send("on_mouse_press", 80, 60, mouse.RIGHT, 0)
    send("on_mouse_drag", 100, 60, 20, 0, mouse.RIGHT, 0)
    send("on_mouse_release", 100, 60, mouse.RIGHT, 0)
    assert scene.camera.yaw != yaw and scene.selection == ("a", v.hover.voxel)   # a drag is no click
    distance = scene.camera.distance
    send("on_mouse_scroll", 80, 60, 0, 1)
    assert scene.camera.distance < distance
    send("on_key_press", key.F, 0)                         # frame the selection
    v.screenshot_dir = Path(out_dir)
    send("on_key_press", key.F12, 0)
    v.run_frames(1)
    v.scene_rect = lambda w, h: (w / 2, 0, w / 2, h)       # panels on the left: the scene right
    v.frame_all()
    v.run_frames(1)
    send("on_mouse_motion", 120, 60, 1, 1)                 # the middle of the right half
    v.run_frames(1)
    assert v.hover is not None and v.hover.voxel == 17, v.hover   # the sheet's centre voxel
    send("on_mouse_motion", 40, 60, 1, 1)
    v.run_frames(1)
    assert v.hover is None
    for size in [(1, 1), (0, 0), (0, 120), (3000, 2000), (160, 120)]:   # zero, tiny, huge: no crash
        v.get_framebuffer_size = lambda size=size: size    # headless surfaces never really resize
        v.get_size = v.get_framebuffer_size
        send("on_resize", *size)
        send("on_mouse_motion", 10, 10, 1, 1)
        v.run_frames(1)
    del v.get_framebuffer_size, v.get_size
    [shot] = Path(out_dir).glob("*.png")
    assert_shows_voxels(shot, (160, 120), black_border=False)    # labels and tooltip reach the edges
    assert v.ctx.error == "GL_NO_ERROR"
    v.close()


def test_the_window_runs_headless(tmp_path, gl_ctx):
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env["PYTHONPATH"] = str(root)
    run = subprocess.run([sys.executable, "-c", "import tests.test_render_gl as t; "
                          f"t.window_scenario({str(tmp_path)!r})"],
                         cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    np.save(tmp_path / "t.npy", np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    out = tmp_path / "preview.png"
    run = subprocess.run([sys.executable, "-m", "studio.preview", str(tmp_path / "t.npy"), "--headless",
                          "--frames", "2", "--size", "96x64", "--screenshot", str(out)],
                         cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert_shows_voxels(out, (96, 64))
