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
from .atomic import OutputError, prepare_output
from .checks import (betas_check, device_check, number, one_of, path_check, pick_device,
                     problem_check, real, whole)
from .checkpoint import CheckpointError, NonFiniteWeights
from .data import Curriculum, cell_key, make_batch, random_pairs
from .metrics import format_cells, score
from .model import TTM, TTMConfig, evaluating

BF16 = ("auto", "on", "off")
DIVERGED_AFTER = 3   # non-finite steps in a row that stop training (Trainer._skip)


class Diverged(ValueError):
    """Training stopped: the model computes non-finite losses or gradients step after step."""


def setting(default, doc: str, check=None, **cli):
    """A TrainConfig field: its default, its --help text, `check` (value -> what is wrong with
    it, or None) and optional command-line settings: `flag` names the option (default:
    --the-field-name), the rest go to argparse (choices, ...)."""
    return field(default=default, metadata={"help": doc, "check": check, **cli})


@dataclass
class TrainConfig:
    digits: int = setting(3, "final curriculum stage: operands up to this many digits", whole(1))
    batch_size: int = setting(64, "problems per optimizer step (per process under torchrun)",
                              whole(1))
    lr: float = setting(1e-3, "peak learning rate, after warmup", real(0, open_low=True, finite=True))
    betas: tuple[float, float] = setting((0.9, 0.99), "AdamW betas", betas_check,
                                         metavar=("BETA1", "BETA2"))
    weight_decay: float = setting(1e-4, "AdamW weight decay of the weight matrices "
                                        "(not biases, norms or embeddings)", real(0, finite=True))
    warmup_steps: int = setting(300, "linear learning-rate warmup, in steps", whole(1))
    decay_steps: int = setting(60000, "cosine from lr to lr * min_lr_ratio by this step, "
                                      "then flat", whole(0))
    min_lr_ratio: float = setting(0.05, "final learning rate as a fraction of lr", real(0, 1))
    grad_clip: float = setting(1.0, "gradient norm clip", real(0, open_low=True))
    steps: int | None = setting(None, "stop at this total optimizer step (default: no limit)",
                                whole(0, optional=True))
    minutes: float | None = setting(None, "stop after this many minutes of this run "
                                          "(default: no limit)", real(0, optional=True))
    seed: int = setting(0, "seed of the weights and of the problem stream", whole(0))
    device: str = setting("auto", "auto (CUDA when present), cpu, cuda, cuda:1", device_check)
    bf16: str = setting("auto", "bf16 autocast; auto: on CUDA only (on also speeds up CPUs "
                                "with AVX512-BF16 ~1.3x)",
                        one_of(*BF16), choices=BF16)
    out: str = setting("runs/ttm.pt", "checkpoint path, written atomically (also on stop)",
                       path_check(optional=False))
    resume: str | None = setting(None, "continue from this checkpoint (optimizer and "
                                       "curriculum too)", path_check(optional=True))
    eval_every: int = setting(250, "steps between curriculum evaluations", whole(1))
    eval_problems: int = setting(512, "problems per evaluation, split evenly over the "
                                      "stage's cells", whole(1))
    checkpoint_every_s: float = setting(180.0, "seconds between checkpoints", real(0),
                                        flag="--checkpoint-every")
    snapshot_every_s: float = setting(2.0, "seconds between snapshots (metrics + trace) "
                                           "published for the app; inf: none", real(0))
    snapshot_queue: int = setting(4, "snapshots kept for a lagging reader (oldest dropped)",
                                  whole(1))
    sample_problem: tuple[int, int] = setting((37, 42), "the problem a × b traced in snapshots",
                                              problem_check, metavar=("A", "B"))
    curriculum_threshold: float = setting(0.9, "exact match on a stage's new cells that "
                                               "advances the curriculum",
                                          real(0, open_low=True), flag="--stage-threshold")
    max_stage_steps: int = setting(6000, "steps after which a stage advances anyway", whole(1))
    carry_loss: float | None = setting(None, "weight of the auxiliary carry loss "
                                             "(TTMConfig.carry_loss; 0: none). Default: the "
                                             "--resume model's, 0 for a new one. Given on "
                                             "--resume, it adds the carry probe to a model "
                                             "without one (AdamW's moments then restart)",
                                       real(0, finite=True, optional=True))

    def check(self) -> None:
        """ValueError naming the first setting whose value cannot work (`--lr inf: must be a
        finite number > 0`), as its command-line flag."""
        for f in fields(self):
            value = getattr(self, f.name)
            problem = f.metadata["check"](value)
            if problem:
                shown = " ".join(map(str, value)) if isinstance(value, tuple) else value
                raise ValueError(f"{_flag(f)} {shown}: {problem}")


@dataclass
class Snapshot:
    step: int
    examples: int
    metrics: dict
    trace: object = None            # ttm.Trace from a frozen CPU copy of the model
    history: list = field(default_factory=list)  # [(step, loss, exact)] recent points for plots


def _flag(f) -> str:
    return f.metadata.get("flag", "--" + f.name.replace("_", "-"))


def lr_factor(step: int, cfg: TrainConfig, warm_from: int = 0) -> float:
    """Linear warmup over cfg.warmup_steps from step `warm_from`, times a cosine decay from
    cfg.warmup_steps to cfg.decay_steps. A run resumed from a checkpoint without optimizer moments
    warms up again from its first step: AdamW's first steps from zeroed moments move every weight
    by about the learning rate, which undid much of a trained model at full rate."""
    warm = min(1.0, (step - warm_from + 1) / cfg.warmup_steps)
    progress = min(1.0, max(0.0, step - cfg.warmup_steps) / max(1, cfg.decay_steps - cfg.warmup_steps))
    return warm * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


@torch.no_grad()
def weights_finite(model: torch.nn.Module) -> bool:
    """No NaN or infinity in any parameter (one reduction, one device sync)."""
    return bool(torch.stack([torch.isfinite(p).all() for p in model.parameters()]).all())


class Trainer:
    def __init__(self, cfg: TrainConfig, model_config: TTMConfig | None = None):
        """ValueError for a setting that cannot work, FileNotFoundError or CheckpointError for a
        --resume file that cannot be used, OutputError when --out cannot be written; each names
        the flag or the file."""
        cfg.check()
        self.cfg = cfg
        device = pick_device(cfg.device)
        self.dist = distributed.from_env(device.type)
        self.device = self.dist.device(device)
        torch.manual_seed(cfg.seed)
        # Ranks draw different problems; rank 0 keeps the single-process stream.
        self.rng = np.random.default_rng(cfg.seed if self.dist.main else [cfg.seed, self.dist.rank])
        resume = checkpoint.read(cfg.resume) if cfg.resume else None
        config = (checkpoint.model_config(resume, cfg.resume) if resume
                  else (model_config or TTMConfig()))
        if cfg.carry_loss is not None:
            try:
                config = replace(config, carry_loss=cfg.carry_loss)
            except ValueError as err:
                raise ValueError(f"--carry-loss {cfg.carry_loss}: {err}") from None
        if cfg.digits > config.max_digits:
            raise ValueError(f"--digits {cfg.digits}: this model takes operands of at most "
                             f"{config.max_digits} digits")
        self.model = TTM(config).to(self.device)
        try:
            self.model.check_operands(*cfg.sample_problem)
        except ValueError as err:
            raise ValueError(f"sample problem {cfg.sample_problem[0]} x {cfg.sample_problem[1]}: "
                             f"{err}") from None
        self.optimizer = self.model.configure_optimizers(cfg.weight_decay, cfg.lr, cfg.betas)
        self.curriculum = Curriculum(final_stage=cfg.digits, threshold=cfg.curriculum_threshold,
                                     max_stage_steps=cfg.max_stage_steps)
        self.step = 0
        self.warm_from = 0          # where the learning-rate warmup starts (see lr_factor)
        self.examples = 0
        self.skipped_nonfinite = 0
        self.nonfinite_run = 0      # skipped steps since the last good one (see _skip)
        self.metrics: dict = {}
        self.history: list = []
        if resume:
            try:
                self._restore(resume)
            except CheckpointError:
                raise
            except Exception as err:
                raise CheckpointError(f"{cfg.resume}: its trainer state cannot be restored "
                                      f"({checkpoint.reason(err)})") from err
        if self.dist.main:
            prepare_output(cfg.out)   # an unwritable --out fails now, not after hours of training
        self.autocast = cfg.bf16 == "on" or (cfg.bf16 == "auto" and self.device.type == "cuda")
        self.train_model = self.dist.wrap(self.model, self.device)  # DDP, or the model itself
        self.snapshots: queue.Queue[Snapshot] = queue.Queue(maxsize=cfg.snapshot_queue)
        self.error: BaseException | None = None       # what stopped the loop, for the UI
        self.save_error: Exception | None = None      # why the checkpoint at the end failed
        self.saved: Path | None = None                # the last checkpoint written
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._thread: threading.Thread | None = None

    # -- state -------------------------------------------------------------------------------
    def _restore(self, ckpt: dict) -> None:
        """Take the model, optimizer, curriculum and counters from a checkpoint read by
        ttm.checkpoint.read (which checked the types of its entries); anything that cannot work
        raises here, before training starts."""
        probe_changed = self._load_weights(ckpt["model"])
        state = ckpt.get("trainer") or {}
        if "optimizer" in state and not probe_changed:
            self.optimizer.load_state_dict(state["optimizer"])
            self._check_optimizer_state()
        if "curriculum" in state:
            self._load_curriculum(state["curriculum"])
        self.step = state.get("step", 0)
        if "optimizer" not in state or probe_changed:  # AdamW's moments start from zero
            self.warm_from = self.step
        self.examples = state.get("examples", 0)
        self.skipped_nonfinite = state.get("skipped_nonfinite", 0)
        self.history = [tuple(point) for point in state.get("history", [])]
        if not all(len(p) == 3 and isinstance(p[0], int) and all(v is None or number(v)
                                                                  for v in p[1:])
                   for p in self.history):
            raise ValueError("history points must be (step, loss, exact match)")
        if "rng" in state and self.dist.main:  # the checkpoint holds rank 0's stream
            self.rng.bit_generator.state = state["rng"]
        elif self.dist.enabled:
            self.rng = np.random.default_rng([self.cfg.seed, self.dist.rank, self.step])
        self.metrics = ckpt.get("metrics", {})

    def _load_weights(self, weights: dict) -> bool:
        """Load the checkpoint's weights into the model; True when only the carry probe differs
        (added by --carry-loss, or dropped by --carry-loss 0): a new probe starts untrained, and
        the optimizer's parameter groups no longer match the checkpoint's."""
        missing, unexpected = self.model.load_state_dict(weights, strict=False)
        others = [k for k in missing + unexpected if not k.startswith("carry_head.")]
        if others:  # model_config checked the names against the checkpoint's own config
            raise ValueError(f"weights do not fit the model: {others[0]}")
        return bool(missing or unexpected)

    def _check_optimizer_state(self) -> None:
        for group in self.optimizer.param_groups:
            for p in group["params"]:
                for key, value in self.optimizer.state.get(p, {}).items():
                    if not torch.is_tensor(value):
                        continue
                    if value.dim() and value.shape != p.shape:
                        raise ValueError(f"optimizer {key} has shape {tuple(value.shape)}, its "
                                         f"weight {tuple(p.shape)}")
                    if value.is_floating_point() and not bool(torch.isfinite(value).all()):
                        raise ValueError(f"optimizer {key} is not finite")

    def _load_curriculum(self, state: dict) -> None:
        known = {f.name for f in fields(Curriculum)}
        if not set(state) <= known:
            raise ValueError(f"curriculum has unknown entries {sorted(set(state) - known)}")
        self.curriculum.load_state_dict(state)
        # Progress (stage, recent evaluations) comes from the checkpoint; the rules from this
        # run's config, so a resumed run can be given a longer stage or a stricter threshold.
        self.curriculum.final_stage = max(self.curriculum.final_stage, self.cfg.digits)
        self.curriculum.threshold = self.cfg.curriculum_threshold
        self.curriculum.max_stage_steps = self.cfg.max_stage_steps
        c = self.curriculum
        if not (isinstance(c.stage, int) and 1 <= c.stage <= min(c.final_stage,
                                                                   self.model.config.max_digits)):
            raise ValueError(f"curriculum stage {c.stage!r} is not one this model can train")
        if not (isinstance(c.recent, list) and all(number(v) for v in c.recent)):
            raise ValueError("curriculum's recent evaluations are not numbers")
        c.sample(np.random.default_rng(0), 2)   # its per-cell estimates are usable

    def save(self, path=None) -> Path:
        """Write the checkpoint atomically. NonFiniteWeights when the weights are not finite and
        OutputError when the file cannot be written; the file already there is kept either way."""
        path = Path(path or self.cfg.out)
        if self.nonfinite_run and not self._loss_finite_now():
            raise NonFiniteWeights(f"not saving {path}: the model's loss is not finite (its last "
                                   f"{self.nonfinite_run} steps were skipped); the file there "
                                   "is unchanged")
        trainer_state = {"optimizer": self.optimizer.state_dict(),
                         "curriculum": self.curriculum.state_dict(), "step": self.step,
                         "examples": self.examples, "skipped_nonfinite": self.skipped_nonfinite,
                         "history": self.history[-2000:], "rng": self.rng.bit_generator.state,
                         "train_config": {k: v for k, v in asdict(self.cfg).items()}}
        try:
            checkpoint.save(self.model, path, metrics=self.metrics, trainer=trainer_state)
        except OSError as err:
            raise OutputError(f"could not save {path} ({err.strerror or err}); the file there "
                              "is unchanged") from err
        self.saved = path
        return path

    # -- one optimizer step ------------------------------------------------------------------
    def train_step(self) -> float | None:
        """One optimizer step; returns the loss, or None when the loss or the gradient norm was
        not finite and the step skipped (see _skip). NonFiniteWeights when the update itself made
        a weight non-finite (a learning rate far too high): nothing of that is ever saved."""
        for group in self.optimizer.param_groups:
            group["lr"] = self.cfg.lr * lr_factor(self.step, self.cfg, self.warm_from)
        pairs = self.curriculum.sample(self.rng, self.cfg.batch_size)
        problem, target = (t.to(self.device) for t in make_batch(pairs, self.model.config))
        self.model.train()
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            _, loss = self.train_model(problem, target)
        self.step += 1
        self.examples += len(pairs) * self.dist.world_size
        loss_value, finite = self.dist.mean_loss(loss)
        if not finite:
            return self._skip()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        # After DDP's all-reduce every rank has the same gradients, so all skip together.
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        if not bool(torch.isfinite(grad_norm)):
            return self._skip()
        self.optimizer.step()
        self.nonfinite_run = 0
        # A stored evaluation table (ttm.evaluate --store) measured the weights as they were;
        # from the first update on it describes the step the run started from, and is kept as that.
        if "evaluation" in self.metrics:
            self.metrics["start_evaluation"] = self.metrics.pop("evaluation")
        if not weights_finite(self.model):
            raise NonFiniteWeights(
                f"the weights became non-finite at step {self.step} (learning rate "
                f"{self.optimizer.param_groups[0]['lr']:.3g}); training stopped and nothing is "
                f"saved over {self.cfg.out}")
        return loss_value

    def _skip(self) -> None:
        """Skip this step, counted. A healthy model meets a batch that overflows rarely, never
        DIVERGED_AFTER times running: that many in a row mean the weights are broken (finite but
        huge, after a far too large update), so training stops and they are never saved."""
        self.skipped_nonfinite += 1
        self.nonfinite_run += 1
        self.optimizer.zero_grad(set_to_none=True)
        if self.nonfinite_run >= DIVERGED_AFTER:
            raise Diverged(f"the loss or the gradients were not finite {self.nonfinite_run} steps "
                           f"in a row (to step {self.step}): the model has diverged; training "
                           f"stopped and nothing is saved over {self.cfg.out}")
        return None

    def _loss_finite_now(self) -> bool:
        """Whether the model's loss on a fresh batch is finite (the training stream untouched)."""
        pairs = self.curriculum.sample(np.random.default_rng(self.step), self.cfg.batch_size)
        problem, target = (t.to(self.device) for t in make_batch(pairs, self.model.config))
        with torch.no_grad(), evaluating(self.model), torch.autocast(
                self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            _, loss = self.model(problem, target)
        return bool(torch.isfinite(loss))

    def evaluate_stage(self) -> float:
        """Score fresh problems in every cell of the stage (`eval_problems` in all): the curriculum
        samples by these scores and advances on the new cells' mean exact match, returned."""
        result = None
        cells = self.curriculum.cells()
        per_cell = max(1, self.cfg.eval_problems // len(cells))
        if self.dist.main:  # one evaluation, broadcast, keeps every rank's curriculum identical
            result = {c: score(self.model, random_pairs(self.rng, [c], per_cell, swap=False))
                      for c in cells}
        result = self.dist.broadcast(result)
        new = self.curriculum.new_cells()
        exact = float(np.mean([result[c].exact for c in new]))
        token_acc = float(np.mean([result[c].token_accuracy for c in new]))
        advanced = self.curriculum.observe(self.step, {c: s.exact for c, s in result.items()})
        self.metrics.update(exact=exact, token_accuracy=token_acc, stage=self.curriculum.stage,
                            cell_exact={cell_key(c): s.exact for c, s in result.items()},
                            cell_digits={cell_key(c): list(s.digit_accuracy) for c, s in result.items()},
                            cell_problems=per_cell, cell_checked_at=self.step)
        if advanced:
            self.metrics["stage_advanced_at"] = self.step
        return exact

    # -- the loop ----------------------------------------------------------------------------
    def run(self, progress=None) -> None:
        """Train until stopped, or until cfg.steps / cfg.minutes. Saves a checkpoint at the end:
        a failure to is kept in `save_error` (and `error`) and raised, unless the loop is already
        raising an error of its own."""
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
                if now - last_ckpt >= self.cfg.checkpoint_every_s and not self.nonfinite_run:
                    self.save()
                    last_ckpt = now
                if progress:
                    progress(self)
        except BaseException as err:  # shown by the UI rather than lost with the thread
            self.error = err
            raise
        finally:
            if self.dist.main:
                self._save_at_exit()

    def _save_at_exit(self) -> None:
        if isinstance(self.error, (Diverged, NonFiniteWeights)):
            return  # training stopped because of the weights: its message says nothing is saved
        try:
            self.save()
        except Exception as err:
            self.save_error = err
            if self.error is None:
                self.error = err
                raise

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
    options.update({k: v for k, v in f.metadata.items() if k not in ("help", "flag", "check")})
    return [_flag(f)], options


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
    """Every bad flag, --resume file or --out path ends in one line naming it and a non-zero exit
    status; so do a run that diverged and a checkpoint that could not be written."""
    cfg = parse_args(argv)
    try:
        cfg.check()
    except ValueError as err:
        print(f"python -m ttm.train: error: {err}", file=sys.stderr)
        sys.exit(2)
    try:
        trainer = Trainer(cfg)
    except (OSError, ValueError) as err:  # under torchrun, the launcher then stops the others
        sys.exit(f"error: {err}")
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
    except (NonFiniteWeights, Diverged, OSError):
        pass  # kept in trainer.error, said below
    finally:
        distributed.shutdown()
    if not trainer.dist.main:
        return
    stopped_by = (trainer.error if isinstance(trainer.error, (NonFiniteWeights, Diverged, OSError))
                  else None)
    if stopped_by or trainer.save_error:
        sys.exit(f"error: {stopped_by or trainer.save_error}")
    print(f"saved {cfg.out} at step {trainer.step}", file=sys.stderr)


if __name__ == "__main__":
    main()
