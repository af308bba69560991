"""Nothing lost, nothing silent (issue 14): bad arguments are refused at the parser in one line,
non-finite steps are skipped and never saved, a failed save is reported, an unwritable --out is
refused at start-up, leftovers of killed writes are cleaned up, and SIGTERM saves the app."""
import fcntl
import importlib.util
import io
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import app
import demo
import ttm
from ttm import checkpoint
from ttm.atomic import OutputError, prepare_output
from ttm.checkpoint import NonFiniteWeights
from ttm.train import Diverged, TrainConfig, Trainer
from ttm.train import main as train_main
from ttm_fixtures import tiny_config, tiny_model

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_core_split(monkeypatch):
    """app.main shares the cores out (torch threads) first: not in the test process."""
    monkeypatch.setattr("studio.cores.share_cores", lambda *a, **k: None)


def _trainer(tmp_path, **overrides) -> Trainer:
    cfg = TrainConfig(**{"batch_size": 8, "seed": 0, "device": "cpu", "digits": 2,
                         "out": str(tmp_path / "t.pt"), "eval_every": 10**9,
                         "snapshot_every_s": math.inf, **overrides})
    return Trainer(cfg, tiny_config(dropout=0.0))


def _refused(call, capsys) -> str:
    """The one error line of a parser refusal (exit status 2)."""
    with pytest.raises(SystemExit) as exit_:
        call()
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


# -- arguments ---------------------------------------------------------------------------------
NO_CUDA = not torch.cuda.is_available()
APP_AND_DEMO_BAD = [(["--size", "0x0"], "--size"), (["--size", "abc"], "--size"),
                    (["--size", "20000x20000"], "--size"), (["--frames", "0"], "--frames"),
                    (["--screenshot", "{dir}"], "is a directory")]


@pytest.mark.parametrize("argv, says", APP_AND_DEMO_BAD + [
    (["--history", "0"], "--history"), (["--history", "-1"], "--history"),
    (["--device", "bogus"], "not a device"), (["--snapshot-every", "0"], "--snapshot-every"),
    (["--wait-snapshots", "-2"], "--wait-snapshots"), (["--seed", "-1"], "--seed"),
    pytest.param(["--device", "cuda"], "CUDA is not available",
                 marks=pytest.mark.skipif(not NO_CUDA, reason="this machine has CUDA")),
])
def test_app_refuses_bad_arguments_at_the_parser(argv, says, tmp_path, capsys):
    argv = [a.format(dir=tmp_path) for a in argv]
    line = _refused(lambda: app.parse_args(argv), capsys)
    assert line.startswith("python app.py: error: argument") and says in line, line


@pytest.mark.parametrize("argv, says", APP_AND_DEMO_BAD + [
    (["--top", "-1"], "--top"), (["--top", "0"], "--top"), (["--step", "-1"], "--step")])
def test_demo_refuses_bad_arguments_at_the_parser(argv, says, tmp_path, capsys):
    argv = ["37x42", *[a.format(dir=tmp_path) for a in argv]]
    line = _refused(lambda: demo.parse_args(argv), capsys)
    assert line.startswith("python demo.py: error: argument") and says in line, line


def test_a_problem_with_a_minus_sign_reaches_the_problem_check_not_the_flag_parser(tmp_path, capsys):
    """argparse alone answers `demo.py -3x4` with "unrecognized arguments" and `app.py --problem
    -3x4` with "expected one argument"; the person should hear that -3 is negative."""
    path = tmp_path / "tiny.pt"
    ttm.save(tiny_model(seed=1), path)
    assert demo.main(["-3x4", "--text", "--checkpoint", str(path)]) == 2
    assert "'-3' is negative" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="--problem: '-3' is negative"):
        app.build_trainer(app.parse_args(["--problem", "-3x4", "--out", str(tmp_path / "a.pt")]))
    assert app.parse_args(["--compare", "-3x4"]).compare.strip() == "-3x4"   # to compare_with's check
    line = _refused(lambda: app.parse_args(["--size", "-3x4"]), capsys)
    assert line.endswith("argument --size: -3x4: width and height must be 1 to 8192 pixels"), line


def test_window_sizes_up_to_the_cap_and_screen_are_accepted():
    assert app.parse_args(["--size", "8192x1"]).size == "8192x1"
    assert demo.parse_args(["--size", "Screen"]).size == "Screen"


@pytest.mark.parametrize("argv, says", [
    (["--lr", "inf"], "--lr inf: must be a finite number > 0"), (["--lr", "nan"], "--lr nan"),
    (["--lr", "-1"], "--lr -1.0"), (["--device", "bogus"], "--device bogus: not a device"),
    (["--warmup-steps", "0"], "--warmup-steps 0"), (["--eval-every", "0"], "--eval-every 0"),
    (["--batch-size", "0"], "--batch-size 0"), (["--betas", "1", "0.5"], "--betas 1.0 0.5"),
    (["--snapshot-queue", "0"], "--snapshot-queue 0"), (["--digits", "0"], "--digits 0"),
    (["--min-lr-ratio", "2"], "--min-lr-ratio 2.0"), (["--stage-threshold", "nan"], "nan"),
    (["--steps", "-1"], "--steps -1"),
    pytest.param(["--device", "cuda"], "CUDA is not available",
                 marks=pytest.mark.skipif(not NO_CUDA, reason="this machine has CUDA")),
])
def test_train_refuses_bad_settings_before_anything_runs(argv, says, tmp_path, capsys):
    out = tmp_path / "never.pt"
    line = _refused(lambda: train_main([*argv, "--out", str(out)]), capsys)
    assert line.startswith("python -m ttm.train: error: ") and says in line, line
    assert not out.exists()


# -- operands and the demo prompt --------------------------------------------------------------
def test_any_integer_type_is_an_operand_and_no_pairs_is_no_answers():
    model = tiny_model(seed=2)
    assert model.multiply(np.int64(37), np.int32(42)) == model.multiply(37, 42)
    assert model.multiply_many([]) == []
    for bad in (True, 3.0, "3", None):
        with pytest.raises(ValueError, match="must be an integer"):
            model.multiply(bad, 2)
    with pytest.raises(ValueError, match="over 100 digits"):  # str() of it would fail
        model.multiply(10**5000, 2)


def test_the_fuzzed_prompt_answers_the_next_problem_after_a_huge_number(tmp_path, monkeypatch,
                                                                         capsys):
    """`printf '%05000d7x3\\n99..99x3\\n37x42\\n' 0 | demo.py --text`: 5,000 leading zeros are
    fine (7 × 3), 5,000 digits are refused in one short line, and 37 × 42 is still answered."""
    path = tmp_path / "tiny.pt"
    ttm.save(tiny_model(seed=1), path)
    lines = ["0" * 5000 + "7x3", "9" * 5000 + "x3", "37x42"]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert demo.main(["--text", "--checkpoint", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.index("7 × 3: ") < out.index("5,000 digits") < out.index("37 × 42: ")
    refusal = next(line for line in out.splitlines() if "5,000 digits" in line)
    assert len(refusal) < 200 and "Traceback" not in out


# -- non-finite steps, non-finite weights, failed saves ----------------------------------------
def test_a_step_whose_gradient_is_not_finite_is_skipped_and_counted(tmp_path):
    trainer = _trainer(tmp_path)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    weight = next(trainer.model.parameters())
    hook = weight.register_hook(lambda grad: grad * math.nan)  # a finite loss, a NaN gradient
    assert trainer.train_step() is None
    assert trainer.skipped_nonfinite == 1 and not trainer.optimizer.state
    assert all(torch.equal(v, before[k]) for k, v in trainer.model.state_dict().items())
    hook.remove()
    assert trainer.train_step() is not None and trainer.nonfinite_run == 0


def test_no_save_right_after_a_skipped_step_while_the_loss_is_still_not_finite(tmp_path,
                                                                          monkeypatch):
    trainer = _trainer(tmp_path)
    forward = trainer.model.forward
    monkeypatch.setattr(trainer.model, "forward", lambda *a: (forward(*a)[0], torch.tensor(math.nan)))
    assert trainer.train_step() is None and trainer.nonfinite_run == 1
    with pytest.raises(NonFiniteWeights, match="loss is not finite"):
        trainer.save()
    monkeypatch.setattr(trainer.model, "forward", forward)   # a bad batch, not a broken model
    assert trainer.save() == tmp_path / "t.pt"


def test_steps_that_keep_failing_stop_training_and_keep_the_good_checkpoint(tmp_path):
    trainer = _trainer(tmp_path, steps=50)
    trainer.save()
    good = (tmp_path / "t.pt").read_bytes()
    next(trainer.model.parameters()).register_hook(lambda grad: grad * math.nan)
    with pytest.raises(Diverged, match="3 steps in a row"):
        trainer.run()
    assert trainer.save_error is None and (tmp_path / "t.pt").read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["t.pt"]


def test_an_update_that_makes_the_weights_non_finite_is_never_saved(tmp_path, monkeypatch):
    trainer = _trainer(tmp_path, steps=5)
    trainer.save()
    good = (tmp_path / "t.pt").read_bytes()
    step = trainer.optimizer.step

    def overflowing_step(*args, **kwargs):
        step(*args, **kwargs)
        with torch.no_grad():
            next(trainer.model.parameters()).fill_(math.inf)
    monkeypatch.setattr(trainer.optimizer, "step", overflowing_step)
    with pytest.raises(NonFiniteWeights, match="became non-finite at step 1"):
        trainer.run()
    assert (tmp_path / "t.pt").read_bytes() == good
    with pytest.raises(NonFiniteWeights, match="not saving"):   # nor by hand
        trainer.save()


def test_a_huge_learning_rate_from_the_cli_ends_in_one_line_with_the_checkpoint_intact(
        tmp_path, capsys):
    """The issue's `--lr inf` run, with a rate that passes the parser: the first update leaves
    finite but huge weights whose losses overflow from then on."""
    trainer = _trainer(tmp_path, steps=2)
    trainer.run()
    good = (tmp_path / "t.pt").read_bytes()
    argv = ["--resume", str(tmp_path / "t.pt"), "--out", str(tmp_path / "t.pt"), "--steps", "40",
            "--device", "cpu", "--eval-every", "1000", "--batch-size", "8"]
    with pytest.raises(SystemExit) as exit_:
        train_main([*argv, "--lr", "1e30", "--warmup-steps", "1"])
    assert str(exit_.value.code).startswith("error: ") and "nothing is saved" in str(exit_.value.code)
    assert (tmp_path / "t.pt").read_bytes() == good
    capsys.readouterr()
    line = _refused(lambda: train_main([*argv, "--lr", "inf"]), capsys)
    assert "--lr inf" in line and (tmp_path / "t.pt").read_bytes() == good


def test_the_app_never_claims_a_save_that_failed(tmp_path, monkeypatch):
    """The trainer thread's save on the way out fails (a full disk): the controller's shutdown,
    which the window reports as "saved ...", says nothing was written."""
    from studio.controller import Controller

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")
    trainer = _trainer(tmp_path)
    controller = Controller(trainer=trainer)
    trainer.start()
    while trainer.step < 2:
        assert trainer.alive, trainer.error
        time.sleep(0.01)
    monkeypatch.setattr(checkpoint, "save", full_disk)
    assert controller.shutdown() is None
    assert isinstance(trainer.save_error, OutputError) and not (tmp_path / "t.pt").exists()


def test_save_refuses_non_finite_weights_and_keeps_the_file(tmp_path):
    model = tiny_model()
    ttm.save(model, tmp_path / "m.pt")
    good = (tmp_path / "m.pt").read_bytes()
    with torch.no_grad():
        next(model.parameters())[0] = math.nan
    with pytest.raises(NonFiniteWeights, match="m.pt"):
        ttm.save(model, tmp_path / "m.pt")
    assert (tmp_path / "m.pt").read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


def test_a_failed_save_at_the_end_is_raised_and_reported(tmp_path, monkeypatch, capsys):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(checkpoint, "save", full_disk)
    trainer = _trainer(tmp_path, steps=1)
    with pytest.raises(OutputError, match="could not save .*t.pt .No space left on device"):
        trainer.run()
    assert trainer.save_error is trainer.error and trainer.saved is None
    with pytest.raises(SystemExit) as exit_:
        train_main(["--steps", "1", "--batch-size", "2", "--device", "cpu",
                    "--out", str(tmp_path / "cli.pt")])
    assert str(exit_.value.code).startswith("error: could not save")
    assert "saved" not in capsys.readouterr().err


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc (Linux)")
def test_an_unwritable_out_is_refused_at_start_up(tmp_path):
    for out, says in (("/proc/x.pt", "cannot write /proc/x.pt"), (str(tmp_path), "is a directory")):
        with pytest.raises(OutputError, match=says):
            _trainer(tmp_path, out=out)
        with pytest.raises(SystemExit, match=f"^error: .*{says}"):
            app.main(["--from-scratch", "--tiny", "--out", out])


# -- leftovers of killed writes ----------------------------------------------------------------
def test_leftover_temp_files_are_removed_at_start_up_but_not_live_ones(tmp_path):
    names = {"stale": ".t.pt.abcd1234.tmp", "stale2": ".t.pt.z_9z_9z_.tmp",
             "live": ".t.pt.live0000.tmp", "other target": ".u.pt.abcd1234.tmp",
             "other pattern": ".t.pt.abc.tmp", "no dot": "t.pt.abcd1234.tmp"}
    for name in names.values():
        (tmp_path / name).write_bytes(b"partial checkpoint")
    with open(tmp_path / names["live"], "rb") as live:
        fcntl.flock(live, fcntl.LOCK_EX)          # what a write in progress holds
        _trainer(tmp_path)
    left = {p.name for p in tmp_path.iterdir()}
    assert left == set(names.values()) - {names["stale"], names["stale2"]}


def test_a_write_killed_midway_leaves_a_temp_file_that_the_next_start_removes(tmp_path):
    target = tmp_path / "k.pt"
    writer = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom ttm.atomic import replacing\n"
         f"with replacing({str(target)!r}) as f:\n    f.write(b'x' * 1000); f.flush()\n"
         "    print('writing', flush=True); time.sleep(120)"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "writing"
        temps = list(tmp_path.glob(".k.pt.*.tmp"))
        assert len(temps) == 1
        prepare_output(target)                    # a live write's file stays
        assert temps[0].exists()
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    assert temps[0].exists() and not target.exists()   # what a killed write leaves
    prepare_output(target)
    assert list(tmp_path.iterdir()) == []


# -- SIGTERM -----------------------------------------------------------------------------------
def test_sigterm_stops_a_headless_app_which_saves_and_exits_cleanly(tmp_path):
    from test_app_headless import _egl_available
    if not _egl_available():
        pytest.skip("no EGL: install libegl1 libgl1-mesa-dri")
    out = tmp_path / "app.pt"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(ROOT),
           "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "app.py", "--headless", "--from-scratch", "--tiny",
                             "--history", "3", "--frames", "10000000", "--size", "320x200",
                             "--snapshot-every", "0.5", "--out", str(out)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        said = []
        for line in proc.stderr:                  # the handler is in place once this is said
            said.append(line)
            if "saves to" in line:
                break
        assert said and "saves to" in said[-1], said
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=90)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr[-2000:]
    m = re.search(r"training step (\d+), saved (\S+)", stdout)
    assert m and Path(m.group(2)) == out, stdout
    assert checkpoint.read(out)["trainer"]["step"] == int(m.group(1))
    assert "Traceback" not in stderr



def test_the_soak_counts_growth_from_the_first_sample_after_the_history_filled():
    spec = importlib.util.spec_from_file_location("soak", ROOT / "bench" / "soak.py")
    soak = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(soak)
    samples = [{"t_s": t, "rss_mb": rss} for t, rss in ((0, 400.0), (60, 1000.0), (120, 1100.0),
                                                         (180, 1111.0))]
    summary = soak.summarize(samples, full_at_s=100)
    assert summary["rss_after_full_first_mb"] == 1100.0 and summary["growth_after_full_pct"] == 1.0
    assert summary["rss_max_mb"] == 1111.0 and summary["samples_after_full"] == 2
    assert soak.summarize(samples, full_at_s=None)["growth_after_full_pct"] is None
    assert soak.memory(os.getpid())["rss_mb"] > 0
