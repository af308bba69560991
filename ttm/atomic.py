"""Atomic file writes, and the clean-up of what killed writes leave behind.

A write goes to `.NAME.XXXXXXXX.tmp` next to the target, locked (flock) while it is written, then
fsync and rename over the target: a reader sees the old file or the new one, never half of one.
A write killed before the rename leaves its temp file; `remove_stale_temps` deletes those that
no process holds locked, i.e. that no write is using.
"""
from __future__ import annotations

import fcntl
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

SUFFIX = ".tmp"


class OutputError(OSError):
    """A file cannot be written where it was asked for; the message names the path."""


def _prefix(path: Path) -> str:
    return f".{path.name}."


@contextmanager
def replacing(path):
    """A binary file to write `path`'s new content into; it replaces `path` only when the block
    ends without an exception (the old file is untouched otherwise)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_prefix(path), suffix=SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # "in use" for remove_stale_temps; released on close or death
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a checkpoint is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temps(path) -> list[Path]:
    """Delete the temp files of writes to `path` (our name pattern, next to it) that no process is
    writing, i.e. what killed writes left behind; returns what was deleted."""
    path = Path(path)
    pattern = re.compile(re.escape(_prefix(path)) + r"[a-z0-9_]{8}" + re.escape(SUFFIX))
    try:
        candidates = [p for p in path.parent.iterdir() if pattern.fullmatch(p.name)]
    except OSError:  # no folder yet, or one we cannot list: nothing of ours to clean
        return []
    removed = []
    for candidate in candidates:
        try:
            fd = os.open(candidate, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:  # gone meanwhile, or a link: not one of our temp files
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError: a live write holds it
            candidate.unlink()
            removed.append(candidate)
        except (BlockingIOError, FileNotFoundError):
            pass
        finally:
            os.close(fd)
    return removed


def prepare_output(path) -> Path:
    """Check at start-up that `path` can be written (OutputError naming it otherwise) and clean up
    the leftovers of killed writes to it."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path} is a directory; give the path of a file to write")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path.parent, prefix=_prefix(path), suffix=SUFFIX)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise OutputError(f"cannot write {path}: {err.strerror or err}") from None
    remove_stale_temps(path)
    return path
