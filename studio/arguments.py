"""Command-line value types for app.py and demo.py: a bad value is refused by the parser, which
prints one `error: argument --flag: ...` line saying what is accepted, instead of a traceback
somewhere later."""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

# A window or screenshot beyond this on a side costs gigabytes of framebuffers (20000x20000
# took 9.7 GB) and exceeds what many GL drivers allow.
MAX_WINDOW_SIDE = 8192


def minus_signs_as_values(argv: list[str] | None) -> list[str]:
    """argv (sys.argv[1:] when None) with every word that starts with a minus sign and a digit
    ("-3x4", "--problem -3x4") kept as a value. argparse takes such a word for an unknown flag
    ("unrecognized arguments", "expected one argument") unless it is a plain negative number,
    where the value's own check says what is wrong ("'-3' is negative"). A leading space is
    enough: argparse reads the word as a value, and every check strips or rejects it."""
    return [" " + word if re.match(r"-\d", word) else word
            for word in (sys.argv[1:] if argv is None else argv)]


def whole_number(low: int):
    """A type: a whole number >= low."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is too small: give a whole number >= {low}")
        return value
    return parse


def seconds(text: str) -> float:
    """A type: a number of seconds > 0 (inf allowed: never)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:  # NaN too
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds > 0")
    return value


def window_size(text: str) -> str:
    """A type: `WxH`, each side 1 to MAX_WINDOW_SIDE pixels, or `screen`; kept as text."""
    text = text.strip()
    if text.lower() == "screen":
        return text
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT (e.g. 1280x720) or "
                                         "screen") from None
    if not (1 <= w <= MAX_WINDOW_SIDE and 1 <= h <= MAX_WINDOW_SIDE):
        raise argparse.ArgumentTypeError(f"{text}: width and height must be 1 to "
                                         f"{MAX_WINDOW_SIDE} pixels")
    return text


def png_path(text: str) -> str:
    """A type: where a PNG can be written (not a directory; inside a folder that can be
    written, or that can be made)."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a directory; give a file name, e.g. "
                                         f"{path / 'shot.png'}")
    folder = next((p for p in path.absolute().parents if p.exists()), None)
    if folder is None or not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{text}: cannot write into {folder}")
    return text


def device(text: str) -> str:
    """A type: a torch device this machine has (auto, cpu, cuda, cuda:N)."""
    from ttm.checks import pick_device  # torch only once a device is asked about

    try:
        pick_device(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text}: {err}") from None
    return text
