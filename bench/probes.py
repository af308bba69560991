"""What the digit probes cost (ttm.probes.digit_probes, the job the Why? panel's "memory holds:"
starts on the causal worker): every slot of every memory state of a cell, probed.

    python -m bench.probes [--checkpoint models/ttm-multiply-4digit.pt] [--cells 2x2 4x4]
                           [--threads 1] [--repeats 3] [--out docs/probes.jsonl]

One JSON line per cell, the fastest of `--repeats` warm calls with the median beside it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import report  # noqa: E402
from ttm import load, probes  # noqa: E402


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(prog="python -m bench.probes", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", default="models/ttm-multiply-4digit.pt")
    p.add_argument("--cells", nargs="+", type=probes.parse_cell, default=[(2, 2), (4, 4)],
                   help="digits of a x b, e.g. 2x2 4x4 (the default)")
    p.add_argument("--problems", type=int, default=768)
    p.add_argument("--fit", type=int, default=512)
    report.timing_arguments(p, repeats=3)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = load(args.checkpoint)
    lines = []
    for cell in args.cells:
        made = []                     # the timed calls' results: what was probed, for the line

        def probe():
            made.append(probes.digit_probes(model, cell, args.problems, args.fit))

        timing = report.timed(probe, args.repeats)
        line = {"bench": "probes", "cell": f"{cell[0]}x{cell[1]}", "states": made[-1].states,
                "memory_slots": model.config.m, "digits": len(made[-1].digits),
                "problems": args.problems, "fitted": args.fit, **timing,
                "threads": args.threads, "machine": report.machine(args.threads)}
        report.emit(lines, line)
    report.write_jsonl(args.out, lines)
    return lines


if __name__ == "__main__":
    main()
