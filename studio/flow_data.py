"""A trace's numbers as viz.flow takes them: the model's shape (counts, the columns of the read and
write weights from TTMConfig.sources, token symbols), one step's arrays, the difference of two
steps' arrays, and colour ranges steady over a whole trace (so stepping never rescales a colour).

Old history snapshots keep only what the grid view draws (studio.snapshot_history); a tensor they
lack is drawn as zeros.
"""
from __future__ import annotations

import numpy as np
import torch

from studio.view import auto_range
from ttm import tokens as tok
from viz import flow

RIBBON_TOP = 95.0           # percentile of the drawn links' weights at the top of the ribbons' scale
FEATURES = ("read.tokens", "processed")


def flow_shape(trace) -> flow.FlowShape:
    cfg = trace.config
    if cfg.sources("read.weights") != {"memory": cfg.m, "input": cfg.input_tokens}:
        raise ValueError(f"the flow draws reads from [memory, input], not {cfg.sources('read.weights')}")
    return flow.FlowShape(m=cfg.m, n=cfg.input_tokens, r=cfg.read_tokens, d=cfg.dim, layers=cfg.layers,
                          heads=cfg.heads, symbols=tuple(s.strip("<>") for s in tok.SYMBOLS),
                          write_sources=cfg.sources("write.weights"))


def _tensor(trace, name: str) -> torch.Tensor:
    """trace[name] as float32 (compacted history entries keep theirs in float16)."""
    return trace[name].detach().float()


def step_arrays(trace, t: int) -> flow.StepArrays:
    memory = trace["memory"].detach().float()
    inputs = trace["inputs"][t]
    logits = trace["logits"][t].detach().float()
    pad = (inputs == tok.PAD).numpy()
    return flow.StepArrays(
        memory_in=memory[t].numpy(), memory_out=memory[t + 1].numpy(),
        input_labels=["PAD" if p else tok.SYMBOLS[int(i)].strip("<>") for i, p in zip(inputs, pad)],
        input_pad=pad, input_features=trace["embedding"].detach().float()[inputs].numpy(),
        read_weights=trace["read.weights"][t].detach().float().numpy(),
        read_tokens=_tensor(trace, "read.tokens")[t].numpy(),
        attention=trace["attention"][t].detach().float().numpy(),
        processed=_tensor(trace, "processed")[t].numpy(),
        probs=torch.softmax(logits, -1).numpy(), chosen=int(trace["prediction"][t]),
        write_weights=trace["write.weights"][t].detach().float().numpy(),
        change=(memory[t + 1] - memory[t]).norm(dim=-1).numpy(), expected=_expected(trace, t))


def _expected(trace, t: int) -> int | None:
    """The token the true product has at step t (its digits least significant first, then EOS)."""
    target = tok.answer_tokens(trace.expected)
    return target[t] if t < len(target) else None


def difference_arrays(base: flow.StepArrays, other: flow.StepArrays) -> flow.StepArrays:
    """other - base, number by number; an input that differs is drawn as "7→8"."""
    labels = [a if a == b else f"{a}→{b}" for a, b in zip(base.input_labels, other.input_labels)]
    diff = {name: getattr(other, name) - getattr(base, name)
            for name in ("memory_in", "memory_out", "input_features", "read_weights", "read_tokens",
                         "attention", "processed", "probs", "write_weights", "change")}
    return flow.StepArrays(input_labels=labels, input_pad=base.input_pad & other.input_pad,
                           chosen=base.chosen, **diff)


def flow_ranges(trace, percentile: float) -> dict[str, tuple[float, float]]:
    """Colour ranges over the whole trace, by flow group."""
    ranges = {n: auto_range(trace, n, percentile) for n in ("memory", "attention")}
    for name, k in (("read.weights", flow.READ_LINKS), ("write.weights", flow.WRITE_LINKS)):
        # ribbons: the drawn links (the top k of each row) span the scale, the strongest ones saturate
        drawn = trace[name].detach().float().topk(k, dim=-1).values.numpy()
        ranges[name] = (0.0, max(float(np.percentile(drawn, RIBBON_TOP)), 1e-6))
    change = (trace["memory"][1:] - trace["memory"][:-1]).float().norm(dim=-1)
    ranges["memory.change"] = (0.0, max(float(change.max()), 1e-6))
    for name in FEATURES:
        top = float(np.percentile(_tensor(trace, name).abs().numpy(), percentile))
        ranges[name] = (-max(top, 1e-6), max(top, 1e-6))
    top = max(float(np.percentile(trace["embedding"].detach().float().abs().numpy(), percentile)), 1e-6)
    ranges["input"] = (-top, top)
    w = trace["write.weights"].detach().float()
    ranges["write.sources"] = (0.0, max(float((w.sum(dim=1) / w.shape[1]).max()), 1e-6))
    return ranges


SIGNED_FIELDS = {"memory": ("memory_in", "memory_out"), "input": ("input_features",),
                 "read.tokens": ("read_tokens",), "processed": ("processed",), "attention": ("attention",),
                 "read.weights": ("read_weights",), "write.weights": ("write_weights",), "output": ("probs",),
                 "memory.change": ("change",)}


def signed_ranges(steps: list[flow.StepArrays], percentile: float) -> dict[str, tuple[float, float]]:
    """Symmetric colour ranges of differences over every step, by flow group (never empty, so a
    trace compared with itself still has a scale, and shows its grey zero)."""
    ranges = {}
    for group, fields in SIGNED_FIELDS.items():
        values = np.concatenate([np.abs(getattr(s, f)).reshape(-1) for s in steps for f in fields])
        top = max(float(np.percentile(values, percentile)), 1e-6)
        ranges[group] = (-top, top)
    share = np.concatenate([np.abs(s.write_weights.sum(axis=0)) / s.write_weights.shape[0] for s in steps])
    ranges["write.sources"] = (-max(float(share.max()), 1e-6), max(float(share.max()), 1e-6))
    return ranges
