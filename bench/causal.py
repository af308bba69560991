"""What asking "why?" costs: interventions and slot effects on the shipped model.

    python -m bench.causal [--checkpoint models/ttm-multiply.pt] [--problem 583x671]
                           [--threads 1] [--repeats 5] [--out docs/causal.jsonl]

One JSON line per figure, each the fastest of `--repeats` warm calls (the timeit convention: on a
shared machine slower repeats measure the other processes) with the median beside it:

    replay             an edited memory entering step 1, re-run to the answer (Trace.replay)
    graph_changes      the same edit through step 1's fx graph, every node's relative change
    intervention       both: what the app computes before it can draw the new picture
    slot_effects       every memory slot zeroed alone entering step 0 (the longest rollout),
                       one batched, teacher-forced run (ttm.causal.ablate_slots)
    slot_effects_mean  the same with the "mean" ablation (its means computed before timing)
    effect_map         slot effects of every step of the problem at once (ttm.causal.effect_map)

The last line sums them up against the targets (100 ms, 300 ms, 2 s).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import report  # noqa: E402
from studio.input_parse import parse_problem  # noqa: E402
from ttm import causal, load  # noqa: E402

TARGET_MS = {"intervention": 100.0, "slot_effects": 300.0, "effect_map": 2000.0}


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(prog="python -m bench.causal", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", default="models/ttm-multiply.pt")
    p.add_argument("--problem", default="583x671", help="the traced problem (%(default)s)")
    report.timing_arguments(p, repeats=5)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = load(args.checkpoint)
    a, b = parse_problem(args.problem, model.config.max_digits)
    trace = model.trace(a, b)
    t = min(1, trace.steps - 1)             # step 1, unless the answer is a bare EOS
    edited = trace["memory"][t].clone()
    edited[trace.model.config.m // 2] = 0.0
    causal.mean_memory(model, (len(str(a)), len(str(b))), 0)  # the cached means, not timed

    cases = {
        "replay": lambda: trace.replay(t, memory=edited),
        "graph_changes": lambda: causal.graph_changes(trace, t, memory=edited),
        "intervention": lambda: (trace.replay(t, memory=edited),
                                 causal.graph_changes(trace, t, memory=edited)),
        "slot_effects": lambda: causal.ablate_slots(trace, 0, "zero"),
        "slot_effects_mean": lambda: causal.ablate_slots(trace, 0, "mean"),
        "effect_map": lambda: causal.effect_map(trace, "zero"),
    }
    common = {"problem": f"{a}x{b}", "steps": trace.steps, "memory_slots": model.config.m,
              "threads": args.threads, "machine": report.machine(args.threads)}
    lines = []
    for name, fn in cases.items():
        report.emit(lines, {"bench": "causal", "case": name, **report.timed(fn, args.repeats), **common})
    by_case = {line["case"]: line["ms_min"] for line in lines}
    summary = {"bench": "causal_summary", **{f"{k}_ms": by_case[k] for k in TARGET_MS},
               **{f"{k}_target_ms": v for k, v in TARGET_MS.items()},
               "all_met": all(by_case[k] <= v for k, v in TARGET_MS.items()), **common}
    report.emit(lines, summary)
    report.write_jsonl(args.out, lines)
    return lines


if __name__ == "__main__":
    main()
