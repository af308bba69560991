"""A tiny numpy rasterizer: filled rectangles, thick lines and text in a built-in 3x5 bitmap font.

Just enough to draw tables and plots into a PNG (ttm.png) without matplotlib. Coordinates are
pixels, x to the right and y down; everything is clipped to the canvas.
"""
from __future__ import annotations

import numpy as np

from . import png

# 3x5 glyphs: five rows of three pixels, top to bottom, 1 = ink. Lower case is drawn as upper.
_GLYPHS = {
    "0": "111 101 101 101 111", "1": "010 110 010 010 111", "2": "111 001 111 100 111",
    "3": "111 001 111 001 111", "4": "101 101 111 001 001", "5": "111 100 111 001 111",
    "6": "111 100 111 101 111", "7": "111 001 010 010 010", "8": "111 101 111 101 111",
    "9": "111 101 111 001 111", ".": "000 000 000 000 010", ",": "000 000 000 010 100",
    "%": "101 001 010 100 101", "-": "000 000 111 000 000", "+": "000 010 111 010 000",
    "=": "000 111 000 111 000", ":": "000 010 000 010 000", "/": "001 001 010 100 100",
    "(": "010 100 100 100 010", ")": "010 001 001 001 010", "_": "000 000 000 000 111",
    " ": "000 000 000 000 000", "x": "000 101 010 101 000", "A": "010 101 111 101 101",
    "B": "110 101 110 101 110", "C": "011 100 100 100 011", "D": "110 101 101 101 110",
    "E": "111 100 110 100 111", "F": "111 100 110 100 100", "G": "011 100 101 101 011",
    "H": "101 101 111 101 101", "I": "111 010 010 010 111", "J": "001 001 001 101 010",
    "K": "101 101 110 101 101", "L": "100 100 100 100 111", "M": "101 111 111 101 101",
    "N": "110 101 101 101 101", "O": "010 101 101 101 010", "P": "110 101 110 100 100",
    "Q": "010 101 101 110 011", "R": "110 101 110 101 101", "S": "011 100 010 001 110",
    "T": "111 010 010 010 010", "U": "101 101 101 101 111", "V": "101 101 101 101 010",
    "W": "101 101 111 111 101", "X": "101 101 010 101 101", "Y": "101 101 010 010 010",
    "Z": "111 001 010 100 111", "<": "001 010 100 010 001", ">": "100 010 001 010 100",
}
FONT = {ch: np.array([[c == "1" for c in row] for row in rows.split()], bool)
        for ch, rows in _GLYPHS.items()}  # char -> (5, 3)
GLYPH_W, GLYPH_H = 3, 5


def text_size(text: str, scale: int = 2) -> tuple[int, int]:
    """(width, height) in pixels of `text` drawn at `scale` (one blank column between glyphs)."""
    return max(0, (GLYPH_W + 1) * len(text) - 1) * scale, GLYPH_H * scale


class Canvas:
    def __init__(self, width: int, height: int, background=(255, 255, 255)):
        self.pixels = np.empty((height, width, 3), np.uint8)  # (H, W, 3)
        self.pixels[:] = background

    @property
    def width(self) -> int:
        return self.pixels.shape[1]

    @property
    def height(self) -> int:
        return self.pixels.shape[0]

    def rect(self, x0: float, y0: float, x1: float, y1: float, color) -> None:
        """Fill [x0, x1) x [y0, y1)."""
        xa, xb = sorted((int(round(x0)), int(round(x1))))
        ya, yb = sorted((int(round(y0)), int(round(y1))))
        self.pixels[max(ya, 0) : max(yb, 0), max(xa, 0) : max(xb, 0)] = color

    def line(self, x0: float, y0: float, x1: float, y1: float, color, width: int = 1) -> None:
        """A segment stamped with width x width squares at every pixel step along it."""
        n = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
        lo = width // 2
        for t in np.linspace(0.0, 1.0, n):
            x, y = int(round(x0 + t * (x1 - x0))), int(round(y0 + t * (y1 - y0)))
            self.rect(x - lo, y - lo, x - lo + width, y - lo + width, color)

    def text(self, x: float, y: float, text: str, color=(0, 0, 0), scale: int = 2,
             align: str = "left", valign: str = "top") -> None:
        """Draw `text` with its (align, valign) corner at (x, y); align left|center|right,
        valign top|middle|bottom. Characters outside the font are drawn as blanks."""
        w, h = text_size(text, scale)
        x = int(round(x - {"left": 0, "center": w / 2, "right": w}[align]))
        y = int(round(y - {"top": 0, "middle": h / 2, "bottom": h}[valign]))
        for i, ch in enumerate(text):
            glyph = FONT.get(ch, FONT.get(ch.upper(), FONT[" "]))
            big = np.kron(glyph, np.ones((scale, scale), bool))          # (5s, 3s)
            gx, gy = x + i * (GLYPH_W + 1) * scale, y
            ys, xs = np.nonzero(big)
            ys, xs = ys + gy, xs + gx
            keep = (xs >= 0) & (xs < self.width) & (ys >= 0) & (ys < self.height)
            self.pixels[ys[keep], xs[keep]] = color

    def save(self, path):
        return png.write(path, self.pixels)
