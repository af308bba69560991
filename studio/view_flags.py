"""The view's flags, shared by app.py and demo.py: --layout and --compare. Light to import (the
parser runs before torch or GL is loaded)."""
from __future__ import annotations

import argparse

LAYOUTS = ("flow", "grid")


def add_view_flags(p: argparse.ArgumentParser, compare_help: str) -> None:
    p.add_argument("--layout", default="flow", choices=LAYOUTS,
                   help="flow: one step along its data flow, steps in depth; grid: every tensor packed "
                        "(%(default)s)")
    p.add_argument("--compare", default=None, metavar="AxB", help=compare_help)
