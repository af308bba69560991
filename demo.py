"""Watch the trained Token Turing Machine multiply, one step at a time.

    python demo.py               asks for a problem (37x42, 37 * 42, 37 × 42 or 37 42)
    python demo.py 37 42         that problem straight away
    python demo.py 37x42 --text  the walk-through in the terminal, no window needed

The window shows, for each step, the memory entering and leaving it, what was read and written
and the digit produced; right/left arrows move between steps. --headless --screenshot renders
without a display (EGL).
"""
from __future__ import annotations

import argparse
import os
import sys

DEFAULT_CHECKPOINT = "models/ttm-multiply.pt"
PROMPT = "multiply (e.g. 37x42; q to quit): "


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python demo.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("problem", nargs="*", help="a x b, or the two numbers")
    p.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT, help="model to run (%(default)s)")
    p.add_argument("--text", action="store_true", help="print the walk-through instead of a window")
    p.add_argument("--top", type=int, default=3, help="memory slots / read sources listed per step")
    p.add_argument("--headless", action="store_true", help="render without a display (EGL)")
    p.add_argument("--step", type=int, default=0, help="step shown first")
    p.add_argument("--frames", type=int, default=None, help="quit after this many frames")
    p.add_argument("--screenshot", default=None, help="save a PNG of the last frame here")
    p.add_argument("--size", default="1280x720", help="window size, WxH")
    return p.parse_args(argv)


def load_model(path: str, out=None):
    """The model at `path`, or None after printing why it cannot be used."""
    out = out or sys.stderr
    from ttm.checkpoint import CheckpointError, load
    try:
        return load(path)
    except FileNotFoundError:
        print(f"error: no model checkpoint at {path}.\n"
              f"Train one with `python -m ttm.train --out {path}`, or pass --checkpoint PATH.", file=out)
    except CheckpointError as err:
        reason = str(err).splitlines()[0]  # torch's unpickling errors run to a dozen lines
        reason = reason if len(reason) <= 160 else reason[:157] + "..."
        print(f"error: cannot use {path}: {reason}\nPass another file with --checkpoint PATH.", file=out)
    return None


def ask_problem(max_digits: int, first=None, read=input, out=None):
    """(a, b) from `first` (command-line words) when valid, else from prompts until a valid one;
    None when the person quits (q, empty line at the prompt, end of input)."""
    from studio.input_parse import InputError, parse_problem
    out = out or sys.stdout
    if first:
        try:
            return parse_problem(first, max_digits)
        except InputError as err:
            print(f"{err}", file=out)
    while True:
        try:
            text = read(PROMPT)
        except (EOFError, KeyboardInterrupt):
            print(file=out)
            return None
        if text.strip().lower() in ("", "q", "quit", "exit"):
            return None
        try:
            return parse_problem(text, max_digits)
        except InputError as err:
            print(f"{err}", file=out)


def run_text(model, problem, args, read=input, out=None) -> int:
    from studio.walkthrough import format_walkthrough
    out = out or sys.stdout
    interactive = not args.problem
    while problem is not None:
        print(format_walkthrough(model.trace(*problem), top=args.top,
                                 metrics=getattr(model, "metrics", {})), file=out)
        if not interactive:
            return 0
        print(file=out)
        problem = ask_problem(model.config.max_digits, read=read, out=out)
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    model = load_model(args.checkpoint)
    if model is None:
        return 2
    if args.text:
        problem = ask_problem(model.config.max_digits, args.problem)
        return run_text(model, problem, args) if problem else 0
    if args.headless and not args.problem:
        args.problem = ["37", "42"]
    problem = ask_problem(model.config.max_digits, args.problem)
    if problem is None:
        return 0
    if args.headless:
        os.environ.pop("DISPLAY", None)   # viz.window reads it when imported: headless pyglet + EGL
    from studio.demo_window import run
    return run(model, problem, args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `python demo.py 37x42 --text | head`: the reader left, not an error
        sys.stderr.close()
        sys.exit(0)
