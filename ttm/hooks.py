"""Named hook points and the context managers that capture or edit what flows through them.

In the style of TransformerLens: a HookPoint is an identity module placed where a value is made,
with a stable semantic name ("read.weights", "process.layer2.attn", ...). Capture and editing go
through context managers that always remove their hooks.
"""
from __future__ import annotations

import contextlib
from collections import defaultdict
from typing import Callable, Iterable, Iterator

import torch
from torch import nn


class HookPoint(nn.Module):
    """Identity that marks a named activation. The name is semantic, not the module path."""

    def __init__(self, name: str):
        super().__init__()
        self.name = name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def hook_points(model: nn.Module) -> dict[str, HookPoint]:
    return {m.name: m for m in model.modules() if isinstance(m, HookPoint)}


class ActivationCache(dict):
    """name -> list of detached CPU tensors, one per time the hook fired (one per step)."""

    def stacked(self, name: str) -> torch.Tensor:
        """The captures of one name stacked on a new leading (step) axis."""
        return torch.stack(self[name])


def _select(model: nn.Module, names: Iterable[str] | None) -> dict[str, HookPoint]:
    points = hook_points(model)
    if names is None:
        return points
    names = list(names)
    unknown = [n for n in names if n not in points]
    if unknown:
        raise KeyError(f"no hook point named {unknown}; known: {sorted(points)}")
    return {n: points[n] for n in names}


@contextlib.contextmanager
def capture(model: nn.Module, names: Iterable[str] | None = None,
            every: int = 1) -> Iterator[ActivationCache]:
    """Record named activations as detached CPU copies.

    ``every`` samples forwards: only every n-th call of ``model.forward`` is recorded, so live
    capture during training costs little. The cache holds the latest recorded forward only.
    """
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    cache = ActivationCache()
    # Active until the first sampled-out forward, so step-by-step callers (rollouts) record too.
    calls = {"n": 0, "active": True}

    def before_forward(module, args):
        calls["active"] = calls["n"] % every == 0
        calls["n"] += 1
        if calls["active"]:
            cache.clear()

    def recorder(point: HookPoint) -> Callable:
        def hook(module, args, output):
            if calls["active"]:
                cache.setdefault(point.name, []).append(output.detach().to("cpu", copy=True))
        return hook

    handles = [model.register_forward_pre_hook(before_forward)]
    handles += [p.register_forward_hook(recorder(p)) for p in _select(model, names).values()]
    try:
        yield cache
    finally:
        for h in handles:
            h.remove()


@contextlib.contextmanager
def edit(model: nn.Module, edits: dict[str, Callable[[torch.Tensor, int], torch.Tensor]]):
    """Replace activations: ``edits[name](value, call_index) -> new value`` for each firing."""
    counts: dict[str, int] = defaultdict(int)

    def editor(point: HookPoint, fn: Callable) -> Callable:
        def hook(module, args, output):
            i = counts[point.name]
            counts[point.name] += 1
            return fn(output, i)
        return hook

    handles = [p.register_forward_hook(editor(p, edits[n]))
               for n, p in _select(model, edits).items()]
    try:
        yield
    finally:
        for h in handles:
            h.remove()
