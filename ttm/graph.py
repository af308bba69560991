"""The computational graph of one TTM step (read -> process -> write), extracted with torch.fx.

Symbolic tracing needs no GPU and runs no data-dependent code; a ShapeProp pass on zeros then
records every node's output shape.
"""
from __future__ import annotations

import copy
import threading
import weakref
from dataclasses import dataclass

import torch
import torch.fx as fx
from torch.fx.passes.shape_prop import ShapeProp

from .hooks import HookPoint

# Outermost attribute of TTMStep a node lives in -> the stage it belongs to.
STAGE_OF = {"read": "read", "hook_read": "read", "process": "process", "hook_processed": "process",
            "write": "write", "hook_memory": "write"}


@dataclass(frozen=True)
class FxNode:
    name: str
    op: str                      # placeholder, get_attr, call_module, call_function, call_method, output
    target: str
    inputs: tuple[str, ...]      # names of the nodes it reads
    shape: tuple[int, ...] | None
    group: str                   # "read", "process", "write" or "other"


@dataclass(frozen=True)
class FxGraph:
    nodes: tuple[FxNode, ...]

    def by_group(self, group: str) -> list[FxNode]:
        return [n for n in self.nodes if n.group == group]

    @property
    def edges(self) -> list[tuple[str, str]]:
        return [(src, n.name) for n in self.nodes for src in n.inputs]


class _Tracer(fx.Tracer):
    """Keeps hook points as single named nodes instead of tracing through the identity."""

    def is_leaf_module(self, module: torch.nn.Module, qualified_name: str) -> bool:
        return isinstance(module, HookPoint) or super().is_leaf_module(module, qualified_name)


def _target_name(node: fx.Node) -> str:
    target = node.target
    return target if isinstance(target, str) else getattr(target, "__name__", str(target))


def _group(node: fx.Node) -> str:
    stack = node.meta.get("nn_module_stack") or {}
    path = next(iter(stack), None) if stack else None
    if path is None and node.op in ("call_module", "get_attr"):
        path = str(node.target)
    return STAGE_OF.get(str(path).split(".")[0], "other") if path else "other"


def _shape(node: fx.Node) -> tuple[int, ...] | None:
    meta = node.meta.get("tensor_meta")
    return tuple(meta.shape) if hasattr(meta, "shape") else None


_modules: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_graphs: dict[str, fx.Graph] = {}     # architecture -> its traced step
_tracing = threading.Lock()


def _architecture(model) -> str:
    return f"{type(model.step).__qualname__} {model.config!r}"


def step_module(model) -> fx.GraphModule:
    """`model.step` as an fx GraphModule (hook points kept as nodes); it shares the model's
    parameters, so it always computes what the model does now.

    Traced once per architecture, not per model: while it traces, torch.fx patches
    torch.nn.Module.__call__ for the whole process, so a trace on the UI thread (an edit on a new
    snapshot's model) sent the training thread's forward through the tracer, which stopped
    training with "NameError: module is not installed as a submodule". The app traces its
    architecture before the trainer starts; a later model of it gets a GraphModule over a copy of
    that graph, which patches nothing.
    """
    with _tracing:        # the UI thread and the causal worker both ask
        if model not in _modules:
            key = _architecture(model)
            if key not in _graphs:
                _graphs[key] = _Tracer().trace(model.step)
            _modules[model] = fx.GraphModule(model.step, copy.deepcopy(_graphs[key]))
        return _modules[model]


def extract(model) -> FxGraph:
    """The fx graph of `model.step` with op kinds, targets, input edges and output shapes."""
    cfg = model.config
    graph_module = step_module(model)
    with torch.no_grad():
        ShapeProp(graph_module).propagate(
            torch.zeros(1, cfg.m, cfg.dim), torch.zeros(1, cfg.input_tokens, cfg.dim),
            torch.ones(1, cfg.input_tokens, dtype=torch.bool))
    nodes = tuple(FxNode(name=n.name, op=n.op, target=_target_name(n),
                         inputs=tuple(a.name for a in n.all_input_nodes), shape=_shape(n),
                         group=_group(n))
                  for n in graph_module.graph.nodes)
    return FxGraph(nodes)
