"""ttm.ablate on tiny budgets: same data for every variant, a complete table, JSON and PNG."""
import json
import math

import numpy as np
import pytest

from chart_checks import read_chart
from ttm import plots
from ttm.ablate import (VARIANTS, bar_chart, main as ablate_main, results_table, run_ablation,
                        train_config)
from ttm_fixtures import tiny_config
from ttm.train import Trainer


TINY = tiny_config(layers=1, max_digits=2)


def test_fixed_schedule():
    cfg = train_config(examples=6400, digits=2, seed=0, batch_size=64, out="x.pt", device="cpu")
    assert cfg.steps == 100 and cfg.max_stage_steps == 25 == cfg.eval_every
    assert math.isinf(cfg.curriculum_threshold) and cfg.decay_steps == cfg.steps


def test_variants_see_the_same_problems(tmp_path):
    states = []
    for name in ("ttm", "memoryless", "fifo"):
        cfg = train_config(64, 2, 3, 8, str(tmp_path / f"{name}.pt"), "cpu")
        trainer = Trainer(cfg, tiny_config(layers=1, max_digits=2, **VARIANTS[name]))
        trainer.run()
        states.append((trainer.rng.bit_generator.state, trainer.curriculum.stage, trainer.examples))
    assert states[0] == states[1] == states[2]
    assert states[0][1] == 2  # the schedule reached the last stage


def test_run_ablation_table_and_chart(tmp_path):
    results = run_ablation(["ttm", "pool"], TINY, examples=32, digits=2, seed=0, batch_size=8,
                           per_cell=5, ckpt_dir=str(tmp_path), device="cpu", quiet=True)
    assert [r["variant"] for r in results] == ["ttm", "pool"]
    assert all(r["examples"] == 32 and set(r["cells"]) == {"1x1", "1x2", "2x1", "2x2"}
               for r in results)
    table = results_table(results).splitlines()
    assert len(table) == 4 and table[0].startswith("| variant | params | examples | wall time")
    assert table[1] == "|---" * 12 + "|" and table[3].startswith("| pool | ")


def test_bar_chart_draws_every_cell_and_the_overall_per_variant(tmp_path):
    results = [{"variant": "ttm", "cells": {"1x1": 1.0, "2x2": 0.25}, "exact_match": 0.625},
               {"variant": "fifo", "cells": {"1x1": 0.5, "2x2": 0.0}, "exact_match": 0.25}]
    fig = bar_chart(results, "T")
    ax = fig.axes[0]
    # Bars go series by series (1x1, 2x2, overall), each over the variants, in percent.
    assert [round(bar.get_height(), 6) for bar in ax.patches] == [100, 50, 25, 0, 62.5, 25]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["ttm", "fifo"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["1x1 cell", "2x2 cell", "overall"]
    rgb = read_chart(plots.save(fig, tmp_path / "b.png"))
    # The tallest bar (ttm's 1x1) is painted in the first series colour.
    x, y = ax.transData.transform((ax.patches[0].get_x() + ax.patches[0].get_width() / 2, 50))
    blue = np.round(255 * np.array(ax.patches[0].get_facecolor()[:3]))
    assert np.abs(rgb[int(round(rgb.shape[0] - y)), int(round(x))] - blue).max() <= 2


def test_cli(tmp_path, capsys):
    out, image = tmp_path / "a.json", tmp_path / "a.png"
    ablate_main(["--small", "--examples", "64", "--batch-size", "32", "--variants", "ttm",
                 "memoryless", "--per-cell", "4", "--device", "cpu", "--ckpt-dir", str(tmp_path),
                 "--out", str(out)])           # the chart goes beside --out unless --png says
    text = capsys.readouterr().out
    assert "small model" in text and "| memoryless |" in text
    record = json.loads(out.read_text())
    assert record["small"] and len(record["results"]) == 2
    assert "cpus" in record["machine"] and record["machine"].endswith("device cpu")
    drawn = read_chart(image)
    again = ablate_main(["--from-json", str(out), "--png", str(tmp_path / "b.png")])
    assert again == record["results"] and "| memoryless |" in capsys.readouterr().out
    np.testing.assert_array_equal(read_chart(tmp_path / "b.png"), drawn)


def _saved(tmp_path, seed: int, exact: dict[str, float], examples: int = 384000) -> str:
    """A saved ablation record with the given overall exact match per variant."""
    results = [{"variant": v, "params": 1, "examples": examples, "wall_s": 1.0, "train_loss": 0.5,
                "eval_loss": 0.5, "cells": {"1x1": e}, "token_accuracy": e, "exact_match": e}
               for v, e in exact.items()]
    record = {"digits": 2, "examples": examples, "batch_size": 64, "per_cell": 500, "small": True,
              "base_config": {"dim": 64, "memory_tokens": 32, "read_tokens": 8, "layers": 2,
                              "heads": 4, "mlp_dim": 256, "summarizer_hidden": 32},
              "seed": seed, "machine": "test", "results": results}
    path = tmp_path / f"seed{seed}-{'-'.join(exact)}-{examples}.json"
    path.write_text(json.dumps(record))
    return str(path)


def test_saved_ablations_line_up_by_seed_with_the_gain_over_the_ttm_seed_by_seed(tmp_path, capsys):
    from ttm.ablate import across_seeds, seeds_table
    paths = [_saved(tmp_path, 0, {"ttm": 0.60, "carry": 0.70}), _saved(tmp_path, 1, {"ttm": 0.80}),
             _saved(tmp_path, 1, {"carry": 0.75, "ttm": 0.99}),     # ttm at seed 1 again: first kept
             _saved(tmp_path, 2, {"pool": 0.50})]
    records = [json.loads(open(p).read()) for p in paths]
    by_variant = across_seeds(records, paths)
    assert by_variant == {"ttm": {0: 0.60, 1: 0.80}, "carry": {0: 0.70, 1: 0.75}, "pool": {2: 0.50}}
    lines = seeds_table(by_variant).splitlines()
    assert lines[0] == "| variant | seed 0 | seed 1 | seed 2 | mean | range | gain over ttm |"
    assert lines[2] == "| ttm | 60.0% | 80.0% | - | 70.0% | 20.0 | - |"
    # +10 at seed 0, -5 at seed 1: a mean gain of 2.5 points, ahead on one seed of two
    assert lines[3] == "| carry | 70.0% | 75.0% | - | 72.5% | 5.0 | +2.5 points, ahead on 1 of 2 seeds |"
    assert lines[4] == "| pool | - | - | 50.0% | 50.0% | - | - |"             # no shared seed
    image = tmp_path / "seeds.png"
    ablate_main(["--from-json", *paths, "--png", str(image)])
    out = capsys.readouterr().out
    assert "seeds 0, 1, 2" in out and lines[3] in out
    assert read_chart(image).shape[0] > 100


def test_saved_ablations_of_another_budget_are_refused_with_one_line(tmp_path, capsys):
    paths = [_saved(tmp_path, 0, {"ttm": 0.6}), _saved(tmp_path, 1, {"ttm": 0.8}, examples=64000)]
    with pytest.raises(SystemExit) as exit_:
        ablate_main(["--from-json", *paths])
    assert str(exit_.value) == (f"error: {paths[1]} was run at another budget than {paths[0]} "
                                "(examples differ): its seeds do not compare")


def test_a_bar_not_measured_is_not_drawn():
    fig = plots.bar_chart("t", ["a", "b"], [("s", [0.5, float("nan")])], "x", "y")
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights[0] == 50 and math.isnan(heights[1])
