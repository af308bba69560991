"""Small seeded models shared by the ttm tests (fast on a 2-core CPU)."""
import torch

from ttm.model import TTM, TTMConfig


def tiny_config(**overrides) -> TTMConfig:
    base = dict(dim=32, memory_tokens=8, read_tokens=4, layers=2, heads=2, mlp_dim=64,
                summarizer_hidden=16, max_digits=3)
    return TTMConfig(**{**base, **overrides})


def tiny_model(seed: int = 0, **overrides) -> TTM:
    torch.manual_seed(seed)
    return TTM(tiny_config(**overrides)).eval()


def long_trace(model, min_steps: int = 4):
    """A trace with at least `min_steps` steps (an untrained model may stop early at EOS)."""
    # A random model stops at its first EOS; bias the head away from EOS so traces run long.
    with torch.no_grad():
        model.step.head.bias[11] = -1e4
    return model.trace(123, 45)
