"""Interventions a person makes on the trace on view, and how a stack of them is re-run.

An Intervention changes one value where it is made at step t: the memory entering step t (a
cell, a slot, slots from a second problem) or a hooked activation of that step (the `overrides`
of Trace.replay: read or write weights, one layer's attention). It is kept as a function of the
value it replaces, not as a frozen copy, so that it still holds when an intervention at an
earlier step changes what flows into it: `compose` re-runs a stack in step order with every
intervention in force, and at one step in the order the step computes its hooked values. For
the same reason an edit of values holds on another model's trace of the same problem (a later
snapshot of training) as it is; an ablation keeps how it was asked for (`Ablation`) and is made
again there with that model's memory (`carried`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import torch

from studio.selection import Selection, memory_index
from ttm import Trace, causal
from ttm.graph import step_module
from ttm.hooks import HookPoint

WEIGHT_NAMES = ("read.weights", "write.weights", "attention")


@dataclass(frozen=True)
class Target:
    """What a selection can change: trace[hook][step][index] (a whole slot when index is (slot,))."""
    kind: str                  # "cell", "slot" (a memory row) or "weight"
    step: int                  # the step whose input (memory) or activation (weights) it is
    hook: str                  # "memory" or the hooked name ("read.weights", "process.layer1.attn")
    index: tuple[int, ...]     # into trace[hook][step]
    what: str                  # in words: "memory entering step 2, slot 12, feature 40"


@dataclass(frozen=True)
class Ablation:
    """How an ablation was asked for, to make it again for another model (`carried`)."""
    kind: str                            # "zero", "mean" or "source"
    slots: tuple[int, ...] | None        # None: every slot
    source: tuple[int, int] | None = None   # (a, b) of the problem a "source" patch took slots from


@dataclass(frozen=True)
class Intervention:
    """`change` maps the value at trace[hook][step] (memory [m, d] or a weight tensor) to the
    value that replaces it."""
    step: int
    hook: str
    change: Callable[[torch.Tensor], torch.Tensor] = field(repr=False)
    what: str
    key: tuple = ()            # edits of one drag share a key: they merge into one undo entry
    old: float | None = None   # one value's before / after, for the panel (cells, weights)
    new: float | None = None
    ablation: Ablation | None = None   # set on ablations: their replacement depends on the model

    def describe(self) -> str:
        if self.old is None or self.new is None:
            return self.what
        return f"{self.what}: {self.old:+.3f} -> {self.new:+.3f}"


@dataclass
class Composed:
    trace: Trace
    entered: dict[int, tuple[torch.Tensor, dict[str, torch.Tensor]]]  # step -> (memory, overrides)
    unreached: list[Intervention]  # at steps the re-run answer no longer reaches


# -- what a selection is -------------------------------------------------------------------------
def target_of(sel: Selection | None, trace: Trace, step: int, keep_models: int) -> Target:
    """The editable value under the selection; ValueError (a sentence for the person) if none."""
    if sel is None or not (sel.name.startswith("memory") or sel.name in WEIGHT_NAMES
                           or sel.name.startswith("process.layer")):
        return _refuse("select a memory cell or slot, or a read, write or attention weight, to edit it")
    if sel.value is None:
        return _refuse("the selection is not on view at this step")
    editable(trace, keep_models)
    if sel.name.startswith("memory"):
        k, slot, feature = memory_index(sel.name, sel.index, step)
        if k >= trace.steps:
            return _refuse("the memory after the last step is read by no step, so editing it "
                           "changes nothing")
        when = f"memory entering step {k}, slot {slot}"
        if feature is None:
            return Target("slot", k, "memory", (slot,), when)
        return Target("cell", k, "memory", (slot, feature), f"{when}, feature {feature}")
    if sel.name == "attention":
        _, layer, head, q, key = sel.index
        hook, index = f"process.layer{layer}.attn", (head, q, key)
    else:
        hook, index = sel.name, tuple(sel.index)
    return Target("weight", step, hook, index, f"step {step}: {hook}{list(index)}")


def editable(trace: Trace | None, keep_models: int) -> Trace:
    """`trace` if it can be re-run, else ValueError saying why not."""
    if trace is None:
        return _refuse("no trace on view yet: wait for the first snapshot")
    if trace.model is None:
        return _refuse("this snapshot's weights were not kept (only the newest "
                       f"{keep_models} are); follow live or pick a newer one")
    return trace


def _refuse(reason: str):
    raise ValueError(reason)


def distribution_axis(trace: Trace, hook: str) -> int:
    """The axis a weight tensor is a distribution over: the sources of each summary token,
    except erase-and-add writes, whose softmax runs over memory slots."""
    config = trace.config
    if hook == "write.weights" and getattr(config, "write_rule", "") == "erase_add":
        return 0
    return -1


# -- interventions -------------------------------------------------------------------------------
def set_value(trace: Trace, target: Target, value: float, renormalize: bool = True) -> Intervention:
    """Set a cell, every feature of a slot, or a weight (with `renormalize`, the rest of the
    weight's distribution is rescaled to sum to 1 - value, so it stays a distribution)."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"a value must be a finite number, got {value}")
    key = (target, "set")
    if target.kind == "slot":
        return Intervention(target.step, "memory", lambda x: _put(x, target.index, value),
                            f"{target.what}, every feature = {value:+.3f}", key=key)
    old = float(trace[target.hook][target.step][target.index])
    if target.kind == "weight" and renormalize:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"a weight of a distribution lies in 0..1, got {value}; untick "
                             "'renormalize' to set any value")
        axis = distribution_axis(trace, target.hook)
        return Intervention(target.step, target.hook,
                            lambda w: renormalized(w, target.index, value, axis),
                            f"{target.what} (renormalized)", key=key, old=old, new=value)
    return Intervention(target.step, target.hook, lambda x: _put(x, target.index, value),
                        target.what, key=key, old=old, new=value)


def scale_slot(target: Target, factor: float) -> Intervention:
    """Multiply a memory slot (or one cell) by `factor`; 0 zeroes it."""
    factor = float(factor)
    if target.kind == "weight":
        raise ValueError("scaling is for memory; set a weight to a value instead")
    if not math.isfinite(factor):
        raise ValueError(f"a scale must be a finite number, got {factor}")
    verb = "zeroed" if factor == 0 else f"scaled by {factor:g}"
    return Intervention(target.step, "memory", lambda x: _put(x, target.index, x[target.index] * factor),
                        f"{target.what} {verb}", key=(target, "scale"))


def ablate(trace: Trace, step: int, slots, ablation: str, source: Trace | None = None,
           replacement: torch.Tensor | None = None) -> Intervention:
    """Memory slots entering `step` replaced as ttm.causal ablates them: "zero", "mean" (over
    random problems of this cell) or "source" (the slots of a second problem, i.e. patching).
    `replacement` ([m, d]) is what ttm.causal.replacement_memory gives, when known already."""
    trace.check_step(step)
    m = trace["memory"].shape[1]
    index = torch.arange(m) if slots is None else torch.as_tensor(list(slots), dtype=torch.long)
    if index.numel() == 0 or not bool(((index >= 0) & (index < m)).all()):
        raise ValueError(f"memory slots must be in 0..{m - 1}, got {index.tolist()}")
    if replacement is None:
        replacement = causal.replacement_memory(trace, step, ablation, source)
    replacement = replacement[index].clone()
    which = "every slot" if slots is None else f"slot{'s' * (len(index) > 1)} {index.tolist()}"
    how = {"zero": "zeroed", "mean": "set to its mean over random problems"}.get(
        ablation, f"taken from {source.problem if source is not None else '?'}")

    def change(memory: torch.Tensor) -> torch.Tensor:
        memory = memory.clone()
        memory[index] = replacement
        return memory
    asked = Ablation(ablation, None if slots is None else tuple(index.tolist()),
                     None if source is None else (source.a, source.b))
    return Intervention(step, "memory", change, f"memory entering step {step}, {which} {how}",
                        ablation=asked)


class MeanNotKnown(ValueError):
    """A kept "mean" ablation waits for its model's mean (studio.causal_state computes it)."""


def carried(edit: Intervention, trace: Trace, known_mean) -> Intervention:
    """`edit` made for `trace`: another model's trace of the problem it was made on (a training
    snapshot). An edit of values holds as it is; an ablation is made again with this model's
    replacement (a "source" patch traces its source problem again, about 30 ms), a "mean" one
    only where `known_mean(trace, step)` has this model's mean already (computing it takes
    seconds, too long for a scrub: MeanNotKnown). ValueError, with the reason, where it cannot
    be made."""
    asked = edit.ablation
    if asked is None:
        return edit
    known, source = None, None
    if asked.kind == "mean":
        known = known_mean(trace, edit.step)
        if known is None:
            raise MeanNotKnown("waits for this model's mean over random problems (computing)")
    if asked.kind == "source":
        source = Trace.record(trace.model, *asked.source)
    return ablate(trace, edit.step, asked.slots, asked.kind, source, known)


def renormalized(weights: torch.Tensor, index: tuple[int, ...], value: float, axis: int) -> torch.Tensor:
    """`weights` with weights[index] = value and the rest of its distribution along `axis`
    rescaled to sum to 1 - value (spread evenly when the rest held no weight)."""
    out = weights.clone()
    line = list(index)
    line[axis] = slice(None)
    dist = out[tuple(line)]                    # a view into `out`
    pos = index[axis]
    if dist.numel() == 1:
        raise ValueError("this distribution has one entry, which is always 1")
    rest = float(dist.sum() - dist[pos])
    if rest > 0:
        dist *= (1.0 - value) / rest
    else:
        dist.fill_((1.0 - value) / (dist.numel() - 1))
    dist[pos] = value
    return out


def _put(x: torch.Tensor, index, value) -> torch.Tensor:
    x = x.clone()
    x[index] = value
    return x


# -- re-running a stack --------------------------------------------------------------------------
def compose(base: Trace, interventions: list[Intervention]) -> Composed:
    """`base` re-run with every intervention in force: step by step from the earliest, the memory
    entering the step changed first, then its hooked values in the order the step makes them
    (each read off a re-run that already has the ones before it)."""
    trace, entered, unreached = base, {}, []
    order = hook_order(base.model)
    for t in sorted({i.step for i in interventions}):
        here = [i for i in interventions if i.step == t]
        if t >= trace.steps:
            unreached += here
            continue
        memory = trace["memory"][t]
        for i in here:
            if i.hook == "memory":
                memory = i.change(memory)
        if any(i.hook == "memory" for i in here):
            trace = trace.replay(t, memory)
        overrides = {}
        for hook in sorted({i.hook for i in here} - {"memory"}, key=order.index):
            value = trace[hook][t]
            for i in here:
                if i.hook == hook:
                    value = i.change(value)
            overrides[hook] = value
            trace = trace.replay(t, memory, overrides)
        entered[t] = (memory, overrides)
    return Composed(trace, entered, unreached)


def hook_order(model) -> list[str]:
    """Hooked names in the order one step computes them (its fx graph's order), memory first."""
    module = step_module(model)
    names = [module.get_submodule(n.target).name for n in module.graph.nodes
             if n.op == "call_module" and isinstance(module.get_submodule(n.target), HookPoint)]
    return ["memory"] + [n for n in names if n != "memory"]
