"""How sure the model is: the problem's cell, measured exact match from the checkpoint's metrics,
warnings for weak or never-trained cells, and the run's time."""
import pytest
import torch

from studio.panel_frame import BAD, DIM, GOOD, WARN
from ttm import tokens as tok
from ttm.confidence import cell_confidence, percent, wilson_interval
from ttm_fixtures import tiny_model

EVALUATION = {"trained_digits": 3, "per_cell": 2000, "cells": [
    {"a_digits": 3, "b_digits": 2, "exact_match": 0.96, "token_accuracy": 0.99},
    {"a_digits": 3, "b_digits": 3, "exact_match": 0.775, "token_accuracy": 0.95},
    {"a_digits": 4, "b_digits": 4, "exact_match": 0.12, "token_accuracy": 0.3}]}


def test_the_evaluation_table_is_preferred_and_weak_cells_warn():
    metrics = {"evaluation": EVALUATION, "cell_exact": {"3x2": 0.5}, "stage": 3}
    strong = cell_confidence(metrics, 583, 67)
    assert (strong.cell, strong.exact, strong.problems, strong.source) == ((3, 2), 0.96, 2000, "evaluation")
    assert strong.describe() == "3×2 problems: 96.0% exact on 2000 evaluated problems"
    assert strong.warning() is None
    weak = cell_confidence(metrics, 583, 671)
    assert weak.warning() == "this model gets 3×3 right 78% of the time"


def test_percentages_round_to_whole_numbers_but_never_to_0_or_100_when_they_are_not():
    assert [percent(r) for r in (0.0, 0.775, 0.12, 1.0)] == ["0%", "78%", "12%", "100%"]
    assert [percent(r) for r in (0.001, 0.004, 0.996, 0.9996)] == ["0.1%", "0.4%", "99.6%", "99.96%"]
    nearly_never = cell_confidence({"evaluation": {**EVALUATION, "cells": [
        {"a_digits": 4, "b_digits": 4, "exact_match": 0.001, "token_accuracy": 0.3}]}}, 1234, 5678)
    assert nearly_never.warning() == "this model was never trained on 4×4 problems (measured: right 0.1% of the time)"


def test_the_interval_of_a_small_check_is_wide_and_stays_inside_0_to_1():
    assert wilson_interval(0.75, 32) == pytest.approx((0.5789, 0.8675), abs=1e-4)
    lo, hi = wilson_interval(1.0, 32)             # all right still leaves room below
    assert hi == 1.0 and 0.88 < lo < 0.9
    assert wilson_interval(0.0, 32)[0] == 0.0 and wilson_interval(0.0, 32)[1] > 0.1
    narrow = wilson_interval(0.75, 2000)
    assert narrow[1] - narrow[0] < 0.04 < wilson_interval(0.75, 32)[1] - wilson_interval(0.75, 32)[0]


def test_a_cell_beyond_training_says_so_with_its_measured_rate():
    beyond = cell_confidence({"evaluation": EVALUATION}, 1234, 5678)
    assert beyond.trained is False
    assert beyond.warning() == "this model was never trained on 4×4 problems (measured: right 12% of the time)"


def test_without_an_evaluation_the_training_estimate_is_used_and_labelled():
    rough = cell_confidence({"cell_exact": {"2x2": 0.75}, "stage": 2}, 37, 42)
    assert (rough.exact, rough.source, rough.trained) == (0.75, "training", True)
    assert rough.describe() == "2×2 problems: 75.0% exact in training's last check"
    live = cell_confidence({"cell_exact": {"2x2": 0.75}, "cell_digits": {"2x2": [1.0, 0.5, 0.9, 1.0]},
                            "cell_problems": 32, "stage": 2}, 37, 42)
    assert live.describe() == ("2×2 problems: 75.0% exact in training's last check, 32 problems "
                               "(95% interval 58-87%)")
    assert live.digit_trust(1594) == [("1", 1.0), ("5", 0.9), ("9", 0.5), ("4", 1.0)]
    assert rough.warning() == "this model gets 2×2 right 75% of the time"
    unknown = cell_confidence({}, 3, 4)
    assert unknown.exact is None and unknown.trained is None and unknown.warning() is None
    assert unknown.describe() == "1×1 problems: never measured"


def test_a_training_run_quotes_its_check_by_step_and_the_table_it_started_from():
    """While the app trains a resumed model, the cell's figure is training's rough check (the
    weights moved), named by its step, and the stored 2000-problem table of the starting step is
    quoted beside it, not in its place."""
    from studio.walkthrough import how_sure
    from ttm.confidence import start_confidence
    training = {"start_evaluation": {**EVALUATION, "step": 97901}, "cell_exact": {"4x4": 0.0},
                "cell_problems": 32, "cell_checked_at": 98000, "stage": 4}
    trace = tiny_model(seed=2, max_digits=4).trace(1234, 5678)
    assert how_sure(trace, training, timed=False) == [
        "4×4 problems: 0.0% exact in training's last check (step 98,000), 32 problems (95% interval 0-11%)",
        "at step 97,901, where this run started: 12.0% exact on 2000 evaluated problems",
        "warning: this model gets 4×4 right 0% of the time"]
    assert start_confidence(training, 583, 67).exact == 0.96
    # the checkpoint's own table (weights unchanged) is the figure, with nothing beside it
    assert start_confidence({**training, "evaluation": EVALUATION}, 1234, 5678) is None
    assert how_sure(trace, {"evaluation": EVALUATION}, timed=False)[0] == (
        "4×4 problems: 12.0% exact on 2000 evaluated problems")


def test_the_walkthrough_ends_with_time_accuracy_and_warning():
    from studio.walkthrough import format_walkthrough, how_sure
    trace = tiny_model(seed=2).trace(583, 671)
    assert trace.seconds is not None and trace.seconds > 0
    lines = how_sure(trace, {"evaluation": EVALUATION})
    assert lines[0].startswith("computed in ") and lines[0].endswith(" ms")
    assert lines[1:] == ["3×3 problems: 77.5% exact on 2000 evaluated problems",
                         "warning: this model gets 3×3 right 78% of the time"]
    text = format_walkthrough(trace, metrics={"evaluation": EVALUATION}).splitlines()
    assert text[-2:] == lines[1:]
    assert "problems:" not in format_walkthrough(trace)   # no metrics given, nothing claimed


def test_a_weak_cell_names_the_checkpoint_beside_it_that_does_it_better(tmp_path):
    """tables_beside reads the stored tables of the other checkpoints in the folder (not the
    one in use, not files that are no checkpoint); the warning names the best of them when it
    gets the cell right at least half the time and beats the model in use by 10 points."""
    import ttm
    from studio.walkthrough import how_sure
    from ttm.confidence import better_elsewhere, tables_beside

    def evaluation(exact_3x3: float) -> dict:
        return {**EVALUATION, "cells": [{**c, "exact_match": exact_3x3} if (c["a_digits"], c["b_digits"]) == (3, 3)
                                        else c for c in EVALUATION["cells"]]}
    model = tiny_model(seed=2)
    ttm.save(model, tmp_path / "in-use.pt", metrics={"evaluation": EVALUATION})
    ttm.save(model, tmp_path / "good.pt", metrics={"evaluation": evaluation(0.95)})
    ttm.save(model, tmp_path / "better.pt", metrics={"evaluation": evaluation(0.97)})
    ttm.save(model, tmp_path / "no-table.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    tables = tables_beside(tmp_path / "in-use.pt")
    assert sorted(tables) == [str(tmp_path / "better.pt"), str(tmp_path / "good.pt")]
    trace = model.trace(583, 671)
    lines = how_sure(trace, {"evaluation": EVALUATION}, tables)
    assert lines[-1] == f"{tmp_path / 'better.pt'} gets 3×3 right 97% of the time: --checkpoint {tmp_path / 'better.pt'}"
    assert how_sure(trace, {"evaluation": EVALUATION}, tables, switch="--resume")[-1].endswith(
        f"of the time: --resume {tmp_path / 'better.pt'}")           # the app's flag
    in_use = cell_confidence({"evaluation": EVALUATION}, 583, 671)
    assert better_elsewhere({"x": {"evaluation": evaluation(0.45)}}, 583, 671,
                            cell_confidence({"evaluation": evaluation(0.0)}, 583, 671)) is None  # not half
    fair = better_elsewhere({"x": {"evaluation": evaluation(0.887)}}, 583, 671, in_use)  # 89 against 78
    assert fair[0] == "x" and fair[1].exact == 0.887
    close = cell_confidence({"evaluation": evaluation(0.89)}, 583, 671)
    assert better_elsewhere(tables, 583, 671, close) is None                # not 10 points better
    assert how_sure(model.trace(583, 67), {"evaluation": EVALUATION}, tables)[-1].startswith("3×2")  # no warning


def test_a_weak_cell_tells_which_digits_of_the_answer_to_trust():
    """The stored per-digit accuracy (least significant first) is read back onto the written
    answer (most significant first), and the walkthrough says it after the warning."""
    from studio.panel_frame import trust_color
    from studio.walkthrough import how_sure
    measured = {**EVALUATION, "cells": [
        {**c, "digit_accuracy": [1.0, 0.98, 0.24, 0.14, 0.09, 0.1, 0.62, 0.97]}
        if (c["a_digits"], c["b_digits"]) == (4, 4) else c for c in EVALUATION["cells"]]}
    weak = cell_confidence({"evaluation": measured}, 1234, 5678)
    assert weak.digit_trust(7449552) == [("7", 0.62), ("4", 0.1), ("4", 0.09), ("9", 0.14),
                                         ("5", 0.24), ("5", 0.98), ("2", 1.0)]
    assert weak.digit_trust(123456789)[0] == ("1", None)          # a place never measured
    assert weak.digit_trust(None) == []
    assert cell_confidence({"evaluation": EVALUATION}, 1234, 5678).digit_trust(7449552) == []
    assert [trust_color(p) for p in (1.0, 0.9, 0.62, 0.1, None)] == [
        GOOD, GOOD, WARN, BAD, DIM]

    model = tiny_model(seed=2, max_digits=4)
    with torch.no_grad():
        model.step.head.bias[tok.EOS] = -1e4        # an untrained model may answer no digits
    trace = model.trace(1234, 5678)
    lines = how_sure(trace, {"evaluation": measured})
    assert lines[-2].startswith("warning:")
    assert lines[-1] == "digit by digit, 4×4 answers are right: " + ", ".join(
        f"{d} {'?' if p is None else f'{100 * p:.0f}%'}" for d, p in weak.digit_trust(trace.answer))
    assert lines[-1].endswith(f"{str(trace.answer)[-1]} 100%")
    strong = how_sure(model.trace(583, 67), {"evaluation": measured})   # 3×2: no warning
    assert not any(line.startswith("digit by digit") for line in strong)
    # The timeline draws the time beside the prediction and colours its digits: it asks for neither.
    assert how_sure(trace, {"evaluation": measured}, timed=False, digit_line=False) == [
        line for line in lines if not line.startswith(("computed in", "digit by digit"))]
    assert lines[0] == f"computed in {1000 * trace.seconds:.0f} ms"
