import pytest
import torch

from ttm import tokens as tok
from ttm.data import make_batch
from ttm.model import SUMMARIZERS, WRITE_RULES, TTM, TTMConfig, evaluating
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
    problem, target = make_batch([(12, 34), (5, 6)], cfg)
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
    problem, target = make_batch([(7, 8)], cfg)
    with capture(model, ["read.weights", "write.weights"]) as cache:
        model(problem, target)
    for name in ("read.weights", "write.weights"):
        w = cache.stacked(name)
        assert torch.allclose(w.sum(-1), torch.ones(()), atol=1e-5), name
        assert (w >= 0).all()
    # step 0 input is "7 × 8 EOS" + PAD: the PAD columns of the read weights are exactly zero
    read0 = cache["read.weights"][0][0]                      # (r, m + n)
    assert torch.all(read0[:, cfg.m + 4:] == 0)
    if summarizer != "pool":  # learned scores: every read token draws on the problem
        assert torch.all(read0[:, cfg.m:cfg.m + 4].sum(-1) > 0)
        return
    # Pooling: the m + n = 16 sources fall in 4 contiguous bins, one per read token. Each read
    # token averages the valid sources of its bin: memory 0-3, memory 4-7, the 4 problem tokens;
    # the last bin is all PAD, so that read token averages all 12 valid sources instead.
    expected = torch.zeros(4, 16)
    expected[0, 0:4] = expected[1, 4:8] = expected[2, 8:12] = 1 / 4
    expected[3, 0:12] = 1 / 12
    torch.testing.assert_close(read0, expected)


def test_memoryless_variant_has_no_memory():
    cfg = tiny_config(use_memory=False)
    model = TTM(cfg)
    assert model.memory_init.shape == (0, cfg.dim)
    problem, target = make_batch([(9, 9)], cfg)
    with capture(model) as cache:
        _, loss = model(problem, target)
    assert torch.isfinite(loss)
    assert "write.weights" not in cache
    assert cache.stacked("read.weights").shape[-1] == cfg.input_tokens


def test_loss_ignores_padding_and_normalizes_by_valid_tokens():
    cfg = tiny_config()
    model = tiny_model()
    problem, target = make_batch([(99, 99), (2, 3)], cfg)  # answers of 5 and 2 tokens
    logits, loss = model(problem, target)
    valid = target != 12
    manual = torch.nn.functional.cross_entropy(logits[valid], target[valid])
    assert torch.allclose(loss, manual)


@pytest.mark.parametrize("a, b", [(-1, 3), (3, -1), (1.5, 2), ("3", 2), (1000, 2), (True, 2)])
def test_multiply_rejects_bad_operands(a, b):
    with pytest.raises(ValueError):
        tiny_model().multiply(a, b)


def _always_says(model: TTM, token: int) -> TTM:
    """The model with its head rewired to predict `token` at every step."""
    with torch.no_grad():
        model.step.head.weight.zero_()
        model.step.head.bias.fill_(0.0)
        model.step.head.bias[token] = 1.0
    return model


def test_multiply_reads_the_answer_least_significant_digit_first(monkeypatch):
    model = tiny_model()
    monkeypatch.setattr(model, "generate", lambda pairs: [[4, 5, 5, 1, tok.EOS, 7]] * len(pairs))
    assert model.multiply(37, 42) == 1554                 # up to the EOS, digits reversed
    monkeypatch.undo()
    # A head that always says 3 never says EOS: max_steps (7) threes, read as the number 3333333.
    assert _always_says(tiny_model(), 3).multiply(12, 34) == 3333333
    assert _always_says(tiny_model(), tok.EOS).multiply(12, 34) is None  # no digit at all
    digits = tiny_model(seed=4)
    assert digits.multiply_many([(12, 34), (5, 6)]) == [digits.multiply(12, 34),
                                                        digits.multiply(5, 6)]


def test_evaluating_switches_dropout_off_and_restores_the_mode():
    model = tiny_model().train()
    problem, target = make_batch([(12, 34)], model.config)
    with evaluating(model):
        assert not model.training
        first, second = model(problem, target)[0], model(problem, target)[0]
    assert model.training and torch.equal(first, second)       # no dropout inside
    with pytest.raises(RuntimeError), evaluating(model):
        raise RuntimeError
    assert model.training
    model.multiply(12, 34)
    assert model.training                                       # multiply restores it too


@pytest.mark.parametrize("write_rule", ["summarize", "fifo"])
def test_written_memory_mixes_the_untagged_tokens(write_rule):
    """The source-type tags steer which tokens are written; the memory holds the tokens themselves
    (write.weights applied to the untagged memory, processed and input tokens), never the tags."""
    cfg = tiny_config(write_rule=write_rule, dropout=0.0)
    model = TTM(cfg).eval()
    with torch.no_grad():
        model.step.source_type.normal_(0.0, 1.0)  # tags as large as the tokens: a leak would show
    B, m, n, d = 2, cfg.m, cfg.input_tokens, cfg.dim
    torch.manual_seed(1)
    memory, inputs = torch.randn(B, m, d), torch.randn(B, n, d)
    mask = torch.ones(B, n, dtype=torch.bool)
    mask[:, 5:] = False
    with torch.no_grad(), capture(model, ["write.weights", "processed"]) as cache:
        new_memory, _ = model.step(memory, inputs, mask)
    weights, processed = cache["write.weights"][0], cache["processed"][0]
    sources = {"summarize": [memory, processed, inputs], "fifo": [memory, processed]}[write_rule]
    torch.testing.assert_close(new_memory, weights @ torch.cat(sources, dim=1))


def test_configure_optimizers_decays_weight_matrices_only():
    model = tiny_model()
    optimizer = model.configure_optimizers(weight_decay=0.1, lr=3e-3, betas=(0.8, 0.9))
    decay, no_decay = optimizer.param_groups
    assert (decay["weight_decay"], no_decay["weight_decay"]) == (0.1, 0.0)
    assert all(g["lr"] == 3e-3 and g["betas"] == (0.8, 0.9) for g in optimizer.param_groups)
    names = {id(p): n for n, p in model.named_parameters()}
    decayed = {names[id(p)] for p in decay["params"]}
    assert "step.process.blocks.0.attn.qkv.weight" in decayed and "memory_init" in decayed
    undecayed = {names[id(p)] for p in no_decay["params"]}
    assert {"token_embedding.weight", "step_embedding", "step.head.bias",
            "step.process.norm.weight"} <= undecayed
    assert len(decayed) + len(undecayed) == len(names) and not decayed & undecayed
