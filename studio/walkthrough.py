"""A trace told in words, step by step: what went in, which digit came out, what the read focused
on, where the write drew from, and which memory slots changed most.

Used by `demo.py --text` (the whole walk-through in the terminal) and by the demo and app panels
(one step at a time), so the words and the 3-D view always agree.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ttm import Trace
from ttm import tokens as tok
from ttm.confidence import (CellConfidence, better_elsewhere, cell_confidence, percent,
                             start_confidence)
from ttm.probes import HELD, DigitProbes, held_in_one_slot


# The source tokens of a write's weights, in column order, for each write rule of ttm.model.
def segments(trace: Trace, name: str) -> dict[str, int]:
    """Which source columns of read/write weights are memory, processed and input tokens, in order,
    as the trace's model config says. A trace whose config is unknown has one segment of sources."""
    if trace.config is None:
        return {"source": trace[name].shape[-1]}
    return trace.config.sources(name)


def source_label(trace: Trace, name: str, column: int, step: int | None = None) -> str:
    """Human name of column `column` of read/write weights: "memory slot 12", "input 2 '×'"..."""
    start = 0
    for segment, length in segments(trace, name).items():
        if column < start + length:
            i = column - start
            if segment == "input":
                if step is None:
                    return f"input {i}"
                return f"input {i} '{tok.SYMBOLS[int(trace['inputs'][step][i])]}'"
            if segment == "memory":
                return f"memory slot {i}"
            return f"{segment} token {i}"
        start += length
    return f"column {column}"


CARRY_SLACK = 1.0    # carries: how far the carry probe may read from the truth unremarked
UNSURE = 0.5         # a right token produced at less than this probability gets its rivals named
GUESS = 0.2          # a wrong token produced at less than this is called a guess (ten digits: 0.1 each)


@dataclass
class StepReport:
    step: int
    inputs: str                          # the tokens fed at this step, e.g. "37×42<EOS>" or "4"
    digit: str                           # the token produced ("5", "<EOS>")
    probability: float                   # the model's probability of that token
    answer_so_far: str                   # digits produced up to here, most significant first
    read_focus: list[tuple[str, float]]  # (source, share of all read weight), largest first
    read_split: dict[str, float]         # share of read weight per segment (memory, input)
    write_split: dict[str, float]        # share of write weight per segment
    memory_changes: list[tuple[int, float]]  # (slot, norm of its vector's change), largest first
    mean_change: float                   # mean norm of change over all slots
    carry: tuple[float, int] | None = None   # (what the model's carry probe reads in the memory
                                             # after this step, the true carry out of this
                                             # digit's column); None: no probe, or past the digits
    choices: tuple[tuple[str, float], ...] = ()   # the model's likeliest tokens here, (token, p),
                                                  # most likely first
    expected: tuple[str, float, int] | None = None  # (the token the true product has here, the
                                                    # model's p of it, its rank among the model's
                                                    # choices, 1 = first); None past the product's end

    @property
    def wrong(self) -> bool:
        """The token produced is not the one the true product has at this step."""
        return self.expected is not None and self.expected[0] != self.digit

    @property
    def carry_lost(self) -> bool:
        """The probe reads more than CARRY_SLACK away from the true carry: memory passes on a
        wrong carry here (within it, a linear read is too rough to say)."""
        return self.carry is not None and abs(self.carry[0] - self.carry[1]) > CARRY_SLACK


def _split(weights: torch.Tensor, parts: dict[str, int]) -> dict[str, float]:
    """Share of the total weight that falls in each segment of the last axis."""
    total = float(weights.sum()) or 1.0
    shares, start = {}, 0
    for name, length in parts.items():
        shares[name] = float(weights[..., start : start + length].sum()) / total
        start += length
    return shares


def step_report(trace: Trace, t: int, top: int = 3) -> StepReport:
    if not 0 <= t < trace.steps:
        raise IndexError(f"step {t} is outside this trace's steps 0..{trace.steps - 1}")
    inputs = [i for i in trace["inputs"][t].tolist() if i != tok.PAD]
    produced = trace["prediction"][t].item()
    probabilities = torch.softmax(trace["logits"][t].float(), dim=-1)
    p = probabilities[produced].item()
    ranked = probabilities.argsort(descending=True).tolist()
    choices = tuple((tok.SYMBOLS[i], probabilities[i].item()) for i in ranked[:top])
    target = tok.answer_tokens(trace.expected)
    expected = None
    if t < len(target):
        expected = (tok.SYMBOLS[target[t]], probabilities[target[t]].item(), ranked.index(target[t]) + 1)
    digits = [d for d in trace.answer_tokens[: t + 1] if d in tok.DIGITS]
    stop = next((i for i, d in enumerate(trace.answer_tokens[: t + 1]) if d not in tok.DIGITS), None)
    if stop is not None:  # the answer ends at its first non-digit, as ttm.tokens reads it
        digits = trace.answer_tokens[:stop]

    read = trace["read.weights"][t].float()                     # (r, m+n)
    per_source = read.sum(0) / max(float(read.sum()), 1e-12)    # (m+n,)
    k = min(top, per_source.numel())
    values, cols = per_source.topk(k)
    focus = [(source_label(trace, "read.weights", int(c), t), float(v)) for v, c in zip(values, cols)]

    write_split = {}
    if "write.weights" in trace:
        write_split = _split(trace["write.weights"][t].float(), segments(trace, "write.weights"))

    memory = trace["memory"].float()
    delta = (memory[t + 1] - memory[t]).norm(dim=-1)            # (m,)
    k = min(top, delta.numel())
    changes = [(int(i), float(v)) for v, i in zip(*delta.topk(k))] if k else []
    return StepReport(
        step=t, inputs=tok.tokens_to_string(inputs), digit=tok.SYMBOLS[produced], probability=p,
        answer_so_far="".join(str(d) for d in reversed(digits)),
        read_focus=focus, read_split=_split(read, segments(trace, "read.weights")),
        write_split=write_split, memory_changes=changes,
        mean_change=float(delta.mean()) if delta.numel() else 0.0, carry=_carry(trace, t),
        choices=choices, expected=expected)


def _carry(trace: Trace, t: int) -> tuple[float, int] | None:
    """(the carry probe's reading of the memory after step t, the true carry out of column t),
    for a model trained with the probe and a step that produces a digit of the true product."""
    carries = tok.carries(trace.a, trace.b)
    readout = getattr(trace.model, "carry_readout", None)
    if readout is None or t >= len(carries):
        return None
    held = readout(trace["memory"][t + 1])
    return None if held is None else (float(held), carries[t])


def _percent(split: dict[str, float]) -> str:
    return ", ".join(f"{name} {100 * share:.0f}%" for name, share in split.items())


PLAIN, UNSURE_TONE, WRONG_TONE = "plain", "unsure", "wrong"   # how a panel colours a step line


def step_lines(report: StepReport) -> list[tuple[str, str]]:
    """The lines of one step with their tones (PLAIN, UNSURE_TONE, WRONG_TONE), without the step
    header's indentation: what went in and came out, then the product's token where the model
    missed it or its rivals where it was unsure, the read, the write, memory, and the carry last."""
    r = report
    lines = [(f"input {r.inputs:<12} -> produced {r.digit} (p {r.probability:.2f})"
              + (f"   answer so far: {r.answer_so_far}" if r.answer_so_far else ""), PLAIN)]
    choice = choice_line(r)
    if choice:
        lines.append((choice, WRONG_TONE if r.wrong else UNSURE_TONE))
    focus = ", ".join(f"{label} {100 * w:.0f}%" for label, w in r.read_focus)
    lines.append((f"read   ({_percent(r.read_split)}) focused on: {focus}", PLAIN))
    if r.write_split:
        lines.append((f"write  drew from: {_percent(r.write_split)}", PLAIN))
    if r.memory_changes:
        changes = ", ".join(f"slot {slot} (by {d:.2f})" for slot, d in r.memory_changes)
        lines.append((f"memory changed most: {changes}; mean change per slot {r.mean_change:.2f}", PLAIN))
    held = carry_line(r)
    if held:
        lines.append((held, UNSURE_TONE if r.carry_lost else PLAIN))
    return lines


def format_step(report: StepReport) -> list[str]:
    """The lines of one step, as text (step_lines without their tones)."""
    return [line for line, _ in step_lines(report)]


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def choice_line(report: StepReport) -> str | None:
    """Where the step went wrong, what the product has there and how likely the model found it:
    "wrong  the product has 5 here: the model gave it p 0.10, its 3rd choice" (and "a guess" when
    nothing was above GUESS); where the right
    token won narrowly (p < UNSURE), what it beat: "unsure  next choices 3 (p 0.20), 8 (p 0.15)".
    None for a confident right step and for steps past the product's end."""
    r = report
    if r.wrong:
        token, p, rank = r.expected
        here = "ends here: the model gave <EOS>" if token == "<EOS>" else f"has {token} here: the model gave it"
        guess = f"; no token above p {r.probability:.2f}: a guess" if r.probability < GUESS else ""
        return f"wrong  the product {here} p {p:.2f}, its {_ordinal(rank)} choice{guess}"
    if r.expected is not None and r.probability < UNSURE:
        rivals = [f"{token} (p {p:.2f})" for token, p in r.choices if token != r.digit]
        return f"unsure  next choices {', '.join(rivals)}" if rivals else None
    return None


def carry_line(report: StepReport) -> str | None:
    """"carry  the probe reads 3.2 in memory; the true carry out is 3", with how far off when
    the reading is lost (`report.carry_lost`); None where the step has no carry reading."""
    if report.carry is None:
        return None
    held, true = report.carry
    return (f"carry  the probe reads {held:.1f} in memory; the true carry out is {true}"
            + (f" ({abs(held - true):.1f} too {'high' if held > true else 'low'})"
               if report.carry_lost else ""))


def outcome(trace: Trace, explain: bool = False) -> str:
    """"1554 (correct)", "1594 (wrong)", or with `explain` "1594 (wrong, the answer is 1554)"."""
    answer = "no digits" if trace.answer is None else str(trace.answer)
    return f"{answer} {verdict_mark(trace, explain)}"


def verdict_mark(trace: Trace, explain: bool = False) -> str:
    """"(correct)", "(wrong)", or with `explain` "(wrong, the answer is 1554)"."""
    if trace.correct:
        return "(correct)"
    return f"(wrong, the answer is {trace.expected})" if explain else "(wrong)"


def verdict(trace: Trace) -> str:
    """"37 × 42 = 1554 (correct)": the last line of a walk-through."""
    return f"{trace.problem} = {outcome(trace, explain=True)}"


def guess_note(report: StepReport) -> str | None:
    """For the Why? panel: a step whose answer is a guess (p < GUESS) flips under any nudge, so
    "flips answer" says little about a slot there: "step 4's 2 is a guess (p 0.11; 7 at 0.10):
    any slot can flip it"."""
    if report.probability >= GUESS:
        return None
    rival = next(((token, p) for token, p in report.choices if token != report.digit), None)
    ahead = f"; {rival[0]} at {rival[1]:.2f}" if rival else ""
    return f"step {report.step}'s {report.digit} is a guess (p {report.probability:.2f}{ahead}): any slot can flip it"


@dataclass(frozen=True)
class Miss:
    """Where a wrong answer first left the product: its step, and that said in words."""
    step: int
    line: str


def first_miss(trace: Trace) -> Miss | None:
    """Where a wrong answer first left the product, and, with the carry probe, whether memory
    brought the right carry into that column: "first wrong at step 4 (the 5th digit from the
    right): 2 for 5; the carry memory brought in reads 5.8 against 6, right within a carry, so
    this column's own sum went wrong". None for a right answer."""
    if trace.correct:
        return None
    reports = [step_report(trace, t) for t in range(trace.steps)]
    miss = next((r for r in reports if r.wrong), None)
    if miss is None:
        return None
    token = miss.expected[0]
    place = "where the product ends" if token == "<EOS>" else f"the {_ordinal(miss.step + 1)} digit from the right"
    line = f"first wrong at step {miss.step} ({place}): {miss.digit} for {token}"
    brought = reports[miss.step - 1] if miss.step > 0 else None
    if brought is not None and brought.carry is not None:
        held, true = brought.carry
        line += (f"; the carry memory brought in reads {held:.1f} against {true}, "
                 + ("so it was lost before this column" if brought.carry_lost
                    else "right within a carry, so this column's own sum went wrong"))
    return Miss(miss.step, line)


def step_summary(report: StepReport, steps: int) -> str:
    """"step 2 (0-4): input 5, produced 5 (p 0.98)": one line for the timeline; a wrong step adds
    what the product has there, "...produced 2 (p 0.11); the product has 5 here (p 0.10, 3rd choice)"."""
    r = report
    line = f"step {r.step} (0-{steps - 1}): input {r.inputs}, produced {r.digit} (p {r.probability:.2f})"
    if r.wrong:
        token, p, rank = r.expected
        here = "ends here" if token == "<EOS>" else f"has {token} here"
        line += f"; the product {here} (p {p:.2f}, {_ordinal(rank)} choice)"
    return line


def how_sure(trace: Trace, metrics: dict | None, others: dict[str, dict] | None = None, *,
             timed: bool = True, digit_line: bool = True, switch: str = "--checkpoint") -> list[str]:
    """How far to trust the answer: the run's time, the measured exact match of the problem's
    cell (from the checkpoint's metrics), a warning when that cell is weak or never trained with
    how often each digit of the answer is right, and then which of `others`
    (ttm.confidence.tables_beside) does it better, if one does. A panel that shows the time or
    the digits its own way leaves them out (`timed`, `digit_line`); `switch` is the program's
    flag that runs another checkpoint (the demo's --checkpoint, the app's --resume)."""
    confidence = cell_confidence(metrics or {}, trace.a, trace.b)
    lines = []
    if timed and trace.seconds is not None:
        lines.append(timing(trace))
    lines.append(confidence.describe())
    start = start_confidence(metrics or {}, trace.a, trace.b)
    if start is not None and confidence.source == "training":
        lines.append(start_line(start))
    warning = confidence.warning()
    if warning:
        lines.append(f"warning: {warning}")
        trust = confidence.digit_trust(trace.answer)
        if trust and digit_line:
            lines.append(digit_trust_line(confidence.name, trust))
        better = better_elsewhere(others or {}, trace.a, trace.b, confidence)
        if better is not None:
            path, other = better
            lines.append(f"{path} gets {other.name} right {percent(other.exact)} of the time: "
                         f"{switch} {path}")
    return lines


def start_line(start: CellConfidence) -> str:
    """"at step 97,901, where this run started: 0.3% exact on 2000 evaluated problems": the careful
    figure beside training's rough one, while the weights are still close to those it measured."""
    where = "where this run started" if start.step is None else f"at step {start.step:,}, where this run started"
    return f"{where}: {100 * start.exact:.1f}% exact on {start.problems or 'fresh'} evaluated problems"


def timing(trace: Trace) -> str:
    """"computed in 29 ms", for a timed trace (trace.seconds set)."""
    return f"computed in {1000 * trace.seconds:.0f} ms"


def digit_trust_line(cell: str, trust: list[tuple[str, float | None]]) -> str:
    """"digit by digit, 4×4 answers are right: 7 81%, 4 10%, ..., 2 100%"."""
    parts = [f"{d} {'?' if p is None else percent(p)}" for d, p in trust]
    return f"digit by digit, {cell} answers are right: {', '.join(parts)}"


def held_line(found: DigitProbes, k: int) -> str | None:
    """"holds  in one slot (90%+): a's units, ...; in none: the product's tens": the digit
    probes of the memory entering step k; None past the probed states."""
    if not 0 <= k < found.states:
        return None
    told, lost = held_in_one_slot(found, k)
    held = f"holds  in one slot ({100 * HELD:.0f}%+ of held-out problems): {', '.join(told) or 'no digit'}"
    return held + (f"; in none: {', '.join(lost)}" if lost else "")


def format_walkthrough(trace: Trace, top: int = 3, metrics: dict | None = None,
                       others: dict[str, dict] | None = None,
                       probes: DigitProbes | None = None) -> str:
    """The whole run in words: a header, one block per step (with `probes`, ttm.probes' of the
    trace's cell, what the memory after it holds), the verdict and, given the checkpoint's
    metrics, how far to trust it (and which of `others` does better)."""
    lines = [f"{trace.problem}: {trace.steps} steps, one answer digit per step, "
             "least significant first", ""]
    for t in range(trace.steps):
        body = format_step(step_report(trace, t, top))
        held = held_line(probes, t + 1) if probes is not None else None
        lines.append(f"step {t}: {body[0]}")
        lines += [f"        {line}" for line in body[1:] + ([held] if held else [])]
    miss = first_miss(trace)
    lines += ["", verdict(trace)] + ([miss.line] if miss else [])
    if metrics is not None:
        lines += how_sure(trace, metrics, others)
    return "\n".join(lines)
