"""Text the renderer draws itself: a font atlas made with Pillow's FreeType, and text groups.

A text group is a VoxelLayout whose voxels are text items (one anchor each), marked for the text
draw mode (viz.draw.text), so it lives in the scene like any group: it is placed, shown, hidden
and framed with the rest, and offscreen renders and screenshots carry it. An item's value is its
brightness (1 full, lower dims it), so a group can be dimmed with Scene.update_values.

Text lies flat in the group's x-y plane, facing +z, `height` world units from baseline to the
top of a capital. The font is DejaVu Sans (the system's, else the copy matplotlib ships) or, when
neither is found, Pillow's built-in scalable font with ASCII stand-ins for the symbols it lacks.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from viz.voxels import VoxelLayout

MARK = "text"               # layout.tags["mark"] of a text group
ATLAS_PX = 48               # font size the glyphs are rasterized at
PAD_PX = 4                  # empty texels around each glyph: mipmaps do not bleed into neighbours
CHARSET = "".join(chr(c) for c in range(32, 127)) + "×→←↓↑…·−Σ≈"
STAND_INS = {"×": "x", "→": ">", "←": "<", "↓": "v", "↑": "^", "…": "...", "·": ".", "−": "-",
             "Σ": "S", "≈": "~"}
SYSTEM_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                "/usr/share/fonts/TTF/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans.ttf")


def font_path() -> str | None:
    """A DejaVu Sans file: the system's, else matplotlib's (found without importing it), else None."""
    for path in SYSTEM_FONTS:
        if Path(path).is_file():
            return path
    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.origin:
        shipped = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
        if shipped.is_file():
            return str(shipped)
    return None


def load_font(size: int = ATLAS_PX) -> ImageFont.FreeTypeFont:
    path = font_path()
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size=size)


@dataclass(frozen=True)
class Glyph:
    uv: tuple[float, float, float, float]   # u0, v0 (top-left), u1, v1 in the atlas, [0, 1]
    offset: tuple[float, float]             # quad's left, top from the pen at the baseline, in em
    size: tuple[float, float]               # quad's width, height in em
    advance: float                          # pen move in em


@dataclass
class Atlas:
    image: np.ndarray                       # (H, W) uint8 coverage, top row first
    glyphs: dict[str, Glyph]
    cap_height: float                       # height of a capital, in em

    def glyph(self, ch: str) -> Glyph:
        return self.glyphs.get(ch) or self.glyphs["?"]

    def width(self, text: str) -> float:
        """Advance of `text`, in em."""
        return sum(self.glyph(ch).advance for ch in text)


def _bitmap(font, ch: str) -> bytes:
    image = Image.new("L", (2 * ATLAS_PX, 2 * ATLAS_PX), 0)
    ImageDraw.Draw(image).text((ATLAS_PX // 2, ATLAS_PX // 2), ch, font=font, fill=255)
    return image.tobytes()


def _has_glyph(font, ch: str) -> bool:
    """False when the font draws `ch` as its missing-glyph box (as it draws code point 0xFFFF)."""
    return ch == " " or _bitmap(font, ch) != _bitmap(font, "\uffff")


@lru_cache(maxsize=1)
def atlas() -> Atlas:
    """The process's font atlas (CHARSET at ATLAS_PX), built once."""
    font = load_font(ATLAS_PX)
    cells, glyphs = {}, {}
    for ch in CHARSET:
        shown = ch if _has_glyph(font, ch) else STAND_INS.get(ch, "?")
        box = font.getbbox(shown, anchor="ls")          # left, top, right, bottom from the baseline pen
        cells[ch] = (shown, box, font.getlength(shown))
    cell_h = max(b[3] - b[1] for _, b, _ in cells.values()) + 2 * PAD_PX
    width = 1024
    x = y = 0
    where = {}
    for ch, (_, box, _) in cells.items():
        w = box[2] - box[0] + 2 * PAD_PX
        if x + w > width:
            x, y = 0, y + cell_h
        where[ch] = (x, y)
        x += w
    height = 1 << int(np.ceil(np.log2(y + cell_h)))
    image = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(image)
    for ch, (shown, box, advance) in cells.items():
        x, y = where[ch]
        draw.text((x + PAD_PX - box[0], y + PAD_PX - box[1]), shown, font=font, fill=255, anchor="ls")
        w, h = box[2] - box[0] + 2 * PAD_PX, box[3] - box[1] + 2 * PAD_PX
        glyphs[ch] = Glyph(uv=(x / width, y / height, (x + w) / width, (y + h) / height),
                           offset=((box[0] - PAD_PX) / ATLAS_PX, (-box[1] + PAD_PX) / ATLAS_PX),
                           size=(w / ATLAS_PX, h / ATLAS_PX), advance=advance / ATLAS_PX)
    cap = font.getbbox("H", anchor="ls")
    return Atlas(np.asarray(image, np.uint8), glyphs, (cap[3] - cap[1]) / ATLAS_PX)


@dataclass
class Label:
    """One text item: `text` at `anchor` (local units), `height` tall (a capital's height)."""
    text: str
    anchor: tuple[float, float, float]
    height: float = 1.0
    colour: tuple[float, float, float] = (0.85, 0.85, 0.85)
    align: float = 0.0          # 0 the anchor at the left end, 0.5 the middle, 1 the right end
    valign: float = 0.0         # 0 the anchor on the baseline, 0.5 at mid capital height, 1 on top
    brightness: float = 1.0


def label_box(label: Label, font: Atlas | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Local (min, max) corners of the text's box (capitals' height, the advance's width)."""
    font = font or atlas()
    em = label.height / font.cap_height
    w = font.width(label.text) * em
    x0 = label.anchor[0] - label.align * w
    y0 = label.anchor[1] - label.valign * label.height
    z = label.anchor[2]
    return np.array([x0, y0 - 0.25 * label.height, z]), np.array([x0 + w, y0 + label.height, z])


def text_layout(name: str, labels: list[Label]) -> VoxelLayout:
    """A text group: one voxel per label, at its anchor, valued by its brightness."""
    anchors = np.array([lb.anchor for lb in labels], np.float32).reshape(-1, 3)
    return VoxelLayout(
        name=name, label="", positions=anchors,
        values=np.array([lb.brightness for lb in labels], np.float32),
        indices=np.arange(len(labels))[:, None], colormap="sequential", value_range=(0.0, 1.0),
        tags={"mark": MARK, "labels": list(labels)})


def glyph_quads(labels: list[Label], font: Atlas | None = None) -> np.ndarray:
    """(G, 13) float32 per glyph: local lower-left corner xyz, width, height, uv rect (u0 v0 u1 v1),
    colour rgb, and the index of its label (whose value dims it)."""
    font = font or atlas()
    rows = []
    for k, lb in enumerate(labels):
        em = lb.height / font.cap_height
        pen = lb.anchor[0] - lb.align * font.width(lb.text) * em
        base = lb.anchor[1] - lb.valign * lb.height
        for ch in lb.text:
            g = font.glyph(ch)
            if ch != " ":
                left, top = pen + g.offset[0] * em, base + g.offset[1] * em
                w, h = g.size[0] * em, g.size[1] * em
                rows.append((left, top - h, lb.anchor[2], w, h, g.uv[0], g.uv[3], g.uv[2], g.uv[1],
                             *lb.colour, k))
            pen += g.advance * em
    return np.array(rows, np.float32).reshape(-1, 13)
