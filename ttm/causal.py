"""Why did it answer that? Causal tools on a recorded Trace.

- `ablate_slots` / `slot_effects`: for each memory slot, how much the traced answer's log-probability
  drops when that slot alone is ablated entering step t. All m ablations (and the unablated baseline)
  run as one batch, teacher-forced on the traced answer, so an effect is defined even where the
  ablated run would answer differently; whether it would is read off the same run (the greedy run
  equals the teacher-forced one up to the first step whose argmax leaves the traced token).
- `effect_map`: the same for every step at once, one batch that grows as steps are reached: a
  steps x slots map of which memory matters for which answer digit.
- `graph_changes`: one step's torch.fx graph run twice by an Interpreter, on the recorded inputs
  and on intervened ones; each node's relative change says where an edit flowed.

Interventions (a memory, or `overrides` of hooked activations) are the same ones `Trace.replay`
takes, so what the causal view shows is what a replay would do.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import torch
import torch.fx as fx

from . import tokens as tok
from .data import make_batch, random_pairs
from .graph import step_module
from .hooks import HookPoint, capture
from .model import evaluating

ABLATIONS = ("zero", "mean", "source")
MEAN_PROBLEMS = 256        # random problems behind a "mean" ablation
MEAN_SEED = 2024
NEGLIGIBLE = 1e-3          # nats: an effect below this is rounding, not a slot the answer needs
_mean_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


@dataclass
class SlotAblation:
    """Each memory slot ablated alone entering `step`, scored on the traced answer."""
    step: int
    ablation: str
    effect: torch.Tensor           # [m] drop in log p(traced answer tokens of steps step..)
    per_step: torch.Tensor         # [m, T - step] the same drop, per answer step
    changes_answer: torch.Tensor   # [m] bool: the greedy answer tokens would differ
    baseline: float                # log p(traced answer tokens of steps step..), unablated

    def ranked(self, top: int | None = None) -> list[int]:
        """Slots by effect, largest first."""
        order = torch.argsort(self.effect, descending=True).tolist()
        return order if top is None else order[:top]

    def why_none_matters(self) -> str | None:
        """When no slot's ablation moves log p(answer) by NEGLIGIBLE, the sentence that says
        why (a ranked list of zeros would name slots as needed that are not); else None."""
        if float(self.effect.abs().max()) >= NEGLIGIBLE:
            return None
        inert = changes_nothing(self.ablation, self.step)
        if inert:
            return f"{inert}: choose zero, or step on"
        return (f"no slot alone moves log p(answer) by {NEGLIGIBLE} or more entering step "
                f"{self.step} ({self.ablation} ablation)")


def changes_nothing(ablation: str, t: int) -> str | None:
    """Why ablating memory entering step t so leaves it as it is, or None. Every problem starts
    from the same learned memory, so its mean, or another problem's, is the memory itself."""
    if t == 0 and ablation in ("mean", "source"):
        how = "the mean ablation" if ablation == "mean" else "a patch from another problem"
        return (f"memory entering step 0 is the learned initial memory, the same for every "
                f"problem, so {how} leaves every slot as it is")
    return None


def replacement_memory(trace, t: int, ablation: str, source=None) -> torch.Tensor:
    """[m, d]: what each slot becomes when ablated entering step t."""
    memory = trace["memory"][t]
    if ablation == "zero":
        return torch.zeros_like(memory)
    if ablation == "mean":
        return mean_memory(trace.model, trace.cell, t)
    if ablation == "source":
        if source is None:
            raise ValueError('the "source" ablation takes memory from a second trace: pass source=')
        trace.check_same_model(source)
        if t >= len(source["memory"]):
            raise ValueError(f"the source trace {source.problem} has no memory entering step {t}")
        return source["memory"][t]
    raise ValueError(f"ablation must be one of {ABLATIONS}, got {ablation!r}")


def mean_memory(model, cell: tuple[int, int], t: int) -> torch.Tensor:
    """[m, d]: memory entering step t, averaged over random problems of this cell (digits of a,
    digits of b) that are still answering at step t; computed once per model, cell and step."""
    per_model = _mean_cache.setdefault(model, {})
    if (cell, t) not in per_model:
        rng = np.random.default_rng(MEAN_SEED)
        pairs = random_pairs(rng, [cell], MEAN_PROBLEMS, swap=False)
        problem, target = make_batch(pairs, model.config)
        with evaluating(model), torch.no_grad(), capture(model, ["memory"]) as cache:
            model(problem.to(model.device), target.to(model.device))
        entering = [model.initial_memory(len(pairs)).cpu()] + cache["memory"]  # [T + 1] x (B, m, d)
        for k, memory in enumerate(entering):
            running = target[:, k - 1] != tok.PAD if 0 < k <= target.shape[1] else None
            if running is not None and running.any():
                memory = memory[running]
            per_model.setdefault((cell, k), memory.float().mean(0))
        last = len(entering) - 1
        per_model.setdefault((cell, t), per_model[(cell, last)])
    return per_model[(cell, t)]


def cached_mean_memory(model, cell: tuple[int, int], t: int) -> torch.Tensor | None:
    """`mean_memory`'s value when it was computed already, else None: it never runs the model."""
    return _mean_cache.get(model, {}).get((cell, t))


def _report(on_step, done: int, total: int) -> None:
    """`on_step(done, total)` after each step of a rollout: progress for a caller on another
    thread, which stops the work by raising from it."""
    if on_step is not None:
        on_step(done, total)


def _ablate(trace, starts: list[int], ablation: str, source, on_step) -> list[SlotAblation]:
    """The ablations entering each step of `starts`, as one batch that grows: at step k, if k is
    a start, m + 1 rows join it (row 0 unablated, row i + 1 with slot i ablated), all fed the
    traced answer (teacher forcing) to the end of the trace."""
    model = trace.model
    m, T = trace["memory"].shape[1], trace.steps
    answer = trace["prediction"].to(model.device)
    memory = torch.empty(0, m, trace["memory"].shape[2], device=model.device)
    step_tokens = torch.empty(0, trace["inputs"].shape[1], dtype=torch.long, device=model.device)
    logps, agrees = [], []
    slots = torch.arange(m)
    first = min(starts)
    with evaluating(model):
        for k in range(first, T):
            if k in starts:
                fresh = trace["memory"][k].unsqueeze(0).repeat(m + 1, 1, 1)
                fresh[slots + 1, slots] = replacement_memory(trace, k, ablation, source)[slots]
                memory = torch.cat([memory, fresh.to(model.device, torch.float32)])
                step_tokens = torch.cat([step_tokens, trace["inputs"][k : k + 1].to(model.device)
                                         .expand(m + 1, -1)])
            memory, logits = model.step(memory, *model.embed(step_tokens, k))
            logps.append(torch.log_softmax(logits.float(), -1)[:, answer[k]].cpu())
            agrees.append((logits.argmax(-1) == answer[k]).cpu())
            step_tokens = model.next_input(answer[k].expand(memory.shape[0]))
            _report(on_step, k + 1 - first, T - first)
    out = []
    for j, start in enumerate(sorted(starts)):
        rows = slice(j * (m + 1), (j + 1) * (m + 1))
        logp = torch.stack([logps[k - first][rows] for k in range(start, T)], 1)
        agree = torch.stack([agrees[k - first][rows] for k in range(start, T)], 1)
        per_step = logp[:1] - logp[1:]                               # [m, T - start]
        out.append(SlotAblation(step=start, ablation=ablation, effect=per_step.sum(1),
                                per_step=per_step, changes_answer=~agree[1:].all(1),
                                baseline=float(logp[0].sum())))
    return out


@torch.no_grad()
def ablate_slots(trace, t: int, ablation: str = "zero", source=None, on_step=None) -> SlotAblation:
    """Every memory slot ablated alone entering step t, in one batch of m + 1 rollouts
    (`on_step(done, total)` is called after each step of it, see `_report`)."""
    trace.check_step(t)
    return _ablate(trace, [t], ablation, source, on_step)[0]


def slot_effects(trace, t: int, ablation: str = "zero", source=None) -> torch.Tensor:
    """[m]: drop in log-probability of the traced answer tokens of steps t.. when each slot alone
    is ablated entering step t (see `ablate_slots` for the per-step split and answer changes)."""
    return ablate_slots(trace, t, ablation, source).effect


@torch.no_grad()
def effect_map(trace, ablation: str = "zero", source=None, on_step=None) -> list[SlotAblation]:
    """`ablate_slots` for every step of the trace, as one growing batch: rows that start at step k
    join the batch when step k is reached, so the whole answer costs one pass over the steps
    (`on_step(done, total)` is called after each of them, see `_report`)."""
    trace.check_step(0)
    return _ablate(trace, list(range(trace.steps)), ablation, source, on_step)


# -- the fx graph under an intervention -----------------------------------------------------------
class _Recorder(fx.Interpreter):
    """Runs the step graph, keeping every node's value and swapping in `overrides` at hook points."""

    def __init__(self, module: fx.GraphModule, overrides: dict[str, torch.Tensor]):
        super().__init__(module)
        self.overrides = overrides
        self.values: dict[str, object] = {}

    def run_node(self, node: fx.Node):
        value = super().run_node(node)
        self.values[node.name] = value
        return value

    def call_module(self, target, args, kwargs):
        module = self.fetch_attr(target)
        if isinstance(module, HookPoint) and module.name in self.overrides:
            return self.overrides[module.name]
        return super().call_module(target, args, kwargs)


def _tensors(value) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors(v)]
    return []


def _relative_change(before, after) -> float:
    """||after - before|| / ||before|| over a node's tensors. Equal entries count as no change even
    where they are infinite (masked logits are -inf); finite norms only."""
    old, new = _tensors(before), _tensors(after)
    if not old:
        return 0.0 if before == after else 1.0
    diff = norm = 0.0
    for b, a in zip(old, new):
        b, a = b.float(), a.float()
        delta = torch.where(a == b, torch.zeros_like(a), a - b)
        if not bool(torch.isfinite(delta).all()):
            return float("inf")
        diff += float(delta.pow(2).sum())
        norm += float(torch.where(torch.isfinite(b), b, torch.zeros_like(b)).pow(2).sum())
    if diff == 0.0:
        return 0.0
    return (diff / norm) ** 0.5 if norm > 0 else float("inf")


@torch.no_grad()
def graph_changes(trace, t: int, memory: torch.Tensor | None = None,
                  overrides: dict | None = None) -> dict[str, float]:
    """{fx node name: ||after - before|| / ||before||} for step t of the trace, before = the
    recorded inputs, after = with the memory entering step t replaced by `memory` and hooked
    activations replaced by `overrides` (as `Trace.replay` takes them). All zero without either."""
    trace.check_step(t)
    model = trace.model
    overrides = trace.check_overrides(t, overrides or {})
    if memory is not None:
        trace.check_memory(memory)
    module = step_module(model)
    device = model.device
    recorded = trace["memory"][t].unsqueeze(0).to(device, torch.float32)
    after_memory = recorded if memory is None else memory.unsqueeze(0).to(device, torch.float32)
    inputs, mask = model.embed(trace["inputs"][t : t + 1].to(device), t)
    swaps = {n: v.unsqueeze(0).to(device, torch.float32) for n, v in overrides.items()}
    with evaluating(model):
        before = _Recorder(module, {})
        before.run(recorded, inputs, mask)
        after = _Recorder(module, swaps)
        after.run(after_memory, inputs, mask)
    return {name: _relative_change(value, after.values[name]) for name, value in before.values.items()}
