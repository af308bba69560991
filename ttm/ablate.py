"""Ablations: train each TTM variant on the same problems for the same budget, then evaluate all
of them on the same held-out problems.

    python -m ttm.ablate [--examples N] [--digits 2] [--seed 0] [--small]
                         [--out docs/ablation.json] [--png docs/ablation.png]
    python -m ttm.ablate --from-json docs/ablation.json --png docs/ablation.png
    python -m ttm.ablate --from-json docs/ablation*.json --png docs/ablation-seeds.png

Every variant goes through the project's Trainer. The curriculum runs on a fixed schedule (each
stage before the last gets 1 / (digits + 2) of the steps, the last stage the rest; no early
advance), so every variant sees the identical sequence of training problems; only the
architecture differs. --from-json prints and draws a saved ablation again without training;
given several saved at the same budget (other seeds, other variants), it lines them up by seed:
each variant's exact match per seed, its mean and range, and its gain over the TTM row seed by
seed, since at a small budget one seed's order of two variants says little.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from . import machine, markdown
from .data import cells_up_to, random_pairs
from .evaluate import evaluate
from .metrics import table_mean, teacher_forced_loss
from .model import TTMConfig
from .saved import read_saved
from .train import TrainConfig, Trainer, TrainingProgress

# name -> TTMConfig fields that differ from the base config.
VARIANTS = {
    "ttm": {},                                  # mlp summarizer, summarize write (the paper's)
    "memoryless": {"use_memory": False},
    "erase_add": {"write_rule": "erase_add"},
    "fifo": {"write_rule": "fifo"},
    "query": {"summarizer": "query"},
    "pool": {"summarizer": "pool"},
    "carry": {"carry_loss": 0.5},               # + the auxiliary carry loss (TTMConfig.carry_loss)
    # The carry targets are in tens (0-0.8), so at 0.5 an answer off by one carry adds 0.005 to
    # a loss of ~0.5: these two ask whether a stronger pull on memory helps or swamps the answer.
    "carry_x10": {"carry_loss": 5.0},
    "carry_x100": {"carry_loss": 50.0},
    "pad": {"pad_operands": True},              # operands zero-padded to max_digits (Shen et al. 2023)
}

# --small: a quarter of the default width budget, so six variants fit in ~20 minutes on a busy
# 2-core CPU. Same structure (memory, read, process, write); only sizes shrink.
SMALL = dict(dim=64, memory_tokens=32, read_tokens=8, layers=2, heads=4, mlp_dim=256,
             summarizer_hidden=32)


def base_config(digits: int, small: bool) -> TTMConfig:
    return TTMConfig(max_digits=max(digits, 1), **SMALL) if small else TTMConfig()


def train_config(examples: int, digits: int, seed: int, batch_size: int, out: str,
                 device: str) -> TrainConfig:
    """A TrainConfig for a fixed budget whose curriculum schedule depends on the step alone."""
    steps = max(digits, examples // batch_size)
    # Early stages hold few distinct problems (1x1 has 100), so they get a short share.
    stage_steps = max(1, steps // (digits + 2))
    return TrainConfig(digits=digits, batch_size=batch_size, steps=steps, seed=seed, device=device,
                       out=out, warmup_steps=max(1, min(300, steps // 10)), decay_steps=steps,
                       eval_every=stage_steps, eval_problems=128,
                       curriculum_threshold=float("inf"), max_stage_steps=stage_steps,
                       checkpoint_every_s=float("inf"), snapshot_every_s=float("inf"))


def run_variant(name: str, base: TTMConfig, cfg: TrainConfig, eval_digits: int, per_cell: int,
                eval_seed: int, quiet: bool = False) -> dict:
    model_config = replace(base, **VARIANTS[name])
    trainer = Trainer(cfg, model_config)
    start = time.monotonic()
    with TrainingProgress(trainer, disable=quiet) as progress:
        trainer.run(progress=progress)
    wall = time.monotonic() - start
    model = trainer.model.eval()
    table = evaluate(model, eval_digits, per_cell, eval_seed, label=f"{name} eval")
    held_out = random_pairs(np.random.default_rng([eval_seed, 0]), cells_up_to(eval_digits), 500)
    return {"variant": name, "config": model_config.to_dict(),
            "params": sum(p.numel() for p in model.parameters()), "steps": trainer.step,
            "examples": trainer.examples, "wall_s": wall, "train_loss": trainer.metrics.get("loss"),
            "eval_loss": teacher_forced_loss(model, held_out),
            "cells": {f"{da}x{db}": s.exact for (da, db), s in sorted(table.items())},
            "token_accuracy": table_mean(table)[1], "exact_match": table_mean(table)[0]}


def results_table(results: list[dict]) -> str:
    """The results as a Markdown table, one row per variant."""
    cells = list(results[0]["cells"])
    head = (["variant", "params", "examples", "wall time", "train loss", "eval loss"]
            + [f"exact {c}" for c in cells] + ["exact overall", "token acc"])
    rows = []
    for r in results:
        row = [r["variant"], f"{r['params']:,}", f"{r['examples']:,}", f"{r['wall_s']:.0f} s",
               f"{r['train_loss']:.3f}" if r["train_loss"] is not None else "-",
               f"{r['eval_loss']:.3f}"]
        row += [f"{100 * r['cells'][c]:.1f}%" for c in cells]
        row += [f"{100 * r['exact_match']:.1f}%", f"{100 * r['token_accuracy']:.1f}%"]
        rows.append(row)
    return markdown.table(head, rows)


def bar_chart(results: list[dict], title: str):
    """A matplotlib Figure: exact match per cell and overall, grouped by variant."""
    from . import plots  # matplotlib only when a chart is drawn

    cells = list(results[0]["cells"])
    series = [(f"{c} cell", [r["cells"][c] for r in results]) for c in cells]
    series.append(("overall", [r["exact_match"] for r in results]))
    return plots.bar_chart(title, [r["variant"] for r in results], series, xlabel="variant",
                           ylabel="exact match on held-out problems (%)")


def chart_title(record: dict) -> str:
    return f"Exact match after {record['examples']:,} training examples, digits <= {record['digits']}"


# What must agree for two saved ablations to be compared seed by seed.
BUDGET = ("digits", "examples", "batch_size", "per_cell", "small", "base_config")
SAVED_KEYS = BUDGET + ("seed", "machine", "results")   # what a saved ablation must hold


def across_seeds(records: list[dict], paths: list[str]) -> dict[str, dict[int, float]]:
    """variant -> {seed: overall exact match} over saved ablations of one budget; ValueError
    naming the file whose budget differs from the first's. A (variant, seed) measured twice keeps
    the first figure (training is deterministic, so a rerun repeats it)."""
    by_variant: dict[str, dict[int, float]] = {}
    for record, path in zip(records, paths):
        differs = [k for k in BUDGET if record[k] != records[0][k]]
        if differs:
            raise ValueError(f"{path} was run at another budget than {paths[0]} "
                             f"({', '.join(differs)} differ): its seeds do not compare")
        for r in record["results"]:
            by_variant.setdefault(r["variant"], {}).setdefault(record["seed"], r["exact_match"])
    return by_variant


def _seeds(by_variant: dict[str, dict[int, float]]) -> list[int]:
    return sorted({s for per_seed in by_variant.values() for s in per_seed})


def seeds_table(by_variant: dict[str, dict[int, float]], reference: str = "ttm") -> str:
    """Markdown: a row per variant, its exact match per seed, mean, range and, where `reference`
    ran on the same seeds, the mean gain over it and on how many of them it came out ahead."""
    seeds = _seeds(by_variant)
    head = ["variant"] + [f"seed {s}" for s in seeds] + ["mean", "range", f"gain over {reference}"]
    base = by_variant.get(reference, {})
    rows = []
    for variant, per_seed in by_variant.items():
        values = list(per_seed.values())
        row = [variant] + [f"{100 * per_seed[s]:.1f}%" if s in per_seed else "-" for s in seeds]
        row += [f"{100 * np.mean(values):.1f}%",
                f"{100 * (max(values) - min(values)):.1f}" if len(values) > 1 else "-"]
        shared = [s for s in per_seed if s in base]
        if variant == reference or not shared:
            row.append("-")
        else:
            gains = [per_seed[s] - base[s] for s in shared]
            row.append(f"{100 * np.mean(gains):+.1f} points, ahead on {sum(g > 0 for g in gains)} "
                       f"of {len(gains)} seed{'s' * (len(gains) > 1)}")
        rows.append(row)
    return markdown.table(head, rows)


def seeds_chart(by_variant: dict[str, dict[int, float]], title: str):
    """A matplotlib Figure: overall exact match per variant, one bar per seed (none where that
    seed was not run)."""
    from . import plots  # matplotlib only when a chart is drawn

    seeds = _seeds(by_variant)
    series = [(f"seed {s}", [per_seed.get(s, np.nan) for per_seed in by_variant.values()])
              for s in seeds]
    return plots.bar_chart(title, list(by_variant), series, xlabel="variant",
                           ylabel="exact match on held-out problems (%)")


def run_ablation(variants, base: TTMConfig, examples: int, digits: int, seed: int,
                 batch_size: int, per_cell: int, ckpt_dir: str, device: str = "auto",
                 quiet: bool = False) -> list[dict]:
    results = []
    for name in variants:
        cfg = train_config(examples, digits, seed, batch_size, str(Path(ckpt_dir) / f"{name}.pt"),
                           device)
        if not quiet:
            print(f"== {name}: {cfg.steps} steps x {batch_size} = {cfg.steps * batch_size} "
                  "examples", file=sys.stderr)
        results.append(run_variant(name, base, cfg, digits, per_cell, eval_seed=seed + 1000,
                                   quiet=quiet))
    return results


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m ttm.ablate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--examples", type=int, default=None,
                   help="training examples per variant (default: 128000 with --small, else 12800; "
                        "either takes ~3 minutes per variant on a busy 2-core CPU)")
    p.add_argument("--digits", type=int, default=2, help="train and evaluate up to this many digits")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--per-cell", type=int, default=500, help="held-out problems per cell")
    p.add_argument("--small", action="store_true", help=f"reduced model: {SMALL}")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (1 leaves room for other work on a small machine)")
    p.add_argument("--ckpt-dir", default="runs/ablation", help="each variant's checkpoint")
    p.add_argument("--out", default="docs/ablation.json")
    p.add_argument("--png", default=None,
                   help="the chart (default after training: beside --out, e.g. docs/ablation.png; "
                        "with --from-json only when given, so a run or a redraw never replaces "
                        "the shipped chart unasked)")
    p.add_argument("--from-json", nargs="+", default=None, metavar="JSON",
                   help="instead of training, print and draw an ablation saved with --out; "
                        "several (same budget, other seeds): line them up by seed")
    return p.parse_args(argv)


def run(args) -> dict:
    """Train and evaluate every variant: the JSON-ready record, also written to --out."""
    torch.set_num_threads(args.threads)
    examples = args.examples or (128000 if args.small else 12800)
    base = base_config(args.digits, args.small)
    results = run_ablation(args.variants, base, examples, args.digits, args.seed, args.batch_size,
                           args.per_cell, args.ckpt_dir, args.device)
    record = {"digits": args.digits, "examples": examples, "batch_size": args.batch_size,
              "seed": args.seed, "per_cell": args.per_cell, "small": args.small,
              "base_config": asdict(base),
              "machine": f"{machine.describe(args.threads)}, device {args.device}",
              "results": results}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=2) + "\n")
    return record


def main(argv=None) -> list[dict]:
    args = parse_args(argv)
    try:
        records = ([read_saved(path, SAVED_KEYS, "ablation") for path in args.from_json]
                   if args.from_json else [run(args)])
        by_variant = across_seeds(records, args.from_json) if len(records) > 1 else None
    except (OSError, ValueError) as err:  # a bad setting or saved record: one line
        sys.exit(f"error: {err}")
    record = records[0]
    small = {k: record["base_config"][k] for k in SMALL}  # as run, should SMALL change later
    size = f"small model {small}" if record["small"] else "default TTMConfig"
    seeds = ", ".join(str(s) for s in sorted({r["seed"] for r in records}))
    print(f"Ablation: {size}, digits <= {record['digits']}, {record['examples']} examples per "
          f"variant (batch {record['batch_size']}), seed{'s' * (len(records) > 1)} {seeds}, fixed "
          f"curriculum schedule; exact match on {record['per_cell']} held-out problems per cell. "
          f"Machine: {'; '.join(sorted({r['machine'] for r in records}))}.\n")
    if by_variant is None:
        print(results_table(record["results"]))
    else:
        print(seeds_table(by_variant))
    png = args.png if args.png is not None else (None if args.from_json else Path(args.out).with_suffix(".png"))
    if png:
        from . import plots
        figure = (bar_chart(record["results"], chart_title(record)) if by_variant is None
                  else seeds_chart(by_variant, f"{chart_title(record)}, by seed"))
        plots.save(figure, png)
    return [r for rec in records for r in rec["results"]]


if __name__ == "__main__":
    main()
