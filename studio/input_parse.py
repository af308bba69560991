"""Reading a multiplication problem typed by a person: "37x42", "37 * 42", "37 × 42", "37 42".

Every refusal is an InputError whose message says what was wrong and what is accepted, so callers
print it and ask again instead of showing a traceback.
"""
from __future__ import annotations

import re

TIMES_SIGNS = "xX*×·"
EXAMPLE = "type two whole numbers, e.g. 37x42, 37 * 42, 37 × 42 or 37 42"


class InputError(ValueError):
    """The text is not a problem this model can answer; the message is meant for the user."""


def shown(text: str, limit: int = 40) -> str:
    """`text` quoted for a message, cut to `limit` characters: a pasted page stays one line."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text):,} characters)"


def parse_operand(text: str, max_digits: int) -> int:
    text = text.strip()
    if not text:
        raise InputError(f"an operand is missing; {EXAMPLE}")
    if text.startswith("-") and text[1:].isascii() and text[1:].isdigit():
        raise InputError(f"{shown(text)} is negative; the model multiplies non-negative whole "
                         "numbers only")
    if text.startswith("+") and text[1:].isdigit():
        text = text[1:]
    if not (text.isascii() and text.isdigit()):
        if re.fullmatch(r"[+-]?\d*[.,]\d+", text):
            raise InputError(f"{shown(text)} is not a whole number; the model multiplies whole "
                             "numbers only")
        raise InputError(f"{shown(text)} is not a number; {EXAMPLE}")
    significant = text.lstrip("0") or "0"
    # Counted before int(): Python refuses to convert strings of more than 4300 digits.
    if len(significant) > max_digits:
        raise InputError(f"{shown(text)} has {len(significant):,} digits; this model supports "
                         f"operands of at most {max_digits} digit{'s' * (max_digits != 1)}")
    return int(significant)


def parse_problem(text, max_digits: int) -> tuple[int, int]:
    """(a, b) from one string, or from a sequence of strings (command-line arguments): two
    numbers with one times sign between them, or with only spaces between them."""
    if not isinstance(text, str):
        text = " ".join(text)
    text = text.strip()
    if not text:
        raise InputError(f"nothing to multiply; {EXAMPLE}")
    signs = [i for i, ch in enumerate(text) if ch in TIMES_SIGNS]
    if len(signs) > 1:
        raise InputError(f"{shown(text)} is not one product of two numbers; {EXAMPLE}")
    if signs:
        # Split on the sign only, so a minus sign after it stays with its operand ("3 x -4").
        parts = [text[: signs[0]].strip(), text[signs[0] + 1 :].strip()]
        if not all(parts):
            beside = (parts[0] or parts[1]).split()
            if len(beside) == 2:
                raise InputError(f"{shown(text)}: the times sign goes between the two numbers; "
                                 f"{EXAMPLE}")
            raise InputError(f"{shown(text)} needs two operands; {EXAMPLE}")
        if any(len(part.split()) > 1 for part in parts):
            raise InputError(f"{shown(text)} is not one product of two numbers; {EXAMPLE}")
    else:
        parts = text.split()
        if len(parts) == 1:
            parse_operand(parts[0], max_digits)  # says what is wrong with it, if anything
            raise InputError(f"{shown(text)} is one number; {EXAMPLE}")
        if len(parts) != 2:
            raise InputError(f"{shown(text)} is not one product of two numbers; {EXAMPLE}")
    return parse_operand(parts[0], max_digits), parse_operand(parts[1], max_digits)
