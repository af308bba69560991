"""Exact match and token accuracy per (digits of a, digits of b), one digit beyond training.

    python -m ttm.evaluate runs/ttm.pt [--max-digits 4] [--per-cell 1000] [--seed 1234]
                                       [--json out.json] [--png out.png]
    python -m ttm.evaluate --from-json docs/evaluate.json --png docs/evaluate.png

Problems are fresh and seeded per cell (ttm.metrics.cell_table), so two checkpoints evaluated
with the same seed see exactly the same problems. --from-json prints and draws a saved result
again without evaluating.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from . import checkpoint
from .metrics import (cell_table, format_digit_table, format_table, table_from_records, table_mean,
                      table_records)
from .saved import read_saved


def trained_digits(ckpt: dict) -> int | None:
    """The digit count the checkpoint was trained up to, when its trainer state records it."""
    train_config = (ckpt.get("trainer") or {}).get("train_config") or {}
    return train_config.get("digits")


def default_max_digits(ckpt: dict) -> int:
    """One digit beyond the training range, capped at what the model accepts."""
    limit = ckpt["config"]["max_digits"]
    trained = trained_digits(ckpt)
    return limit if trained is None else min(trained + 1, limit)


def evaluate(model, max_digits: int, per_cell: int, seed: int, label: str = "") -> dict:
    """{(da, db): Score (exact, token and digit accuracy)} with a progress bar over the cells."""
    with tqdm(total=max_digits**2, desc=label or None, unit="cell", mininterval=1.0,
              file=sys.stderr) as bar:
        def progress(cell, result) -> None:
            bar.set_postfix_str(f"{cell[0]}x{cell[1]} exact {result[0]:.3f}", refresh=False)
            bar.update()

        return cell_table(model, max_digits, per_cell, seed, progress=progress)


def report(table, trained: int | None) -> dict:
    """JSON-ready summary: every cell, the overall mean, and in / beyond the training range."""
    out = {"cells": table_records(table), "overall": dict(zip(("exact_match", "token_accuracy"),
                                                              table_mean(table)))}
    if trained is not None:
        inside = [c for c in table if max(c) <= trained]
        beyond = [c for c in table if max(c) > trained]
        for name, cells in (("trained_range", inside), ("beyond_training", beyond)):
            if cells:
                out[name] = dict(zip(("exact_match", "token_accuracy"), table_mean(table, cells)))
    return out


def heatmap(table, title: str = ""):
    """A matplotlib Figure: exact match and token accuracy heat maps side by side."""
    from . import plots  # matplotlib only when a chart is drawn

    n = max(max(c) for c in table)
    grid = lambda which: np.array([[table.get((da, db), (np.nan, np.nan))[which]  # noqa: E731
                                    for db in range(1, n + 1)] for da in range(1, n + 1)])
    labels = list(range(1, n + 1))
    return plots.heatmaps([("Exact match (%)", grid(0), labels, labels),
                           ("Token accuracy (%)", grid(1), labels, labels)],
                          xlabel="digits of b", ylabel="digits of a", title=title)


def digit_heatmap(table, title: str = ""):
    """A matplotlib Figure of digit accuracy: a row per cell, a column per answer digit, laid out
    as the answer is written (units on the right); "-" where the cell's products have no such
    digit. None when the table holds no digit accuracy."""
    from . import plots

    cells = [cell for cell in sorted(table) if table[cell].digit_accuracy]
    if not cells:
        return None
    width = max(len(table[c].digit_accuracy) for c in cells)
    values = np.full((len(cells), width), np.nan)
    for row, cell in enumerate(cells):
        accuracy = table[cell].digit_accuracy
        values[row, width - len(accuracy):] = accuracy[::-1]
    return plots.heatmaps([("Digit accuracy (%)", values, [f"{a}×{b}" for a, b in cells],
                            list(range(width, 0, -1)))],
                          xlabel="answer digit, counted from the right (1: units)",
                          ylabel="cell (digits of a × digits of b)", title=title, cell_inches=0.6)


def heatmap_title(result: dict) -> str:
    trained = (f", trained up to {result['trained_digits']} digits"
               if result.get("trained_digits") is not None else "")
    return (f"{result['checkpoint']} (step {result['step']}{trained}): "
            f"{result['per_cell']} problems per cell, seed {result['seed']}")


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m ttm.evaluate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", nargs="?", help="the checkpoint to evaluate")
    p.add_argument("--from-json", default=None,
                   help="instead of evaluating, print and draw a result saved with --json")
    p.add_argument("--max-digits", type=int, default=None,
                   help="largest digit count per operand (default: trained digits + 1, capped "
                        "at the model's max_digits)")
    p.add_argument("--per-cell", type=int, default=1000, help="problems per cell")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--json", default=None, help="write the table here as JSON")
    p.add_argument("--png", default=None, help="write a heat map of the table here")
    p.add_argument("--digits-png", default=None,
                   help="write a heat map of digit accuracy (cell by answer digit) here")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--store", action="store_true",
                   help="keep the table in the checkpoint's metrics (the demo and the app show "
                        "the problem's cell from it); the weights are untouched")
    args = p.parse_args(argv)
    if (args.checkpoint is None) == (args.from_json is None):
        p.error("give either a checkpoint or --from-json")
    if args.store and args.checkpoint is None:
        p.error("--store keeps the table in the checkpoint evaluated: give a checkpoint")
    return args


def run(args) -> tuple[dict, dict]:
    """Evaluate the checkpoint: (JSON-ready result, cell table)."""
    if args.threads:
        torch.set_num_threads(args.threads)
    ckpt = checkpoint.read(args.checkpoint)
    model = checkpoint.load(args.checkpoint)
    max_digits = args.max_digits or default_max_digits(ckpt)
    if not 1 <= max_digits <= model.config.max_digits:
        sys.exit(f"--max-digits {max_digits}: this model accepts 1 to {model.config.max_digits}")
    trained = trained_digits(ckpt)
    step = (ckpt.get("trainer") or {}).get("step")
    print(f"{args.checkpoint}: step {step}, trained up to {trained} digits; evaluating 1x1 to "
          f"{max_digits}x{max_digits}, {args.per_cell} problems per cell, seed {args.seed}",
          file=sys.stderr)
    table = evaluate(model, max_digits, args.per_cell, args.seed)
    result = {"checkpoint": str(args.checkpoint), "step": step, "trained_digits": trained,
              "max_digits": max_digits, "per_cell": args.per_cell, "seed": args.seed,
              **report(table, trained)}
    return result, table


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.per_cell < 1:
        sys.exit(f"error: --per-cell {args.per_cell}: give at least 1 problem per cell")
    try:
        if args.from_json:
            result = read_saved(args.from_json, ("cells", "per_cell", "seed", "checkpoint", "step"),
                                "evaluation")
            table = table_from_records(result["cells"])
        else:
            result, table = run(args)
            if args.store:
                checkpoint.store_metrics(args.checkpoint, evaluation=result)
    except (OSError, ValueError) as err:  # a missing or bad checkpoint or saved result: one line
        sys.exit(f"error: {err}")
    print(f"Exact match (%), {result['per_cell']} problems per cell, seed {result['seed']}\n")
    print(format_table(table, 0))
    print("\nToken accuracy (%)\n")
    print(format_table(table, 1))
    if any(s.digit_accuracy for s in table.values()):
        print("\nDigit accuracy (%), per answer digit counted from the right (1: units)\n")
        print(format_digit_table(table))
    print()
    for name in ("overall", "trained_range", "beyond_training"):
        if name in result:
            print(f"{name.replace('_', ' ')}: exact {100 * result[name]['exact_match']:.1f}%, "
                  f"token accuracy {100 * result[name]['token_accuracy']:.1f}%")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    if args.png or args.digits_png:
        from . import plots
        title = heatmap_title(result)
        if args.png:
            plots.save(heatmap(table, title), args.png)
        digits = digit_heatmap(table, title.replace(": ", ":\n", 1)) if args.digits_png else None
        if digits is not None:
            plots.save(digits, args.digits_png)
        elif args.digits_png:
            print(f"no digit accuracy in this result: {args.digits_png} not written", file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
