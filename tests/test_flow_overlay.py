"""The causal overlays on the flow view: slot effects painted over the memory entering the step,
the graph's nodes by their relative change after an intervention, and both taken off again."""
import numpy as np
import pytest

from studio.causal_state import FULL_COLOUR_NATS
from studio.flow_overlay import GRAPH_LEGEND, MEMORY_LEGEND, change_shade, node_changes, paint
from viz.voxels import VoxelLayout


@pytest.fixture(scope="module")
def trace():
    from ttm_fixtures import long_trace, tiny_model
    return long_trace(tiny_model(seed=4), min_steps=3)


def synced(trace):
    from studio.controller import Controller
    from studio.flow_view import FlowSync
    from viz.flow_scene import FlowScene
    c = Controller(trace)
    c.set_step(1)
    sync = FlowSync(FlowScene(), c)
    sync.update()
    return c, sync


def test_slot_effects_paint_the_memory_entering_the_step_and_come_off_again(trace):
    c, sync = synced(trace)
    scene = sync.scene
    own = scene["memory.before"].layout.values.copy()
    own_range = scene["memory.before"].value_range
    c.set_ablation("zero")
    c.set_causal_overlay(True)
    assert c.wait_causal()
    sync.update()
    effects = c.slot_effects().effect.numpy()
    group = scene["memory.before"]
    slots = group.layout.indices[:, 0]
    np.testing.assert_allclose(group.layout.values, effects[slots], rtol=1e-6)
    top = max(float(np.abs(effects).max()), FULL_COLOUR_NATS)
    assert group.value_range == pytest.approx((-top, top))
    legend = scene[MEMORY_LEGEND].layout.tags["labels"][0].text
    assert legend.startswith("slot effects entering step 1")
    c.set_causal_overlay(False)
    sync.update()
    np.testing.assert_array_equal(scene["memory.before"].layout.values, own)
    assert scene["memory.before"].value_range == own_range and MEMORY_LEGEND not in scene


def test_a_chosen_digit_paints_each_slot_by_how_well_it_alone_tells_it(trace):
    """Memory entering the step, slot by slot: 0 (grey) at chance, 1 (orange) always right; the
    probes are ttm.probes' for the model and cell on view, and the inspector reads a slot's."""
    import torch
    from studio.selection import Selection
    from ttm import probes
    c, sync = synced(trace)
    scene = sync.scene
    own = scene["memory.before"].layout.values.copy()
    own_after = scene["memory.after"].layout.values.copy()
    with pytest.raises(ValueError, match="not a digit of 123 × 45"):
        c.set_probe_digit("a3")
    from studio.controller import Controller
    from studio.snapshot_history import compact
    with pytest.raises(ValueError, match="weights were not kept"):   # a history entry
        Controller(compact(trace)).set_probe_digit("a0")
    c.set_causal_overlay(True)
    c.set_probe_digit("a1")                       # a's tens; the slot effects make way
    assert c.probe_digit == "a1" and not c.causal_overlay
    assert c.wait_causal(120)
    sync.update()
    found = c.digit_probes()
    expected = probes.digit_probes(trace.model, (3, 2))
    assert found.cell == (3, 2) and torch.allclose(found.accuracy, expected.accuracy)
    i = found.digits.index("a1")
    chance = float(found.chance[i])
    gain = np.clip((found.accuracy[1, :, i].numpy() - chance) / (1 - chance), -1, 1)
    group = scene["memory.before"]
    np.testing.assert_allclose(group.layout.values, gain[group.layout.indices[:, 0]], rtol=1e-6)
    assert group.value_range == (-1.0, 1.0)
    lines = [label.text for label in scene[MEMORY_LEGEND].layout.tags["labels"]]
    assert lines[0].startswith("a's tens entering step 1: how well each slot alone tells it")
    assert lines[1].startswith(f"colour: grey = chance ({100 * chance:.0f}%)")
    leaving = scene["memory.after"]               # painted too: the memory the step wrote
    after = np.clip((found.accuracy[2, :, i].numpy() - chance) / (1 - chance), -1, 1)
    np.testing.assert_allclose(leaving.layout.values, after[leaving.layout.indices[:, 0]], rtol=1e-6)
    assert leaving.value_range == (-1.0, 1.0)
    best = int(found.accuracy[1, :, i].argmax())
    told = c.slot_digits(Selection("memory.before", (best, 0)))
    assert told.startswith("tells ") and probes.digit_label(found.slot(1, best)[0][0]) in told
    c.set_step(found.states)                      # past the shortest product's end: not probed
    assert c.overlay("memory.before") is None
    c.set_step(1)
    c.set_probe_digit(None)
    sync.update()
    np.testing.assert_array_equal(scene["memory.before"].layout.values, own)
    assert MEMORY_LEGEND not in scene and scene["memory.after"].range_override is None
    np.testing.assert_array_equal(scene["memory.after"].layout.values, own_after)


class _Changes:
    """A controller that has intervened at step 2 and knows each node's relative change."""
    graph_change_step = 2

    def __init__(self, changes):
        self.changes = changes

    def overlay(self, name):
        return None

    def graph_change(self):
        return self.changes


def _graph(names, members=None) -> VoxelLayout:
    n = len(names)
    return VoxelLayout(name="graph", label=f"graph [{n} nodes]", positions=np.c_[np.arange(n), np.zeros(n), np.zeros(n)],
                       values=np.arange(n) % 6, indices=np.arange(n)[:, None], colormap="categorical",
                       value_range=(0, 5), tags={"names": names, "members": members or [[x] for x in names],
                                                 "origin": np.zeros(3)})


def test_graph_nodes_take_their_relative_change_and_a_collapsed_layer_its_largest():
    from viz.flow_scene import FlowScene
    scene = FlowScene()
    scene.set_layout(_graph(["a", "layer0", "c"], [["a"], ["b1", "b2"], ["c"]]))
    changes = {"a": 0.0, "b1": 0.001, "b2": 0.5, "c": 2.0}
    assert node_changes(scene["graph"].layout, changes).tolist() == pytest.approx([0.0, 0.5, 2.0])
    paint(scene, _Changes(changes))
    drawn = scene["graph"].layout
    assert drawn.colormap == "sequential"
    assert drawn.values[0] == 0.0 < drawn.values[1] < drawn.values[2] == pytest.approx(drawn.value_range[1])
    first_line = scene[GRAPH_LEGEND].layout.tags["labels"][0].text
    assert first_line.startswith("graph [3 nodes]: ") and "after the edit at step 2" in first_line
    assert drawn.label == ""            # the legend carries it, so the two never overlap
    paint(scene, _Changes(None))
    assert GRAPH_LEGEND not in scene


def test_the_change_shade_keeps_exactly_unchanged_nodes_alone_at_the_dark_end():
    values, (lo, hi) = change_shade(np.array([0.0, 1e-9, 1e-4, 0.1, 2.0, np.inf]))
    assert lo == 0.0 and values[0] == 0.0
    assert 0.0 < values[1] == values[2] < values[3] < values[4] == values[5] == pytest.approx(hi)


def test_a_whole_slot_selection_lights_its_row_of_memory(trace):
    c, sync = synced(trace)
    c.select("memory.before", (2, 3))
    sync.update()
    assert sync.scene.selection is not None          # one cell: the selection box
    c.select_slot()
    sync.update()
    rows = sync.scene["memory.before"].highlight.reshape(trace["memory"].shape[1], -1)
    assert rows.all(1).tolist() == [i == 2 for i in range(len(rows))]
    assert not rows[np.arange(len(rows)) != 2].any()


def test_a_compacted_history_entry_still_draws_its_read_and_processed_tokens(trace):
    from studio.flow_data import step_arrays
    from studio.snapshot_history import compact
    old = step_arrays(compact(trace), 1)
    np.testing.assert_allclose(old.read_tokens, trace["read.tokens"][1].numpy(), rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(old.processed, trace["processed"][1].numpy(), rtol=2e-3, atol=2e-3)
    assert np.abs(old.read_tokens).max() > 0
