"""Colour scales as 256-entry lookup tables, and the value -> [0, 1] rule that indexes them.

The renderer uploads ``lut(name)`` as a 1-D texture and looks up entry ``round(t * 255)`` for
``t = normalize(value, value_range, colormap)``, so the top of a range is always the last entry.
The canvas is pure black: no scale has black in it, so every value, zero included, stays visible.
"""
from __future__ import annotations

import numpy as np

from viz.voxels import COLORMAPS

SIZE = 256

# Control points, evenly spaced from the low end to the high end of each scale.
_RAMPS = {
    # Blue -> dark grey -> orange: the middle (zero) is a grey that still shows on black.
    "diverging": [(0.15, 0.55, 1.00), (0.20, 0.35, 0.70), (0.28, 0.28, 0.30),
                  (0.75, 0.38, 0.15), (1.00, 0.60, 0.10)],
    # Inferno-like with a lifted start (purple, not black) and luminance rising all the way.
    "sequential": [(0.25, 0.12, 0.50), (0.50, 0.15, 0.55), (0.80, 0.25, 0.40),
                   (0.96, 0.50, 0.18), (0.99, 0.78, 0.20), (1.00, 1.00, 0.55)],
}

# Twelve distinct colours, all bright enough for a black background (tab10-like, grey swapped out).
PALETTE = np.array([
    (0.12, 0.47, 0.71), (1.00, 0.50, 0.05), (0.17, 0.63, 0.17), (0.84, 0.15, 0.16),
    (0.58, 0.40, 0.74), (0.55, 0.34, 0.29), (0.89, 0.47, 0.76), (0.74, 0.74, 0.13),
    (0.09, 0.75, 0.81), (0.98, 0.85, 0.55), (0.60, 0.87, 0.54), (1.00, 1.00, 1.00),
], dtype=np.float32)


def lut(name: str) -> np.ndarray:
    """The (256, 4) float32 RGBA table of a colour scale, values in [0, 1], alpha 1.

    "categorical" repeats PALETTE so that an integer code k (with value_range (0, 255)) gets
    PALETTE[k % len(PALETTE)].
    """
    if name not in COLORMAPS:
        raise ValueError(f"unknown colormap {name!r}, want one of {COLORMAPS}")
    table = np.ones((SIZE, 4), dtype=np.float32)
    if name == "categorical":
        table[:, :3] = PALETTE[np.arange(SIZE) % len(PALETTE)]
        return table
    ramp = np.asarray(_RAMPS[name], dtype=np.float64)
    stops = np.linspace(0.0, 1.0, len(ramp))
    t = np.linspace(0.0, 1.0, SIZE)
    for c in range(3):
        table[:, c] = np.interp(t, stops, ramp[:, c])
    return table


def normalize(values, value_range: tuple[float, float], colormap: str = "sequential") -> np.ndarray:
    """Map values to [0, 1] (clipped): lo -> 0, hi -> 1.

    A diverging scale is made symmetric around 0 (range -a..a with a = max(|lo|, |hi|)) so that
    zero always lands on the grey middle, whatever range the caller passes.
    """
    lo, hi = (float(v) for v in value_range)
    if colormap == "diverging":
        a = max(abs(lo), abs(hi))
        lo, hi = -a, a
    if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
        raise ValueError(f"value_range {value_range!r} must be finite with max > min")
    t = (np.asarray(values, dtype=np.float64) - lo) / (hi - lo)
    return np.clip(t, 0.0, 1.0).astype(np.float32)
