"""Exact match and token accuracy of greedy answers, overall and per (digits of a, digits of b)."""
from __future__ import annotations

import numpy as np
import torch

from . import tokens as tok
from .data import random_pairs


def score(model, pairs, batch_size: int = 500) -> tuple[float, float]:
    """(exact match, token accuracy) of the model's greedy answers on `pairs`.

    Token accuracy compares the answer position by position, EOS included, against the target.
    """
    exact = correct_tokens = total_tokens = 0
    was_training = model.training
    model.eval()
    try:
        for i in range(0, len(pairs), batch_size):
            chunk = pairs[i : i + batch_size]
            for (a, b), produced in zip(chunk, model.generate(chunk)):
                target = tok.answer_tokens(a * b)
                exact += produced == target
                correct_tokens += sum(p == t for p, t in zip(produced, target))
                total_tokens += len(target)
    finally:
        model.train(was_training)
    return exact / len(pairs), correct_tokens / total_tokens


def cell_table(model, max_digits: int, per_cell: int, seed: int = 1234,
               progress=None) -> dict[tuple[int, int], tuple[float, float]]:
    """{(da, db): (exact match, token accuracy)} on fresh seeded problems, per cell up to max_digits.

    Each cell has its own generator seeded from (seed, da, db), so a cell's problems do not depend
    on which other cells are evaluated.
    """
    table = {}
    for da in range(1, max_digits + 1):
        for db in range(1, max_digits + 1):
            rng = np.random.default_rng([seed, da, db])
            pairs = random_pairs(rng, [(da, db)], per_cell, swap=False)
            with torch.no_grad():
                table[(da, db)] = score(model, pairs)
            if progress:
                progress((da, db), table[(da, db)])
    return table


def format_table(table, which: int = 0) -> str:
    """A Markdown table of exact match (which=0) or token accuracy (which=1), in percent."""
    n = max(max(k) for k in table)
    lines = ["| a \\ b | " + " | ".join(f"{db} digit{'s' * (db > 1)}" for db in range(1, n + 1)) + " |",
             "|---" * (n + 1) + "|"]
    for da in range(1, n + 1):
        cells = [f"{100 * table[(da, db)][which]:.1f}" if (da, db) in table else "" for db in range(1, n + 1)]
        lines.append(f"| {da} digit{'s' * (da > 1)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
