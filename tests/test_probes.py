"""Linear probes on single memory slots (ttm.probes): they read a digit a slot holds, score
chance on a slot that holds nothing, and probe the very memory a trace records."""
import copy

import numpy as np
import pytest
import torch

from ttm import probes
from ttm import tokens as tok
from ttm.data import random_operands
from ttm_fixtures import tiny_model


@pytest.fixture(scope="module")
def model():
    """A tiny model whose head never says EOS, so every run lasts to the product's end."""
    m = copy.deepcopy(tiny_model(seed=3))
    with torch.no_grad():
        m.step.head.bias[tok.EOS] = -1e4
    return m


def test_a_slot_that_holds_a_digit_is_read_and_one_that_holds_none_scores_chance():
    g = torch.Generator().manual_seed(0)
    N, m, d, fit = 600, 3, 12, 400
    labels = torch.randint(0, 10, (N, 2), generator=g)
    states = torch.randn(2, N, m, d, generator=g)
    states[0] = 0.7                                           # constant: holds nothing
    code = torch.nn.functional.one_hot(labels, 10).float()
    states[1, :, 0, :10] += 6 * code[:, 0]                    # slot 0 holds digit 0
    states[1, :, 1, :10] += 6 * code[:, 1]                    # slot 1 holds digit 1; slot 2 noise
    accuracy, chance = probes.fit_slot_probes(states, labels, fit)
    assert accuracy.shape == (2, m, 2)
    assert torch.equal(accuracy[0], chance.expand(m, 2))      # a probe that learnt nothing
    assert chance.max() < 0.2
    assert accuracy[1, 0, 0] > 0.97 and accuracy[1, 1, 1] > 0.97
    assert accuracy[1, 0, 1] < 0.3 and accuracy[1, 1, 0] < 0.3 and accuracy[1, 2].max() < 0.3
    with pytest.raises(ValueError, match="fit must leave problems"):
        probes.fit_slot_probes(states, labels, N)


def test_the_digits_probed_are_the_operands_and_the_products_units_first():
    assert probes.digit_names((2, 2)) == ("a0", "a1", "b0", "b1", "p0", "p1", "p2", "p3")
    values = probes.digit_labels(np.array([37, 99]), np.array([42, 10]), (2, 2))
    assert values.tolist() == [[7, 3, 2, 4, 4, 5, 5, 1], [9, 9, 0, 1, 0, 9, 9, 0]]
    assert probes.digit_label("a1") == "a's tens" and probes.digit_label("p0") == "the product's units"


def test_the_probed_memory_is_the_memory_a_trace_records(model):
    states = torch.stack(list(probes.memory_states(model, [(37, 42), (5, 61)], 4)))
    for row, (a, b) in enumerate([(37, 42), (5, 61)]):
        recorded = model.trace(a, b)["memory"]
        assert torch.allclose(states[:, row], recorded[:4].float(), atol=1e-5)


def test_digit_probes_of_a_cell_run_from_the_initial_memory_to_the_shortest_products_end(model):
    seen = []
    result = probes.digit_probes(model, (2, 1), problems=300, fit=200, seed=1,
                                 on_state=lambda done, total: seen.append((done, total)))
    rng = np.random.default_rng(1)                # the problems it drew
    a, b = random_operands(rng, 2, 300), random_operands(rng, 1, 300)
    shortest = min(len(str(x * y)) for x, y in zip(a.tolist(), b.tolist()))
    assert result.states == shortest + 1 == seen[-1][1] and seen[-1][0] == result.states
    assert result.digits == ("a0", "a1", "b0", "p0", "p1", "p2")
    assert result.accuracy.shape == (result.states, model.config.m, 6)
    assert torch.equal(result.accuracy[0], result.chance.expand(model.config.m, 6))  # learned, shared
    assert (result.accuracy >= 0).all() and (result.accuracy <= 1).all()
    holds = result.holds(1)
    assert [h.digit for h in holds] == list(result.digits)
    for h in holds:
        assert h.best == pytest.approx(float(result.accuracy[1, h.best_slot, result.digits.index(h.digit)]))
    told = result.slot(1, holds[0].best_slot)
    assert told[0][1] >= told[-1][1] and {d for d, _ in told} == set(result.digits)
    with pytest.raises(ValueError, match="operands of 1 to 3 digits"):
        probes.digit_probes(model, (4, 1))


def test_the_command_line_prints_each_state_and_refuses_bad_input(model, tmp_path, capsys):
    from ttm.checkpoint import save
    path = tmp_path / "tiny.pt"
    save(model, path)
    assert probes.main([str(path), "--cell", "1x1", "--problems", "120", "--fit", "80"]) == 0
    out = capsys.readouterr().out
    assert "memory entering step 0 (the learned initial memory)" in out and "a's units" in out
    assert probes.main([str(tmp_path / "missing.pt")]) == 1
    assert "error:" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        probes.main([str(path), "--cell", "two"])
    assert "'two': write a cell as digits of a x digits of b" in capsys.readouterr().err
    assert probes.parse_cell("2X3") == (2, 3)


def test_over_chance_is_zero_at_chance_one_when_always_right_and_negative_below():
    gain = probes.over_chance([0.1, 1.0, 0.55, 0.0], 0.1)
    np.testing.assert_allclose(gain, [0.0, 1.0, 0.5, -1 / 9], rtol=1e-6)
    assert probes.over_chance(0.0, 0.9) == -1.0          # clipped
