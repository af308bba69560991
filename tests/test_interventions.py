"""Interventions and their stack: renormalized weights, what a selection edits, and stacks that keep
every intervention in force (an earlier-step edit does not wipe a later-step one; two hooked
values at one step both hold), with undo back to the very trace objects."""
import pytest
import torch

from studio.edit_stack import EditStack
from studio.interventions import (ablate, compose, distribution_axis, hook_order, renormalized,
                                  scale_slot, set_value, target_of)
from studio.selection import Selection
from ttm_fixtures import long_trace, tiny_model


@pytest.fixture(scope="module")
def trace():
    return long_trace(tiny_model(seed=7), min_steps=5)


def _target(trace, name, index, step):
    sel = Selection(name, index, value=0.0)
    return target_of(sel, trace, step, keep_models=16)


def test_renormalizing_keeps_the_new_weight_and_rescales_the_rest_to_one_minus_it():
    w = torch.tensor([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    out = renormalized(w, (0, 1), 0.6, axis=-1)
    assert out[0, 1] == pytest.approx(0.6)
    assert float(out[0].sum()) == pytest.approx(1.0)
    assert float(out[0, 0] / out[0, 2]) == pytest.approx(0.5 / 0.2)   # the rest keeps its shape
    assert torch.equal(out[1], w[1]) and torch.equal(w[0], torch.tensor([0.5, 0.3, 0.2]))
    column = renormalized(w, (1, 2), 0.5, axis=0)                        # a distribution down a column
    assert column[1, 2] == 0.5 and float(column[:, 2].sum()) == pytest.approx(1.0)
    spread = renormalized(torch.tensor([[0.0, 1.0, 0.0]]), (0, 1), 0.4, axis=-1)
    assert spread[0].tolist() == pytest.approx([0.3, 0.4, 0.3])           # the rest held nothing
    with pytest.raises(ValueError, match="one entry"):
        renormalized(torch.tensor([[1.0]]), (0, 0), 0.5, axis=-1)


def test_a_selection_says_what_it_edits(trace):
    m = trace["memory"].shape[1]
    cell = _target(trace, "memory.after", (2, 3), step=1)
    assert (cell.kind, cell.step, cell.hook, cell.index) == ("cell", 2, "memory", (2, 3))
    slot = _target(trace, "memory", (3, m - 1), step=0)                   # every step's memory: (k, slot)
    assert (slot.kind, slot.step, slot.index) == ("slot", 3, (m - 1,))
    attn = _target(trace, "attention", (0, 1, 0, 2, 3), step=2)
    assert (attn.kind, attn.step, attn.hook, attn.index) == ("weight", 2, "process.layer1.attn", (0, 2, 3))
    read = _target(trace, "read.weights", (1, 4), step=0)
    assert (read.hook, read.index) == ("read.weights", (1, 4))
    for sel, reason in [(None, "select a memory cell"), (Selection("graph", (3,), 1.0, "node"), "select"),
                        (Selection("memory.before", (0, 0)), "not on view")]:
        with pytest.raises(ValueError, match=reason):
            target_of(sel, trace, 0, 16)
    with pytest.raises(ValueError, match="no step"):
        _target(trace, "memory.after", (0, 0), step=trace.steps - 1)


def test_a_hovered_graph_node_is_named_without_its_colour_code_as_a_value():
    """A graph voxel's value is the index of its op in the node palette (3 = call_function): the
    inspector names the node and its note, and shows no "= 3.0000" as if the run had computed it;
    a memory cell keeps its value."""
    from types import SimpleNamespace
    from studio.inspector_panel import heading
    from studio.picks import selection_of
    tags = {"names": ["matmul_2"], "ops": ["call_function"], "targets": ["matmul"],
            "shapes": [(1, 4, 16, 32)], "groups": ["process"]}
    scene = SimpleNamespace(groups={"graph": SimpleNamespace(layout=SimpleNamespace(tags=tags, pooled=None))})
    node = selection_of(scene, SimpleNamespace(name="graph", index_in_tensor=(46,), value=3.0, voxel=0))
    assert node.value is None
    assert node.note == "graph node matmul_2: call_function matmul -> (1, 4, 16, 32), process stage"
    assert heading(node) == "graph[46]"
    assert heading(Selection("memory.before", (3, 40), 0.12345)) == "memory.before[3, 40] = 0.1235"


def test_hooked_values_are_ordered_as_a_step_computes_them(trace):
    order = hook_order(trace.model)
    assert order[0] == "memory"
    assert order.index("read.weights") < order.index("process.layer0.attn") \
        < order.index("process.layer1.attn") < order.index("write.weights")
    assert distribution_axis(trace, "read.weights") == -1
    erase_add = long_trace(tiny_model(seed=1, write_rule="erase_add"), min_steps=2)
    assert distribution_axis(erase_add, "write.weights") == 0
    assert torch.allclose(erase_add["write.weights"][0].sum(0), torch.ones(erase_add["write.weights"].shape[2]))


def test_a_later_step_edit_still_holds_when_an_earlier_step_is_edited_after_it(trace):
    stack = EditStack()
    stack.load(trace)
    late = set_value(trace, _target(trace, "memory.before", (1, 2), step=3), 4.0)
    stack.push(late)
    first = stack.current
    early = scale_slot(_target(trace, "memory.before", (0,), step=1), 0.0)
    stack.push(early)
    now = stack.current
    assert torch.equal(now["memory"][1][0], torch.zeros_like(now["memory"][1][0]))
    assert now["memory"][3][1, 2] == 4.0                      # the step-3 edit is still in force
    assert not torch.equal(now["memory"][3], first["memory"][3])   # ... on a memory that did change
    assert torch.equal(now["memory"][:1], trace["memory"][:1])
    assert stack.undo() and stack.current is first
    assert stack.undo() and stack.current is trace and not stack.undo()


def test_two_hooked_values_of_one_step_and_a_memory_edit_there_all_hold(trace):
    t = 1
    read = set_value(trace, _target(trace, "read.weights", (0, 1), step=t), 0.9)
    attn = set_value(trace, _target(trace, "attention", (0, 0, 1, 2, 0), step=t), 0.8)
    cell = set_value(trace, _target(trace, "memory.before", (2, 2), step=t), -3.0)
    done = compose(trace, [attn, read, cell])       # made in any order: applied as the step runs
    new = done.trace
    assert new["read.weights"][t][0, 1] == pytest.approx(0.9)
    assert float(new["read.weights"][t][0].sum()) == pytest.approx(1.0, abs=1e-5)
    assert new["process.layer0.attn"][t][1, 2, 0] == pytest.approx(0.8)
    assert float(new["process.layer0.attn"][t][1, 2].sum()) == pytest.approx(1.0, abs=1e-5)
    assert new["memory"][t][2, 2] == -3.0
    # Attention is read after the read weights were replaced: its other rows follow from them.
    after_read = trace.replay(t, new["memory"][t], {"read.weights": new["read.weights"][t]})
    attention = after_read["process.layer0.attn"][t].clone()
    attention[1, 2] = new["process.layer0.attn"][t][1, 2]
    assert torch.equal(new["process.layer0.attn"][t], attention)
    memory, overrides = done.entered[t]
    assert sorted(overrides) == ["process.layer0.attn", "read.weights"]
    assert torch.equal(memory, new["memory"][t])
    # One stack, one edit at a time: the same picture.
    stack = EditStack()
    stack.load(trace)
    for edit in (attn, read, cell):
        stack.push(edit)
    for name in new.names:
        assert torch.equal(stack.current[name], new[name]), name


def test_an_ablation_or_patch_is_the_replay_of_that_memory(trace):
    t, slots = 2, [1, 3]
    source = trace.model.trace(98, 76)
    patched = compose(trace, [ablate(trace, t, slots, "source", source)]).trace
    expected = trace.patch(source, t, slots)
    for name in trace.names:
        assert torch.equal(patched[name], expected[name]), name
    zeroed = compose(trace, [ablate(trace, t, None, "zero")]).trace
    assert not zeroed["memory"][t].any()
    with pytest.raises(ValueError, match="slots must be in"):
        ablate(trace, t, [99], "zero")
    with pytest.raises(ValueError, match="pass source="):
        ablate(trace, t, [1], "source")


def test_bad_values_are_refused_with_a_reason(trace):
    weight = _target(trace, "read.weights", (0, 0), step=0)
    with pytest.raises(ValueError, match="finite"):
        set_value(trace, weight, float("nan"))
    with pytest.raises(ValueError, match=r"0\.\.1"):
        set_value(trace, weight, 1.5)
    assert set_value(trace, weight, 1.5, renormalize=False).new == 1.5
    slot = _target(trace, "memory.before", (0,), step=0)
    with pytest.raises(ValueError, match="finite"):
        scale_slot(slot, float("inf"))
    with pytest.raises(ValueError, match="memory"):
        scale_slot(weight, 2.0)
