"""Every kind of bad checkpoint file through every entry point's main: `python -m ttm.train
--resume`, `python -m ttm.evaluate`, `app.py --resume` and `demo.py --checkpoint` each end with
one line that names the file, a non-zero exit status and no traceback (issue 14)."""
import pytest

import app
import demo
from bad_checkpoints import BAD_FILES, PAYLOAD_MARKER
from ttm import checkpoint
from ttm.evaluate import main as evaluate_main
from ttm.train import TrainConfig, Trainer
from ttm.train import main as train_main
from ttm_fixtures import tiny_config


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A tiny training checkpoint (weights, optimizer, curriculum, ...): (its dict, its file)."""
    path = tmp_path_factory.mktemp("good") / "good.pt"
    trainer = Trainer(TrainConfig(device="cpu", steps=2, batch_size=8, out=str(path), digits=2,
                                  eval_every=10**9, snapshot_every_s=float("inf")), tiny_config())
    trainer.run()
    return checkpoint.read(path), path


def _bad_file(name, good, tmp_path):
    path = tmp_path / "bad.pt"
    BAD_FILES[name][0](*good, path)
    return path


def _entry_points(tmp_path):
    """name -> function(checkpoint path) that runs that entry point's main."""
    out = str(tmp_path / "out.pt")
    return {
        "ttm.train": lambda p: train_main(["--resume", str(p), "--out", out, "--steps", "3",
                                           "--device", "cpu", "--eval-every", "1000"]),
        "ttm.evaluate": lambda p: evaluate_main([str(p), "--per-cell", "2"]),
        "app.py": lambda p: app.main(["--resume", str(p), "--out", out]),
        "demo.py": lambda p: demo.main(["3x4", "--text", "--checkpoint", str(p)]),
    }


def _outcome(call, capsys) -> tuple[int, str]:
    """(exit status, what it said on stderr or in its SystemExit message)."""
    try:
        status = call()
    except SystemExit as exit_:
        status = exit_.code
    said = capsys.readouterr().err
    if isinstance(status, str):          # sys.exit("error: ..."): printed by Python, status 1
        return 1, said + status
    return (0 if status is None or isinstance(status, dict | list) else status), said


@pytest.fixture(autouse=True)
def _no_core_split(monkeypatch):
    """app.main shares the cores out (torch threads) before it builds the trainer: not in here,
    where the test run keeps one torch thread."""
    monkeypatch.setattr("studio.cores.share_cores", lambda *a, **k: None)


@pytest.mark.parametrize("entry", ["ttm.train", "ttm.evaluate", "app.py", "demo.py"])
@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_a_bad_checkpoint_ends_with_one_line_naming_the_file(kind, entry, good, tmp_path, capsys):
    path = _bad_file(kind, good, tmp_path)
    status, said = _outcome(lambda: _entry_points(tmp_path)[entry](path), capsys)
    assert not (tmp_path / PAYLOAD_MARKER).exists(), "a pickle ran code"
    only_training_needs_it = BAD_FILES[kind][1]
    if only_training_needs_it and entry in ("ttm.evaluate", "demo.py"):
        assert status == 0, said                 # the model itself is fine: they use it
        return
    lines = [line for line in said.strip().splitlines() if line.strip()]
    assert status != 0, said
    assert len(lines) == 1 and "Traceback" not in said, said
    assert path.name in lines[0], said
    assert not (tmp_path / "out.pt").exists()    # nothing was trained or written


def test_the_good_checkpoint_passes_every_entry_point_but_the_window(good, tmp_path, capsys):
    """The same calls on the good file succeed, so the refusals above are about the files."""
    calls = _entry_points(tmp_path)
    for entry in ("ttm.train", "ttm.evaluate", "demo.py"):
        status, said = _outcome(lambda: calls[entry](good[1]), capsys)
        assert status == 0, (entry, said)
    assert checkpoint.read(tmp_path / "out.pt")["trainer"]["step"] == 3
