"""Small seeded models shared by the ttm tests (fast on a 2-core CPU)."""
import copy

import torch

from ttm import Trace
from ttm import tokens as tok
from ttm.model import TTM, TTMConfig

tiny_config = TTMConfig.tiny


def tiny_model(seed: int = 0, **overrides) -> TTM:
    torch.manual_seed(seed)
    return TTM(tiny_config(**overrides)).eval()


def long_trace(model, min_steps: int = 4):
    """A trace with at least `min_steps` steps (an untrained model may stop early at EOS).

    It is recorded by a copy of `model` whose head never says EOS, so the caller's model stays as
    it was (tests sharing a model do not depend on their order); the trace's `model` is that copy,
    so replays of it run long too."""
    biased = copy.deepcopy(model)
    with torch.no_grad():
        biased.step.head.bias[tok.EOS] = -1e4
    trace = biased.trace(123, 45)
    assert trace.steps >= min_steps, f"the trace has {trace.steps} steps, want {min_steps}"
    return trace


def answering(trace: Trace, answer: list[int]) -> Trace:
    """`trace` cut to len(answer) steps that produce the tokens `answer` (each fed to the next
    step, as in a real run): a run whose words are known without running the model."""
    steps = len(answer)
    tensors = {name: t if name == "embedding" else t[: steps + (name == "memory")]
               for name, t in trace.tensors.items()}
    tensors["prediction"] = torch.tensor(answer)
    tensors["inputs"] = tensors["inputs"].clone()
    for t in range(1, steps):
        tensors["inputs"][t] = tok.PAD
        tensors["inputs"][t, 0] = answer[t - 1]
    return Trace(trace.model, trace.a, trace.b, tensors)
