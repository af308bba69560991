"""The auxiliary carry loss: the carries are long multiplication's, and the loss is the digit loss
plus the weighted error of a probe that reads each step's carry out of the memory it wrote."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ttm import tokens as tok
from ttm.data import make_batch
from ttm.model import TTM, TTMConfig


@pytest.mark.parametrize("seed", range(3))
def test_carries_rebuild_the_product_column_by_column(seed):
    rng = np.random.default_rng(seed)
    for a, b in rng.integers(0, 10_000, size=(200, 2)).tolist():
        carries = tok.carries(a, b)
        da, db = str(a)[::-1], str(b)[::-1]
        digits, carry_in = [], 0
        for k, carry_out in enumerate(carries):
            column = sum(int(da[i]) * int(db[k - i]) for i in range(len(da)) if 0 <= k - i < len(db))
            assert carry_out == (column + carry_in) // 10
            digits.append((column + carry_in) % 10)
            carry_in = carry_out
        assert int("".join(map(str, digits[::-1]))) == a * b and carries[-1] == 0


def test_known_carries_and_operands():
    assert tok.carries(37, 42) == [1, 3, 1, 0]            # 14, 34 + 1, 12 + 3, 0 + 1
    assert tok.problem_operands(tok.problem_tokens(37, 42) + [tok.PAD] * 3) == (37, 42)
    with pytest.raises(ValueError):
        tok.problem_operands([3, 7, tok.EOS])


def test_the_loss_adds_the_weighted_carry_error_and_trains_the_probe():
    torch.manual_seed(0)
    cfg = TTMConfig.tiny(dropout=0.0, carry_loss=0.5)
    model = TTM(cfg)
    plain = TTM(TTMConfig.tiny(dropout=0.0))
    plain.load_state_dict({k: v for k, v in model.state_dict().items()
                           if not k.startswith("carry_head")})
    problem, target = make_batch([(37, 42), (999, 99), (5, 0)], cfg)
    logits, loss = model(problem, target)
    digit_loss = F.cross_entropy(logits.flatten(0, 1), target.flatten(), ignore_index=tok.PAD)
    assert torch.allclose(plain(problem, target)[1], digit_loss)
    assert loss > digit_loss
    loss.backward()
    assert model.carry_head.weight.grad.abs().sum() > 0
    assert plain.carry_head is None


def test_the_carry_error_is_zero_for_exact_predictions_and_ignores_non_digit_steps():
    model = TTM(TTMConfig.tiny(carry_loss=1.0))
    problem, target = make_batch([(37, 42), (5, 3)], model.config)
    exact = torch.tensor([[0.1, 0.3, 0.1, 0.0, 7.0], [0.1, 0.0, 9.0, 9.0, 9.0]])  # 7, 9: EOS, PAD
    assert model.carry_error(problem, exact) == 0
    assert model.carry_error(problem, exact + 0.1) == pytest.approx(0.01)


def test_a_carry_loss_needs_memory():
    with pytest.raises(ValueError, match="carry_loss"):
        TTMConfig(carry_loss=0.5, use_memory=False)
    with pytest.raises(ValueError, match="carry_loss"):
        TTMConfig(carry_loss=-1.0)


def test_the_walkthrough_reads_the_probe_on_each_digit_step_and_flags_a_lost_carry():
    from studio.walkthrough import PLAIN, UNSURE_TONE, format_step, step_lines, step_report
    torch.manual_seed(1)
    model = TTM(TTMConfig.tiny(dropout=0.0, carry_loss=0.5)).eval()
    trace = model.trace(37, 42)
    true = tok.carries(37, 42)
    for t in range(min(trace.steps, len(true))):
        held, carried = step_report(trace, t).carry
        with torch.no_grad():
            expected = 10 * float(model.carry_head(trace["memory"][t + 1].mean(0)))
        assert held == pytest.approx(expected, abs=1e-5) and carried == true[t]
    with torch.no_grad():            # a probe that reads 4.5 everywhere: off by more than one
        model.carry_head.weight.zero_()
        model.carry_head.bias.fill_(0.45)
    report = step_report(trace, 0)
    assert report.carry_lost and format_step(report)[-1] == (
        "carry  the probe reads 4.5 in memory; the true carry out is 1 (3.5 too high)")
    with torch.no_grad():
        model.carry_head.bias.fill_(0.15)   # 1.5 against 1: within a carry, not called out
    close = step_report(trace, 0)
    assert not close.carry_lost and format_step(close)[-1].endswith("the true carry out is 1")
    without = TTM(TTMConfig.tiny(dropout=0.0)).eval().trace(37, 42)
    assert step_report(without, 0).carry is None
    assert not any(line.startswith("carry") for line in format_step(step_report(without, 0)))
    assert step_lines(report)[-1][1] == UNSURE_TONE and step_lines(close)[-1][1] == PLAIN


def test_the_controller_keeps_the_step_report_of_the_step_on_view():
    from studio.controller import Controller
    torch.manual_seed(1)
    model = TTM(TTMConfig.tiny(dropout=0.0, carry_loss=0.5)).eval()
    controller = Controller(model.trace(37, 42))
    first = controller.step_report()
    assert controller.step_report() is first and first.step == controller.step
    controller.step_by(1)
    moved = controller.step_report()
    assert moved is not first and moved.step == first.step + 1
    assert controller.step_summary().startswith(f"step {moved.step} (0-{controller.trace.steps - 1}): input ")
    controller.set_problem(38, 42)
    assert controller.trace.a == 38 and controller.step_report() is not moved
    from studio.walkthrough import first_miss
    assert controller.first_miss() == first_miss(controller.trace)
    controller._miss = (controller.trace, "kept")            # asked again: the trace's line is kept
    assert controller.first_miss() == "kept"
    controller.set_problem(39, 42)
    assert controller.first_miss() == first_miss(controller.trace)
