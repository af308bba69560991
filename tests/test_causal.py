"""Causal tools: replay with overrides, patching, slot effects (batched = separate replays) and
the change of every fx node under an intervention."""
import pytest
import torch

from ttm import causal
from ttm.graph import extract
from ttm_fixtures import long_trace, tiny_model

OVERRIDABLE = ("read.weights", "write.weights", "process.layer0.attn", "process.layer1.attn",
               "processed")


@pytest.fixture(scope="module")
def trace():
    return long_trace(tiny_model(seed=5), min_steps=5)


def _logp(trace, start):
    """Per-step log p of trace's own answer tokens from step `start` (its logits)."""
    logp = torch.log_softmax(trace["logits"][start:].float(), -1)
    return logp.gather(1, trace["prediction"][start:].unsqueeze(1)).squeeze(1)


def test_overriding_with_the_recorded_values_reproduces_the_trace_bit_for_bit(trace):
    t = 2
    again = trace.replay(t, overrides={n: trace[n][t] for n in OVERRIDABLE})
    for name in trace.names:
        assert torch.equal(again[name], trace[name]), name


def test_an_override_replaces_the_activation_at_its_step_only(trace):
    t = 1
    new = trace.replay(t, overrides={"processed": torch.zeros_like(trace["processed"][t])})
    assert torch.equal(new["processed"][t], torch.zeros_like(trace["processed"][t]))
    for name in ("memory", "logits", "read.weights"):
        assert torch.equal(new[name][:t], trace[name][:t])
    # The head reads the mean of the processed tokens: zeros give head(norm(0)) = head(norm bias).
    step = trace.model.step
    with torch.no_grad():
        expected = step.head(step.head_norm(torch.zeros(1, trace.model.config.dim)))[0]
    assert torch.allclose(new["logits"][t], expected, atol=1e-6)
    assert not torch.equal(new["memory"][t + 1], trace["memory"][t + 1])


def test_overrides_are_checked_by_name_shape_and_value(trace):
    r, src = trace["read.weights"].shape[1:]
    with pytest.raises(ValueError, match=rf"want \({r}, {src}\)"):
        trace.replay(0, overrides={"read.weights": torch.zeros(r, src + 1)})
    bad = trace["read.weights"][0].clone()
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        trace.replay(0, overrides={"read.weights": bad})
    with pytest.raises(ValueError, match="cannot override 'nope'"):
        trace.replay(0, overrides={"nope": torch.zeros(1)})
    memory = trace["memory"][0].clone()
    memory[0, 0] = float("inf")
    with pytest.raises(ValueError, match="non-finite"):
        trace.replay(0, memory=memory)


def test_patching_a_trace_with_itself_reproduces_it(trace):
    for slots in (None, [0, 3]):
        again = trace.patch(trace, 2, slots)
        for name in trace.names:
            assert torch.equal(again[name], trace[name]), (slots, name)


def test_patching_takes_the_source_memory_at_the_given_slots(trace):
    model = trace.model
    source = model.trace(98, 76)
    t = 1
    patched = trace.patch(source, t, slots=[2, 5])
    entering = patched["memory"][t]
    assert torch.equal(entering[[2, 5]], source["memory"][t][[2, 5]])
    others = [i for i in range(entering.shape[0]) if i not in (2, 5)]
    assert torch.equal(entering[others], trace["memory"][t][others])
    with pytest.raises(ValueError, match="another model"):
        trace.patch(tiny_model(seed=99).trace(98, 76), t)
    with pytest.raises(ValueError, match="slots must be in"):
        trace.patch(source, t, slots=[100])


@pytest.mark.parametrize("ablation", ["zero", "mean", "source"])
def test_batched_slot_effects_equal_separate_replays(trace, ablation):
    t = 1
    source = trace.model.trace(98, 76)
    result = causal.ablate_slots(trace, t, ablation, source=source)
    replacement = causal.replacement_memory(trace, t, ablation, source)
    base = _logp(trace, t)
    assert result.baseline == pytest.approx(float(base.sum()), abs=1e-4)
    compared = 0
    for slot in range(trace["memory"].shape[1]):
        memory = trace["memory"][t].clone()
        memory[slot] = replacement[slot]
        alone = trace.replay(t, memory=memory)
        changed = alone.answer_tokens != trace.answer_tokens
        assert bool(result.changes_answer[slot]) == changed, slot
        if not changed:
            drop = base - _logp(alone, t)
            assert torch.allclose(result.per_step[slot], drop, atol=1e-4), slot
            assert float(result.effect[slot]) == pytest.approx(float(drop.sum()), abs=1e-4)
            compared += 1
    assert compared > 0
    assert torch.equal(causal.slot_effects(trace, t, ablation, source=source), result.effect)


def test_at_step_0_mean_and_source_ablations_change_nothing_and_say_why(trace):
    source = trace.model.trace(98, 76)
    for ablation in ("mean", "source"):
        flat = causal.ablate_slots(trace, 0, ablation, source=source)
        assert float(flat.effect.abs().max()) < causal.NEGLIGIBLE
        assert "the same for every problem" in flat.why_none_matters()
    zeroed = causal.ablate_slots(trace, 0, "zero")
    assert float(zeroed.effect.abs().max()) >= causal.NEGLIGIBLE and zeroed.why_none_matters() is None
    assert causal.ablate_slots(trace, 1, "mean").why_none_matters() is None
    quiet = causal.SlotAblation(2, "zero", torch.zeros(4), torch.zeros(4, 1),
                                torch.zeros(4, dtype=torch.bool), -1.0)
    assert quiet.why_none_matters() == ("no slot alone moves log p(answer) by 0.001 or more "
                                        "entering step 2 (zero ablation)")


def test_the_effect_map_is_the_slot_effects_of_every_step(trace):
    rows = causal.effect_map(trace, "zero")
    assert [row.step for row in rows] == list(range(trace.steps))
    for row in rows:
        alone = causal.ablate_slots(trace, row.step, "zero")
        assert torch.allclose(row.effect, alone.effect, atol=1e-4)
        assert torch.equal(row.changes_answer, alone.changes_answer)


def test_mean_ablation_is_the_memory_over_random_problems_cached_once(trace):
    model = trace.model
    first = causal.mean_memory(model, (3, 2), 0)
    # Every problem starts from the same learned initial memory.
    assert torch.allclose(first, model.memory_init.detach(), atol=1e-6)
    later = causal.mean_memory(model, (3, 2), 2)
    assert later.shape == first.shape and not torch.allclose(later, first)
    assert causal.mean_memory(model, (3, 2), 2) is later


def test_slot_effects_check_their_arguments(trace):
    with pytest.raises(ValueError, match="ablation must be one of"):
        causal.slot_effects(trace, 0, "scramble")
    with pytest.raises(ValueError, match="pass source="):
        causal.slot_effects(trace, 0, "source")
    with pytest.raises(IndexError):
        causal.slot_effects(trace, trace.steps)


def _descendants(graph, name):
    children = {}
    for src, dst in graph.edges:
        children.setdefault(src, []).append(dst)
    seen, todo = set(), [name]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def test_graph_changes_are_zero_without_an_intervention(trace):
    changes = causal.graph_changes(trace, 1)
    assert changes and set(changes.values()) == {0.0}


def test_a_read_override_changes_only_what_depends_on_it_in_the_graph(trace):
    t = 1
    graph = extract(trace.model)
    hook = next(n.name for n in graph.nodes if n.target == "step.read.hook_weights"
                or n.target == "read.hook_weights")
    weights = torch.zeros_like(trace["read.weights"][t])
    weights[:, 0] = 1.0                        # every read token takes memory slot 0 alone
    changes = causal.graph_changes(trace, t, overrides={"read.weights": weights})
    downstream = _descendants(graph, hook) | {hook}
    assert set(changes) == {n.name for n in graph.nodes}
    assert all(changes[n] == 0.0 for n in changes if n not in downstream)
    assert changes[hook] > 0 and changes["output"] > 0
    # The same intervention through replay: the read tokens change exactly where the graph says.
    replayed = trace.replay(t, overrides={"read.weights": weights})
    assert not torch.equal(replayed["read.tokens"][t], trace["read.tokens"][t])


def test_a_memory_edit_reaches_the_graph_through_its_memory_input(trace):
    t = 2
    memory = trace["memory"][t].clone()
    memory[3] += 5.0
    changes = causal.graph_changes(trace, t, memory=memory)
    placeholders = [n.name for n in extract(trace.model).nodes if n.op == "placeholder"]
    assert changes[placeholders[0]] > 0        # memory is the step's first input
    assert all(changes[p] == 0.0 for p in placeholders[1:])
