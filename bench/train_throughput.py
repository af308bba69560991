"""Training throughput (examples/s): the project's Trainer vs a plain PyTorch loop, same model,
same batch, same problems distribution, measured in the same run.

    python bench/train_throughput.py [--rounds 3] [--block-steps 30] [--stage 2] [--compile]
                                     [--modes cli app cli_bf16] [--out docs/train_throughput.jsonl]

The two loops take turns in blocks of `block-steps` optimizer steps (plain, Trainer, plain, ...),
so slow drifts in machine load hit both alike; each line reports the total examples over the total
time of that loop's blocks. The Trainer runs its whole `run()` loop: learning-rate schedule,
curriculum sampling and evaluations, metrics, and (in "app" mode) a snapshot every 2 s.
The plain loop is what one would write by hand: sample, make_batch, forward, backward, clip, step.
With --compile, both are measured again with the TTM step compiled in place (torch.compile;
inductor needs a C++ compiler on CPU), after an untimed warm-up that includes compilation.
"""
from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import report  # noqa: E402
from ttm.ablate import SMALL  # noqa: E402
from ttm.data import Curriculum, make_batch  # noqa: E402
from ttm.model import TTM, TTMConfig  # noqa: E402
from ttm.train import TrainConfig, Trainer  # noqa: E402


class PlainLoop:
    def __init__(self, config: TTMConfig, cfg: TrainConfig, stage: int, compiled: bool):
        torch.manual_seed(cfg.seed)
        self.model = TTM(config)
        if compiled:
            self.model.step.compile()
        self.optimizer = self.model.configure_optimizers(cfg.weight_decay, cfg.lr, cfg.betas)
        self.curriculum = Curriculum(final_stage=cfg.digits, stage=stage)
        self.rng, self.batch_size, self.clip = np.random.default_rng(cfg.seed), cfg.batch_size, cfg.grad_clip
        self.model.train()

    def run(self, steps: int) -> int:
        for _ in range(steps):
            pairs = self.curriculum.sample(self.rng, self.batch_size)
            problem, target = make_batch(pairs, self.model.config)
            _, loss = self.model(problem, target)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.clip)
            self.optimizer.step()
            loss.item()
        return steps * self.batch_size


class TrainerLoop:
    def __init__(self, config: TTMConfig, cfg: TrainConfig, stage: int, compiled: bool):
        self.trainer = Trainer(cfg, config)
        if compiled:
            self.trainer.model.step.compile()  # in place: state_dict keys stay the same
        self.trainer.curriculum.stage = stage
        # run() saves on the way out; a real run saves every checkpoint_every_s (180 s), not at
        # the end of every short timed block, so that write is left out here.
        self.trainer.save = lambda path=None: None

    def run(self, steps: int) -> int:
        self.trainer.cfg.steps = self.trainer.step + steps
        before = self.trainer.examples
        self.trainer.run()
        return self.trainer.examples - before


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--block-steps", type=int, default=12)
    p.add_argument("--warmup-steps", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--digits", type=int, default=3)
    p.add_argument("--stage", type=int, default=2, help="curriculum stage both loops sample from")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--modes", nargs="+", default=["cli", "app"], choices=["cli", "app", "cli_bf16"],
                   help="Trainer settings: cli (no snapshots), app (snapshot every 2 s), "
                        "cli_bf16 (cli with bf16 autocast on the CPU, `--bf16 on`)")
    p.add_argument("--compile", action="store_true", help="also measure with torch.compile")
    p.add_argument("--small", action="store_true",
                   help="the ablation's reduced model (ttm.ablate.SMALL)")
    p.add_argument("--out", default="docs/train_throughput.jsonl")
    return p.parse_args(argv)


def main(argv=None) -> list[dict]:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    config = TTMConfig(**SMALL) if args.small else TTMConfig()
    machine = report.machine(args.threads)
    tmp = tempfile.mkdtemp(prefix="ttm-throughput-")
    lines, eager_plain = [], None
    for compiled in [False, True] if args.compile else [False]:
        base = dict(digits=args.digits, batch_size=args.batch_size, device="cpu",
                    checkpoint_every_s=math.inf, out=f"{tmp}/trainer.pt")
        loops = {"plain": PlainLoop(config, TrainConfig(**base), args.stage, compiled)}
        for mode in args.modes:
            cfg = TrainConfig(**base, snapshot_every_s=2.0 if mode == "app" else math.inf,
                              bf16="on" if mode.endswith("bf16") else "off")
            loops[f"trainer_{mode}"] = TrainerLoop(config, cfg, args.stage, compiled)
        try:
            start = time.perf_counter()
            for loop in loops.values():   # compilation and allocator warm-up, not timed
                loop.run(args.warmup_steps)
            warmup_s = time.perf_counter() - start
        except Exception as err:  # torch.compile needs a working C++ toolchain
            report.emit(lines, {"bench": "train_throughput", "compiled": compiled,
                                "error": f"{type(err).__name__}: {err}"})
            print(f"compiled={compiled} failed: {err}", file=sys.stderr)
            continue
        totals = {name: [0, 0.0] for name in loops}
        for r in range(args.rounds):
            for name, loop in loops.items():
                start = time.perf_counter()
                examples = loop.run(args.block_steps)
                totals[name][0] += examples
                totals[name][1] += time.perf_counter() - start
                rate = examples / (time.perf_counter() - start)
                print(f"round {r + 1}/{args.rounds} {name}: {rate:.1f} ex/s", file=sys.stderr)
        plain_rate = totals["plain"][0] / totals["plain"][1]
        eager_plain = eager_plain or plain_rate
        for name, (examples, seconds) in totals.items():
            report.emit(lines, {"bench": "train_throughput", "loop": name, "compiled": compiled,
                                "examples_per_s": round(examples / seconds, 2),
                                "ratio_to_plain": round(examples / seconds / plain_rate, 4),
                                "ratio_to_eager_plain": round(examples / seconds / eager_plain, 4),
                                "examples": examples, "seconds": round(seconds, 2),
                                "warmup_s": round(warmup_s, 1), "batch_size": args.batch_size,
                                "stage": args.stage, "machine": machine})
            print(f"{'compiled ' if compiled else ''}{name}: {examples / seconds:.1f} ex/s "
                  f"({examples / seconds / plain_rate:.3f}x plain, "
                  f"{examples / seconds / eager_plain:.3f}x eager plain)", file=sys.stderr)
    report.write_jsonl(args.out, lines)
    return lines


if __name__ == "__main__":
    main()
