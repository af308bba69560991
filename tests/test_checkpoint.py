import shutil
from pathlib import Path

import pytest
import torch

import ttm
from bad_checkpoints import flip_tensor_bytes
from ttm import checkpoint
from ttm.checkpoint import CheckpointError
from ttm_fixtures import tiny_model

SHIPPED = Path(__file__).resolve().parent.parent / "models" / "ttm-multiply.pt"


def test_checkpoint_round_trips(tmp_path):
    model = tiny_model(seed=5)
    path = tmp_path / "m.pt"
    ttm.save(model, path, metrics={"exact": 0.5})
    loaded = ttm.load(path)
    assert not loaded.training and loaded.config == model.config
    assert loaded.metrics == {"exact": 0.5}
    for (k, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), k
    assert loaded.multiply(12, 3) == model.multiply(12, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temp file left behind


def test_missing_checkpoint_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        ttm.load(tmp_path / "nope.pt")


def test_corrupt_checkpoint_fails_clearly(tmp_path):
    path = tmp_path / "bad.pt"
    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="bad.pt"):
        ttm.load(path)
    torch.save({"something": 1}, path)
    with pytest.raises(CheckpointError, match="not a TTM checkpoint"):
        ttm.load(path)


def test_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    model = tiny_model()
    path = tmp_path / "m.pt"
    ttm.save(model, path)
    before = path.read_bytes()

    def exploding_save(obj, f):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", exploding_save)
    with pytest.raises(OSError):
        ttm.save(model, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


def test_export_drops_the_optimizer_and_still_resumes(tmp_path):
    from ttm.checkpoint import export
    from ttm.train import Trainer, TrainConfig
    from ttm_fixtures import tiny_config

    trainer = Trainer(TrainConfig(device="cpu", steps=3, out=str(tmp_path / "full.pt"),
                                  eval_every=10**9, snapshot_every_s=float("inf")), tiny_config())
    trainer.run()
    export(tmp_path / "full.pt", tmp_path / "ship.pt")
    assert (tmp_path / "ship.pt").stat().st_size < (tmp_path / "full.pt").stat().st_size
    assert "optimizer" not in torch.load(tmp_path / "ship.pt", weights_only=True)["trainer"]
    resumed = Trainer(TrainConfig(device="cpu", resume=str(tmp_path / "ship.pt"),
                                  out=str(tmp_path / "again.pt")))
    assert resumed.step == 3
    assert resumed.train_step() is not None


def test_every_checkpoint_carries_a_digest_of_its_weights_that_loading_checks(tmp_path):
    path = tmp_path / "m.pt"
    ttm.save(tiny_model(seed=4), path)
    ckpt = torch.load(path, weights_only=True)
    assert ckpt[checkpoint.DIGEST] == checkpoint.weights_digest(ckpt["model"])
    assert ttm.load(path).multiply(12, 3) == tiny_model(seed=4).multiply(12, 3)
    flip_tensor_bytes(path)                      # the zip stays readable; the weights do not
    with pytest.raises(CheckpointError, match="m.pt is corrupt: its weights do not match"):
        ttm.load(path)


def test_a_checkpoint_from_before_the_digest_loads_and_export_adds_one(tmp_path):
    model = tiny_model(seed=6)
    ttm.save(model, tmp_path / "m.pt")
    legacy = {k: v for k, v in torch.load(tmp_path / "m.pt", weights_only=True).items()
              if k != checkpoint.DIGEST}
    torch.save(legacy, tmp_path / "legacy.pt")
    loaded = ttm.load(tmp_path / "legacy.pt")
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                 loaded.state_dict().values()))
    checkpoint.export(tmp_path / "legacy.pt", tmp_path / "shipped.pt")
    shipped = torch.load(tmp_path / "shipped.pt", weights_only=True)
    assert shipped[checkpoint.DIGEST] == checkpoint.weights_digest(legacy["model"])


@pytest.mark.skipif(not SHIPPED.is_file(), reason="the shipped model models/ttm-multiply.pt is not there")
def test_the_shipped_model_carries_its_digest_and_flipped_bytes_in_it_fail(tmp_path):
    assert checkpoint.DIGEST in checkpoint.read(SHIPPED)
    copy = tmp_path / "ttm-multiply.pt"
    shutil.copy(SHIPPED, copy)
    flip_tensor_bytes(copy)
    with pytest.raises(CheckpointError, match="ttm-multiply.pt is corrupt"):
        ttm.load(copy)
