"""The app's state without GL: editing memory with replay and undo, the timeline, the snapshot
history ring buffer, the trainer it owns, and the panels on a bare imgui context."""
import math
import time

import numpy as np
import pytest
import torch

from studio.controller import Controller
from studio.snapshot_history import compact
from studio.view import SceneSync
from studio.walkthrough import outcome
from ttm import causal
from ttm.trace import STEP_NAMES, Trace
from ttm.train import Snapshot, TrainConfig, Trainer
from ttm_fixtures import long_trace, tiny_config, tiny_model
from viz.scene import Scene

PER_STEP = STEP_NAMES + ("prediction", "inputs", "attention")


@pytest.fixture(scope="module")
def trace():
    return long_trace(tiny_model(seed=3), min_steps=5)


def assert_same_trace(a: Trace, b: Trace) -> None:
    assert sorted(a.tensors) == sorted(b.tensors)
    for name in a.tensors:
        assert torch.equal(a[name], b[name]), name


def test_edit_changes_only_the_steps_after_it_and_undo_restores_exactly(trace):
    c = Controller(trace)
    t, slot, feature = 2, 3, 5
    c.set_step(t)
    c.select("memory.before", (slot, feature))    # the memory entering step t
    assert c.memory_index("memory.before", c.selection.index) == (t, slot, feature)
    assert c.edit_refusal() is None
    old_value = float(trace["memory"][t, slot, feature])
    c.edit_selected(old_value + 5.0)

    new = c.trace
    assert new is not trace and c.edited
    for name in PER_STEP:                          # steps before t are untouched, bit for bit
        assert torch.equal(new[name][:t], trace[name][:t]), name
    assert torch.equal(new["memory"][:t], trace["memory"][:t])
    diff = (new["memory"][t] != trace["memory"][t]).nonzero().tolist()
    assert diff == [[slot, feature]]               # the entering memory differs in the edited cell only
    assert new["memory"][t, slot, feature] == pytest.approx(old_value + 5.0)
    assert not torch.equal(new["read.weights"][t], trace["read.weights"][t])  # step t re-ran
    assert not torch.equal(new["memory"][t + 1], trace["memory"][t + 1])
    # how sure the model is of its answer moved, whether or not a digit flipped
    assert new.answer_logp != trace.answer_logp
    assert c.answer_change().endswith(f"log p(answer) {trace.answer_logp:.3g} -> {new.answer_logp:.3g}")

    # the view highlights what changed: in the entering memory only the edited cell
    mask = c.changed_mask("memory.before")
    assert mask.sum() == 1 and mask[slot, feature]
    assert c.changed_mask("memory.after").any()
    c.set_step(t - 1)
    assert not c.changed_mask("read.weights").any()  # an earlier step did not change

    c.undo()
    assert not c.edited and c.trace is trace
    assert_same_trace(c.trace, trace)
    assert c.changed_mask("memory.before") is None


def test_after_slab_edit_replays_from_the_next_step_and_reset_restores(trace):
    c = Controller(trace)
    c.set_step(1)
    c.select("memory.after", (0, 0))               # the memory leaving step 1, entering step 2
    c.edit_selected(4.0)
    assert torch.equal(c.trace["read.weights"][:2], trace["read.weights"][:2])
    assert c.edits[-1].step == 2
    c.select("memory.before", (1, 1))
    c.edit_selected(-4.0)
    assert len(c.edits) == 2
    c.reset_edits()
    assert_same_trace(c.trace, trace)
    assert c.edits == []


def test_drag_edits_merge_into_one_undo_entry(trace):
    c = Controller(trace)
    c.select("memory.before", (2, 2))
    for v in (0.5, 1.0, 1.5):
        c.edit_selected(v, merge=True)
    assert len(c.edits) == 1
    assert c.edits[0].old == pytest.approx(float(trace["memory"][0, 2, 2]))
    assert c.edits[0].new == 1.5
    assert torch.equal(c.trace["memory"][0, 2, 2], torch.tensor(1.5))
    c.undo()
    assert_same_trace(c.trace, trace)


def test_edit_refusals_are_explained(trace):
    c = Controller(trace)
    assert "select a memory cell" in c.edit_refusal()
    c.set_step(c.steps - 1)
    c.select("memory.after", (0, 0))               # memory after the last step feeds nothing
    assert "no step" in c.edit_refusal()
    with pytest.raises(ValueError, match="no step"):
        c.edit_selected(1.0)
    c.select("memory.before", (0, 0))
    with pytest.raises(ValueError, match="finite"):
        c.edit_selected(math.nan)
    viewed = Controller(compact(trace))            # a history entry without its model
    viewed.select("memory.before", (0, 0))
    assert "weights were not kept" in viewed.edit_refusal()


def test_timeline_steps_play_and_clamp(trace):
    c = Controller(trace)
    c.step_by(-3)
    assert c.step == 0
    c.set_step(10**6)
    assert c.step == c.steps - 1
    c.set_step(0)
    c.set_speed(2.0)
    c.toggle_play()
    c.tick(1.0)                                    # two steps per second
    assert c.step == 2
    c.tick(0.5 * (c.steps - 1))                    # past the end it loops
    assert c.step == 1
    shown = c.view_tensors()
    assert np.array_equal(shown["memory.before"], trace["memory"][1].numpy())
    assert np.array_equal(shown["memory.after"], trace["memory"][2].numpy())
    c.set_all_memory(True)
    assert np.array_equal(c.view_tensors()["memory"], trace["memory"].numpy())
    assert shown["attention"].shape == (1,) + tuple(trace["attention"].shape[1:])


def test_state_is_read_only_and_changed_through_methods(trace):
    c = Controller(trace)
    for name in ("version", "step", "speed", "follow_live", "history_speed", "all_memory", "message"):
        with pytest.raises(AttributeError):
            setattr(c, name, getattr(c, name))
    c.select("memory.before", (1, 1))
    version = c.version
    c.set_all_memory(True)                          # the view changed: redrawn, selection re-read
    assert c.all_memory and c.version > version and c.selection.value is None
    c.set_all_memory(False)
    assert c.selection.value == float(trace["memory"][0, 1, 1])
    c.set_speed(4.0)
    c.set_history_speed(20.0)
    c.notify("hello")
    assert (c.speed, c.history_speed, c.message) == (4.0, 20.0, "hello")


def _snap(trace, step):
    return Snapshot(step=step, examples=64 * step, metrics={"loss": 1.0 / step, "exact": 0.1},
                    trace=trace, history=[])


def test_a_snapshot_held_back_while_the_camera_flies_is_shown_at_the_next_poll_that_may(trace):
    """poll(show_newest=False), the window's while the camera moves: snapshots go into the
    history, the view keeps its trace until a poll that may show the newest."""
    c = Controller(history_size=5)
    c.add_snapshot(_snap(trace, 1))
    shown = c.viewed_entry
    c.add_snapshot(_snap(trace, 2), show=False)
    assert c.holding_snapshot and c.viewed_entry is shown and [e.step for e in c.history] == [1, 2]
    assert c.poll(show_newest=False) == 0 and c.viewed_entry is shown
    c.poll()
    assert not c.holding_snapshot and c.viewed_entry.step == 2
    c.scrub_history(0)                               # not following live: a held one stays put
    c.add_snapshot(_snap(trace, 3), show=False)
    c.poll()
    assert c.viewed_entry.step == 1 and not c.holding_snapshot


def test_history_is_a_bounded_ring_that_drops_old_models(trace):
    c = Controller(history_size=5, keep_models=2)
    for step in range(1, 9):
        c.add_snapshot(_snap(trace, step))
    assert [e.step for e in c.history] == [4, 5, 6, 7, 8]
    assert [e.editable for e in c.history] == [False, False, False, True, True]
    assert c.viewing == 4 and c.trace is trace     # following live: the newest
    assert c.series.steps == list(range(1, 9))
    c.show_snapshot(0)                              # scrub back: a compacted entry, float32 again
    assert c.trace.model is None and c.trace["memory"].dtype == torch.float32
    assert torch.allclose(c.trace["memory"], trace["memory"], atol=1e-2, rtol=1e-2)
    c.scrub_history(3)                              # the person picks training step 7
    assert not c.follow_live and c.viewed_entry.step == 7
    c.add_snapshot(_snap(trace, 9))                 # the ring moves under the entry on view ...
    assert [e.step for e in c.history] == [5, 6, 7, 8, 9]
    assert c.viewing == 2 and c.viewed_entry.step == 7     # ... which stays on view
    assert [e.editable for e in c.history] == [False, False, True, True, True]  # and editable
    c.show_snapshot(0)
    c.add_snapshot(_snap(trace, 10))                # the entry on view (step 5) drops out
    assert c.viewing is None and c.viewed_entry is None
    c.toggle_history_play()                         # replay starts from the oldest
    assert c.viewed_entry.step == 6 and c.history_playing
    c.set_history_speed(10)
    c.tick(1.0)                                     # ten snapshots' time: stops at the newest
    assert not c.history_playing and c.viewing == len(c.history) - 1


def test_scene_sync_highlights_edits_and_keeps_colours_steady(trace):
    c = Controller(trace)
    scene = Scene()
    sync = SceneSync(scene, c)
    assert sync.update()
    assert {"memory.before", "memory.after", "read.weights", "write.weights",
            "attention"} <= set(scene.names)
    memory_range = scene["memory.before"].value_range
    assert scene["memory.after"].value_range == memory_range
    c.set_step(3)
    sync.update()
    assert scene["memory.before"].value_range == memory_range   # one range for the whole trace
    c.set_step(1)
    c.select("memory.before", (4, 4))
    sync.update()
    assert scene.selection[0] == "memory.before"
    c.edit_selected(3.0)
    sync.update()
    assert scene["memory.before"].highlight.sum() == 1
    assert scene["memory.after"].highlight.sum() > 1
    c.undo()
    sync.update()
    assert scene["memory.after"].highlight is None
    c.set_all_memory(True)
    sync.update()
    assert "memory" in scene and "memory.before" not in scene


def test_scene_sync_ranges_and_hidden_groups_take_no_room(trace):
    from viz.placement import place
    c = Controller(trace)
    scene = Scene()
    sync = SceneSync(scene, c)
    sync.update()
    top = float(trace["attention"].max())
    assert scene["attention"].value_range == pytest.approx((0.0, top))   # its peaks, not [0, 1]
    assert not scene["embedding.pca"].visible                           # present but hidden ...
    shown = [g for g in scene if g.visible]
    for g, p in zip(shown, place([g.layout for g in shown], scene.aspect)):   # ... and takes no room
        np.testing.assert_allclose(g.placement.origin, p.origin)
    sync.options.visible["embedding.pca"] = True
    sync.mark_dirty()
    sync.update()
    assert scene["embedding.pca"].visible and sync.layouts_changed


def test_the_grid_draws_the_graph_in_lanes_with_its_names_in_the_graph_s_frame(trace):
    from ttm.graph import extract
    from viz.flow_scene import local_box
    from viz.text import label_box
    scene = Scene()
    sync = SceneSync(scene, Controller(trace), graph=extract(tiny_model(seed=3)))
    sync.update()
    nodes, names = scene["graph"], scene["graph.text"]
    titles = [lane.title for lane in nodes.layout.tags["lanes"]]
    assert titles[0] == "read" and titles[-1] == "write" and "process: layer 0" in titles
    shown = [lb.text for lb in names.layout.tags["labels"]]
    assert set(titles) <= set(shown) and {"input", "parameter", "output"} <= set(shown)
    assert names.placement.scale == nodes.placement.scale            # in the graph's frame ...
    np.testing.assert_allclose(names.placement.origin, nodes.placement.origin)
    room = nodes.placement                                           # ... which makes room for it
    for label in names.layout.tags["labels"]:
        lo, hi = (names.world(corner) for corner in label_box(label))
        assert (room.bbox_min[:2] - 1e-3 <= lo[:2]).all() and (hi[:2] <= room.bbox_max[:2] + 1e-3).all()
    others = [g.placement for g in scene.shown() if not g.name.startswith("graph")]
    lo, hi = (names.world(c) for c in local_box(names.layout))
    for p in others:                                                 # and no other group is under it
        assert (hi[0] <= p.bbox_min[0] or lo[0] >= p.bbox_max[0]
                or hi[1] <= p.bbox_min[1] or lo[1] >= p.bbox_max[1]), p.name
    sync.options.visible["graph"] = False                            # one switch for both
    sync.mark_dirty()
    sync.update()
    assert not nodes.visible and not names.visible


@pytest.fixture
def trainer(tmp_path):
    cfg = TrainConfig(digits=1, batch_size=8, steps=None, device="cpu", out=str(tmp_path / "app.pt"),
                      eval_every=5, eval_problems=16, snapshot_every_s=0.0, checkpoint_every_s=1e9,
                      warmup_steps=5, sample_problem=(7, 8))
    t = Trainer(cfg, tiny_config())
    yield t
    t.stop(10)


def _wait_for(cond, seconds=20.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return False


def test_controller_owns_the_trainer_polls_snapshots_and_saves_on_shutdown(trainer):
    c = Controller(trainer=trainer, history_size=10)
    trainer.start()
    assert _wait_for(lambda: c.poll() > 0 or c.snapshots_received > 0)
    assert c.trace is not None and c.trace.problem == "7 × 8"
    c.set_problem(12, 3)
    assert trainer.cfg.sample_problem == (12, 3) and c.trace.problem == "12 × 3"
    with pytest.raises(ValueError, match="digits"):
        c.set_problem(12345, 3)
    c.toggle_training()
    assert c.training_paused
    c.toggle_training()
    path = c.shutdown()
    assert not trainer.alive and path == trainer.cfg.out
    assert Trainer(TrainConfig(resume=path, device="cpu")).step == trainer.step


def test_a_training_error_is_shown_not_lost(trainer):
    def broken():
        raise RuntimeError("loss exploded")
    trainer.train_step = broken
    c = Controller(trainer=trainer)
    trainer.start()
    assert _wait_for(lambda: c.training_error is not None)
    assert "RuntimeError: loss exploded" in c.training_error


def test_panels_draw_on_a_bare_imgui_context_at_any_size(trace):
    imgui = pytest.importorskip("imgui")
    from studio.panel_frame import layout
    from studio.panels import Panels, Perf
    from studio.walkthrough_panel import walkthrough_panel
    from viz.lod import LodSettings
    c = Controller(trace)
    for step in (1, 2):                             # the history row: a slider over two snapshots
        c.add_snapshot(_snap(trace, step))
    c.scrub_history(0)
    sync = SceneSync(Scene(), c)
    sync.update()
    panels = Panels(c, sync, "runs/app.pt", lod=LodSettings(), on_frame=lambda: None,
                    on_reset_camera=lambda: None)
    ctx = imgui.create_context()
    try:
        io = imgui.get_io()
        io.fonts.get_tex_data_as_rgba32()
        c.select("memory.before", (1, 1))
        c.set_keep_edits(True)                      # an edit kept over two snapshots: the strip
        c.edit_selected(0.5)
        c.scrub_history(1)
        assert [step for step, *_ in c.kept_outcomes()] == [1, 2]
        for size in [(1280, 720), (0, 0), (1, 1), (150, 90), (7680, 4320)]:
            io.display_size = size
            imgui.new_frame()
            panels.draw(size, Perf())
            walkthrough_panel(c, layout(size)["inspector"])
            imgui.render()
            for r in layout(size).values():   # inside the window, off its border
                assert r.w >= 0 and r.h >= 0
                if size[0] > 100:
                    assert r.x >= 1 and r.y >= 1 and r.x + r.w <= size[0] - 1 and r.y + r.h <= size[1] - 1
    finally:
        imgui.destroy_context(ctx)
    assert panels.timeline.submit_problem("12 x 34") and c.trace.problem == "12 × 34"
    assert not panels.timeline.submit_problem("12 x 3456")
    assert "at most 3 digits" in panels.timeline.problem_error


def test_the_inspectors_field_and_undo_stay_put_while_the_hover_comes_and_goes(trace, monkeypatch):
    """The mouse crosses the scene on its way to the editor: the hover appears, changes length and
    vanishes on the way, and the field aimed at must not move from under the cursor."""
    imgui = pytest.importorskip("imgui")
    from studio.inspector_panel import InspectorPanel
    from studio.panel_frame import Rect
    from studio.selection import Selection
    c = Controller(trace)
    c.select("memory.before", (1, 1))
    c.edit_selected(0.5)                               # an edit, so Undo is there
    sync = SceneSync(Scene(), c)
    sync.update()
    panel = InspectorPanel(c, sync)
    where: dict[str, tuple[float, float]] = {}
    for name in ("input_text_with_hint", "button"):
        original = getattr(imgui, name)

        def recorded(label, *args, _original=original, **kwargs):
            where[label] = tuple(imgui.get_cursor_screen_pos())
            return _original(label, *args, **kwargs)
        monkeypatch.setattr(imgui, name, recorded)
    hovers = [None, Selection("memory.before", (2, 3), 0.25),
              Selection("process.layer0.attn", (0, 1, 2, 3), 0.5), None]
    ctx = imgui.create_context()
    try:
        io = imgui.get_io()
        io.fonts.get_tex_data_as_rgba32()
        io.display_size = (1280, 720)
        seen = []
        for hover in hovers:
            c.set_hover(hover)
            imgui.new_frame()
            panel.draw(Rect(960, 10, 300, 500))
            imgui.render()
            seen.append((where["##value"], where["Undo (Ctrl+Z)"]))
    finally:
        imgui.destroy_context(ctx)
    assert all(s == seen[0] for s in seen), seen


# -- interventions beyond one cell, the causal overlay, and live following (issue 12) ----------
def test_a_whole_slot_is_set_scaled_and_zeroed_and_each_undo_restores(trace):
    c = Controller(trace)
    t, slot = 1, 2
    c.set_step(t)
    c.select("memory.before", (slot, 5))
    c.select_slot()
    assert c.selection.index == (slot,) and c.selection.whole_slot
    row = trace["memory"][t, slot]
    assert c.selection.value == pytest.approx(float(row.norm()))
    assert c.selection_mask("memory.before")[slot].all() and c.selection_mask("memory.before").sum() == row.numel()
    c.scale_selected(0.5)
    assert torch.equal(c.trace["memory"][t, slot], row * 0.5)
    scaled = c.trace
    c.edit_selected(2.0)                              # every feature of the slot
    assert torch.equal(c.trace["memory"][t, slot], torch.full_like(row, 2.0))
    c.zero_selected()
    assert not c.trace["memory"][t, slot].any()
    others = [i for i in range(trace["memory"].shape[1]) if i != slot]
    assert torch.equal(c.trace["memory"][t, others], trace["memory"][t, others])
    assert c.differing_slots("memory.before") == [slot]
    assert len(c.edits) == 3 and "zeroed" in c.edits[-1].describe()
    c.undo()
    c.undo()
    assert c.trace is scaled
    c.undo()
    assert c.trace is trace and not c.edited


def test_a_weight_is_set_with_its_row_renormalized_and_the_graph_shows_where_it_flowed(trace):
    c = Controller(trace)
    t, row, col = 2, 1, 3
    c.set_step(t)
    assert c.graph_change() is None
    c.select("read.weights", (row, col))
    old = trace["read.weights"][t, row]
    c.edit_selected(0.7)
    new = c.trace["read.weights"][t, row]
    assert new[col] == pytest.approx(0.7) and float(new.sum()) == pytest.approx(1.0, abs=1e-5)
    rest = [i for i in range(len(old)) if i != col]
    torch.testing.assert_close(new[rest], old[rest] * 0.3 / float(old[rest].sum()))
    for name in PER_STEP:
        assert torch.equal(c.trace[name][:t], trace[name][:t]), name
    assert not torch.equal(c.trace["read.tokens"][t], trace["read.tokens"][t])   # step t re-ran
    changes = c.graph_change()
    assert c.graph_change_step == t and max(changes.values()) > 0 and min(changes.values()) == 0.0
    c.set_renormalize(False)
    c.select("attention", (0, 1, 0, 2, 1))            # layer 1, head 0, query 2, key 1
    c.edit_selected(0.9)
    attn = c.trace["process.layer1.attn"][t, 0, 2]
    assert attn[1] == pytest.approx(0.9) and float(attn.sum()) > 1.0
    assert c.trace["read.weights"][t, row, col] == pytest.approx(0.7)   # the first edit still holds
    c.undo()
    c.undo()
    assert c.trace is trace and c.graph_change() is None


def test_patching_from_a_second_problem_and_a_stack_reset_to_the_original_bit_for_bit(trace):
    c = Controller(trace)
    t = 1
    c.set_step(t)
    c.patch("98x76", [2, 5])
    expected = trace.patch(trace.model.trace(98, 76), t, [2, 5])
    assert_same_trace(c.trace, expected)
    assert c.source.problem == "98 × 76" and c.differing_slots("memory.before") == [2, 5]
    c.select("memory.before", (0, 0))
    c.edit_selected(3.0)                              # stacks on the patch
    c.set_step(3)
    c.select("memory.before", (1,))
    c.zero_selected()
    c.set_step(2)
    c.patch("98x76")                                  # every slot, at an earlier step
    assert len(c.edits) == 4
    c.set_step(0)                  # every problem's memory entering step 0 is the learned one
    for refused in (lambda: c.patch("98x76"), lambda: c.ablate_slots([1], "mean")):
        with pytest.raises(ValueError, match="the same for every problem.*leaves every slot as it is"):
            refused()
    assert len(c.edits) == 4
    c.ablate_slots([1], "zero")                       # zeroing it is an edit
    assert len(c.edits) == 5
    assert not c.trace["memory"][3, 1].any()          # the later step's zeroed slot holds
    c.reset_edits()
    assert c.trace is trace
    assert_same_trace(c.trace, trace)


def test_bad_input_is_refused_with_a_message_and_changes_nothing(trace):
    c = Controller(trace)
    c.select("read.weights", (0, 0))
    for bad, reason in [(math.nan, "finite"), (math.inf, "finite"), (1.5, r"0\.\.1"), (-0.1, r"0\.\.1")]:
        with pytest.raises(ValueError, match=reason):
            c.edit_selected(bad)
    c.select("memory.before", (0,))
    with pytest.raises(ValueError, match="finite"):
        c.scale_selected(math.nan)
    for source, reason in [("12345x2", "digits"), ("1234x5", "at most 3 digits"), ("abc", "not a number"),
                           ("", "nothing to multiply")]:
        with pytest.raises(ValueError, match=reason):
            c.patch(source)
    with pytest.raises(ValueError, match="slots must be in"):
        c.ablate_slots([10**6], "zero")
    with pytest.raises(ValueError, match="ablation must be one of"):
        c.set_ablation("scramble")
    with pytest.raises(ValueError, match="source"):
        c.set_ablation("source")                      # no second problem typed yet
    assert not c.edited and c.trace is trace
    viewed = Controller(compact(trace))               # a history entry without its model
    with pytest.raises(ValueError, match="weights were not kept"):
        viewed.patch("12x3")


def test_selecting_or_editing_stops_following_live_so_nothing_is_lost(trace):
    c = Controller(history_size=10)
    c.add_snapshot(_snap(trace, 1))
    assert c.follow_live and c.trace is trace and c.live_note == ""
    c.set_step(2)
    c.select("memory.before", (1, 1))
    assert not c.follow_live and "selection" in c.live_note
    newer = long_trace(tiny_model(seed=4), min_steps=3)
    c.add_snapshot(_snap(newer, 2))                  # the next snapshot lands ...
    assert c.trace is trace and c.selection.index == (1, 1)   # ... and the selection stays
    c.edit_selected(2.0)
    c.add_snapshot(_snap(newer, 3))
    assert c.edited and c.trace["memory"][2, 1, 1] == 2.0
    c.set_follow_live(True)                          # the person asks for live again
    assert c.follow_live and c.live_note == "" and c.trace is newer and not c.edited
    c.reset_edits()
    c.select(None)                                   # clearing the selection keeps following
    assert c.follow_live
    c.set_causal_overlay(True)                       # effects are of the trace on view ...
    assert not c.follow_live and "slot effects" in c.live_note
    c.add_snapshot(_snap(trace, 4))
    assert c.trace is newer                          # ... which a snapshot no longer replaces


def test_kept_edits_are_made_again_for_each_snapshot_of_training(trace):
    """keep_edits: another snapshot (another model, the same problem) comes on view with the
    edits in force; a value edit as it is, a patch made again from that model's trace of its
    source; a mean ablation where that model's mean is known, else once the worker computed it
    (left out until then, with the reason); a snapshot of another problem takes none, and the
    edits come back on the next that can.
    Without it, edits are dropped."""
    newer, third = (long_trace(tiny_model(seed=s), min_steps=5) for s in (4, 5))
    c = Controller(history_size=10)
    for k, t in enumerate((trace, newer, third)):
        c.add_snapshot(_snap(t, k + 1))

    def edit_the_oldest():                           # a cell set at step 1, slot 3 patched at step 2
        c.scrub_history(0)
        c.set_step(1)
        c.select("memory.before", (1, 1))
        c.edit_selected(2.0)
        c.set_step(2)
        c.patch("7x8", slots=[3])
    edit_the_oldest()
    c.scrub_history(1)                               # not kept: the default
    assert c.trace is newer and not c.edited
    c.set_keep_edits(True)
    c.scrub_history(0)                               # dropped edits stay dropped
    assert not c.edited and c.kept_outcomes() == []
    edit_the_oldest()
    made = outcome(c.trace)                          # the answer they made on the oldest snapshot
    c.scrub_history(1)
    assert c.trace.model is newer.model and len(c.edits) == 2 and "not kept" not in c.message
    assert c.trace["memory"][1, 1, 1] == 2.0
    assert c.kept_outcomes() == [(1, outcome(trace), made), (2, outcome(newer), outcome(c.trace))]
    source = Trace.record(newer.model, 7, 8)["memory"][2, 3]
    assert torch.equal(c.trace["memory"][2, 3], source)
    assert not torch.equal(source, Trace.record(trace.model, 7, 8)["memory"][2, 3])
    c.ablate_slots([5], "mean")                      # computes newer's mean (a tiny model: quick)
    c.scrub_history(2)                               # third's mean is not known: left out, said why
    assert len(c.edits) == 2 and "not kept: memory entering step 2, slot [5]" in c.message
    assert "computing" in c.message and causal.cached_mean_memory(third.model, third.cell, 2) is None
    assert c.wait_causal()                           # ... it is computed off the UI thread
    c.poll()                                         # ... and the kept edits are made again
    assert len(c.edits) == 3 and "not kept" not in c.message
    assert torch.equal(c.trace["memory"][2, 5], causal.mean_memory(third.model, third.cell, 2)[5])
    c.scrub_history(1)                               # back where the mean is known: all three
    assert len(c.edits) == 3
    other = tiny_model(seed=4).trace(12, 3)
    c.add_snapshot(_snap(other, 4))
    c.scrub_history(3)
    assert not c.edited and "this snapshot traced 12 × 3, they were made on 123 × 45" in c.message
    c.scrub_history(1)                               # the edits were not lost on the way
    assert len(c.edits) == 3 and c.trace["memory"][1, 1, 1] == 2.0
    c.undo()
    c.scrub_history(2)                               # undo changed what is kept
    assert len(c.edits) == 2
    c.set_problem(12, 3)                             # a new problem: nothing kept to make again
    c.scrub_history(1)
    assert not c.edited


def test_the_causal_overlay_ranks_slots_and_zeroing_the_top_one_is_an_intervention(trace):
    c = Controller(trace)
    c.set_step(1)
    assert c.overlay("memory.before") is None and c.slot_effects() is None
    c.set_ablation("zero")
    c.set_causal_overlay(True)
    assert c.wait_causal()
    effects = c.slot_effects()
    expected = causal.ablate_slots(trace, 1, "zero")
    assert torch.allclose(effects.effect, expected.effect, atol=1e-6)
    painted = c.overlay("memory.before")
    assert painted.values.shape == c.view_tensors()["memory.before"].shape
    assert c.overlay("effects").values.shape == (trace.steps, trace["memory"].shape[1])
    top = effects.ranked(1)[0]
    c.ablate_slots([top])
    assert not c.trace["memory"][1, top].any()
    assert c.slot_effects() is None                 # the old trace's effects are not shown ...
    assert c.wait_causal()
    assert c.slot_effects() is not None             # ... the edited trace's come in
    assert float(c.slot_effects().effect[top]) == pytest.approx(0.0, abs=1e-6)   # zero again: no change


def test_the_causal_panel_draws_and_its_buttons_intervene(trace):
    imgui = pytest.importorskip("imgui")
    from studio.panels import Panels, Perf
    c = Controller(trace)
    c.set_step(1)
    c.set_ablation("zero")
    c.set_causal_overlay(True)
    assert c.wait_causal()
    sync = SceneSync(Scene(), c)
    sync.update()
    panels = Panels(c, sync)
    ctx = imgui.create_context()
    try:
        io = imgui.get_io()
        io.fonts.get_tex_data_as_rgba32()
        for sel in [("memory.before", (1,)), ("read.weights", (0, 1)), ("memory.before", (1, 2))]:
            c.select(*sel)
            for size in [(1280, 720), (150, 90)]:
                io.display_size = size
                imgui.new_frame()
                panels.draw(size, Perf())
                imgui.render()
        c.set_probe_digit("p0")                      # the digit map and the slot's line draw too
        assert c.wait_causal(120) and c.digit_probes() is not None
        for step in (0, 1, c.digit_probes().states):   # the learned memory, probed, past them
            c.set_step(min(step, c.trace.steps - 1))
            imgui.new_frame()
            panels.draw((1280, 720), Perf())
            imgui.render()
        c.set_probe_digit(None)
        c.set_step(1)
    finally:
        imgui.destroy_context(ctx)
    causal_panel = panels.causal
    causal_panel.source_text, causal_panel.slots_text = "98x76", "2, 5"
    causal_panel.patch_slots()
    assert c.differing_slots("memory.before") == [2, 5]
    causal_panel.slots_text = "two"
    with pytest.raises(ValueError, match="whole numbers"):
        causal_panel.patch_slots()
