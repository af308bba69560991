"""Kinds of bad checkpoint file, each made from a good tiny training checkpoint, for the tests that
run them through every entry point (tests/test_bad_checkpoints.py)."""
import copy
import os
import pickle
import zipfile
from pathlib import Path

import torch

from ttm import checkpoint

PAYLOAD_MARKER = "payload-ran"   # written next to the file if a malicious pickle ever ran


def flip_tensor_bytes(path: Path, count: int = 64) -> None:
    """Invert `count` bytes in the middle of the largest tensor's data, in place (the zip
    structure stays valid: torch's reader checks no CRC, so only a digest can notice)."""
    with zipfile.ZipFile(path) as z:
        info = max((i for i in z.infolist() if "/data/" in i.filename), key=lambda i: i.file_size)
    raw = bytearray(path.read_bytes())
    name_len = int.from_bytes(raw[info.header_offset + 26: info.header_offset + 28], "little")
    extra_len = int.from_bytes(raw[info.header_offset + 28: info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len + info.file_size // 2
    raw[start: start + count] = bytes(b ^ 0xFF for b in raw[start: start + count])
    path.write_bytes(bytes(raw))


class Payload:
    """Unpickling this runs code: weights_only loading must refuse it."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _edited(good: dict, edit) -> dict:
    """A copy of `good` changed by `edit`, with the digest of its new weights where it has any:
    a file written that way, not corrupted later, so the checks behind the digest are tested."""
    ckpt = copy.deepcopy(good)
    edit(ckpt)
    if isinstance(ckpt, dict) and isinstance(ckpt.get("model"), dict):
        ckpt[checkpoint.DIGEST] = checkpoint.weights_digest(ckpt["model"])
    return ckpt


def _set(path_keys, value):
    def edit(ckpt):
        target = ckpt
        for key in path_keys[:-1]:
            target = target[key]
        target[path_keys[-1]] = value
    return edit


def _drop_weight(ckpt):
    del ckpt["model"][sorted(ckpt["model"])[0]]


def _nan_weight(ckpt):
    name = next(k for k, v in ckpt["model"].items() if v.is_floating_point())
    ckpt["model"][name] = ckpt["model"][name].clone().fill_(float("nan"))


def _wrong_optimizer(ckpt):
    state = ckpt["trainer"]["optimizer"]["state"]
    first = next(iter(state))
    state[first]["exp_avg"] = torch.zeros(3, 3)


def _write(make):
    def build(good: dict, good_file: Path, path: Path) -> None:
        torch.save(make(good), path)
    return build


def _raw(make_bytes):
    def build(good: dict, good_file: Path, path: Path) -> None:
        path.write_bytes(make_bytes(good_file.read_bytes()))
    return build


def _missing(good, good_file, path):
    pass


def _directory(good, good_file, path):
    path.mkdir()


def _dangling_link(good, good_file, path):
    path.symlink_to(path.parent / "gone.pt")


def _flipped(good, good_file, path):
    path.write_bytes(good_file.read_bytes())
    flip_tensor_bytes(path)


def _malicious(good, good_file, path):
    path.write_bytes(pickle.dumps(Payload(path.parent / PAYLOAD_MARKER)))


# name -> (how to make it from the good checkpoint dict and its file, whether only resuming
# training needs the broken part: evaluate and demo then use the file as it is).
BAD_FILES = {
    "missing": (_missing, False),
    "empty": (_raw(lambda b: b""), False),
    "truncated": (_raw(lambda b: b[: len(b) // 2]), False),
    "random bytes": (_raw(lambda b: bytes(range(256)) * 40), False),
    "text": (_raw(lambda b: b"this is not a checkpoint\n"), False),
    "directory": (_directory, False),
    "dangling link": (_dangling_link, False),
    "malicious pickle": (_malicious, False),
    "a bare tensor": (_write(lambda g: torch.zeros(3)), False),
    "a list": (_write(lambda g: [g["config"], g["model"]]), False),
    "wrong dict": (_write(lambda g: {"state_dict": g["model"]}), False),
    "config not a dict": (_write(lambda g: _edited(g, _set(["config"], "dim=32"))), False),
    "config unknown field": (_write(lambda g: _edited(g, _set(["config", "colour"], "red"))), False),
    "config heads=3": (_write(lambda g: _edited(g, _set(["config", "heads"], 3))), False),
    "config heads=0": (_write(lambda g: _edited(g, _set(["config", "heads"], 0))), False),
    "config dim=-1": (_write(lambda g: _edited(g, _set(["config", "dim"], -1))), False),
    "config dim=10**9": (_write(lambda g: _edited(g, _set(["config", "dim"], 10**9))), False),
    "config dim a string": (_write(lambda g: _edited(g, _set(["config", "dim"], "32"))), False),
    "model not a dict": (_write(lambda g: _edited(g, _set(["model"], torch.zeros(2)))), False),
    "missing weight": (_write(lambda g: _edited(g, _drop_weight)), False),
    "extra weight": (_write(lambda g: _edited(g, _set(["model", "extra.weight"], torch.zeros(2)))), False),
    "shape mismatch": (_write(lambda g: _edited(g, _set(["config", "mlp_dim"], 48))), False),
    "wrong dtype": (_write(lambda g: _edited(g, lambda c: c["model"].update(
        {k: v.double() for k, v in c["model"].items()}))), False),
    "nan weights": (_write(lambda g: _edited(g, _nan_weight)), False),
    "flipped tensor bytes": (_flipped, False),
    "trainer not a dict": (_write(lambda g: _edited(g, _set(["trainer"], [1, 2]))), False),
    "negative step": (_write(lambda g: _edited(g, _set(["trainer", "step"], -5))), False),
    "step a string": (_write(lambda g: _edited(g, _set(["trainer", "step"], "5"))), False),
    "optimizer of another model": (_write(lambda g: _edited(g, _wrong_optimizer)), True),
    "curriculum stage 99": (_write(lambda g: _edited(g, _set(["trainer", "curriculum", "stage"], 99))), True),
    "curriculum unknown entry": (_write(lambda g: _edited(g, _set(["trainer", "curriculum", "sample"], 1))), True),
    "rng state garbage": (_write(lambda g: _edited(g, _set(["trainer", "rng"], {"state": 1}))), True),
    "history garbage": (_write(lambda g: _edited(g, _set(["trainer", "history"], [1, 2, 3]))), True),
}
