"""Training: a Trainer that the app can run in a background thread, and `python -m ttm.train`.

The UI never calls into the trainer's loop: it polls `trainer.snapshots`, a bounded queue of
detached CPU snapshots (metrics + a Trace recorded by a frozen CPU copy of the model).

`torchrun --nproc_per_node N -m ttm.train ...` trains with DistributedDataParallel (ttm.distributed):
each rank draws its own problems, `batch_size` is per rank, and rank 0 alone evaluates the
curriculum (broadcasting the result), prints, publishes and writes checkpoints.

The command line's flags are TrainConfig's fields (`--weight-decay`, `--betas 0.9 0.99`, ...; a
field's metadata may give it another flag name), so a new field is one edit.
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
import typing
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from . import checkpoint, distributed
from .data import Curriculum, cell_key, make_batch, random_pairs
from .metrics import format_cells, score
from .model import TTM, TTMConfig


def setting(default, doc: str, **cli):
    """A TrainConfig field: its default, its --help text, and optional command-line settings:
    `flag` names the option (default: --the-field-name), the rest go to argparse (choices, ...)."""
    return field(default=default, metadata={"help": doc, **cli})


@dataclass
class TrainConfig:
    digits: int = setting(3, "final curriculum stage: operands up to this many digits")
    batch_size: int = setting(64, "problems per optimizer step (per process under torchrun)")
    lr: float = setting(1e-3, "peak learning rate, after warmup")
    betas: tuple[float, float] = setting((0.9, 0.99), "AdamW betas", metavar=("BETA1", "BETA2"))
    weight_decay: float = setting(1e-4, "AdamW weight decay of the weight matrices "
                                        "(not biases, norms or embeddings)")
    warmup_steps: int = setting(300, "linear learning-rate warmup, in steps")
    decay_steps: int = setting(60000, "cosine from lr to lr * min_lr_ratio by this step, "
                                      "then flat")
    min_lr_ratio: float = setting(0.05, "final learning rate as a fraction of lr")
    grad_clip: float = setting(1.0, "gradient norm clip")
    steps: int | None = setting(None, "stop at this total optimizer step (default: no limit)")
    minutes: float | None = setting(None, "stop after this many minutes of this run "
                                          "(default: no limit)")
    seed: int = setting(0, "seed of the weights and of the problem stream")
    device: str = setting("auto", "auto (CUDA when present), cpu, cuda, cuda:1")
    bf16: str = setting("auto", "bf16 autocast; auto: on CUDA only (on also speeds up CPUs "
                                "with AVX512-BF16 ~1.3x)", choices=("auto", "on", "off"))
    out: str = setting("runs/ttm.pt", "checkpoint path, written atomically (also on stop)")
    resume: str | None = setting(None, "continue from this checkpoint (optimizer and "
                                       "curriculum too)")
    eval_every: int = setting(250, "steps between curriculum evaluations")
    eval_problems: int = setting(512, "problems per evaluation, split evenly over the "
                                      "stage's cells")
    checkpoint_every_s: float = setting(180.0, "seconds between checkpoints",
                                        flag="--checkpoint-every")
    snapshot_every_s: float = setting(2.0, "seconds between snapshots (metrics + trace) "
                                           "published for the app; inf: none")
    snapshot_queue: int = setting(4, "snapshots kept for a lagging reader (oldest dropped)")
    sample_problem: tuple[int, int] = setting((37, 42), "the problem a × b traced in snapshots",
                                              metavar=("A", "B"))
    curriculum_threshold: float = setting(0.9, "exact match on a stage's new cells that "
                                               "advances the curriculum",
                                          flag="--stage-threshold")
    max_stage_steps: int = setting(6000, "steps after which a stage advances anyway")


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


def lr_factor(step: int, cfg: TrainConfig, warm_from: int = 0) -> float:
    """Linear warmup over cfg.warmup_steps from step `warm_from`, times a cosine decay from
    cfg.warmup_steps to cfg.decay_steps. A run resumed from a checkpoint without optimizer moments
    warms up again from its first step: AdamW's first steps from zeroed moments move every weight
    by about the learning rate, which undid much of a trained model at full rate."""
    warm = min(1.0, (step - warm_from + 1) / cfg.warmup_steps)
    progress = min(1.0, max(0.0, step - cfg.warmup_steps) / max(1, cfg.decay_steps - cfg.warmup_steps))
    return warm * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


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
        self.optimizer = self.model.configure_optimizers(cfg.weight_decay, cfg.lr, cfg.betas)
        self.curriculum = Curriculum(final_stage=cfg.digits, threshold=cfg.curriculum_threshold,
                                     max_stage_steps=cfg.max_stage_steps)
        self.step = 0
        self.warm_from = 0          # where the learning-rate warmup starts (see lr_factor)
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
        if "optimizer" not in state:  # an exported model: AdamW's moments start from zero
            self.warm_from = self.step
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
            group["lr"] = self.cfg.lr * lr_factor(self.step, self.cfg, self.warm_from)
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


class TrainingProgress:
    """A tqdm bar on stderr for Trainer.run: over cfg.steps when set, else an open-ended counter;
    its postfix has stage, loss, exact match, examples/s, learning rate and per-cell exact match.
    Redrawn at most once a second, so a log file under nohup grows by one line a second."""

    def __init__(self, trainer: Trainer, disable: bool = False):
        self.bar = tqdm(total=trainer.cfg.steps, initial=trainer.step, unit="step",
                        mininterval=1.0, file=sys.stderr, disable=disable)

    def __call__(self, trainer: Trainer) -> None:
        m = trainer.metrics
        loss = f"{m['loss']:.4f}" if m.get("loss") is not None else "-"
        self.bar.set_postfix_str(
            f"stage {trainer.curriculum.stage} loss {loss} exact {m.get('exact', 0):.3f} "
            f"{m.get('examples_per_s', 0):.0f} ex/s lr {m.get('lr', 0):.2e} "
            f"cells {format_cells(m.get('cell_exact', {}))}", refresh=False)
        self.bar.update(trainer.step - self.bar.n)

    def __enter__(self) -> "TrainingProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.bar.close()


def _cli_argument(f, hint, default) -> tuple[list[str], dict]:
    """argparse's (option strings, settings) for the TrainConfig field `f` of type `hint`."""
    if type(None) in typing.get_args(hint):                                  # X | None -> X
        kind = next(t for t in typing.get_args(hint) if t is not type(None))
    else:
        kind = hint
    shown = "" if default is None else " (default: %(default)s)"  # None's meaning is in the help
    options = dict(dest=f.name, default=default, help=f.metadata["help"] + shown)
    if typing.get_origin(kind) is tuple:
        options.update(type=typing.get_args(kind)[0], nargs=len(typing.get_args(kind)))
    elif kind is bool:
        options.update(action=argparse.BooleanOptionalAction)
    else:
        options.update(type=kind)
    options.update({k: v for k, v in f.metadata.items() if k not in ("help", "flag")})
    return [f.metadata.get("flag", "--" + f.name.replace("_", "-"))], options


def argument_parser() -> argparse.ArgumentParser:
    """`python -m ttm.train`'s options: one per TrainConfig field."""
    p = argparse.ArgumentParser(prog="python -m ttm.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    # Nothing reads snapshots on the command line, so none are made unless asked for.
    defaults = replace(TrainConfig(), snapshot_every_s=math.inf)
    hints = typing.get_type_hints(TrainConfig)
    for f in fields(TrainConfig):
        flags, options = _cli_argument(f, hints[f.name], getattr(defaults, f.name))
        p.add_argument(*flags, **options)
    return p


def parse_args(argv=None) -> TrainConfig:
    values = vars(argument_parser().parse_args(argv))
    return TrainConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


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
        with TrainingProgress(trainer, disable=not trainer.dist.main) as progress:
            trainer.run(progress=progress)
    except KeyboardInterrupt:
        pass
    finally:
        distributed.shutdown()
    if trainer.dist.main:
        print(f"saved {cfg.out} at step {trainer.step}", file=sys.stderr)


if __name__ == "__main__":
    main()
