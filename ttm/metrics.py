"""Exact match, token and digit accuracy of greedy answers, overall and per cell (digits of a, b)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from . import markdown
from . import tokens as tok
from .data import make_batch, random_pairs
from .model import evaluating


class Score(NamedTuple):
    exact: float                            # share of answers right in full
    token_accuracy: float                   # share of answer positions right, EOS included
    digit_accuracy: tuple[float, ...] = ()  # per answer digit, least significant first: share
                                            # right among the answers that have that digit


def score(model, pairs, batch_size: int = 500) -> Score:
    """How well the model's greedy answers to `pairs` match the products.

    Token accuracy compares the answer position by position, EOS included, against the target;
    digit accuracy does so per digit position, which tells which digits of an answer to trust.
    """
    exact = correct_tokens = total_tokens = 0
    width = max(len(str(a)) + len(str(b)) for a, b in pairs)  # the most digits a product has
    digit_right, digit_seen = np.zeros(width), np.zeros(width)
    with evaluating(model):
        for i in range(0, len(pairs), batch_size):
            chunk = pairs[i : i + batch_size]
            for (a, b), produced in zip(chunk, model.generate(chunk)):
                target = tok.answer_tokens(a * b)
                hits = [p == t for p, t in zip(produced, target)]  # a short answer misses the rest
                exact += produced == target
                correct_tokens += sum(hits)
                total_tokens += len(target)
                digits = len(target) - 1                            # the last token is EOS
                digit_seen[:digits] += 1
                digit_right[: min(digits, len(hits))] += hits[:digits]
    measured = digit_seen > 0                                       # a prefix of the positions
    return Score(exact / len(pairs), correct_tokens / total_tokens,
                 tuple((digit_right[measured] / digit_seen[measured]).tolist()))


def cell_table(model, max_digits: int, per_cell: int, seed: int = 1234,
               progress=None) -> dict[tuple[int, int], Score]:
    """{(da, db): Score} on fresh seeded problems, per cell up to max_digits.

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


def format_cells(cell_exact: dict) -> str:
    """{"2x2": 0.71, ...} as one line of percentages, e.g. "1x1 100%  2x2 71%"."""
    return "  ".join(f"{cell} {100 * exact:.0f}%" for cell, exact in cell_exact.items())


def cell_grid(cell_exact: dict) -> list[list[float | None]]:
    """{"2x3": 0.9, ...} as rows by digits of a and columns by digits of b, from 1 to the most
    digits measured (None where a cell was not measured)."""
    cells = {tuple(int(d) for d in key.split("x")): rate for key, rate in cell_exact.items()}
    n = max((max(cell) for cell in cells), default=0)
    return [[cells.get((a, b)) for b in range(1, n + 1)] for a in range(1, n + 1)]


def format_table(table, which: int = 0) -> str:
    """A Markdown table of exact match (which=0) or token accuracy (which=1), in percent."""
    n = max(max(k) for k in table)
    digits = lambda k: f"{k} digit{'s' * (k > 1)}"  # noqa: E731
    rows = [[digits(da)] + [f"{100 * table[(da, db)][which]:.1f}" if (da, db) in table else ""
                            for db in range(1, n + 1)] for da in range(1, n + 1)]
    return markdown.table(["a \\ b"] + [digits(db) for db in range(1, n + 1)], rows)


def format_digit_table(table) -> str:
    """A Markdown table of digit accuracy in percent: a row per cell that has it, a column per
    answer digit counted from the right ("" where the cell's products have no such digit)."""
    scored = {cell: s for cell, s in sorted(table.items()) if s.digit_accuracy}
    width = max((len(s.digit_accuracy) for s in scored.values()), default=0)
    percent = lambda s, k: f"{100 * s.digit_accuracy[k]:.1f}" if k < len(s.digit_accuracy) else ""  # noqa: E731
    rows = [[f"{da}×{db}"] + [percent(s, k) for k in range(width)] for (da, db), s in scored.items()]
    header = ["cell \\ digit from the right"] + [str(k + 1) for k in range(width)]
    return markdown.table(header, rows)


def teacher_forced_loss(model, pairs, batch_size: int = 500) -> float:
    """Mean cross-entropy per answer token under teacher forcing, in eval mode (no dropout)."""
    total = tokens = 0.0
    with evaluating(model), torch.no_grad():
        for i in range(0, len(pairs), batch_size):
            problem, target = make_batch(pairs[i : i + batch_size], model.config)
            _, loss = model(problem.to(model.device), target.to(model.device))
            count = int((target != tok.PAD).sum())
            total, tokens = total + loss.item() * count, tokens + count
    return total / tokens


def table_records(table) -> list[dict]:
    """The cell table as JSON-ready rows, in cell order."""
    return [{"a_digits": da, "b_digits": db, "exact_match": s.exact,
             "token_accuracy": s.token_accuracy, "digit_accuracy": list(s.digit_accuracy)}
            for (da, db), s in sorted(table.items())]


def table_from_records(records: list[dict]) -> dict[tuple[int, int], Score]:
    """Inverse of table_records: the cell table back from its JSON rows (rows written before
    digit accuracy was measured have none)."""
    return {(r["a_digits"], r["b_digits"]): Score(r["exact_match"], r["token_accuracy"],
                                                  tuple(r.get("digit_accuracy", ())))
            for r in records}


def table_mean(table, cells=None) -> tuple[float, float]:
    """Unweighted mean (exact match, token accuracy) over `cells` (default: all of them); every
    cell has the same number of problems, so this is also the mean over problems."""
    values = [table[c] for c in (cells if cells is not None else table)]
    return float(np.mean([v[0] for v in values])), float(np.mean([v[1] for v in values]))
