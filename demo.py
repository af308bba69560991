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
    from studio.view_flags import add_view_flags
    from studio.arguments import minus_signs_as_values, png_path, whole_number, window_size
    from viz.adaptive import TARGET_HELP, frames_per_s
    p = argparse.ArgumentParser(prog="python demo.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("problem", nargs="*", help="a x b, or the two numbers")
    p.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT, help="model to run (%(default)s)")
    p.add_argument("--text", action="store_true", help="print the walk-through instead of a window")
    p.add_argument("--top", type=whole_number(1), default=3, help="memory slots / read sources listed per step")
    p.add_argument("--probes", action="store_true",
                   help="with --text: say which digits the memory after each step holds in a "
                        "single slot (linear probes on random problems of the cell, a few seconds)")
    p.add_argument("--headless", action="store_true", help="render without a display (EGL)")
    p.add_argument("--step", type=whole_number(0), default=0, help="step shown first")
    p.add_argument("--frames", type=whole_number(1), default=None, help="quit after this many frames")
    p.add_argument("--screenshot", type=png_path, default=None, help="save a PNG of the last frame here")
    p.add_argument("--size", type=window_size, default="screen", help="window size, WxH, or screen (%(default)s)")
    add_view_flags(p, "a second problem, shown beside the first or as their difference (e.g. 38x42)")
    p.add_argument("--fps-target", type=frames_per_s, metavar="FPS", help=TARGET_HELP)
    return p.parse_args(minus_signs_as_values(argv))


def load_model(path: str, out=None):
    """The model at `path`, or None after printing why it cannot be used."""
    out = out or sys.stderr
    from ttm.checkpoint import CheckpointError, load
    try:
        model = load(path)
    except FileNotFoundError:
        print(f"error: no model checkpoint at {path}; train one with `python -m ttm.train --out "
              f"{path}`, or pass --checkpoint PATH", file=out)
        return None
    except CheckpointError as err:    # one line that names the file and says what is wrong
        print(f"error: cannot use the checkpoint: {err}; pass another file with --checkpoint PATH",
              file=out)
        return None
    model.multiply(1, 1)  # torch's first-call set-up, so the time shown is the problem's own
    return model


class BadProblem(Exception):
    """The command line's problem was refused and nobody is at a terminal to type another."""


def ask_problem(max_digits: int, first=None, read=input, out=None, can_ask=True):
    """(a, b) from `first` (command-line words) when valid, else from prompts until a valid one;
    None when the person quits (q, empty line at the prompt, end of input). Refused words with
    `can_ask` False (a script, a pipe) raise BadProblem after the message: prompting there would
    read the script's next line as a problem, or end with status 0 as if it had worked."""
    from studio.input_parse import InputError, parse_problem
    out = out or sys.stdout
    if first:
        try:
            return parse_problem(first, max_digits)
        except InputError as err:
            print(f"{err}", file=out if can_ask else sys.stderr)
            if not can_ask:
                raise BadProblem(str(err)) from None
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
    from ttm.confidence import tables_beside
    from ttm.probes import digit_probes
    out = out or sys.stdout
    interactive = not args.problem
    others = tables_beside(args.checkpoint)
    while problem is not None:
        trace = model.trace(*problem)
        found = digit_probes(model, trace.cell) if args.probes else None
        print(format_walkthrough(trace, top=args.top, metrics=getattr(model, "metrics", {}),
                                 others=others, probes=found), file=out)
        if not interactive:
            return 0
        print(file=out)
        problem = ask_problem(model.config.max_digits, read=read, out=out)
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    from studio.cores import share_cores
    share_cores()     # as app.py: a second torch thread only waits on the window (or another run)
    model = load_model(args.checkpoint)
    if model is None:
        return 2
    if args.headless and not args.text and not args.problem:
        args.problem = ["37", "42"]
    try:
        problem = ask_problem(model.config.max_digits, args.problem,
                              can_ask=sys.stdin is not None and sys.stdin.isatty())
    except BadProblem:
        return 2
    if args.text:
        return run_text(model, problem, args) if problem else 0
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
