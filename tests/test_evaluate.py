import pytest
"""ttm.evaluate, the cell-table helpers in ttm.metrics, and the heat map it draws (ttm.plots)."""
import json
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import torch

from chart_checks import read_chart
from ttm import plots, save, tokens as tok
from ttm.evaluate import default_max_digits, digit_heatmap, heatmap, main as evaluate_main
from ttm.metrics import (Score, cell_table, format_digit_table, format_table, score, table_from_records, table_mean,
                         table_records)
from ttm.model import TTM
from ttm_fixtures import tiny_config


TINY = tiny_config(layers=1, max_digits=3)


class Oracle:
    """Answers every problem correctly: a model-shaped stand-in for checking the metrics."""
    training = False

    def eval(self):
        return self

    def train(self, mode=True):
        return self

    def generate(self, pairs):
        return [tok.answer_tokens(a * b) for a, b in pairs]


def test_heatmap_paints_each_cell_with_the_colormap_at_its_value(tmp_path):
    # (exact, token accuracy) per cell: four very different values in each panel.
    table = {(1, 1): (0.0, 1.0), (1, 2): (1.0, 0.0), (2, 1): (0.5, 0.25), (2, 2): (0.25, 0.75)}
    fig = heatmap(table)
    rgb = read_chart(plots.save(fig, tmp_path / "h.png"))
    cmap = matplotlib.colormaps[plots.HEAT_COLORMAP]
    for which, ax in enumerate(fig.axes[:2]):  # the two panels; the colour bar comes after
        painted = []
        for (da, db), values in table.items():
            # Up and left of the cell's centre: inside the cell, clear of the number written there.
            x, y = ax.transData.transform((db - 1 - 0.3, da - 1 - 0.3))
            pixel = rgb[int(round(rgb.shape[0] - y)), int(round(x))].astype(int)
            expected = np.round(255 * np.array(cmap(values[which])[:3])).astype(int)
            assert np.abs(pixel - expected).max() <= 2, ((da, db), which, pixel, expected)
            painted.append(tuple(pixel))
        assert len(set(painted)) == 4
        assert [t.get_text() for t in ax.texts] == [f"{100 * v[which]:.1f}" for v in table.values()]


def test_digit_heatmap_lays_each_cell_out_as_its_answer_is_written(tmp_path):
    """Units on the right, higher digits to the left, grey where a cell's products have no such
    digit; cells without digit accuracy have no row."""
    table = {(1, 1): Score(1.0, 1.0, (1.0, 0.25)), (1, 2): Score(0.5, 0.5, (0.5, 0.0, 0.75)),
             (2, 2): Score(0.0, 0.0)}
    fig = digit_heatmap(table)
    rgb = read_chart(plots.save(fig, tmp_path / "d.png"))
    ax = fig.axes[0]
    cmap = matplotlib.colormaps[plots.HEAT_COLORMAP]
    expected = {(0, 1): 0.25, (0, 2): 1.0, (1, 0): 0.75, (1, 1): 0.0, (1, 2): 0.5}
    for (row, col), value in expected.items():
        x, y = ax.transData.transform((col - 0.3, row - 0.3))
        pixel = rgb[int(round(rgb.shape[0] - y)), int(round(x))].astype(int)
        want = np.round(255 * np.array(cmap(value)[:3])).astype(int)
        assert np.abs(pixel - want).max() <= 2, ((row, col), pixel, want)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1×1", "1×2"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["3", "2", "1"]
    assert [t.get_text() for t in ax.texts] == ["-", "25.0", "100.0", "75.0", "0.0", "50.0"]
    assert digit_heatmap({(1, 1): Score(1.0, 1.0)}) is None


def test_format_table_is_markdown_in_percent():
    table = {(1, 1): (1.0, 1.0), (1, 2): (0.5, 0.75), (2, 1): (0.25, 0.5), (2, 2): (0.0, 0.125)}
    assert format_table(table, 0).splitlines() == [
        "| a \\ b | 1 digit | 2 digits |", "|---|---|---|",
        "| 1 digit | 100.0 | 50.0 |", "| 2 digits | 25.0 | 0.0 |"]
    assert format_table(table, 1).splitlines()[3] == "| 2 digits | 50.0 | 12.5 |"
    scored = {cell: Score(*values, (1.0, values[1])) for cell, values in table.items()}
    assert table_from_records(table_records(scored)) == scored
    old_rows = [{k: v for k, v in r.items() if k != "digit_accuracy"} for r in table_records(scored)]
    assert table_from_records(old_rows)[(1, 2)] == Score(0.5, 0.75, ())   # written before digits
    scored[(2, 2)] = Score(0.0, 0.125, (1.0, 0.5, 0.125))
    assert format_digit_table(scored).splitlines() == [
        "| cell \\ digit from the right | 1 | 2 | 3 |", "|---|---|---|---|",
        "| 1×1 | 100.0 | 100.0 |  |", "| 1×2 | 100.0 | 75.0 |  |",
        "| 2×1 | 100.0 | 50.0 |  |", "| 2×2 | 100.0 | 50.0 | 12.5 |"]
    assert format_digit_table({(1, 1): Score(1.0, 1.0)}) == "| cell \\ digit from the right |\n|---|"


def test_cell_table_of_a_perfect_model():
    table = cell_table(Oracle(), 2, per_cell=30, seed=5)
    assert set(table) == {(1, 1), (1, 2), (2, 1), (2, 2)}
    assert all(v.exact == v.token_accuracy == 1.0 and set(v.digit_accuracy) == {1.0}
               for v in table.values())
    assert table_mean(table) == (1.0, 1.0)
    assert table_records(table)[1] == {"a_digits": 1, "b_digits": 2, "exact_match": 1.0,
                                       "token_accuracy": 1.0, "digit_accuracy": [1.0, 1.0, 1.0]}


class MissesTheTens(Oracle):
    """Right but for the tens digit of every answer that has one; answers of 18 and more come out
    a digit short."""
    def generate(self, pairs):
        out = []
        for a, b in pairs:
            answer = tok.answer_tokens(a * b)
            if len(answer) > 2:
                answer[1] = (answer[1] + 1) % 10
            out.append(answer[:-2] + [tok.EOS] if a * b >= 18 else answer)
        return out


def test_digit_accuracy_says_which_positions_of_the_answer_are_wrong():
    pairs = [(3, 4), (2, 3), (9, 9), (7, 8), (3, 5)]   # 12, 6, 81, 56, 15
    result = score(MissesTheTens(), pairs)
    assert result.exact == pytest.approx(1 / 5)                          # 6 alone
    assert result.digit_accuracy == pytest.approx((1.0, 0.0))            # units right, tens never
    # tokens: 12 -> 2 of 3 right (tens wrong), 6 -> 2/2, 81 and 56 -> 1/3 (their ones digit,
    # cut short), 15 -> 2/3
    assert result.token_accuracy == pytest.approx((2 + 2 + 1 + 1 + 2) / 14)


def test_default_max_digits_is_one_beyond_training_capped():
    ckpt = {"config": {"max_digits": 4}, "trainer": {"train_config": {"digits": 2}}}
    assert default_max_digits(ckpt) == 3
    ckpt["trainer"]["train_config"]["digits"] = 4
    assert default_max_digits(ckpt) == 4
    assert default_max_digits({"config": {"max_digits": 4}}) == 4


def test_cli_writes_json_and_png_deterministically_and_redraws_from_json(tmp_path, capsys):
    torch.manual_seed(0)
    save(TTM(TINY), tmp_path / "m.pt", trainer={"train_config": {"digits": 1}, "step": 7})
    argv = [str(tmp_path / "m.pt"), "--per-cell", "20", "--json", str(tmp_path / "a.json"),
            "--png", str(tmp_path / "a.png")]
    first = evaluate_main(argv)
    captured = capsys.readouterr()
    assert "| 2 digits |" in captured.out and "Token accuracy" in captured.out
    assert "4/4" in captured.err                                   # the progress bar's last state
    assert first["max_digits"] == 2 and len(first["cells"]) == 4
    assert set(first) >= {"overall", "trained_range", "beyond_training"}
    assert json.loads((tmp_path / "a.json").read_text()) == json.loads(json.dumps(first))
    image = read_chart(tmp_path / "a.png")
    second = evaluate_main(argv[:3] + ["--max-digits", "2"])
    assert second["cells"] == first["cells"]
    capsys.readouterr()
    again = evaluate_main(["--from-json", str(tmp_path / "a.json"), "--png", str(tmp_path / "b.png"),
                           "--digits-png", str(tmp_path / "d.png")])
    printed = capsys.readouterr().out
    assert again == json.loads(json.dumps(first)) and "| 2 digits |" in printed
    assert "| 2×2 |" in printed.split("Digit accuracy")[1]
    np.testing.assert_array_equal(read_chart(tmp_path / "b.png"), image)
    assert read_chart(tmp_path / "d.png").shape[0] > 0


def test_store_keeps_the_table_in_the_checkpoint_for_the_confidence_shown(tmp_path, capsys):
    import ttm
    from ttm.confidence import cell_confidence
    torch.manual_seed(0)
    model = TTM(TINY)
    save(model, tmp_path / "m.pt", metrics={"stage": 1}, trainer={"train_config": {"digits": 1}, "step": 7})
    result = evaluate_main([str(tmp_path / "m.pt"), "--per-cell", "20", "--store"])
    capsys.readouterr()
    stored = ttm.load(tmp_path / "m.pt")
    assert stored.metrics["evaluation"] == json.loads(json.dumps(result)) and stored.metrics["stage"] == 1
    for a, b in zip(model.state_dict().values(), stored.state_dict().values()):
        assert torch.equal(a, b)
    cell = result["cells"][1]
    said = cell_confidence(stored.metrics, 10 ** (cell["a_digits"] - 1), 10 ** (cell["b_digits"] - 1))
    assert (said.source, said.exact, said.problems) == ("evaluation", cell["exact_match"], 20)
    with pytest.raises(SystemExit):
        evaluate_main(["--from-json", str(tmp_path / "x.json"), "--store"])


def test_importing_the_package_and_its_programs_loads_no_matplotlib():
    code = ("import sys, ttm, ttm.evaluate, ttm.ablate, ttm.train; "
            "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'")
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[1],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_cell_grid_lays_cells_out_by_digits_of_a_and_b():
    from ttm.metrics import cell_grid
    assert cell_grid({"1x1": 1.0, "2x1": 0.5, "1x3": 0.25}) == [[1.0, None, 0.25], [0.5, None, None],
                                                                 [None, None, None]]
    assert cell_grid({}) == []
