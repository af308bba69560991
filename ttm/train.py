"""Training: a Trainer that the app can run in a background thread, and `python -m ttm.train`.

The UI never calls into the trainer's loop: it polls `trainer.snapshots`, a bounded queue of
detached CPU snapshots (metrics + a Trace recorded by a frozen CPU copy of the model).

`torchrun --nproc_per_node N -m ttm.train ...` trains with DistributedDataParallel (ttm.distributed):
each rank draws its own problems, `batch_size` is per rank, and rank 0 alone evaluates the
curriculum (broadcasting the result), prints, publishes and writes checkpoints.
"""
from __future__ import annotations

import argparse
import copy
import math
import queue
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import checkpoint, distributed
from .data import Curriculum, cell_key, make_batch, random_pairs
from .metrics import format_cells, score
from .model import TTM, TTMConfig


@dataclass
class TrainConfig:
    digits: int = 3                 # final curriculum stage: operands up to this many digits
    batch_size: int = 64
    lr: float = 1e-3
    betas: tuple = (0.9, 0.99)
    weight_decay: float = 1e-4
    warmup_steps: int = 300
    decay_steps: int = 60000        # cosine from lr to lr * min_lr_ratio, then flat
    min_lr_ratio: float = 0.05
    grad_clip: float = 1.0
    steps: int | None = None        # stop after this many optimizer steps in total (None: no limit)
    minutes: float | None = None    # stop after this many minutes of this run (None: no limit)
    seed: int = 0
    device: str = "auto"            # "auto": CUDA when present, else CPU
    bf16: str = "auto"              # bf16 autocast: "auto" on CUDA only, "on" (CPUs with bf16
                                    # instructions train ~1.3x faster), "off"
    out: str = "runs/ttm.pt"        # checkpoint written here (and on stop)
    resume: str | None = None       # checkpoint to continue from (optimizer and curriculum too)
    eval_every: int = 250           # steps between curriculum evaluations
    eval_problems: int = 512         # per evaluation, split evenly over the stage's cells
    checkpoint_every_s: float = 180.0
    snapshot_every_s: float = 2.0   # how often a snapshot (metrics + trace) is published
    snapshot_queue: int = 4         # bounded: the oldest snapshot is dropped when the UI lags
    sample_problem: tuple = (37, 42)
    curriculum_threshold: float = 0.9
    max_stage_steps: int = 6000


@dataclass
class Snapshot:
    step: int
    examples: int
    metrics: dict
    trace: object = None            # ttm.Trace from a frozen CPU copy of the model
    history: list = field(default_factory=list)  # [(step, loss, exact)] recent points for plots


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def lr_factor(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    progress = min(1.0, (step - cfg.warmup_steps) / max(1, cfg.decay_steps - cfg.warmup_steps))
    return cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


class Trainer:
    def __init__(self, cfg: TrainConfig, model_config: TTMConfig | None = None):
        if cfg.bf16 not in ("auto", "on", "off"):
            raise ValueError(f"bf16 must be auto, on or off, not {cfg.bf16!r}")
        self.cfg = cfg
        device = pick_device(cfg.device)
        self.dist = distributed.from_env(device.type)
        self.device = self.dist.device(device)
        torch.manual_seed(cfg.seed)
        # Ranks draw different problems; rank 0 keeps the single-process stream.
        self.rng = np.random.default_rng(cfg.seed if self.dist.main else [cfg.seed, self.dist.rank])
        resume = checkpoint.read(cfg.resume) if cfg.resume else None
        config = TTMConfig(**resume["config"]) if resume else (model_config or TTMConfig())
        self.model = TTM(config).to(self.device)
        decay = [p for n, p in self.model.named_parameters() if p.dim() >= 2 and "embedding" not in n]
        no_decay = [p for n, p in self.model.named_parameters() if not (p.dim() >= 2 and "embedding" not in n)]
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=cfg.lr, betas=cfg.betas)
        self.curriculum = Curriculum(final_stage=cfg.digits, threshold=cfg.curriculum_threshold,
                                     max_stage_steps=cfg.max_stage_steps)
        self.step = 0
        self.examples = 0
        self.skipped_nonfinite = 0
        self.metrics: dict = {}
        self.history: list = []
        if resume:
            self._restore(resume)
        self.autocast = cfg.bf16 == "on" or (cfg.bf16 == "auto" and self.device.type == "cuda")
        self.train_model = self.dist.wrap(self.model, self.device)  # DDP, or the model itself
        self.snapshots: queue.Queue[Snapshot] = queue.Queue(maxsize=cfg.snapshot_queue)
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._thread: threading.Thread | None = None

    # -- state -------------------------------------------------------------------------------
    def _restore(self, ckpt: dict) -> None:
        self.model.load_state_dict(ckpt["model"])
        state = ckpt.get("trainer") or {}
        if "optimizer" in state:
            self.optimizer.load_state_dict(state["optimizer"])
        if "curriculum" in state:
            self.curriculum.load_state_dict(state["curriculum"])
            # Progress (stage, recent evaluations) comes from the checkpoint; the rules from this
            # run's config, so a resumed run can be given a longer stage or a stricter threshold.
            self.curriculum.final_stage = max(self.curriculum.final_stage, self.cfg.digits)
            self.curriculum.threshold = self.cfg.curriculum_threshold
            self.curriculum.max_stage_steps = self.cfg.max_stage_steps
        self.step = state.get("step", 0)
        self.examples = state.get("examples", 0)
        self.skipped_nonfinite = state.get("skipped_nonfinite", 0)
        self.history = state.get("history", [])
        if "rng" in state and self.dist.main:  # the checkpoint holds rank 0's stream
            self.rng.bit_generator.state = state["rng"]
        elif self.dist.enabled:
            self.rng = np.random.default_rng([self.cfg.seed, self.dist.rank, self.step])
        self.metrics = ckpt.get("metrics", {})

    def save(self, path=None) -> Path:
        path = Path(path or self.cfg.out)
        trainer_state = {"optimizer": self.optimizer.state_dict(),
                         "curriculum": self.curriculum.state_dict(), "step": self.step,
                         "examples": self.examples, "skipped_nonfinite": self.skipped_nonfinite,
                         "history": self.history[-2000:], "rng": self.rng.bit_generator.state,
                         "train_config": {k: v for k, v in asdict(self.cfg).items()}}
        checkpoint.save(self.model, path, metrics=self.metrics, trainer=trainer_state)
        return path

    # -- one optimizer step ------------------------------------------------------------------
    def train_step(self) -> float | None:
        """One optimizer step; returns the loss, or None when it was not finite and skipped."""
        for group in self.optimizer.param_groups:
            group["lr"] = self.cfg.lr * lr_factor(self.step, self.cfg)
        pairs = self.curriculum.sample(self.rng, self.cfg.batch_size)
        problem, target = (t.to(self.device) for t in make_batch(pairs, self.model.config.input_tokens))
        self.model.train()
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            _, loss = self.train_model(problem, target)
        self.step += 1
        self.examples += len(pairs) * self.dist.world_size
        loss_value, finite = self.dist.mean_loss(loss)
        if not finite:
            self.skipped_nonfinite += 1
            self.optimizer.zero_grad(set_to_none=True)
            return None
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.optimizer.step()
        return loss_value

    def evaluate_stage(self) -> float:
        """Score fresh problems in every cell of the stage (`eval_problems` in all): the curriculum
        samples by these scores and advances on the new cells' mean exact match, returned."""
        result = None
        if self.dist.main:  # one evaluation, broadcast, keeps every rank's curriculum identical
            cells = self.curriculum.cells()
            per_cell = max(1, self.cfg.eval_problems // len(cells))
            result = {c: score(self.model, random_pairs(self.rng, [c], per_cell, swap=False))
                      for c in cells}
        result = self.dist.broadcast(result)
        new = self.curriculum.new_cells()
        exact = float(np.mean([result[c][0] for c in new]))
        token_acc = float(np.mean([result[c][1] for c in new]))
        advanced = self.curriculum.observe(self.step, {c: e for c, (e, _) in result.items()})
        self.metrics.update(exact=exact, token_accuracy=token_acc, stage=self.curriculum.stage,
                            cell_exact={cell_key(c): e for c, (e, _) in result.items()})
        if advanced:
            self.metrics["stage_advanced_at"] = self.step
        return exact

    # -- the loop ----------------------------------------------------------------------------
    def run(self, progress=None) -> None:
        """Train until stopped, or until cfg.steps / cfg.minutes. Saves a checkpoint at the end."""
        start = last_ckpt = last_snap = time.monotonic()
        run_examples, loss_avg = 0, None
        try:
            while not self._stop.is_set():
                if not self._running.wait(timeout=0.1):
                    continue
                done = ((self.cfg.steps is not None and self.step >= self.cfg.steps) or
                        (self.cfg.minutes is not None
                         and time.monotonic() - start >= 60 * self.cfg.minutes))
                if self.dist.any(done, self.device):
                    break
                loss = self.train_step()
                run_examples += self.cfg.batch_size * self.dist.world_size
                if loss is not None:
                    loss_avg = loss if loss_avg is None else 0.98 * loss_avg + 0.02 * loss
                now = time.monotonic()
                self.metrics.update(loss=loss_avg, step=self.step, examples=self.examples,
                                    lr=self.optimizer.param_groups[0]["lr"],
                                    skipped_nonfinite=self.skipped_nonfinite,
                                    examples_per_s=run_examples / max(now - start, 1e-9))
                if self.step % self.cfg.eval_every == 0:
                    self.evaluate_stage()
                    self.history.append((self.step, loss_avg, self.metrics["exact"]))
                if not self.dist.main:
                    continue
                if now - last_snap >= self.cfg.snapshot_every_s:
                    self.publish()
                    last_snap = now
                if now - last_ckpt >= self.cfg.checkpoint_every_s:
                    self.save()
                    last_ckpt = now
                if progress:
                    progress(self)
        except BaseException as err:  # shown by the UI rather than lost with the thread
            self.error = err
            raise
        finally:
            if self.dist.main:
                self.save()

    def set_sample_problem(self, a: int, b: int) -> None:
        """Trace a × b in future snapshots. Safe from any thread: one tuple assignment, read once
        per publish."""
        self.model.check_operands(a, b)
        self.cfg.sample_problem = (a, b)

    def publish(self) -> Snapshot:
        """Put a snapshot in the bounded queue, dropping the oldest when the reader lags."""
        frozen = copy.deepcopy(self.model).to("cpu").eval()
        snap = Snapshot(step=self.step, examples=self.examples, metrics=dict(self.metrics),
                        trace=frozen.trace(*self.cfg.sample_problem), history=list(self.history))
        while True:
            try:
                self.snapshots.put_nowait(snap)
                return snap
            except queue.Full:
                try:
                    self.snapshots.get_nowait()
                except queue.Empty:
                    pass

    # -- background thread control -----------------------------------------------------------
    def start(self) -> None:
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._thread_main, name="ttm-trainer", daemon=True)
        self._thread.start()

    def _thread_main(self) -> None:
        try:
            self.run()
        except BaseException:
            pass  # kept in self.error for the UI

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def alive(self) -> bool:
        return bool(self._thread and self._thread.is_alive())

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop the thread; its loop saves the checkpoint atomically on the way out."""
        self._stop.set()
        self._running.set()
        if self._thread:
            self._thread.join(timeout)


class ProgressBar:
    """One refreshed terminal line: step, stage, loss, exact match, examples/s."""

    def __init__(self, cfg: TrainConfig, every_s: float = 1.0):
        self.cfg, self.every_s, self.last = cfg, every_s, 0.0

    def __call__(self, trainer: Trainer) -> None:
        now = time.monotonic()
        if now - self.last < self.every_s:
            return
        self.last = now
        m = trainer.metrics
        total = f"/{self.cfg.steps}" if self.cfg.steps else ""
        frac = trainer.step / self.cfg.steps if self.cfg.steps else 0
        bar = ("#" * int(20 * frac)).ljust(20) if self.cfg.steps else ""
        loss = f"{m['loss']:.4f}" if m.get("loss") is not None else "-"
        sys.stderr.write(f"\r[{bar}] step {trainer.step}{total} stage {trainer.curriculum.stage} "
                         f"loss {loss} exact {m.get('exact', 0):.3f} "
                         f"{m.get('examples_per_s', 0):.0f} ex/s lr {m.get('lr', 0):.2e} "
                         f"cells {format_cells(m.get('cell_exact', {}))}   ")
        sys.stderr.flush()


def parse_args(argv=None) -> TrainConfig:
    p = argparse.ArgumentParser(prog="python -m ttm.train", description=__doc__)
    d = TrainConfig()
    p.add_argument("--digits", type=int, default=d.digits, help="largest operand digit count to train on")
    p.add_argument("--steps", type=int, default=None, help="stop at this total optimizer step")
    p.add_argument("--minutes", type=float, default=None, help="stop after this many minutes")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--decay-steps", type=int, default=d.decay_steps)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--device", default=d.device, help="auto (CUDA when present), cpu, cuda, cuda:1")
    p.add_argument("--bf16", choices=("auto", "on", "off"), default=d.bf16,
                   help="bf16 autocast; auto: on CUDA only (on also speeds up CPUs with AVX512-BF16)")
    p.add_argument("--out", default=d.out, help="checkpoint path (written atomically)")
    p.add_argument("--resume", default=None, help="continue from this checkpoint")
    p.add_argument("--checkpoint-every", type=float, default=d.checkpoint_every_s, help="seconds")
    p.add_argument("--eval-every", type=int, default=d.eval_every, help="steps")
    p.add_argument("--stage-threshold", type=float, default=d.curriculum_threshold,
                   help="exact match on a stage's new cells that advances the curriculum")
    p.add_argument("--max-stage-steps", type=int, default=d.max_stage_steps,
                   help="steps after which a stage advances anyway")
    a = p.parse_args(argv)
    return TrainConfig(digits=a.digits, steps=a.steps, minutes=a.minutes, batch_size=a.batch_size,
                       lr=a.lr, decay_steps=a.decay_steps, seed=a.seed, device=a.device, bf16=a.bf16, out=a.out,
                       resume=a.resume, checkpoint_every_s=a.checkpoint_every, eval_every=a.eval_every,
                       curriculum_threshold=a.stage_threshold, max_stage_steps=a.max_stage_steps,
                       snapshot_every_s=float("inf"))


def main(argv=None) -> None:
    cfg = parse_args(argv)
    trainer = Trainer(cfg)
    # `kill` (SIGTERM) ends a background run like Ctrl-C does: the loop exits and saves its
    # checkpoint. Shells start background jobs with SIGINT ignored, so SIGTERM is the way to stop one.
    signal.signal(signal.SIGTERM, lambda *_: trainer.stop(timeout=0))
    world = f" x {trainer.dist.world_size} processes" if trainer.dist.enabled else ""
    if trainer.dist.main:
        print(f"training on {trainer.device}{world}, from step {trainer.step}, "
              f"stage {trainer.curriculum.stage}", file=sys.stderr)
    try:
        trainer.run(progress=ProgressBar(cfg))
    except KeyboardInterrupt:
        pass
    finally:
        distributed.shutdown()
    if trainer.dist.main:
        print(f"\nsaved {cfg.out} at step {trainer.step}", file=sys.stderr)


if __name__ == "__main__":
    main()
