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

import contextlib

import torch

from . import tokens as tok
from .hooks import capture

STEP_NAMES = ("read.weights", "read.tokens", "processed", "write.weights", "logits")


@contextlib.contextmanager
def eval_mode(model):
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


class Trace:
    def __init__(self, model, a: int, b: int, tensors: dict[str, torch.Tensor]):
        self.model = model
        self.a, self.b = a, b
        self.tensors = tensors

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
        problem = model.problem_batch([(a, b)])
        memory = model.initial_memory(1).clone()  # contiguous, like any replayed memory
        steps = _run(model, memory, problem, start=0)
        steps["memory"] = [memory[0].detach().cpu()] + steps["memory"]
        tensors = {name: torch.stack(vals) for name, vals in steps.items()}
        tensors["embedding"] = model.token_embedding.weight.detach().cpu().clone()
        return cls(model, a, b, _with_stacked_attention(tensors))

    def replay(self, t: int, memory: torch.Tensor) -> "Trace":
        """Re-run steps t.. from `memory` replacing the memory entering step t; earlier steps stay.

        The inputs of step t are unchanged (they depend only on steps before t); later inputs are
        the newly predicted digits. Replaying with the recorded memory reproduces this trace exactly.
        """
        if not 0 <= t < self.steps:
            raise IndexError(f"step {t} is outside this trace's steps 0..{self.steps - 1}")
        expected = tuple(self["memory"].shape[1:])
        if tuple(memory.shape) != expected:
            raise ValueError(f"memory has shape {tuple(memory.shape)}, want {expected}")
        device = self.model.device
        start_memory = memory.detach().to(device, torch.float32).unsqueeze(0).contiguous()
        steps = _run(self.model, start_memory, self["inputs"][t : t + 1].to(device), start=t)
        tensors = {"embedding": self["embedding"]}
        for name, new in steps.items():
            kept = self[name][: t + 1] if name == "memory" else self[name][:t]
            if name == "memory":
                kept = torch.cat([kept[:t], memory.detach().cpu().float().unsqueeze(0)])
            tensors[name] = torch.cat([kept, torch.stack(new)])
        return Trace(self.model, self.a, self.b, _with_stacked_attention(tensors))


def _run(model, memory: torch.Tensor, step_tokens: torch.Tensor, start: int) -> dict[str, list]:
    """Greedy steps from `start`, collecting every hooked activation per step (batch of one)."""
    steps: dict[str, list] = {"inputs": [], "prediction": []}
    with eval_mode(model), capture(model) as cache:
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
