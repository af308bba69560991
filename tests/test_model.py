import pytest
import torch

from ttm.data import make_batch
from ttm.model import SUMMARIZERS, WRITE_RULES, TTM, TTMConfig
from ttm.hooks import capture
from ttm_fixtures import tiny_config, tiny_model


def test_default_config_matches_the_design():
    cfg = TTMConfig()
    assert (cfg.vocab_size, cfg.dim, cfg.memory_tokens, cfg.read_tokens) == (13, 128, 96, 16)
    assert (cfg.layers, cfg.heads, cfg.mlp_dim, cfg.dropout) == (4, 4, 512, 0.1)
    assert cfg.summarizer == "mlp" and cfg.write_rule == "summarize" and cfg.use_memory
    model = TTM(cfg)
    assert model.memory_init.shape == (96, 128)
    assert 0.005 < model.memory_init.std().item() < 0.015


@pytest.mark.parametrize("summarizer", SUMMARIZERS)
@pytest.mark.parametrize("write_rule", WRITE_RULES)
def test_every_variant_runs_and_has_the_stage_shapes(summarizer, write_rule):
    cfg = tiny_config(summarizer=summarizer, write_rule=write_rule)
    model = TTM(cfg)
    problem, target = make_batch([(12, 34), (5, 6)], cfg.input_tokens)
    with capture(model) as cache:
        logits, loss = model(problem, target)
    B, T, m, r, n, d = 2, target.shape[1], cfg.m, cfg.read_tokens, cfg.input_tokens, cfg.dim
    assert logits.shape == (B, T, cfg.vocab_size) and torch.isfinite(loss)
    assert cache.stacked("read.weights").shape == (T, B, r, m + n)
    assert cache.stacked("read.tokens").shape == (T, B, r, d)
    assert cache.stacked("processed").shape == (T, B, r, d)
    assert cache.stacked("memory").shape == (T, B, m, d)
    assert cache.stacked("process.layer1.attn").shape == (T, B, cfg.heads, r, r)
    write_sources = {"summarize": m + r + n, "erase_add": r, "fifo": m + r}[write_rule]
    assert cache.stacked("write.weights").shape == (T, B, m, write_sources)
    loss.backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


@pytest.mark.parametrize("summarizer", SUMMARIZERS)
def test_summarization_weights_sum_to_one_and_skip_padding(summarizer):
    cfg = tiny_config(summarizer=summarizer)
    model = TTM(cfg)
    problem, target = make_batch([(7, 8)], cfg.input_tokens)
    with capture(model, ["read.weights", "write.weights"]) as cache:
        model(problem, target)
    for name in ("read.weights", "write.weights"):
        w = cache.stacked(name)
        assert torch.allclose(w.sum(-1), torch.ones(()), atol=1e-5), name
        assert (w >= 0).all()
    # step 0 input is "7 × 8 EOS" + PAD: the PAD columns of the read weights are exactly zero
    read0 = cache["read.weights"][0][0]                      # (r, m + n)
    assert torch.all(read0[:, cfg.m + 4:] == 0)
    assert torch.all(read0[:, cfg.m:cfg.m + 4].sum(-1) > 0) or summarizer == "pool"


def test_memoryless_variant_has_no_memory():
    cfg = tiny_config(use_memory=False)
    model = TTM(cfg)
    assert model.memory_init.shape == (0, cfg.dim)
    problem, target = make_batch([(9, 9)], cfg.input_tokens)
    with capture(model) as cache:
        _, loss = model(problem, target)
    assert torch.isfinite(loss)
    assert "write.weights" not in cache
    assert cache.stacked("read.weights").shape[-1] == cfg.input_tokens


def test_loss_ignores_padding_and_normalizes_by_valid_tokens():
    cfg = tiny_config()
    model = tiny_model()
    problem, target = make_batch([(99, 99), (2, 3)], cfg.input_tokens)  # answers of 5 and 2 tokens
    logits, loss = model(problem, target)
    valid = target != 12
    manual = torch.nn.functional.cross_entropy(logits[valid], target[valid])
    assert torch.allclose(loss, manual)


@pytest.mark.parametrize("a, b", [(-1, 3), (3, -1), (1.5, 2), ("3", 2), (1000, 2), (True, 2)])
def test_multiply_rejects_bad_operands(a, b):
    with pytest.raises(ValueError):
        tiny_model().multiply(a, b)


def test_multiply_returns_an_int_or_none():
    result = tiny_model().multiply(12, 34)
    assert result is None or isinstance(result, int)
