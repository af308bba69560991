"""Token Turing Machine that learns multiplication, with hooks, traces and replay.

This package is the model side: it never imports viz/, moderngl or pyglet.
"""
from .checkpoint import CheckpointError, load, save
from .hooks import HookPoint, capture, edit, hook_points
from .model import TTM, TTMConfig
from .tokens import (EOS, PAD, TIMES, VOCAB_SIZE, number_to_tokens, string_to_tokens,
                     tokens_to_number, tokens_to_string)
from .trace import Trace

__all__ = ["TTM", "TTMConfig", "Trace", "load", "save", "CheckpointError", "HookPoint",
           "capture", "edit", "hook_points", "number_to_tokens", "tokens_to_number",
           "tokens_to_string", "string_to_tokens", "EOS", "PAD", "TIMES", "VOCAB_SIZE"]
