import argparse
import math
from dataclasses import fields, replace

import numpy as np
import pytest
import torch

import ttm
from ttm.data import Curriculum, make_batch, random_pairs
from ttm.model import TTMConfig
from ttm.train import (Trainer, TrainConfig, TrainingProgress, argument_parser, main as train_main,
                       parse_args)
from ttm_fixtures import tiny_config


def _trainer(tmp_path, **overrides):
    cfg = TrainConfig(**{"batch_size": 32, "seed": 0, "device": "cpu", "out": str(tmp_path / "t.pt"),
                         "eval_every": 10**9, "snapshot_every_s": float("inf"), "lr": 3e-3,
                         "warmup_steps": 5, **overrides})
    return Trainer(cfg, tiny_config(dropout=0.0))


def test_data_is_seeded_and_respects_digit_counts():
    a = random_pairs(np.random.default_rng(1), [(2, 3)], 50, swap=False)
    b = random_pairs(np.random.default_rng(1), [(2, 3)], 50, swap=False)
    assert a == b
    assert all(10 <= x <= 99 and 100 <= y <= 999 for x, y in a)
    swapped = random_pairs(np.random.default_rng(1), [(2, 3)], 200)
    assert any(x >= 100 for x, _ in swapped) and any(y >= 100 for _, y in swapped)


def test_batches_pad_with_pad_tokens():
    problem, target = make_batch([(99, 99), (2, 3)], TTMConfig(max_digits=3))
    assert problem.tolist()[1] == [2, 10, 3, 11, 12, 12, 12, 12]
    assert target.tolist() == [[1, 0, 8, 9, 11], [6, 11, 12, 12, 12]]


def test_padded_operands_put_each_digit_in_its_place():
    """TTMConfig.pad_operands: both operands zero-padded to max_digits, in training batches and in
    the model's own input alike; answers and the operands read back are unchanged."""
    from ttm import tokens as tok
    from ttm.model import TTM
    cfg = TTMConfig.tiny(max_digits=3, pad_operands=True)
    problem, target = make_batch([(37, 4), (999, 99)], cfg)
    assert problem.tolist() == [[0, 3, 7, 10, 0, 0, 4, 11], [9, 9, 9, 10, 0, 9, 9, 11]]
    assert target.tolist()[0] == [8, 4, 1, 11, 12, 12]
    assert tok.problem_operands(problem.tolist()[0]) == (37, 4)
    model = TTM(cfg)
    assert model.problem_batch([(37, 4)]).tolist() == problem.tolist()[:1]
    assert model.trace(37, 4).steps >= 1
    assert make_batch([(37, 4)], TTMConfig.tiny(max_digits=3))[0].tolist() == [[3, 7, 10, 4, 11, 12, 12, 12]]


def _all(curriculum, exact):
    return {c: exact for c in curriculum.cells()}


def test_curriculum_advances_on_threshold_or_cap():
    c = Curriculum(final_stage=3, threshold=0.9, window=2, max_stage_steps=100)
    assert not c.observe(10, _all(c, 0.95))
    assert c.observe(20, _all(c, 0.95)) and c.stage == 2
    assert c.new_cells() == [(1, 2), (2, 1), (2, 2)]
    # The old cell (1, 1) being perfect does not count: only the new cells advance a stage.
    assert not c.observe(50, {(1, 1): 1.0, (1, 2): 0.1, (2, 1): 0.1, (2, 2): 0.1})
    assert c.observe(120, _all(c, 0.1)) and c.stage == 3  # forced after the cap
    assert not c.observe(10**6, _all(c, 1.0)) and c.stage == 3  # never beyond the final stage


def test_curriculum_draws_cells_by_their_error_rate():
    c = Curriculum(final_stage=2, stage=2, floor=0.05, smoothing=0.5)
    c.observe(0, {(1, 1): 1.0, (1, 2): 0.9, (2, 1): 0.9, (2, 2): 0.2})
    c.observe(1, {(1, 1): 1.0, (1, 2): 0.9, (2, 1): 0.9, (2, 2): 0.4})
    assert c.cell_exact["2x2"] == pytest.approx(0.3)                   # smoothed: 0.5 * 0.2 + 0.5 * 0.4
    weights = {cell: c.cell_weight(cell) for cell in c.cells()}
    assert weights == pytest.approx({(1, 1): 0.05, (1, 2): 0.1, (2, 1): 0.1, (2, 2): 0.7})
    pairs = c.sample(np.random.default_rng(0), 20000)
    share = np.mean([a >= 10 and b >= 10 for a, b in pairs])
    expected = 0.7 / sum(weights.values())
    assert abs(share - expected) < 0.015
    assert any(a < 10 and b < 10 for a, b in pairs)      # a mastered cell is still rehearsed
    fresh = Curriculum(final_stage=2, stage=2)
    assert all(fresh.cell_weight(cell) == 1.0 for cell in fresh.cells())  # unmeasured: all wrong


def test_evaluation_scores_every_cell_of_the_stage(tmp_path):
    trainer = _trainer(tmp_path, eval_problems=40)
    trainer.curriculum.stage = 2
    exact = trainer.evaluate_stage()
    cells = trainer.metrics["cell_exact"]
    assert list(cells) == ["1x1", "1x2", "2x1", "2x2"]
    assert all(0.0 <= v <= 1.0 for v in cells.values())
    assert exact == np.mean([cells[k] for k in ("1x2", "2x1", "2x2")])
    assert trainer.curriculum.cell_exact == cells          # the first estimate is the measurement
    assert trainer.metrics["cell_problems"] == 10
    digits = trainer.metrics["cell_digits"]                 # which digits the live view can trust
    assert list(digits) == list(cells) and [len(digits[k]) for k in cells] == [2, 3, 3, 4]
    assert all(0.0 <= v <= 1.0 for d in digits.values() for v in d)


def test_bf16_autocast_on_cpu_trains_fp32_weights(tmp_path):
    trainer = _trainer(tmp_path, bf16="on")
    assert trainer.autocast
    losses = [trainer.train_step() for _ in range(3)]
    assert all(loss is not None and np.isfinite(loss) for loss in losses)
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())
    assert not _trainer(tmp_path).autocast                 # auto: CUDA only
    with pytest.raises(ValueError, match="bf16"):
        _trainer(tmp_path, bf16="yes")


def test_short_training_run_lowers_the_loss(tmp_path):
    torch.manual_seed(0)
    trainer = _trainer(tmp_path)
    first = np.mean([trainer.train_step() for _ in range(5)])
    for _ in range(60):
        trainer.train_step()
    last = np.mean([trainer.train_step() for _ in range(5)])
    assert last < 0.8 * first


def test_nonfinite_loss_is_skipped_and_counted(tmp_path, monkeypatch):
    trainer = _trainer(tmp_path)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    original = trainer.model.forward
    monkeypatch.setattr(trainer.model, "forward",
                        lambda *a: (original(*a)[0], torch.tensor(float("nan"))))
    assert trainer.train_step() is None
    assert trainer.skipped_nonfinite == 1
    for k, v in trainer.model.state_dict().items():
        assert torch.equal(v, before[k])


def test_resume_restores_model_optimizer_and_curriculum(tmp_path):
    trainer = _trainer(tmp_path, steps=8)
    trainer.curriculum.stage = 2
    trainer.run()
    assert (tmp_path / "t.pt").exists() and trainer.step == 8
    resumed = Trainer(TrainConfig(resume=str(tmp_path / "t.pt"), device="cpu", steps=8,
                                  out=str(tmp_path / "t2.pt")))
    assert resumed.step == 8 and resumed.curriculum.stage == 2
    assert resumed.model.config == trainer.model.config
    assert resumed.optimizer.state_dict()["state"].keys() == trainer.optimizer.state_dict()["state"].keys()
    for (k, a), b in zip(trainer.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), k
    assert ttm.load(tmp_path / "t.pt").config == trainer.model.config


def test_a_resume_without_optimizer_moments_warms_the_learning_rate_up_again(tmp_path):
    trainer = _trainer(tmp_path, steps=8, warmup_steps=4, decay_steps=10**6)
    trainer.run()
    ttm.checkpoint.export(tmp_path / "t.pt", tmp_path / "shipped.pt")

    def first_lrs(path):
        resumed = Trainer(replace(trainer.cfg, resume=str(path), steps=12, out=str(tmp_path / "r.pt")))
        lrs = []
        for _ in range(4):
            resumed.train_step()
            lrs.append(resumed.optimizer.param_groups[0]["lr"])
        return lrs

    full = trainer.cfg.lr
    assert first_lrs(tmp_path / "t.pt") == pytest.approx([full] * 4, rel=1e-4)       # moments kept
    assert first_lrs(tmp_path / "shipped.pt") == pytest.approx(                        # moments fresh
        [full / 4, full / 2, 3 * full / 4, full], rel=1e-4)


def test_carry_loss_on_resume_adds_an_untrained_probe_and_restarts_the_moments(tmp_path):
    trainer = _trainer(tmp_path, steps=6, warmup_steps=4, decay_steps=10**6)
    trainer.run()
    with_probe = Trainer(replace(trainer.cfg, resume=str(tmp_path / "t.pt"), steps=8,
                                 out=str(tmp_path / "carry.pt"), carry_loss=0.5))
    assert with_probe.model.config == replace(trainer.model.config, carry_loss=0.5)
    assert with_probe.model.carry_head is not None and with_probe.warm_from == 6
    assert not with_probe.optimizer.state            # the old groups do not fit the new weights
    for name, weight in trainer.model.state_dict().items():
        assert torch.equal(weight, with_probe.model.state_dict()[name]), name
    with_probe.run()
    assert ttm.load(tmp_path / "carry.pt").config.carry_loss == 0.5
    kept = Trainer(replace(trainer.cfg, resume=str(tmp_path / "carry.pt"), steps=9,
                           out=str(tmp_path / "again.pt")))                   # no flag: kept
    assert kept.model.config.carry_loss == 0.5 and kept.optimizer.state and kept.warm_from == 0
    dropped = Trainer(replace(kept.cfg, carry_loss=0.0))
    assert dropped.model.carry_head is None and dropped.warm_from == 8
    with pytest.raises(ValueError, match="--carry-loss"):
        Trainer(replace(trainer.cfg, carry_loss=-1.0))


def test_a_stored_evaluation_is_kept_until_the_weights_change(tmp_path):
    """ttm.evaluate --store's table describes the weights it measured: a resumed run keeps it
    while the weights are those, and at its first update moves it to start_evaluation (the demo
    and the app would otherwise quote it as the figure of another model)."""
    trainer = _trainer(tmp_path, steps=3)
    trainer.run()
    ttm.checkpoint.store_metrics(tmp_path / "t.pt", evaluation={"step": 3, "cells": []})
    resumed = Trainer(replace(trainer.cfg, resume=str(tmp_path / "t.pt"), steps=5,
                              out=str(tmp_path / "r.pt")))
    assert resumed.metrics["evaluation"]["step"] == 3
    resumed.save()
    assert ttm.load(tmp_path / "r.pt").metrics["evaluation"]["step"] == 3    # same weights
    resumed.train_step()
    assert "evaluation" not in resumed.metrics
    assert resumed.metrics["start_evaluation"]["step"] == 3   # kept as the starting step's figure
    resumed.save()
    saved = ttm.load(tmp_path / "r.pt").metrics
    assert "evaluation" not in saved and saved["start_evaluation"]["step"] == 3


def test_background_thread_publishes_snapshots_and_stops_cleanly(tmp_path):
    trainer = _trainer(tmp_path, snapshot_every_s=0.0, snapshot_queue=2)
    trainer.start()
    snap = trainer.snapshots.get(timeout=30)
    trainer.pause()
    assert trainer.paused
    trainer.resume()
    trainer.stop()
    assert not trainer.alive and trainer.error is None
    assert snap.trace is not None and snap.trace["memory"].shape[1:] == (8, 32)
    assert snap.trace.model is not trainer.model   # a frozen copy: replay never races training
    assert trainer.snapshots.qsize() <= 2
    assert ttm.load(tmp_path / "t.pt")  # saved on stop


def _other_value(action: argparse.Action, default):
    """A value for this option that differs from `default`, as the parser would produce it."""
    if action.choices:
        return next(c for c in action.choices if c != default)
    if action.nargs == 2:
        return tuple(action.type(7 + i) for i in range(2))
    if isinstance(action, argparse.BooleanOptionalAction):
        return not default
    return action.type(7 if default is None else default + 7) if action.type in (int, float) \
        else f"other-{default}"


def test_every_train_config_field_is_an_option_with_help_that_round_trips(capsys):
    with pytest.raises(SystemExit):
        train_main(["--help"])
    help_text = capsys.readouterr().out
    actions = {a.dest: a for a in argument_parser()._actions}
    for f in fields(TrainConfig):
        action = actions[f.name]
        assert action.help and action.option_strings[0] in help_text, f.name
        value = _other_value(action, getattr(TrainConfig(), f.name))
        if isinstance(action, argparse.BooleanOptionalAction):
            argv = [action.option_strings[0 if value else 1]]
        else:
            argv = [action.option_strings[0], *map(str, value if isinstance(value, tuple) else [value])]
        parsed = parse_args(argv)
        assert getattr(parsed, f.name) == value, (f.name, argv)
        assert parsed == replace(parse_args([]), **{f.name: value})  # that field alone


def test_todays_flag_names_still_work_and_the_cli_makes_no_snapshots():
    assert parse_args([]) == replace(TrainConfig(), snapshot_every_s=math.inf)
    cfg = parse_args("--stage-threshold 0.5 --checkpoint-every 60 --max-stage-steps 9 "
                     "--batch-size 8 --decay-steps 99 --eval-every 7 --resume r.pt --out o.pt "
                     "--bf16 on --device cpu --minutes 1.5 --steps 12 --digits 2 --lr 0.01 "
                     "--seed 3 --betas 0.8 0.95".split())
    assert cfg == TrainConfig(curriculum_threshold=0.5, checkpoint_every_s=60.0, max_stage_steps=9,
                              batch_size=8, decay_steps=99, eval_every=7, resume="r.pt",
                              out="o.pt", bf16="on", device="cpu", minutes=1.5, steps=12,
                              digits=2, lr=0.01, seed=3, betas=(0.8, 0.95),
                              snapshot_every_s=math.inf)
    with pytest.raises(SystemExit):
        parse_args(["--bf16", "yes"])


def test_trainer_uses_the_models_optimizer_split(tmp_path):
    trainer = _trainer(tmp_path, weight_decay=0.25, betas=(0.8, 0.9))
    decay, no_decay = trainer.optimizer.param_groups
    assert (decay["weight_decay"], no_decay["weight_decay"]) == (0.25, 0.0)
    assert decay["betas"] == (0.8, 0.9)
    expected = trainer.model.configure_optimizers(0.25, 1e-3, (0.8, 0.9)).param_groups
    for group, want in zip((decay, no_decay), expected):
        assert [id(p) for p in group["params"]] == [id(p) for p in want["params"]]


def test_open_ended_progress_counts_steps_and_shows_the_metrics(tmp_path, capsys):
    trainer = _trainer(tmp_path, eval_problems=8)
    with TrainingProgress(trainer) as progress:
        for _ in range(3):
            trainer.train_step()
            trainer.metrics.update(loss=1.25, lr=2e-3, examples_per_s=640.0)
            progress(trainer)
        trainer.evaluate_stage()
        progress(trainer)
    line = capsys.readouterr().err.split("\r")[-1]
    assert line.startswith("3step [") and "[]" not in line
    assert "stage 1 loss 1.2500" in line and "640 ex/s lr 2.00e-03" in line
    assert f"cells 1x1 {100 * trainer.metrics['cell_exact']['1x1']:.0f}%" in line


def test_cli_prints_its_first_line_a_bar_over_the_steps_and_the_saved_line(tmp_path, capsys):
    out = tmp_path / "cli.pt"
    train_main(["--steps", "2", "--batch-size", "2", "--device", "cpu", "--out", str(out),
                "--eval-every", "1000"])
    err = capsys.readouterr().err
    assert err.startswith("training on cpu, from step 0, stage 1\n")
    assert "2/2 [" in err and err.endswith(f"saved {out} at step 2\n")
    assert ttm.load(out)
