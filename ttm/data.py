"""Random multiplication problems by digit count, batching for teacher forcing, and the curriculum."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from . import tokens as tok


def random_operands(rng: np.random.Generator, digits: int, count: int) -> np.ndarray:
    """`count` operands with exactly `digits` digits, uniform (one digit includes 0)."""
    low = 0 if digits == 1 else 10 ** (digits - 1)
    return rng.integers(low, 10**digits, size=count)


def random_pairs(rng: np.random.Generator, cells, count: int, swap: bool = True, weights=None):
    """`count` problems, each from a cell (digits of a, digits of b) chosen from `cells`, uniformly
    or with probabilities `weights`.

    `swap` is the operand-swap augmentation: half of the problems have a and b exchanged, so that
    a cell (2, 1) also teaches (1, 2).
    """
    cells = list(cells)
    if weights is None:
        picks = rng.integers(0, len(cells), size=count)
    else:
        picks = rng.choice(len(cells), size=count, p=np.asarray(weights, float) / np.sum(weights))
    pairs = []
    for i, (da, db) in enumerate(cells):
        n = int((picks == i).sum())
        pairs += list(zip(random_operands(rng, da, n).tolist(), random_operands(rng, db, n).tolist()))
    order = rng.permutation(len(pairs))
    pairs = [pairs[i] for i in order]
    if swap:
        flips = rng.random(len(pairs)) < 0.5
        pairs = [(b, a) if f else (a, b) for (a, b), f in zip(pairs, flips)]
    return pairs


def make_batch(pairs, config) -> tuple[torch.Tensor, torch.Tensor]:
    """Problems (B, n) and answer targets (B, T), PAD-padded, as `config` (a TTMConfig) reads
    them (its input width and operand padding); T is the longest answer + EOS."""
    input_tokens = config.input_tokens
    problems = [tok.problem_tokens(a, b, config.operand_width) for a, b in pairs]
    answers = [tok.answer_tokens(a * b) for a, b in pairs]
    if max(map(len, problems)) > input_tokens:
        raise ValueError(f"a problem is longer than the model's {input_tokens} input tokens")
    steps = max(map(len, answers))
    problem = torch.full((len(pairs), input_tokens), tok.PAD, dtype=torch.long)
    target = torch.full((len(pairs), steps), tok.PAD, dtype=torch.long)
    for i, (p, a) in enumerate(zip(problems, answers)):
        problem[i, : len(p)] = torch.tensor(p)
        target[i, : len(a)] = torch.tensor(a)
    return problem, target


def cells_up_to(digits: int) -> list[tuple[int, int]]:
    return [(da, db) for da in range(1, digits + 1) for db in range(1, digits + 1)]


def cell_key(cell: tuple[int, int]) -> str:
    return f"{cell[0]}x{cell[1]}"


@dataclass
class Curriculum:
    """Stages by digit count, and within a stage, problems drawn where the model is still wrong.

    Stage k trains on every cell with both operands <= k digits. Each cell is drawn in proportion
    to its error rate (1 - exact match at the recent evaluations, smoothed), never less than
    `floor` so that mastered cells are rehearsed; a cell not yet evaluated counts as all wrong.
    So the batch follows the model: cells that are learned make room for the ones that are not,
    instead of a fixed share per cell. The stage advances when exact match on its new cells,
    averaged over the last `window` evaluations, reaches `threshold`, or after `max_stage_steps`.
    """

    final_stage: int = 3
    threshold: float = 0.9
    window: int = 3
    max_stage_steps: int = 6000
    floor: float = 0.05
    smoothing: float = 0.5          # weight of the previous estimate of a cell's exact match
    stage: int = 1
    stage_start: int = 0
    recent: list = field(default_factory=list)
    cell_exact: dict = field(default_factory=dict)  # "2x3" -> smoothed exact match

    def cells(self) -> list[tuple[int, int]]:
        return cells_up_to(self.stage)

    def new_cells(self) -> list[tuple[int, int]]:
        return [c for c in self.cells() if max(c) == self.stage]

    def cell_weight(self, cell: tuple[int, int]) -> float:
        exact = self.cell_exact.get(cell_key(cell))
        return 1.0 if exact is None else max(self.floor, 1.0 - exact)

    def sample(self, rng: np.random.Generator, count: int):
        cells = self.cells()
        return random_pairs(rng, cells, count, weights=[self.cell_weight(c) for c in cells])

    def observe(self, step: int, cell_exact: dict) -> bool:
        """Record an evaluation, {(da, db): exact match} over the stage's cells; returns True when
        the stage advanced."""
        for cell, exact in cell_exact.items():
            old = self.cell_exact.get(cell_key(cell))
            self.cell_exact[cell_key(cell)] = exact if old is None else (
                self.smoothing * old + (1 - self.smoothing) * exact)
        new = [cell_exact[c] for c in self.new_cells() if c in cell_exact]
        self.recent = (self.recent + [float(np.mean(new))])[-self.window :]
        passed = len(self.recent) == self.window and np.mean(self.recent) >= self.threshold
        forced = step - self.stage_start >= self.max_stage_steps
        if self.stage < self.final_stage and (passed or forced):
            self.stage, self.stage_start, self.recent = self.stage + 1, step, []
            return True
        return False

    def state_dict(self) -> dict:
        return asdict(self)

    def load_state_dict(self, state: dict) -> None:
        for key, value in state.items():
            setattr(self, key, value)
