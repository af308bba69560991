"""Markdown tables, the form every printed result table takes (ttm.evaluate, ttm.ablate)."""
from __future__ import annotations


def table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table: the header, a rule, one line per row."""
    line = lambda cells: "| " + " | ".join(str(c) for c in cells) + " |"  # noqa: E731
    return "\n".join([line(header), "|---" * len(header) + "|", *map(line, rows)])
