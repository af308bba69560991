"""Automatic placement of all groups on one canvas: no overlaps, stable order, aspect-aware."""
import itertools

import numpy as np
import pytest

from viz.mappers import map_tensor
from viz.mappers.generic import GenericMapper
from viz.labels import READABLE_PX, SPECK_PX, fit_labels, stand_ins
from viz.placement import CHAR_WIDTH, MAX_RATIO, place
from viz.scene import Scene


def layouts():
    rng = np.random.default_rng(0)
    shapes = [("graph", (6, 9)), ("memory", (5, 24, 32)), ("write.weights", (4, 24, 10)),
              ("extra", (7,)), ("read.weights", (4, 6, 34)), ("attention", (4, 2, 3, 6, 6)),
              ("embedding", (13, 32))]
    # Placement only reads names and positions: a grid stands in for the graph here.
    return [GenericMapper().map(name, rng.random(shape)) if name == "graph"
            else map_tensor(name, rng.random(shape)) for name, shape in shapes]


def overlap(a, b):
    return bool(np.all(a.bbox_min < b.bbox_max) and np.all(b.bbox_min < a.bbox_max))


def world_box(placements):
    return (np.min([p.bbox_min for p in placements], axis=0),
            np.max([p.bbox_max for p in placements], axis=0))


@pytest.mark.parametrize("aspect", [0.4, 1.0, 16 / 9, 3.0, 8.0])
def test_no_overlaps_and_boxes_match_voxels(aspect):
    groups = layouts()
    placed = place(groups, aspect)
    assert [p.name for p in placed] == [g.name for g in groups]  # same order as given
    for a, b in itertools.combinations(placed, 2):
        assert not overlap(a, b), (a.name, b.name)
    for g, p in zip(groups, placed):
        world = p.origin + p.scale * g.positions
        assert np.all(world - 0.5 * p.scale >= p.bbox_min - 1e-4)
        assert np.all(world + 0.5 * p.scale <= p.bbox_max + 1e-4)
        assert p.bbox_max[2] == pytest.approx(0.0)  # front faces line up at z = 0
        assert p.label_anchor[1] > p.bbox_max[1]


def test_wider_windows_get_wider_canvases():
    ratios = []
    for aspect in (0.4, 1.0, 3.0, 8.0):
        lo, hi = world_box(place(layouts(), aspect))
        ratios.append((hi - lo)[0] / (hi - lo)[1])
    assert ratios == sorted(ratios) and ratios[-1] > 2 * ratios[0]


def test_semantic_order_reads_left_to_right_top_to_bottom():
    placed = {p.name: p for p in place(layouts(), 1.0)}
    reading = sorted(placed, key=lambda n: (-round(placed[n].bbox_max[1], 3), placed[n].bbox_min[0]))
    assert reading == ["memory", "read.weights", "attention", "write.weights", "embedding",
                       "graph", "extra"]


def test_pure_function_of_its_inputs():
    groups = layouts()
    a, b = place(groups, 1.5), place(groups, 1.5)
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p.origin, q.origin)
    assert any(not np.array_equal(p.origin, q.origin) for p, q in zip(a, place(groups, 6.0)))


def test_huge_group_is_scaled_down_to_the_limit():
    rng = np.random.default_rng(1)
    groups = [map_tensor(f"small{i}", rng.random((8, 8))) for i in range(4)]
    groups.append(map_tensor("huge", rng.random((400, 500))))
    placed = place(groups, 1.0)
    huge = placed[-1]
    assert huge.scale == pytest.approx(MAX_RATIO * 8 / 500)
    assert max((huge.bbox_max - huge.bbox_min)[:2]) == pytest.approx(MAX_RATIO * 8)
    assert all(p.scale == 1.0 for p in placed[:-1])
    for a, b in itertools.combinations(placed, 2):
        assert not overlap(a, b)


def test_edge_cases():
    assert place([], 1.0) == []
    single = place([map_tensor("x", np.zeros(()))], 1.0)[0]
    np.testing.assert_allclose(single.bbox_max - single.bbox_min, [1, 1, 1])
    with pytest.raises(ValueError, match="aspect"):
        place(layouts(), 0.0)


@pytest.mark.parametrize("aspect", [0.6, 16 / 9, 4.0])
def test_labels_have_room_above_and_beside_their_group(aspect):
    groups = layouts()
    for g in groups:
        g.label = f"{g.name} [a label longer than most groups are wide]"
    placed = place(groups, aspect)
    for g, p in zip(groups, placed):
        text_lo = p.label_anchor[:2]
        text_hi = text_lo + [CHAR_WIDTH * p.label_height * len(g.label), p.label_height]
        assert text_lo[1] >= p.bbox_max[1]
        for h, q in zip(groups, placed):   # the text box runs into no group, nor another's text
            if q is p:
                continue
            q_text_lo = q.label_anchor[:2]
            q_text_hi = q_text_lo + [CHAR_WIDTH * q.label_height * len(h.label), q.label_height]
            for lo, hi in ((q.bbox_min[:2], q.bbox_max[:2]), (q_text_lo, q_text_hi)):
                assert not (np.all(text_lo < hi) and np.all(lo < text_hi)), (g.name, q.name)


def test_hidden_groups_take_no_room():
    scene = Scene(aspect=1.0)
    for g in layouts():
        scene.set_layout(g)
    everything = scene.bbox()
    scene.set_visible("memory", False)
    shown = [g for g in scene if g.visible]
    for g, p in zip(shown, place([g.layout for g in shown], 1.0)):
        np.testing.assert_allclose(g.placement.origin, p.origin)
    assert np.prod((scene.bbox()[1] - scene.bbox()[0])[:2]) < np.prod((everything[1] - everything[0])[:2])
    scene.set_visible("memory", True)
    np.testing.assert_allclose(scene.bbox()[0], everything[0])


def test_the_structure_version_moves_with_what_is_drawn_where_not_with_values():
    scene = Scene(aspect=1.0)
    memory, extra = layouts()[1], layouts()[3]
    versions = [scene.structure_version]

    def moved() -> bool:
        versions.append(scene.structure_version)
        return versions[-1] != versions[-2]

    scene.set_layout(memory)
    assert moved()                                       # a group added
    scene.set_layout(extra)
    assert moved()
    scene.update_values("extra", np.zeros(7))
    scene.set_range("extra", (0.0, 2.0))
    scene.set_highlight("extra", np.ones(7, bool))
    assert not moved()                                   # values, colours and marks only
    scene.set_visible("extra", False)
    assert moved()                                       # hidden
    scene.set_visible("extra", False)
    assert not moved()                                   # already hidden: nothing changed
    scene.relayout(aspect=2.0)
    assert moved()                                       # placed again
    values = scene["extra"].values_version
    scene.set_layout(map_tensor("extra", np.full(7, 3.0)))
    assert not moved()                                   # the same voxels with new values
    assert scene["extra"].values_version == values + 1
    np.testing.assert_array_equal(scene["extra"].layout.values, np.full(7, 3.0, np.float32))
    scene.set_layout(map_tensor("extra", np.ones(8)))
    assert moved()                                       # a new layout: other voxels
    scene.remove("extra")
    assert moved()
    assert Scene().structure_version not in versions     # a fresh scene never looks unchanged
    assert scene.shown() == [scene["memory"]]


def test_labels_seen_from_afar_are_cut_where_the_next_begins():
    width = lambda text: 7.0 * len(text)  # noqa: E731  (a monospace font, 7 px a character)
    labels = [("memory entering step 2", 0.0, 10.0), ("read weights [16x106]", 60.0, 12.0),
              ("graph", 0.0, 40.0), ("attention", 200.0, 10.0)]
    fitted = fit_labels(labels, width, 13.0, right=250.0)
    assert fitted[0] == ("memo...", 0.0, 10.0)             # cut before "read weights" on its line
    assert fitted[1][0].endswith("...") and width(fitted[1][0]) <= 200 - 60 - 6
    assert fitted[2] == ("graph", 0.0, 40.0)               # alone on its line: whole
    assert fitted[3][0] == "att..."                        # cut at the right edge
    assert fit_labels([("x", 0.0, 0.0), ("y", 1.0, 0.0)], width, 13.0, 100.0) == [("y", 1.0, 0.0)]   # no room: dropped


def test_stand_ins_replace_small_scene_text_biggest_first_where_it_has_room():
    def size(text):
        return 7.0 * len(text), 13.0
    small = READABLE_PX - 1
    labels = [("matmul", 100.0, 50.0, 2.0, 0.5, 0.0),          # a node name, centred over its node
              ("process: layer 0", 150.0, 90.0, small, 1.0, 0.5),  # a lane title, right-aligned
              ("add", 300.0, 50.0, READABLE_PX, 0.5, 0.0),      # reads in the scene already
              ("qkv", 140.0, 50.0, 2.0, 0.5, 0.0),              # clear of matmul
              ("mul", 110.0, 50.0, 2.0, 0.5, 0.0),              # on top of matmul: dropped
              ("out", 395.0, 50.0, 2.0, 0.5, 0.0),              # runs past the scene's edge
              ("far", 200.0, 150.0, SPECK_PX / 2, 0.5, 0.0)]    # a speck of a far-off graph
    placed = stand_ins(labels, size, inside=(0.0, 0.0, 400.0, 300.0))
    assert [labels[i][0] for i, *_ in placed] == ["process: layer 0", "matmul", "qkv"]
    by_text = {labels[i][0]: box for i, *box in placed}
    assert by_text["matmul"] == [100.0 - 21.0, 50.0 - 13.0, 42.0, 13.0]       # centred, on the baseline
    assert by_text["process: layer 0"] == [150.0 - 112.0, 90.0 - 6.5, 112.0, 13.0]
    boxes = list(by_text.values())
    assert all(a[0] + a[2] <= b[0] or b[0] + b[2] <= a[0] or a[1] + a[3] <= b[1] or b[1] + b[3] <= a[1]
               for k, a in enumerate(boxes) for b in boxes[k + 1:])
    assert stand_ins(labels, size, inside=(200.0, 0.0, 400.0, 300.0)) == []   # all out of the scene
    under_a_group_label = stand_ins(labels, size, (0.0, 0.0, 400.0, 300.0), taken=[(70.0, 30.0, 50.0, 13.0)])
    assert [labels[i][0] for i, *_ in under_a_group_label] == ["process: layer 0", "qkv"]
