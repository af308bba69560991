"""Checkpoints: state dict + config + metrics (+ trainer state), written atomically."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

from .model import TTM, TTMConfig


class CheckpointError(ValueError):
    """A checkpoint file exists but cannot be read as one of ours."""


def atomic_save(obj, path) -> None:
    """torch.save to a temp file in the same folder, fsync, then rename over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a checkpoint is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(model: TTM, path, metrics: dict | None = None, **extra) -> None:
    """Write the model (config + weights) and optional metrics / trainer state atomically."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    atomic_save({"config": model.config.to_dict(), "model": state,
                 "metrics": metrics or {}, **extra}, path)


def read(path, map_location="cpu") -> dict:
    """The raw checkpoint dictionary, with clear errors for a missing or corrupt file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:
        raise CheckpointError(f"{path} is not a readable checkpoint ({type(err).__name__}: {err})") from err
    if not isinstance(ckpt, dict) or not {"config", "model"} <= set(ckpt):
        raise CheckpointError(f"{path} is not a TTM checkpoint (no config/model entries)")
    return ckpt


def load(path, device: str | torch.device = "cpu") -> TTM:
    """The model stored at `path`, in eval mode, on `device` (CPU unless told otherwise)."""
    ckpt = read(path)
    try:
        model = TTM(TTMConfig(**ckpt["config"]))
        model.load_state_dict(ckpt["model"])
    except (TypeError, RuntimeError) as err:
        raise CheckpointError(f"{path} does not match the model ({err})") from err
    model.metrics = ckpt.get("metrics", {})
    return model.to(device).eval()


def export(src, dst) -> None:
    """Copy a training checkpoint without its optimizer state (a third of the size) for shipping.

    The copy still resumes: weights, curriculum, step count and data stream come along; AdamW starts
    with fresh moments.
    """
    ckpt = read(src)
    trainer = {k: v for k, v in (ckpt.get("trainer") or {}).items() if k != "optimizer"}
    atomic_save({**ckpt, "trainer": trainer}, dst)
