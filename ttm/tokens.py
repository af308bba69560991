"""The multiplication vocabulary and the task's token format.

A problem ``a × b`` is fed at the first step as ``a-digits × b-digits EOS`` (most significant digit
first, as people write it). The answer comes out one token per step, least significant digit first,
then EOS: ``37 × 42`` -> input ``3 7 × 4 2 EOS``, answer ``4 5 5 1 EOS`` (1554 reversed).
"""
from __future__ import annotations

DIGITS = tuple(range(10))
TIMES = 10
EOS = 11
PAD = 12
VOCAB_SIZE = 13
SYMBOLS = tuple(str(d) for d in DIGITS) + ("×", "<EOS>", "<PAD>")


def number_to_tokens(n: int) -> list[int]:
    """Digits of a non-negative integer, most significant first: 42 -> [4, 2]."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"expected a non-negative integer, got {n!r}")
    return [int(c) for c in str(n)]


def tokens_to_number(tokens: list[int]) -> int:
    """Inverse of number_to_tokens: [4, 2] -> 42."""
    if not tokens or any(t not in DIGITS for t in tokens):
        raise ValueError(f"not a digit sequence: {tokens!r}")
    return int("".join(str(t) for t in tokens))


def problem_tokens(a: int, b: int, width: int | None = None) -> list[int]:
    """The first step's input: a × b EOS; with `width`, each operand zero-padded to that many
    digits (37 × 42 at width 4: 0 0 3 7 × 0 0 4 2 EOS), so a digit's place is its position."""
    def digits(n: int) -> list[int]:
        d = number_to_tokens(n)
        return [0] * max(0, (width or 0) - len(d)) + d
    return digits(a) + [TIMES] + digits(b) + [EOS]


def answer_tokens(product: int) -> list[int]:
    """The target sequence: digits least significant first, then EOS."""
    return number_to_tokens(product)[::-1] + [EOS]


def answer_to_number(tokens: list[int]) -> int | None:
    """Read a produced answer (least significant digit first) up to its first non-digit token.

    Returns None when the model produced no digit at all.
    """
    digits = []
    for t in tokens:
        if t not in DIGITS:
            break
        digits.append(t)
    return tokens_to_number(digits[::-1]) if digits else None


def tokens_to_string(tokens: list[int]) -> str:
    """Human form: [3, 7, 10, 4, 2, 11] -> '37×42<EOS>'."""
    return "".join(SYMBOLS[t] for t in tokens)


def string_to_tokens(text: str) -> list[int]:
    """Inverse of tokens_to_string."""
    tokens, i = [], 0
    while i < len(text):
        for tok, sym in sorted(enumerate(SYMBOLS), key=lambda s: -len(s[1])):
            if text.startswith(sym, i):
                tokens.append(tok)
                i += len(sym)
                break
        else:
            raise ValueError(f"unknown symbol at position {i} of {text!r}")
    return tokens


def problem_operands(tokens: list[int]) -> tuple[int, int]:
    """Inverse of problem_tokens (PAD after EOS allowed): [3, 7, 10, 4, 2, 11] -> (37, 42)."""
    if TIMES not in tokens or EOS not in tokens:
        raise ValueError(f"not a problem a × b EOS: {tokens!r}")
    times, eos = tokens.index(TIMES), tokens.index(EOS)
    return tokens_to_number(tokens[:times]), tokens_to_number(tokens[times + 1 : eos])


def carries(a: int, b: int) -> list[int]:
    """The carry out of each digit of a × b, least significant first (one per answer digit):
    column k sums a_i * b_j over i + j = k plus the carry into it; its digit is the sum mod 10
    and the rest, sum // 10, is what the step producing digit k must pass on to the next."""
    da, db = [int(c) for c in str(a)[::-1]], [int(c) for c in str(b)[::-1]]
    out, carry = [], 0
    for k in range(len(str(a * b))):
        column = sum(da[i] * db[k - i] for i in range(len(da)) if 0 <= k - i < len(db)) + carry
        carry = column // 10
        out.append(carry)
    return out
