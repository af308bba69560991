"""Checks of setting values (TrainConfig's fields carry them): each takes a value and returns
what is wrong with it, in words, or None when it can work."""
from __future__ import annotations

import math

import torch


def number(v) -> bool:
    """An int or a float (not a bool)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def whole(low: int, optional: bool = False):
    """A check: a whole number >= low (or None when optional)."""
    def check(v):
        if (v is None and optional) or (isinstance(v, int) and not isinstance(v, bool) and v >= low):
            return None
        return f"must be a whole number >= {low}"
    return check


def real(low: float, high: float = math.inf, *, open_low=False, finite=False, optional=False):
    """A check: a number in [low, high] (low excluded when open_low; inf refused when finite)."""
    def check(v):
        if v is None and optional:
            return None
        ok = (number(v) and not math.isnan(v) and (v > low if open_low else v >= low)
              and v <= high and not (finite and math.isinf(v)))
        return None if ok else (f"must be a {'finite ' * finite}number "
                                f"{'>' if open_low else '>='} {low:g}"
                                + (f" and <= {high:g}" if high != math.inf else ""))
    return check


def one_of(*choices):
    """A check: one of `choices`."""
    def check(v):
        return None if v in choices else f"must be one of {', '.join(choices)}"
    return check


def betas_check(v):
    if len(v) == 2 and all(number(b) and 0 <= b < 1 for b in v):
        return None
    return "must be two numbers in [0, 1)"


def device_check(name):
    try:
        pick_device(name)
    except ValueError as err:
        return str(err)
    return None


def path_check(optional: bool):
    def check(v):
        return None if (v is None and optional) or (isinstance(v, str) and v) else \
            "must be a file path"
    return check


def problem_check(v):
    if len(v) == 2 and all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in v):
        return None
    return "must be two non-negative whole numbers"


def pick_device(name: str) -> torch.device:
    """The device `--device name` means; ValueError saying why when it cannot be used here."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        device = None
    if device is None or device.type not in ("cpu", "cuda"):
        raise ValueError("not a device; use auto, cpu, cuda or cuda:N")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("CUDA is not available on this machine; use cpu (or auto)")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise ValueError(f"this machine has {torch.cuda.device_count()} CUDA device(s)")
    return device
