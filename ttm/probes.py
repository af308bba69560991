"""Where memory keeps each digit: linear probes on single memory slots.

For one cell (digits of a × digits of b), `digit_probes` runs random problems greedily and asks,
for every memory state (the memory entering step k) and every slot, how well a linear read of
that slot's d numbers alone tells each digit of a, of b and of the product: ridge regression onto
the digit's one-hot code, fitted in closed form on some problems and scored on others, so a probe
that memorised its problems scores no better than chance. A slot whose probe tells a's tens on
99% of the held-out problems (chance, what a probe that learnt nothing scores: about 10%) holds
that digit in a form a linear read can take; a digit that no single slot tells is spread over several slots, or
not kept at all.

`python -m ttm.probes models/ttm-multiply.pt --cell 2x2` prints, per memory state, each digit's
best slot and how many slots tell it.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import numpy as np
import torch

from .data import random_operands
from .model import evaluating

RIDGE = 0.01          # ridge strength per fitted problem, on standardized slot features
HELD = 0.9            # a slot "tells" a digit when its probe is right this often on held-out problems
PLACES = ("units", "tens", "hundreds", "thousands", "ten-thousands", "hundred-thousands",
          "millions", "ten-millions")


def place(i: int) -> str:
    return PLACES[i] if i < len(PLACES) else f"10^{i}"


def digit_label(digit: str) -> str:
    """"a1" -> "a's tens", "p0" -> "the product's units"."""
    owner = {"a": "a's", "b": "b's", "p": "the product's"}[digit[0]]
    return f"{owner} {place(int(digit[1:]))}"


@dataclass(frozen=True)
class SlotHold:
    """How one digit is held in one memory state: its best slot and how many slots tell it."""
    digit: str
    best_slot: int
    best: float           # held-out accuracy of the best slot's probe
    slots_telling: int    # slots whose probe is right at least HELD of the time
    chance: float


@dataclass(frozen=True)
class DigitProbes:
    cell: tuple[int, int]
    digits: tuple[str, ...]     # "a0", "a1", ..., "b0", ..., "p0", ... (units first)
    accuracy: torch.Tensor      # [K, m, D] held-out accuracy, memory entering step k, slot s
    chance: torch.Tensor        # [D] held-out accuracy of a probe that learnt nothing
    fitted: int                 # problems the probes were fitted on
    held_out: int               # problems they were scored on

    @property
    def states(self) -> int:
        return self.accuracy.shape[0]

    def holds(self, k: int) -> list[SlotHold]:
        """Each digit in the memory entering step k, in `digits` order."""
        acc = self.accuracy[k]                                   # [m, D]
        best, slot = acc.max(dim=0)
        telling = (acc >= HELD).sum(dim=0)
        return [SlotHold(d, int(slot[i]), float(best[i]), int(telling[i]), float(self.chance[i]))
                for i, d in enumerate(self.digits)]

    def slot(self, k: int, s: int) -> list[tuple[str, float]]:
        """(digit, accuracy) for slot s of the memory entering step k, best told first."""
        acc = self.accuracy[k, s]
        order = torch.argsort(acc, descending=True).tolist()
        return [(self.digits[i], float(acc[i])) for i in order]


def over_chance(accuracy, chance) -> np.ndarray:
    """Accuracy as a share of the way from chance (0) to always right (1); below chance it is
    negative, down to -1. How the app colours a probe."""
    accuracy, chance = np.asarray(accuracy, np.float32), np.asarray(chance, np.float32)
    return np.clip((accuracy - chance) / np.maximum(1.0 - chance, 1e-6), -1.0, 1.0)


def held_in_one_slot(found: "DigitProbes", k: int) -> tuple[list[str], list[str]]:
    """The digits of the memory entering step k that some single slot tells HELD of the time or
    more, and those none does, by their labels ("a's units")."""
    held = found.holds(k)
    return ([digit_label(h.digit) for h in held if h.best >= HELD],
            [digit_label(h.digit) for h in held if h.best < HELD])


def parse_cell(text: str) -> tuple[int, int]:
    """"2x3" -> (2, 3): the command lines' type for a cell (argparse shows the message)."""
    try:
        da, db = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write a cell as digits of a x digits of b, "
                                         "e.g. 2x3") from None
    return da, db


def digit_names(cell: tuple[int, int]) -> tuple[str, ...]:
    """The digits probed in a cell: a's, b's and the product's, units first ("a0", ..., "p0", ...)."""
    da, db = cell
    return tuple(f"{owner}{i}" for owner, count in (("a", da), ("b", db), ("p", da + db))
                 for i in range(count))


def digit_labels(a: np.ndarray, b: np.ndarray, cell: tuple[int, int]) -> np.ndarray:
    """[N, D]: the value of each of `digit_names(cell)` in each problem (a product shorter than
    da + db digits has 0 in its missing leading places)."""
    numbers = {"a": a, "b": b, "p": a * b}
    return np.stack([(numbers[name[0]] // 10 ** int(name[1:])) % 10 for name in digit_names(cell)],
                    axis=1).astype(np.int64)


def fit_slot_probes(states, labels: torch.Tensor, fit: int, ridge: float = RIDGE,
                    on_state=None) -> tuple[torch.Tensor, torch.Tensor]:
    """states: memory states, each [N, m, d] (a [K, N, m, d] tensor, or any sequence, even a
    generator that makes each as it is wanted), labels [N, D] of values 0-9 -> (accuracy
    [K, m, D] of each slot's probe on problems fit.., chance [D]: the accuracy there of a probe
    that learnt nothing). Every (state, slot) gets one ridge regression from its d standardized
    numbers (and a bias) onto the one-hot codes of all D digits at once, fitted on problems
    ..fit. `on_state(done)` is called after each state."""
    N, D = labels.shape
    if not 0 < fit < N:
        raise ValueError(f"fit must leave problems to score on: 0 < fit < {N}, got {fit}")
    target = torch.nn.functional.one_hot(labels[:fit], 10).float().flatten(1)    # [fit, D*10]
    truth = labels[fit:]                                                           # [N-fit, D]
    accuracy = []
    for state in states:
        x = state.float().transpose(0, 1)                                          # [m, N, d]
        m, _, d = x.shape
        mean = x[:, :fit].mean(dim=1, keepdim=True)
        std = x[:, :fit].std(dim=1, keepdim=True).clamp_min(1e-6)
        x = torch.cat([(x - mean) / std, torch.ones(m, N, 1)], dim=-1)            # [m, N, d+1]
        fitted = x[:, :fit]
        shrink = torch.eye(d + 1) * ridge * fit
        shrink[-1, -1] = 0.0                # the bias is not shrunk
        weights = torch.linalg.solve(fitted.transpose(1, 2) @ fitted + shrink,
                                     fitted.transpose(1, 2) @ target)              # [m, d+1, D*10]
        guess = (x[:, fit:] @ weights).view(m, N - fit, D, 10).argmax(dim=-1)     # [m, N-fit, D]
        accuracy.append((guess == truth).float().mean(dim=1))
        if on_state is not None:
            on_state(len(accuracy))
    # What a probe that learnt nothing scores: the fitted problems' commonest value, always.
    commonest = torch.mode(labels[:fit], dim=0).values                            # [D]
    chance = (truth == commonest).float().mean(dim=0)
    return torch.stack(accuracy), chance


@torch.no_grad()
def memory_states(model, pairs, states: int):
    """The memory entering steps 0..states-1 of each problem's greedy run, one [N, m, d] CPU
    tensor at a time (all at once, 768 problems of 4×4 would hold 300 MB)."""
    problem = model.problem_batch(pairs)
    memory = model.initial_memory(len(pairs))
    yield memory.float().cpu()
    made = 1
    with evaluating(model):
        for _, _, memory, _, _ in model.rollout(memory, problem):
            if made == states:
                return
            yield memory.float().cpu()
            made += 1
    if made < states:
        raise ValueError(f"the runs ended after {made - 1} steps, before state {states - 1}")


def digit_probes(model, cell: tuple[int, int], problems: int = 768, fit: int = 512,
                 seed: int = 0, on_state=None) -> DigitProbes:
    """Probe every slot of every memory state of `cell`'s problems (see the module docstring).
    The states run from the initial memory to the one after the shortest product's last digit
    (later ones exist for some problems only). `on_state(done, total)` after each state."""
    da, db = cell
    top = model.config.max_digits
    if not (1 <= da <= top and 1 <= db <= top):
        raise ValueError(f"cell {da}x{db}: this model takes operands of 1 to {top} digits")
    rng = np.random.default_rng(seed)
    a, b = random_operands(rng, da, problems), random_operands(rng, db, problems)
    digits, labels = digit_names(cell), digit_labels(a, b, cell)
    shortest = min(len(str(int(x) * int(y))) for x, y in zip(a, b))
    states = memory_states(model, list(zip(a.tolist(), b.tolist())), shortest + 1)
    progress = None if on_state is None else (lambda done: on_state(done, shortest + 1))
    accuracy, chance = fit_slot_probes(states, torch.from_numpy(labels), fit, on_state=progress)
    return DigitProbes(cell, digits, accuracy, chance, fit, problems - fit)


def describe_state(probes: DigitProbes, k: int) -> list[str]:
    """One line per digit of the memory entering step k: who tells it best and how many slots."""
    lines = []
    for h in probes.holds(k):
        kept = (f"{h.slots_telling} slots tell it" if h.slots_telling else
                "no slot tells it" + (" (best at chance)" if h.best <= h.chance + 0.05 else ""))
        lines.append(f"  {digit_label(h.digit):<32} best slot {h.best_slot:>3}: {100 * h.best:5.1f}%  "
                     f"(chance {100 * h.chance:.0f}%); {kept}")
    return lines


def main(argv=None) -> int:
    from .checkpoint import load
    parser = argparse.ArgumentParser(prog="python -m ttm.probes", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("--cell", type=parse_cell, default=(2, 2),
                        help="digits of a x digits of b (default: 2x2)")
    parser.add_argument("--problems", type=int, default=768, help="problems run (default: 768)")
    parser.add_argument("--fit", type=int, default=512,
                        help="of which the probes are fitted on (default: 512; the rest score them)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    da, db = args.cell
    try:
        model = load(args.checkpoint)
        probes = digit_probes(model, (da, db), args.problems, args.fit, args.seed)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"{da}x{db}: linear probes on single memory slots, fitted on {probes.fitted} problems, "
          f"scored on {probes.held_out} others; a slot tells a digit when it is right "
          f"{100 * HELD:.0f}% of the time")
    for k in range(probes.states):
        print(f"memory entering step {k}" + (" (the learned initial memory)" if k == 0 else
                                             f" (after step {k - 1})"))
        print("\n".join(describe_state(probes, k)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
