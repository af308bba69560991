"""Checkpoints: state dict + config + metrics (+ trainer state), written atomically, with a digest
of the weights that every load checks.

Everything that can be wrong with a file (missing, empty, a directory, not a checkpoint, a config
that makes no model or not this model, corrupted or non-finite weights, a malformed trainer state)
is a FileNotFoundError or CheckpointError whose one-line message names the file. Files written
before the digest existed have none and load unchecked.
"""
from __future__ import annotations

import hashlib
import pickle
import warnings
from pathlib import Path

import torch

from .atomic import replacing
from .model import TTM, TTMConfig

DIGEST = "weights_sha256"
# Entries of a checkpoint's trainer state and their types (ttm.train.Trainer.save writes them).
TRAINER_FIELDS = {"step": int, "examples": int, "skipped_nonfinite": int, "history": list,
                  "optimizer": dict, "curriculum": dict, "rng": dict, "train_config": dict}
KIND_NAMES = {int: "whole number", list: "list", dict: "dict"}


class CheckpointError(ValueError):
    """A checkpoint file exists but cannot be used; the message names the file and says why."""


class NonFiniteWeights(ValueError):
    """Weights with a NaN or an infinity: never written over a checkpoint."""


def reason(err: BaseException, limit: int = 160) -> str:
    """`Type: first line of the message`, at most `limit` characters: torch's unpickling errors
    run to a dozen lines."""
    text = f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def weights_digest(state: dict) -> str:
    """sha256 over every tensor's name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256()
    for name in sorted(state):
        t = state[name].detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy())
    return h.hexdigest()


def nonfinite(state: dict) -> list[str]:
    """Names of the floating-point tensors in `state` holding a NaN or an infinity."""
    return [name for name, t in state.items()
            if t.is_floating_point() and not bool(torch.isfinite(t).all())]


def _write(ckpt: dict, path) -> None:
    """Write a checkpoint dict atomically, with the digest of its weights; refuses non-finite
    weights, so a diverged run never replaces a good file."""
    bad = nonfinite(ckpt["model"])
    if bad:
        raise NonFiniteWeights(f"not saving {path}: the weights are not finite (NaN or infinity "
                               f"in {bad[0]}{f' and {len(bad) - 1} more' if len(bad) > 1 else ''})")
    with replacing(path) as f:
        torch.save({**ckpt, DIGEST: weights_digest(ckpt["model"])}, f)


def save(model: TTM, path, metrics: dict | None = None, **extra) -> None:
    """Write the model (config + weights) and optional metrics / trainer state atomically."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    _write({"config": model.config.to_dict(), "model": state, "metrics": metrics or {}, **extra},
           path)


def _check_file(path: Path) -> None:
    if path.is_dir():
        raise CheckpointError(f"{path} is a directory, not a checkpoint file")
    if not path.exists():
        if path.is_symlink():
            raise FileNotFoundError(f"no checkpoint at {path} (a link to {path.readlink()}, "
                                    "which does not exist)")
        raise FileNotFoundError(f"no checkpoint at {path}")
    if not path.is_file():
        raise CheckpointError(f"{path} is not a regular file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path} is empty, not a checkpoint")


def _check_trainer_state(state: dict, path: Path) -> None:
    for key, kind in TRAINER_FIELDS.items():
        value = state.get(key)
        if value is None:
            continue
        if not isinstance(value, kind) or isinstance(value, bool):
            raise CheckpointError(f"{path}: its trainer state's {key} is a {type(value).__name__}, "
                                  f"not a {KIND_NAMES[kind]}")
        if kind is int and value < 0:
            raise CheckpointError(f"{path}: its trainer state's {key} is negative ({value})")
    digits = (state.get("train_config") or {}).get("digits")
    if digits is not None and (not isinstance(digits, int) or isinstance(digits, bool) or digits < 1):
        raise CheckpointError(f"{path}: its trainer state's train_config.digits is {digits!r}, "
                              "not a positive whole number")


def _check_contents(ckpt, path: Path) -> None:
    if not isinstance(ckpt, dict) or not {"config", "model"} <= set(ckpt):
        raise CheckpointError(f"{path} is not a TTM checkpoint (no config/model entries)")
    config, weights = ckpt["config"], ckpt["model"]
    if not isinstance(config, dict):
        raise CheckpointError(f"{path}: its config is a {type(config).__name__}, not a dict")
    if not (isinstance(weights, dict) and weights and all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in weights.items())):
        raise CheckpointError(f"{path}: its model entry is not a dict of named tensors")
    for key in ("metrics", "trainer"):
        if ckpt.get(key) is not None and not isinstance(ckpt[key], dict):
            raise CheckpointError(f"{path}: its {key} entry is a {type(ckpt[key]).__name__}, "
                                  "not a dict")
    _check_trainer_state(ckpt.get("trainer") or {}, path)
    stored = ckpt.get(DIGEST)
    if stored is not None and stored != weights_digest(weights):
        raise CheckpointError(f"{path} is corrupt: its weights do not match the digest saved "
                              "with them")
    bad = nonfinite(weights)
    if bad:
        raise CheckpointError(f"{path}: its weights are not finite (NaN or infinity in {bad[0]})")


def read(path, map_location="cpu") -> dict:
    """The raw checkpoint dictionary, checked (see the module's docstring)."""
    path = Path(path)
    _check_file(path)
    try:
        with warnings.catch_warnings():  # a pickle of another protocol is refused just below
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:  # weights_only refuses anything but tensors and data
        raise CheckpointError(f"{path} is not a checkpoint: not a torch file of tensors and plain "
                              "data (objects that would run code are never loaded)") from err
    except Exception as err:
        raise CheckpointError(f"{path} is not a readable checkpoint, e.g. a truncated one "
                              f"({reason(err)})") from err
    _check_contents(ckpt, path)
    return ckpt


def model_config(ckpt: dict, path) -> TTMConfig:
    """The TTMConfig of a `read` checkpoint, checked against its weights: same tensor names,
    shapes and dtypes. The model is first built on the meta device, so a config that asks for
    an absurd size costs nothing before it is refused."""
    try:
        config = TTMConfig(**ckpt["config"])
        with torch.device("meta"):
            expected = TTM(config).state_dict()
    except Exception as err:
        raise CheckpointError(f"{path}: its config does not make a model ({reason(err)})") from err
    weights = ckpt["model"]
    problems = [f"no {name}" for name in sorted(set(expected) - set(weights))]
    problems += [f"an unexpected {name}" for name in sorted(set(weights) - set(expected))]
    problems += [f"{name} is {tuple(weights[name].shape)} {weights[name].dtype}, the config makes "
                 f"{tuple(want.shape)} {want.dtype}" for name, want in expected.items()
                 if name in weights and (weights[name].shape, weights[name].dtype)
                 != (want.shape, want.dtype)]
    if problems:
        more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
        raise CheckpointError(f"{path}: its weights do not match its config ({problems[0]}{more})")
    return config


def load(path, device: str | torch.device = "cpu") -> TTM:
    """The model stored at `path`, in eval mode, on `device` (CPU unless told otherwise)."""
    ckpt = read(path)
    model = TTM(model_config(ckpt, path))
    model.load_state_dict(ckpt["model"])
    model.metrics = ckpt.get("metrics") or {}
    return model.to(device).eval()


def store_metrics(path, **metrics) -> None:
    """Add (or replace) entries of a checkpoint's metrics in place, atomically; the weights and
    everything else stay as they are (e.g. `ttm.evaluate --store` keeps its table there, where
    the demo and the app read how often the model gets a cell right)."""
    ckpt = read(path)
    model_config(ckpt, path)
    _write({**ckpt, "metrics": {**(ckpt.get("metrics") or {}), **metrics}}, path)


def export(src, dst) -> None:
    """Copy a training checkpoint without its optimizer state (a third of the size) for shipping.

    The copy still resumes: weights, curriculum, step count and data stream come along; AdamW starts
    with fresh moments. The copy carries the weights' digest (added if the source had none).
    """
    ckpt = read(src)
    model_config(ckpt, src)
    trainer = {k: v for k, v in (ckpt.get("trainer") or {}).items() if k != "optimizer"}
    _write({**ckpt, "trainer": trainer}, dst)
