import math

import pytest
import torch

from ttm_fixtures import long_trace, tiny_model


@pytest.fixture(scope="module")
def model():
    return tiny_model(seed=3)


def test_trace_names_and_shapes(model):
    cfg = model.config
    trace = long_trace(model)
    T = trace.steps
    assert T == cfg.max_steps  # EOS suppressed: runs to the last step
    assert trace["memory"].shape == (T + 1, cfg.m, cfg.dim)
    assert trace["read.weights"].shape == (T, cfg.read_tokens, cfg.m + cfg.input_tokens)
    assert trace["write.weights"].shape == (T, cfg.m, cfg.m + cfg.read_tokens + cfg.input_tokens)
    assert trace["attention"].shape == (T, cfg.layers, cfg.heads, cfg.read_tokens, cfg.read_tokens)
    assert trace["process.layer0.attn"].shape == (T, cfg.heads, cfg.read_tokens, cfg.read_tokens)
    assert trace["logits"].shape == (T, cfg.vocab_size)
    assert trace["prediction"].shape == (T,)
    assert trace["embedding"].shape == (cfg.vocab_size, cfg.dim)
    assert torch.equal(trace["memory"][0], model.memory_init.detach())
    assert all(not t.requires_grad and t.device.type == "cpu" for t in trace.tensors.values())
    with pytest.raises(KeyError, match="no tensor"):
        trace["nope"]


def test_trace_prediction_matches_multiply(model):
    trace = model.trace(12, 34)
    assert trace.answer == model.multiply(12, 34)
    assert trace.expected == 408


def test_replay_without_edit_reproduces_bit_for_bit(model):
    trace = long_trace(model)
    for t in (0, 2, trace.steps - 1):
        again = trace.replay(t, trace["memory"][t])
        assert again.names == trace.names or set(again.names) == set(trace.names)
        for name in trace.names:
            assert torch.equal(again[name], trace[name]), (t, name)


def test_edit_changes_memory_only_after_the_edited_step(model):
    trace = long_trace(model)
    t = 2
    edited = trace["memory"][t].clone()
    edited[0, :] += 3.0
    new = trace.replay(t, edited)
    for i in range(t):
        assert torch.equal(new["memory"][i], trace["memory"][i])
        assert torch.equal(new["read.weights"][i], trace["read.weights"][i])
    assert torch.equal(new["memory"][t], edited)
    assert not torch.equal(new["memory"][t + 1], trace["memory"][t + 1])
    assert torch.equal(new["prediction"][:t], trace["prediction"][:t])


def test_replay_checks_its_arguments(model):
    trace = long_trace(model)
    with pytest.raises(IndexError):
        trace.replay(trace.steps, trace["memory"][0])
    with pytest.raises(ValueError, match="shape"):
        trace.replay(0, torch.zeros(3, 3))


def test_recording_runs_in_eval_mode_and_restores_the_mode():
    model = tiny_model(seed=3)  # dropout 0.1: a trace recorded in training mode would differ
    expected = model.trace(12, 34)["logits"]
    model.train()
    trace = model.trace(12, 34)
    assert model.training
    assert torch.equal(trace["logits"], expected)


def test_answer_logp_is_the_log_probability_of_each_token_the_run_produced(model):
    trace = model.trace(12, 34)
    probs = torch.softmax(trace["logits"].double(), -1)
    expected = sum(math.log(float(probs[t, token])) for t, token in enumerate(trace.answer_tokens))
    assert trace.answer_logp == pytest.approx(expected, rel=1e-5) and trace.answer_logp <= 0
    assert len(trace.answer_tokens) == trace.steps > 1
