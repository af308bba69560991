"""How sure the model is of a problem: the measured exact match of the problem's cell (digits of a,
digits of b), from what the checkpoint's metrics hold, and whether training ever reached the cell.

Two sources, the better first: the table `python -m ttm.evaluate CKPT --store` writes into the
checkpoint (metrics["evaluation"]: fresh seeded problems, e.g. 2000 per cell), else the trainer's
last in-run evaluation (metrics["cell_exact"], a few dozen problems per cell, so a rough figure).
A run resumed from an evaluated checkpoint keeps that table as metrics["start_evaluation"]: it no
longer measures the weights, but it is the careful figure of the step the run started from.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

WARN_BELOW = 0.9           # a cell measured below this gets a warning
# Another model is named for a weak cell when it gets the cell right at least this often (and
# clearly more often): 89% where the model in use has 0% is worth knowing, 40% is not a fix.
RECOMMEND_FROM = 0.5


def percent(rate: float) -> str:
    """A rate as a whole percent, except where rounding would misstate it: a rate that is not 0
    never reads "0%" and one that is not 1 never reads "100%" (0.001 -> "0.1%", 0.9996 -> "99.96%")."""
    digits = 0
    while digits < 3 and ((rate > 0 and round(100 * rate, digits) == 0)
                          or (rate < 1 and round(100 * rate, digits) == 100)):
        digits += 1
    return f"{100 * rate:.{digits}f}%"


def wilson_interval(rate: float, problems: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% (z = 1.96) Wilson score interval of a rate measured on `problems` problems: a few
    dozen problems leave a wide one, and unlike rate ± 2 standard errors it stays inside [0, 1]
    and does not shrink to a point at 0% or 100%."""
    shrink = 1 + z * z / problems
    centre = (rate + z * z / (2 * problems)) / shrink
    half = z * (rate * (1 - rate) / problems + z * z / (4 * problems * problems)) ** 0.5 / shrink
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class CellConfidence:
    cell: tuple[int, int]            # (digits of a, digits of b)
    exact: float | None              # measured exact match, None when the cell was never measured
    problems: int | None             # problems behind `exact` (None: not recorded)
    source: str                      # "evaluation", "training" or "none"
    trained: bool | None             # did the curriculum reach this cell (None: unknown)
    digits: tuple[float, ...] = ()   # measured accuracy per answer digit, least significant
                                     # first, from the same source (empty: not measured)
    step: int | None = None          # the training step measured (None: not recorded)

    @property
    def name(self) -> str:
        return f"{self.cell[0]}×{self.cell[1]}"

    def describe(self) -> str:
        """'3×2 problems: 96.0% exact on 2000 evaluated problems'"""
        if self.exact is None:
            return f"{self.name} problems: never measured"
        head = f"{self.name} problems: {100 * self.exact:.1f}% exact"
        if self.source == "evaluation":
            return f"{head} on {self.problems or 'fresh'} evaluated problems"
        check = "training's last check" + ("" if self.step is None else f" (step {self.step:,})")
        if not self.problems:
            return f"{head} in {check}"
        lo, hi = wilson_interval(self.exact, self.problems)
        return (f"{head} in {check}, {self.problems} problems "
                f"(95% interval {100 * lo:.0f}-{100 * hi:.0f}%)")

    def warning(self) -> str | None:
        """A sentence for the user when the answer should not be trusted, else None."""
        if self.trained is False:
            seen = "" if self.exact is None else f" (measured: right {percent(self.exact)} of the time)"
            return f"this model was never trained on {self.name} problems{seen}"
        if self.exact is not None and self.exact < WARN_BELOW:
            return f"this model gets {self.name} right {percent(self.exact)} of the time"
        return None

    def digit_trust(self, answer: int | None) -> list[tuple[str, float | None]]:
        """The digits of `answer`, as written (most significant first), each with how often this
        cell's answers have that digit right (None: not measured); empty without measurements."""
        if answer is None or not self.digits:
            return []
        written = str(answer)
        places = range(len(written) - 1, -1, -1)      # place value of each written digit
        return [(d, self.digits[k] if k < len(self.digits) else None) for d, k in zip(written, places)]


def cell_of(a: int, b: int) -> tuple[int, int]:
    return len(str(a)), len(str(b))


def cell_confidence(metrics: dict, a: int, b: int) -> CellConfidence:
    """What `metrics` (a checkpoint's, as `ttm.load` keeps them on `model.metrics`) say of a × b."""
    cell = cell_of(a, b)
    evaluation = metrics.get("evaluation") or {}
    trained = _trained(cell, evaluation.get("trained_digits", metrics.get("stage")))
    stored = _from_table(evaluation, cell, trained)
    if stored is not None:
        return stored
    key = f"{cell[0]}x{cell[1]}"
    estimate = (metrics.get("cell_exact") or {}).get(key)
    if estimate is not None:
        digits = tuple(map(float, (metrics.get("cell_digits") or {}).get(key, ())))
        return CellConfidence(cell, float(estimate), metrics.get("cell_problems"), "training",
                              trained, digits, metrics.get("cell_checked_at"))
    return CellConfidence(cell, None, None, "none", trained)


def start_confidence(metrics: dict, a: int, b: int) -> CellConfidence | None:
    """What the stored table of the checkpoint a training run started from says of a × b's cell
    (metrics["start_evaluation"], with its step), when the run has moved on from those weights
    and the table is still kept; else None."""
    table = metrics.get("start_evaluation") or {}
    if metrics.get("evaluation") or not table:
        return None
    cell = cell_of(a, b)
    return _from_table(table, cell, _trained(cell, table.get("trained_digits")))


def _trained(cell: tuple[int, int], stage) -> bool | None:
    """Did a curriculum that reached operands of `stage` digits train on `cell` (None: unknown)."""
    return None if stage is None else max(cell) <= int(stage)


def _from_table(evaluation: dict, cell: tuple[int, int], trained: bool | None) -> CellConfidence | None:
    for record in evaluation.get("cells", []):
        if (record["a_digits"], record["b_digits"]) == cell:
            return CellConfidence(cell, float(record["exact_match"]), evaluation.get("per_cell"),
                                  "evaluation", trained,
                                  tuple(map(float, record.get("digit_accuracy", ()))),
                                  evaluation.get("step"))
    return None


def tables_beside(checkpoint) -> dict[str, dict]:
    """path -> metrics of every other checkpoint in `checkpoint`'s folder that carries a stored
    evaluation table: the models a person could run instead (models/ holds two). Files that are
    no readable checkpoint are passed over: this is advice, not loading."""
    from ttm.checkpoint import CheckpointError, read
    skip = Path(checkpoint).resolve()
    tables = {}
    for path in sorted(Path(checkpoint).parent.glob("*.pt")):
        if path.resolve() == skip:
            continue
        try:
            metrics = read(path).get("metrics") or {}
        except CheckpointError:
            continue
        if metrics.get("evaluation"):
            tables[str(path)] = metrics
    return tables


def better_elsewhere(tables: dict[str, dict], a: int, b: int,
                     than: CellConfidence) -> tuple[str, CellConfidence] | None:
    """The model among `tables` (tables_beside) that gets a × b's cell right most often, when it
    does so at least RECOMMEND_FROM and clearly better than `than` (10 points); else None."""
    best = None
    for path, metrics in tables.items():
        other = cell_confidence(metrics, a, b)
        if other.source == "evaluation" and other.exact >= RECOMMEND_FROM and (best is None or other.exact > best[1].exact):
            best = (path, other)
    if best is None or (than.exact is not None and best[1].exact < than.exact + 0.1):
        return None
    return best
