"""A Trace: every step of one greedy multiplication, as detached CPU tensors looked up by name.

Names and shapes (T steps, m memory tokens, r read tokens, n input tokens, d width, L layers, h heads):
    memory           [T+1, m, d]   index 0 is the initial memory, t+1 the memory after step t
    read.weights     [T, r, m+n]   how much each read token draws from each memory/input token
    read.tokens      [T, r, d]
    process.layer{i}.attn [T, h, r, r], and all layers stacked as attention [T, L, h, r, r]
    processed        [T, r, d]
    write.weights    [T, m, m+r+n] (summarize), [T, m, r] (erase_add), [T, m, m+r] (fifo)
    logits           [T, V];  prediction [T];  inputs [T, n] (the token ids fed at each step)
    embedding        [V, d]        the token embedding table
"""
from __future__ import annotations

import time

import torch

from . import tokens as tok
from .confidence import cell_of
from .hooks import capture, edit, hook_points
from .model import evaluating

STEP_NAMES = ("read.weights", "read.tokens", "processed", "write.weights", "logits")


class Trace:
    """`config` is the TTMConfig of the model that ran (it says what the tensors' columns are);
    it stays when `model` is dropped (a compacted history entry), defaulting to `model.config`."""

    def __init__(self, model, a: int, b: int, tensors: dict[str, torch.Tensor], config=None):
        self.model = model
        self.config = config if config is not None else getattr(model, "config", None)
        self.a, self.b = a, b
        self.tensors = tensors
        self.seconds: float | None = None     # wall time of the run that recorded it

    # -- lookup ------------------------------------------------------------------------------
    def __getitem__(self, name: str) -> torch.Tensor:
        try:
            return self.tensors[name]
        except KeyError:
            raise KeyError(f"trace has no tensor {name!r}; it has {sorted(self.tensors)}") from None

    def __contains__(self, name: str) -> bool:
        return name in self.tensors

    @property
    def names(self) -> list[str]:
        return list(self.tensors)

    @property
    def steps(self) -> int:
        return len(self.tensors["prediction"])

    @property
    def answer_tokens(self) -> list[int]:
        return self.tensors["prediction"].tolist()

    @property
    def answer(self) -> int | None:
        return tok.answer_to_number(self.answer_tokens)

    @property
    def cell(self) -> tuple[int, int]:
        """(digits of a, digits of b): the problem's cell in the evaluation table."""
        return cell_of(self.a, self.b)

    @property
    def answer_logp(self) -> float:
        """log p of the answer this run gave, token by token: each step feeds its own token back,
        so it is log p(answer | problem) of greedy decoding. An edit that flips no digit still
        moves it."""
        logp = torch.log_softmax(self.tensors["logits"].float(), dim=-1)
        return float(logp.gather(-1, self.tensors["prediction"].long().unsqueeze(-1)).sum())

    @property
    def expected(self) -> int:
        return self.a * self.b

    @property
    def correct(self) -> bool:
        return self.answer == self.expected

    @property
    def problem(self) -> str:
        return f"{self.a} × {self.b}"

    def __repr__(self) -> str:
        return (f"Trace({self.problem} -> {self.answer}, {self.steps} steps, "
                f"tensors={sorted(self.tensors)})")

    # -- recording and replay ----------------------------------------------------------------
    @classmethod
    def record(cls, model, a: int, b: int) -> "Trace":
        """Run a × b greedily, keeping every hooked activation; `seconds` is the run's wall time."""
        start = time.perf_counter()
        problem = model.problem_batch([(a, b)])
        memory = model.initial_memory(1).clone()  # contiguous, like any replayed memory
        steps = _run(model, memory, problem, start=0)
        steps["memory"] = [memory[0].detach().cpu()] + steps["memory"]
        tensors = {name: torch.stack(vals) for name, vals in steps.items()}
        tensors["embedding"] = model.token_embedding.weight.detach().cpu().clone()
        trace = cls(model, a, b, _with_stacked_attention(tensors))
        trace.seconds = time.perf_counter() - start
        return trace

    def replay(self, t: int, memory: torch.Tensor | None = None,
               overrides: dict[str, torch.Tensor] | None = None) -> "Trace":
        """Re-run steps t.. with the memory entering step t replaced by `memory` (default: the
        recorded one) and, at step t only, hooked activations replaced by `overrides`
        ({"read.weights": [r, m+n], "write.weights": ..., "process.layer{i}.attn": [h, r, r],
        "processed": [r, d]}, through ttm.hooks.edit). Earlier steps stay as recorded.

        The inputs of step t are unchanged (they depend only on steps before t); later inputs are
        the newly predicted digits. Replaying with recorded values reproduces this trace exactly.
        """
        self.check_step(t)
        memory = self["memory"][t] if memory is None else memory
        self.check_memory(memory)
        swaps = self.check_overrides(t, overrides or {})
        device = self.model.device
        start_memory = memory.detach().to(device, torch.float32).unsqueeze(0).contiguous()

        def at_step_t(new: torch.Tensor):
            # A hook fires once per step of the replay; call 0 is step t.
            return lambda value, call: new.to(value.device, value.dtype).unsqueeze(0) if call == 0 else value

        with edit(self.model, {name: at_step_t(new) for name, new in swaps.items()}):
            steps = _run(self.model, start_memory, self["inputs"][t : t + 1].to(device), start=t)
        tensors = {"embedding": self["embedding"]}
        for name, new in steps.items():
            kept = self[name][:t]
            if name == "memory":
                kept = torch.cat([kept, memory.detach().cpu().float().unsqueeze(0)])
            tensors[name] = torch.cat([kept, torch.stack(new)])
        return Trace(self.model, self.a, self.b, _with_stacked_attention(tensors), self.config)

    def patch(self, source: "Trace", t: int, slots=None) -> "Trace":
        """Replay from step t with the memory entering it taking `source`'s memory at `slots`
        (memory slot indices; all of them when None). `source` is a trace of the same model."""
        self.check_step(t)
        self.check_same_model(source)
        if t >= len(source["memory"]):
            raise ValueError(f"the source trace {source.problem} has no memory entering step {t}")
        m = self["memory"].shape[1]
        index = torch.arange(m) if slots is None else torch.as_tensor(list(slots), dtype=torch.long)
        if index.numel() and not bool(((index >= 0) & (index < m)).all()):
            raise ValueError(f"memory slots must be in 0..{m - 1}, got {index.tolist()}")
        memory = self["memory"][t].clone()
        memory[index] = source["memory"][t][index]
        return self.replay(t, memory=memory)

    # -- checks ------------------------------------------------------------------------------
    def check_step(self, t: int) -> None:
        """Step t can be re-run: the trace kept its model and has that step."""
        if self.model is None:
            raise ValueError(f"the trace of {self.problem} kept no model (a compacted history "
                             "entry): it can be viewed, not re-run")
        if not 0 <= t < self.steps:
            raise IndexError(f"step {t} is outside this trace's steps 0..{self.steps - 1}")

    def check_memory(self, memory: torch.Tensor) -> None:
        """A memory that can enter a step: [m, d], finite."""
        expected = tuple(self["memory"].shape[1:])
        if tuple(memory.shape) != expected:
            raise ValueError(f"memory has shape {tuple(memory.shape)}, want {expected}")
        if not bool(torch.isfinite(memory).all()):
            raise ValueError(f"memory has non-finite values; want finite numbers of shape {expected}")

    def check_overrides(self, t: int, overrides: dict) -> dict[str, torch.Tensor]:
        """`overrides` checked against step t's recorded activations: the same names, shapes and
        finite values; returned as float32 CPU tensors."""
        editable = sorted(n for n in hook_points(self.model) if n != "memory" and n in self.tensors)
        checked = {}
        for name, value in overrides.items():
            if name not in editable:
                raise ValueError(f"cannot override {name!r}; a step's overridable activations "
                                 f"are {editable}")
            value = torch.as_tensor(value).detach().cpu().float()
            expected = tuple(self[name][t].shape)
            if tuple(value.shape) != expected:
                raise ValueError(f"override of {name!r} has shape {tuple(value.shape)}, "
                                 f"want {expected}")
            if not bool(torch.isfinite(value).all()):
                raise ValueError(f"override of {name!r} has non-finite values; want finite "
                                 f"numbers of shape {expected}")
            checked[name] = value
        return checked

    def check_same_model(self, source: "Trace") -> None:
        """`source` must come from this trace's model: the same object, or equal config and weights."""
        if not isinstance(source, Trace):
            raise ValueError(f"the source must be a Trace, not {type(source).__name__}")
        mine, theirs = self.model, source.model
        same = theirs is mine or (
            theirs is not None and theirs.config == mine.config
            and all(torch.equal(p, q) for p, q in zip(theirs.state_dict().values(),
                                                       mine.state_dict().values())))
        if not same:
            raise ValueError(f"the source trace ({source.problem}) comes from another model than "
                             f"this one ({self.problem}); patching needs traces of the same model")


def _run(model, memory: torch.Tensor, step_tokens: torch.Tensor, start: int) -> dict[str, list]:
    """Greedy steps from `start`, collecting every hooked activation per step (batch of one)."""
    steps: dict[str, list] = {"inputs": [], "prediction": []}
    with evaluating(model), capture(model) as cache:
        for _, inputs, _, _, predicted in model.rollout(memory, step_tokens, start):
            steps["inputs"].append(inputs[0].cpu())
            steps["prediction"].append(predicted[0].cpu())
    for name, values in cache.items():
        steps[name] = [v[0] for v in values]
    return steps


def _with_stacked_attention(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    layers = sorted((k for k in tensors if k.startswith("process.layer")),
                    key=lambda k: int(k.split(".")[1].removeprefix("layer")))
    tensors["attention"] = torch.stack([tensors[k] for k in layers], dim=1)  # [T, L, h, r, r]
    return tensors
