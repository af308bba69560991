"""One step of a Token Turing Machine laid out along the way its data flows, as scene groups.

Tokens are rows (one voxel per feature, features along +x). The step runs right along the top line
and back along the bottom one, so the memory it writes ends up under the memory it read:

    memory entering (m slots)  ==read==>  read tokens (r)  ->  attention: layers x heads
    input tokens (n, glyphs)    ribbons                                |
                                                                      v
    memory after (m)  <==write==  write sources  <-  processed tokens (r)  ->  output: a labelled
    change per slot    ribbons    (one chip each)                              bar per token

A read ribbon joins source row i to read token j (brightness and width: the weight), the few
strongest per read token; a write ribbon joins write source k to memory slot i, the few strongest
per slot. Every group is named by the trace tensor it shows ("memory.before", "read.weights", ...)
with `prefix` in front (other steps get their own prefix), and carries `tags["origin"]`, where
FlowScene puts it: steps stack along -z, so flying forward moves through time. Group values and
colour ranges are the data's, so an overlay can swap them like any group's.

Pure numpy on plain arrays; what the columns of the weights are (the model's knowledge) comes in
the FlowShape.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import numpy as np

from viz.ribbons import ribbon_layout, top_links
from viz.text import Label, text_layout
from viz.voxels import VoxelLayout

RIBBON_RUN = 56.0          # x run of a ribbon fan
INPUT_PITCH = 6.0          # rows per input token: room for a glyph a person can read
BAR_PITCH = 6.0            # rows per output bar
BAR_LEN = 40               # voxels of a bar at p = 1
SHOWN_P_CHANGE = 0.01      # smallest change of another token's p that a difference labels
TIER_GAP = 34.0            # between the two lines of the flow
GAP = 14.0                 # between neighbouring blocks of a line
TITLE = 6.5                # text heights (a capital's), in rows
GLYPH = 5.0
TICK = 3.0
NOTE = 4.0
ARROW = 9.0
READ_LINKS, WRITE_LINKS = 4, 2   # strongest links kept per read token / per memory slot
MARKED = 3                 # sources read most and slots changed most, named in the picture
STRIP_W = 3                # voxels across a chip of the write sources and memory change strips
TITLE_COLOUR = (0.92, 0.92, 0.92)
TICK_COLOUR = (0.6, 0.6, 0.6)
ANSWER_COLOUR = (1.0, 0.85, 0.3)
PRODUCT_COLOUR = (0.45, 0.9, 0.45)   # the true product's token, where the step answered another
DIM_TEXT = 0.22            # brightness of a step that is not the current one
LEGEND_WIDTH = 46          # characters a legend line holds: at NOTE, no wider than the processed block
# Each a paragraph of the legend under the processed tokens, wrapped to LEGEND_WIDTH.
LEGEND_TEXT = ("How to read this: each row is a token, one cube per feature (orange positive, "
               "blue negative, grey near 0).",
               "Ribbons join what a step reads from and writes to: brighter and wider = more weight "
               "(the strongest few per token).",
               "Read: r tokens, each a weighted sum of memory and input tokens.",
               "Process: a transformer over the r tokens; the output reads them.",
               "Write: every memory slot becomes a weighted sum of the sources; 'change' says how "
               "far each slot moved.")
LEGEND_SIGNED_TEXT = ("The difference of two runs, number by number: the compared run minus the one "
                      "on view, as in the title.",
                      "Orange: larger in the compared run, blue: smaller, grey: the same.",
                      "Ribbons: the links whose weight changed most, brighter = more.",
                      "Output: how p of each token changed.")
LEGEND = tuple(line for text in LEGEND_TEXT for line in textwrap.wrap(text, LEGEND_WIDTH))
LEGEND_SIGNED = tuple(line for text in LEGEND_SIGNED_TEXT for line in textwrap.wrap(text, LEGEND_WIDTH))


@dataclass
class FlowShape:
    """What the flow needs to know about the model: counts, token symbols, and what the columns of
    the write weights are (segment name -> count, in column order); the read's are the m memory
    slots, then the n input tokens."""
    m: int
    n: int
    r: int
    d: int
    layers: int
    heads: int
    symbols: tuple[str, ...]       # the label of each output token
    write_sources: dict[str, int]


@dataclass
class StepArrays:
    """One step's numbers (numpy), as the trace has them at that step (or a difference of two)."""
    memory_in: np.ndarray          # (m, d)
    memory_out: np.ndarray         # (m, d)
    input_labels: list[str]        # (n,) what each input token is drawn as ("7", "×", "PAD")
    input_pad: np.ndarray          # (n,) bool: padding, drawn dim
    input_features: np.ndarray     # (n, d) the input tokens' embeddings
    read_weights: np.ndarray       # (r, m + n)
    read_tokens: np.ndarray        # (r, d)
    attention: np.ndarray          # (layers, heads, r, r)
    processed: np.ndarray          # (r, d)
    probs: np.ndarray              # (V,) p of each output token
    chosen: int                    # the token the step answered
    write_weights: np.ndarray      # (m, write sources)
    change: np.ndarray             # (m,) how far each memory slot moved
    expected: int | None = None    # the token the true product has at this step (None: unknown
                                   # or past its end); labelled where the step answered another


@dataclass
class FlowStyle:
    """Colour ranges by group name (steady over a trace), and how bright the step is drawn."""
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    current: bool = True
    signed: bool = False           # a difference of two traces: every scale diverging, zero grey
    caption: str = ""              # what the header names first ("38 × 42", "38 × 42 − 37 × 42")
    dim_range: float = 8.0         # a step that is not current: ranges this much wider, so dimmer

    def range(self, name: str, default: tuple[float, float]) -> tuple[float, float]:
        lo, hi = self.ranges.get(name, default)
        k = 1.0 if self.current else self.dim_range
        return (lo * k, hi * k)


class FlowGeometry:
    """Where each row of one step sits (step-local units, y up, slot 0 at the top)."""

    def __init__(self, shape: FlowShape):
        s = self.shape = shape
        self.input_top = -(s.m + 12.0)
        src_bottom = self.input_top - INPUT_PITCH * (s.n - 1)
        self.source_mid = src_bottom / 2
        self.read_x = s.d + RIBBON_RUN
        self.read_top = self.source_mid + (s.r - 1) / 2
        self.attn_x = self.read_x + s.d + GAP + ARROW
        self.tile = s.r + 3.0
        self.attn_top = self.source_mid + (s.heads * self.tile - 3.0 - 1) / 2
        self.right = self.attn_x + s.layers * self.tile - 3.0          # the flow's right edge
        self.tier2 = min(src_bottom, self.attn_top - s.heads * self.tile) - TIER_GAP - TITLE * 2
        self.proc_x = self.right - s.d                                  # under the attention
        self.bars_x = self.right + GAP + ARROW + 2 * GLYPH
        self.bars_top = self.tier2 - BAR_PITCH / 2
        self.after_x = 0.0                                              # under the memory entering
        self.strip_x = s.d + RIBBON_RUN
        self.change_x = -GAP / 2 - STRIP_W

    def source_y(self, i: np.ndarray) -> np.ndarray:
        """Row of read source i (memory slots, then input tokens)."""
        i = np.asarray(i)
        m = self.shape.m
        return np.where(i < m, -i.astype(float), self.input_top - INPUT_PITCH * (i - m))

    def strip_y(self, k: np.ndarray) -> np.ndarray:
        """Row of write source k: its segments one below the other, 2 rows apart."""
        k = np.asarray(k)
        y = np.zeros(k.shape)
        start, gap = 0, 0.0
        for count in self.shape.write_sources.values():
            inside = (k >= start) & (k < start + count)
            y = np.where(inside, self.tier2 - (k + gap), y)
            start += count
            gap += 2.0
        return y

    def bar_y(self, v: np.ndarray) -> np.ndarray:
        return self.bars_top - BAR_PITCH * np.asarray(v, float)


def _grid(rows: int, cols: int, x0: float, row_y: np.ndarray) -> np.ndarray:
    """(rows * cols, 3) voxel centres: row i at height row_y[i], columns from x0."""
    y = np.repeat(np.asarray(row_y, float), cols)
    x = x0 + np.tile(np.arange(cols, dtype=float), rows)
    return np.stack([x, y, np.zeros_like(x)], axis=1)


def _block(name, values, x0, row_y, colormap, value_range, origin) -> VoxelLayout:
    """A (rows, cols) tensor as rows of voxels from x0, row i at height row_y[i]."""
    rows, cols = values.shape
    idx = np.indices((rows, cols)).reshape(2, -1).T
    return VoxelLayout(name=name, label="", positions=_grid(rows, cols, x0, row_y),
                       values=values.reshape(-1), indices=idx, colormap=colormap,
                       value_range=value_range, tags={"origin": origin})


def flow_step(shape: FlowShape, data: StepArrays, step: int, prefix: str, origin, style: FlowStyle) -> list[VoxelLayout]:
    """The groups of one step (see the module docstring), placed at `origin` (world)."""
    s, g = shape, FlowGeometry(shape)
    origin = np.asarray(origin, np.float32)
    rng = style.range
    mem_range = rng("memory", (-1.0, 1.0))
    weights = "diverging" if style.signed else "sequential"   # the scale of weights and shares
    out: list[VoxelLayout] = []

    def add(layout: VoxelLayout) -> None:
        layout.name = prefix + layout.name
        out.append(layout)

    # line one: sources -> read -> read tokens -> attention
    add(_block("memory.before", data.memory_in, 0.0, -np.arange(s.m, dtype=float), "diverging",
               mem_range, origin))
    add(_block("input", data.input_features, 0.0, g.source_y(s.m + np.arange(s.n)), "diverging",
               rng("input", (-1.0, 1.0)), origin))
    read_rows = g.read_top - np.arange(s.r, dtype=float)
    add(_block("read.tokens", data.read_tokens, g.read_x, read_rows, "diverging",
               rng("read.tokens", (-1.0, 1.0)), origin))
    attn = data.attention                                          # (L, H, r, r)
    L, H, r, _ = attn.shape
    l, h, q, k = (a.reshape(-1) for a in np.indices(attn.shape))
    attn_pos = np.stack([g.attn_x + l * g.tile + k, g.attn_top - h * g.tile - q, np.zeros(len(l))], axis=1)
    add(VoxelLayout(name="attention", label="", positions=attn_pos, values=attn.reshape(-1),
                    indices=np.stack([np.zeros_like(l), l, h, q, k], axis=1), colormap=weights,
                    value_range=rng("attention", (0.0, 1.0)), tags={"origin": origin}))
    # line two: processed -> output; write sources -> write -> memory after
    proc_rows = g.tier2 - np.arange(s.r, dtype=float)
    add(_block("processed", data.processed, g.proc_x, proc_rows, "diverging",
               rng("processed", (-1.0, 1.0)), origin))
    p = np.asarray(data.probs, np.float64)
    lengths = np.maximum(1, np.round(np.abs(p) * BAR_LEN)).astype(int)
    tok = np.repeat(np.arange(len(p)), lengths)
    along = np.concatenate([np.arange(n) for n in lengths]).astype(float)
    bars = VoxelLayout(name="output", label="",
                       positions=np.stack([g.bars_x + along, g.bar_y(tok), np.zeros(len(tok))], axis=1),
                       values=p[tok], indices=tok[:, None], colormap=weights,
                       value_range=rng("output", (0.0, 1.0)), tags={"origin": origin})
    add(bars)
    sources = data.write_weights.shape[1]
    share = data.write_weights.sum(axis=0) / max(s.m, 1)
    strip_rows = g.strip_y(np.arange(sources))
    add(_strip("write.sources", share, g.strip_x, strip_rows,
               rng("write.sources", (0.0, max(float(np.abs(share).max()), 1e-6))), weights, origin))
    after_rows = g.tier2 - np.arange(s.m, dtype=float)
    add(_block("memory.after", data.memory_out, g.after_x, after_rows, "diverging", mem_range, origin))
    add(_strip("memory.change", data.change, g.change_x, after_rows,
               rng("memory.change", (0.0, max(float(np.abs(data.change).max()), 1e-6))), weights, origin))

    # ribbons
    read_range = rng("read.weights", (0.0, 1.0))
    tgt, src, w = _links(data.read_weights, READ_LINKS, style.signed)
    add(ribbon_layout("read.weights",
                      starts=np.stack([np.full(len(src), s.d - 0.2), g.source_y(src), np.zeros(len(src))], 1),
                      ends=np.stack([np.full(len(tgt), g.read_x - 0.8), read_rows[tgt], np.zeros(len(tgt))], 1),
                      values=w, widths=_widths(w, read_range), indices=np.stack([tgt, src], 1),
                      colormap=weights, value_range=read_range, tags={"origin": origin}))
    write_range = rng("write.weights", (0.0, 1.0))
    tgt, src, w = _links(data.write_weights, WRITE_LINKS, style.signed)
    add(ribbon_layout("write.weights",
                      starts=np.stack([np.full(len(src), g.strip_x - 0.8), strip_rows[src], np.zeros(len(src))], 1),
                      ends=np.stack([np.full(len(tgt), g.after_x + s.d - 0.2), after_rows[tgt], np.zeros(len(tgt))], 1),
                      values=w, widths=_widths(w, write_range), indices=np.stack([tgt, src], 1),
                      colormap=weights, value_range=write_range, tags={"origin": origin}))
    labels = text_layout("text", step_labels(shape, data, step, g, style))
    labels.tags["origin"] = origin
    add(labels)
    return out


def _strip(name, values, x0, row_y, value_range, colormap, origin) -> VoxelLayout:
    """One chip per row, STRIP_W voxels wide, all showing the row's value (index: the row)."""
    layout = _block(name, np.repeat(np.asarray(values, float)[:, None], STRIP_W, axis=1), x0, row_y,
                    colormap, value_range, origin)
    layout.indices = layout.indices[:, :1]
    return layout


def _links(weights: np.ndarray, k: int, signed: bool):
    """(targets, sources, values) of the links drawn: the k strongest per target (by size when
    signed), weakest first so the strongest are drawn over them; links of exactly zero left out
    (nothing flows there)."""
    tgt, src = top_links(np.abs(weights) if signed else weights, k)
    w = weights[tgt, src]
    order = np.argsort(np.abs(w), kind="stable")
    order = order[w[order] != 0]
    return tgt[order], src[order], w[order]


def _widths(w: np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    """Ribbon width (rows) from a weight's size: thin for small ones, nearly a row at the top of the range."""
    top = max(abs(value_range[0]), abs(value_range[1]), 1e-9)
    return 0.15 + 0.75 * np.clip(np.abs(w) / top, 0.0, 1.0)


def step_labels(shape: FlowShape, data: StepArrays, step: int, g: FlowGeometry, style: FlowStyle) -> list[Label]:
    """Titles, token glyphs, slot and feature ticks, arrows, bar labels and the answer of one step."""
    s, current = shape, style.current
    p, chosen = np.asarray(data.probs, np.float64), int(data.chosen)
    b = 1.0 if current else DIM_TEXT
    out: list[Label] = []

    def say(text, x, y, height=TICK, colour=TICK_COLOUR, align=0.0, valign=0.0):
        out.append(Label(text, (float(x), float(y), 0.0), height, colour, align, valign, b))

    def title(text, x, y, align=0.0, scale=1.0):
        say(text, x, y + 2.0, TITLE * scale, TITLE_COLOUR, align)

    shown = " ".join(lb for lb, pad in zip(data.input_labels, data.input_pad) if not pad)
    answer = _symbol(s.symbols, chosen)
    lead = f"{style.caption},  " if style.caption else ""
    header = (f"{lead}step {step}:  how each number differs" if style.signed else
              f"{lead}step {step}:  reads memory and the input {shown},  answers {answer},  writes memory")
    say(header, -0.5, 2.0 + TITLE * 2.6, TITLE * 1.35, ANSWER_COLOUR if current else TITLE_COLOUR)
    # line one
    title(f"memory entering step {step}", -0.5, TICK + 1.5, scale=0.8)
    for slot in range(0, s.m, 16):
        say(str(slot), -1.5, -slot, align=1.0, valign=0.5)
    say(str(s.m - 1), -1.5, -(s.m - 1), align=1.0, valign=0.5)
    say("slot", -1.5, TICK + 0.8, align=1.0)
    for f in (0, s.d // 4, s.d // 2, 3 * s.d // 4, s.d - 1):
        say(str(f), f, 1.0, align=0.5)
    title("input tokens", -0.5, float(g.source_y(s.m)) + GLYPH * 0.5, scale=0.8)
    for i, (text, pad) in enumerate(zip(data.input_labels, data.input_pad)):
        say(text, -1.5, g.source_y(s.m + i), GLYPH * (0.6 if pad else 1.0),
            TICK_COLOUR if pad else (1.0, 1.0, 1.0), align=1.0, valign=0.5)
    title(f"read  {s.m + s.n} -> {s.r}", s.d + RIBBON_RUN / 2, TICK + 1.5, align=0.5, scale=0.8)
    title(f"read tokens  (r = {s.r})", g.read_x - 0.5, g.read_top + 1.0, scale=0.8)
    say("→", g.attn_x - ARROW / 2 - 1.0, g.read_top - s.r / 2, ARROW, TICK_COLOUR, align=0.5, valign=0.5)
    title(f"process: {s.layers} layers x {s.heads} heads of attention", g.attn_x - 0.5, g.attn_top + 1.0,
          scale=0.8)
    for layer in range(s.layers):
        say(f"layer {layer}", g.attn_x + layer * g.tile + s.r / 2 - 0.5, g.attn_top - s.heads * g.tile + 1.0,
            align=0.5, valign=1.0)
    for head in range(s.heads):
        say(f"head {head}", g.right + 1.5, g.attn_top - head * g.tile - s.r / 2 + 0.5, valign=0.5)
    # line two, right to left
    low = g.attn_top - s.heads * g.tile - TICK - 2.0
    say("↓", g.right - s.d / 2, (low + g.tier2 + TITLE + 4.0) / 2, ARROW, TICK_COLOUR, align=0.5, valign=0.5)
    title(f"processed tokens  (r = {s.r})", g.proc_x - 0.5, g.tier2 + 1.0, scale=0.8)
    say("→", g.right + GAP / 2 + ARROW / 2, g.tier2 - s.r / 2, ARROW, TICK_COLOUR, align=0.5, valign=0.5)
    say("←", g.proc_x - GAP / 2 - 1.0, g.tier2 - s.r / 2, ARROW, TICK_COLOUR, align=1.0, valign=0.5)
    title("output", g.bars_x - 2 * GLYPH, g.tier2 + 1.0, scale=0.8)
    missed = None if style.signed or data.expected == chosen else data.expected
    for v in range(len(p)):
        colour = ANSWER_COLOUR if v == chosen else PRODUCT_COLOUR if v == missed else (0.8, 0.8, 0.8)
        say(_symbol(s.symbols, v), g.bars_x - 1.5, g.bar_y(v), GLYPH * (1.0 if v in (chosen, missed) else 0.7),
            colour, align=1.0, valign=0.5)
    def past_bar(v: int) -> float:
        return g.bars_x + max(1, round(abs(float(p[v])) * BAR_LEN)) + 1.5

    say(f"{'p change' if style.signed else 'answer ' + answer}  ({'' if style.signed else 'p '}"
        f"{p[chosen]:{'+.2f' if style.signed else '.2f'}})", past_bar(chosen), g.bar_y(chosen), GLYPH,
        ANSWER_COLOUR, valign=0.5)
    if missed is not None:
        say(f"product {_symbol(s.symbols, missed)}  (p {p[missed]:.2f})", past_bar(missed),
            g.bar_y(missed), GLYPH, PRODUCT_COLOUR, valign=0.5)
    if style.signed:      # where the probability went: the other run's answer is among these
        others = [v for v in np.argsort(-np.abs(p), kind="stable") if v != chosen and abs(p[v]) >= SHOWN_P_CHANGE]
        for v in others[:2]:
            say(f"{p[v]:+.2f}", past_bar(v), g.bar_y(v), GLYPH, TITLE_COLOUR, valign=0.5)
    title(f"write  {sum(s.write_sources.values())} -> {s.m}", s.d + RIBBON_RUN / 2, g.tier2 + 1.0,
          align=0.5, scale=0.8)
    say("write sources", g.strip_x + STRIP_W + 1.0, g.tier2 - 0.5, TICK, valign=0.5)
    start = 0
    for segment, count in s.write_sources.items():
        y0 = float(g.strip_y(start))
        say(f"{segment} ({count})", g.strip_x + STRIP_W + 1.0, y0 - (count - 1) / 2, TICK * 1.2,
            valign=0.5)
        start += count
    title(f"memory after step {step}", g.after_x - 0.5, g.tier2 + 1.0, scale=0.8)
    say("change", g.change_x + STRIP_W, g.tier2 + 1.0, align=1.0)
    for slot in range(0, s.m, 16):
        say(str(slot), g.change_x - 1.5, g.tier2 - slot, align=1.0, valign=0.5)
    # what a newcomer asks first: which tokens it read, which slots it changed most
    for i in _largest(data.read_weights.sum(axis=0), MARKED):
        name = f"slot {i}" if i < s.m else f"input {data.input_labels[i - s.m]}"
        say(f"{name} >", -TICK * 2.4, g.source_y(i), TICK, ANSWER_COLOUR, align=1.0, valign=0.5)
    for slot in _largest(data.change, MARKED):
        say(f"slot {slot} >", g.change_x - TICK * 2.4, g.tier2 - slot, TICK, ANSWER_COLOUR, align=1.0, valign=0.5)
    if current:
        legend = LEGEND_SIGNED if style.signed else LEGEND
        for i, line in enumerate(legend):
            say(line, g.proc_x - 0.5, g.tier2 - s.r - 10.0 - i * NOTE * 1.7, NOTE)
    return out


def _largest(values: np.ndarray, k: int) -> list[int]:
    """Indices of the k values largest in size, largest first."""
    return np.argsort(-np.abs(np.asarray(values, float)), kind="stable")[:k].tolist()


def _symbol(symbols: tuple[str, ...], t: int) -> str:
    text = symbols[t] if 0 <= t < len(symbols) else str(t)
    return text.strip("<>")
