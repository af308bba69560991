"""Reading a multiplication problem typed by a person: "37x42", "37 * 42", "37 × 42", "37 42".

Every refusal is an InputError whose message says what was wrong and what is accepted, so callers
print it and ask again instead of showing a traceback.
"""
from __future__ import annotations

import re

TIMES_SIGNS = "xX*×·"
EXAMPLE = "type two whole numbers, e.g. 37x42, 37 * 42, 37 × 42 or 37 42"
_SPLIT = re.compile(rf"\s*[{re.escape(TIMES_SIGNS)}]\s*|\s+")


class InputError(ValueError):
    """The text is not a problem this model can answer; the message is meant for the user."""


def parse_operand(text: str, max_digits: int) -> int:
    text = text.strip()
    if not text:
        raise InputError(f"an operand is missing; {EXAMPLE}")
    if text.startswith("-") and text[1:].isdigit():
        raise InputError(f"{text} is negative; the model multiplies non-negative whole numbers only")
    if text.startswith("+") and text[1:].isdigit():
        text = text[1:]
    if not (text.isascii() and text.isdigit()):
        if re.fullmatch(r"[+-]?\d*[.,]\d+", text):
            raise InputError(f"{text} is not a whole number; the model multiplies whole numbers only")
        raise InputError(f"{text!r} is not a number; {EXAMPLE}")
    digits = len(text.lstrip("0")) or 1
    if digits > max_digits:
        raise InputError(f"{text} has {digits} digits; this model supports operands of at most "
                         f"{max_digits} digit{'s' * (max_digits != 1)}")
    return int(text)


def parse_problem(text, max_digits: int) -> tuple[int, int]:
    """(a, b) from one string, or from a sequence of strings (command-line arguments)."""
    if not isinstance(text, str):
        text = " ".join(text)
    text = text.strip()
    if not text:
        raise InputError(f"nothing to multiply; {EXAMPLE}")
    # A minus sign right after the times sign belongs to the operand ("3 x -4"), so split on the
    # sign first and only then on spaces.
    parts = [p for p in _SPLIT.split(text) if p != ""]
    signs = sum(text.count(s) for s in TIMES_SIGNS)
    if signs > 1 or len(parts) != 2:
        if len(parts) == 1 and signs == 0:
            parse_operand(parts[0], max_digits)  # says what is wrong with it, if anything
            raise InputError(f"{text!r} is one number; {EXAMPLE}")
        if len(parts) < 2:
            raise InputError(f"{text!r} needs two operands; {EXAMPLE}")
        raise InputError(f"{text!r} is not one product of two numbers; {EXAMPLE}")
    return parse_operand(parts[0], max_digits), parse_operand(parts[1], max_digits)
